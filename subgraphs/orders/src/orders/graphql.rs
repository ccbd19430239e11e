//! Orders in GraphQL: `Order`, its vendor orders, lines, fulfilments and documents (invoices and
//! credit notes), `order` and `orders`, `vendorOrders` (a vendor's team's view: its own parts
//! only), `User.orders`, and the order's lifecycle mutations.

use crate::carts::Address;
use crate::disputes::DisputeThread;
use crate::errors::{OrdersUserError, Outcome};
use crate::federation::{Booking, BookingService, Company, Product, ProductVariant, User, Vendor};
use crate::ids::{FulfillmentId, OrderId, VendorId, VendorOrderId};
use crate::orders::invoices::{Invoice, InvoiceKind, InvoiceStatus};
use crate::orders::{
    self, Fulfillment, Order, OrderLine, OrderPaymentStatus, OrderStatus, VendorOrder,
    VendorOrderStatus,
};
use crate::payments::Payment;
use crate::refunds::Refund;
use crate::returns::ReturnWithLines;
use crate::scope::{OrdersLoader, children, children_of, gateway, money, order_money};
use crate::shipping::ShippingKind;
use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result};
use catalog::api::PriceRule;
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::Money;
use cityos_core::paging::{PageRequest, page_cost};
use cityos_core::{Acting, ApiError, VendorRole};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

#[ComplexObject]
impl User {
    /// The user's orders, newest first (the user themself and staff), optionally in one status.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<OrderStatus>,
    ) -> Result<OrderConnection> {
        let rc = ctx.request()?;
        let user = parse_id(&self.id)?;
        if !rc.is_staff() && rc.user_id()? != user {
            return Err(ApiError::forbidden("these are another customer's orders").into());
        }
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(
            orders::page(ctx.db(), rc.tenant()?.id, Some(user), status, page)
                .await?
                .into(),
        )
    }
}

/// An order: a cart as bought, split into one vendor order per vendor.
#[Object]
impl Order {
    /// The order's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The tenant's sequential order number (no gaps).
    async fn number(&self) -> i64 {
        self.number
    }
    /// Where the order stands.
    async fn status(&self) -> OrderStatus {
        self.status
    }
    /// Where its money stands.
    async fn payment_status(&self) -> OrderPaymentStatus {
        self.payment_status
    }
    /// The customer who placed it; null for a guest.
    async fn customer(&self) -> Option<User> {
        self.customer_id.map(|id| User { id: to_id(id) })
    }
    /// The guest's e-mail address.
    async fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
    /// ISO 4217 currency of every amount.
    async fn currency(&self) -> &str {
        self.currency.code()
    }
    /// The sum of the lines at their prices.
    async fn subtotal(&self) -> Money {
        money(self.subtotal, self.currency)
    }
    /// Discounts taken off.
    async fn discount_total(&self) -> Money {
        money(self.discount_total, self.currency)
    }
    /// Shipping charged.
    async fn shipping_total(&self) -> Money {
        money(self.shipping_total, self.currency)
    }
    /// Tax on the lines, whether included in prices or added to them (see each line's
    /// `taxIncluded`).
    async fn tax_total(&self) -> Money {
        money(self.tax_total, self.currency)
    }
    /// The discount code used, if any.
    async fn discount_code(&self) -> Option<&str> {
        self.discount_code.as_deref()
    }
    /// What the customer pays: subtotal less discounts, plus shipping, plus tax that prices do
    /// not include; the sum of the vendor orders' totals.
    async fn total(&self) -> Money {
        money(self.total, self.currency)
    }
    /// Where it ships.
    async fn shipping_address(&self) -> Option<Address> {
        Address::from_stored(&self.shipping_address)
    }
    /// Where it is billed.
    async fn billing_address(&self) -> Option<Address> {
        Address::from_stored(&self.billing_address)
    }
    /// Instructions for delivery.
    async fn delivery_instructions(&self) -> &str {
        &self.delivery_instructions
    }
    /// Why it was cancelled, when it was and a reason was given.
    async fn cancel_reason(&self) -> Option<&str> {
        self.cancel_reason.as_deref()
    }
    /// The B2B company it was bought for; null for a personal order.
    async fn company(&self) -> Option<Company> {
        self.company_id.map(|id| Company { id: to_id(id) })
    }
    /// The buyer's purchase-order number.
    async fn purchase_order_number(&self) -> Option<&str> {
        self.purchase_order_number.as_deref()
    }
    /// The number of the company's tax exemption certificate that applied: no tax was charged.
    async fn tax_exemption_number(&self) -> Option<&str> {
        self.tax_exemption_number.as_deref()
    }
    /// When it was placed.
    async fn placed_at(&self) -> DateTime<Utc> {
        self.placed_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// Its lines, in cart order.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<OrderLine>> {
        children(ctx, LinesOf(self.id)).await
    }
    /// One part per vendor, each with its own totals and fulfilment.
    async fn vendor_orders(&self, ctx: &Context<'_>) -> Result<Vec<VendorOrder>> {
        children(ctx, VendorOrdersOf(self.id)).await
    }
    /// Its payments, oldest first.
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        children(ctx, PaymentsOf(self.id)).await
    }
    /// Money paid back, oldest first.
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        children(ctx, RefundsOf(self.id)).await
    }
    /// Its returns, oldest first.
    async fn returns(&self, ctx: &Context<'_>) -> Result<Vec<ReturnWithLines>> {
        children(ctx, ReturnsOf(self.id)).await
    }
    /// Its disputes, oldest first, with their messages.
    async fn disputes(&self, ctx: &Context<'_>) -> Result<Vec<DisputeThread>> {
        children(ctx, DisputesOf(self.id)).await
    }
    /// Its invoice (issued when it was confirmed), then a credit note per refund.
    async fn invoices(&self, ctx: &Context<'_>) -> Result<Vec<Invoice>> {
        children(ctx, InvoicesOf(self.id)).await
    }
}

