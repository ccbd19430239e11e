//! The orders subgraph's GraphQL API: carts, orders, the `User.orders` extension, loaders.

mod aftercare;
mod mutations;
mod terms;

pub use mutations::Mutation;

use crate::carts::{self, Address, CartStatus, LineProblem, PricedCart, PricedLine};
use crate::disputes::DisputeThread;
use crate::ids::{OrderId, TenantId, VendorOrderId};
use crate::invoices::{Invoice, InvoiceKind, InvoiceStatus};
use crate::orders::{
    self, Fulfillment, Order, OrderLine, OrderPaymentStatus, OrderStatus, VendorOrder,
    VendorOrderStatus,
};
use crate::payments::{Gateway, Payment, PaymentMethod, PaymentStatus};
use crate::refunds::{Refund, RefundStatus};
use crate::returns::ReturnWithLines;
use crate::shipping::{ShippingKind, ShippingMethod};
use crate::totals::{self, Shipment};
use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, Context, ID, MergedObject, Object, Result, SimpleObject};
use catalog::api::PriceRule;
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{PageRequest, page_cost};
use cityos_db::Database;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

fn gateway<'a>(ctx: &Context<'a>) -> &'a Gateway {
    ctx.data_unchecked::<Gateway>()
}

fn money(amount: i64, currency: Currency) -> Money {
    Money::new(amount, currency)
}

// ----- references to other subgraphs' entities -----

// Owned by the catalog; orders only point at it. Descriptions match the owner's.
/// Something a tenant sells.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Product {
    /// The product's id.
    pub id: ID,
}

/// What is sold and stocked: one combination of a product's option values, with its own SKU.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct ProductVariant {
    /// The variant's id.
    pub id: ID,
}

/// A marketplace vendor: a seller on the tenant's marketplace.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Vendor {
    /// The vendor's id.
    pub id: ID,
}

// Owned by the identity subgraph; orders add `orders`. The description matches the owner's.
/// A person with an account: a customer, a staff member or a platform admin.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    /// The user's id.
    pub id: ID,
}

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

cityos_core::connection!(OrderConnection, OrderEdge, Order, "order");

// ----- the loader -----

/// The orders subgraph's one DataLoader, built per request for the request's tenant (callers check
/// who may see what it loads): orders by id, and each kind of an order's children by a key naming
/// the parent (`LinesOf(order)`), one statement per batch.
pub struct OrdersLoader {
    pub db: Database,
    pub tenant: TenantId,
}

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

/// Declares a key naming a parent's children and the loader's batch read of them.
macro_rules! children {
    ($key:ident($parent:ty) => $value:ty, $read:path, $what:literal) => {
        #[doc = concat!("The ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub $parent);

        impl Loader<$key> for OrdersLoader {
            type Value = Vec<$value>;
            type Error = ApiError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Vec<$value>>, ApiError> {
                let parents: Vec<$parent> = keys.iter().map(|k| k.0).collect();
                let mut found = self
                    .db
                    .tenant_tx(self.tenant, async move |tx| {
                        Ok::<_, ApiError>($read(tx, &parents).await?)
                    })
                    .await?;
                Ok(keys
                    .iter()
                    .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
                    .collect())
            }
        }
    };
}

children!(LinesOf(OrderId) => OrderLine, orders::lines_of, "lines of an order");
children!(
    VendorOrdersOf(OrderId) => VendorOrder,
    orders::vendor_orders_of,
    "vendor orders of an order"
);
children!(PaymentsOf(OrderId) => Payment, orders::payments_of, "payments of an order");
children!(
    ReturnsOf(OrderId) => ReturnWithLines,
    crate::returns::of_orders,
    "returns of an order, with their lines"
);
children!(
    DisputesOf(OrderId) => DisputeThread,
    crate::disputes::of_orders,
    "disputes of an order, with their messages"
);
children!(
    InvoicesOf(OrderId) => Invoice,
    crate::invoices::of_orders,
    "invoice and credit notes of an order"
);
children!(RefundsOf(OrderId) => Refund, crate::refunds::of_orders, "refunds of an order");
children!(
    FulfillmentsOf(VendorOrderId) => Fulfillment,
    orders::fulfillments_of,
    "fulfilments of a vendor order"
);

async fn children<K, T>(ctx: &Context<'_>, key: K) -> Result<Vec<T>>
where
    OrdersLoader: Loader<K, Value = Vec<T>, Error = ApiError>,
    K: Copy + Eq + std::hash::Hash + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Ok(ctx
        .loader::<OrdersLoader>()?
        .load_one(key)
        .await?
        .unwrap_or_default())
}

// ----- carts -----

