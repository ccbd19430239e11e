//! Checkout: a cart becomes an order in one database transaction.
//!
//! In order, under the cart's row lock: replay check by idempotency key; the cart's discount
//! code locked (racing checkouts with one code queue, so its limits hold); the cart re-priced for
//! its customer now, with its discount, shipping per vendor group and taxes (see
//! [`crate::carts::totals`]); stock sold through the catalog's api (`catalog::api::sell`: level rows
//! locked in variant order, so racing checkouts cannot sell a unit twice); the order
//! number taken from the tenant's gap-free counter; the order, one vendor order per vendor (each
//! with its own subtotal, discount, shipping, tax and total, summing exactly to the order's), the
//! lines with their snapshot of title, SKU, price and tax rate, the stock allocations, the
//! discount's use and the payment written; an `order.placed` event; the cart closed. Any refusal
//! rolls all of it back.
//!
//! A company cart is also held to its company's rules ([`company`]) under the company's row lock,
//! taken through the vendors subgraph's api after pricing; the order records the company, the
//! purchase-order number and the tax exemption certificate that applied. An order paid ON_ACCOUNT
//! is confirmed at once: its invoice is issued in the same transaction, due after the company's
//! NET days.
//!
//! A booking line's hold becomes a PENDING booking of its order line in the same transaction,
//! through the bookings subgraph's api (`bookings::api::convert`: the hold's row locked, refused
//! as HOLD_EXPIRED once it no longer keeps its seats); payment confirms it
//! ([`orders::bookings_paid`]).
//!
//! The number of statements does not depend on how many vendors the cart spans: vendor orders,
//! lines and allocations are each one insert of a JSON row set. Stock costs a constant per line,
//! and so does a booking.

pub mod approvals;
pub mod company;
pub mod graphql;

use crate::carts::{self, CartStatus, PricedCart, PricedLine};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{
    AllocationId, BookingId, CartId, LocationId, OrderId, OrderLineId, PaymentId, ProductId,
    ServiceId, ShippingMethodId, TenantId, UserId, VariantId, VendorId, VendorOrderId,
};
use crate::orders::{self, Order};
use crate::payments::stripe::Stripe;
use crate::payments::{
    Answer, Charge, Gateway, Manual, Payment, PaymentMethod, PaymentProvider, PaymentStatus,
    ProviderKind,
};
use crate::schema::{carts as carts_table, payments};
use crate::{counters, discounts};
use catalog::api::StockError;
use chrono::{DateTime, Utc};
use cityos_core::money::Money;
use cityos_core::text::IdempotencyKey;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;

/// What checkout is asked.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub cart_id: CartId,
    /// The client's key for this attempt: a retry with the same key returns the same order.
    pub idempotency_key: String,
    pub payment_method: PaymentMethod,
    /// The total the shopper was shown, in minor units: checkout refuses if the cart now costs
    /// something else.
    pub expected_total: Option<i64>,
    /// The buyer's purchase-order number (required by some companies).
    pub purchase_order_number: Option<String>,
}

/// What checking out a cart came to.
#[derive(Debug, Clone)]
pub enum Checkout {
    /// The order is placed.
    Placed(Order),
    /// A company's approval rule applies: the cart waits for its approvers.
    AwaitingApproval(approvals::ApprovalRequest),
}

impl Checkout {
    /// The order, when one was placed.
    pub fn order(self) -> Option<Order> {
        match self {
            Self::Placed(order) => Some(order),
            Self::AwaitingApproval(_) => None,
        }
    }
}

