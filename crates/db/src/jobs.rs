//! Durable jobs: work that must happen for a tenant at a time (a cart's expiry, an invoice falling
//! overdue, a payout run, an auction's close), kept in the schema's `jobs` table so it survives
//! restarts. No timers in process memory.
//!
//! - A job is a type implementing [`Job`]: its payload (the row's JSON), its [`Job::NAME`], its
//!   idempotency key, and what it does, in a transaction scoped to its tenant.
//! - A domain schedules one with [`Jobs::schedule`] inside its own transaction, so the job exists
//!   exactly when the change that needs it commits. The same name and key is one job: scheduling it
//!   again moves a job that has not run yet to the new time and changes nothing once it has run.
//! - A [`Runner`] claims due jobs with `FOR UPDATE SKIP LOCKED` under a lease (its id in
//!   `claimed_by`), in a short transaction as the worker role
//!   ([`WORKER_ROLE`](crate::outbox::WORKER_ROLE)). It then runs each in a tenant
//!   transaction whose first statement marks the job done if this runner still holds it, which also
//!   locks the row: the job's effect and its completion commit together, and no other runner can
//!   take it while it runs. A failed run rolls back, and the job is due again after a delay that
//!   doubles with each attempt, or dead after its `max_attempts` (a platform admin may retry it).
//! - A runner that dies mid-job loses its connection, so its transaction rolls back; when the lease
//!   ends another runner takes the job. Jobs therefore run at least once and take effect once.

use crate::outbox::{clip, retry_delay, worker_begin};
use crate::{Database, Prepared, TenantTx, in_tx_begun_by};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::TenantId;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Double, Integer, Jsonb, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use uuid::Uuid;

/// A kind of durable job. The implementing type is its payload.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job's name, `<domain>.<what>` (`cart.expire`): unique within a schema.
    const NAME: &'static str;
    /// Runs after this many failed attempts are dead.
    const MAX_ATTEMPTS: i32 = 10;

    /// The idempotency key: one job per name and key and tenant (a cart's id, or an id and the
    /// time it is due for when each new time is a new run).
    fn key(&self) -> String;

    /// Does the work, in a transaction scoped to the job's tenant that also records the outcome:
    /// done, or due again at a later time (a deadline that moved, the next of a recurring run).
    /// An error rolls both back; the job is retried. `provided` holds what the runner lends its
    /// jobs (a payment provider's client).
    fn run(
        self,
        tx: &mut TenantTx<'_>,
        provided: &Provided,
    ) -> impl Future<Output = Result<Next, ApiError>> + Send;
}

/// What a runner lends the jobs it runs besides their transaction: clients of outside services
/// (a payment provider), at most one value per type, given with [`Runner::provide`].
#[derive(Default)]
pub struct Provided(HashMap<std::any::TypeId, Box<dyn std::any::Any + Send + Sync>>);

impl Provided {
    /// The value of type `T`, if the runner was given one.
    pub fn get<T: std::any::Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .get(&std::any::TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }
}

/// What a job's run leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Done: it does not run again.
    Done,
    /// Run again at this time (with its attempts from zero and its payload as it is).
    At(DateTime<Utc>),
}

/// A schema's jobs table (`<schema>.jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs {
    schema: &'static str,
}

impl Jobs {
    /// The jobs of `schema` (a subgraph's name).
    pub const fn of(schema: &'static str) -> Self {
        Self { schema }
    }

    /// The schema.
    pub const fn schema(&self) -> &'static str {
        self.schema
    }

    /// Schedules `job` to run at `run_at` (or at once if that has passed), in the caller's
    /// transaction. If the tenant has a job of this name and key that has not run yet, it moves
    /// to `run_at` with this payload; one that ran, died or was cancelled is left as it is.
    pub async fn schedule<J: Job>(
        &self,
        tx: &mut TenantTx<'_>,
        job: &J,
        run_at: DateTime<Utc>,
    ) -> diesel::QueryResult<()> {
        let payload = serde_json::to_value(job)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        Prepared(
            diesel::sql_query(format!(
                "INSERT INTO {}.jobs AS j (tenant_id, id, name, key, payload, run_at, max_attempts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant_id, name, key) DO UPDATE
                     SET run_at = EXCLUDED.run_at, payload = EXCLUDED.payload
                     WHERE j.state = 'scheduled'",
                self.schema
            ))
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
            .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
            .bind::<Text, _>(J::NAME)
            .bind::<Text, _>(job.key())
            .bind::<Jsonb, _>(payload)
            .bind::<Timestamptz, _>(run_at)
            .bind::<Integer, _>(J::MAX_ATTEMPTS),
        )
        .execute(tx.conn())
        .await
        .map(drop)
    }

    /// Cancels the tenant's job of `J`'s name and `key` if it has not run yet; whether it did.
    pub async fn cancel<J: Job>(
        &self,
        tx: &mut TenantTx<'_>,
        key: &str,
    ) -> diesel::QueryResult<bool> {
        let n = Prepared(
            diesel::sql_query(format!(
                "UPDATE {}.jobs SET state = 'cancelled', finished_at = now()
                 WHERE tenant_id = $1 AND name = $2 AND key = $3 AND state = 'scheduled'",
                self.schema
            ))
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
            .bind::<Text, _>(J::NAME)
            .bind::<Text, _>(key),
        )
        .execute(tx.conn())
        .await?;
        Ok(n > 0)
    }
}