/// One vendor's part of an order, with its own totals and shipment.
#[Object]
impl VendorOrder {
    /// The vendor order's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The vendor; null for the tenant's own products.
    async fn vendor(&self) -> Option<Vendor> {
        self.vendor_id.map(|id| Vendor { id: to_id(id) })
    }
    /// Where its fulfilment stands.
    async fn status(&self) -> VendorOrderStatus {
        self.status
    }
    /// The sum of its lines.
    async fn subtotal(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.subtotal).await
    }
    /// Discounts taken off its lines.
    async fn discount_total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.discount_total).await
    }
    /// Its shipping charge.
    async fn shipping_total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.shipping_total).await
    }
    /// Tax on its lines (included or added).
    async fn tax_total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.tax_total).await
    }
    /// The name of the shipping method it was bought with; null when the tenant had none.
    async fn shipping_method_name(&self) -> Option<&str> {
        self.shipping_method_name.as_deref()
    }
    /// How that method delivers.
    async fn shipping_kind(&self) -> Option<ShippingKind> {
        self.shipping_kind
    }
    /// Where the customer collects it, for a pickup.
    async fn pickup_location(&self) -> Option<&str> {
        self.pickup_location.as_deref()
    }
    /// Instructions for delivering this part.
    async fn delivery_instructions(&self) -> &str {
        &self.delivery_instructions
    }
    /// What this vendor's part costs: its lines' totals plus shipping.
    async fn total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.total).await
    }
    /// Its lines.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<OrderLine>> {
        let all = children(ctx, LinesOf(self.order_id)).await?;
        Ok(all
            .into_iter()
            .filter(|l| l.vendor_order_id == self.id)
            .collect())
    }
    /// Its shipments.
    async fn fulfillments(&self, ctx: &Context<'_>) -> Result<Vec<Fulfillment>> {
        children(ctx, FulfillmentsOf(self.id)).await
    }
    /// The number of the order it is part of.
    async fn order_number(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(parent(ctx, self).await?.number)
    }
    /// When that order was placed.
    async fn placed_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(parent(ctx, self).await?.placed_at)
    }
    /// Where it ships: the order's shipping address.
    async fn shipping_address(&self, ctx: &Context<'_>) -> Result<Option<Address>> {
        Ok(Address::from_stored(
            &parent(ctx, self).await?.shipping_address,
        ))
    }
}

