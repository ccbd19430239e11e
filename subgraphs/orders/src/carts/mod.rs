//! Carts: lines by variant, priced live by the catalog's pricing function, with gift wrap,
//! delivery instructions, addresses and a guest's e-mail; and booking lines, a bookings hold's
//! seats priced by its service (`bookings::api::held`) or its linked product, which checkout
//! makes bookings.
//!
//! A cart belongs to a tenant, a currency, and a customer or nobody (a guest's cart, reached by its
//! random id). A customer keeps at most one open personal cart; after signing in, `cartMerge`
//! moves a guest cart's lines into it (or makes the guest cart theirs). A member of a B2B company
//! acting for it (`x-company-id`) makes company carts instead, in the company's currency, as many
//! as they like (one per location or project): checkout applies the company's rules to them (the
//! checkout's `company` module), and a cart waiting for its company's approvers is frozen
//! (PENDING_APPROVAL). A cart nobody has touched for [`LIFETIME`] is expired and takes no more
//! changes.
//!
//! Carts hold no stock: availability is checked when a line is added or raised and again, under
//! lock, at checkout. Prices are never stored on a cart; every read prices it for its customer
//! (their customer groups' price lists and tiers apply) in the currency of the cart.

mod choices;
pub mod expiry;
pub mod graphql;
mod lines;
pub mod quick;
pub mod totals;

use self::totals::{LineAmounts, Terms, Totals};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{
    CartId, CartLineId, CompanyId, HoldId, OrderId, ProductId, TenantId, UserId, VariantId,
    VendorId,
};
use crate::schema::{cart_lines, carts};
use bookings::api::Held;
use catalog::api::{PriceRequest, Purchasable, Quote, purchasables};
pub(crate) use choices::address_json;
pub use choices::{
    CartChanges, ShippingChoice, apply_discount, choose_shipping, remove_discount, update,
};
use chrono::{DateTime, Duration, Utc};
pub use cityos_core::address::Address;
use cityos_core::money::{Currency, Money};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::Database;
use cityos_db::TenantTx;
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::RunQueryDsl;
pub use lines::{LineInput, add_booking, add_lines, remove_booking, remove_lines, update_lines};

/// The most lines a cart holds.
pub const MAX_LINES: usize = 100;
/// The most units of one variant on a line.
pub const MAX_QUANTITY: i32 = 10_000;
/// How long an untouched cart lives.
pub const LIFETIME: Duration = Duration::days(30);

/// Refuses a list of `count` items (`what`, at `field`) that is empty or longer than a cart's
/// [`MAX_LINES`].
pub(crate) fn check_count(count: usize, field: &str, what: &str) -> Outcome<()> {
    if count == 0 || count > MAX_LINES {
        return Err(UserError::new(
            field,
            Code::InvalidCount,
            format!("give 1 to {MAX_LINES} {what}"),
        )
        .into());
    }
    Ok(())
}

cityos_core::states! {
    /// Where a cart stands.
    pub enum CartStatus {
        /// Taking changes.
        Open = "OPEN",
        /// Checked out: see `order`.
        Completed = "COMPLETED",
        /// Merged into its customer's cart after sign-in.
        Merged = "MERGED",
        /// Left untouched until it expired (see `expiresAt`).
        Expired = "EXPIRED",
        /// Frozen while a company's approvers decide on it (see its approval request); it opens
        /// again if they reject it or the request expires or is withdrawn.
        PendingApproval = "PENDING_APPROVAL",
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
    /// The B2B company the cart buys for (its customer is a member acting for it).
    pub company_id: Option<CompanyId>,
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
    /// The variant of a product line; `None` on a booking line.
    pub variant_id: Option<VariantId>,
    /// Units; on a booking line, the hold's seats.
    pub quantity: i32,
    pub gift_wrap: bool,
    pub gift_message: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The bookings hold of a booking line; `None` on a product line.
    pub hold_id: Option<HoldId>,
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
    /// The booking line's hold has ended: its slot is no longer kept (hold it again).
    HoldExpired,
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
            Self::HoldExpired => UserError::new(
                field,
                Code::HoldExpired,
                "the hold of this booking has ended; hold the slot again",
            ),
        }
    }
}

/// A cart line with what it costs now.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub line: CartLine,
    /// The variant, its product and its prices; `None` when it is not on sale. On a booking
    /// line, the linked product's first variant when that is what prices it.
    pub item: Option<Purchasable>,
    /// A booking line's hold: service, time, provider, seats; `None` on a product line and
    /// when the hold is gone.
    pub booking: Option<Held>,
    /// The price of the line's quantity; `None` when there is none.
    pub quote: Option<Quote>,
    /// Why the line cannot be bought as it stands.
    pub problem: Option<LineProblem>,
    /// Its subtotal, discount, tax and total (see [`crate::carts::totals`]).
    pub amounts: LineAmounts,
}

