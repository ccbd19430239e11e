//! Payments in GraphQL: `Payment` and `paymentCapture`.

use crate::ids::{InvoiceId, PaymentId};
use crate::orders;
use crate::orders::graphql::{OrderPayload, order_payload};
use crate::payments::{Payment, PaymentMethod, PaymentStatus};
use crate::scope::money;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

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

/// A manual payment whose money arrived.
#[derive(InputObject)]
pub struct PaymentCaptureInput {
    /// The payment.
    pub payment_id: PaymentId,
}

/// Money that arrived against an invoice paid on account.
#[derive(InputObject)]
pub struct InvoicePaymentRecordInput {
    /// The invoice (of an order paid ON_ACCOUNT).
    pub invoice_id: InvoiceId,
    /// How much arrived, in minor units of the invoice's currency: at most what is left to pay.
    pub amount_minor: i64,
    /// The payer's reference (a bank transfer's), at most 100 characters.
    pub reference: Option<String>,
}

/// The mutations of payments.
#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
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

    /// Records money that arrived against the invoice of an order paid on account (staff), in
    /// part or in full: the company's open balance drops by it; the last of it makes the order
    /// and invoice PAID. More than is left to pay is PAYMENT_EXCEEDS_BALANCE.
    async fn invoice_payment_record(
        &self,
        ctx: &Context<'_>,
        input: InvoicePaymentRecordInput,
    ) -> Result<OrderPayload> {
        order_payload(
            orders::record_invoice_payment(
                ctx.db(),
                ctx.request()?,
                input.invoice_id,
                input.amount_minor,
                input.reference,
            )
            .await,
        )
    }
}
