//! Checkout in GraphQL: `checkoutComplete`, which turns a cart into an order.

use crate::checkout::{self, CheckoutRequest};
use crate::ids::CartId;
use crate::orders::graphql::{OrderPayload, order_payload};
use crate::payments::PaymentMethod;
use crate::scope::gateway;
use async_graphql::{Context, InputObject, Object, Result};
use cityos_server::CtxExt as _;

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
    /// The buyer's purchase-order number (1 to 64 characters), recorded on the order; a company
    /// may require one (PURCHASE_ORDER_REQUIRED).
    pub purchase_order_number: Option<String>,
}

/// The mutation of checkout.
#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places the order for a cart in one transaction: re-prices it, takes the stock, writes the
    /// order split by vendor, starts the payment and closes the cart. Retrying with the same
    /// idempotency key returns the same order. A company cart is held to its company's rules:
    /// membership, the buyer's per-order and monthly limits, a required purchase-order number,
    /// and for ON_ACCOUNT its NET terms and credit limit (the order is then confirmed and
    /// invoiced at once).
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
            purchase_order_number: input.purchase_order_number,
        };
        order_payload(checkout::complete(ctx.db(), ctx.request()?, asked, gateway(ctx)).await)
    }
}
