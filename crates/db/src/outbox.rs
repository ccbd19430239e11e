//! Events between subgraphs: the transactional outbox and its dispatcher.
//!
//! A domain publishes an event with [`Outbox::publish`] in the transaction of the change it
//! describes. The same statement writes one delivery row per subscriber of the event's topic (the
//! schema's `subscriptions`, which the publishing process syncs from `subgraphs.toml` with
//! [`Outbox::subscribe`]), so every subscriber has its own state from the moment of commit.
//!
//! A [`Dispatcher`] runs one loop per subscriber. Each round:
//! 1. claims that subscriber's due deliveries, oldest event first, in one short transaction: rows
//!    taken with `FOR UPDATE SKIP LOCKED` and their next attempt pushed past a lease, so
//!    dispatchers side by side (replicas of one subgraph) never hold the same delivery at once;
//! 2. delivers them one by one, in that order, outside any transaction;
//! 3. records the outcomes: delivered; or refused by the subscriber ([`Failure::Refused`]: the
//!    event's attempts grow, it is due again after a delay that doubles with each attempt, and
//!    after [`Settings::max_attempts`] it is dead, which blocks nothing else); or the subscriber is
//!    unreachable ([`Failure::Unreachable`]: no attempt is counted, the round stops, and the
//!    subscriber's remaining deliveries wait together, so when it is back it catches up in order).
//!
//! A dispatcher that dies between claiming and recording leaves its deliveries claimed until the
//! lease ends; then one delivers them again. The attempt counts from the claim, so an event that
//! keeps killing its dispatchers is dead after its attempts like one that is refused. Events therefore arrive at least once, in the order of
//! their ids (UUIDv7: the order they were written, which is commit order for events whose
//! transactions did not overlap), and consumers deduplicate by event id (`cityos_server::consume`).
//! Dead deliveries stay until a platform admin redelivers them ([`redeliver`]).
//!
//! Dispatchers read every tenant's events: their transactions run as [`WORKER_ROLE`], which may
//! read outbox tables and update delivery state and nothing else (`platform.event_deliveries`).

use crate::{Database, Prepared, in_tx_begun_by};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{EntityId, EventId, TenantId};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The role worker transactions take (`SET LOCAL ROLE`): event dispatchers, job runners and the
/// platform's operations view. It sees every tenant's outbox, deliveries and jobs, and may change
/// only their delivery and run state. The application role is a member.
pub const WORKER_ROLE: &str = "cityos_worker";

