//! The orders subgraph's mutations: cart changes, checkout, and the order's lifecycle.

use super::gateway;
use crate::carts::{self, Address, CartChanges, LineInput, PricedCart, ShippingChoice};
use crate::checkout::{self, CheckoutRequest};
use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{
    CartId, FulfillmentId, OrderId, PaymentId, ShippingMethodId, VariantId, VendorId, VendorOrderId,
};
use crate::orders::{self, Fulfillment, Order};
use crate::payments::PaymentMethod;
use crate::refunds::{self, Refund};
use async_graphql::{Context, ID, InputObject, MergedObject, Object, Result};
use cityos_core::ids::parse_id;
use cityos_server::CtxExt as _;

cityos_core::payload! {
    /// The result of a cart mutation.
    CartPayload<OrdersUserError> {
        /// The cart as it is now; null when refused.
        cart: PricedCart,
    }
}

fn cart_payload(outcome: Outcome<PricedCart>) -> Result<CartPayload> {
    Ok(CartPayload::of(outcome)?)
}

cityos_core::payload! {
    /// The result of an order mutation.
    OrderPayload<OrdersUserError> {
        /// The order as it is now; null when refused.
        order: Order,
    }
}

fn order_payload(outcome: Outcome<Order>) -> Result<OrderPayload> {
    Ok(OrderPayload::of(outcome)?)
}

cityos_core::payload! {
    /// The result of a fulfilment mutation.
    FulfillmentPayload<OrdersUserError> {
        /// The fulfilment as it is now; null when refused.
        fulfillment: Fulfillment,
    }
}

/// A new cart.
#[derive(InputObject)]
pub struct CartCreateInput {
    /// ISO 4217 currency to price the cart in; the tenant's default when omitted.
    pub currency: Option<String>,
    /// A guest's e-mail address.
    pub email: Option<String>,
}

/// A line to put in a cart.
#[derive(InputObject)]
pub struct CartLineInput {
    /// The variant.
    pub variant_id: VariantId,
    /// Units, 1 to 10,000; added to the units already on the cart.
    pub quantity: i32,
    /// Gift-wrap the line.
    pub gift_wrap: Option<bool>,
    /// A message for the gift card, at most 300 characters.
    pub gift_message: Option<String>,
}

/// Lines to add.
#[derive(InputObject)]
pub struct CartLinesAddInput {
    /// The cart.
    pub cart_id: CartId,
    /// 1 to 100 lines, each variant once.
    pub lines: Vec<CartLineInput>,
}

/// A change to a line already in a cart; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CartLineUpdateInput {
    /// The variant whose line to change.
    pub variant_id: VariantId,
    /// The new number of units, 1 to 10,000 (remove a line with `cartLinesRemove`).
    pub quantity: Option<i32>,
    /// Gift-wrap the line or not.
    pub gift_wrap: Option<bool>,
    /// A new gift message; an empty one removes it.
    pub gift_message: Option<String>,
}

/// Lines to change.
#[derive(InputObject)]
pub struct CartLinesUpdateInput {
    /// The cart.
    pub cart_id: CartId,
    /// 1 to 100 changes, each variant once.
    pub lines: Vec<CartLineUpdateInput>,
}

/// Lines to remove.
#[derive(InputObject)]
pub struct CartLinesRemoveInput {
    /// The cart.
    pub cart_id: CartId,
    /// The variants whose lines to remove (1 to 100).
    pub variant_ids: Vec<VariantId>,
}

/// Contact and delivery details of a cart; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CartUpdateInput {
    /// The cart.
    pub cart_id: CartId,
    /// The buyer's e-mail address (required for a guest checkout).
    pub email: Option<String>,
    /// Where to ship (required for checkout unless every vendor group is picked up); also where
    /// taxes are reckoned.
    pub shipping_address: Option<Address>,
    /// Where to bill (required for a cart that is picked up entirely).
    pub billing_address: Option<Address>,
    /// Instructions for delivering the cart, at most 500 characters; empty clears them.
    pub delivery_instructions: Option<String>,
}

/// A discount code to apply to a cart.
#[derive(InputObject)]
pub struct CartDiscountApplyInput {
    /// The cart.
    pub cart_id: CartId,
    /// The code as the shopper typed it (case and surrounding spaces do not matter).
    pub code: String,
}

