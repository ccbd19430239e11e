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

mod delivery;
pub mod graphql;
pub mod invoices;
mod lifecycle;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{
    AllocationId, BookingId, CartId, CompanyId, FulfillmentId, InvoiceId, InvoicePaymentId,
    LocationId, OrderId, OrderLineId, PaymentId, ProductId, ServiceId, ShippingMethodId, TenantId,
    UserId, VariantId, VendorId, VendorOrderId,
};
use crate::payments::{
    Manual, Payment, PaymentMethod, PaymentProvider, PaymentStatus, ProviderKind,
};
use crate::schema::{allocations, fulfillments, orders, payments, vendor_orders};
use crate::shipping::ShippingKind;
use catalog::api::PriceRule;
use chrono::{DateTime, Utc};
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, Prepared, TenantTx};
pub use delivery::{FulfillmentCreated, FulfillmentDelivered, deliver, ship};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use lifecycle::transition_refused;
pub use lifecycle::{OrderMoved, cancel, confirm};
pub(crate) use lifecycle::{locked, reread, set_status};
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
    /// The B2B company it was bought for.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub company_id: Option<CompanyId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub purchase_order_number: Option<String>,
    /// The company's tax exemption certificate that applied (its id and number).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub tax_exemption_id: Option<vendors::api::TaxExemptionId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tax_exemption_number: Option<String>,
    /// Days its invoice gives to pay; `None`: the default term.
    #[diesel(sql_type = Nullable<Integer>)]
    pub payment_due_days: Option<i32>,
}

/// The columns of [`Order`], from `orders.orders o`.
macro_rules! order_columns {
    () => {
        "o.tenant_id, o.id, o.number, o.cart_id, o.customer_id, o.email, o.currency, o.status,
         o.payment_status, o.subtotal, o.discount_total, o.shipping_total, o.tax_total, o.total,
         o.shipping_address, o.billing_address, o.delivery_instructions, o.cancel_reason,
         o.placed_at, o.updated_at, o.discount_code, o.company_id, o.purchase_order_number,
         o.tax_exemption_id, o.tax_exemption_number, o.payment_due_days"
    };
}
pub(crate) use order_columns;

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
    /// The variant sold; `None` on a booking line.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub variant_id: Option<VariantId>,
    /// Its product (a booking line's: its service's linked product, if any).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub product_id: Option<ProductId>,
    /// The product's title; a booking line's service name.
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
    /// The booking checkout made of a booking line's hold.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub booking_id: Option<BookingId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub service_id: Option<ServiceId>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ends_at: Option<DateTime<Utc>>,
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
                l.tax_rate, l.tax_inclusive, l.total, l.gift_wrap, l.gift_message, l.booking_id,
                l.service_id, l.starts_at, l.ends_at
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

/// A page of one vendor's parts of orders (or every vendor's, for `None`), newest first,
/// optionally in one status: what the vendor fulfils.
pub async fn vendor_page(
    db: &Database,
    tenant: TenantId,
    vendor: Option<VendorId>,
    status: Option<VendorOrderStatus>,
    page: PageRequest<VendorOrderId>,
) -> Result<Page<VendorOrder>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        let mut rows = vendor_orders::table
            .select(VendorOrder::as_select())
            .into_boxed();
        let mut count = vendor_orders::table.count().into_boxed();
        if let Some(vendor) = vendor {
            rows = rows.filter(vendor_orders::vendor_id.eq(vendor));
            count = count.filter(vendor_orders::vendor_id.eq(vendor));
        }
        if let Some(status) = status {
            rows = rows.filter(vendor_orders::status.eq(status));
            count = count.filter(vendor_orders::status.eq(status));
        }
        let rows: Vec<VendorOrder> =
            cityos_db::keyset_page!(rows, vendor_orders::id, page, newest_first)
                .load(tx.conn())
                .await?;
        let total: i64 = count.get_result(tx.conn()).await?;
        Ok(page.finish(rows, |v| v.id, total))
    })
    .await
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
/// PAID, and a PENDING order CONFIRMED. A payment on account is paid against its invoice instead
/// ([`record_invoice_payment`]), in part or in full.
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
        if payment.method == PaymentMethod::OnAccount {
            return Err(UserError::new(
                "paymentId",
                Code::InvalidPaymentMethod,
                "a payment on account is paid against its invoice (invoicePaymentRecord)",
            )
            .into());
        }
        check_capturable(&order, &payment, "paymentId")?;
        capture_whole(tx, &order, &payment).await?;
        let value = reread(tx, order.id).await?;
        let audit = Audit::of(id, serde_json::json!({ "order": value.id }));
        Ok((value, audit))
    })
    .await
}

