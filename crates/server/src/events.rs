//! Delivering outbox events over HTTP: each event is `POST`ed as JSON to the configured endpoint,
//! signed so the receiver can check it came from the platform.
//!
//! The body is the event (`id`, `tenant_id`, `topic`, `aggregate_id`, `payload`, `created_at`,
//! `attempts`). Headers:
//! - `cityos-event-id`: the event's id (the same on every redelivery; deduplicate by it);
//! - `cityos-signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`.
//!   Receivers recompute the HMAC over the raw body, compare in constant time, and refuse
//!   timestamps too far from their clock ([`verify`] does all three).
//!
//! Any 2xx answer counts as delivered; anything else (or no answer within 10 seconds) is retried.
//! The endpoint is an internal consumer (an event router or worker on the platform's network):
//! plain `http://` only.

use cityos_db::outbox::{Event, Sink};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write as _;
use std::time::Duration;
use subtle::ConstantTimeEq as _;

/// Where events go and the secret they are signed with.
#[derive(Clone)]
pub struct EventsConfig {
    /// The endpoint's URL (`http://...`).
    pub url: String,
    /// The signing secret, at least 32 bytes.
    pub secret: Vec<u8>,
    /// How long a dispatcher rests when nothing is due.
    pub idle: Duration,
}

impl std::fmt::Debug for EventsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsConfig")
            .field("url", &self.url)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl EventsConfig {
    /// Checks the URL and the secret.
    pub fn new(url: String, secret: Vec<u8>, idle: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            url.starts_with("http://"),
            "CITYOS_EVENTS_URL must be an http:// URL of an internal consumer"
        );
        anyhow::ensure!(
            secret.len() >= 32,
            "CITYOS_EVENTS_SECRET must have at least 32 bytes"
        );
        Ok(Self { url, secret, idle })
    }
}

/// Posts events to an HTTP endpoint.
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

impl WebhookSink {
    /// A sink for `config`'s endpoint.
    pub fn new(config: &EventsConfig) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            url: config.url.clone(),
            secret: config.secret.clone(),
        })
    }
}

/// The `cityos-signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let mut hex = String::with_capacity(64);
    for byte in mac.finalize().into_bytes() {
        let _ = write!(hex, "{byte:02x}");
    }
    format!("t={timestamp},v1={hex}")
}

/// What a receiver checks of a delivery: that `header` (`cityos-signature`) signs `body` under
/// `secret` (the HMAC compared in constant time) at a time within `tolerance` of now, so a
/// captured delivery cannot be replayed later.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    tolerance: Duration,
) -> Result<(), &'static str> {
    // Several `v1` signatures may be present (a sender rolling its secret): one must match.
    let mut timestamp = None;
    let mut macs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => macs.push(v),
            _ => {}
        }
    }
    let timestamp = timestamp
        .filter(|_| !macs.is_empty())
        .ok_or("malformed signature")?;
    let age = chrono::Utc::now().timestamp().abs_diff(timestamp);
    if age > tolerance.as_secs() {
        return Err("signature too old or from the future");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    let matches = macs.iter().any(|mac_hex| {
        let given: Option<Vec<u8>> = (0..mac_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(mac_hex.get(i..i + 2)?, 16).ok())
            .collect();
        given.is_some_and(|g| bool::from(g.as_slice().ct_eq(expected.as_slice())))
    });
    if matches {
        Ok(())
    } else {
        Err("signature does not match")
    }
}

impl Sink for WebhookSink {
    async fn deliver(&self, event: &Event) -> Result<(), String> {
        let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
        let signed = signature(&self.secret, chrono::Utc::now().timestamp(), &body);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("cityos-event-id", event.id.to_string())
            .header("cityos-signature", signed)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("sending: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the endpoint answered {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_time_and_body() {
        let secret = [7u8; 32];
        let a = signature(&secret, 1_700_000_000, b"{}");
        assert!(a.starts_with("t=1700000000,v1="));
        assert_eq!(a.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(a, signature(&secret, 1_700_000_001, b"{}"));
        assert_ne!(a, signature(&secret, 1_700_000_000, b"{ }"));
        assert_ne!(a, signature(&[8u8; 32], 1_700_000_000, b"{}"));
    }

    #[test]
    fn receivers_verify_body_secret_and_age() {
        let (secret, body) = ([7u8; 32], b"{\"id\":1}");
        let minute = Duration::from_secs(60);
        let now = chrono::Utc::now().timestamp();
        let header = signature(&secret, now, body);
        assert_eq!(verify(&secret, &header, body, minute), Ok(()));
        assert!(verify(&secret, &header, b"{\"id\":2}", minute).is_err());
        assert!(verify(&[8u8; 32], &header, body, minute).is_err());
        let stale = signature(&secret, now - 600, body);
        assert!(verify(&secret, &stale, body, minute).is_err());
        assert!(verify(&secret, "t=1,v1=zz", body, minute).is_err());
        assert!(verify(&secret, "garbage", body, minute).is_err());
    }

    #[test]
    fn only_internal_http_endpoints_with_long_secrets() {
        let idle = Duration::from_millis(500);
        assert!(EventsConfig::new("http://events:8080/in".into(), vec![1; 32], idle).is_ok());
        assert!(EventsConfig::new("https://x".into(), vec![1; 32], idle).is_err());
        assert!(EventsConfig::new("http://x".into(), vec![1; 31], idle).is_err());
    }
}
