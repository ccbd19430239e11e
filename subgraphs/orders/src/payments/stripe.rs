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
use std::time::Duration;

/// Stripe's API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// A Stripe account: its API and secret key.
#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    base: String,
    secret_key: String,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes a form value or key (everything but unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An `application/x-www-form-urlencoded` body.
pub fn form(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Stripe {
    /// An account at `base` (Stripe's API, or a local double in tests) with `secret_key`.
    pub fn new(base: impl Into<String>, secret_key: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.into().trim_end_matches('/').to_owned(),
            secret_key: secret_key.into(),
        }
    }

    /// The account configured by `STRIPE_SECRET_KEY` (and `STRIPE_API_BASE`, Stripe's API by
    /// default); `None` without a key: card payments are then not offered.
    pub fn from_env() -> Option<Self> {
        let key = std::env::var("STRIPE_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())?;
        let base = std::env::var("STRIPE_API_BASE").unwrap_or_else(|_| DEFAULT_API_BASE.to_owned());
        Some(Self::new(base, key))
    }

    /// POSTs a form to `path` and returns the JSON answer, or Stripe's error message.
    async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        fields: &[(&str, String)],
    ) -> Result<Value, ProviderError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", idempotency_key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(fields))
            .send()
            .await
            .map_err(|e| ProviderError(format!("Stripe unreachable: {e}")))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| ProviderError(format!("Stripe answered something else than JSON: {e}")))?;
        if !status.is_success() {
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_owned();
            return Err(ProviderError(format!(
                "Stripe refused ({status}): {message}"
            )));
        }
        Ok(body)
    }
}

fn string(body: &Value, field: &str) -> Result<String, ProviderError> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError(format!("Stripe's answer has no {field}")))
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
    fn forms_are_percent_encoded() {
        assert_eq!(
            form(&[
                ("metadata[order_id]", "a b&c".into()),
                ("amount", "100".into())
            ]),
            "metadata%5Border_id%5D=a%20b%26c&amount=100"
        );
        assert_eq!(intent_status("succeeded"), PaymentStatus::Captured);
        assert_eq!(
            intent_status("requires_payment_method"),
            PaymentStatus::Pending
        );
    }
}
