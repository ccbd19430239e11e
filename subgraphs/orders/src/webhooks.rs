//! `POST /webhooks/stripe`: Stripe tells us what became of card payments.
//!
//! Every delivery is checked before anything is read from it: `Stripe-Signature` carries a
//! timestamp and one or more `v1` HMAC-SHA256 signatures of `timestamp.body` under the webhook
//! secret; one must match (compared in constant time) and the timestamp must be within five
//! minutes of now. A bad, missing or stale signature gets 400 and changes nothing.
//!
//! The event names a PaymentIntent, not a tenant: its tenant is looked up as the lookup role (see
//! `cityos_db::LOOKUP_ROLE`), then everything happens in that tenant's transaction under the
//! order's and the payment's locks. The event's id is recorded in the same transaction, so a
//! redelivered event changes nothing.
//!
//! - `payment_intent.succeeded`: the payment CAPTURED for the amount received, the order PAID and,
//!   if PENDING, CONFIRMED.
//! - `payment_intent.payment_failed`: a pending payment FAILED (the customer may still retry with
//!   the same intent; a later success wins).
//! - `charge.refunded`: the payment's refunded total brought up to Stripe's (refunds made in
//!   Stripe's dashboard count too), the order PARTIALLY_REFUNDED or REFUNDED.
//!
//! Other event types are acknowledged and ignored.

use crate::errors::OrdersErrorCode as Code;
use crate::ids::{OrderId, PaymentId, TenantId};
use crate::orders::{self, OrderPaymentStatus, OrderStatus};
use crate::payments::{Gateway, Payment, PaymentStatus, ProviderKind};
use crate::refunds::record_refunded;
use crate::schema::{orders as orders_table, payments};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cityos_core::{ApiError, Failure};
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How old a signed delivery may be.
pub const TOLERANCE: Duration = Duration::from_secs(300);

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The event changed what it describes.
    Applied,
    /// The event was processed before: nothing changed.
    Duplicate,
    /// Not an event this platform acts on, or about a payment it does not know.
    Ignored(String),
}

/// Why a delivery was refused.
#[derive(Debug)]
pub enum Refused {
    /// No webhook secret is configured, or the signature is missing, wrong or stale.
    Signature(&'static str),
    /// The body is not an event.
    Malformed(String),
    /// The database failed: Stripe should deliver again.
    Internal(ApiError),
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Self::Internal(error)
    }
}

