//! The GraphQL of the operations view.

use crate::errors::IdentityUserError;
use crate::operations::{self, DeliveryCursor};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::{TenantId, to_id};
use cityos_core::paging::PageRequest;
use cityos_db::ops::{DeliveryRow, Filter, JobRow};
use cityos_server::CtxExt as _;

/// Where one event's delivery to one subscriber stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventDeliveryState {
    /// Not delivered yet: due, waiting for a retry, or waiting for its subscriber to be reachable.
    Pending,
    /// The subscriber took it.
    Delivered,
    /// The subscriber refused it on every attempt; it waits for a redelivery.
    Dead,
}

impl EventDeliveryState {
    fn stored(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
}

/// Where a durable job stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its time (or for a retry after a failure).
    Scheduled,
    /// Claimed by a runner now.
    Running,
    /// Ran and took effect.
    Done,
    /// Failed on every attempt; it waits for a retry.
    Dead,
    /// Cancelled before it ran.
    Cancelled,
}

impl JobState {
    fn stored(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }

    fn of(stored: &str) -> Self {
        match stored {
            "running" => Self::Running,
            "done" => Self::Done,
            "dead" => Self::Dead,
            "cancelled" => Self::Cancelled,
            _ => Self::Scheduled,
        }
    }
}

/// One event's delivery to one subscribing subgraph (platform admins).
pub struct EventDelivery(DeliveryRow);

#[Object]
impl EventDelivery {
    /// The subgraph that published the event.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The event's id (the same in every delivery of it).
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }
    /// The tenant the event happened in.
    async fn tenant_id(&self) -> ID {
        to_id(self.0.tenant_id)
    }
    /// The subscribing subgraph.
    async fn subscriber(&self) -> &str {
        &self.0.subscriber
    }
    /// The event's topic (`order.placed`).
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    /// Where the delivery stands.
    async fn state(&self) -> EventDeliveryState {
        match self.0.state.as_str() {
            "delivered" => EventDeliveryState::Delivered,
            "dead" => EventDeliveryState::Dead,
            _ => EventDeliveryState::Pending,
        }
    }
    /// Attempts the subscriber answered (an unreachable subscriber's are not counted).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When it is due next, if pending.
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
    /// What went wrong last, if anything did.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the subscriber took it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When the event was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One durable job of a subgraph (platform admins).
pub struct Job(JobRow);

#[Object]
impl Job {
    /// The job's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The subgraph whose runner runs it.
    async fn subgraph(&self) -> &str {
        &self.0.subgraph
    }
    /// The tenant it runs for.
    async fn tenant_id(&self) -> ID {
        to_id(self.0.tenant_id)
    }
    /// What it does (`cart.expire`, `invoice.overdue`).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its idempotency key: one job per name, key and tenant.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Where it stands.
    async fn state(&self) -> JobState {
        JobState::of(&self.0.state)
    }
    /// When it is (or was) due.
    async fn run_at(&self) -> DateTime<Utc> {
        self.0.run_at
    }
    /// Runs started, counting the one going on.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Runs after which a failing job is dead.
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }
    /// Why the last run failed (an internal error's cause is in the subgraph's log).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was scheduled.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it finished: done, dead or cancelled.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

cityos_core::connection!(
    EventDeliveryConnection,
    EventDeliveryEdge,
    EventDelivery,
    "event delivery"
);
cityos_core::connection!(JobConnection, JobEdge, Job, "job");

/// Which deliveries to list; each given field narrows the list.
#[derive(InputObject, Default)]
pub struct EventDeliveryFilter {
    /// Only in this state (DEAD: the dead letters).
    pub state: Option<EventDeliveryState>,
    /// Only events published by this subgraph.
    pub source: Option<String>,
    /// Only deliveries to this subscribing subgraph.
    pub subscriber: Option<String>,
    /// Only events of this topic.
    pub topic: Option<String>,
    /// Only events of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// Which jobs to list; each given field narrows the list.
#[derive(InputObject, Default)]
pub struct JobFilter {
    /// Only in this state (DEAD: those that gave up).
    pub state: Option<JobState>,
    /// Only jobs of this subgraph.
    pub subgraph: Option<String>,
    /// Only jobs of this name.
    pub name: Option<String>,
    /// Only jobs of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// The queries of the operations view.
#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// Every subgraph's event deliveries, newest event first, one per event and subscriber
    /// (platform admins). Pages forward only: `first` (at most 100) and `after`.
    async fn event_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (1 to 100, 20 when not given).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page: return what comes after it.")]
        after: Option<String>,
        #[graphql(desc = "Which deliveries.")] filter: Option<EventDeliveryFilter>,
    ) -> Result<EventDeliveryConnection> {
        let page = PageRequest::<DeliveryCursor>::new(first, after.as_deref(), None, None)?;
        let f = filter.unwrap_or_default();
        let filter = Filter {
            schema: f.source,
            state: f.state.map(|s| s.stored().to_owned()),
            name: f.subscriber,
            topic: f.topic,
            tenant: f.tenant_id,
        };
        let page = operations::deliveries(ctx.db(), ctx.request()?, filter, page).await?;
        Ok(page.map(EventDelivery).into())
    }

