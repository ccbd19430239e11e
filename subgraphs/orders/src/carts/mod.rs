//! Carts: lines by variant, priced live by the catalog's pricing function, with gift wrap,
//! delivery instructions, addresses and a guest's e-mail.
//!
//! A cart belongs to a tenant, a currency, and a customer or nobody (a guest's cart, reached by its
//! random id). A customer keeps at most one open cart; after signing in, `cartMerge` moves a guest
//! cart's lines into it (or makes the guest cart theirs). A cart nobody has touched for
//! [`LIFETIME`] is expired and takes no more changes.
//!
//! Carts hold no stock: availability is checked when a line is added or raised and again, under
//! lock, at checkout. Prices are never stored on a cart; every read prices it for its customer
//! (their customer groups' price lists and tiers apply) in the currency of the cart.

pub mod graphql;
pub mod totals;

use self::totals::{LineAmounts, Terms, Totals};
use crate::discounts;
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{
    CartId, CartLineId, CartShipmentId, OrderId, ShippingMethodId, TenantId, UserId, VariantId,
    VendorId,
};
use crate::schema::{cart_lines, carts};
use catalog::api::{PriceRequest, Purchasable, Quote, purchasables};
use chrono::{DateTime, Duration, Utc};
use cityos_core::money::{Currency, Money};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::TenantTx;
use cityos_db::{Database, Prepared};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The most lines a cart holds.
pub const MAX_LINES: usize = 100;
/// The most units of one variant on a line.
pub const MAX_QUANTITY: i32 = 10_000;
/// How long an untouched cart lives.
pub const LIFETIME: Duration = Duration::days(30);

cityos_core::states! {
    /// Where a cart stands.
    pub enum CartStatus {
        /// Taking changes.
        Open = "OPEN",
        /// Checked out: see `order`.
        Completed = "COMPLETED",
        /// Merged into its customer's cart after sign-in.
        Merged = "MERGED",
    }
}

/// A cart as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub struct Cart {
    pub tenant_id: TenantId,
    pub id: CartId,
    pub customer_id: Option<UserId>,
    pub email: Option<String>,
    pub currency: Currency,
    pub status: CartStatus,
    pub shipping_address: Option<serde_json::Value>,
    pub billing_address: Option<serde_json::Value>,
    pub delivery_instructions: String,
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub discount_code: Option<String>,
}

impl Cart {
    /// The cart's currency (checked when the cart was made).
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// A line of a cart as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = cart_lines, check_for_backend(diesel::pg::Pg))]
pub struct CartLine {
    pub id: CartLineId,
    pub cart_id: CartId,
    pub variant_id: VariantId,
    pub quantity: i32,
    pub gift_wrap: bool,
    pub gift_message: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A postal address for shipping or billing.
#[derive(
    async_graphql::SimpleObject,
    async_graphql::InputObject,
    Serialize,
    Deserialize,
    Debug,
    Clone,
    PartialEq,
    Eq,
)]
#[graphql(input_name = "AddressInput")]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Given name, 1 to 100 characters.
    pub first_name: String,
    /// Family name, at most 100 characters.
    pub last_name: String,
    /// Company, at most 100 characters.
    pub company: Option<String>,
    /// Street and number, 1 to 200 characters.
    pub line1: String,
    /// Flat, floor or building, at most 200 characters.
    pub line2: Option<String>,
    /// City, 1 to 100 characters.
    pub city: String,
    /// Region, province or state, at most 100 characters.
    pub region: Option<String>,
    /// Postal code: 2 to 10 letters, digits, spaces or hyphens, starting with a letter or digit.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `SA`.
    pub country_code: String,
    /// Phone number: an optional `+` and 6 to 15 digits, spaces, hyphens and brackets allowed.
    pub phone: Option<String>,
}

fn trimmed(s: &str, min: usize, max: usize) -> Option<String> {
    let t = s.trim();
    (min..=max)
        .contains(&t.chars().count())
        .then(|| t.to_owned())
}