/// Places the order for a cart (see the module documentation), or makes it an approval request
/// when one of its company's approval rules applies. A card payment's Stripe PaymentIntent is
/// created after the order commits (see [`start_card_payments`]).
#[tracing::instrument(name = "checkout.complete", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %request.cart_id))]
pub async fn complete(
    db: &Database,
    ctx: &RequestContext,
    request: CheckoutRequest,
    gateway: &Gateway,
) -> Outcome<Checkout> {
    let key = IdempotencyKey::parse(&request.idempotency_key)
        .map_err(|e| {
            UserError::new(
                "idempotencyKey",
                Code::InvalidIdempotencyKey,
                e.message("an idempotency key"),
            )
        })?
        .as_str()
        .to_owned();
    let card = request.payment_method == PaymentMethod::Card;
    if card && gateway.stripe.is_none() {
        return Err(UserError::new(
            "paymentMethod",
            Code::InvalidPaymentMethod,
            "card payments are not offered here; pay cash on delivery or by bank transfer",
        )
        .into());
    }
    let purchase_order = company::purchase_order(request.purchase_order_number.as_deref())?;
    let tenant = ctx.tenant()?.id;
    let actor = ctx.user_id().ok();
    let ctx = ctx.clone();
    let outcome = db
        .tenant_tx(tenant, async move |tx| {
            let cart = carts::locked(tx, &ctx, request.cart_id, "cartId").await?;
            if let Some(order) = orders::by_idempotency_key(tx, &key).await? {
                if order.cart_id == cart.id {
                    return Ok(Checkout::Placed(order));
                }
                return Err(UserError::new(
                    "idempotencyKey",
                    Code::IdempotencyKeyReused,
                    "this idempotency key was used for another cart",
                )
                .into());
            }
            if cart.status == CartStatus::PendingApproval
                && let Some(waiting) = approvals::pending_for_cart(tx, cart.id).await?
            {
                // A retry of the checkout that made the request: the same request.
                return Ok(Checkout::AwaitingApproval(waiting));
            }
            carts::check_open(&cart, "cartId")?;
            if let Some(code) = &cart.discount_code {
                // Racing checkouts with one code queue here, so its limits hold.
                discounts::lock(tx, code).await?;
            }
            let priced = carts::priced(tx, cart).await?;
            check_ready(&priced, request.expected_total)?;
            let method = request.payment_method;
            let account = company::check(tx, &priced, method, purchase_order, None).await?;
            if let Some(waiting) = approvals::route(tx, &priced, &account, method).await? {
                return Ok(Checkout::AwaitingApproval(waiting));
            }
            Ok::<_, crate::errors::Failure>(Checkout::Placed(
                place(tx, &priced, &account, &key, method, actor).await?,
            ))
        })
        .await?;
    if card
        && let Some(stripe) = &gateway.stripe
        && let Checkout::Placed(order) = &outcome
    {
        start_card_payments(db, tenant, stripe, order.id).await?;
    }
    Ok(outcome)
}

/// Creates the Stripe PaymentIntent of each card payment of `order` that has none yet, outside
/// any transaction, with the payment's id as idempotency key: a retried checkout, or two at once,
/// get the same intent. When Stripe cannot be reached the order stands with its payment PENDING
/// and no client secret; checking out again with the same idempotency key tries again.
#[tracing::instrument(name = "checkout.start_card_payments", skip_all, fields(tenant.id = %tenant, order.id = %order))]
pub async fn start_card_payments(
    db: &Database,
    tenant: TenantId,
    stripe: &Stripe,
    order: OrderId,
) -> Result<(), ApiError> {
    let waiting: Vec<Payment> = db
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, ApiError>(
                payments::table
                    .filter(payments::order_id.eq(order))
                    .filter(payments::provider.eq(ProviderKind::Stripe))
                    .filter(payments::provider_reference.is_null())
                    .select(Payment::as_select())
                    .load(tx.conn())
                    .await?,
            )
        })
        .await?;
    for payment in waiting {
        let charge = Charge {
            tenant_id: tenant,
            order_id: order,
            payment_id: payment.id,
            amount: payment.amount,
            currency: payment.currency.code(),
            method: PaymentMethod::Card,
            idempotency_key: &format!("payment-{}", payment.id),
        };
        let answer = match stripe.authorize(&charge).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::error!(%error, payment = %payment.id, "creating the PaymentIntent failed");
                continue;
            }
        };
        let id = payment.id;
        db.tenant_tx(tenant, async move |tx| {
            diesel::update(
                payments::table
                    .filter(payments::id.eq(id))
                    .filter(payments::provider_reference.is_null()),
            )
            .set((
                payments::provider_reference.eq(&answer.reference),
                payments::client_secret.eq(&answer.client_secret),
                payments::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await
            .map_err(ApiError::from)
        })
        .await?;
    }
    Ok(())
}

