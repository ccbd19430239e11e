//! Refunds in GraphQL: `Refund` and `paymentRefund`.

use crate::errors::OrdersUserError;
use crate::ids::PaymentId;
use crate::refunds::{self, Refund, RefundStatus};
use crate::scope::{gateway, order_money};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

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

cityos_core::payload! {
    /// The result of `paymentRefund`.
    RefundPayload<OrdersUserError> {
        /// The refund; null when refused.
        refund: Refund,
    }
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

/// The mutations of refunds.
#[derive(Default)]
pub struct RefundMutation;

#[Object]
impl RefundMutation {
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
}