fn optional(s: Option<String>, max: usize) -> Option<Option<String>> {
    match s {
        None => Some(None),
        Some(s) => trimmed(&s, 0, max).map(|t| (!t.is_empty()).then_some(t)),
    }
}

fn postal_code_ok(code: &str) -> bool {
    let mut chars = code.chars();
    (2..=10).contains(&code.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
}

fn phone_ok(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    (6..=15).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
}

impl Address {
    /// An address as stored (JSON), when there is one.
    pub fn from_stored(stored: &Option<serde_json::Value>) -> Option<Self> {
        stored.clone().and_then(|v| serde_json::from_value(v).ok())
    }

    /// The address trimmed, with an upper-case country code, or why its shape is wrong.
    pub fn checked(self) -> Result<Self, &'static str> {
        let first_name = trimmed(&self.first_name, 1, 100).ok_or("firstName")?;
        let last_name = trimmed(&self.last_name, 0, 100).ok_or("lastName")?;
        let company = optional(self.company, 100).ok_or("company")?;
        let line1 = trimmed(&self.line1, 1, 200).ok_or("line1")?;
        let line2 = optional(self.line2, 200).ok_or("line2")?;
        let city = trimmed(&self.city, 1, 100).ok_or("city")?;
        let region = optional(self.region, 100).ok_or("region")?;
        let postal_code = optional(self.postal_code, 10).ok_or("postalCode")?;
        if postal_code.as_deref().is_some_and(|p| !postal_code_ok(p)) {
            return Err("postalCode");
        }
        let country_code = self.country_code.trim().to_ascii_uppercase();
        if !(country_code.len() == 2 && country_code.chars().all(|c| c.is_ascii_uppercase())) {
            return Err("countryCode");
        }
        let phone = optional(self.phone, 30).ok_or("phone")?;
        if phone.as_deref().is_some_and(|p| !phone_ok(p)) {
            return Err("phone");
        }
        Ok(Self {
            first_name,
            last_name,
            company,
            line1,
            line2,
            city,
            region,
            postal_code,
            country_code,
            phone,
        })
    }
}

/// Why a line cannot be bought as it stands.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "CartLineProblem")]
pub enum LineProblem {
    /// The variant no longer exists or is not on sale.
    Unavailable,
    /// The variant has no price in the cart's currency.
    NoPrice,
    /// Fewer units are available than the line asks for.
    InsufficientStock,
}

impl LineProblem {
    /// The user error of this problem, at `field`.
    pub fn refusal(self, field: &str) -> UserError {
        match self {
            Self::Unavailable => {
                UserError::new(field, Code::VariantUnavailable, "this item is not on sale")
            }
            Self::NoPrice => UserError::new(
                field,
                Code::NoPrice,
                "this item has no price in the cart's currency",
            ),
            Self::InsufficientStock => UserError::new(
                field,
                Code::InsufficientStock,
                "fewer units are available than asked for",
            ),
        }
    }
}

/// A cart line with what it costs now.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub line: CartLine,
    /// The variant, its product and its prices; `None` when it is not on sale.
    pub item: Option<Purchasable>,
    /// The price of the line's quantity; `None` when there is none.
    pub quote: Option<Quote>,
    /// Why the line cannot be bought as it stands.
    pub problem: Option<LineProblem>,
    /// Its subtotal, discount, tax and total (see [`crate::carts::totals`]).
    pub amounts: LineAmounts,
}

impl PricedLine {
    /// The marketplace vendor selling the line (`None`: the tenant itself).
    pub fn vendor(&self) -> Option<VendorId> {
        self.item.as_ref().and_then(|i| i.vendor_id)
    }

    /// Units available now across locations.
    pub fn available(&self) -> i64 {
        self.item.as_ref().map_or(0, |i| i.variant.stock.available)
    }
}

/// A cart with every line priced for its customer at one moment, and its totals.
#[derive(Debug, Clone)]
pub struct PricedCart {
    pub cart: Cart,
    /// Lines, oldest first.
    pub lines: Vec<PricedLine>,
    /// The shipping methods, tax rules and discount it was priced under.
    pub terms: Terms,
    /// Its amounts: per vendor group and in all.
    pub totals: Totals,
}

