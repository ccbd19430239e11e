//! Orders, their vendor orders, lines, allocations and fulfilments: reads and the order's
//! lifecycle.
//!
//! An order's status is a state machine ([`OrderStatus::can_become`]):
//!
//! ```text
//! PENDING -> CONFIRMED -> PROCESSING -> COMPLETED
//!    |           |
//!    +-----------+--> CANCELLED
//! ```
//!
//! PENDING: placed, awaiting payment or confirmation. CONFIRMED: paid, or cash on delivery
//! accepted by staff. PROCESSING: the first vendor order has shipped. COMPLETED: every vendor
//! order was delivered. CANCELLED: stopped before anything shipped; its stock goes back where it
//! was taken and its uncaptured payment is released. Each vendor order moves UNFULFILLED ->
//! SHIPPED -> DELIVERED (or CANCELLED with its order). Every transition writes an outbox event in
//! its transaction.

pub mod graphql;
pub mod invoices;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, optional_text};
use crate::ids::{
    AllocationId, CartId, FulfillmentId, LocationId, OrderId, OrderLineId, PaymentId, ProductId,
    ShippingMethodId, TenantId, UserId, VariantId, VendorId, VendorOrderId,
};
use crate::payments::{
    Gateway, Manual, Payment, PaymentMethod, PaymentProvider, PaymentStatus, ProviderKind,
};
use crate::schema::{allocations, fulfillments, orders, payments, vendor_orders};
use crate::shipping::ShippingKind;
use catalog::api::PriceRule;
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext};
use cityos_db::TenantTx;
use cityos_db::audit::Audit;
use cityos_db::outbox::{FixedTopic, Topic, lifecycle_topic};
use cityos_db::{Database, Prepared};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Where an order stands.
    pub enum OrderStatus {
        /// Placed; awaiting payment or confirmation.
        Pending = "PENDING",
        /// Paid, or accepted for cash on delivery.
        Confirmed = "CONFIRMED",
        /// Being fulfilled: at least one vendor order has shipped.
        Processing = "PROCESSING",
        /// Every vendor order was delivered.
        Completed = "COMPLETED",
        /// Stopped before anything shipped; stock went back and the payment was released.
        Cancelled = "CANCELLED",
    }
    transitions {
        Pending -> Confirmed | Cancelled,
        Confirmed -> Processing | Cancelled,
        Processing -> Completed,
    }
}

cityos_core::states! {
    /// Where an order's money stands.
    pub enum OrderPaymentStatus {
        /// Nothing is held or taken yet.
        Unpaid = "UNPAID",
        /// The provider holds the total.
        Authorized = "AUTHORIZED",
        /// The total was taken.
        Paid = "PAID",
        /// Part of what was taken was paid back.
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        /// Everything taken was paid back.
        Refunded = "REFUNDED",
        /// The provider refused the payment.
        Failed = "FAILED",
        /// The payment was released when the order was cancelled.
        Voided = "VOIDED",
    }
}

cityos_core::states! {
    /// Where one vendor's part of an order stands.
    pub enum VendorOrderStatus {
        /// Not shipped yet.
        Unfulfilled = "UNFULFILLED",
        /// Handed to a carrier.
        Shipped = "SHIPPED",
        /// Received by the customer.
        Delivered = "DELIVERED",
        /// Cancelled with its order.
        Cancelled = "CANCELLED",
    }
}

/// An order as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Order {
    #[diesel(sql_type = SqlUuid)]
    pub tenant_id: TenantId,
    #[diesel(sql_type = SqlUuid)]
    pub id: OrderId,
    #[diesel(sql_type = BigInt)]
    pub number: i64,
    #[diesel(sql_type = SqlUuid)]
    pub cart_id: CartId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_id: Option<UserId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = Text)]
    pub status: OrderStatus,
    #[diesel(sql_type = Text)]
    pub payment_status: OrderPaymentStatus,
    #[diesel(sql_type = BigInt)]
    pub subtotal: i64,
    #[diesel(sql_type = BigInt)]
    pub discount_total: i64,
    #[diesel(sql_type = BigInt)]
    pub shipping_total: i64,
    #[diesel(sql_type = BigInt)]
    pub tax_total: i64,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub shipping_address: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub billing_address: Option<serde_json::Value>,
    #[diesel(sql_type = Text)]
    pub delivery_instructions: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub cancel_reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub placed_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub discount_code: Option<String>,
}

