//! Stripe's HTTP API as every subgraph speaks it: form-encoded requests, JSON answers, the bearer
//! secret key, and an `Idempotency-Key` on every write, so a retried write (after a timeout, a
//! crash, a redelivered job) never does the thing twice. Orders takes card payments through it;
//! the vendors subgraph pays vendors out through Stripe Connect transfers.

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

/// Why Stripe did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeError {
    /// What to tell an operator (Stripe's own message when it answered).
    pub message: String,
    /// Stripe's error code (`account_invalid`, `insufficient_funds`, ...), when it gave one.
    pub code: Option<String>,
    /// Whether asking again later may succeed: Stripe was unreachable, rate-limited us or failed
    /// on its side. A refusal (any other 4xx) will not change by itself.
    pub retryable: bool,
}

impl std::fmt::Display for StripeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
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
    /// default); `None` without a key.
    pub fn from_env() -> Option<Self> {
        let key = std::env::var("STRIPE_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())?;
        let base = std::env::var("STRIPE_API_BASE").unwrap_or_else(|_| DEFAULT_API_BASE.to_owned());
        Some(Self::new(base, key))
    }

    /// POSTs a form to `path` with `idempotency_key`: the JSON answer, or why not.
    pub async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        fields: &[(&str, String)],
    ) -> Result<Value, StripeError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", idempotency_key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(fields));
        answer(request.send().await).await
    }

    /// GETs `path`: the JSON answer, or why not.
    pub async fn get(&self, path: &str) -> Result<Value, StripeError> {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key);
        answer(request.send().await).await
    }
}

async fn answer(sent: reqwest::Result<reqwest::Response>) -> Result<Value, StripeError> {
    let response = sent.map_err(|e| StripeError {
        message: format!("Stripe unreachable: {e}"),
        code: None,
        retryable: true,
    })?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| StripeError {
        message: format!("Stripe answered something else than JSON: {e}"),
        code: None,
        retryable: true,
    })?;
    if !status.is_success() {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        return Err(StripeError {
            message: format!("Stripe refused ({status}): {message}"),
            code: body["error"]["code"].as_str().map(str::to_owned),
            retryable: status.is_server_error() || status.as_u16() == 429,
        });
    }
    Ok(body)
}

/// The string `field` of a Stripe object.
pub fn string(body: &Value, field: &str) -> Result<String, StripeError> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| StripeError {
            message: format!("Stripe's answer has no {field}"),
            code: None,
            retryable: false,
        })
}

#[cfg(test)]
mod tests {
    use super::form;

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(
            form(&[
                ("metadata[order_id]", "a b&c".into()),
                ("amount", "100".into())
            ]),
            "metadata%5Border_id%5D=a%20b%26c&amount=100"
        );
    }
}