impl PricedCart {
    /// Units over all lines.
    pub fn units(&self) -> i64 {
        self.lines.iter().map(|l| i64::from(l.line.quantity)).sum()
    }

    /// An amount in the cart's currency.
    pub fn money(&self, amount: i64) -> Money {
        Money::new(amount, self.cart.currency())
    }
}

/// Prices `lines` of `cart` for the cart's customer now, with its discount, shipping and taxes:
/// two statements.
pub async fn price(
    tx: &mut TenantTx<'_>,
    cart: Cart,
    lines: Vec<CartLine>,
) -> QueryResult<PricedCart> {
    let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
    let items = if ids.is_empty() {
        Vec::new()
    } else {
        purchasables(tx, &ids, cart.customer_id).await?
    };
    let (currency, at) = (cart.currency(), Utc::now());
    let mut lines = lines
        .into_iter()
        .map(|line| {
            let item = items
                .iter()
                .find(|i| i.variant.variant.id == line.variant_id)
                .cloned();
            let quote = item.as_ref().and_then(|i| {
                i.variant.quote(&PriceRequest {
                    variant_id: line.variant_id,
                    currency,
                    quantity: i64::from(line.quantity),
                    at,
                })
            });
            let problem = match (&item, &quote) {
                (None, _) => Some(LineProblem::Unavailable),
                (Some(_), None) => Some(LineProblem::NoPrice),
                (Some(i), Some(_)) if i.variant.stock.available < i64::from(line.quantity) => {
                    Some(LineProblem::InsufficientStock)
                }
                _ => None,
            };
            PricedLine {
                line,
                item,
                quote,
                problem,
                amounts: LineAmounts::default(),
            }
        })
        .collect::<Vec<_>>();
    let terms = totals::load(tx, &cart).await?;
    let totals = totals::compute(&cart, &mut lines, &terms, at);
    Ok(PricedCart {
        cart,
        lines,
        terms,
        totals,
    })
}

/// The lines of a cart, oldest first.
pub async fn lines_of(tx: &mut TenantTx<'_>, cart: CartId) -> QueryResult<Vec<CartLine>> {
    cart_lines::table
        .filter(cart_lines::cart_id.eq(cart))
        .order((cart_lines::created_at, cart_lines::id))
        .select(CartLine::as_select())
        .load(tx.conn())
        .await
}

/// Reads and prices a cart on the caller's connection.
pub async fn priced(tx: &mut TenantTx<'_>, cart: Cart) -> QueryResult<PricedCart> {
    let lines = lines_of(tx, cart.id).await?;
    price(tx, cart, lines).await
}

/// Whether the caller may read and change `cart`: anyone holding a guest cart's id, and the
/// customer whose cart it is.
fn may_use(cart: &Cart, ctx: &RequestContext) -> bool {
    match cart.customer_id {
        None => true,
        Some(owner) => ctx.user_id().ok() == Some(owner),
    }
}

fn not_found(field: &str) -> UserError {
    UserError::new(field, Code::NotFound, "no such cart")
}