/// The longest delay between two attempts at one delivery.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// An event as delivered: the body of the HTTP request a subscriber receives.
#[derive(QueryableByName, serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique and stable across redeliveries: consumers deduplicate by it.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: EventId,
    /// The subgraph that published it.
    #[diesel(sql_type = Text)]
    pub source: String,
    /// The tenant it happened in.
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: TenantId,
    /// What happened, e.g. `order.placed`.
    #[diesel(sql_type = Text)]
    pub topic: String,
    /// The entity it happened to, if one.
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub aggregate_id: Option<Uuid>,
    /// The event's own fields, one shape per topic.
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    /// When it was written (in the transaction of its change).
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// This delivery's attempt number for this subscriber, from 1.
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
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

    /// The schema (the publishing subgraph's name).
    pub const fn schema(&self) -> &'static str {
        self.schema
    }

    /// Writes `event` about `aggregate` in the caller's transaction, with a pending delivery for
    /// each subscriber of its topic, so all of it is committed or rolled back with the change it
    /// describes. One statement.
    pub async fn publish<E: Topic>(
        &self,
        tx: &mut crate::TenantTx<'_>,
        aggregate: impl EntityId,
        event: &E,
    ) -> diesel::QueryResult<()> {
        let aggregate: Uuid = aggregate.into();
        let payload = serde_json::to_value(event)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        // The dispatchers of the schema LISTEN on its channel: a notification (sent at commit,
        // once per transaction) wakes them at once instead of at their next poll.
        Prepared(
            diesel::sql_query(format!(
                "WITH e AS (
                     INSERT INTO {s}.outbox (tenant_id, id, topic, aggregate_id, payload)
                     VALUES ($1, $2, $3, $4, $5) RETURNING tenant_id, id, topic),
                 d AS (
                     INSERT INTO {s}.deliveries (tenant_id, event_id, subscriber)
                     SELECT e.tenant_id, e.id, s.subscriber FROM e JOIN {s}.subscriptions s USING (topic)
                     RETURNING 1)
                 SELECT pg_notify('{channel}', '') FROM (SELECT 1 FROM d LIMIT 1) AS any_delivery",
                s = self.schema,
                channel = self.channel(),
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

    /// The notification channel of the schema's new deliveries.
    pub fn channel(&self) -> String {
        format!("cityos_events_{}", self.schema)
    }

    /// Makes `subscriptions` (subscriber, topic) the schema's whole list: events written from now
    /// on get a delivery for each matching subscriber. Deliveries already written are kept, also
    /// those of a subscriber no longer listed (a platform admin sees them). Run by the publishing
    /// process at start, as the application role.
    pub async fn subscribe(
        &self,
        db: &Database,
        subscriptions: &[(String, String)],
    ) -> Result<(), ApiError> {
        let (subscribers, topics): (Vec<&str>, Vec<&str>) = subscriptions
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .unzip();
        let sql = format!(
            "WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[]) AS w (subscriber, topic)),
                  gone AS (DELETE FROM {s}.subscriptions x
                           WHERE NOT EXISTS (SELECT 1 FROM wanted w
                                             WHERE (w.subscriber, w.topic) = (x.subscriber, x.topic)))
             INSERT INTO {s}.subscriptions (subscriber, topic) SELECT subscriber, topic FROM wanted
             ON CONFLICT DO NOTHING",
            s = self.schema
        );
        in_tx_begun_by(db, "BEGIN", async move |conn| {
            diesel::sql_query(sql)
                .bind::<Array<Text>, _>(subscribers)
                .bind::<Array<Text>, _>(topics)
                .execute(conn)
                .await
                .map_err(ApiError::from)
        })
        .await
        .map(drop)
    }
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The subscriber could not be reached, or said it cannot take events now: nothing is wrong
    /// with the event, so no attempt is counted; the subscriber's deliveries wait.
    Unreachable(String),
    /// The subscriber took the event and refused it: the attempt counts, and after too many the
    /// delivery is dead.
    Refused(String),
}

/// Where one subscriber's events go.
pub trait Sink: Send + Sync + 'static {
    /// Delivers one event.
    fn deliver(&self, event: &Event) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// How a dispatcher paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Deliveries claimed per round and subscriber.
    pub batch: i64,
    /// How long a claim lasts before a claimed, unrecorded delivery is due again.
    pub lease: Duration,
    /// How long to wait after a round that found nothing due.
    pub idle: Duration,
    /// Refusals after which a delivery is dead.
    pub max_attempts: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            batch: 100,
            lease: Duration::from_secs(60),
            idle: Duration::from_millis(500),
            max_attempts: 10,
        }
    }
}

/// What one round for one subscriber did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Delivered.
    pub delivered: usize,
    /// Refused, due again later.
    pub refused: usize,
    /// Refused for the last time: dead.
    pub dead: usize,
    /// Whether the subscriber was unreachable (the round stopped there).
    pub unreachable: bool,
}

/// Delivers one schema's events to its subscribers.
pub struct Dispatcher<S> {
    db: Database,
    schema: &'static str,
    subscribers: Vec<(String, Arc<S>)>,
    settings: Settings,
}

impl<S: Sink> Dispatcher<S> {
    /// A dispatcher of `outbox`'s events to `subscribers` (name and sink each).
    pub fn new(
        db: Database,
        outbox: Outbox,
        subscribers: Vec<(String, S)>,
        settings: Settings,
    ) -> Self {
        Self {
            db,
            schema: outbox.schema,
            subscribers: subscribers
                .into_iter()
                .map(|(name, sink)| (name, Arc::new(sink)))
                .collect(),
            settings,
        }
    }

    /// One round for every subscriber, one after another (tests; [`run`](Self::run) gives each
    /// its own loop).
    pub async fn run_once(&self) -> Result<Vec<(String, Round)>, ApiError> {
        let mut rounds = Vec::with_capacity(self.subscribers.len());
        for (name, sink) in &self.subscribers {
            let round = self.round(name, sink.as_ref(), self.settings.lease).await?;
            rounds.push((name.clone(), round));
        }
        Ok(rounds)
    }

    /// Runs until the process ends: one loop per subscriber, each woken by the schema's
    /// notifications of new deliveries (and every [`Settings::idle`] without one, for retries
    /// coming due), backing off (1 s doubling to a minute) while its subscriber is unreachable.
    pub async fn run(self) {
        let this = Arc::new(self);
        let (wake, woken) = tokio::sync::watch::channel(0u64);
        let mut loops = tokio::task::JoinSet::new();
        loops.spawn(listen(
            this.db.clone(),
            Outbox::of(this.schema).channel(),
            wake,
        ));
        for i in 0..this.subscribers.len() {
            let (this, woken) = (Arc::clone(&this), woken.clone());
            loops.spawn(async move { this.subscriber_loop(i, woken).await });
        }
        while loops.join_next().await.is_some() {}
    }

