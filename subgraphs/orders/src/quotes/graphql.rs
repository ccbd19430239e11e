//! Quotes in GraphQL: a buyer's request, the seller's draft, revisions and sending, the company's
//! acceptance (an order at the negotiated prices) or decline, and messages on both sides.

use crate::federation::{Company, Vendor};
use crate::ids::{CartId, CompanyId, QuoteId, VariantId};
use crate::orders::Order;
use crate::payments::PaymentMethod;
use crate::quotes::{
    self, Acceptance, Draft, DraftChanges, LineInput, Message, Quote, QuoteLine, QuoteStatus, Side,
    Version, messages_of, versions_of,
};
use crate::scope::{OrdersLoader, children, gateway, money};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::address::Address;
use cityos_core::ids::to_id;
use cityos_core::money::{Currency, Money};
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;

cityos_core::payload! {
    /// The result of a quote mutation.
    QuotePayload<crate::errors::OrdersUserError> {
        /// The quote as it now is; null when refused.
        quote: Quote,
    }
}

cityos_core::payload! {
    /// The result of `quoteAccept`.
    QuoteAcceptPayload<crate::errors::OrdersUserError> {
        /// The quote, ACCEPTED; null when refused.
        quote: Quote,
        /// The order placed at the quote's prices; null when refused.
        order: Order,
    }
}

/// A buyer's request for a quote.
#[derive(InputObject)]
pub struct QuoteRequestInput {
    /// One of the caller's carts of the company they act for: its lines are quoted.
    pub cart_id: CartId,
    /// What the buyer asks for (at most 2,000 characters).
    pub message: Option<String>,
}

/// A line of a quote as the seller writes it.
#[derive(InputObject)]
pub struct QuoteLineInput {
    /// The variant.
    pub variant_id: VariantId,
    /// Units, 1 to 10,000.
    pub quantity: i32,
    /// The negotiated unit price in minor units of the company's currency; the catalog's price
    /// when omitted.
    pub unit_price_minor: Option<i64>,
}

fn lines(input: Vec<QuoteLineInput>) -> Vec<LineInput> {
    input
        .into_iter()
        .map(|l| LineInput {
            variant_id: l.variant_id,
            quantity: l.quantity,
            unit_price: l.unit_price_minor,
        })
        .collect()
}

/// A seller's draft of a quote for a company.
#[derive(InputObject)]
pub struct QuoteDraftInput {
    /// The company (verified, not closed).
    pub company_id: CompanyId,
    /// 1 to 100 lines, one per variant (a vendor's own products only).
    pub lines: Vec<QuoteLineInput>,
    /// Until when it may be accepted once sent (in the future, at most a year ahead).
    pub valid_until: Option<DateTime<Utc>>,
    /// The terms the seller attaches (at most 2,000 characters).
    pub note: Option<String>,
    /// A first message to the company.
    pub message: Option<String>,
}

/// Changes to a quote's draft.
#[derive(InputObject)]
pub struct QuoteUpdateInput {
    /// The quote (a DRAFT).
    pub id: QuoteId,
    /// Every line, replacing the draft's; unchanged when omitted.
    pub lines: Option<Vec<QuoteLineInput>>,
    /// A new validity date.
    pub valid_until: Option<DateTime<Utc>>,
    /// A new note.
    pub note: Option<String>,
}

/// A quote to act on.
#[derive(InputObject)]
pub struct QuoteRefInput {
    /// The quote.
    pub id: QuoteId,
}

/// Accepting a quote.
#[derive(InputObject)]
pub struct QuoteAcceptInput {
    /// The quote (SENT).
    pub id: QuoteId,
    /// The version accepted, as last read: another is STALE_VERSION.
    pub version: i32,
    /// A key the client makes for this attempt and repeats on retry: the same key returns the
    /// same order.
    pub idempotency_key: String,
    /// How the company pays; ON_ACCOUNT when omitted.
    pub payment_method: Option<PaymentMethod>,
    /// The company's purchase-order number (required when the company says so).
    pub purchase_order_number: Option<String>,
    /// Where the order ships; the requesting cart's address when omitted.
    pub shipping_address: Option<Address>,
    /// Where it is billed; the requesting cart's address when omitted.
    pub billing_address: Option<Address>,
}

