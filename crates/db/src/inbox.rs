//! Consuming other subgraphs' events exactly once in effect.
//!
//! A consumer is a type implementing [`Consume`]: the payload of one topic, and what applying it
//! does in a transaction scoped to the event's tenant. A subgraph lists its consumers in
//! [`Consumers`]; [`Inbox::apply`] runs one event: it records the event's id in the schema's
//! `inbox` table and applies the consumer in the same transaction, so an event that arrives again
//! (a redelivery, a replay) finds its id there and changes nothing, and a failed effect leaves no
//! id behind and is retried by the publisher.

use crate::outbox::Event;
use crate::{Database, Prepared, TenantTx};
use cityos_core::ApiError;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

/// The payload of a consumed topic, and what it does.
pub trait Consume: DeserializeOwned + Send + 'static {
    /// The topic (`order.placed`).
    const TOPIC: &'static str;

    /// Applies the event in a transaction scoped to its tenant (which also records it in the
    /// inbox). An error rolls both back, and the publisher retries.
    fn apply(
        self,
        tx: &mut TenantTx<'_>,
        event: &Event,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

type Apply = for<'a, 'c> fn(
    &'a mut TenantTx<'c>,
    &'a Event,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>>;

fn apply<'a, 'c, C: Consume>(
    tx: &'a mut TenantTx<'c>,
    event: &'a Event,
) -> Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>> {
    Box::pin(async move {
        let payload: C = serde_json::from_value(event.payload.clone()).map_err(|e| {
            ApiError::bad_input(format!("the {} payload does not read: {e}", C::TOPIC))
        })?;
        payload.apply(tx, event).await
    })
}

/// The consumers of one subgraph, by topic.
#[derive(Default, Clone)]
pub struct Consumers {
    by_topic: BTreeMap<&'static str, Apply>,
}

impl std::fmt::Debug for Consumers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.topics()).finish()
    }
}

impl Consumers {
    /// No consumers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `C`'s topic with `C`.
    #[must_use]
    pub fn on<C: Consume>(mut self) -> Self {
        self.by_topic.insert(C::TOPIC, apply::<C>);
        self
    }

    /// The topics consumed, sorted.
    pub fn topics(&self) -> Vec<&'static str> {
        self.by_topic.keys().copied().collect()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Its effect happened now.
    Now,
    /// It had been applied before: nothing changed.
    Before,
}

/// Why an event was not applied.
#[derive(Debug)]
pub enum Refusal {
    /// No consumer of its topic here.
    UnknownTopic(String),
    /// The consumer (or the database) failed.
    Failed(ApiError),
}

/// A schema's inbox (`<schema>.inbox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inbox {
    schema: &'static str,
}

impl Inbox {
    /// The inbox of `schema` (a subgraph's name).
    pub const fn of(schema: &'static str) -> Self {
        Self { schema }
    }

    /// Applies `event` with its topic's consumer, once: see the module's documentation.
    pub async fn apply(
        &self,
        db: &Database,
        consumers: &Consumers,
        event: &Event,
    ) -> Result<Applied, Refusal> {
        let Some(consume) = consumers.by_topic.get(event.topic.as_str()).copied() else {
            return Err(Refusal::UnknownTopic(event.topic.clone()));
        };
        let record = format!(
            "INSERT INTO {}.inbox (tenant_id, event_id, source, topic) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            self.schema
        );
        db.tenant_tx(event.tenant_id, async move |tx| {
            let tenant = tx.tenant();
            let new = Prepared(
                diesel::sql_query(record)
                    .bind::<diesel::sql_types::Uuid, _>(tenant)
                    .bind::<diesel::sql_types::Uuid, _>(event.id)
                    .bind::<Text, _>(&event.source)
                    .bind::<Text, _>(&event.topic),
            )
            .execute(tx.conn())
            .await?;
            if new == 0 {
                return Ok(Applied::Before);
            }
            consume(tx, event).await?;
            Ok::<_, ApiError>(Applied::Now)
        })
        .await
        .map_err(Refusal::Failed)
    }
}
