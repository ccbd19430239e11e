//! Card payments through Stripe's HTTP API (form-encoded requests, JSON answers, bearer secret
//! key, `Idempotency-Key` on every write).
//!
//! Checkout records a PENDING card payment in its transaction; after it commits, a PaymentIntent
//! is created for it with the payment's id as idempotency key, so a retried checkout (or a crash
//! between the two) never creates a second intent. The storefront confirms the intent with
//! Stripe.js using the payment's `clientSecret`; Stripe tells us the outcome through the signed
//! webhook (see [`crate::webhooks`]). Intents capture automatically.

use crate::payments::{
    Answer, Charge, Payment, PaymentProvider, PaymentStatus, ProviderError, ProviderKind,
};
use serde_json::Value;

pub use cityos_server::stripe::{Stripe, StripeError};

impl From<StripeError> for ProviderError {
    fn from(e: StripeError) -> Self {
        ProviderError(e.message)
    }
}

fn string(body: &Value, field: &str) -> Result<String, ProviderError> {
    Ok(cityos_server::stripe::string(body, field)?)
}

/// Our status of a PaymentIntent's status.
pub fn intent_status(status: &str) -> PaymentStatus {
    match status {
        "succeeded" => PaymentStatus::Captured,
        "requires_capture" => PaymentStatus::Authorized,
        "canceled" => PaymentStatus::Cancelled,
        _ => PaymentStatus::Pending,
    }
}

impl PaymentProvider for Stripe {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }

    async fn authorize(&self, charge: &Charge<'_>) -> Result<Answer, ProviderError> {
        let intent = self
            .post(
                "/v1/payment_intents",
                charge.idempotency_key,
                &[
                    ("amount", charge.amount.to_string()),
                    ("currency", charge.currency.to_ascii_lowercase()),
                    ("payment_method_types[]", "card".into()),
                    ("metadata[tenant_id]", charge.tenant_id.to_string()),
                    ("metadata[order_id]", charge.order_id.to_string()),
                    ("metadata[payment_id]", charge.payment_id.to_string()),
                ],
            )
            .await?;
        Ok(Answer {
            status: intent_status(intent["status"].as_str().unwrap_or_default()),
            reference: Some(string(&intent, "id")?),
            client_secret: Some(string(&intent, "client_secret")?),
        })
    }

    async fn capture(&self, payment: &Payment, amount: i64) -> Result<Answer, ProviderError> {
        let id = reference(payment)?;
        let intent = self
            .post(
                &format!("/v1/payment_intents/{id}/capture"),
                &format!("capture-{}", payment.id),
                &[("amount_to_capture", amount.to_string())],
            )
            .await?;
        Ok(Answer {
            status: intent_status(intent["status"].as_str().unwrap_or_default()),
            reference: Some(id.to_owned()),
            client_secret: None,
        })
    }

    async fn cancel(&self, payment: &Payment) -> Result<Answer, ProviderError> {
        let Some(id) = payment.provider_reference.as_deref() else {
            // No intent was created: nothing to release.
            return Ok(Answer {
                status: PaymentStatus::Cancelled,
                reference: None,
                client_secret: None,
            });
        };
        let intent = self
            .post(
                &format!("/v1/payment_intents/{id}/cancel"),
                &format!("cancel-{}", payment.id),
                &[],
            )
            .await?;
        Ok(Answer {
            status: intent_status(intent["status"].as_str().unwrap_or_default()),
            reference: Some(id.to_owned()),
            client_secret: None,
        })
    }

    async fn refund(
        &self,
        payment: &Payment,
        amount: i64,
        key: &str,
    ) -> Result<Option<String>, ProviderError> {
        let id = reference(payment)?;
        let refund = self
            .post(
                "/v1/refunds",
                key,
                &[
                    ("payment_intent", id.to_owned()),
                    ("amount", amount.to_string()),
                    ("metadata[refund_key]", key.to_owned()),
                ],
            )
            .await?;
        if refund["status"].as_str() == Some("failed") {
            return Err(ProviderError("Stripe could not refund the card".into()));
        }
        Ok(Some(string(&refund, "id")?))
    }
}

fn reference(payment: &Payment) -> Result<&str, ProviderError> {
    payment
        .provider_reference
        .as_deref()
        .ok_or_else(|| ProviderError("the payment has no Stripe PaymentIntent".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_statuses_are_ours() {
        assert_eq!(intent_status("succeeded"), PaymentStatus::Captured);
        assert_eq!(
            intent_status("requires_payment_method"),
            PaymentStatus::Pending
        );
    }
}