/// Declining a quote.
#[derive(InputObject)]
pub struct QuoteDeclineInput {
    /// The quote (SENT).
    pub id: QuoteId,
    /// The version declined, as last read.
    pub version: i32,
    /// Why (at most 1,000 characters).
    pub reason: Option<String>,
}

/// A message on a quote.
#[derive(InputObject)]
pub struct QuoteMessageInput {
    /// The quote (DRAFT or SENT).
    pub id: QuoteId,
    /// The message, 1 to 2,000 characters.
    pub body: String,
}

/// The mutations of quotes.
#[derive(Default)]
pub struct QuoteMutation;

#[Object]
impl QuoteMutation {
    /// Asks for a quote on the lines of one of the caller's company carts (a member acting for
    /// the company): a DRAFT for the seller, at today's prices; the cart stays as it is.
    async fn quote_request(
        &self,
        ctx: &Context<'_>,
        input: QuoteRequestInput,
    ) -> Result<QuotePayload> {
        let done = quotes::request(ctx.db(), ctx.request()?, input.cart_id, input.message).await;
        Ok(QuotePayload::of(done)?)
    }

    /// Drafts a quote for a company (staff, or a vendor's manager for its own products).
    async fn quote_draft(&self, ctx: &Context<'_>, input: QuoteDraftInput) -> Result<QuotePayload> {
        let draft = Draft {
            company_id: input.company_id,
            lines: lines(input.lines),
            valid_until: input.valid_until,
            note: input.note,
            message: input.message,
        };
        Ok(QuotePayload::of(
            quotes::draft(ctx.db(), ctx.request()?, draft).await,
        )?)
    }

    /// Changes a quote's DRAFT (its seller): lines and negotiated prices, validity date, note.
    async fn quote_update(
        &self,
        ctx: &Context<'_>,
        input: QuoteUpdateInput,
    ) -> Result<QuotePayload> {
        let changes = DraftChanges {
            id: input.id,
            lines: input.lines.map(lines),
            valid_until: input.valid_until,
            note: input.note,
        };
        Ok(QuotePayload::of(
            quotes::update(ctx.db(), ctx.request()?, changes).await,
        )?)
    }

    /// Sends the DRAFT to the company (its seller): that version never changes again, and may be
    /// accepted until its validity date.
    async fn quote_send(&self, ctx: &Context<'_>, input: QuoteRefInput) -> Result<QuotePayload> {
        Ok(QuotePayload::of(
            quotes::send(ctx.db(), ctx.request()?, input.id).await,
        )?)
    }

    /// Takes a SENT quote back to DRAFT as its next version (its seller); the sent version stays
    /// as it was.
    async fn quote_revise(&self, ctx: &Context<'_>, input: QuoteRefInput) -> Result<QuotePayload> {
        Ok(QuotePayload::of(
            quotes::revise(ctx.db(), ctx.request()?, input.id).await,
        )?)
    }

    /// Accepts the current sent version (an approver or admin of the company, while it is
    /// valid): its order is placed at the negotiated prices, split by vendor, exactly once, held
    /// to the company's rules for the caller (limits, credit, purchase-order number).
    async fn quote_accept(
        &self,
        ctx: &Context<'_>,
        input: QuoteAcceptInput,
    ) -> Result<QuoteAcceptPayload> {
        let acceptance = Acceptance {
            id: input.id,
            version: input.version,
            idempotency_key: input.idempotency_key,
            payment_method: input.payment_method.unwrap_or(PaymentMethod::OnAccount),
            purchase_order_number: input.purchase_order_number,
            shipping_address: input.shipping_address,
            billing_address: input.billing_address,
        };
        let done = quotes::accept(ctx.db(), ctx.request()?, acceptance, gateway(ctx)).await;
        Ok(QuoteAcceptPayload::of(done)?)
    }