/// The columns of [`Order`], from `orders.orders o`.
macro_rules! order_columns {
    () => {
        "o.tenant_id, o.id, o.number, o.cart_id, o.customer_id, o.email, o.currency, o.status,
         o.payment_status, o.subtotal, o.discount_total, o.shipping_total, o.tax_total, o.total,
         o.shipping_address, o.billing_address, o.delivery_instructions, o.cancel_reason,
         o.placed_at, o.updated_at, o.discount_code"
    };
}

/// One vendor's part of an order.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = vendor_orders, check_for_backend(diesel::pg::Pg))]
pub struct VendorOrder {
    pub tenant_id: TenantId,
    pub id: VendorOrderId,
    pub order_id: OrderId,
    pub vendor_id: Option<VendorId>,
    pub status: VendorOrderStatus,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub total: i64,
    pub shipping_method_id: Option<ShippingMethodId>,
    pub shipping_method_name: Option<String>,
    pub shipping_kind: Option<ShippingKind>,
    pub pickup_location: Option<String>,
    pub delivery_instructions: String,
}

/// A line as bought.
#[derive(QueryableByName, Debug, Clone)]
pub struct OrderLine {
    #[diesel(sql_type = SqlUuid)]
    pub id: OrderLineId,
    #[diesel(sql_type = SqlUuid)]
    pub order_id: OrderId,
    #[diesel(sql_type = SqlUuid)]
    pub vendor_order_id: VendorOrderId,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = SqlUuid)]
    pub product_id: ProductId,
    #[diesel(sql_type = Text)]
    pub product_title: String,
    #[diesel(sql_type = Text)]
    pub variant_title: String,
    #[diesel(sql_type = Text)]
    pub sku: String,
    #[diesel(sql_type = Integer)]
    pub quantity: i32,
    #[diesel(sql_type = BigInt)]
    pub unit_price: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub compare_at_unit_price: Option<i64>,
    #[diesel(sql_type = Text)]
    pub price_rule: PriceRule,
    #[diesel(sql_type = BigInt)]
    pub subtotal: i64,
    #[diesel(sql_type = BigInt)]
    pub discount_total: i64,
    #[diesel(sql_type = BigInt)]
    pub tax_total: i64,
    /// Basis points.
    #[diesel(sql_type = Integer)]
    pub tax_rate: i32,
    #[diesel(sql_type = Bool)]
    pub tax_inclusive: bool,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = Bool)]
    pub gift_wrap: bool,
    #[diesel(sql_type = Nullable<Text>)]
    pub gift_message: Option<String>,
}

/// Units of a line taken from one stock location.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = allocations, check_for_backend(diesel::pg::Pg))]
pub struct Allocation {
    pub id: AllocationId,
    pub order_id: OrderId,
    pub order_line_id: OrderLineId,
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub quantity: i32,
    pub restocked: i32,
}

/// A shipment of one vendor order.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = fulfillments, check_for_backend(diesel::pg::Pg))]
pub struct Fulfillment {
    pub id: FulfillmentId,
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub carrier: String,
    pub tracking_number: String,
    pub shipped_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Orders by id (those of the transaction's tenant).
pub async fn by_ids(tx: &mut TenantTx<'_>, ids: &[OrderId]) -> QueryResult<Vec<Order>> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders.orders o WHERE o.id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await
}

/// The order checked out with `key`, if any.
pub async fn by_idempotency_key(tx: &mut TenantTx<'_>, key: &str) -> QueryResult<Option<Order>> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders.orders o WHERE o.idempotency_key = $1"
        ))
        .bind::<Text, _>(key),
    )
    .get_result(tx.conn())
    .await
    .optional()
}

