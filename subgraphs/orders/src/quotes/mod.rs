//! Quotes: prices negotiated for a company, per line, valid until a date, converted into an order
//! once.
//!
//! A company buyer requests a quote from one of their company carts (`quoteRequest`: its lines at
//! the prices the catalog gives them now), or staff or a vendor drafts one for a company
//! (`quoteDraft`: a vendor only its own products; such a quote is the vendor's to negotiate). The
//! seller side (tenant staff, or the issuing vendor's team) edits the DRAFT (lines, negotiated
//! unit prices, validity date, note) and sends it; both sides write messages on it. A version once
//! SENT never changes (the database refuses it): `quoteRevise` takes a sent quote back to DRAFT as
//! its next version, and the buyer side sees only sent versions.
//!
//! An approver or admin of the company accepts the current sent version by its number while it is
//! valid (STALE_VERSION for another, QUOTE_EXPIRED past its date). Under the quote's row lock the
//! acceptance writes a company cart of the quote's lines, priced at the negotiated unit prices
//! (rule NEGOTIATED), with the buyer's shipping and taxes as at checkout, holds it to the
//! company's rules for the accepting member (their spending limits, the credit limit on account,
//! the purchase-order policy: see [`crate::checkout::company`]) and places the order as checkout
//! places it, split by vendor: exactly once, since racing acceptances queue on the lock and find
//! it ACCEPTED. A retry with the same idempotency key returns the same quote. Accepting is the
//! company's decision, made by an approver, so the company's approval rules do not route it
//! again. A quote still SENT at its validity date EXPIRES (the `quote.expire` job).
//!
//! Every step writes `quote.<step>` (requested, drafted, updated, sent, revised, accepted,
//! declined, expired, message_posted) and an audit row.

pub mod graphql;

use crate::carts::{self, Address, Cart, CartLine, check_count};
use crate::checkout::{self, company};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, optional_text, refusal};
use crate::ids::{
    CartId, CartLineId, CompanyId, OrderId, QuoteId, QuoteMessageId, TenantId, UserId, VariantId,
    VendorId,
};
use crate::orders::{self, Order};
use crate::payments::{Gateway, PaymentMethod};
use crate::schema::{cart_lines, carts as carts_table};
use chrono::{DateTime, Duration, Utc};
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::IdempotencyKey;
use cityos_core::{Acting, ApiError, CompanyRole, RequestContext, VendorRole};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The highest negotiated unit price, in minor units.
pub const MAX_UNIT_PRICE: i64 = 10_000_000_000;
/// How far ahead a quote may stay valid.
pub const MAX_VALIDITY: Duration = Duration::days(365);

cityos_core::states! {
    /// Where a quote stands.
    pub enum QuoteStatus {
        /// The seller is preparing its current version.
        Draft = "DRAFT",
        /// Its current version was sent to the company and waits for its answer.
        Sent = "SENT",
        /// The company accepted it: its order is placed.
        Accepted = "ACCEPTED",
        /// The company declined it.
        Declined = "DECLINED",
        /// Its validity date passed while it was sent.
        Expired = "EXPIRED",
    }
    transitions {
        Draft -> Sent,
        Sent -> Draft | Accepted | Declined | Expired,
    }
}

/// A line of a quote version.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub variant_id: VariantId,
    pub sku: String,
    /// The product's title and the variant's.
    pub title: String,
    pub vendor_id: Option<VendorId>,
    pub quantity: i32,
    /// The catalog's unit price when the line was written, if it had one.
    pub list_unit_price: Option<i64>,
    /// The negotiated unit price.
    pub unit_price: i64,
}

impl QuoteLine {
    /// The negotiated unit price times the quantity.
    pub fn total(&self) -> i64 {
        self.unit_price * i64::from(self.quantity)
    }
}

/// A line as the seller writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    pub variant_id: VariantId,
    pub quantity: i32,
    /// The negotiated unit price in minor units; the catalog's price when omitted.
    pub unit_price: Option<i64>,
}

/// A quote as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Quote {
    #[diesel(sql_type = SqlUuid)]
    pub id: QuoteId,
    #[diesel(sql_type = BigInt)]
    pub number: i64,
    #[diesel(sql_type = SqlUuid)]
    pub company_id: CompanyId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vendor_id: Option<VendorId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub cart_id: Option<CartId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub requested_by: Option<UserId>,
    #[diesel(sql_type = SqlUuid)]
    pub created_by: UserId,
    #[diesel(sql_type = Text)]
    pub status: QuoteStatus,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub order_id: Option<OrderId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub decided_by: Option<UserId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub decline_reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, number, company_id, vendor_id, cart_id, requested_by, created_by, \
    status, version, currency, order_id, decided_by, decline_reason, created_at, updated_at";

/// One version of a quote as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Version {
    #[diesel(sql_type = SqlUuid)]
    pub quote_id: QuoteId,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Jsonb)]
    pub lines: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    pub subtotal: i64,
    #[diesel(sql_type = BigInt)]
    pub list_subtotal: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub valid_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sent_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const VERSION_COLUMNS: &str =
    "quote_id, version, lines, subtotal, list_subtotal, valid_until, note, sent_at, created_at";

impl Version {
    /// Its lines.
    pub fn lines(&self) -> Vec<QuoteLine> {
        serde_json::from_value(self.lines.clone()).unwrap_or_default()
    }
}