/// A line of an order: what was bought, with its title, SKU and price as they were then.
#[Object]
impl OrderLine {
    /// The line's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The variant bought; null on a booking line.
    async fn variant(&self) -> Option<ProductVariant> {
        self.variant_id.map(|v| ProductVariant { id: to_id(v) })
    }
    /// Its product (a booking line's: its service's linked product, if any).
    async fn product(&self) -> Option<Product> {
        self.product_id.map(|p| Product { id: to_id(p) })
    }
    /// A booking line's booking, service and time as bought; null on a product line.
    async fn booking(&self) -> Option<OrderLineBooking> {
        let (booking, service) = (self.booking_id?, self.service_id?);
        Some(OrderLineBooking {
            booking: Booking { id: to_id(booking) },
            service: BookingService { id: to_id(service) },
            starts_at: self.starts_at?,
            ends_at: self.ends_at?,
        })
    }
    /// The product's title at purchase (a booking line's service name).
    async fn product_title(&self) -> &str {
        &self.product_title
    }
    /// The variant's title at purchase (a booking line's provider, if any).
    async fn variant_title(&self) -> &str {
        &self.variant_title
    }
    /// The SKU at purchase (empty on a booking line).
    async fn sku(&self) -> &str {
        &self.sku
    }
    /// Units bought (a booking line's seats).
    async fn quantity(&self) -> i32 {
        self.quantity
    }
    /// The unit price paid.
    async fn unit_price(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.unit_price).await
    }
    /// The base unit price at purchase, when the customer paid less.
    async fn compare_at_unit_price(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        match self.compare_at_unit_price {
            Some(a) => Ok(Some(order_money(ctx, self.order_id, a).await?)),
            None => Ok(None),
        }
    }
    /// The pricing rule that gave the unit price.
    async fn price_rule(&self) -> PriceRule {
        self.price_rule
    }
    /// Unit price times quantity.
    async fn subtotal(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.subtotal).await
    }
    /// Discounts taken off the line.
    async fn discount_total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.discount_total).await
    }
    /// Tax on the line after its discount.
    async fn tax_total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.tax_total).await
    }
    /// The tax rate applied, in basis points (1500 is 15%).
    async fn tax_rate_basis_points(&self) -> i32 {
        self.tax_rate
    }
    /// Whether the tax was part of the price (true) or added to it (false).
    async fn tax_included(&self) -> bool {
        self.tax_inclusive
    }
    /// What the line costs.
    async fn total(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.total).await
    }
    /// Whether it is gift-wrapped.
    async fn gift_wrap(&self) -> bool {
        self.gift_wrap
    }
    /// The gift card's message.
    async fn gift_message(&self) -> Option<&str> {
        self.gift_message.as_deref()
    }
}

/// The booking an order line bought: its status, and any change of time, are the bookings
/// subgraph's (`booking`).
#[derive(async_graphql::SimpleObject)]
pub struct OrderLineBooking {
    /// The booking checkout made.
    pub booking: Booking,
    /// The service booked.
    pub service: BookingService,
    /// When it started as bought (a rescheduled booking's own `start` moves).
    pub starts_at: DateTime<Utc>,
    /// When it ended as bought.
    pub ends_at: DateTime<Utc>,
}

/// An invoice, or a credit note against one: a snapshot of what was sold, taxed and paid back.
#[Object]
impl Invoice {
    /// The document's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Invoice or credit note.
    async fn kind(&self) -> InvoiceKind {
        self.kind
    }
    /// Its sequential number within its kind and tenant (no gaps).
    async fn number(&self) -> i64 {
        self.number
    }
    /// The printed number, e.g. `INV-000042` or `CN-000003`.
    async fn display_number(&self) -> String {
        self.printed_number()
    }
    /// Where it stands now (OVERDUE: unpaid past its due date).
    async fn status(&self) -> InvoiceStatus {
        self.status_at(Utc::now())
    }
    /// For a credit note: the invoice it credits.
    async fn credited_invoice_id(&self) -> Option<ID> {
        self.invoice_id.map(to_id)
    }
    /// For a credit note: the refund it documents (none for a refund made at the provider).
    async fn refund_id(&self) -> Option<ID> {
        self.refund_id.map(to_id)
    }
    /// Lines before discounts.
    async fn subtotal(&self) -> Money {
        money(self.subtotal, self.currency)
    }
    /// Discounts.
    async fn discount_total(&self) -> Money {
        money(self.discount_total, self.currency)
    }
    /// Shipping.
    async fn shipping_total(&self) -> Money {
        money(self.shipping_total, self.currency)
    }
    /// Tax (included in prices or added).
    async fn tax_total(&self) -> Money {
        money(self.tax_total, self.currency)
    }
    /// What it is for.
    async fn total(&self) -> Money {
        money(self.total, self.currency)
    }
    /// When it was issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.issued_at
    }
    /// When an unpaid invoice is due.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due_at
    }
    /// When it was paid.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.paid_at
    }
    /// The printable document: a self-contained HTML page (print it, or save it as PDF from a
    /// browser).
    async fn document_html(&self) -> String {
        orders::invoices::render_html(self, Utc::now())
    }
}

