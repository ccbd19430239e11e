//! The transactional outbox's dispatcher.
//!
//! Domains write events to their schema's `outbox` table in the transaction of the change they
//! describe. A [`Dispatcher`] delivers them to a [`Sink`] at least once:
//!
//! 1. It claims a batch of due events in one short transaction: `attempts + 1`, and
//!    `next_attempt_at` pushed past a lease, on rows taken with `FOR UPDATE SKIP LOCKED`, so
//!    dispatchers running side by side never claim the same event at the same time.
//! 2. It delivers them one by one, oldest first, outside any transaction.
//! 3. It sets `published_at` on those delivered; those that failed are due again after a delay that
//!    doubles with each attempt (1 s, 2 s, 4 s, ... at most an hour), with the error kept.
//!
//! A dispatcher that dies between claiming and recording leaves its events claimed until the lease
//! ends; then another delivers them again. Events therefore arrive at least once and in no
//! guaranteed order across failures: consumers deduplicate by event id.
//!
//! Dispatchers read every tenant's events. Their transactions run as [`OUTBOX_ROLE`], which may
//! read and update outbox tables and nothing else (each schema's migration grants it that).

use crate::{Database, Prepared, in_tx_begun_by};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{EntityId, EventId, TenantId};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;

/// The role dispatcher transactions take (`SET LOCAL ROLE`); the application role is a member.
pub const OUTBOX_ROLE: &str = "cityos_outbox";

/// The longest delay between two attempts at one event.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// An event as delivered.
#[derive(QueryableByName, serde::Serialize, Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique and stable across redeliveries: consumers deduplicate by it.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: EventId,
    /// The tenant it happened in.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: TenantId,
    /// What happened, e.g. `stock.low`.
    #[diesel(sql_type = Text)]
    pub topic: String,
    /// The entity it happened to, if one.
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub aggregate_id: Option<Uuid>,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    /// When the change was committed.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// This delivery's attempt number, from 1.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// A kind of event a domain publishes: the implementing type is the event's payload (serialized
/// as the row's JSON, so consumers read one shape per topic) and [`topic`](Self::topic) names it.
/// Kinds with one topic implement [`FixedTopic`] instead; a lifecycle's (`order.<status>`) derives
/// it from the status it carries.
pub trait Topic: serde::Serialize {
    /// The topic consumers subscribe to (`stock.low`, `order.confirmed`).
    fn topic(&self) -> Cow<'static, str>;
}

/// The topic of a lifecycle's event: `<kind>.<status>` in lower case (`order.confirmed`).
pub fn lifecycle_topic(kind: &str, status: &str) -> Cow<'static, str> {
    Cow::Owned(format!("{kind}.{}", status.to_lowercase()))
}

/// An event whose topic never changes.
pub trait FixedTopic: serde::Serialize {
    /// The topic.
    const TOPIC: &'static str;
}

impl<T: FixedTopic> Topic for T {
    fn topic(&self) -> Cow<'static, str> {
        Cow::Borrowed(T::TOPIC)
    }
}

/// A schema's outbox (`<schema>.outbox`): the one way its domains publish events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outbox {
    schema: &'static str,
}

impl Outbox {
    /// The outbox of `schema` (a subgraph's name).
    pub const fn of(schema: &'static str) -> Self {
        Self { schema }
    }

    /// The table, schema-qualified.
    pub fn table(&self) -> String {
        format!("{}.outbox", self.schema)
    }

    /// Writes `event` about `aggregate` in the caller's transaction, so it is committed or rolled
    /// back with the change it describes.
    pub async fn publish<E: Topic>(
        &self,
        tx: &mut crate::TenantTx<'_>,
        aggregate: impl EntityId,
        event: &E,
    ) -> diesel::QueryResult<()> {
        let aggregate: Uuid = aggregate.into();
        let payload = serde_json::to_value(event)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Prepared(
            diesel::sql_query(format!(
                "INSERT INTO {}.outbox (tenant_id, id, topic, aggregate_id, payload) VALUES ($1, $2, $3, $4, $5)",
                self.schema
            ))
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
            .bind::<diesel::sql_types::Uuid, _>(EventId::new())
            .bind::<Text, _>(event.topic().as_ref())
            .bind::<diesel::sql_types::Uuid, _>(aggregate)
            .bind::<Jsonb, _>(payload),
        )
        .execute(tx.conn())
        .await
        .map(drop)
    }
}

/// Where events go. `Err` carries what went wrong; the event is retried later.
pub trait Sink: Send + Sync + 'static {
    /// Delivers one event.
    fn deliver(&self, event: &Event) -> impl Future<Output = Result<(), String>> + Send;
}

/// How a dispatcher paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Events claimed per round.
    pub batch: i64,
    /// How long a claim lasts before a claimed, unrecorded event is due again.
    pub lease: Duration,
    /// How long to wait after a round that found nothing due.
    pub idle: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch: 100,
            lease: Duration::from_secs(60),
            idle: Duration::from_millis(500),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