type Work = for<'a, 'c> fn(
    &'a mut TenantTx<'c>,
    serde_json::Value,
    &'a Provided,
) -> Pin<Box<dyn Future<Output = Result<Next, ApiError>> + Send + 'a>>;

fn work<'a, 'c, J: Job>(
    tx: &'a mut TenantTx<'c>,
    payload: serde_json::Value,
    provided: &'a Provided,
) -> Pin<Box<dyn Future<Output = Result<Next, ApiError>> + Send + 'a>> {
    Box::pin(async move {
        let job: J = serde_json::from_value(payload)
            .map_err(|e| ApiError::internal(format_args!("job {} payload: {e}", J::NAME)))?;
        job.run(tx, provided).await
    })
}

/// How a runner paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerSettings {
    /// Jobs claimed per round.
    pub batch: i64,
    /// How long a claim lasts: a job still running after it may be taken by another runner once
    /// the first one's transaction has ended (it holds the row until then).
    pub lease: Duration,
    /// How long to wait after a round that found nothing due.
    pub idle: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: Duration::from_secs(300),
            idle: Duration::from_millis(500),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobRound {
    /// Ran and took effect: done, or due again later by its own say.
    pub done: usize,
    /// Failed, due again later.
    pub failed: usize,
    /// Failed for the last time, or ran out of attempts while claimed by runners that died.
    pub dead: usize,
    /// Claimed but found taken over by another runner (this one's lease had ended).
    pub lost: usize,
}

/// A job as claimed.
#[derive(QueryableByName, Debug)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    tenant_id: TenantId,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Integer)]
    max_attempts: i32,
}

/// Runs one schema's due jobs.
pub struct Runner {
    db: Database,
    schema: &'static str,
    work: HashMap<&'static str, Work>,
    provided: Provided,
    settings: RunnerSettings,
    id: Uuid,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("schema", &self.schema)
            .field("jobs", &self.names())
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner of `jobs` with no kinds of job yet: add them with [`with`](Self::with).
    pub fn new(db: Database, jobs: Jobs, settings: RunnerSettings) -> Self {
        Self {
            db,
            schema: jobs.schema,
            work: HashMap::new(),
            provided: Provided::default(),
            settings,
            id: Uuid::now_v7(),
        }
    }

    /// Runs jobs of kind `J` too.
    #[must_use]
    pub fn with<J: Job>(mut self) -> Self {
        self.work.insert(J::NAME, work::<J>);
        self
    }

    /// Lends `value` to the jobs it runs ([`Provided::get`]); a second value of one type replaces
    /// the first.
    #[must_use]
    pub fn provide<T: std::any::Any + Send + Sync>(mut self, value: T) -> Self {
        self.provided
            .0
            .insert(std::any::TypeId::of::<T>(), Box::new(value));
        self
    }