/// A shopping cart: lines by variant, priced live for its customer in its currency, with its
/// discount, shipping per vendor group and taxes.
#[Object(name = "Cart")]
impl PricedCart {
    /// The cart's id. For a guest cart it is also the key to it: keep it private.
    async fn id(&self) -> ID {
        to_id(self.cart.id)
    }
    /// ISO 4217 currency the cart is priced in.
    async fn currency(&self) -> &str {
        self.cart.currency.code()
    }
    /// Where the cart stands.
    async fn status(&self) -> CartStatus {
        self.cart.status
    }
    /// The guest's e-mail address (a customer's cart may have none).
    async fn email(&self) -> Option<&str> {
        self.cart.email.as_deref()
    }
    /// The lines, oldest first.
    async fn lines(&self) -> &[PricedLine] {
        &self.lines
    }
    /// The lines grouped by the vendor that sells them: each group ships as one vendor order,
    /// with its own shipping method and totals.
    async fn vendor_groups(&self) -> Vec<CartVendorGroup<'_>> {
        self.totals
            .shipments
            .iter()
            .map(|shipment| CartVendorGroup {
                shipment,
                cart: self,
            })
            .collect()
    }
    /// Units over all lines.
    async fn item_count(&self) -> i64 {
        self.units()
    }
    /// The sum of the line totals before discounts, shipping and tax (lines without a price
    /// count 0).
    async fn subtotal(&self) -> Money {
        self.money(self.totals.subtotal)
    }
    /// What the discount code takes off.
    async fn discount_total(&self) -> Money {
        self.money(self.totals.discount_total)
    }
    /// Shipping over all vendor groups.
    async fn shipping_total(&self) -> Money {
        self.money(self.totals.shipping_total)
    }
    /// Tax on all lines, whether included in prices or added to them (see each line's
    /// `taxIncluded`).
    async fn tax_total(&self) -> Money {
        self.money(self.totals.tax_total)
    }
    /// What checking out would charge now: subtotal less discount, plus shipping, plus tax that
    /// prices do not include.
    async fn total(&self) -> Money {
        self.money(self.totals.total)
    }
    /// The discount code on the cart, with what it takes off or why it does not apply now.
    async fn discount(&self) -> Option<CartDiscount> {
        let code = self.cart.discount_code.clone()?;
        Some(match &self.totals.discount {
            Some(Err(refusal)) => CartDiscount {
                code,
                amount: self.money(0),
                problem: Some(refusal.code),
                message: Some(refusal.message.clone()),
            },
            outcome => CartDiscount {
                code,
                amount: self.money(outcome.as_ref().and_then(|o| o.clone().ok()).unwrap_or(0)),
                problem: None,
                message: None,
            },
        })
    }
    /// Whether every line can be bought as it stands (on sale, priced, in stock), every vendor
    /// group has a shipping method, and the discount code (if any) applies.
    async fn ready(&self) -> bool {
        let totals = &self.totals;
        !self.lines.is_empty()
            && self.lines.iter().all(|l| l.problem.is_none())
            && !matches!(totals.discount, Some(Err(_)))
            && (!totals.shipping_offered || totals.shipments.iter().all(|s| s.method().is_some()))
    }
    /// Where to ship.
    async fn shipping_address(&self) -> Option<Address> {
        Address::from_stored(&self.cart.shipping_address)
    }
    /// Where to bill.
    async fn billing_address(&self) -> Option<Address> {
        Address::from_stored(&self.cart.billing_address)
    }
    /// Instructions for delivering the whole cart.
    async fn delivery_instructions(&self) -> &str {
        &self.cart.delivery_instructions
    }
    /// The order placed from the cart, once checked out.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        match self.cart.order_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<OrdersLoader>()?.load_one(id).await?),
        }
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.cart.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.cart.updated_at
    }
    /// When it expires unless changed again (30 days after the last change).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.cart.expires_at
    }
}

/// A discount code on a cart.
#[derive(SimpleObject)]
pub struct CartDiscount {
    /// The code, upper-cased.
    pub code: String,
    /// What it takes off now (zero when it does not apply).
    pub amount: Money,
    /// Why it does not apply now (e.g. DISCOUNT_MINIMUM_NOT_MET after lines were removed);
    /// null when it does. Checkout refuses with this code.
    pub problem: Option<crate::errors::OrdersErrorCode>,
    /// The reason in words.
    pub message: Option<String>,
}

/// The lines of a cart one vendor sells.
pub struct CartVendorGroup<'a> {
    shipment: &'a Shipment,
    cart: &'a PricedCart,
}