/// A cart to act on.
#[derive(InputObject)]
pub struct CartInput {
    /// The cart.
    pub cart_id: CartId,
}

/// How one vendor's part of a cart ships.
#[derive(InputObject)]
pub struct CartShippingMethodSetInput {
    /// The cart.
    pub cart_id: CartId,
    /// The vendor whose part it is; omit it for the tenant's own products.
    pub vendor_id: Option<VendorId>,
    /// One of the group's `shippingOptions`.
    pub method_id: ShippingMethodId,
    /// Instructions for delivering this part, at most 500 characters; empty clears them,
    /// omitted keeps them.
    pub delivery_instructions: Option<String>,
}

/// A guest cart to merge after sign-in.
#[derive(InputObject)]
pub struct CartMergeInput {
    /// The cart the shopper filled before signing in.
    pub guest_cart_id: ID,
}

/// Checking out a cart.
#[derive(InputObject)]
pub struct CheckoutCompleteInput {
    /// The cart.
    pub cart_id: CartId,
    /// A key the client makes for this attempt (1 to 100 characters) and repeats on retry: the
    /// same key returns the same order; used with another cart it is refused.
    pub idempotency_key: String,
    /// How the customer pays; cash on delivery when omitted.
    pub payment_method: Option<PaymentMethod>,
    /// The total the shopper was shown, in minor units: checkout refuses with PRICE_CHANGED if the
    /// cart costs something else now.
    pub expected_total_minor: Option<i64>,
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

/// A manual payment whose money arrived.
#[derive(InputObject)]
pub struct PaymentCaptureInput {
    /// The payment.
    pub payment_id: PaymentId,
}

/// Money to pay back on a captured payment.
#[derive(InputObject)]
pub struct PaymentRefundInput {
    /// The payment.
    pub payment_id: PaymentId,
    /// How much, in minor units: above zero and at most what is left of the captured amount.
    pub amount_minor: i64,
    /// Why, at most 500 characters.
    pub reason: Option<String>,
}

cityos_core::payload! {
    /// The result of `paymentRefund`.
    RefundPayload<OrdersUserError> {
        /// The refund; null when refused.
        refund: Refund,
    }
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

fn line_inputs(
    lines: impl IntoIterator<Item = (VariantId, Option<i32>, Option<bool>, Option<String>)>,
) -> Result<Vec<LineInput>> {
    Ok(lines
        .into_iter()
        .map(
            |(variant_id, quantity, gift_wrap, gift_message)| LineInput {
                variant_id,
                quantity,
                gift_wrap,
                gift_message,
            },
        )
        .collect())
}

/// Cart and checkout mutations.
#[derive(Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    /// Starts a cart. Guests may (with the storefront key); a signed-in customer gets back their
    /// open cart when they have one in that currency.
    async fn cart_create(&self, ctx: &Context<'_>, input: CartCreateInput) -> Result<CartPayload> {
        cart_payload(carts::create(ctx.db(), ctx.request()?, input.currency, input.email).await)
    }

    /// Adds lines; a variant already in the cart gets the units added. Each must be on sale,
    /// priced in the cart's currency and in stock for the line's new quantity.
    async fn cart_lines_add(
        &self,
        ctx: &Context<'_>,
        input: CartLinesAddInput,
    ) -> Result<CartPayload> {
        let lines = line_inputs(
            input
                .lines
                .into_iter()
                .map(|l| (l.variant_id, Some(l.quantity), l.gift_wrap, l.gift_message)),
        )?;
        let cart = input.cart_id;
        cart_payload(carts::add_lines(ctx.db(), ctx.request()?, cart, lines).await)
    }

    /// Changes lines' quantity, gift wrap or gift message.
    async fn cart_lines_update(
        &self,
        ctx: &Context<'_>,
        input: CartLinesUpdateInput,
    ) -> Result<CartPayload> {
        let lines = line_inputs(
            input
                .lines
                .into_iter()
                .map(|l| (l.variant_id, l.quantity, l.gift_wrap, l.gift_message)),
        )?;
        let cart = input.cart_id;
        cart_payload(carts::update_lines(ctx.db(), ctx.request()?, cart, lines).await)
    }

    /// Removes lines by variant.
    async fn cart_lines_remove(
        &self,
        ctx: &Context<'_>,
        input: CartLinesRemoveInput,
    ) -> Result<CartPayload> {
        let variants = input.variant_ids;
        let cart = input.cart_id;
        cart_payload(carts::remove_lines(ctx.db(), ctx.request()?, cart, variants).await)
    }

    /// Sets the cart's e-mail, addresses and delivery instructions.
    async fn cart_update(&self, ctx: &Context<'_>, input: CartUpdateInput) -> Result<CartPayload> {
        let cart = input.cart_id;
        let changes = CartChanges {
            email: input.email,
            shipping_address: input.shipping_address,
            billing_address: input.billing_address,
            delivery_instructions: input.delivery_instructions,
        };
        cart_payload(carts::update(ctx.db(), ctx.request()?, cart, changes).await)
    }

    /// Applies a discount code, replacing the cart's code if it had one. Refused, with the reason
    /// as its code, when the code does not apply to the cart now.
    async fn cart_discount_apply(
        &self,
        ctx: &Context<'_>,
        input: CartDiscountApplyInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        cart_payload(carts::apply_discount(ctx.db(), ctx.request()?, cart, input.code).await)
    }

    /// Takes the discount code off the cart.
    async fn cart_discount_remove(
        &self,
        ctx: &Context<'_>,
        input: CartInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        cart_payload(carts::remove_discount(ctx.db(), ctx.request()?, cart).await)
    }

    /// Chooses how one vendor's part of the cart ships, with instructions for that shipment.
    async fn cart_shipping_method_set(
        &self,
        ctx: &Context<'_>,
        input: CartShippingMethodSetInput,
    ) -> Result<CartPayload> {
        let cart = input.cart_id;
        let choice = ShippingChoice {
            vendor: input.vendor_id,
            method: input.method_id,
            instructions: input.delivery_instructions,
        };
        cart_payload(carts::choose_shipping(ctx.db(), ctx.request()?, cart, choice).await)
    }

    /// After sign-in: moves a guest cart's lines into the customer's open cart (or makes the guest
    /// cart theirs when they have none). The guest cart is closed as MERGED.
    async fn cart_merge(&self, ctx: &Context<'_>, input: CartMergeInput) -> Result<CartPayload> {
        let guest = parse_id(&input.guest_cart_id)?;
        cart_payload(carts::merge(ctx.db(), ctx.request()?, guest).await)
    }

    /// Places the order for a cart in one transaction: re-prices it, takes the stock, writes the
    /// order split by vendor, starts the payment and closes the cart. Retrying with the same
    /// idempotency key returns the same order.
    async fn checkout_complete(
        &self,
        ctx: &Context<'_>,
        input: CheckoutCompleteInput,
    ) -> Result<OrderPayload> {
        let asked = CheckoutRequest {
            cart_id: input.cart_id,
            idempotency_key: input.idempotency_key,
            payment_method: input
                .payment_method
                .unwrap_or(PaymentMethod::CashOnDelivery),
            expected_total: input.expected_total_minor,
        };
        order_payload(checkout::complete(ctx.db(), ctx.request()?, asked, gateway(ctx)).await)
    }
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

    /// Records that a cash or bank-transfer payment arrived (staff): the order is PAID, and
    /// CONFIRMED if it was PENDING.
    async fn payment_capture(
        &self,
        ctx: &Context<'_>,
        input: PaymentCaptureInput,
    ) -> Result<OrderPayload> {
        let id = input.payment_id;
        order_payload(orders::capture_payment(ctx.db(), ctx.request()?, id).await)
    }

    /// Pays part or all of a captured payment back through its provider (staff). Refunds never
    /// add up to more than was captured; a refund the provider refuses changes nothing.
    async fn payment_refund(
        &self,
        ctx: &Context<'_>,
        input: PaymentRefundInput,
    ) -> Result<RefundPayload> {
        let id = input.payment_id;
        let outcome = refunds::refund(
            ctx.db(),
            ctx.request()?,
            gateway(ctx),
            id,
            input.amount_minor,
            input.reason,
        )
        .await;
        Ok(RefundPayload::of(outcome)?)
    }

    /// Ships a vendor order with a carrier and tracking number (staff).
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

    /// Records a delivery (staff); the order completes when every vendor order is delivered.
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

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    CartMutation,
    OrderMutation,
    super::terms::TermsMutation,
    super::aftercare::AftercareMutation,
);