/// Refuses to capture a payment that is not waiting for its money, or of a cancelled order.
fn check_capturable(order: &Order, payment: &Payment, field: &str) -> Outcome<()> {
    if !matches!(
        payment.status,
        PaymentStatus::Pending | PaymentStatus::Authorized
    ) {
        return Err(UserError::new(
            field,
            Code::AlreadyPaid,
            format!("the payment is already {}", payment.status),
        )
        .into());
    }
    if order.status == OrderStatus::Cancelled {
        return Err(transition_refused(OrderStatus::Cancelled, OrderStatus::Confirmed).into());
    }
    Ok(())
}

/// A locked manual payment's whole amount arrived: CAPTURED, the order PAID (and CONFIRMED when
/// PENDING), `payment.captured` written, its invoice PAID.
async fn capture_whole(tx: &mut TenantTx<'_>, order: &Order, payment: &Payment) -> Outcome<()> {
    let answer = Manual
        .capture(payment, payment.amount)
        .await
        .map_err(ApiError::internal)?;
    diesel::update(payments::table.filter(payments::id.eq(payment.id)))
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
        payment_id: payment.id,
        amount: payment.amount,
        currency: payment.currency,
        provider: "MANUAL",
        order_cancelled: false,
        placed_at: order.placed_at,
        vendor_orders: sold(tx, order.id).await?,
    };
    crate::OUTBOX.publish(tx, payment.id, &event).await?;
    if order.status == OrderStatus::Pending {
        set_status(tx, order, OrderStatus::Confirmed, None).await?;
    }
    invoices::mark_paid(tx, order.id).await?;
    bookings_paid(tx, order.id).await?;
    Ok(())
}

/// Tells the bookings subgraph that `order` is paid (or, on account, owed on its invoice): its
/// PENDING bookings are CONFIRMED, unless their service waits for staff.
pub async fn bookings_paid(tx: &mut TenantTx<'_>, order: OrderId) -> Result<(), ApiError> {
    bookings::api::paid(tx, order.uuid())
        .await
        .map(|_| ())
        .map_err(cityos_core::Failure::into_api)
}