/// One of a vendor group's shipping options, read from the cart's totals.
pub struct ShippingOption<'a> {
    option: &'a totals::ShippingOption,
    cart: &'a PricedCart,
}

/// A shipping method offered for a vendor group, with what it would cost the group.
#[Object]
impl ShippingOption<'_> {
    /// The method.
    async fn method(&self) -> &ShippingMethod {
        &self.option.method
    }
    /// What it would cost this vendor group.
    async fn cost(&self) -> Money {
        self.cart.money(self.option.cost)
    }
}

/// The lines of a cart that one vendor sells (or the tenant itself), shipped as one vendor order.
#[Object]
impl CartVendorGroup<'_> {
    /// The vendor; null for the tenant's own products.
    async fn vendor(&self) -> Option<Vendor> {
        self.shipment.vendor.map(|id| Vendor { id: to_id(id) })
    }
    /// Its lines.
    async fn lines(&self) -> Vec<&PricedLine> {
        self.shipment
            .lines
            .iter()
            .map(|&i| &self.cart.lines[i])
            .collect()
    }
    /// The sum of its lines before discounts.
    async fn subtotal(&self) -> Money {
        self.cart.money(self.shipment.subtotal)
    }
    /// The discount taken off its lines.
    async fn discount_total(&self) -> Money {
        self.cart.money(self.shipment.discount)
    }
    /// The methods that can deliver it now, cheapest first (empty when the tenant ships nothing
    /// in this currency, or nothing to the address's country).
    async fn shipping_options(&self) -> Vec<ShippingOption<'_>> {
        self.shipment
            .options
            .iter()
            .map(|option| ShippingOption {
                option,
                cart: self.cart,
            })
            .collect()
    }
    /// The method it ships with: the one chosen with `cartShippingMethodSet` while it is
    /// available, otherwise the cheapest option.
    async fn shipping_method(&self) -> Option<&ShippingMethod> {
        self.shipment.method().map(|o| &o.method)
    }
    /// What shipping it costs.
    async fn shipping_total(&self) -> Money {
        self.cart.money(self.shipment.shipping)
    }
    /// Tax on its lines (included or added).
    async fn tax_total(&self) -> Money {
        self.cart.money(self.shipment.tax)
    }
    /// What this vendor's part costs: its lines' totals plus shipping.
    async fn total(&self) -> Money {
        self.cart.money(self.shipment.total)
    }
    /// Instructions for delivering this part.
    async fn delivery_instructions(&self) -> &str {
        &self.shipment.instructions
    }
}

/// A line of a cart: a variant, how many, and what they cost now.
#[Object(name = "CartLine")]
impl PricedLine {
    /// The line's id.
    async fn id(&self) -> ID {
        to_id(self.line.id)
    }
    /// The variant.
    async fn variant(&self) -> ProductVariant {
        ProductVariant {
            id: to_id(self.line.variant_id),
        }
    }
    /// Its product; null when the variant is no longer on sale.
    async fn product(&self) -> Option<Product> {
        self.item.as_ref().map(|i| Product {
            id: to_id(i.product_id),
        })
    }
    /// The product's title; null when not on sale.
    async fn product_title(&self) -> Option<&str> {
        self.item.as_ref().map(|i| i.product_title.as_str())
    }
    /// The variant's title; null when not on sale.
    async fn variant_title(&self) -> Option<&str> {
        self.item.as_ref().map(|i| i.variant.variant.title.as_str())
    }
    /// The variant's SKU; null when not on sale.
    async fn sku(&self) -> Option<&str> {
        self.item.as_ref().map(|i| i.variant.variant.sku.as_str())
    }
    /// Units.
    async fn quantity(&self) -> i32 {
        self.line.quantity
    }
    /// Price of one unit for this quantity, customer and moment; null when there is none.
    async fn unit_price(&self) -> Option<Money> {
        self.quote.map(|q| q.unit_price)
    }
    /// The base unit price when the customer pays less (for a struck-through price).
    async fn compare_at_unit_price(&self) -> Option<Money> {
        self.quote.and_then(|q| q.compare_at)
    }
    /// Which pricing rule gave the unit price.
    async fn price_rule(&self) -> Option<PriceRule> {
        self.quote.map(|q| q.rule)
    }
    /// Unit price times quantity.
    async fn line_total(&self) -> Option<Money> {
        self.quote.map(|q| q.line_total)
    }
    /// The line's part of the cart's discount.
    async fn discount_total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.discount, q.line_total.currency))
    }
    /// The tax rate applied, in basis points (1500 is 15%); 0 when no rule applies or the cart
    /// has no address yet.
    async fn tax_rate_basis_points(&self) -> i32 {
        self.amounts.tax.rate
    }
    /// Whether the tax is part of the price (true) or added to it (false).
    async fn tax_included(&self) -> bool {
        self.amounts.tax.inclusive
    }
    /// The tax in or on the line after its discount.
    async fn tax_total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.tax.amount, q.line_total.currency))
    }
    /// What the line costs: line total less its discount plus tax that the price does not
    /// include.
    async fn total(&self) -> Option<Money> {
        self.quote
            .map(|q| Money::new(self.amounts.total, q.line_total.currency))
    }
    /// Units available now across locations.
    async fn available_quantity(&self) -> i64 {
        self.available()
    }
    /// Whether to gift-wrap the line.
    async fn gift_wrap(&self) -> bool {
        self.line.gift_wrap
    }
    /// A message for the gift card.
    async fn gift_message(&self) -> Option<&str> {
        self.line.gift_message.as_deref()
    }
    /// Why the line cannot be bought as it stands; null when it can.
    async fn problem(&self) -> Option<LineProblem> {
        self.problem
    }
}