/// The cart `id` if the caller may use it, locked for the transaction.
pub async fn locked(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    id: CartId,
    field: &str,
) -> Outcome<Cart> {
    carts::table
        .filter(carts::id.eq(id))
        .select(Cart::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .filter(|c| may_use(c, ctx))
        .ok_or_else(|| not_found(field).into())
}

/// The cart `id` if the caller may use it, locked for the transaction and open to changes.
pub async fn open_cart(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    id: CartId,
    field: &str,
) -> Outcome<Cart> {
    let cart = locked(tx, ctx, id, field).await?;
    check_open(&cart, field)?;
    Ok(cart)
}

/// Refuses a cart that is closed or expired.
pub fn check_open(cart: &Cart, field: &str) -> Outcome<()> {
    if cart.status != CartStatus::Open {
        return Err(UserError::new(
            field,
            Code::CartClosed,
            "this cart was checked out or merged; start a new one",
        )
        .into());
    }
    if cart.expires_at <= Utc::now() {
        return Err(UserError::new(
            field,
            Code::CartExpired,
            "this cart has expired; start a new one",
        )
        .into());
    }
    Ok(())
}

/// Marks the cart touched (its life starts again) and returns it.
async fn touch(tx: &mut TenantTx<'_>, id: CartId) -> QueryResult<Cart> {
    diesel::update(carts::table.filter(carts::id.eq(id)))
        .set((
            carts::updated_at.eq(diesel::dsl::now),
            carts::expires_at.eq(Utc::now() + LIFETIME),
        ))
        .returning(Cart::as_returning())
        .get_result(tx.conn())
        .await
}

/// Reads a cart the caller may use (closed and expired ones too), priced; `None` when there is
/// none.
pub async fn get(
    db: &Database,
    ctx: &RequestContext,
    id: CartId,
) -> Result<Option<PricedCart>, ApiError> {
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let cart: Option<Cart> = carts::table
            .filter(carts::id.eq(id))
            .select(Cart::as_select())
            .first(tx.conn())
            .await
            .optional()?;
        match cart.filter(|c| may_use(c, &ctx)) {
            Some(cart) => Ok(Some(priced(tx, cart).await?)),
            None => Ok(None),
        }
    })
    .await
}

/// The signed-in customer's open cart, priced; `None` when they have none.
pub async fn mine(db: &Database, ctx: &RequestContext) -> Result<Option<PricedCart>, ApiError> {
    let (tenant, customer) = (ctx.tenant()?.id, ctx.user_id()?);
    db.tenant_tx(tenant, async move |tx| {
        match open_cart_of(tx, customer).await? {
            Some(cart) => Ok(Some(priced(tx, cart).await?)),
            None => Ok(None),
        }
    })
    .await
}

/// A customer's open cart, locked.
async fn open_cart_of(tx: &mut TenantTx<'_>, customer: UserId) -> QueryResult<Option<Cart>> {
    carts::table
        .filter(carts::customer_id.eq(customer))
        .filter(carts::status.eq(CartStatus::Open))
        .select(Cart::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

fn check_email(email: Option<String>) -> Outcome<Option<String>> {
    match email {
        None => Ok(None),
        Some(e) => cityos_core::contact::normalize_email(&e)
            .map(Some)
            .ok_or_else(|| {
                UserError::new("email", Code::InvalidEmail, "this is not an e-mail address").into()
            }),
    }
}

/// Starts a cart in `currency` (the tenant's default without one). A signed-in customer gets
/// their open cart back when they have one in that currency.
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    currency: Option<String>,
    email: Option<String>,
) -> Outcome<PricedCart> {
    let tenant = ctx.tenant()?;
    let currency = currency.unwrap_or_else(|| tenant.default_currency.clone());
    let currency = Currency::parse(&currency).map_err(|e| {
        Failure::from(UserError::new(
            "currency",
            Code::UnknownCurrency,
            e.to_string(),
        ))
    })?;
    let email = check_email(email)?;
    let customer = ctx
        .has_role(Role::Customer)
        .then(|| ctx.user_id().ok())
        .flatten();
    let tenant = tenant.id;
    db.tenant_tx(tenant, async move |tx| {
        if let Some(customer) = customer {
            // One open cart per customer: racing creations queue here.
            cityos_db::lock_for_transaction(tx, "orders.carts", customer).await?;
            if let Some(cart) = open_cart_of(tx, customer).await? {
                if cart.currency != currency {
                    return Err(UserError::new(
                        "currency",
                        Code::CartExists,
                        format!("you already have an open cart in {}", cart.currency),
                    )
                    .into());
                }
                return Ok(priced(tx, cart).await?);
            }
        }
        let cart: Cart = diesel::insert_into(carts::table)
            .values((
                carts::tenant_id.eq(tenant),
                // Random, not time-ordered: a guest cart's id is all it takes to use it.
                carts::id.eq(CartId::from_uuid(uuid::Uuid::new_v4())),
                carts::customer_id.eq(customer),
                carts::email.eq(email),
                carts::currency.eq(currency.code()),
                carts::expires_at.eq(Utc::now() + LIFETIME),
            ))
            .returning(Cart::as_returning())
            .get_result(tx.conn())
            .await?;
        Ok(price(tx, cart, Vec::new()).await?)
    })
    .await
}

/// A line to add or change.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub variant_id: VariantId,
    /// Units; for an update, `None` keeps the quantity.
    pub quantity: Option<i32>,
    pub gift_wrap: Option<bool>,
    /// `Some("")` removes the message.
    pub gift_message: Option<String>,
}