    async fn subscriber_loop(&self, i: usize, mut woken: tokio::sync::watch::Receiver<u64>) {
        let (name, sink) = &self.subscribers[i];
        let mut unreachable_for = 0u32;
        loop {
            // Seen before the round: a notification during it wakes the rest at once.
            woken.borrow_and_update();
            let rest = match self.round(name, sink.as_ref(), self.settings.lease).await {
                Ok(round) if round.unreachable => {
                    unreachable_for = unreachable_for.saturating_add(1);
                    Duration::from_secs(1 << unreachable_for.min(6)).min(Duration::from_secs(60))
                }
                Ok(round) if round.delivered + round.refused + round.dead > 0 => {
                    unreachable_for = 0;
                    continue;
                }
                Ok(_) => {
                    unreachable_for = 0;
                    tokio::select! {
                        () = tokio::time::sleep(self.settings.idle) => {}
                        _ = woken.changed() => {}
                    }
                    continue;
                }
                Err(error) => {
                    tracing::error!(schema = self.schema, subscriber = %name, error = ?error, "event delivery round failed");
                    self.settings.idle.max(Duration::from_secs(1))
                }
            };
            tokio::time::sleep(rest).await;
        }
    }

    /// Claims, delivers and records one batch of `subscriber`'s due deliveries.
    async fn round(&self, subscriber: &str, sink: &S, lease: Duration) -> Result<Round, ApiError> {
        let events = self.claim(subscriber, lease).await?;
        let mut outcomes: Vec<(&Event, Option<Failure>)> = Vec::with_capacity(events.len());
        let mut round = Round::default();
        for event in &events {
            match sink.deliver(event).await {
                Ok(()) => {
                    round.delivered += 1;
                    outcomes.push((event, None));
                }
                Err(failure) => {
                    tracing::warn!(
                        schema = self.schema,
                        subscriber,
                        event = %event.id,
                        topic = %event.topic,
                        attempt = event.attempt,
                        ?failure,
                        "event delivery failed"
                    );
                    let unreachable = matches!(failure, Failure::Unreachable(_));
                    if !unreachable {
                        if event.attempt >= self.settings.max_attempts {
                            round.dead += 1;
                        } else {
                            round.refused += 1;
                        }
                    }
                    outcomes.push((event, Some(failure)));
                    if unreachable {
                        round.unreachable = true;
                        break;
                    }
                }
            }
        }
        // What the round did not get to (after an unreachable subscriber) waits with the failed
        // one, so the subscriber catches up in order.
        let untried = &events[outcomes.len()..];
        self.record(subscriber, &outcomes, untried).await?;
        Ok(round)
    }