// ----- orders -----

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

/// An amount of an order's vendor order or line, in the order's currency.
async fn order_money(ctx: &Context<'_>, order: OrderId, amount: i64) -> Result<Money> {
    let order = ctx
        .loader::<OrdersLoader>()?
        .load_one(order)
        .await?
        .ok_or_else(|| ApiError::internal("a part of an order without its order"))?;
    Ok(money(amount, order.currency))
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
}

/// A line of an order: what was bought, with its title, SKU and price as they were then.
#[Object]
impl OrderLine {
    /// The line's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The variant bought.
    async fn variant(&self) -> ProductVariant {
        ProductVariant {
            id: to_id(self.variant_id),
        }
    }
    /// Its product.
    async fn product(&self) -> Product {
        Product {
            id: to_id(self.product_id),
        }
    }
    /// The product's title at purchase.
    async fn product_title(&self) -> &str {
        &self.product_title
    }
    /// The variant's title at purchase.
    async fn variant_title(&self) -> &str {
        &self.variant_title
    }
    /// The SKU at purchase.
    async fn sku(&self) -> &str {
        &self.sku
    }
    /// Units bought.
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

/// A payment of an order through a provider.
#[Object]
impl Payment {
    /// The payment's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The provider: MANUAL (cash, transfer) or STRIPE.
    async fn provider(&self) -> &str {
        self.provider.as_str()
    }
    /// How the customer pays.
    async fn method(&self) -> PaymentMethod {
        self.method
    }
    /// Where it stands with the provider.
    async fn status(&self) -> PaymentStatus {
        self.status
    }
    /// The amount to pay.
    async fn amount(&self) -> Money {
        money(self.amount, self.currency)
    }
    /// How much was taken.
    async fn captured_amount(&self) -> Money {
        money(self.captured_amount, self.currency)
    }
    /// How much of it was paid back.
    async fn refunded_amount(&self) -> Money {
        money(self.refunded_amount, self.currency)
    }
    /// For a card: the Stripe PaymentIntent's client secret, which the storefront passes to
    /// Stripe.js to confirm the payment. Null for other methods, and for a card payment whose
    /// intent could not be created yet (check out again with the same idempotency key).
    async fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_deref()
    }
    /// When it was started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
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
        crate::invoices::render_html(self, Utc::now())
    }
}

/// Money paid back on a payment.
#[Object]
impl Refund {
    /// The refund's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The payment it pays back.
    async fn payment_id(&self) -> ID {
        to_id(self.payment_id)
    }
    /// How much.
    async fn amount(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.order_id, self.amount).await
    }
    /// Why, as staff recorded it.
    async fn reason(&self) -> &str {
        &self.reason
    }
    /// Where it stands.
    async fn status(&self) -> RefundStatus {
        self.status
    }
    /// Why the provider refused it, when it did.
    async fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
    /// When it was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
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

// ----- queries -----

/// The orders subgraph's queries.
#[derive(Default)]
pub struct OrdersQuery;

#[Object]
impl OrdersQuery {
    /// A cart by id: a guest cart, or the signed-in customer's own. Null when there is none the
    /// caller may use.
    async fn cart(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PricedCart>> {
        Ok(carts::get(ctx.db(), ctx.request()?, parse_id(&id)?).await?)
    }

    /// The signed-in customer's open cart, if they have one.
    async fn my_cart(&self, ctx: &Context<'_>) -> Result<Option<PricedCart>> {
        Ok(carts::mine(ctx.db(), ctx.request()?).await?)
    }

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

    /// Resolves `User` references, to add their orders.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }
}

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(OrdersQuery, terms::TermsQuery);