/// A shipment of a vendor order.
#[Object]
impl Fulfillment {
    /// The fulfilment's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The carrier, e.g. `Aramex`.
    async fn carrier(&self) -> &str {
        &self.carrier
    }
    /// The carrier's tracking number.
    async fn tracking_number(&self) -> &str {
        &self.tracking_number
    }
    /// When it was handed to the carrier.
    async fn shipped_at(&self) -> DateTime<Utc> {
        self.shipped_at
    }
    /// When it was delivered, once it was.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.delivered_at
    }
}

cityos_core::connection!(OrderConnection, OrderEdge, Order, "order");
cityos_core::connection!(
    VendorOrderConnection,
    VendorOrderEdge,
    VendorOrder,
    "vendor order"
);

/// Which vendor orders a list holds.
#[derive(InputObject, Default)]
pub struct VendorOrderFilter {
    /// Only this vendor's (staff; a vendor's team always sees its own only).
    pub vendor_id: Option<VendorId>,
    /// Only those in this status.
    pub status: Option<VendorOrderStatus>,
}

/// The order a vendor order is part of (it always is).
async fn parent(ctx: &Context<'_>, part: &VendorOrder) -> Result<Order> {
    Ok(ctx
        .loader::<OrdersLoader>()?
        .load_one(part.order_id)
        .await?
        .ok_or_else(|| ApiError::internal("a vendor order without its order"))?)
}

children_of!(LinesOf(OrderId) => OrderLine, orders::lines_of, "lines of an order");

children_of!(
    VendorOrdersOf(OrderId) => VendorOrder,
    orders::vendor_orders_of,
    "vendor orders of an order"
);

children_of!(
    InvoicesOf(OrderId) => Invoice,
    orders::invoices::of_orders,
    "invoice and credit notes of an order"
);

children_of!(
    FulfillmentsOf(VendorOrderId) => Fulfillment,
    orders::fulfillments_of,
    "fulfilments of a vendor order"
);

impl Loader<OrderId> for OrdersLoader {
    type Value = Order;
    type Error = ApiError;

    async fn load(&self, keys: &[OrderId]) -> Result<HashMap<OrderId, Order>, ApiError> {
        let keys = keys.to_vec();
        self.db
            .tenant_tx(self.tenant, async move |tx| {
                let found = orders::by_ids(tx, &keys).await?;
                Ok::<_, ApiError>(found.into_iter().map(|o| (o.id, o)).collect())
            })
            .await
    }
}

/// The orders subgraph's queries.
#[derive(Default)]
pub struct OrdersQuery;

#[Object]
impl OrdersQuery {
    /// An order by id: staff see any of the tenant's, customers their own. Guests reach theirs
    /// through their cart's `order`.
    async fn order(&self, ctx: &Context<'_>, id: OrderId) -> Result<Option<Order>> {
        let rc = ctx.request()?;
        let order = ctx.loader::<OrdersLoader>()?.load_one(id).await?;

        let caller = rc.user_id().ok();
        Ok(order.filter(|o| rc.is_staff() || (caller.is_some() && o.customer_id == caller)))
    }