fn check_lines(lines: &[LineInput]) -> Outcome<()> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(UserError::new(
            "lines",
            Code::InvalidCount,
            format!("give 1 to {MAX_LINES} lines"),
        )
        .into());
    }
    let mut seen = HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        if !seen.insert(line.variant_id) {
            return Err(UserError::new(
                &format!("lines.{i}.variantId"),
                Code::DuplicateVariant,
                "this variant is given twice",
            )
            .into());
        }
        if line
            .quantity
            .is_some_and(|q| !(1..=MAX_QUANTITY).contains(&q))
        {
            return Err(UserError::new(
                &format!("lines.{i}.quantity"),
                Code::InvalidQuantity,
                format!("a quantity is 1 to {MAX_QUANTITY}"),
            )
            .into());
        }
        if line
            .gift_message
            .as_ref()
            .is_some_and(|m| m.chars().count() > 300)
        {
            return Err(UserError::new(
                &format!("lines.{i}.giftMessage"),
                Code::InvalidText,
                "a gift message has at most 300 characters",
            )
            .into());
        }
    }
    Ok(())
}

fn gift_message(message: Option<&String>) -> Option<Option<String>> {
    message.map(|m| Some(m.trim().to_owned()).filter(|m| !m.is_empty()))
}

/// After a change to `changed` lines: the cart touched and priced, refused if it now holds too
/// many lines or a changed line cannot be bought.
async fn priced_after_change(
    tx: &mut TenantTx<'_>,
    cart: CartId,
    changed: &[LineInput],
) -> Outcome<PricedCart> {
    let cart = touch(tx, cart).await?;
    let priced = priced(tx, cart).await?;
    if priced.lines.len() > MAX_LINES {
        return Err(UserError::new(
            "lines",
            Code::InvalidCount,
            format!("a cart holds at most {MAX_LINES} lines"),
        )
        .into());
    }
    for (i, input) in changed.iter().enumerate() {
        let problem = priced
            .lines
            .iter()
            .find(|l| l.line.variant_id == input.variant_id)
            .and_then(|l| l.problem);
        if let Some(problem) = problem {
            let field = match problem {
                LineProblem::InsufficientStock => format!("lines.{i}.quantity"),
                _ => format!("lines.{i}.variantId"),
            };
            return Err(problem.refusal(&field).into());
        }
    }
    Ok(priced)
}

fn quantity_cap(i: usize) -> impl FnOnce() -> UserError {
    move || {
        UserError::new(
            &format!("lines.{i}.quantity"),
            Code::InvalidQuantity,
            format!("a line holds at most {MAX_QUANTITY} units"),
        )
    }
}