/// A message on a quote as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Message {
    #[diesel(sql_type = SqlUuid)]
    pub id: QuoteMessageId,
    #[diesel(sql_type = SqlUuid)]
    pub quote_id: QuoteId,
    #[diesel(sql_type = SqlUuid)]
    pub author_id: UserId,
    #[diesel(sql_type = Text)]
    pub side: String,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Which side of a quote the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A member of the quote's company acting for it, with their role.
    Buyer(CompanyRole),
    /// Tenant staff, or a member of the issuing vendor's team acting for it.
    Seller,
}

impl Side {
    /// The side of `quote` the caller is on, if any: none sees another company's quotes, and a
    /// vendor sees only the quotes it issues.
    pub fn of(ctx: &RequestContext, quote: &Quote) -> Option<Self> {
        ctx.user_id().ok()?;
        if let Some(scope) = ctx.company {
            return (scope.id == quote.company_id).then_some(Self::Buyer(scope.role));
        }
        if ctx.is_staff() {
            return Some(Self::Seller);
        }
        let vendor = ctx.vendor?;
        (quote.vendor_id == Some(vendor.id)).then_some(Self::Seller)
    }

    fn stored(self) -> &'static str {
        match self {
            Self::Buyer(_) => "BUYER",
            Self::Seller => "SELLER",
        }
    }
}

/// `quote.<step>`: a quote was made or moved on.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct QuoteChanged<'a> {
    pub quote_id: QuoteId,
    pub number: i64,
    pub company_id: CompanyId,
    pub vendor_id: Option<VendorId>,
    pub step: &'a str,
    pub status: QuoteStatus,
    pub version: i32,
    pub currency: Currency,
    pub order_id: Option<OrderId>,
}

impl Topic for QuoteChanged<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("quote", self.step)
    }
}

async fn publish(tx: &mut TenantTx<'_>, q: &Quote, step: &str) -> QueryResult<()> {
    let event = QuoteChanged {
        quote_id: q.id,
        number: q.number,
        company_id: q.company_id,
        vendor_id: q.vendor_id,
        step,
        status: q.status,
        version: q.version,
        currency: q.currency,
        order_id: q.order_id,
    };
    crate::OUTBOX.publish(tx, q.id, &event).await
}

fn no_quote() -> crate::errors::Failure {
    refusal("id", Code::NotFound, "no such quote")
}

/// The quote `id`, locked, if the caller is on one of its sides.
async fn locked(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    id: QuoteId,
) -> Outcome<(Quote, Side)> {
    let quote = lock(tx, id).await?.ok_or_else(no_quote)?;
    let side = Side::of(ctx, &quote).ok_or_else(no_quote)?;
    Ok((quote, side))
}

async fn lock(tx: &mut TenantTx<'_>, id: QuoteId) -> QueryResult<Option<Quote>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.quotes WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .get_result(tx.conn())
    .await
    .optional()
}

/// The version `version` of quote `quote`.
async fn version_of(tx: &mut TenantTx<'_>, quote: QuoteId, version: i32) -> QueryResult<Version> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {VERSION_COLUMNS} FROM orders.quote_versions
             WHERE quote_id = $1 AND version = $2"
        ))
        .bind::<SqlUuid, _>(quote)
        .bind::<Integer, _>(version),
    )
    .get_result(tx.conn())
    .await
}

/// Refuses a seller-only change by a buyer.
fn seller_only(side: Side) -> Outcome<()> {
    match side {
        Side::Seller => Ok(()),
        Side::Buyer(_) => Err(ApiError::forbidden("only the quote's seller may do this").into()),
    }
}

/// Refuses a buyer's decision by anyone but an approver or admin of the quote's company.
fn deciding(side: Side) -> Outcome<()> {
    match side {
        Side::Buyer(role) if role.covers(CompanyRole::Approver) => Ok(()),
        Side::Buyer(_) => Err(ApiError::forbidden(
            "a company's approvers and admins accept or decline its quotes",
        )
        .into()),
        Side::Seller => {
            Err(ApiError::forbidden("the company accepts or declines its quotes").into())
        }
    }
}

/// Refuses a change of a quote that is closed (accepted, declined, expired).
fn open_or_refuse(q: &Quote) -> Outcome<()> {
    if matches!(q.status, QuoteStatus::Draft | QuoteStatus::Sent) {
        return Ok(());
    }
    Err(refusal(
        "id",
        Code::RequestClosed,
        format!(
            "the quote is {} already",
            q.status.as_str().to_ascii_lowercase()
        ),
    ))
}

fn check_version(q: &Quote, version: i32) -> Outcome<()> {
    if version == q.version {
        return Ok(());
    }
    Err(refusal(
        "version",
        Code::StaleVersion,
        format!("the quote is at version {} now; read it again", q.version),
    ))
}

/// A validity date: in the future and at most [`MAX_VALIDITY`] ahead.
fn check_validity(valid_until: Option<DateTime<Utc>>) -> Outcome<Option<DateTime<Utc>>> {
    let Some(at) = valid_until else {
        return Ok(None);
    };
    let now = Utc::now();
    if at <= now || at > now + MAX_VALIDITY {
        return Err(refusal(
            "validUntil",
            Code::InvalidValidity,
            "a quote is valid until a moment in the future, at most a year ahead",
        ));
    }
    Ok(Some(at))
}