/// The lines of orders, by order, in position order.
pub async fn lines_of(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<OrderLine>>> {
    let rows: Vec<OrderLine> = Prepared(
        diesel::sql_query(
            "SELECT l.id, l.order_id, l.vendor_order_id, l.position, l.variant_id, l.product_id,
                l.product_title, l.variant_title, l.sku, l.quantity, l.unit_price,
                l.compare_at_unit_price, l.price_rule, l.subtotal, l.discount_total, l.tax_total,
                l.tax_rate, l.tax_inclusive, l.total, l.gift_wrap, l.gift_message
             FROM orders.order_lines l WHERE l.order_id = ANY ($1) ORDER BY l.order_id, l.position",
        )
        .bind::<Array<SqlUuid>, _>(orders),
    )
    .load(tx.conn())
    .await?;
    Ok(group(rows, |l| l.order_id))
}

/// The vendor orders of orders, by order.
pub async fn vendor_orders_of(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<VendorOrder>>> {
    let rows = vendor_orders::table
        .filter(vendor_orders::order_id.eq_any(orders))
        .order(vendor_orders::id)
        .select(VendorOrder::as_select())
        .load(tx.conn())
        .await?;
    Ok(group(rows, |v| v.order_id))
}

/// The payments of orders, by order, oldest first.
pub async fn payments_of(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<Payment>>> {
    let rows = payments::table
        .filter(payments::order_id.eq_any(orders))
        .order(payments::id)
        .select(Payment::as_select())
        .load(tx.conn())
        .await?;
    Ok(group(rows, |p| p.order_id))
}

/// The fulfilments of vendor orders, by vendor order.
pub async fn fulfillments_of(
    tx: &mut TenantTx<'_>,
    vendor_orders: &[VendorOrderId],
) -> QueryResult<HashMap<VendorOrderId, Vec<Fulfillment>>> {
    let rows = fulfillments::table
        .filter(fulfillments::vendor_order_id.eq_any(vendor_orders))
        .order(fulfillments::id)
        .select(Fulfillment::as_select())
        .load(tx.conn())
        .await?;
    Ok(group(rows, |f| f.vendor_order_id))
}

/// Rows grouped by `key` (an order, a return, a dispute), each group in the rows' order.
pub fn group<K: Eq + std::hash::Hash, T>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
) -> HashMap<K, Vec<T>> {
    let mut grouped: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

/// A page of orders, newest first: a customer's own, or (staff) the tenant's, optionally in one
/// status.
pub async fn page(
    db: &Database,
    tenant: TenantId,
    customer: Option<UserId>,
    status: Option<OrderStatus>,
    page: PageRequest<OrderId>,
) -> Result<Page<Order>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        let mut ids = orders::table.select(orders::id).into_boxed();
        let mut count = orders::table.count().into_boxed();
        if let Some(customer) = customer {
            ids = ids.filter(orders::customer_id.eq(customer));
            count = count.filter(orders::customer_id.eq(customer));
        }
        if let Some(status) = status {
            ids = ids.filter(orders::status.eq(status));
            count = count.filter(orders::status.eq(status));
        }
        let ids: Vec<OrderId> = cityos_db::keyset_page!(ids, orders::id, page, newest_first)
            .load(tx.conn())
            .await?;
        let total: i64 = count.get_result(tx.conn()).await?;
        let mut found = by_ids(tx, &ids).await?;
        found.sort_by_key(|o| std::cmp::Reverse(o.id));
        if page.backward {
            found.reverse();
        }
        Ok(page.finish(found, |o| o.id, total))
    })
    .await
}

/// The order `id`, locked for the transaction.
pub(crate) async fn locked(tx: &mut TenantTx<'_>, id: OrderId, field: &str) -> Outcome<Order> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders.orders o WHERE o.id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .get_result(tx.conn())
    .await
    .optional()?
    .ok_or_else(|| UserError::new(field, Code::NotFound, "no such order").into())
}

