//! Events over HTTP between subgraphs: a publisher's dispatcher `POST`s each event to each
//! subscriber's `/events` endpoint ([`HttpSink`]), and a consuming subgraph serves that endpoint
//! ([`routes`]): it checks the signature and age, then applies the event once through its inbox
//! ([`cityos_db::inbox`]).
//!
//! The body is the event as JSON ([`cityos_db::outbox::Event`]: `id`, `source`, `tenant_id`,
//! `topic`, `aggregate_id`, `payload`, `created_at`, `attempt`). Headers:
//! - `cityos-event-id`: the event's id (the same on every redelivery);
//! - `cityos-signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`,
//!   the platform's shared `CITYOS_EVENTS_SECRET`. [`verify`] checks the HMAC over the raw body in
//!   constant time and refuses a timestamp more than five minutes from the receiver's clock.
//!
//! The endpoint answers 200 with `{"applied": true}` (the effect happened now) or `false` (it had
//! happened before); 401 for a bad signature; 400 for a body that is not an event; 422 when the
//! consumer refused the event (its error in the body), and 503 when the database is unreachable.
//! The dispatcher counts 4xx answers as refusals (retried with backoff, dead after the last
//! attempt) and no answer, 502, 503 and 504 as an unreachable subscriber (its events wait, and it
//! catches up in order). Endpoints are internal (the platform's network, never the router): plain
//! `http://` only.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cityos_db::Database;
use cityos_db::inbox::{Applied, Consumers, Inbox, Refusal};
use cityos_db::outbox::{Event, Failure, Sink};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq as _;
use tracing::Instrument as _;

/// How far a signature's time may be from the receiver's clock.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);

/// The signing secret of events between subgraphs and how dispatchers pace themselves.
#[derive(Clone)]
pub struct EventsConfig {
    /// The shared signing secret, at least 32 bytes.
    pub secret: Vec<u8>,
    /// How long a dispatcher or job runner rests when nothing is due.
    pub idle: Duration,
    /// Refusals after which a delivery is dead.
    pub max_attempts: i32,
}

impl std::fmt::Debug for EventsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsConfig")
            .field("idle", &self.idle)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl EventsConfig {
    /// Checks the secret and the attempts.
    pub fn new(secret: Vec<u8>, idle: Duration, max_attempts: i32) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 32,
            "CITYOS_EVENTS_SECRET must have at least 32 bytes"
        );
        anyhow::ensure!(
            (1..=100).contains(&max_attempts),
            "CITYOS_EVENTS_MAX_ATTEMPTS must be between 1 and 100"
        );
        Ok(Self {
            secret,
            idle,
            max_attempts,
        })
    }
}

/// Posts events to one subscriber's endpoint.
pub struct HttpSink {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

impl HttpSink {
    /// A sink for the endpoint at `url` (`http://...`), signing with `config`'s secret.
    pub fn new(url: String, config: &EventsConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(
            url.starts_with("http://"),
            "an event endpoint is an internal http:// URL, not {url}"
        );
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            url,
            secret: config.secret.clone(),
        })
    }
}

/// HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`: what a signature carries.
fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The `cityos-signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for byte in mac(secret, timestamp, body) {
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
    let expected = mac(secret, timestamp, body);
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

impl Sink for HttpSink {
    async fn deliver(&self, event: &Event) -> Result<(), Failure> {
        let body = serde_json::to_vec(event).map_err(|e| Failure::Refused(e.to_string()))?;
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
            .map_err(|e| Failure::Unreachable(format!("sending: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let said: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(500)
            .collect();
        let failure = format!("the subscriber answered {status}: {said}");
        match status.as_u16() {
            502..=504 => Err(Failure::Unreachable(failure)),
            _ => Err(Failure::Refused(failure)),
        }
    }
}

/// What the event endpoint needs.
struct Endpoint {
    db: Database,
    inbox: Inbox,
    consumers: Consumers,
    secret: Vec<u8>,
}

/// `POST /events` for a subgraph that consumes `consumers`, with its inbox in `schema`.
pub fn routes(db: Database, schema: &'static str, consumers: Consumers, secret: Vec<u8>) -> Router {
    let endpoint = Arc::new(Endpoint {
        db,
        inbox: Inbox::of(schema),
        consumers,
        secret,
    });
    Router::new()
        .route("/events", axum::routing::post(receive))
        .with_state(endpoint)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signed = headers
        .get("cityos-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Err(why) = verify(&endpoint.secret, signed, &body, SIGNATURE_TOLERANCE) {
        return answer(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({ "error": why }),
        );
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            let error = format!("the body is not an event: {e}");
            return answer(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": error }),
            );
        }
    };
    let span = tracing::info_span!("event", event.id = %event.id, event.topic = %event.topic, event.source = %event.source, tenant.id = %event.tenant_id, attempt = event.attempt);
    async move {
        let started = std::time::Instant::now();
        let outcome = endpoint
            .inbox
            .apply(&endpoint.db, &endpoint.consumers, &event)
            .await;
        crate::metrics::event_consumed(&event.topic, &outcome, started.elapsed());
        match outcome {
            Ok(applied) => {
                tracing::debug!(?applied, "event consumed");
                answer(
                    StatusCode::OK,
                    serde_json::json!({ "applied": applied == Applied::Now }),
                )
            }
            Err(Refusal::UnknownTopic(topic)) => {
                let error = format!("this subgraph does not consume {topic}");
                answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    serde_json::json!({ "error": error }),
                )
            }
            Err(Refusal::Failed(error)) => {
                if !endpoint.db.ping().await {
                    return answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        serde_json::json!({ "error": "the database is unreachable" }),
                    );
                }
                tracing::warn!(code = error.code.as_str(), error = %error.message, "event refused");
                answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    serde_json::json!({ "error": error.message, "code": error.code.as_str() }),
                )
            }
        }
    }
    .instrument(span)
    .await
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
        let config = EventsConfig::new(vec![1; 32], idle, 10).expect("config");
        assert!(HttpSink::new("http://catalog:4002/events".into(), &config).is_ok());
        assert!(HttpSink::new("https://x/events".into(), &config).is_err());
        assert!(EventsConfig::new(vec![1; 31], idle, 10).is_err());
        assert!(EventsConfig::new(vec![1; 32], idle, 0).is_err());
    }
}
