//! A local stand-in for Stripe's API, speaking its protocol for what the platform uses: bearer
//! secret key, form-encoded bodies, `Idempotency-Key` (a repeated key returns the first answer),
//! JSON objects and `{"error": {...}}` refusals. PaymentIntents (create, cancel) and refunds
//! (bounded by the intent's amount); for Connect, connected accounts (read) and transfers to them
//! (refused unless the account's `transfers` capability is active; accounts created through the
//! API are onboarded at once). Tests play the customer with
//! `succeed`, open and restrict connected accounts, and sign webhook events the way Stripe does.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The secret key the double accepts.
pub const SECRET_KEY: &str = "sk_test_double";
/// The secret webhook events are signed with.
pub const WEBHOOK_SECRET: &str = "whsec_test_double";

/// What the double has seen and holds.
#[derive(Default)]
pub struct Books {
    /// Answers by idempotency key.
    pub answered: HashMap<String, Value>,
    /// PaymentIntents by id.
    pub intents: HashMap<String, Value>,
    /// Refunded per intent.
    pub refunded: HashMap<String, i64>,
    /// Connected accounts by id.
    pub accounts: HashMap<String, Value>,
    /// Transfers made, in order.
    pub transfers: Vec<Value>,
    /// Writes that created something (a replayed key creates nothing).
    pub created: usize,
    /// While set, every write is refused as if Stripe were down.
    pub down: bool,
}

/// A running double.
#[derive(Clone)]
pub struct StripeDouble {
    pub base: String,
    pub books: Arc<Mutex<Books>>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((decode(k), decode(v)))
        })
        .collect()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {SECRET_KEY}"))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "type": "invalid_request_error", "message": message } })),
    )
        .into_response()
}

/// Checks the key and idempotency, then runs `create` once per idempotency key.
fn write(
    books: &Mutex<Books>,
    headers: &HeaderMap,
    create: impl FnOnce(&mut Books) -> Result<Value, (StatusCode, String)>,
) -> Response {
    if !authorized(headers) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return refuse(StatusCode::BAD_REQUEST, "the platform always sends a key");
    };
    let mut books = books
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if books.down {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "Stripe is down");
    }
    if let Some(answer) = books.answered.get(&key) {
        return axum::Json(answer.clone()).into_response();
    }
    match create(&mut books) {
        Ok(answer) => {
            books.created += 1;
            books.answered.insert(key, answer.clone());
            axum::Json(answer).into_response()
        }
        Err((status, message)) => refuse(status, &message),
    }
}

async fn create_intent(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    write(&books, &headers, |books| {
        let amount: i64 = form
            .get("amount")
            .and_then(|a| a.parse().ok())
            .ok_or((StatusCode::BAD_REQUEST, "amount".to_owned()))?;
        let id = format!("pi_{}", books.intents.len() + 1);
        let intent = json!({
            "id": id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": form.get("currency"),
            "status": "requires_payment_method",
            "client_secret": format!("{id}_secret_double"),
            "metadata": {
                "order_id": form.get("metadata[order_id]"),
                "payment_id": form.get("metadata[payment_id]"),
                "tenant_id": form.get("metadata[tenant_id]"),
            },
        });
        books.intents.insert(id, intent.clone());
        Ok(intent)
    })
}

async fn cancel_intent(
    State(books): State<Arc<Mutex<Books>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    write(&books, &headers, |books| {
        let intent = books
            .intents
            .get_mut(&id)
            .ok_or((StatusCode::NOT_FOUND, "No such payment_intent".to_owned()))?;
        if intent["status"] == "succeeded" {
            return Err((
                StatusCode::BAD_REQUEST,
                "You cannot cancel this PaymentIntent because it has a status of succeeded."
                    .to_owned(),
            ));
        }
        intent["status"] = json!("canceled");
        Ok(intent.clone())
    })
}

async fn create_refund(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    write(&books, &headers, |books| {
        let intent = form.get("payment_intent").cloned().unwrap_or_default();
        let amount: i64 = form.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
        let received = books
            .intents
            .get(&intent)
            .filter(|i| i["status"] == "succeeded")
            .and_then(|i| i["amount_received"].as_i64())
            .ok_or((
                StatusCode::BAD_REQUEST,
                "This PaymentIntent has no charge".to_owned(),
            ))?;
        let refunded = books.refunded.entry(intent.clone()).or_insert(0);
        if *refunded + amount > received {
            return Err((
                StatusCode::BAD_REQUEST,
                "Refund amount is greater than unrefunded amount on charge".to_owned(),
            ));
        }
        *refunded += amount;
        Ok(json!({
            "id": format!("re_{}_{}", intent, *refunded),
            "object": "refund",
            "amount": amount,
            "payment_intent": intent,
            "status": "succeeded",
        }))
    })
}

async fn read_account(
    State(books): State<Arc<Mutex<Books>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid API Key provided");
    }
    let books = books
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match books.accounts.get(&id) {
        Some(account) => axum::Json(account.clone()).into_response(),
        None => refuse(StatusCode::NOT_FOUND, &format!("No such account: '{id}'")),
    }
}