/// Records `amount` (minor units of the invoice's currency) received against the invoice of an
/// order paid on account (staff), with the payer's `reference`: the company's open balance drops
/// by it. What is recorded never exceeds what is left to pay (PAYMENT_EXCEEDS_BALANCE); the last
/// of it captures the payment whole, and the order and invoice are PAID.
pub async fn record_invoice_payment(
    db: &Database,
    ctx: &RequestContext,
    invoice: InvoiceId,
    amount: i64,
    reference: Option<String>,
) -> Outcome<Order> {
    let reference = crate::errors::optional_text::<100>(
        reference,
        "reference",
        "a payment reference has at most 100 characters",
    )?;
    if amount <= 0 {
        return Err(UserError::new(
            "amount",
            Code::InvalidAmount,
            "a payment is a positive amount in minor units",
        )
        .into());
    }
    let recorder = ctx.user_id().ok();
    db.staff(ctx, "invoice.payment_record", async move |tx| {
        let of: Option<OrderId> = Prepared(
            diesel::sql_query(
                "SELECT order_id AS value FROM orders.invoices WHERE id = $1 AND kind = 'INVOICE'",
            )
            .bind::<SqlUuid, _>(invoice),
        )
        .get_result::<OrderIdRow>(tx.conn())
        .await
        .optional()?
        .map(|r| r.value);
        let not_found = || UserError::new("invoiceId", Code::NotFound, "no such invoice");
        let order = locked(tx, of.ok_or_else(not_found)?, "invoiceId").await?;
        let payment: Option<Payment> = payments::table
            .filter(payments::order_id.eq(order.id))
            .filter(payments::method.eq(PaymentMethod::OnAccount))
            .select(Payment::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?;
        let Some(payment) = payment else {
            return Err(UserError::new(
                "invoiceId",
                Code::InvalidPaymentMethod,
                "this order is not paid on account; capture its payment instead",
            )
            .into());
        };
        check_capturable(&order, &payment, "invoiceId")?;
        let left = payment.amount - payment.captured_amount;
        if amount > left {
            return Err(UserError::new(
                "amount",
                Code::PaymentExceedsBalance,
                format!(
                    "{} is left to pay of this invoice",
                    Money::new(left, payment.currency)
                ),
            )
            .into());
        }
        Prepared(
            diesel::sql_query(
                "INSERT INTO orders.invoice_payments (tenant_id, id, invoice_id, payment_id,
                    amount, reference, recorded_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind::<SqlUuid, _>(order.tenant_id)
            .bind::<SqlUuid, _>(InvoicePaymentId::new())
            .bind::<SqlUuid, _>(invoice)
            .bind::<SqlUuid, _>(payment.id)
            .bind::<BigInt, _>(amount)
            .bind::<Nullable<Text>, _>(reference.as_deref())
            .bind::<Nullable<SqlUuid>, _>(recorder),
        )
        .execute(tx.conn())
        .await?;
        if amount == left {
            capture_whole(tx, &order, &payment).await?;
        } else {
            diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                .set((
                    payments::captured_amount.eq(payment.captured_amount + amount),
                    payments::updated_at.eq(diesel::dsl::now),
                ))
                .execute(tx.conn())
                .await?;
        }
        let value = reread(tx, order.id).await?;
        let audit = Audit::of(
            invoice,
            serde_json::json!({ "order": value.id, "amount": amount, "reference": reference }),
        );
        Ok((value, audit))
    })
    .await
}

#[derive(QueryableByName)]
struct OrderIdRow {
    #[diesel(sql_type = SqlUuid)]
    value: OrderId,
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
    /// When the order was placed: the time its vendors' commission rules are read at.
    pub placed_at: DateTime<Utc>,
    /// What each marketplace vendor sold in the order ([`sold`]).
    pub vendor_orders: serde_json::Value,
}

#[derive(QueryableByName)]
struct Sold {
    #[diesel(sql_type = Jsonb)]
    vendor_orders: serde_json::Value,
}

/// What each marketplace vendor sold in `order`, as the vendors' ledger reads it: every vendor
/// order that has a vendor, with `vendorOrderId`, `vendorId`, `total` (what the customer pays for
/// it), `shippingTotal`, `taxTotal`, and its `lines` in order, each with `orderLineId`,
/// `productId`, `quantity`, `net` (after its discount, without tax) and `tax`. One statement.
pub async fn sold(tx: &mut TenantTx<'_>, order: OrderId) -> QueryResult<serde_json::Value> {
    let row: Sold = Prepared(
        diesel::sql_query(
            "SELECT coalesce(jsonb_agg(v ORDER BY v->>'vendorOrderId'), '[]'::jsonb) AS vendor_orders
             FROM (SELECT jsonb_build_object(
                          'vendorOrderId', vo.id, 'vendorId', vo.vendor_id, 'total', vo.total,
                          'shippingTotal', vo.shipping_total, 'taxTotal', vo.tax_total,
                          'lines', (SELECT jsonb_agg(jsonb_build_object(
                                               'orderLineId', l.id, 'productId', l.product_id,
                                               'quantity', l.quantity, 'net', l.total - l.tax_total,
                                               'tax', l.tax_total) ORDER BY l.position)
                                    FROM orders.order_lines l
                                    WHERE l.tenant_id = vo.tenant_id AND l.vendor_order_id = vo.id)) AS v
                   FROM orders.vendor_orders vo
                   WHERE vo.order_id = $1 AND vo.vendor_id IS NOT NULL) parts",
        )
        .bind::<SqlUuid, _>(order),
    )
    .get_result(tx.conn())
    .await?;
    Ok(row.vendor_orders)
}

impl FixedTopic for PaymentCaptured {
    const TOPIC: &'static str = "payment.captured";
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