/// Adds lines to a cart; a variant already on it gets the units added to its line. Each added
/// line must be on sale, priced in the cart's currency and in stock for the line's new quantity.
pub async fn add_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    lines: Vec<LineInput>,
) -> Outcome<PricedCart> {
    check_lines(&lines)?;
    if let Some(i) = lines.iter().position(|l| l.quantity.is_none()) {
        return Err(UserError::new(
            &format!("lines.{i}.quantity"),
            Code::InvalidQuantity,
            "give a quantity",
        )
        .into());
    }
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        for (i, line) in lines.iter().enumerate() {
            let message = gift_message(line.gift_message.as_ref()).flatten();
            diesel::insert_into(cart_lines::table)
                .values((
                    cart_lines::tenant_id.eq(tenant),
                    cart_lines::id.eq(CartLineId::new()),
                    cart_lines::cart_id.eq(cart),
                    cart_lines::variant_id.eq(line.variant_id),
                    cart_lines::quantity.eq(line.quantity.unwrap_or(1)),
                    cart_lines::gift_wrap.eq(line.gift_wrap.unwrap_or(false)),
                    cart_lines::gift_message.eq(&message),
                ))
                .on_conflict((
                    cart_lines::tenant_id,
                    cart_lines::cart_id,
                    cart_lines::variant_id,
                ))
                .do_update()
                .set((
                    cart_lines::quantity.eq(cart_lines::quantity + line.quantity.unwrap_or(1)),
                    cart_lines::gift_wrap.eq(diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "excluded.gift_wrap OR orders.cart_lines.gift_wrap",
                    )),
                    cart_lines::gift_message.eq(diesel::dsl::sql::<Nullable<Text>>(
                        "coalesce(excluded.gift_message, orders.cart_lines.gift_message)",
                    )),
                ))
                .execute(tx.conn())
                .await
                .map_err(|e| {
                    Failure::on_constraint("cart_lines_quantity_check", e, quantity_cap(i))
                })?;
        }
        priced_after_change(tx, cart, &lines).await
    })
    .await
}

/// Changes lines of a cart: quantity, gift wrap, gift message. Every variant named must be on
/// the cart; a raised quantity must be in stock.
pub async fn update_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    lines: Vec<LineInput>,
) -> Outcome<PricedCart> {
    check_lines(&lines)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        for (i, line) in lines.iter().enumerate() {
            let target = cart_lines::table
                .filter(cart_lines::cart_id.eq(cart))
                .filter(cart_lines::variant_id.eq(line.variant_id));
            let changed = diesel::update(target)
                .set((
                    line.quantity.map(|q| cart_lines::quantity.eq(q)),
                    line.gift_wrap.map(|w| cart_lines::gift_wrap.eq(w)),
                    gift_message(line.gift_message.as_ref())
                        .map(|m| cart_lines::gift_message.eq(m)),
                    // Always set something, so an input that changes nothing is still valid SQL.
                    cart_lines::cart_id.eq(cart),
                ))
                .execute(tx.conn())
                .await?;
            if changed == 0 {
                return Err(UserError::new(
                    &format!("lines.{i}.variantId"),
                    Code::NotFound,
                    "this variant is not in the cart",
                )
                .into());
            }
        }
        priced_after_change(tx, cart, &lines).await
    })
    .await
}

/// Removes the lines of `variants` from a cart (variants not on it are ignored).
pub async fn remove_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    variants: Vec<VariantId>,
) -> Outcome<PricedCart> {
    if variants.is_empty() || variants.len() > MAX_LINES {
        return Err(UserError::new(
            "variantIds",
            Code::InvalidCount,
            format!("give 1 to {MAX_LINES} variants"),
        )
        .into());
    }
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::delete(
            cart_lines::table
                .filter(cart_lines::cart_id.eq(cart))
                .filter(cart_lines::variant_id.eq_any(&variants)),
        )
        .execute(tx.conn())
        .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}

/// Applies a discount code to a cart, replacing any it had. The code must apply now; when it
/// does not, the refusal says why and the cart keeps what it had.
pub async fn apply_discount(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    code: String,
) -> Outcome<PricedCart> {
    let code = discounts::normalize(&code);
    if !discounts::well_formed(&code) {
        return Err(UserError::new(
            "code",
            Code::DiscountNotFound,
            format!("there is no discount code {code}"),
        )
        .into());
    }
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set(carts::discount_code.eq(&code))
            .execute(tx.conn())
            .await?;
        let priced = priced_after_change(tx, cart, &[]).await?;
        if let Some(Err(refusal)) = &priced.totals.discount {
            return Err(refusal.clone().into());
        }
        Ok(priced)
    })
    .await
}

/// Takes the discount code off a cart.
pub async fn remove_discount(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
) -> Outcome<PricedCart> {
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set(carts::discount_code.eq(None::<String>))
            .execute(tx.conn())
            .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}