/// `POST /v1/accounts`: a connected account, onboarded at once (Stripe's own test mode needs the
/// onboarding done; the double skips it).
async fn create_account(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    write(&books, &headers, |books| {
        let id = format!("acct_double{}", books.accounts.len() + 1);
        let account = onboarded(&id, true);
        let mut account = account;
        account["email"] = json!(form.get("email"));
        books.accounts.insert(id, account.clone());
        Ok(account)
    })
}

fn onboarded(id: &str, onboarded: bool) -> Value {
    json!({
        "id": id,
        "object": "account",
        "details_submitted": onboarded,
        "payouts_enabled": onboarded,
        "charges_enabled": onboarded,
        "capabilities": { "transfers": if onboarded { "active" } else { "inactive" } },
        "requirements": { "disabled_reason": if onboarded { Value::Null } else { json!("requirements.past_due") } },
    })
}

async fn create_transfer(
    State(books): State<Arc<Mutex<Books>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    write(&books, &headers, |books| {
        let amount: i64 = form
            .get("amount")
            .and_then(|a| a.parse().ok())
            .filter(|a| *a > 0)
            .ok_or((
                StatusCode::BAD_REQUEST,
                "Invalid positive integer".to_owned(),
            ))?;
        let destination = form.get("destination").cloned().unwrap_or_default();
        let account = books.accounts.get(&destination).ok_or((
            StatusCode::BAD_REQUEST,
            format!("No such destination: '{destination}'"),
        ))?;
        if account["capabilities"]["transfers"] != "active" {
            return Err((
                StatusCode::BAD_REQUEST,
                "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments".to_owned(),
            ));
        }
        let transfer = json!({
            "id": format!("tr_{}", books.transfers.len() + 1),
            "object": "transfer",
            "amount": amount,
            "currency": form.get("currency"),
            "destination": destination,
            "transfer_group": form.get("transfer_group"),
            "metadata": { "payout_id": form.get("metadata[payout_id]") },
            "reversed": false,
        });
        books.transfers.push(transfer.clone());
        Ok(transfer)
    })
}

impl StripeDouble {
    /// Starts the double on a free local port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// Starts the double on `address` (`127.0.0.1:4090`; port 0 for a free one).
    pub async fn start_on(address: &str) -> Self {
        let books = Arc::new(Mutex::new(Books::default()));
        let app = Router::new()
            .route("/v1/payment_intents", post(create_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .route("/v1/refunds", post(create_refund))
            .route("/health", get(|| async { "ok" }))
            .route("/v1/accounts", post(create_account))
            .route("/v1/accounts/{id}", get(read_account))
            .route("/v1/transfers", post(create_transfer))
            .with_state(books.clone());
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .unwrap_or_else(|e| panic!("listening on {address}: {e}"));
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, books }
    }

    /// The books, to look at or change.
    pub fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The customer confirms `intent` with their card: it succeeds for its whole amount.
    pub fn succeed(&self, intent: &str) -> Value {
        let mut books = self.books();
        let found = books.intents.get_mut(intent).expect("the intent");
        found["status"] = json!("succeeded");
        found["amount_received"] = found["amount"].clone();
        found.clone()
    }

    /// Opens a connected account, its onboarding done (`transfers` active) or not yet; its id.
    pub fn connect_account(&self, onboarded_now: bool) -> String {
        let mut books = self.books();
        let id = format!("acct_double{}", books.accounts.len() + 1);
        books
            .accounts
            .insert(id.clone(), onboarded(&id, onboarded_now));
        id
    }

    /// Stripe restricts connected account `id` (its `transfers` capability goes inactive after
    /// onboarding, as when verification lapses).
    pub fn restrict(&self, id: &str) {
        let mut books = self.books();
        let account = books.accounts.get_mut(id).expect("the account");
        account["capabilities"]["transfers"] = json!("inactive");
        account["payouts_enabled"] = json!(false);
        account["details_submitted"] = json!(true);
        account["requirements"]["disabled_reason"] = json!("requirements.past_due");
    }

    /// Stripe's refunded total of `intent`'s charge, changed as a refund in the dashboard would.
    pub fn refund_in_dashboard(&self, intent: &str, amount: i64) -> i64 {
        let mut books = self.books();
        let total = books.refunded.entry(intent.to_owned()).or_insert(0);
        *total += amount;
        *total
    }
}

/// A webhook event as Stripe sends it.
pub fn event(id: &str, kind: &str, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id,
        "object": "event",
        "type": kind,
        "data": { "object": object },
    }))
    .expect("json")
}

/// The `Stripe-Signature` header of `body` signed `age_seconds` ago with `secret`.
pub fn signature(secret: &str, body: &[u8], age_seconds: i64) -> String {
    let at = chrono::Utc::now().timestamp() - age_seconds;
    cityos_server::events::signature(secret.as_bytes(), at, body)
}