    /// Declines the current sent version (an approver or admin of the company).
    async fn quote_decline(
        &self,
        ctx: &Context<'_>,
        input: QuoteDeclineInput,
    ) -> Result<QuotePayload> {
        let done = quotes::decline(
            ctx.db(),
            ctx.request()?,
            input.id,
            input.version,
            input.reason,
        )
        .await;
        Ok(QuotePayload::of(done)?)
    }

    /// Writes a message on an open quote (the company's members, or its seller).
    async fn quote_message_post(
        &self,
        ctx: &Context<'_>,
        input: QuoteMessageInput,
    ) -> Result<QuotePayload> {
        let done = quotes::post_message(ctx.db(), ctx.request()?, input.id, input.body).await;
        Ok(QuotePayload::of(done)?)
    }
}

cityos_core::connection!(QuoteConnection, QuoteEdge, Quote, "quote");

/// The queries of quotes.
#[derive(Default)]
pub struct QuoteQuery;

#[Object]
impl QuoteQuery {
    /// A quote the caller is party to: a member of its company acting for it, tenant staff, or
    /// the issuing vendor's team; null for anyone else.
    async fn quote(&self, ctx: &Context<'_>, id: QuoteId) -> Result<Option<Quote>> {
        Ok(quotes::get(ctx.db(), ctx.request()?, id).await?)
    }

    /// The quotes the caller is party to, newest first: a member's company's, a vendor's own,
    /// or (staff) every one, of `companyId` when given; optionally in one status.
    #[graphql(complexity = "cityos_core::paging::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn quotes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<QuoteStatus>,
        company_id: Option<CompanyId>,
    ) -> Result<QuoteConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(
            quotes::page(ctx.db(), ctx.request()?, status, company_id, page)
                .await?
                .into(),
        )
    }
}

crate::scope::children_of!(
    VersionsOf(QuoteId) => Version,
    versions_of,
    "versions of a quote"
);

crate::scope::children_of!(
    MessagesOf(QuoteId) => Message,
    messages_of,
    "messages on a quote"
);

impl Quote {
    /// The versions the caller may read: every one for the seller, the sent ones for the company.
    async fn visible_versions(&self, ctx: &Context<'_>) -> Result<Vec<Version>> {
        let all = children(ctx, VersionsOf(self.id)).await?;
        let seller = Side::of(ctx.request()?, self) == Some(Side::Seller);
        Ok(all
            .into_iter()
            .filter(|v| seller || v.sent_at.is_some())
            .collect())
    }
}