/// Delivers one outbox table's events to a sink.
pub struct Dispatcher<S> {
    db: Database,
    table: String,
    sink: S,
    settings: Settings,
}

impl<S: Sink> Dispatcher<S> {
    /// A dispatcher of `table` (schema-qualified, e.g. `catalog.outbox`).
    pub fn new(db: Database, table: impl Into<String>, sink: S, settings: Settings) -> Self {
        Self {
            db,
            table: table.into(),
            sink,
            settings,
        }
    }

    /// Claims due events, delivers them and records the outcomes.
    pub async fn run_once(&self) -> Result<Round, ApiError> {
        let events = self.claim().await?;
        let mut delivered = Vec::with_capacity(events.len());
        let mut failed = Vec::new();
        for event in &events {
            match self.sink.deliver(event).await {
                Ok(()) => delivered.push((event.tenant_id, event.id)),
                Err(error) => {
                    tracing::warn!(
                        table = %self.table,
                        event = %event.id,
                        topic = %event.topic,
                        attempt = event.attempts,
                        %error,
                        "event delivery failed"
                    );
                    failed.push((event, error));
                }
            }
        }
        self.record(&delivered, &failed).await?;
        Ok(Round {
            delivered: delivered.len(),
            failed: failed.len(),
        })
    }

    /// Runs rounds until the process ends, resting when nothing is due or the database fails.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(round) if round.delivered + round.failed > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(table = %self.table, error = ?error, "outbox round failed");
                }
            }
            tokio::time::sleep(self.settings.idle).await;
        }
    }

    async fn claim(&self) -> Result<Vec<Event>, ApiError> {
        let sql = format!(
            "UPDATE {t} o SET attempts = o.attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
             WHERE (o.tenant_id, o.id) IN (
                 SELECT q.tenant_id, q.id FROM {t} q
                 WHERE q.published_at IS NULL AND q.next_attempt_at <= now()
                 ORDER BY q.next_attempt_at, q.id LIMIT $1
                 FOR UPDATE SKIP LOCKED)
             RETURNING o.id, o.tenant_id, o.topic, o.aggregate_id, o.payload, o.created_at, o.attempts",
            t = self.table
        );
        let (batch, lease) = (self.settings.batch, self.settings.lease.as_secs_f64());
        let mut conn = self.db.conn().await?;
        let mut events: Vec<Event> = in_tx_begun_by(&mut conn, &begin(), async move |conn| {
            Prepared(
                diesel::sql_query(sql)
                    .bind::<BigInt, _>(batch)
                    .bind::<Double, _>(lease),
            )
            .load(conn)
            .await
            .map_err(ApiError::from)
        })
        .await?;
        events.sort_by_key(|e| e.id);
        Ok(events)
    }

    async fn record(
        &self,
        delivered: &[(TenantId, EventId)],
        failed: &[(&Event, String)],
    ) -> Result<(), ApiError> {
        if delivered.is_empty() && failed.is_empty() {
            return Ok(());
        }
        let delivered_sql = format!(
            "UPDATE {} SET published_at = now(), last_error = NULL
             WHERE (tenant_id, id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))",
            self.table
        );
        let failed_sql = format!(
            "UPDATE {} SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4
             WHERE tenant_id = $1 AND id = $2",
            self.table
        );
        let (tenants, ids): (Vec<TenantId>, Vec<EventId>) = delivered.iter().copied().unzip();
        let retries: Vec<(TenantId, EventId, f64, String)> = failed
            .iter()
            .map(|(e, error)| {
                let delay = retry_delay(e.attempts).as_secs_f64();
                (e.tenant_id, e.id, delay, error.chars().take(1000).collect())
            })
            .collect();
        let mut conn = self.db.conn().await?;
        in_tx_begun_by(&mut conn, &begin(), async move |conn| {
            if !ids.is_empty() {
                Prepared(
                    diesel::sql_query(delivered_sql)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(tenants)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(ids),
                )
                .execute(conn)
                .await?;
            }
            for (tenant, id, delay, error) in retries {
                Prepared(
                    diesel::sql_query(failed_sql.as_str())
                        .bind::<diesel::sql_types::Uuid, _>(tenant)
                        .bind::<diesel::sql_types::Uuid, _>(id)
                        .bind::<Double, _>(delay)
                        .bind::<Text, _>(error),
                )
                .execute(conn)
                .await?;
            }
            Ok::<_, ApiError>(())
        })
        .await
    }
}

fn begin() -> String {
    format!("BEGIN; SET LOCAL ROLE {OUTBOX_ROLE}")
}

/// The wait before the next attempt after attempt number `attempts` failed: 1 s, 2 s, 4 s, ...
/// at most [`MAX_RETRY_DELAY`].
pub fn retry_delay(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(12);
    Duration::from_secs(1u64 << exponent).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let delays: Vec<u64> = [1, 2, 3, 10, 13, 40]
            .into_iter()
            .map(|a| retry_delay(a).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 512, 3600, 3600]);
        assert_eq!(retry_delay(0).as_secs(), 1);
    }
}