impl PricedLine {
    /// The marketplace vendor selling the line (`None`: the tenant itself); a booking's is its
    /// service's.
    pub fn vendor(&self) -> Option<VendorId> {
        match (&self.line.hold_id, &self.booking) {
            (Some(_), Some(held)) => held.vendor_id,
            (Some(_), None) => None,
            (None, _) => self.item.as_ref().and_then(|i| i.vendor_id),
        }
    }

    /// Units available now across locations; on a booking line, the seats it keeps.
    pub fn available(&self) -> i64 {
        match &self.booking {
            Some(held) if held.hold.live(Utc::now()) => i64::from(held.hold.seats),
            Some(_) => 0,
            None if self.is_booking() => 0,
            None => self.item.as_ref().map_or(0, |i| i.variant.stock.available),
        }
    }

    /// Whether it is a booking line (a hold's seats) rather than a variant's units.
    pub fn is_booking(&self) -> bool {
        self.line.hold_id.is_some()
    }

    /// Whether it needs delivering: a product line does, a booking does not.
    pub fn ships(&self) -> bool {
        !self.is_booking()
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
    price_negotiated(tx, cart, lines, &[]).await
}

/// Prices `lines` of `cart` as [`price`] does, except that a variant in `negotiated` costs the
/// unit price given with it (an accepted quote's, rule NEGOTIATED; the catalog's price, when
/// higher, is its compare-at price), whether or not the catalog prices it in the cart's currency.
pub async fn price_negotiated(
    tx: &mut TenantTx<'_>,
    cart: Cart,
    lines: Vec<CartLine>,
    negotiated: &[(VariantId, i64)],
) -> QueryResult<PricedCart> {
    let (currency, at) = (cart.currency(), Utc::now());
    let holds: Vec<HoldId> = lines.iter().filter_map(|l| l.hold_id).collect();
    let held = bookings::api::held(tx, &holds, currency).await?;
    // A booking without its own price in the currency is priced as its linked product.
    let linked: Vec<ProductId> = held
        .iter()
        .filter(|h| h.unit_price.is_none())
        .filter_map(|h| h.product_id)
        .collect();
    let by_product = catalog::api::first_variants(tx, &linked).await?;
    let ids: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id)
        .chain(by_product.values().copied())
        .collect();
    let items = if ids.is_empty() {
        Vec::new()
    } else {
        purchasables(tx, &ids, cart.customer_id).await?
    };
    let item_of = |variant: VariantId| {
        items
            .iter()
            .find(|i| i.variant.variant.id == variant)
            .cloned()
    };
    let mut lines = lines
        .into_iter()
        .map(|line| {
            if let Some(hold) = line.hold_id {
                let booking = held.iter().find(|h| h.hold.id == hold).cloned();
                let item = booking
                    .as_ref()
                    .filter(|h| h.unit_price.is_none())
                    .and_then(|h| h.product_id)
                    .and_then(|p| by_product.get(&p))
                    .and_then(|&v| item_of(v));
                return price_booking(line, booking, item, currency, at);
            }
            let Some(variant) = line.variant_id else {
                // Neither a variant nor a hold: the table's check allows none.
                return price_booking(line, None, None, currency, at);
            };
            let item = item_of(variant);
            let listed = item.as_ref().and_then(|i| {
                i.variant.quote(&PriceRequest {
                    variant_id: variant,
                    currency,
                    quantity: i64::from(line.quantity),
                    at,
                })
            });
            let quote = match negotiated.iter().find(|(v, _)| *v == variant) {
                Some(&(_, unit)) if item.is_some() => {
                    let quantity = i64::from(line.quantity);
                    let compare_at = listed
                        .map(|l| l.unit_price)
                        .filter(|list| list.amount > unit);
                    Some(Quote {
                        unit_price: Money::new(unit, currency),
                        quantity,
                        line_total: Money::new(unit * quantity, currency),
                        rule: catalog::api::PriceRule::Negotiated,
                        source: None,
                        compare_at,
                    })
                }
                _ => listed,
            };
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
                booking: None,
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

/// Prices a booking line: its seats at the service's own price in the cart's currency, else as
/// its linked product's first variant (`item`) for that many units, with the catalog's rules for
/// the customer. A hold that is gone is UNAVAILABLE, one past its time HOLD_EXPIRED.
fn price_booking(
    line: CartLine,
    booking: Option<Held>,
    item: Option<Purchasable>,
    currency: Currency,
    at: DateTime<Utc>,
) -> PricedLine {
    let seats = i64::from(line.quantity);
    let quote = booking.as_ref().and_then(|held| match held.unit_price {
        Some(unit) => Some(Quote {
            unit_price: Money::new(unit, currency),
            quantity: seats,
            line_total: Money::new(unit * seats, currency),
            rule: catalog::api::PriceRule::BasePrice,
            source: None,
            compare_at: None,
        }),
        None => item.as_ref().and_then(|i| {
            i.variant.quote(&PriceRequest {
                variant_id: i.variant.variant.id,
                currency,
                quantity: seats,
                at,
            })
        }),
    });
    let problem = match (&booking, &quote) {
        (None, _) => Some(LineProblem::Unavailable),
        (Some(held), _) if !held.hold.live(at) => Some(LineProblem::HoldExpired),
        (Some(_), None) => Some(LineProblem::NoPrice),
        _ => None,
    };
    PricedLine {
        line,
        item,
        booking,
        quote,
        problem,
        amounts: LineAmounts::default(),
    }
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
    let expired = cart.status == CartStatus::Expired
        || (cart.status == CartStatus::Open && cart.expires_at <= Utc::now());
    if expired {
        return Err(UserError::new(
            field,
            Code::CartExpired,
            "this cart has expired; start a new one",
        )
        .into());
    }
    if cart.status == CartStatus::PendingApproval {
        return Err(UserError::new(
            field,
            Code::CartPendingApproval,
            "this cart waits for approval; withdraw the request to change it",
        )
        .into());
    }
    if cart.status != CartStatus::Open {
        return Err(UserError::new(
            field,
            Code::CartClosed,
            "this cart was checked out or merged; start a new one",
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

/// The signed-in customer's open cart, priced; `None` when they have none. Acting for a company,
/// their newest open cart for it.
pub async fn mine(db: &Database, ctx: &RequestContext) -> Result<Option<PricedCart>, ApiError> {
    let (tenant, customer) = (ctx.tenant()?.id, ctx.user_id()?);
    let company = ctx.company.map(|c| c.id);
    db.tenant_tx(tenant, async move |tx| {
        let open = match company {
            None => open_cart_of(tx, customer).await?,
            Some(company) => newest_company_cart(tx, customer, company).await?,
        };
        match open {
            Some(cart) => Ok(Some(priced(tx, cart).await?)),
            None => Ok(None),
        }
    })
    .await
}

/// A customer's newest open cart for `company`.
async fn newest_company_cart(
    tx: &mut TenantTx<'_>,
    customer: UserId,
    company: CompanyId,
) -> QueryResult<Option<Cart>> {
    carts::table
        .filter(carts::customer_id.eq(customer))
        .filter(carts::company_id.eq(company))
        .filter(carts::status.eq(CartStatus::Open))
        .filter(carts::expires_at.gt(diesel::dsl::now))
        .order((carts::created_at.desc(), carts::id.desc()))
        .select(Cart::as_select())
        .first(tx.conn())
        .await
        .optional()
}

/// A customer's open personal cart, locked.
async fn open_cart_of(tx: &mut TenantTx<'_>, customer: UserId) -> QueryResult<Option<Cart>> {
    carts::table
        .filter(carts::customer_id.eq(customer))
        .filter(carts::company_id.is_null())
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
/// their open personal cart back when they have one in that currency. A member acting for a
/// company (`x-company-id`) gets a new company cart, in the company's currency.
#[tracing::instrument(name = "cart.create", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    currency: Option<String>,
    email: Option<String>,
) -> Outcome<PricedCart> {
    let tenant = ctx.tenant()?;
    let company = ctx.company.map(|c| c.id);
    let asked_currency = currency.is_some();
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
        let currency = match (company, customer) {
            (Some(company), Some(customer)) => {
                let standing = vendors::api::lock_buyer(tx, company, customer)
                    .await?
                    .ok_or_else(|| ApiError::forbidden("you are not a member of this company"))?;
                if asked_currency && standing.currency != currency {
                    return Err(UserError::new(
                        "currency",
                        Code::CurrencyMismatch,
                        format!("{} buys in {}", standing.company_name, standing.currency),
                    )
                    .into());
                }
                standing.currency
            }
            (Some(_), None) => {
                return Err(ApiError::forbidden("a company cart is a signed-in member's").into());
            }
            (None, _) => currency,
        };
        if let (Some(customer), None) = (customer, company) {
            // One open cart per customer: racing creations queue here.
            cityos_db::lock_for_transaction(tx, "orders.carts", customer).await?;
            let open = match open_cart_of(tx, customer).await? {
                // Past its time: closed now, so a new one can open.
                Some(cart) if expiry::expire_if_due(tx, cart.id).await?.is_some() => None,
                open => open,
            };
            if let Some(cart) = open {
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
                carts::company_id.eq(company),
                carts::email.eq(email),
                carts::currency.eq(currency.code()),
                carts::expires_at.eq(Utc::now() + LIFETIME),
            ))
            .returning(Cart::as_returning())
            .get_result(tx.conn())
            .await?;
        expiry::schedule(tx, cart.id, cart.expires_at).await?;
        Ok(price(tx, cart, Vec::new()).await?)
    })
    .await
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
            .find(|l| l.line.variant_id == Some(input.variant_id))
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

/// After sign-in: moves the lines of a guest cart into the signed-in customer's open cart (units
/// of a variant on both are added, up to the line maximum; the guest's discount code comes along
/// when the customer's cart has none) and closes the guest cart as MERGED.
/// A customer without an open cart takes the guest cart over instead.
#[tracing::instrument(name = "cart.merge", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %guest_cart))]
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
             FROM orders.cart_lines g WHERE g.cart_id = $1 AND g.variant_id IS NOT NULL
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