impl From<diesel::result::Error> for Refused {
    fn from(error: diesel::result::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<Failure<Code>> for Refused {
    fn from(failure: Failure<Code>) -> Self {
        Self::Internal(failure.into_api())
    }
}

/// Checks and applies one delivery of Stripe's webhook.
#[tracing::instrument(name = "stripe.webhook", skip_all)]
pub async fn stripe_event(
    db: &Database,
    secret: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Handled, Refused> {
    let secret = secret.ok_or(Refused::Signature("no webhook secret is configured"))?;
    let signature = signature.ok_or(Refused::Signature("no Stripe-Signature header"))?;
    cityos_server::events::verify(secret.as_bytes(), signature, body, TOLERANCE)
        .map_err(Refused::Signature)?;
    let event: Value =
        serde_json::from_slice(body).map_err(|e| Refused::Malformed(e.to_string()))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(Refused::Malformed("an event has an id and a type".into()));
    };
    let object = &event["data"]["object"];
    let intent = match kind {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => object["id"].as_str(),
        "charge.refunded" => object["payment_intent"].as_str(),
        other => return Ok(Handled::Ignored(format!("{other} is not acted on"))),
    };
    let Some(intent) = intent.map(str::to_owned) else {
        return Err(Refused::Malformed(format!(
            "{kind} without its PaymentIntent"
        )));
    };
    let Some(tenant) = tenant_of(db, &intent).await? else {
        return Ok(Handled::Ignored(format!(
            "no payment has the intent {intent}"
        )));
    };
    let (id, kind, object) = (id.to_owned(), kind.to_owned(), object.clone());
    db.tenant_tx(tenant, async move |tx| {
        apply(tx, &id, &kind, &intent, &object).await
    })
    .await
}

#[derive(QueryableByName)]
struct TenantRow {
    #[diesel(sql_type = SqlUuid)]
    tenant_id: TenantId,
}

/// The tenant whose payment has the PaymentIntent `intent`.
async fn tenant_of(db: &Database, intent: &str) -> Result<Option<TenantId>, ApiError> {
    let intent = intent.to_owned();
    db.lookup_tx(async move |conn| {
        let row: Option<TenantRow> = Prepared(
            diesel::sql_query(
                "SELECT tenant_id FROM orders.payments
                 WHERE provider = 'STRIPE' AND provider_reference = $1",
            )
            .bind::<Text, _>(intent),
        )
        .get_result(conn)
        .await
        .optional()?;
        Ok(row.map(|r| r.tenant_id))
    })
    .await
}

async fn apply(
    tx: &mut TenantTx<'_>,
    event: &str,
    kind: &str,
    intent: &str,
    object: &Value,
) -> Result<Handled, Refused> {
    let order_id: OrderId = payments::table
        .filter(payments::provider.eq(ProviderKind::Stripe))
        .filter(payments::provider_reference.eq(intent))
        .select(payments::order_id)
        .first(tx.conn())
        .await?;
    let order = orders::locked(tx, order_id, "").await?;
    let payment: Payment = payments::table
        .filter(payments::provider.eq(ProviderKind::Stripe))
        .filter(payments::provider_reference.eq(intent))
        .select(Payment::as_select())
        .for_update()
        .first(tx.conn())
        .await?;
    let first = Prepared(
        diesel::sql_query(
            "INSERT INTO orders.payment_events (tenant_id, id, provider, type, payment_id)
             VALUES ($1, $2, 'STRIPE', $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind::<SqlUuid, _>(order.tenant_id)
        .bind::<Text, _>(event)
        .bind::<Text, _>(kind)
        .bind::<Nullable<SqlUuid>, _>(Some(payment.id)),
    )
    .execute(tx.conn())
    .await?;
    if first == 0 {
        return Ok(Handled::Duplicate);
    }
    let status = payment.status;
    match kind {
        "payment_intent.succeeded" => {
            if status == PaymentStatus::Captured {
                return Ok(Handled::Ignored("the payment is captured already".into()));
            }
            let received = object["amount_received"]
                .as_i64()
                .unwrap_or(payment.amount)
                .clamp(0, payment.amount);
            diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                .set((
                    payments::status.eq(PaymentStatus::Captured.as_str()),
                    payments::captured_amount.eq(received),
                    payments::updated_at.eq(diesel::dsl::now),
                ))
                .execute(tx.conn())
                .await?;
            set_payment_status(tx, order.id, OrderPaymentStatus::Paid).await?;
            let event = orders::PaymentCaptured {
                order_id: order.id,
                payment_id: payment.id,
                amount: received,
                currency: payment.currency,
                provider: "STRIPE",
                order_cancelled: order.status == OrderStatus::Cancelled,
                placed_at: order.placed_at,
                vendor_orders: orders::sold(tx, order.id).await?,
            };
            crate::OUTBOX.publish(tx, payment.id, &event).await?;
            if order.status == OrderStatus::Pending {
                orders::set_status(tx, &order, OrderStatus::Confirmed, None).await?;
            }
            orders::invoices::mark_paid(tx, order.id).await?;
            if order.status != OrderStatus::Cancelled {
                orders::bookings_paid(tx, order.id).await?;
            }
            if order.status == OrderStatus::Cancelled {
                tracing::warn!(order = %order.id, "a cancelled order's card payment succeeded: refund it");
            }
        }
        "payment_intent.payment_failed" => {
            if !matches!(status, PaymentStatus::Pending | PaymentStatus::Authorized) {
                return Ok(Handled::Ignored(format!(
                    "the payment is {}",
                    payment.status
                )));
            }
            diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                .set((
                    payments::status.eq(PaymentStatus::Failed),
                    payments::updated_at.eq(diesel::dsl::now),
                ))
                .execute(tx.conn())
                .await?;
            set_payment_status(tx, order.id, OrderPaymentStatus::Failed).await?;
            let event = PaymentFailed {
                order_id: order.id,
                payment_id: payment.id,
                reason: object["last_payment_error"]["message"].clone(),
            };
            crate::OUTBOX.publish(tx, payment.id, &event).await?;
        }
        _ => {
            let refunded = object["amount_refunded"]
                .as_i64()
                .unwrap_or(0)
                .clamp(0, payment.captured_amount);
            if refunded <= payment.refunded_amount {
                return Ok(Handled::Ignored("the refunds are recorded already".into()));
            }
            let credited = refunded - payment.refunded_amount;
            let reason = Some("refunded at Stripe".to_owned());
            record_refunded(tx, &payment, refunded, credited, None, reason).await?;
        }
    }
    Ok(Handled::Applied)
}

async fn set_payment_status(
    tx: &mut TenantTx<'_>,
    order: OrderId,
    status: OrderPaymentStatus,
) -> QueryResult<usize> {
    diesel::update(orders_table::table.filter(orders_table::id.eq(order)))
        .set((
            orders_table::payment_status.eq(status),
            orders_table::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await
}

struct Webhook {
    db: Database,
    secret: Option<String>,
}

async fn receive(State(hook): State<Arc<Webhook>>, headers: HeaderMap, body: Bytes) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match stripe_event(&hook.db, hook.secret.as_deref(), signature, &body).await {
        Ok(handled) => {
            tracing::info!(?handled, "stripe webhook");
            (StatusCode::OK, "ok").into_response()
        }
        Err(Refused::Signature(why)) => {
            tracing::warn!(why, "stripe webhook refused");
            (StatusCode::BAD_REQUEST, why).into_response()
        }
        Err(Refused::Malformed(why)) => {
            tracing::warn!(why, "stripe webhook malformed");
            (StatusCode::BAD_REQUEST, why).into_response()
        }
        Err(Refused::Internal(error)) => {
            tracing::error!(error = %error.message, "stripe webhook failed; Stripe will deliver again");
            (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response()
        }
    }
}

/// The webhook's route, served by the orders process next to `/graphql`.
pub fn routes(db: Database, gateway: &Gateway) -> Router {
    let hook = Arc::new(Webhook {
        db,
        secret: gateway.webhook_secret.clone(),
    });
    Router::new()
        .route("/webhooks/stripe", post(receive))
        .with_state(hook)
}

/// `payment.failed`: the provider refused a card payment.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub reason: Value,
}

impl FixedTopic for PaymentFailed {
    const TOPIC: &'static str = "payment.failed";
}