/// Delivery instructions trimmed, or a refusal when longer than 500 characters.
fn checked_instructions(text: Option<String>) -> Outcome<Option<String>> {
    text.map(|t| {
        trimmed(&t, 0, 500).ok_or_else(|| {
            UserError::new(
                "deliveryInstructions",
                Code::InvalidText,
                "delivery instructions have at most 500 characters",
            )
            .into()
        })
    })
    .transpose()
}

/// How one vendor's part of a cart ships.
#[derive(Debug, Clone)]
pub struct ShippingChoice {
    /// The vendor; `None` for the tenant's own products.
    pub vendor: Option<VendorId>,
    pub method: ShippingMethodId,
    /// Instructions for this shipment; `None` keeps them.
    pub instructions: Option<String>,
}

/// Chooses the shipping method of one vendor's part of a cart. The method must be able to
/// deliver that part now (active, in the cart's currency, serving the address's country).
pub async fn choose_shipping(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    choice: ShippingChoice,
) -> Outcome<PricedCart> {
    let instructions = checked_instructions(choice.instructions)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        Prepared(
            diesel::sql_query(
                "INSERT INTO orders.cart_shipments
                    (tenant_id, id, cart_id, vendor_id, method_id, delivery_instructions)
                 SELECT $1, $2, $3, $4, m.id, coalesce($6, '')
                 FROM orders.shipping_methods m WHERE m.id = $5
                 ON CONFLICT (tenant_id, cart_id, vendor_id) DO UPDATE
                 SET method_id = excluded.method_id,
                     delivery_instructions = coalesce($6, orders.cart_shipments.delivery_instructions)",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<SqlUuid, _>(CartShipmentId::new())
            .bind::<SqlUuid, _>(cart)
            .bind::<Nullable<SqlUuid>, _>(choice.vendor)
            .bind::<SqlUuid, _>(choice.method)
            .bind::<Nullable<Text>, _>(instructions.as_deref()),
        )
        .execute(tx.conn())
        .await?;
        let priced = priced_after_change(tx, cart, &[]).await?;
        let Some(shipment) = priced
            .totals
            .shipments
            .iter()
            .find(|s| s.vendor == choice.vendor)
        else {
            return Err(UserError::new(
                "vendorId",
                Code::NotFound,
                "the cart has no lines of this vendor",
            )
            .into());
        };
        if shipment.method().is_none_or(|o| o.method.id != choice.method) {
            return Err(UserError::new(
                "methodId",
                Code::ShippingMethodUnavailable,
                "this shipping method cannot deliver this part of the cart",
            )
            .into());
        }
        Ok(priced)
    })
    .await
}

/// Changes to a cart's contact and delivery details; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct CartChanges {
    pub email: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub delivery_instructions: Option<String>,
}

fn address_json(address: Option<Address>, field: &str) -> Outcome<Option<serde_json::Value>> {
    let Some(address) = address else {
        return Ok(None);
    };
    let checked = address.checked().map_err(|part| {
        Failure::from(UserError::new(
            &format!("{field}.{part}"),
            Code::InvalidAddress,
            format!("the address's {part} is missing or malformed"),
        ))
    })?;
    serde_json::to_value(checked)
        .map(Some)
        .map_err(|e| ApiError::internal(e).into())
}