    /// The tenant's orders, newest first, optionally in one status (staff).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<OrderStatus>,
    ) -> Result<OrderConnection> {
        let rc = ctx.request()?;
        rc.require_staff()?;
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(orders::page(ctx.db(), rc.tenant()?.id, None, status, page)
            .await?
            .into())
    }

    /// Vendors' parts of orders, newest first: a vendor's team (acting for it) sees its own only;
    /// staff see every vendor's, or one `vendorId`'s.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn vendor_orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<VendorOrderFilter>,
    ) -> Result<VendorOrderConnection> {
        let rc = ctx.request()?;
        let VendorOrderFilter { vendor_id, status } = filter.unwrap_or_default();
        let vendor = match rc.staff_or_vendor(VendorRole::Staff)? {
            Acting::Staff => vendor_id,
            Acting::Vendor(own) if vendor_id.is_none_or(|v| v == own) => Some(own),
            Acting::Vendor(_) => {
                return Err(ApiError::forbidden("these are another vendor's orders").into());
            }
        };
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(
            orders::vendor_page(ctx.db(), rc.tenant()?.id, vendor, status, page)
                .await?
                .into(),
        )
    }
}

cityos_core::payload! {
    /// The result of an order mutation.
    OrderPayload<OrdersUserError> {
        /// The order as it is now; null when refused.
        order: Order,
    }
}

cityos_core::payload! {
    /// The result of a fulfilment mutation.
    FulfillmentPayload<OrdersUserError> {
        /// The fulfilment as it is now; null when refused.
        fulfillment: Fulfillment,
    }
}

pub(crate) fn order_payload(outcome: Outcome<Order>) -> Result<OrderPayload> {
    Ok(OrderPayload::of(outcome)?)
}

/// An order to act on.
#[derive(InputObject)]
pub struct OrderInput {
    /// The order.
    pub order_id: OrderId,
}

/// An order to cancel.
#[derive(InputObject)]
pub struct OrderCancelInput {
    /// The order.
    pub order_id: OrderId,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
}

/// A vendor order handed to a carrier.
#[derive(InputObject)]
pub struct FulfillmentCreateInput {
    /// The vendor order shipped.
    pub vendor_order_id: VendorOrderId,
    /// The carrier, 1 to 100 characters.
    pub carrier: String,
    /// The carrier's tracking number, 1 to 100 characters.
    pub tracking_number: String,
}

/// A shipment that arrived.
#[derive(InputObject)]
pub struct FulfillmentDeliverInput {
    /// The fulfilment.
    pub fulfillment_id: FulfillmentId,
}

/// Order lifecycle mutations.
#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Confirms a PENDING order that is paid, authorized or paid cash on delivery (staff).
    async fn order_confirm(&self, ctx: &Context<'_>, input: OrderInput) -> Result<OrderPayload> {
        let id = input.order_id;
        order_payload(orders::confirm(ctx.db(), ctx.request()?, id).await)
    }

    /// Cancels an order that has not shipped (staff; a customer their own PENDING order): stock
    /// goes back and an uncaptured payment is released.
    async fn order_cancel(
        &self,
        ctx: &Context<'_>,
        input: OrderCancelInput,
    ) -> Result<OrderPayload> {
        let id = input.order_id;
        order_payload(
            orders::cancel(ctx.db(), ctx.request()?, id, input.reason, gateway(ctx)).await,
        )
    }

    /// Ships a vendor order with a carrier and tracking number (staff, or its vendor's team).
    async fn fulfillment_create(
        &self,
        ctx: &Context<'_>,
        input: FulfillmentCreateInput,
    ) -> Result<FulfillmentPayload> {
        let id = input.vendor_order_id;
        let outcome = orders::ship(
            ctx.db(),
            ctx.request()?,
            id,
            input.carrier,
            input.tracking_number,
        )
        .await;
        Ok(FulfillmentPayload::of(outcome)?)
    }

    /// Records a delivery (staff, or its vendor's team); the order completes when every vendor
    /// order is delivered.
    async fn fulfillment_deliver(
        &self,
        ctx: &Context<'_>,
        input: FulfillmentDeliverInput,
    ) -> Result<FulfillmentPayload> {
        let id = input.fulfillment_id;
        Ok(FulfillmentPayload::of(
            orders::deliver(ctx.db(), ctx.request()?, id).await,
        )?)
    }
}

children_of!(PaymentsOf(OrderId) => Payment, orders::payments_of, "payments of an order");

children_of!(RefundsOf(OrderId) => Refund, crate::refunds::of_orders, "refunds of an order");

children_of!(
    ReturnsOf(OrderId) => ReturnWithLines,
    crate::returns::of_orders,
    "returns of an order, with their lines"
);

children_of!(
    DisputesOf(OrderId) => DisputeThread,
    crate::disputes::of_orders,
    "disputes of an order, with their messages"
);