    async fn claim(&self, subscriber: &str, lease: Duration) -> Result<Vec<Event>, ApiError> {
        let sql = format!(
            // An attempt counts when it is claimed, so a delivery that keeps killing its
            // dispatchers runs out of attempts too; the first statement buries those that did.
            "WITH buried AS (
                 UPDATE {s}.deliveries SET state = 'dead',
                        last_error = coalesce(last_error, 'the dispatcher stopped mid-delivery')
                 WHERE subscriber = $1 AND state = 'pending' AND next_attempt_at <= now()
                   AND attempts >= $4
                 RETURNING 1)
             UPDATE {s}.deliveries d SET next_attempt_at = now() + make_interval(secs => $3),
                    attempts = d.attempts + 1
             FROM {s}.outbox o
             WHERE (d.tenant_id, d.event_id, d.subscriber) IN (
                     SELECT q.tenant_id, q.event_id, q.subscriber FROM {s}.deliveries q
                     WHERE q.subscriber = $1 AND q.state = 'pending' AND q.next_attempt_at <= now()
                       AND q.attempts < $4
                     ORDER BY q.event_id LIMIT $2
                     FOR UPDATE SKIP LOCKED)
               AND (o.tenant_id, o.id) = (d.tenant_id, d.event_id)
             RETURNING o.id, '{s}' AS source, o.tenant_id, o.topic, o.aggregate_id, o.payload,
                       o.created_at, d.attempts AS attempt",
            s = self.schema
        );
        let (batch, lease, max) = (
            self.settings.batch,
            lease.as_secs_f64(),
            self.settings.max_attempts,
        );
        let subscriber = subscriber.to_owned();
        let mut events: Vec<Event> = in_tx_begun_by(&self.db, &worker_begin(), async move |conn| {
            Prepared(
                diesel::sql_query(sql)
                    .bind::<Text, _>(subscriber)
                    .bind::<BigInt, _>(batch)
                    .bind::<Double, _>(lease)
                    .bind::<Integer, _>(max),
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
        subscriber: &str,
        outcomes: &[(&Event, Option<Failure>)],
        untried: &[Event],
    ) -> Result<(), ApiError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut delivered: (Vec<TenantId>, Vec<EventId>) = Default::default();
        let mut refused = Vec::new();
        let mut waiting: (Vec<TenantId>, Vec<EventId>) = Default::default();
        let mut waiting_error = String::new();
        for (event, outcome) in outcomes {
            match outcome {
                None => {
                    delivered.0.push(event.tenant_id);
                    delivered.1.push(event.id);
                }
                Some(Failure::Refused(error)) => {
                    let dead = event.attempt >= self.settings.max_attempts;
                    let delay = retry_delay(event.attempt).as_secs_f64();
                    refused.push((event.tenant_id, event.id, dead, delay, clip(error)));
                }
                Some(Failure::Unreachable(error)) => {
                    waiting.0.push(event.tenant_id);
                    waiting.1.push(event.id);
                    waiting_error = clip(&format!("unreachable: {error}"));
                }
            }
        }
        for event in untried {
            waiting.0.push(event.tenant_id);
            waiting.1.push(event.id);
        }
        let s = self.schema;
        let delivered_sql = format!(
            "UPDATE {s}.deliveries SET state = 'delivered', delivered_at = now(), last_error = NULL
             WHERE subscriber = $1
               AND (tenant_id, event_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))"
        );
        let refused_sql = format!(
            "UPDATE {s}.deliveries SET last_error = $5,
                    state = CASE WHEN $4 THEN 'dead' ELSE 'pending' END,
                    next_attempt_at = now() + make_interval(secs => $6)
             WHERE subscriber = $1 AND tenant_id = $2 AND event_id = $3"
        );
        // A second from now, all together (the subscriber's loop backs off on its own), and the
        // claim's attempt given back: an unreachable subscriber costs the event nothing.
        let waiting_sql = format!(
            "UPDATE {s}.deliveries SET next_attempt_at = now() + interval '1 second', last_error = $4,
                    attempts = greatest(attempts - 1, 0)
             WHERE subscriber = $1
               AND (tenant_id, event_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))"
        );
        let subscriber = subscriber.to_owned();
        in_tx_begun_by(&self.db, &worker_begin(), async move |conn| {
            if !delivered.1.is_empty() {
                Prepared(
                    diesel::sql_query(delivered_sql)
                        .bind::<Text, _>(&subscriber)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(delivered.0)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(delivered.1),
                )
                .execute(conn)
                .await?;
            }
            for (tenant, id, dead, delay, error) in refused {
                Prepared(
                    diesel::sql_query(refused_sql.as_str())
                        .bind::<Text, _>(&subscriber)
                        .bind::<diesel::sql_types::Uuid, _>(tenant)
                        .bind::<diesel::sql_types::Uuid, _>(id)
                        .bind::<diesel::sql_types::Bool, _>(dead)
                        .bind::<Text, _>(error)
                        .bind::<Double, _>(delay),
                )
                .execute(conn)
                .await?;
            }
            if !waiting.1.is_empty() {
                Prepared(
                    diesel::sql_query(waiting_sql)
                        .bind::<Text, _>(&subscriber)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(waiting.0)
                        .bind::<Array<diesel::sql_types::Uuid>, _>(waiting.1)
                        .bind::<Text, _>(waiting_error),
                )
                .execute(conn)
                .await?;
            }
            Ok::<_, ApiError>(())
        })
        .await
    }
}

/// Listens on `channel` and bumps `wake` on each notification, reconnecting after a failure.
async fn listen(db: Database, channel: String, wake: tokio::sync::watch::Sender<u64>) {
    use futures_util::StreamExt as _;
    loop {
        let outcome = async {
            let mut conn = db.dedicated().await?;
            diesel::sql_query(format!("LISTEN {channel}"))
                .execute(&mut conn)
                .await?;
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            while let Some(notification) = notifications.next().await {
                notification?;
                wake.send_modify(|n| *n = n.wrapping_add(1));
            }
            Ok::<_, ApiError>(())
        }
        .await;
        if let Err(error) = outcome {
            tracing::warn!(%channel, error = ?error, "listening for new events failed; polling until it is back");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// An error as kept in a row: its first 1,000 characters.
pub(crate) fn clip(error: &str) -> String {
    error.chars().take(1000).collect()
}

/// `BEGIN` as [`WORKER_ROLE`].
pub(crate) fn worker_begin() -> String {
    format!("BEGIN; SET LOCAL ROLE {WORKER_ROLE}")
}

/// The wait before the next attempt after attempt number `attempts` was refused: 1 s, 2 s, 4 s,
/// ... at most [`MAX_RETRY_DELAY`].
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