/// Prices negotiated for a company, per line, valid until a date; accepted once into an order.
#[Object]
impl Quote {
    /// The quote's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its number, gap-free per tenant.
    async fn number(&self) -> i64 {
        self.number
    }
    /// Where it stands.
    async fn status(&self) -> QuoteStatus {
        self.status
    }
    /// Its current version: the one being drafted, or the one sent. Accepting and declining name
    /// it.
    async fn version(&self) -> i32 {
        self.version
    }
    /// The company it is for.
    async fn company(&self) -> Company {
        Company {
            id: to_id(self.company_id),
        }
    }
    /// The vendor issuing it; null when the tenant's staff do.
    async fn vendor(&self) -> Option<Vendor> {
        self.vendor_id.map(|v| Vendor { id: to_id(v) })
    }
    /// The cart it was requested from.
    async fn cart_id(&self) -> Option<ID> {
        self.cart_id.map(to_id)
    }
    /// The buyer who requested it; null when the seller drafted it.
    async fn requested_by_id(&self) -> Option<ID> {
        self.requested_by.map(to_id)
    }
    /// The currency of its prices (the company's).
    async fn currency(&self) -> &str {
        self.currency.code()
    }
    /// The latest version the caller may read (the seller's draft, or for the company the last
    /// one sent); null for the company before anything was sent.
    async fn current(&self, ctx: &Context<'_>) -> Result<Option<QuoteVersion>> {
        let currency = self.currency;
        Ok(self
            .visible_versions(ctx)
            .await?
            .pop()
            .map(|version| QuoteVersion { currency, version }))
    }
    /// Every version the caller may read, oldest first: the seller's all, the company's those
    /// sent.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<QuoteVersion>> {
        let currency = self.currency;
        Ok(self
            .visible_versions(ctx)
            .await?
            .into_iter()
            .map(|version| QuoteVersion { currency, version })
            .collect())
    }
    /// The messages of both sides, oldest first.
    async fn messages(&self, ctx: &Context<'_>) -> Result<Vec<Message>> {
        children(ctx, MessagesOf(self.id)).await
    }
    /// The order it became when accepted.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        match self.order_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<OrdersLoader>()?.load_one(id).await?),
        }
    }
    /// Who accepted or declined it.
    async fn decided_by_id(&self) -> Option<ID> {
        self.decided_by.map(to_id)
    }
    /// Why the company declined it.
    async fn decline_reason(&self) -> Option<&str> {
        self.decline_reason.as_deref()
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// One version of a quote: what was (or is being) offered.
pub struct QuoteVersion {
    currency: Currency,
    version: Version,
}

#[Object]
impl QuoteVersion {
    /// Its number, from 1.
    async fn version(&self) -> i32 {
        self.version.version
    }
    /// Its lines.
    async fn lines(&self) -> Vec<QuoteVersionLine> {
        self.version
            .lines()
            .into_iter()
            .map(|line| QuoteVersionLine {
                currency: self.currency,
                line,
            })
            .collect()
    }
    /// The lines at their negotiated prices (before shipping and tax, which the order adds).
    async fn subtotal(&self) -> Money {
        money(self.version.subtotal, self.currency)
    }
    /// The lines at the catalog's prices when they were written.
    async fn list_subtotal(&self) -> Money {
        money(self.version.list_subtotal, self.currency)
    }
    /// Until when it may be accepted.
    async fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.version.valid_until
    }
    /// The seller's terms.
    async fn note(&self) -> Option<&str> {
        self.version.note.as_deref()
    }
    /// When it was sent; null while it is a draft.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.version.sent_at
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.version.created_at
    }
}

/// A line of a quote version.
pub struct QuoteVersionLine {
    currency: Currency,
    line: QuoteLine,
}

#[Object]
impl QuoteVersionLine {
    /// The variant's id.
    async fn variant_id(&self) -> ID {
        to_id(self.line.variant_id)
    }
    /// Its SKU.
    async fn sku(&self) -> &str {
        &self.line.sku
    }
    /// The product's and the variant's titles.
    async fn title(&self) -> &str {
        &self.line.title
    }
    /// The vendor selling it; null for the tenant's own products.
    async fn vendor(&self) -> Option<Vendor> {
        self.line.vendor_id.map(|v| Vendor { id: to_id(v) })
    }
    /// Units.
    async fn quantity(&self) -> i32 {
        self.line.quantity
    }
    /// The catalog's unit price when the line was written.
    async fn list_unit_price(&self) -> Option<Money> {
        self.line.list_unit_price.map(|p| money(p, self.currency))
    }
    /// The negotiated unit price.
    async fn unit_price(&self) -> Money {
        money(self.line.unit_price, self.currency)
    }
    /// The negotiated unit price times the quantity.
    async fn total(&self) -> Money {
        money(self.line.total(), self.currency)
    }
}

/// A message on a quote.
#[Object(name = "QuoteMessage")]
impl Message {
    /// The message's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Who wrote it.
    async fn author_id(&self) -> ID {
        to_id(self.author_id)
    }
    /// BUYER (a member of the company) or SELLER (staff or the issuing vendor).
    async fn side(&self) -> &str {
        &self.side
    }
    /// What it says.
    async fn body(&self) -> &str {
        &self.body
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}