/// Refuses a cart that cannot be bought as it stands.
pub(crate) fn check_ready(priced: &PricedCart, expected_total: Option<i64>) -> Outcome<()> {
    let (cart, totals) = (&priced.cart, &priced.totals);
    if priced.lines.is_empty() {
        return Err(UserError::new("cartId", Code::CartEmpty, "the cart is empty").into());
    }
    if cart.customer_id.is_none() && cart.email.is_none() {
        return Err(UserError::new(
            "cartId",
            Code::EmailRequired,
            "a guest checkout needs an e-mail address on the cart",
        )
        .into());
    }
    if let Some(line) = priced.lines.iter().find(|l| l.problem.is_some()) {
        let problem = line.problem.unwrap_or(carts::LineProblem::Unavailable);
        let mut refusal = problem.refusal("cartId");
        let what = match (line.line.variant_id, line.line.hold_id) {
            (Some(variant), _) => format!("variant {variant}"),
            (None, Some(hold)) => format!("booking hold {hold}"),
            (None, None) => "a line".to_owned(),
        };
        refusal.message = format!("{} ({what})", refusal.message);
        return Err(refusal.into());
    }
    let shipping = || totals.shipments.iter().filter(|s| s.ships);
    if totals.shipping_offered && shipping().any(|s| s.method().is_none()) {
        return Err(UserError::new(
            "cartId",
            Code::ShippingUnavailable,
            "no shipping method delivers part of this cart to its address",
        )
        .into());
    }
    // Nothing to deliver (bookings alone) is like picking everything up: a billing address does.
    let nothing_ships = shipping().next().is_none();
    let all_pickup = nothing_ships
        || (totals.shipping_offered
            && shipping().all(|s| s.method().is_some_and(|o| o.method.is_pickup())));
    if cart.shipping_address.is_none() && !(all_pickup && cart.billing_address.is_some()) {
        let message = if all_pickup {
            "set a billing address (or a shipping address) on the cart first"
        } else {
            "set a shipping address on the cart first"
        };
        return Err(UserError::new("cartId", Code::AddressRequired, message).into());
    }
    if let Some(Err(why)) = &totals.discount {
        return Err(UserError::new("cartId", why.code, why.message.clone()).into());
    }
    if expected_total.is_some_and(|t| t != totals.total) {
        return Err(UserError::new(
            "expectedTotal",
            Code::PriceChanged,
            format!(
                "the cart now costs {}; review it and check out again",
                priced.money(totals.total)
            ),
        )
        .into());
    }
    Ok(())
}

#[derive(Serialize, Debug)]
pub struct VendorOrderRow<'a> {
    id: VendorOrderId,
    vendor_id: Option<VendorId>,
    subtotal: i64,
    discount_total: i64,
    shipping_total: i64,
    tax_total: i64,
    total: i64,
    shipping_method_id: Option<ShippingMethodId>,
    shipping_method_name: Option<&'a str>,
    shipping_kind: Option<&'a str>,
    pickup_location: Option<&'a str>,
    delivery_instructions: &'a str,
}

#[derive(Serialize)]
struct LineRow<'a> {
    id: OrderLineId,
    vendor_order_id: VendorOrderId,
    position: i32,
    variant_id: Option<VariantId>,
    product_id: Option<ProductId>,
    product_title: &'a str,
    variant_title: &'a str,
    sku: &'a str,
    quantity: i32,
    unit_price: i64,
    compare_at_unit_price: Option<i64>,
    price_rule: catalog::api::PriceRule,
    subtotal: i64,
    discount_total: i64,
    tax_total: i64,
    tax_rate: i32,
    tax_inclusive: bool,
    total: i64,
    gift_wrap: bool,
    gift_message: Option<&'a str>,
    booking_id: Option<BookingId>,
    service_id: Option<ServiceId>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
}