/// Checks the seller's lines: 1 to 100, distinct variants, quantities 1 to 10,000, unit prices 0
/// to [`MAX_UNIT_PRICE`].
fn check_lines(lines: &[LineInput]) -> Outcome<()> {
    check_count(lines.len(), "lines", "lines")?;
    for (i, line) in lines.iter().enumerate() {
        if !(1..=carts::MAX_QUANTITY).contains(&line.quantity) {
            return Err(refusal(
                &format!("lines.{i}.quantity"),
                Code::InvalidQuantity,
                format!("a quantity is 1 to {}", carts::MAX_QUANTITY),
            ));
        }
        if line
            .unit_price
            .is_some_and(|p| !(0..=MAX_UNIT_PRICE).contains(&p))
        {
            return Err(refusal(
                &format!("lines.{i}.unitPriceMinor"),
                Code::InvalidAmount,
                format!("a unit price is 0 to {MAX_UNIT_PRICE} minor units"),
            ));
        }
        if lines[..i].iter().any(|l| l.variant_id == line.variant_id) {
            return Err(refusal(
                &format!("lines.{i}.variantId"),
                Code::DuplicateVariant,
                "each variant is on one line",
            ));
        }
    }
    Ok(())
}

/// The seller's lines resolved against the catalog (prices as `customer` would pay, none for a
/// draft for the company), each variant on sale and sold by someone `acting` may quote for.
async fn resolve(
    tx: &mut TenantTx<'_>,
    lines: &[LineInput],
    currency: Currency,
    customer: Option<UserId>,
    acting: Acting,
) -> Outcome<Vec<QuoteLine>> {
    let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
    let items = catalog::api::purchasables(tx, &ids, customer).await?;
    let at = Utc::now();
    let mut resolved = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let item = items
            .iter()
            .find(|p| p.variant.variant.id == line.variant_id)
            .filter(|p| acting.may_touch(p.vendor_id))
            .ok_or_else(|| {
                refusal(
                    &format!("lines.{i}.variantId"),
                    Code::VariantUnavailable,
                    "no such variant on sale that you may quote for",
                )
            })?;
        let list = item
            .variant
            .quote(&catalog::api::PriceRequest {
                variant_id: line.variant_id,
                currency,
                quantity: i64::from(line.quantity),
                at,
            })
            .map(|q| q.unit_price.amount);
        let Some(unit_price) = line.unit_price.or(list) else {
            return Err(refusal(
                &format!("lines.{i}.unitPriceMinor"),
                Code::NoPrice,
                format!("the catalog has no price for this variant in {currency}: give one"),
            ));
        };
        let variant = &item.variant.variant;
        resolved.push(QuoteLine {
            variant_id: line.variant_id,
            sku: variant.sku.clone(),
            title: format!("{} / {}", item.product_title, variant.title),
            vendor_id: item.vendor_id,
            quantity: line.quantity,
            list_unit_price: list,
            unit_price,
        });
    }
    Ok(resolved)
}

/// A version's lines and sums as bound values.
struct Written {
    lines: serde_json::Value,
    subtotal: i64,
    list_subtotal: i64,
}

fn written(lines: &[QuoteLine]) -> Outcome<Written> {
    Ok(Written {
        lines: serde_json::to_value(lines).map_err(ApiError::internal)?,
        subtotal: lines.iter().map(QuoteLine::total).sum(),
        list_subtotal: lines
            .iter()
            .map(|l| l.list_unit_price.unwrap_or(l.unit_price) * i64::from(l.quantity))
            .sum(),
    })
}

/// What a new quote is made of.
struct NewQuote<'a> {
    company: CompanyId,
    vendor: Option<VendorId>,
    cart: Option<CartId>,
    requested_by: Option<UserId>,
    currency: Currency,
    lines: &'a [QuoteLine],
    valid_until: Option<DateTime<Utc>>,
    note: Option<&'a str>,
}