fn transition_refused(from: OrderStatus, to: OrderStatus) -> UserError {
    UserError::new(
        "",
        Code::InvalidTransition,
        format!(
            "an order that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        ),
    )
}

/// Moves a locked order to `to` (checked against the transition table) and writes
/// `order.<to>` to the outbox.
pub(crate) async fn set_status(
    tx: &mut TenantTx<'_>,
    order: &Order,
    to: OrderStatus,
    cancel_reason: Option<&str>,
) -> Outcome<()> {
    let from = order.status;
    if !from.can_become(to) {
        return Err(transition_refused(from, to).into());
    }
    diesel::update(orders::table.filter(orders::id.eq(order.id)))
        .set((
            orders::status.eq(to),
            orders::cancel_reason.eq(cancel_reason),
            orders::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    let event = OrderMoved {
        order_id: order.id,
        number: order.number,
        from,
        to,
        reason: cancel_reason,
    };
    crate::OUTBOX.publish(tx, order.id, &event).await?;
    if to == OrderStatus::Confirmed {
        invoices::issue(tx, order).await?;
    }
    Ok(())
}

pub(crate) async fn reread(tx: &mut TenantTx<'_>, id: OrderId) -> Outcome<Order> {
    by_ids(tx, &[id])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("an order vanished in its own transaction").into())
}

/// Confirms a PENDING order (staff): it must be paid or authorized, or be paid cash on delivery.
pub async fn confirm(db: &Database, ctx: &RequestContext, id: OrderId) -> Outcome<Order> {
    db.staff(ctx, "order.confirm", async move |tx| {
        let order = locked(tx, id, "orderId").await?;
        let paid = matches!(order.payment_status.as_str(), "AUTHORIZED" | "PAID");
        let cod = payments_of(tx, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default()
            .iter()
            .any(|p| p.method == PaymentMethod::CashOnDelivery);
        if order.status == OrderStatus::Pending && !paid && !cod {
            return Err(UserError::new(
                "orderId",
                Code::InvalidTransition,
                "the order is not paid yet",
            )
            .into());
        }
        set_status(tx, &order, OrderStatus::Confirmed, None).await?;
        let value = reread(tx, id).await?;
        let audit = Audit::of(id, serde_json::json!({ "number": value.number }));
        Ok((value, audit))
    })
    .await
}

/// Cancels an order that has not shipped: staff any, a customer their own while PENDING. Its
/// stock goes back to the locations it came from and an uncaptured payment is released; an order
/// with captured money must be refunded first.
pub async fn cancel(
    db: &Database,
    ctx: &RequestContext,
    id: OrderId,
    reason: Option<String>,
    gateway: &Gateway,
) -> Outcome<Order> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff {
        ctx.user_id()?;
    }
    let reason = optional_text::<500>(reason, "reason", "a reason has at most 500 characters")?;
    let (order, card_intents) = db
        .tenant_tx(tenant, async move |tx| {
            let order = locked(tx, id, "orderId").await?;
            if !staff {
                if order.customer_id != caller {
                    return Err(UserError::new("orderId", Code::NotFound, "no such order").into());
                }
                if order.status != OrderStatus::Pending {
                    return Err(UserError::new(
                        "orderId",
                        Code::InvalidTransition,
                        "only a pending order can be cancelled by its customer; ask the shop",
                    )
                    .into());
                }
            }
            let payments = payments_of(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            if payments.iter().any(|p| p.captured_amount > 0) {
                return Err(UserError::new(
                    "orderId",
                    Code::PaymentCaptured,
                    "money was taken for this order: refund it before cancelling",
                )
                .into());
            }
            set_status(tx, &order, OrderStatus::Cancelled, reason.as_deref()).await?;
            let mut card_intents = Vec::new();
            for payment in payments {
                if matches!(
                    payment.status,
                    PaymentStatus::Pending | PaymentStatus::Authorized
                ) {
                    if payment.provider == ProviderKind::Manual {
                        Manual.cancel(&payment).await.map_err(ApiError::internal)?;
                    } else {
                        card_intents.push(payment.clone());
                    }
                    diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                        .set((
                            payments::status.eq(PaymentStatus::Cancelled.as_str()),
                            payments::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(tx.conn())
                        .await?;
                }
            }
            diesel::update(orders::table.filter(orders::id.eq(id)))
                .set(orders::payment_status.eq(OrderPaymentStatus::Voided))
                .execute(tx.conn())
                .await?;
            diesel::update(vendor_orders::table.filter(vendor_orders::order_id.eq(id)))
                .set(vendor_orders::status.eq(VendorOrderStatus::Cancelled))
                .execute(tx.conn())
                .await?;
            // The code's row before stock rows: checkout's lock order.
            crate::discounts::release(tx, id).await?;
            invoices::void(tx, id).await?;
            restock_all(tx, &order, caller).await?;
            Ok::<_, cityos_core::Failure<Code>>((reread(tx, id).await?, card_intents))
        })
        .await?;
    // Card intents are released at Stripe after the commit. Should the customer have paid in the
    // meantime, Stripe's `payment_intent.succeeded` still records the capture on the cancelled
    // order, for staff to refund.
    if let Some(stripe) = &gateway.stripe {
        for payment in card_intents {
            if let Err(error) = stripe.cancel(&payment).await {
                tracing::warn!(%error, payment = %payment.id, "releasing a card payment at Stripe failed");
            }
        }
    }
    Ok(order)
}

/// Puts every unit of a cancelled order back where it was taken from.
async fn restock_all(tx: &mut TenantTx<'_>, order: &Order, actor: Option<UserId>) -> Outcome<()> {
    let mut taken: Vec<Allocation> = allocations::table
        .filter(allocations::order_id.eq(order.id))
        .select(Allocation::as_select())
        .for_update()
        .load(tx.conn())
        .await?;
    // The catalog's lock order: variant, then location.
    taken.sort_by_key(|a| (a.variant_id, a.location_id));
    let reference = format!("order {} cancelled", order.number);
    for a in &taken {
        let left = a.quantity - a.restocked;
        if left > 0 {
            catalog::api::restock(tx, a.variant_id, a.location_id, left, &reference, actor)
                .await
                .map_err(ApiError::internal)?;
        }
    }
    diesel::update(allocations::table.filter(allocations::order_id.eq(order.id)))
        .set(allocations::restocked.eq(allocations::quantity))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The payment `id` and its order, locked in that order (order first, as everywhere).
pub async fn locked_payment(tx: &mut TenantTx<'_>, id: PaymentId) -> Outcome<(Order, Payment)> {
    let order: Option<OrderId> = payments::table
        .filter(payments::id.eq(id))
        .select(payments::order_id)
        .first(tx.conn())
        .await
        .optional()?;
    let not_found = || UserError::new("paymentId", Code::NotFound, "no such payment");
    let order = locked(tx, order.ok_or_else(not_found)?, "paymentId").await?;
    let payment = payments::table
        .filter(payments::id.eq(id))
        .select(Payment::as_select())
        .for_update()
        .first(tx.conn())
        .await?;
    Ok((order, payment))
}

/// Records that a manual payment's money arrived (staff): the payment is CAPTURED, the order
/// PAID, and a PENDING order CONFIRMED.
pub async fn capture_payment(db: &Database, ctx: &RequestContext, id: PaymentId) -> Outcome<Order> {
    db.staff(ctx, "payment.capture", async move |tx| {
        let (order, payment) = locked_payment(tx, id).await?;
        if payment.provider != ProviderKind::Manual {
            return Err(UserError::new(
                "paymentId",
                Code::InvalidPaymentMethod,
                "card payments are captured by their provider",
            )
            .into());
        }
        if !matches!(
            payment.status,
            PaymentStatus::Pending | PaymentStatus::Authorized
        ) {
            return Err(UserError::new(
                "paymentId",
                Code::AlreadyPaid,
                format!("the payment is already {}", payment.status),
            )
            .into());
        }
        if order.status == OrderStatus::Cancelled {
            return Err(transition_refused(OrderStatus::Cancelled, OrderStatus::Confirmed).into());
        }
        let answer = Manual
            .capture(&payment, payment.amount)
            .await
            .map_err(ApiError::internal)?;
        diesel::update(payments::table.filter(payments::id.eq(id)))
            .set((
                payments::status.eq(answer.status),
                payments::captured_amount.eq(payment.amount),
                payments::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        diesel::update(orders::table.filter(orders::id.eq(order.id)))
            .set((
                orders::payment_status.eq(OrderPaymentStatus::Paid),
                orders::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        let event = PaymentCaptured {
            order_id: order.id,
            payment_id: id,
            amount: payment.amount,
            currency: payment.currency,
            provider: "MANUAL",
            order_cancelled: false,
        };
        crate::OUTBOX.publish(tx, id, &event).await?;
        if order.status == OrderStatus::Pending {
            set_status(tx, &order, OrderStatus::Confirmed, None).await?;
        }
        invoices::mark_paid(tx, order.id).await?;
        let value = reread(tx, order.id).await?;
        let audit = Audit::of(id, serde_json::json!({ "order": value.id }));
        Ok((value, audit))
    })
    .await
}

/// Ships a vendor order (staff): carrier and tracking number recorded, the vendor order SHIPPED,
/// and a CONFIRMED order PROCESSING.
pub async fn ship(
    db: &Database,
    ctx: &RequestContext,
    vendor_order: VendorOrderId,
    carrier: String,
    tracking_number: String,
) -> Outcome<Fulfillment> {
    db.staff(ctx, "vendor_order.ship", async move |tx| {
        let tenant = tx.tenant();
        let carrier = carrier.trim().to_owned();
        let tracking_number = tracking_number.trim().to_owned();
        for (field, text) in [("carrier", &carrier), ("trackingNumber", &tracking_number)] {
            if text.is_empty() || text.chars().count() > 100 {
                return Err(
                    UserError::new(field, Code::InvalidText, "give 1 to 100 characters").into(),
                );
            }
        }
        // The order's lock first (every transition's lock order), then the vendor order as it is
        // under that lock: a racing shipment has either finished or not started.
        let order_id: Option<OrderId> = vendor_orders::table
            .filter(vendor_orders::id.eq(vendor_order))
            .select(vendor_orders::order_id)
            .first(tx.conn())
            .await
            .optional()?;
        let order = locked(tx, order_id.ok_or_else(no_vendor_order)?, "vendorOrderId").await?;
        let part = vendor_order_of(tx, vendor_order).await?;
        let status = order.status;
        if !matches!(status, OrderStatus::Confirmed | OrderStatus::Processing) {
            return Err(UserError::new(
                "vendorOrderId",
                Code::InvalidTransition,
                format!("an order that is {} cannot ship", status.as_str()),
            )
            .into());
        }
        if part.status != VendorOrderStatus::Unfulfilled {
            return Err(UserError::new(
                "vendorOrderId",
                Code::InvalidTransition,
                format!("this vendor order is already {}", part.status),
            )
            .into());
        }
        diesel::update(vendor_orders::table.filter(vendor_orders::id.eq(part.id)))
            .set(vendor_orders::status.eq(VendorOrderStatus::Shipped))
            .execute(tx.conn())
            .await?;
        let shipped: Fulfillment = diesel::insert_into(fulfillments::table)
            .values((
                fulfillments::tenant_id.eq(tenant),
                fulfillments::id.eq(FulfillmentId::new()),
                fulfillments::order_id.eq(order.id),
                fulfillments::vendor_order_id.eq(part.id),
                fulfillments::carrier.eq(&carrier),
                fulfillments::tracking_number.eq(&tracking_number),
            ))
            .returning(Fulfillment::as_returning())
            .get_result(tx.conn())
            .await?;
        let event = FulfillmentCreated {
            order_id: order.id,
            vendor_order_id: part.id,
            vendor_id: part.vendor_id,
            fulfillment_id: shipped.id,
            carrier: &carrier,
            tracking_number: &tracking_number,
        };
        crate::OUTBOX.publish(tx, shipped.id, &event).await?;
        if status == OrderStatus::Confirmed {
            set_status(tx, &order, OrderStatus::Processing, None).await?;
        }
        let audit = Audit::of(vendor_order, serde_json::json!({ "carrier": shipped.carrier, "trackingNumber": shipped.tracking_number }));
        Ok((shipped, audit))
    })
    .await
}

/// Records a delivery (staff): the vendor order DELIVERED and, once every vendor order of the
/// order is, the order COMPLETED.
pub async fn deliver(
    db: &Database,
    ctx: &RequestContext,
    fulfillment: FulfillmentId,
) -> Outcome<Fulfillment> {
    db.staff(ctx, "fulfillment.deliver", async move |tx| {
        // The order's lock first, then the fulfilment as it is under that lock: a racing
        // delivery has either finished or not started.
        let not_found = || UserError::new("fulfillmentId", Code::NotFound, "no such fulfilment");
        let order_id: Option<OrderId> = fulfillments::table
            .filter(fulfillments::id.eq(fulfillment))
            .select(fulfillments::order_id)
            .first(tx.conn())
            .await
            .optional()?;
        let order = locked(tx, order_id.ok_or_else(not_found)?, "fulfillmentId").await?;
        let found: Fulfillment = fulfillments::table
            .filter(fulfillments::id.eq(fulfillment))
            .select(Fulfillment::as_select())
            .first(tx.conn())
            .await?;
        if found.delivered_at.is_some() {
            return Err(UserError::new(
                "fulfillmentId",
                Code::InvalidTransition,
                "this fulfilment was delivered already",
            )
            .into());
        }
        let delivered: Fulfillment =
            diesel::update(fulfillments::table.filter(fulfillments::id.eq(fulfillment)))
                .set(fulfillments::delivered_at.eq(diesel::dsl::now))
                .returning(Fulfillment::as_returning())
                .get_result(tx.conn())
                .await?;
        diesel::update(vendor_orders::table.filter(vendor_orders::id.eq(found.vendor_order_id)))
            .set(vendor_orders::status.eq(VendorOrderStatus::Delivered))
            .execute(tx.conn())
            .await?;
        let event = FulfillmentDelivered {
            order_id: order.id,
            vendor_order_id: found.vendor_order_id,
            fulfillment_id: fulfillment,
        };
        crate::OUTBOX.publish(tx, fulfillment, &event).await?;
        let open: i64 = vendor_orders::table
            .filter(vendor_orders::order_id.eq(order.id))
            .filter(vendor_orders::status.ne_all(["DELIVERED", "CANCELLED"]))
            .count()
            .get_result(tx.conn())
            .await?;
        if open == 0 && order.status == OrderStatus::Processing {
            set_status(tx, &order, OrderStatus::Completed, None).await?;
        }
        let audit = Audit::of(fulfillment, serde_json::json!({}));
        Ok((delivered, audit))
    })
    .await
}

fn no_vendor_order() -> UserError {
    UserError::new("vendorOrderId", Code::NotFound, "no such vendor order")
}

async fn vendor_order_of(tx: &mut TenantTx<'_>, id: VendorOrderId) -> Outcome<VendorOrder> {
    vendor_orders::table
        .filter(vendor_orders::id.eq(id))
        .select(VendorOrder::as_select())
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| no_vendor_order().into())
}

/// `order.<status>` (`order.confirmed`, `order.cancelled`, ...): an order moved on.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderMoved<'a> {
    pub order_id: OrderId,
    pub number: i64,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub reason: Option<&'a str>,
}

impl Topic for OrderMoved<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("order", self.to.as_str())
    }
}

/// `payment.captured`: a payment's money arrived, by card (through the provider's webhook) or
/// recorded by staff for a manual payment.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCaptured {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub amount: i64,
    pub currency: Currency,
    /// `STRIPE` or `MANUAL`.
    pub provider: &'static str,
    /// Whether the order had been cancelled meanwhile (its money is then to be refunded).
    pub order_cancelled: bool,
}

impl FixedTopic for PaymentCaptured {
    const TOPIC: &'static str = "payment.captured";
}

/// `fulfillment.created`: a vendor order was shipped.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentCreated<'a> {
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: Option<VendorId>,
    pub fulfillment_id: FulfillmentId,
    pub carrier: &'a str,
    pub tracking_number: &'a str,
}

impl FixedTopic for FulfillmentCreated<'_> {
    const TOPIC: &'static str = "fulfillment.created";
}

/// `fulfillment.delivered`: a shipment arrived.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentDelivered {
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub fulfillment_id: FulfillmentId,
}

impl FixedTopic for FulfillmentDelivered {
    const TOPIC: &'static str = "fulfillment.delivered";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_lifecycle_is_the_transition_table() {
        use OrderStatus::*;
        let allowed: Vec<(OrderStatus, OrderStatus)> = OrderStatus::ALL
            .iter()
            .flat_map(|a| OrderStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Confirmed),
                (Pending, Cancelled),
                (Confirmed, Processing),
                (Confirmed, Cancelled),
                (Processing, Completed)
            ]
        );
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Ok(*s));
        }
    }
}