/// Sets a cart's e-mail, addresses and delivery instructions.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    changes: CartChanges,
) -> Outcome<PricedCart> {
    let email = check_email(changes.email)?;
    let shipping = address_json(changes.shipping_address, "shippingAddress")?;
    let billing = address_json(changes.billing_address, "billingAddress")?;
    let instructions = checked_instructions(changes.delivery_instructions)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set((
                email.map(|e| carts::email.eq(Some(e))),
                shipping.map(|a| carts::shipping_address.eq(Some(a))),
                billing.map(|a| carts::billing_address.eq(Some(a))),
                instructions.map(|t| carts::delivery_instructions.eq(t)),
                carts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}

/// After sign-in: moves the lines of a guest cart into the signed-in customer's open cart (units
/// of a variant on both are added, up to the line maximum; the guest's discount code comes along
/// when the customer's cart has none) and closes the guest cart as MERGED.
/// A customer without an open cart takes the guest cart over instead.
pub async fn merge(db: &Database, ctx: &RequestContext, guest_cart: CartId) -> Outcome<PricedCart> {
    ctx.require_any(&[Role::Customer])?;
    let (tenant, customer) = (ctx.tenant()?.id, ctx.user_id()?);
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        cityos_db::lock_for_transaction(tx, "orders.carts", customer).await?;
        let guest = open_cart(tx, &ctx, guest_cart, "guestCartId").await?;
        if guest.customer_id.is_some() {
            return Err(not_found("guestCartId").into());
        }
        let Some(own) = open_cart_of(tx, customer).await? else {
            let cart = diesel::update(carts::table.filter(carts::id.eq(guest.id)))
                .set((
                    carts::customer_id.eq(customer),
                    carts::updated_at.eq(diesel::dsl::now),
                    carts::expires_at.eq(Utc::now() + LIFETIME),
                ))
                .returning(Cart::as_returning())
                .get_result(tx.conn())
                .await?;
            return Ok(priced(tx, cart).await?);
        };
        diesel::sql_query(
            "INSERT INTO orders.cart_lines (tenant_id, id, cart_id, variant_id, quantity, gift_wrap, gift_message)
             SELECT g.tenant_id, gen_random_uuid(), $2, g.variant_id, g.quantity, g.gift_wrap, g.gift_message
             FROM orders.cart_lines g WHERE g.cart_id = $1
             ON CONFLICT (tenant_id, cart_id, variant_id) DO UPDATE
             SET quantity = least(orders.cart_lines.quantity + excluded.quantity, 10000),
                 gift_wrap = orders.cart_lines.gift_wrap OR excluded.gift_wrap,
                 gift_message = coalesce(orders.cart_lines.gift_message, excluded.gift_message)",
        )
        .bind::<SqlUuid, _>(guest.id)
        .bind::<SqlUuid, _>(own.id)
        .execute(tx.conn())
        .await?;
        diesel::update(carts::table.filter(carts::id.eq(guest.id)))
            .set((carts::status.eq(CartStatus::Merged), carts::updated_at.eq(diesel::dsl::now)))
            .execute(tx.conn())
            .await?;
        if own.discount_code.is_none() && guest.discount_code.is_some() {
            diesel::update(carts::table.filter(carts::id.eq(own.id)))
                .set(carts::discount_code.eq(&guest.discount_code))
                .execute(tx.conn())
                .await?;
        }
        let cart = touch(tx, own.id).await?;
        Ok(priced(tx, cart).await?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            first_name: " Sara ".into(),
            last_name: "Al-Harbi".into(),
            company: None,
            line1: "King Fahd Road 12".into(),
            line2: Some("  ".into()),
            city: "Riyadh".into(),
            region: None,
            postal_code: Some("12271".into()),
            country_code: "sa".into(),
            phone: Some("+966 50 123 4567".into()),
        }
    }

    #[test]
    fn addresses_are_trimmed_and_checked() {
        let a = address().checked().expect("valid");
        assert_eq!(
            (a.first_name.as_str(), a.country_code.as_str(), a.line2),
            ("Sara", "SA", None)
        );
        type Spoil = fn(&mut Address);
        let bad: [(Spoil, &str); 6] = [
            (|a| a.first_name = " ".into(), "firstName"),
            (|a| a.line1 = String::new(), "line1"),
            (|a| a.country_code = "SAU".into(), "countryCode"),
            (|a| a.postal_code = Some("12#71".into()), "postalCode"),
            (|a| a.phone = Some("+96".into()), "phone"),
            (|a| a.phone = Some("call me".into()), "phone"),
        ];
        for (spoil, field) in bad {
            let mut a = address();
            spoil(&mut a);
            assert_eq!(a.checked(), Err(field));
        }
    }
}