/// Writes a new DRAFT quote with its first version, and the author's first message.
async fn insert(
    tx: &mut TenantTx<'_>,
    author: UserId,
    new: NewQuote<'_>,
    message: Option<(&str, Side)>,
) -> Outcome<Quote> {
    let number = crate::counters::next(tx, "quote").await?;
    let quote: Quote = Prepared(
        diesel::sql_query(format!(
            "INSERT INTO orders.quotes (tenant_id, id, number, company_id, vendor_id, cart_id,
                requested_by, created_by, currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(QuoteId::new())
        .bind::<BigInt, _>(number)
        .bind::<SqlUuid, _>(new.company)
        .bind::<Nullable<SqlUuid>, _>(new.vendor)
        .bind::<Nullable<SqlUuid>, _>(new.cart)
        .bind::<Nullable<SqlUuid>, _>(new.requested_by)
        .bind::<SqlUuid, _>(author)
        .bind::<Text, _>(new.currency),
    )
    .get_result(tx.conn())
    .await?;
    insert_version(tx, quote.id, 1, new.lines, new.valid_until, new.note).await?;
    if let Some((body, side)) = message {
        insert_message(tx, &quote, author, side, body).await?;
    }
    Ok(quote)
}

async fn insert_version(
    tx: &mut TenantTx<'_>,
    quote: QuoteId,
    version: i32,
    lines: &[QuoteLine],
    valid_until: Option<DateTime<Utc>>,
    note: Option<&str>,
) -> Outcome<()> {
    let w = written(lines)?;
    Prepared(
        diesel::sql_query(
            "INSERT INTO orders.quote_versions (tenant_id, quote_id, version, lines, subtotal,
                list_subtotal, valid_until, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(quote)
        .bind::<Integer, _>(version)
        .bind::<Jsonb, _>(&w.lines)
        .bind::<BigInt, _>(w.subtotal)
        .bind::<BigInt, _>(w.list_subtotal)
        .bind::<Nullable<Timestamptz>, _>(valid_until)
        .bind::<Nullable<Text>, _>(note),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn insert_message(
    tx: &mut TenantTx<'_>,
    quote: &Quote,
    author: UserId,
    side: Side,
    body: &str,
) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "INSERT INTO orders.quote_messages (tenant_id, id, quote_id, author_id, side, body)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(QuoteMessageId::new())
        .bind::<SqlUuid, _>(quote.id)
        .bind::<SqlUuid, _>(author)
        .bind::<Text, _>(side.stored())
        .bind::<Text, _>(body),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves a locked quote to `status` at `version`.
async fn save(
    tx: &mut TenantTx<'_>,
    q: &Quote,
    status: QuoteStatus,
    version: i32,
    order: Option<OrderId>,
) -> QueryResult<Quote> {
    Prepared(
        diesel::sql_query(format!(
            "UPDATE orders.quotes SET status = $2, version = $3, order_id = $4,
                updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(q.id)
        .bind::<Text, _>(status)
        .bind::<Integer, _>(version)
        .bind::<Nullable<SqlUuid>, _>(order),
    )
    .get_result(tx.conn())
    .await
}

fn message_text(message: Option<String>) -> Outcome<Option<String>> {
    optional_text::<2000>(message, "message", "a message has at most 2,000 characters")
}

/// A company buyer asks for a quote on the lines of one of their company carts, with an optional
/// message: a DRAFT at the prices the catalog gives them now, the issuing vendor's when every
/// line is one vendor's, else the tenant's staff's. The cart stays as it is.
#[tracing::instrument(name = "quote.request", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart_id))]
pub async fn request(
    db: &Database,
    ctx: &RequestContext,
    cart_id: CartId,
    message: Option<String>,
) -> Outcome<Quote> {
    let scope = ctx.require_company(CompanyRole::Buyer)?;
    let user = ctx.user_id()?;
    let message = message_text(message)?;
    db.recorded(ctx, "quote.request", async move |tx| {
        let cart = carts::locked(tx, ctx, cart_id, "cartId").await?;
        if cart.company_id != Some(scope.id) {
            return Err(refusal(
                "cartId",
                Code::NotFound,
                "no such cart of the company you act for",
            ));
        }
        carts::check_open(&cart, "cartId")?;
        let currency = cart.currency;
        let priced = carts::priced(tx, cart).await?;
        if priced.lines.is_empty() {
            return Err(refusal("cartId", Code::CartEmpty, "the cart is empty"));
        }
        let mut lines = Vec::with_capacity(priced.lines.len());
        for l in &priced.lines {
            let Some(variant) = l.line.variant_id else {
                return Err(refusal(
                    "cartId",
                    Code::VariantUnavailable,
                    "a booking is not quoted: check it out from a cart of its own",
                ));
            };
            let Some(item) = &l.item else {
                return Err(refusal(
                    "cartId",
                    Code::VariantUnavailable,
                    format!("variant {variant} is no longer on sale"),
                ));
            };
            let list = l.quote.map(|q| q.unit_price.amount);
            lines.push(QuoteLine {
                variant_id: variant,
                sku: item.variant.variant.sku.clone(),
                title: format!("{} / {}", item.product_title, item.variant.variant.title),
                vendor_id: item.vendor_id,
                quantity: l.line.quantity,
                list_unit_price: list,
                unit_price: list.unwrap_or(0),
            });
        }
        let vendor = lines[0]
            .vendor_id
            .filter(|v| lines.iter().all(|l| l.vendor_id == Some(*v)));
        let new = NewQuote {
            company: scope.id,
            vendor,
            cart: Some(cart_id),
            requested_by: Some(user),
            currency,
            lines: &lines,
            valid_until: None,
            note: None,
        };
        let side = Side::Buyer(scope.role);
        let quote = insert(tx, user, new, message.as_deref().map(|m| (m, side))).await?;
        publish(tx, &quote, "requested").await?;
        let audit = Audit::of(quote.id, serde_json::json!({ "cart": cart_id }));
        Ok((quote, audit))
    })
    .await
}

/// What a seller drafts.
#[derive(Debug, Clone)]
pub struct Draft {
    pub company_id: CompanyId,
    pub lines: Vec<LineInput>,
    pub valid_until: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub message: Option<String>,
}

/// Staff, or a vendor's manager for its own products, drafts a quote for a company (verified,
/// not closed) in the company's currency.
#[tracing::instrument(name = "quote.draft", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn draft(db: &Database, ctx: &RequestContext, draft: Draft) -> Outcome<Quote> {
    let acting = ctx.staff_or_vendor(VendorRole::Manager)?;
    let user = ctx.user_id()?;
    check_lines(&draft.lines)?;
    let valid_until = check_validity(draft.valid_until)?;
    let note = optional_text::<2000>(draft.note, "note", "a note has at most 2,000 characters")?;
    let message = message_text(draft.message)?;
    db.recorded(ctx, "quote.draft", async move |tx| {
        let company = draft.company_id;
        let account = vendors::api::company_accounts(tx, &[company])
            .await?
            .remove(&company)
            .ok_or_else(|| refusal("companyId", Code::NotFound, "no such company"))?;
        use vendors::api::CompanyStatus;
        if !matches!(
            account.status,
            CompanyStatus::Active | CompanyStatus::OnHold
        ) {
            return Err(refusal(
                "companyId",
                Code::CompanyInactive,
                format!("{} is not verified or is closed", account.name),
            ));
        }
        let lines = resolve(tx, &draft.lines, account.currency, None, acting).await?;
        let vendor = match acting {
            Acting::Vendor(v) => Some(v),
            Acting::Staff => None,
        };
        let new = NewQuote {
            company,
            vendor,
            cart: None,
            requested_by: None,
            currency: account.currency,
            lines: &lines,
            valid_until,
            note: note.as_deref(),
        };
        let message = message.as_deref().map(|m| (m, Side::Seller));
        let quote = insert(tx, user, new, message).await?;
        publish(tx, &quote, "drafted").await?;
        let audit = Audit::of(quote.id, serde_json::json!({ "company": company }));
        Ok((quote, audit))
    })
    .await
}

/// What the seller changes in a DRAFT: its lines (all of them), its validity date, its note.
#[derive(Debug, Clone)]
pub struct DraftChanges {
    pub id: QuoteId,
    pub lines: Option<Vec<LineInput>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// The seller changes the DRAFT version of a quote in place (a sent one never changes: revise
/// it first).
#[tracing::instrument(name = "quote.update", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %changes.id))]
pub async fn update(db: &Database, ctx: &RequestContext, changes: DraftChanges) -> Outcome<Quote> {
    let acting = ctx.staff_or_vendor(VendorRole::Manager)?;
    if let Some(lines) = &changes.lines {
        check_lines(lines)?;
    }
    let valid_until = check_validity(changes.valid_until)?;
    let note = optional_text::<2000>(changes.note, "note", "a note has at most 2,000 characters")?;
    db.recorded(ctx, "quote.update", async move |tx| {
        let (q, side) = locked(tx, ctx, changes.id).await?;
        seller_only(side)?;
        if q.status != QuoteStatus::Draft {
            return Err(refusal(
                "id",
                Code::InvalidTransition,
                format!(
                    "only a draft changes; this quote is {}: revise it to change it",
                    q.status.as_str().to_ascii_lowercase()
                ),
            ));
        }
        let current = version_of(tx, q.id, q.version).await?;
        let lines = match &changes.lines {
            Some(input) => {
                let customer = q.requested_by;
                resolve(tx, input, q.currency, customer, acting).await?
            }
            None => current.lines(),
        };
        let w = written(&lines)?;
        Prepared(
            diesel::sql_query(
                "UPDATE orders.quote_versions SET lines = $3, subtotal = $4, list_subtotal = $5,
                    valid_until = coalesce($6, valid_until), note = coalesce($7, note)
                 WHERE quote_id = $1 AND version = $2",
            )
            .bind::<SqlUuid, _>(q.id)
            .bind::<Integer, _>(q.version)
            .bind::<Jsonb, _>(&w.lines)
            .bind::<BigInt, _>(w.subtotal)
            .bind::<BigInt, _>(w.list_subtotal)
            .bind::<Nullable<Timestamptz>, _>(valid_until)
            .bind::<Nullable<Text>, _>(note.as_deref()),
        )
        .execute(tx.conn())
        .await?;
        let q = save(tx, &q, q.status, q.version, None).await?;
        publish(tx, &q, "updated").await?;
        let audit = Audit::of(q.id, serde_json::json!({ "version": q.version }));
        Ok((q, audit))
    })
    .await
}

/// The seller sends the DRAFT: its version is frozen from now on, valid until its date (the
/// `quote.expire` job is due then).
#[tracing::instrument(name = "quote.send", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %id))]
pub async fn send(db: &Database, ctx: &RequestContext, id: QuoteId) -> Outcome<Quote> {
    ctx.staff_or_vendor(VendorRole::Manager)?;
    let user = ctx.user_id()?;
    db.recorded(ctx, "quote.send", async move |tx| {
        let (q, side) = locked(tx, ctx, id).await?;
        seller_only(side)?;
        q.status.require(QuoteStatus::Sent, "id")?;
        let current = version_of(tx, q.id, q.version).await?;
        let Some(valid_until) = current.valid_until.filter(|at| *at > Utc::now()) else {
            return Err(refusal(
                "validUntil",
                Code::InvalidValidity,
                "give the quote a validity date in the future before sending it",
            ));
        };
        Prepared(
            diesel::sql_query(
                "UPDATE orders.quote_versions SET sent_at = now(), sent_by = $3
                 WHERE quote_id = $1 AND version = $2",
            )
            .bind::<SqlUuid, _>(q.id)
            .bind::<Integer, _>(q.version)
            .bind::<SqlUuid, _>(user),
        )
        .execute(tx.conn())
        .await?;
        let q = save(tx, &q, QuoteStatus::Sent, q.version, None).await?;
        let expiry = QuoteExpiry {
            quote_id: q.id,
            version: q.version,
        };
        crate::JOBS.schedule(tx, &expiry, valid_until).await?;
        publish(tx, &q, "sent").await?;
        let audit = Audit::of(q.id, serde_json::json!({ "version": q.version }));
        Ok((q, audit))
    })
    .await
}

/// The seller takes a SENT quote back to DRAFT as its next version (a copy of the sent one, which
/// stays as it was sent); the company can no longer accept the earlier version.
#[tracing::instrument(name = "quote.revise", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %id))]
pub async fn revise(db: &Database, ctx: &RequestContext, id: QuoteId) -> Outcome<Quote> {
    ctx.staff_or_vendor(VendorRole::Manager)?;
    db.recorded(ctx, "quote.revise", async move |tx| {
        let (q, side) = locked(tx, ctx, id).await?;
        seller_only(side)?;
        open_or_refuse(&q)?;
        q.status.require(QuoteStatus::Draft, "id")?;
        let sent = version_of(tx, q.id, q.version).await?;
        let next = q.version + 1;
        insert_version(
            tx,
            q.id,
            next,
            &sent.lines(),
            sent.valid_until.filter(|at| *at > Utc::now()),
            sent.note.as_deref(),
        )
        .await?;
        let q = save(tx, &q, QuoteStatus::Draft, next, None).await?;
        publish(tx, &q, "revised").await?;
        let audit = Audit::of(q.id, serde_json::json!({ "version": next }));
        Ok((q, audit))
    })
    .await
}

/// Accepting a quote.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub id: QuoteId,
    /// The version accepted, as last read.
    pub version: i32,
    pub idempotency_key: String,
    pub payment_method: PaymentMethod,
    pub purchase_order_number: Option<String>,
    /// Where the order ships, and is billed (the requesting cart's when omitted).
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
}

/// An approver or admin of the company accepts the current sent version: its order is placed at
/// the negotiated prices, once (see the module documentation).
#[tracing::instrument(name = "quote.accept", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %input.id))]
pub async fn accept(
    db: &Database,
    ctx: &RequestContext,
    input: Acceptance,
    gateway: &Gateway,
) -> Outcome<(Quote, Order)> {
    let key = IdempotencyKey::parse(&input.idempotency_key)
        .map_err(|e| {
            UserError::new(
                "idempotencyKey",
                Code::InvalidIdempotencyKey,
                e.message("an idempotency key"),
            )
        })?
        .as_str()
        .to_owned();
    let method = input.payment_method;
    if method == PaymentMethod::Card && gateway.stripe.is_none() {
        return Err(refusal(
            "paymentMethod",
            Code::InvalidPaymentMethod,
            "card payments are not offered here; pay on account or by bank transfer",
        ));
    }
    let purchase_order = company::purchase_order(input.purchase_order_number.as_deref())?;
    let shipping = carts::address_json(input.shipping_address, "shippingAddress")?;
    let billing = carts::address_json(input.billing_address, "billingAddress")?;
    let user = ctx.user_id()?;
    let tenant = ctx.tenant()?.id;
    let (quote, order) = db
        .recorded(ctx, "quote.accept", async move |tx| {
            let (q, side) = locked(tx, ctx, input.id).await?;
            deciding(side)?;
            if q.status == QuoteStatus::Accepted
                && let Some(order) = orders::by_idempotency_key(tx, &key).await?
                && Some(order.id) == q.order_id
            {
                // A retry of this acceptance: the same quote and order.
                let audit = Audit::of(q.id, serde_json::json!({ "replay": true }));
                return Ok(((q, order), audit));
            }
            open_or_refuse(&q)?;
            q.status.require(QuoteStatus::Accepted, "id")?;
            check_version(&q, input.version)?;
            let offer = version_of(tx, q.id, q.version).await?;
            if offer.valid_until.is_none_or(|at| at <= Utc::now()) {
                return Err(refusal(
                    "id",
                    Code::QuoteExpired,
                    "the quote's validity date has passed; ask for a revision",
                ));
            }
            let lines = offer.lines();
            let cart = order_cart(tx, &q, user, shipping, billing).await?;
            let cart_lines = write_lines(tx, cart.id, &lines).await?;
            let negotiated: Vec<(VariantId, i64)> =
                lines.iter().map(|l| (l.variant_id, l.unit_price)).collect();
            let priced = carts::price_negotiated(tx, cart, cart_lines, &negotiated).await?;
            checkout::check_ready(&priced, None)?;
            let account = company::check(tx, &priced, method, purchase_order, None).await?;
            let order = checkout::place(tx, &priced, &account, &key, method, Some(user)).await?;
            Prepared(
                diesel::sql_query("UPDATE orders.orders SET quote_id = $2 WHERE id = $1")
                    .bind::<SqlUuid, _>(order.id)
                    .bind::<SqlUuid, _>(q.id),
            )
            .execute(tx.conn())
            .await?;
            let accepted = Prepared(
                diesel::sql_query(format!(
                    "UPDATE orders.quotes SET status = 'ACCEPTED', order_id = $2, decided_by = $3,
                        updated_at = now()
                     WHERE id = $1 RETURNING {COLUMNS}"
                ))
                .bind::<SqlUuid, _>(q.id)
                .bind::<SqlUuid, _>(order.id)
                .bind::<SqlUuid, _>(user),
            )
            .get_result::<Quote>(tx.conn())
            .await?;
            publish(tx, &accepted, "accepted").await?;
            let audit = Audit::of(
                q.id,
                serde_json::json!({ "version": q.version, "order": order.id, "total": order.total }),
            );
            Ok(((accepted, order), audit))
        })
        .await?;
    if method == PaymentMethod::Card
        && let Some(stripe) = &gateway.stripe
    {
        checkout::start_card_payments(db, tenant, stripe, order.id).await?;
    }
    Ok((quote, order))
}

/// The company cart an accepted quote's order is placed from: the accepting member's, with the
/// given addresses, else those of the cart the quote was requested from.
async fn order_cart(
    tx: &mut TenantTx<'_>,
    q: &Quote,
    member: UserId,
    shipping: Option<serde_json::Value>,
    billing: Option<serde_json::Value>,
) -> Outcome<Cart> {
    let source: Option<Cart> = match q.cart_id {
        Some(id) => carts_table::table
            .filter(carts_table::id.eq(id))
            .select(Cart::as_select())
            .first(tx.conn())
            .await
            .optional()?,
        None => None,
    };
    let shipping = shipping.or_else(|| source.as_ref().and_then(|c| c.shipping_address.clone()));
    let billing = billing.or_else(|| source.as_ref().and_then(|c| c.billing_address.clone()));
    Ok(diesel::insert_into(carts_table::table)
        .values((
            carts_table::tenant_id.eq(tx.tenant()),
            carts_table::id.eq(CartId::from_uuid(uuid::Uuid::new_v4())),
            carts_table::customer_id.eq(Some(member)),
            carts_table::company_id.eq(Some(q.company_id)),
            carts_table::currency.eq(q.currency.code()),
            carts_table::shipping_address.eq(shipping),
            carts_table::billing_address.eq(billing),
            carts_table::expires_at.eq(Utc::now() + carts::LIFETIME),
        ))
        .returning(Cart::as_returning())
        .get_result(tx.conn())
        .await?)
}

async fn write_lines(
    tx: &mut TenantTx<'_>,
    cart: CartId,
    lines: &[QuoteLine],
) -> QueryResult<Vec<CartLine>> {
    let tenant = tx.tenant();
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                cart_lines::tenant_id.eq(tenant),
                cart_lines::id.eq(CartLineId::new()),
                cart_lines::cart_id.eq(cart),
                cart_lines::variant_id.eq(l.variant_id),
                cart_lines::quantity.eq(l.quantity),
            )
        })
        .collect();
    diesel::insert_into(cart_lines::table)
        .values(rows)
        .execute(tx.conn())
        .await?;
    carts::lines_of(tx, cart).await
}

/// An approver or admin of the company declines the current sent version, with an optional
/// reason.
#[tracing::instrument(name = "quote.decline", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %id))]
pub async fn decline(
    db: &Database,
    ctx: &RequestContext,
    id: QuoteId,
    version: i32,
    reason: Option<String>,
) -> Outcome<Quote> {
    let reason = optional_text::<1000>(reason, "reason", "a reason has at most 1,000 characters")?;
    let user = ctx.user_id()?;
    db.recorded(ctx, "quote.decline", async move |tx| {
        let (q, side) = locked(tx, ctx, id).await?;
        deciding(side)?;
        open_or_refuse(&q)?;
        q.status.require(QuoteStatus::Declined, "id")?;
        check_version(&q, version)?;
        let declined: Quote = Prepared(
            diesel::sql_query(format!(
                "UPDATE orders.quotes SET status = 'DECLINED', decided_by = $2,
                    decline_reason = $3, updated_at = now()
                 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(q.id)
            .bind::<SqlUuid, _>(user)
            .bind::<Nullable<Text>, _>(reason.as_deref()),
        )
        .get_result(tx.conn())
        .await?;
        publish(tx, &declined, "declined").await?;
        let audit = Audit::of(q.id, serde_json::json!({ "version": version }));
        Ok((declined, audit))
    })
    .await
}

/// Either side writes a message (1 to 2,000 characters) on an open quote.
#[tracing::instrument(name = "quote.message", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), quote.id = %id))]
pub async fn post_message(
    db: &Database,
    ctx: &RequestContext,
    id: QuoteId,
    body: String,
) -> Outcome<Quote> {
    let Some(body) = message_text(Some(body))? else {
        return Err(refusal("body", Code::InvalidText, "write a message"));
    };
    let user = ctx.user_id()?;
    db.recorded(ctx, "quote.message", async move |tx| {
        let (q, side) = locked(tx, ctx, id).await?;
        open_or_refuse(&q)?;
        insert_message(tx, &q, user, side, &body).await?;
        let step = "message_posted";
        publish(tx, &q, step).await?;
        let audit = Audit::of(q.id, serde_json::json!({ "side": side.stored() }));
        Ok((q, audit))
    })
    .await
}

/// Quote `id`, if the caller is on one of its sides.
pub async fn get(
    db: &Database,
    ctx: &RequestContext,
    id: QuoteId,
) -> Result<Option<Quote>, ApiError> {
    let tenant: TenantId = ctx.tenant()?.id;
    let found: Option<Quote> = db
        .tenant_tx(tenant, async move |tx| {
            Prepared(
                diesel::sql_query(format!("SELECT {COLUMNS} FROM orders.quotes WHERE id = $1"))
                    .bind::<SqlUuid, _>(id),
            )
            .get_result(tx.conn())
            .await
            .optional()
            .map_err(ApiError::from)
        })
        .await?;
    Ok(found.filter(|q| Side::of(ctx, q).is_some()))
}

/// A page of the quotes the caller sees, newest first, optionally in one status: a company
/// member's, their company's; a vendor's, those it issues; staff, every one (of `company` when
/// given).
pub async fn page(
    db: &Database,
    ctx: &RequestContext,
    status: Option<QuoteStatus>,
    company: Option<CompanyId>,
    page: PageRequest<QuoteId>,
) -> Result<Page<Quote>, ApiError> {
    ctx.user_id()?;
    let (company, vendor) = match (ctx.company, ctx.vendor) {
        (Some(scope), _) => (Some(scope.id), None),
        _ if ctx.is_staff() => (company, None),
        (None, Some(v)) => (None, Some(v.id)),
        (None, None) => {
            return Err(ApiError::forbidden(
                "act for a company or a vendor to see its quotes",
            ));
        }
    };
    let tenant = ctx.tenant()?.id;
    let status = status.map(|s| s.as_str());
    db.tenant_tx(tenant, async move |tx| {
        let filter =
            "($1::uuid IS NULL OR company_id = $1) AND ($2::uuid IS NULL OR vendor_id = $2)
            AND ($3::text IS NULL OR status = $3)";
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let total: Count = Prepared(
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM orders.quotes WHERE {filter}"
            ))
            .bind::<Nullable<SqlUuid>, _>(company)
            .bind::<Nullable<SqlUuid>, _>(vendor)
            .bind::<Nullable<Text>, _>(status),
        )
        .get_result(tx.conn())
        .await?;
        let (direction, older, newer) = page.newest_first();
        let rows: Vec<Quote> = Prepared(
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM orders.quotes WHERE {filter}
                   AND ($4::uuid IS NULL OR id < $4) AND ($5::uuid IS NULL OR id > $5)
                 ORDER BY id {direction} LIMIT $6"
            ))
            .bind::<Nullable<SqlUuid>, _>(company)
            .bind::<Nullable<SqlUuid>, _>(vendor)
            .bind::<Nullable<Text>, _>(status)
            .bind::<Nullable<SqlUuid>, _>(older)
            .bind::<Nullable<SqlUuid>, _>(newer)
            .bind::<BigInt, _>(page.fetch_limit()),
        )
        .load(tx.conn())
        .await?;
        Ok(page.finish(rows, |q| q.id, total.n))
    })
    .await
}

/// The versions of each of `quotes`, oldest first.
pub async fn versions_of(
    tx: &mut TenantTx<'_>,
    quotes: &[QuoteId],
) -> QueryResult<HashMap<QuoteId, Vec<Version>>> {
    let rows: Vec<Version> = Prepared(
        diesel::sql_query(format!(
            "SELECT {VERSION_COLUMNS} FROM orders.quote_versions WHERE quote_id = ANY ($1)
             ORDER BY quote_id, version"
        ))
        .bind::<Array<SqlUuid>, _>(quotes),
    )
    .load(tx.conn())
    .await?;
    Ok(orders::group(rows, |v| v.quote_id))
}

/// The messages on each of `quotes`, oldest first.
pub async fn messages_of(
    tx: &mut TenantTx<'_>,
    quotes: &[QuoteId],
) -> QueryResult<HashMap<QuoteId, Vec<Message>>> {
    let rows: Vec<Message> = Prepared(
        diesel::sql_query(
            "SELECT id, quote_id, author_id, side, body, created_at
             FROM orders.quote_messages WHERE quote_id = ANY ($1)
             ORDER BY quote_id, created_at, id",
        )
        .bind::<Array<SqlUuid>, _>(quotes),
    )
    .load(tx.conn())
    .await?;
    Ok(orders::group(rows, |m| m.quote_id))
}

/// The `quote.expire` job of a sent version, due at its validity date: a quote still SENT at that
/// version then EXPIRES.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuoteExpiry {
    pub quote_id: QuoteId,
    pub version: i32,
}

impl cityos_db::jobs::Job for QuoteExpiry {
    const NAME: &'static str = "quote.expire";

    fn key(&self) -> String {
        format!("{}:{}", self.quote_id, self.version)
    }

    async fn run(
        self,
        tx: &mut TenantTx<'_>,
        _: &cityos_db::jobs::Provided,
    ) -> Result<cityos_db::jobs::Next, ApiError> {
        let Some(q) = lock(tx, self.quote_id).await? else {
            return Ok(cityos_db::jobs::Next::Done);
        };
        if q.status != QuoteStatus::Sent || q.version != self.version {
            return Ok(cityos_db::jobs::Next::Done);
        }
        let offer = version_of(tx, q.id, q.version).await?;
        match offer.valid_until {
            // Run early: again at the date.
            Some(at) if at > Utc::now() => Ok(cityos_db::jobs::Next::At(at)),
            _ => {
                let expired = save(tx, &q, QuoteStatus::Expired, q.version, None).await?;
                publish(tx, &expired, "expired").await?;
                Ok(cityos_db::jobs::Next::Done)
            }
        }
    }
}