#[derive(Serialize)]
struct AllocationRow {
    id: AllocationId,
    order_line_id: OrderLineId,
    variant_id: VariantId,
    location_id: LocationId,
    quantity: i32,
}

fn stock_refusal(error: StockError) -> Failure<Code> {
    match error {
        StockError::Insufficient {
            variant_id,
            requested,
            available,
        } => UserError::new(
            "cartId",
            Code::InsufficientStock,
            format!("only {available} of {requested} units of variant {variant_id} are available"),
        )
        .into(),
        StockError::NotFound(what) => UserError::new(
            "cartId",
            Code::VariantUnavailable,
            format!("no {what} to sell from"),
        )
        .into(),
        StockError::Database(e) => e.into(),
        other => ApiError::internal(other).into(),
    }
}

/// A booking line's hold that could not become a booking (it ended since the cart was priced).
fn booking_refusal<C>(failure: Failure<C>) -> Failure<Code> {
    match failure {
        Failure::User(e) => UserError::new("cartId", Code::HoldExpired, e.message).into(),
        Failure::Api(e) => e.into(),
    }
}

/// Writes the order for a checked, priced cart.
pub(crate) async fn place(
    tx: &mut TenantTx<'_>,
    priced: &PricedCart,
    account: &company::Account,
    key: &str,
    method: PaymentMethod,
    actor: Option<UserId>,
) -> Outcome<Order> {
    let tenant = tx.tenant();
    let cart = &priced.cart;
    let order_id = OrderId::new();

    // Stock, in variant order (the catalog's lock order): sold outright, no reservation rows.
    let mut by_variant: Vec<(VariantId, &PricedLine)> = priced
        .lines
        .iter()
        .filter_map(|l| Some((l.line.variant_id?, l)))
        .collect();
    by_variant.sort_by_key(|(variant, _)| *variant);
    let reference = format!("order {order_id}");
    let mut taken = Vec::new();
    for (variant, line) in &by_variant {
        let sold = catalog::api::sell(tx, *variant, line.line.quantity, &reference, actor)
            .await
            .map_err(stock_refusal)?;
        taken.extend(sold);
    }
    let number = counters::next(tx, "order").await?;

    // Vendor orders and lines, as priced.
    let totals = &priced.totals;
    let mut vendor_rows = Vec::new();
    let mut line_rows = Vec::new();
    let mut line_ids = Vec::new();
    for shipment in &totals.shipments {
        let vendor_order_id = VendorOrderId::new();
        for &i in &shipment.lines {
            let line = &priced.lines[i];
            let id = OrderLineId::new();
            let (amounts, Some(quote)) = (&line.amounts, &line.quote) else {
                return Err(ApiError::internal("an unpriced line reached checkout").into());
            };
            // What every line records of its price; then what it sold.
            let priced_row = LineRow {
                id,
                vendor_order_id,
                position: i32::try_from(line_rows.len()).unwrap_or(i32::MAX),
                variant_id: None,
                product_id: None,
                product_title: "",
                variant_title: "",
                sku: "",
                quantity: line.line.quantity,
                unit_price: quote.unit_price.amount,
                compare_at_unit_price: quote.compare_at.map(|m| m.amount),
                price_rule: quote.rule,
                subtotal: amounts.subtotal,
                discount_total: amounts.discount,
                tax_total: amounts.tax.amount,
                tax_rate: amounts.tax.rate,
                tax_inclusive: amounts.tax.inclusive,
                total: amounts.total,
                gift_wrap: false,
                gift_message: None,
                booking_id: None,
                service_id: None,
                starts_at: None,
                ends_at: None,
            };
            let row = match (
                &line.booking,
                line.line.hold_id,
                &line.item,
                line.line.variant_id,
            ) {
                (Some(held), Some(hold), _, None) => {
                    // The hold becomes a booking of this line, in this transaction.
                    let customer = cart.customer_id.ok_or_else(|| {
                        ApiError::internal("a booking line reached checkout on a guest cart")
                    })?;
                    let sale = bookings::api::Sale {
                        hold,
                        customer,
                        order_id: order_id.uuid(),
                        order_line_id: id.uuid(),
                        amount: Money::new(amounts.total, cart.currency()),
                    };
                    let booking = bookings::api::convert(tx, sale)
                        .await
                        .map_err(booking_refusal)?;
                    LineRow {
                        product_id: held.product_id,
                        product_title: &held.service_name,
                        variant_title: held.provider_name.as_deref().unwrap_or(""),
                        booking_id: Some(booking.id),
                        service_id: Some(held.hold.service_id),
                        starts_at: Some(held.hold.starts_at),
                        ends_at: Some(held.hold.ends_at),
                        ..priced_row
                    }
                }
                (None, None, Some(item), Some(variant)) => {
                    line_ids.push((variant, id));
                    LineRow {
                        variant_id: Some(variant),
                        product_id: Some(item.product_id),
                        product_title: &item.product_title,
                        variant_title: &item.variant.variant.title,
                        sku: &item.variant.variant.sku,
                        gift_wrap: line.line.gift_wrap,
                        gift_message: line.line.gift_message.as_deref(),
                        ..priced_row
                    }
                }
                _ => return Err(ApiError::internal("an unpriced line reached checkout").into()),
            };
            line_rows.push(row);
        }
        let method = shipment.method().map(|o| &o.method);
        vendor_rows.push(VendorOrderRow {
            id: vendor_order_id,
            vendor_id: shipment.vendor,
            subtotal: shipment.subtotal,
            discount_total: shipment.discount,
            shipping_total: shipment.shipping,
            tax_total: shipment.tax,
            total: shipment.total,
            shipping_method_id: method.map(|m| m.id),
            shipping_method_name: method.map(|m| m.name.as_str()),
            shipping_kind: method.map(|m| m.kind.as_str()),
            pickup_location: method.and_then(|m| m.pickup_location.as_deref()),
            delivery_instructions: &shipment.instructions,
        });
    }
    let allocation_rows: Vec<AllocationRow> = taken
        .iter()
        .filter_map(|r| {
            let line = line_ids.iter().find(|(v, _)| *v == r.variant_id)?.1;
            Some(AllocationRow {
                id: AllocationId::new(),
                order_line_id: line,
                variant_id: r.variant_id,
                location_id: r.location_id,
                quantity: r.quantity,
            })
        })
        .collect();
    let total = totals.total;

    Prepared(
        diesel::sql_query(
            "INSERT INTO orders.orders (tenant_id, id, number, cart_id, idempotency_key, customer_id,
                email, currency, subtotal, discount_total, shipping_total, tax_total, total,
                shipping_address, billing_address, delivery_instructions, discount_code,
                company_id, purchase_order_number, tax_exemption_id, tax_exemption_number,
                payment_due_days)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21, $22)",
        )
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(order_id)
        .bind::<BigInt, _>(number)
        .bind::<SqlUuid, _>(cart.id)
        .bind::<Text, _>(key)
        .bind::<Nullable<SqlUuid>, _>(cart.customer_id)
        .bind::<Nullable<Text>, _>(cart.email.as_deref())
        .bind::<Text, _>(&cart.currency)
        .bind::<BigInt, _>(totals.subtotal)
        .bind::<BigInt, _>(totals.discount_total)
        .bind::<BigInt, _>(totals.shipping_total)
        .bind::<BigInt, _>(totals.tax_total)
        .bind::<BigInt, _>(total)
        .bind::<Nullable<Jsonb>, _>(cart.shipping_address.as_ref())
        .bind::<Nullable<Jsonb>, _>(cart.billing_address.as_ref())
        .bind::<Text, _>(&cart.delivery_instructions)
        .bind::<Nullable<Text>, _>(cart.discount_code.as_deref())
        .bind::<Nullable<SqlUuid>, _>(account.company_id)
        .bind::<Nullable<Text>, _>(account.purchase_order.as_deref())
        .bind::<Nullable<SqlUuid>, _>(priced.terms.exemption.as_ref().map(|e| e.id))
        .bind::<Nullable<Text>, _>(priced.terms.exemption.as_ref().map(|e| e.number.as_str()))
        .bind::<Nullable<Integer>, _>(account.due_days),
    )
    .execute(tx.conn())
    .await
    .map_err(|e| {
        Failure::on_unique("orders_idempotency_key", e, || {
            UserError::new(
                "idempotencyKey",
                Code::IdempotencyKeyReused,
                "this idempotency key was used for another cart",
            )
        })
    })?;
    insert_rows(
        tx,
        "INSERT INTO orders.vendor_orders (tenant_id, id, order_id, vendor_id, subtotal,
            discount_total, shipping_total, tax_total, total, shipping_method_id,
            shipping_method_name, shipping_kind, pickup_location, delivery_instructions)
         SELECT $1, r.id, $2, r.vendor_id, r.subtotal, r.discount_total, r.shipping_total,
            r.tax_total, r.total, r.shipping_method_id, r.shipping_method_name, r.shipping_kind,
            r.pickup_location, r.delivery_instructions
         FROM jsonb_to_recordset($3) AS r(id uuid, vendor_id uuid, subtotal bigint,
            discount_total bigint, shipping_total bigint, tax_total bigint, total bigint,
            shipping_method_id uuid, shipping_method_name text, shipping_kind text,
            pickup_location text, delivery_instructions text)",
        tenant,
        order_id,
        &vendor_rows,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO orders.order_lines (tenant_id, id, order_id, vendor_order_id, position,
            variant_id, product_id, product_title, variant_title, sku, quantity, unit_price,
            compare_at_unit_price, price_rule, subtotal, discount_total, tax_total, tax_rate,
            tax_inclusive, total, gift_wrap, gift_message, booking_id, service_id, starts_at,
            ends_at)
         SELECT $1, r.id, $2, r.vendor_order_id, r.position, r.variant_id, r.product_id,
            r.product_title, r.variant_title, r.sku, r.quantity, r.unit_price,
            r.compare_at_unit_price, r.price_rule, r.subtotal, r.discount_total, r.tax_total,
            r.tax_rate, r.tax_inclusive, r.total, r.gift_wrap, r.gift_message, r.booking_id,
            r.service_id, r.starts_at, r.ends_at
         FROM jsonb_to_recordset($3) AS r(id uuid, vendor_order_id uuid, position int,
            variant_id uuid, product_id uuid, product_title text, variant_title text, sku text,
            quantity int, unit_price bigint, compare_at_unit_price bigint, price_rule text,
            subtotal bigint, discount_total bigint, tax_total bigint, tax_rate int,
            tax_inclusive boolean, total bigint, gift_wrap boolean, gift_message text,
            booking_id uuid, service_id uuid, starts_at timestamptz, ends_at timestamptz)",
        tenant,
        order_id,
        &line_rows,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO orders.allocations (tenant_id, id, order_id, order_line_id, variant_id,
            location_id, quantity)
         SELECT $1, r.id, $2, r.order_line_id, r.variant_id, r.location_id, r.quantity
         FROM jsonb_to_recordset($3) AS r(id uuid, order_line_id uuid, variant_id uuid,
            location_id uuid, quantity int)",
        tenant,
        order_id,
        &allocation_rows,
    )
    .await?;

    // The discount code's use, counted under the lock taken before pricing.
    if let (Some(Ok(amount)), Some(state)) = (&totals.discount, &priced.terms.discount) {
        discounts::redeem(
            tx,
            state.code.id,
            order_id,
            cart.customer_id,
            cart.email.as_deref(),
            *amount,
        )
        .await?;
    }

    // The payment: a manual one is recorded as expected; a card's intent is created after commit.
    let payment_id = PaymentId::new();
    let (provider, answer) = if method == PaymentMethod::Card {
        let pending = Answer {
            status: PaymentStatus::Pending,
            reference: None,
            client_secret: None,
        };
        (ProviderKind::Stripe, pending)
    } else {
        let charge = Charge {
            tenant_id: tenant,
            order_id,
            payment_id,
            amount: total,
            currency: cart.currency.code(),
            method,
            idempotency_key: key,
        };
        let answer = Manual
            .authorize(&charge)
            .await
            .map_err(ApiError::internal)?;
        (Manual.kind(), answer)
    };
    Prepared(
        diesel::sql_query(
            "INSERT INTO orders.payments (tenant_id, id, order_id, provider, method, status,
                currency, amount, provider_reference)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind::<SqlUuid, _>(tenant)
        .bind::<SqlUuid, _>(payment_id)
        .bind::<SqlUuid, _>(order_id)
        .bind::<Text, _>(provider)
        .bind::<Text, _>(method)
        .bind::<Text, _>(answer.status)
        .bind::<Text, _>(&cart.currency)
        .bind::<BigInt, _>(total)
        .bind::<Nullable<Text>, _>(answer.reference.as_deref()),
    )
    .execute(tx.conn())
    .await?;

    let event = OrderPlaced {
        order_id,
        number,
        customer_id: cart.customer_id,
        currency: cart.currency,
        subtotal: totals.subtotal,
        discount_total: totals.discount_total,
        discount_code: cart.discount_code.as_deref(),
        shipping_total: totals.shipping_total,
        tax_total: totals.tax_total,
        total,
        payment_method: method.as_str(),
        company_id: account.company_id,
        purchase_order_number: account.purchase_order.as_deref(),
        vendor_orders: &vendor_rows,
        lines: line_rows
            .iter()
            .map(|l| PlacedLine {
                variant_id: l.variant_id,
                product_id: l.product_id,
                booking_id: l.booking_id,
                quantity: l.quantity,
                total: l.total,
                vendor_order_id: l.vendor_order_id,
            })
            .collect(),
    };
    crate::OUTBOX.publish(tx, order_id, &event).await?;
    diesel::update(carts_table::table.filter(carts_table::id.eq(cart.id)))
        .set((
            carts_table::status.eq(CartStatus::Completed),
            carts_table::order_id.eq(order_id),
            carts_table::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    let order = orders::reread(tx, order_id).await?;
    if method == PaymentMethod::OnAccount {
        // On credit: accepted at once, invoiced now and due after the company's NET days; its
        // bookings count as paid (the company owes them on its invoice).
        orders::set_status(tx, &order, orders::OrderStatus::Confirmed, None).await?;
        orders::bookings_paid(tx, order_id).await?;
        return orders::reread(tx, order_id).await;
    }
    Ok(order)
}

/// Inserts a JSON row set with one statement; `$1` is the tenant, `$2` the order, `$3` the rows.
async fn insert_rows<T: Serialize>(
    tx: &mut TenantTx<'_>,
    sql: &'static str,
    tenant: TenantId,
    order: OrderId,
    rows: &[T],
) -> Outcome<()> {
    let rows = serde_json::to_value(rows).map_err(ApiError::internal)?;
    Prepared(
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(tenant)
            .bind::<SqlUuid, _>(order)
            .bind::<Jsonb, _>(rows),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// `order.placed`: checkout placed an order, split by vendor.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced<'a> {
    pub order_id: OrderId,
    pub number: i64,
    pub customer_id: Option<UserId>,
    pub currency: cityos_core::money::Currency,
    pub subtotal: i64,
    pub discount_total: i64,
    pub discount_code: Option<&'a str>,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub payment_method: &'a str,
    /// The B2B company the order was bought for.
    pub company_id: Option<crate::ids::CompanyId>,
    pub purchase_order_number: Option<&'a str>,
    /// The order's parts, one per vendor.
    pub vendor_orders: &'a [VendorOrderRow<'a>],
    pub lines: Vec<PlacedLine>,
}

/// One line of [`OrderPlaced`]: a variant's units, or a booking's seats (with its service's
/// linked product, if any).
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PlacedLine {
    pub variant_id: Option<VariantId>,
    pub product_id: Option<ProductId>,
    pub booking_id: Option<BookingId>,
    pub quantity: i32,
    pub total: i64,
    pub vendor_order_id: VendorOrderId,
}

impl FixedTopic for OrderPlaced<'_> {
    const TOPIC: &'static str = "order.placed";
}