    /// Every subgraph's durable jobs, newest first (platform admins). Pages forward only:
    /// `first` (at most 100) and `after`.
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return (1 to 100, 20 when not given).")] first: Option<i32>,
        #[graphql(desc = "A cursor from a previous page: return what comes after it.")]
        after: Option<String>,
        #[graphql(desc = "Which jobs.")] filter: Option<JobFilter>,
    ) -> Result<JobConnection> {
        let page = PageRequest::<uuid::Uuid>::new(first, after.as_deref(), None, None)?;
        let f = filter.unwrap_or_default();
        let filter = Filter {
            schema: f.subgraph,
            state: f.state.map(|s| s.stored().to_owned()),
            name: f.name,
            topic: None,
            tenant: f.tenant_id,
        };
        let page = operations::jobs(ctx.db(), ctx.request()?, filter, page).await?;
        Ok(page.map(Job).into())
    }
}

/// An event to deliver again to one subscriber.
#[derive(InputObject)]
pub struct EventRedeliverInput {
    /// The subgraph that published it.
    pub source: String,
    /// The event's id.
    pub event_id: ID,
    /// The subscribing subgraph to deliver it to.
    pub subscriber: String,
}

cityos_core::payload! {
    /// The result of `eventRedeliver`.
    EventRedeliverPayload<IdentityUserError> {
        /// The delivery, pending and due now; null when refused.
        delivery: EventDelivery,
    }
}

/// A dead job to run again.
#[derive(InputObject)]
pub struct JobRetryInput {
    /// The subgraph whose job it is.
    pub subgraph: String,
    /// The job's id.
    pub job_id: ID,
}

cityos_core::payload! {
    /// The result of `jobRetry`.
    JobRetryPayload<IdentityUserError> {
        /// The job, scheduled now with its attempts from zero; null when refused.
        job: Job,
    }
}

/// The mutations of the operations view.
#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Delivers an event to a subscriber again, due now with its attempts from zero (platform
    /// admins): a dead letter once its cause is fixed, or a delivered event to replay
    /// (subscribers apply each event once however often it arrives).
    async fn event_redeliver(
        &self,
        ctx: &Context<'_>,
        input: EventRedeliverInput,
    ) -> Result<EventRedeliverPayload> {
        let Ok(event) = uuid::Uuid::parse_str(input.event_id.as_str()) else {
            return Ok(EventRedeliverPayload::of(Err(cityos_core::Failure::User(
                crate::errors::UserError::not_found("eventId", "no such delivery"),
            )))?);
        };
        let outcome = operations::redeliver(
            ctx.db(),
            ctx.request()?,
            &input.source,
            event,
            &input.subscriber,
        )
        .await
        .map(EventDelivery);
        Ok(EventRedeliverPayload::of(outcome)?)
    }

    /// Runs a dead job again, due now with its attempts from zero (platform admins). Refused
    /// with INVALID_TRANSITION for a job that has not given up.
    async fn job_retry(&self, ctx: &Context<'_>, input: JobRetryInput) -> Result<JobRetryPayload> {
        let Ok(id) = uuid::Uuid::parse_str(input.job_id.as_str()) else {
            return Ok(JobRetryPayload::of(Err(cityos_core::Failure::User(
                crate::errors::UserError::not_found("jobId", "no such job"),
            )))?);
        };
        let outcome = operations::retry_job(ctx.db(), ctx.request()?, &input.subgraph, id)
            .await
            .map(Job);
        Ok(JobRetryPayload::of(outcome)?)
    }
}