    /// The names of the jobs it runs, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.work.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Claims due jobs, runs them and records the outcomes.
    pub async fn run_once(&self) -> Result<JobRound, ApiError> {
        let (claimed, dead) = self.claim().await?;
        let mut round = JobRound {
            dead,
            ..JobRound::default()
        };
        for job in claimed {
            let span = tracing::info_span!("job", schema = self.schema, job.name = %job.name, job.id = %job.id, tenant.id = %job.tenant_id, attempt = job.attempts);
            let outcome = tracing::Instrument::instrument(self.run_one(&job), span).await;
            match outcome {
                Ok(true) => round.done += 1,
                Ok(false) => round.lost += 1,
                Err(error) => {
                    tracing::warn!(schema = self.schema, job.name = %job.name, job.id = %job.id, attempt = job.attempts, error = %error.message, "job failed");
                    let dead = job.attempts >= job.max_attempts;
                    // What a platform admin reads; an internal error's cause is only in the log,
                    // under this job's span.
                    let said = match error.code {
                        cityos_core::ErrorCode::Internal => format!(
                            "{}: {} (the cause is in the {} log, with job.id {})",
                            error.code.as_str(),
                            error.message,
                            self.schema,
                            job.id
                        ),
                        code => format!("{}: {}", code.as_str(), error.message),
                    };
                    self.record_failure(&job, &said, dead).await?;
                    if dead {
                        round.dead += 1;
                    } else {
                        round.failed += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// Runs rounds until the process ends, resting when nothing is due or the database fails.
    pub async fn run(self) {
        loop {
            match self.run_once().await {
                Ok(r) if r.done + r.failed + r.dead + r.lost > 0 => continue,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(schema = self.schema, error = ?error, "job round failed");
                }
            }
            tokio::time::sleep(self.settings.idle).await;
        }
    }

    /// Claims a batch of due jobs this runner knows (and first buries those whose runners kept
    /// dying until they ran out of attempts).
    async fn claim(&self) -> Result<(Vec<Claimed>, usize), ApiError> {
        let s = self.schema;
        let bury = format!(
            "UPDATE {s}.jobs SET state = 'dead', finished_at = now(), claimed_by = NULL,
                    last_error = coalesce(last_error, 'the runner stopped mid-run')
             WHERE state = 'running' AND lease_until < now() AND attempts >= max_attempts"
        );
        let claim = format!(
            "UPDATE {s}.jobs j SET state = 'running', attempts = j.attempts + 1,
                    lease_until = now() + make_interval(secs => $3), claimed_by = $4
             WHERE (j.tenant_id, j.id) IN (
                 SELECT q.tenant_id, q.id FROM {s}.jobs q
                 WHERE q.state IN ('scheduled', 'running') AND q.run_at <= now()
                   AND (q.state = 'scheduled' OR q.lease_until < now())
                   AND q.attempts < q.max_attempts AND q.name = ANY($1)
                 ORDER BY q.run_at LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING j.tenant_id, j.id, j.name, j.payload, j.attempts, j.max_attempts"
        );
        let names: Vec<&'static str> = self.names();
        let (batch, lease, me) = (
            self.settings.batch,
            self.settings.lease.as_secs_f64(),
            self.id,
        );
        let (mut claimed, dead) = in_tx_begun_by(&self.db, &worker_begin(), async move |conn| {
            let dead = Prepared(diesel::sql_query(bury)).execute(conn).await?;
            let claimed: Vec<Claimed> = Prepared(
                diesel::sql_query(claim)
                    .bind::<Array<Text>, _>(names)
                    .bind::<BigInt, _>(batch)
                    .bind::<Double, _>(lease)
                    .bind::<diesel::sql_types::Uuid, _>(me),
            )
            .load(conn)
            .await?;
            Ok::<_, ApiError>((claimed, dead))
        })
        .await?;
        claimed.sort_by_key(|j| j.id);
        Ok((claimed, dead))
    }

    /// Runs one claimed job; `Ok(false)` when another runner had taken it over.
    async fn run_one(&self, job: &Claimed) -> Result<bool, ApiError> {
        let work = *self
            .work
            .get(job.name.as_str())
            .ok_or_else(|| ApiError::internal(format_args!("no work for job {}", job.name)))?;
        let done = format!(
            "UPDATE {}.jobs SET state = 'done', finished_at = now(), lease_until = NULL, last_error = NULL
             WHERE tenant_id = $1 AND id = $2 AND claimed_by = $3 AND state = 'running'",
            self.schema
        );
        let again = format!(
            "UPDATE {}.jobs SET state = 'scheduled', run_at = $3, attempts = 0, finished_at = NULL,
                    claimed_by = NULL
             WHERE tenant_id = $1 AND id = $2",
            self.schema
        );
        let (id, me, payload, provided) = (job.id, self.id, job.payload.clone(), &self.provided);
        self.db
            .tenant_tx(job.tenant_id, async move |tx| {
                let tenant = tx.tenant();
                // Locks the row for the rest of the run: no other runner claims it meanwhile.
                let held = Prepared(
                    diesel::sql_query(done)
                        .bind::<diesel::sql_types::Uuid, _>(tenant)
                        .bind::<diesel::sql_types::Uuid, _>(id)
                        .bind::<diesel::sql_types::Uuid, _>(me),
                )
                .execute(tx.conn())
                .await?;
                if held == 0 {
                    return Ok(false);
                }
                if let Next::At(at) = work(tx, payload, provided).await? {
                    Prepared(
                        diesel::sql_query(again)
                            .bind::<diesel::sql_types::Uuid, _>(tenant)
                            .bind::<diesel::sql_types::Uuid, _>(id)
                            .bind::<Timestamptz, _>(at),
                    )
                    .execute(tx.conn())
                    .await?;
                }
                Ok(true)
            })
            .await
    }

    async fn record_failure(&self, job: &Claimed, error: &str, dead: bool) -> Result<(), ApiError> {
        let sql = format!(
            "UPDATE {}.jobs SET state = CASE WHEN $4 THEN 'dead' ELSE 'scheduled' END,
                    run_at = CASE WHEN $4 THEN run_at ELSE now() + make_interval(secs => $5) END,
                    finished_at = CASE WHEN $4 THEN now() END,
                    lease_until = NULL, claimed_by = NULL, last_error = $6
             WHERE tenant_id = $1 AND id = $2 AND claimed_by = $3",
            self.schema
        );
        let delay = retry_delay(job.attempts).as_secs_f64();
        let (tenant, id, me) = (job.tenant_id, job.id, self.id);
        let error = clip(error);
        in_tx_begun_by(&self.db, &worker_begin(), async move |conn| {
            Prepared(
                diesel::sql_query(sql)
                    .bind::<diesel::sql_types::Uuid, _>(tenant)
                    .bind::<diesel::sql_types::Uuid, _>(id)
                    .bind::<diesel::sql_types::Uuid, _>(me)
                    .bind::<diesel::sql_types::Bool, _>(dead)
                    .bind::<Double, _>(delay)
                    .bind::<Text, _>(error),
            )
            .execute(conn)
            .await
            .map_err(ApiError::from)
        })
        .await
        .map(drop)
    }
}
