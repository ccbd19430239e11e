//! The platform's operations view of the kit's machinery in every schema: event deliveries and
//! durable jobs, their lag, the two repairs a platform admin makes (redeliver an event to a
//! subscriber, retry a job), and the retention sweep that keeps the tables from growing forever
//! ([`prune`]).
//!
//! Which schemas have them is read from the catalogue (every table `platform.create_outbox` and
//! `platform.create_jobs` made), so a new subgraph shows up without a change here. All of it runs
//! as the worker role ([`WORKER_ROLE`](crate::outbox::WORKER_ROLE)), which sees every tenant's
//! rows of these tables and nothing else; callers check that the actor is a platform admin.

use crate::outbox::worker_begin;
use crate::{Database, Prepared, in_tx_begun_by};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::TenantId;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension as _, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One event's delivery to one subscriber.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    /// The publishing subgraph (its schema).
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: TenantId,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub subscriber: String,
    #[diesel(sql_type = Text)]
    pub topic: String,
    /// `pending`, `delivered` or `dead`.
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub delivered_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// One durable job.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct JobRow {
    /// The subgraph whose runner runs it (its schema).
    #[diesel(sql_type = Text)]
    pub subgraph: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: TenantId,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    /// `scheduled`, `running`, `done`, `dead` or `cancelled`.
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Timestamptz)]
    pub run_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// What a list of deliveries or jobs is narrowed to; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The schema (publisher of deliveries, owner of jobs).
    pub schema: Option<String>,
    /// The state.
    pub state: Option<String>,
    /// Deliveries: the subscriber. Jobs: the job's name.
    pub name: Option<String>,
    /// Deliveries: the topic.
    pub topic: Option<String>,
    /// The tenant.
    pub tenant: Option<TenantId>,
}

#[derive(QueryableByName)]
struct SchemaName {
    #[diesel(sql_type = Text)]
    schema: String,
}

/// The schemas with a table `table` of the kit's (`deliveries` or `jobs`), sorted.
async fn schemas_with(conn: &mut AsyncPgConnection, table: &str) -> Result<Vec<String>, ApiError> {
    let rows: Vec<SchemaName> = diesel::sql_query(
        "SELECT n.nspname::text AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1",
    )
    .bind::<Text, _>(table)
    .load(conn)
    .await?;
    // The names are spliced into SQL: only subgraph names (lower case, digits, underscores) pass,
    // which need no quoting.
    Ok(rows
        .into_iter()
        .map(|r| r.schema)
        .filter(|s| {
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect())
}

/// The position of a delivery in the list (newest event first, then subscriber).
pub type DeliveryKey = (Uuid, String);

/// A page of deliveries matching `filter`, newest event first, after `after`, at most `limit`.
pub async fn deliveries(
    db: &Database,
    filter: &Filter,
    after: Option<&DeliveryKey>,
    limit: i64,
) -> Result<(Vec<DeliveryRow>, i64), ApiError> {
    let filter = filter.clone();
    let after = after.cloned();
    in_tx_begun_by(db, &worker_begin(), async move |conn| {
        let schemas = schemas_with(conn, "deliveries").await?;
        let parts: Vec<String> = schemas
            .iter()
            .filter(|s| filter.schema.as_ref().is_none_or(|f| f == *s))
            .map(|s| {
                format!(
                    "SELECT '{s}'::text AS source, d.tenant_id, d.event_id, d.subscriber, o.topic, d.state,
                            d.attempts, d.next_attempt_at, d.last_error, d.delivered_at, o.created_at
                     FROM {s}.deliveries d JOIN {s}.outbox o ON (o.tenant_id, o.id) = (d.tenant_id, d.event_id)"
                )
            })
            .collect();
        if parts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let conditions = "($1::text IS NULL OR x.state = $1) AND ($2::text IS NULL OR x.subscriber = $2)
               AND ($3::text IS NULL OR x.topic = $3) AND ($4::uuid IS NULL OR x.tenant_id = $4)";
        let all = parts.join(" UNION ALL ");
        let page_sql = format!(
            "SELECT * FROM ({all}) x WHERE {conditions}
               AND ($5::uuid IS NULL OR (x.event_id, x.subscriber) < ($5, $6))
             ORDER BY x.event_id DESC, x.subscriber DESC LIMIT $7"
        );
        let count_sql = format!("SELECT count(*) AS n FROM ({all}) x WHERE {conditions}");
        let (after_id, after_subscriber) = match after {
            Some((id, s)) => (Some(id), Some(s)),
            None => (None, None),
        };
        let rows: Vec<DeliveryRow> = Prepared(
            diesel::sql_query(page_sql)
                .bind::<Nullable<Text>, _>(filter.state.as_deref())
                .bind::<Nullable<Text>, _>(filter.name.as_deref())
                .bind::<Nullable<Text>, _>(filter.topic.as_deref())
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(filter.tenant)
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(after_id)
                .bind::<Nullable<Text>, _>(after_subscriber)
                .bind::<BigInt, _>(limit),
        )
        .load(conn)
        .await?;
        let total: Count = Prepared(
            diesel::sql_query(count_sql)
                .bind::<Nullable<Text>, _>(filter.state.as_deref())
                .bind::<Nullable<Text>, _>(filter.name.as_deref())
                .bind::<Nullable<Text>, _>(filter.topic.as_deref())
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(filter.tenant),
        )
        .get_result(conn)
        .await?;
        Ok((rows, total.n))
    })
    .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Makes the delivery of `event` (published by `source`) to `subscriber` pending and due now, with
/// its attempts from zero: for a dead delivery once its cause is fixed, or to replay a delivered
/// one (consumers apply it once however often it arrives). `None` when there is no such delivery.
pub async fn redeliver(
    db: &Database,
    source: &str,
    event: Uuid,
    subscriber: &str,
) -> Result<Option<DeliveryRow>, ApiError> {
    let (source, subscriber) = (source.to_owned(), subscriber.to_owned());
    in_tx_begun_by(db, &worker_begin(), async move |conn| {
        if !schemas_with(conn, "deliveries").await?.contains(&source) {
            return Ok(None);
        }
        let sql = format!(
            "WITH d AS (
                 UPDATE {s}.deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(),
                        delivered_at = NULL
                 WHERE event_id = $1 AND subscriber = $2
                 RETURNING tenant_id, event_id, subscriber, state, attempts, next_attempt_at, last_error,
                           delivered_at)
             SELECT '{s}'::text AS source, d.*, o.topic, o.created_at
             FROM d JOIN {s}.outbox o ON (o.tenant_id, o.id) = (d.tenant_id, d.event_id)",
            s = source
        );
        let row: Option<DeliveryRow> = Prepared(
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Uuid, _>(event)
                .bind::<Text, _>(&subscriber),
        )
        .get_result(conn)
        .await
        .optional()?;
        Ok(row)
    })
    .await
}

/// The position of a job in the list (newest first).
pub type JobKey = Uuid;

const JOB_COLUMNS: &str = "tenant_id, id, name, key, state, run_at, attempts, max_attempts, last_error, created_at, finished_at";

/// A page of jobs matching `filter` (its `name` is the job's name), newest first.
pub async fn jobs(
    db: &Database,
    filter: &Filter,
    after: Option<JobKey>,
    limit: i64,
) -> Result<(Vec<JobRow>, i64), ApiError> {
    let filter = filter.clone();
    in_tx_begun_by(db, &worker_begin(), async move |conn| {
        let schemas = schemas_with(conn, "jobs").await?;
        let parts: Vec<String> = schemas
            .iter()
            .filter(|s| filter.schema.as_ref().is_none_or(|f| f == *s))
            .map(|s| format!("SELECT '{s}'::text AS subgraph, {JOB_COLUMNS} FROM {s}.jobs"))
            .collect();
        if parts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let all = parts.join(" UNION ALL ");
        let conditions = "($1::text IS NULL OR x.state = $1) AND ($2::text IS NULL OR x.name = $2)
               AND ($3::uuid IS NULL OR x.tenant_id = $3)";
        let page_sql = format!(
            "SELECT * FROM ({all}) x WHERE {conditions} AND ($4::uuid IS NULL OR x.id < $4)
             ORDER BY x.id DESC LIMIT $5"
        );
        let count_sql = format!("SELECT count(*) AS n FROM ({all}) x WHERE {conditions}");
        let rows: Vec<JobRow> = Prepared(
            diesel::sql_query(page_sql)
                .bind::<Nullable<Text>, _>(filter.state.as_deref())
                .bind::<Nullable<Text>, _>(filter.name.as_deref())
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(filter.tenant)
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(after)
                .bind::<BigInt, _>(limit),
        )
        .load(conn)
        .await?;
        let total: Count = Prepared(
            diesel::sql_query(count_sql)
                .bind::<Nullable<Text>, _>(filter.state.as_deref())
                .bind::<Nullable<Text>, _>(filter.name.as_deref())
                .bind::<Nullable<diesel::sql_types::Uuid>, _>(filter.tenant),
        )
        .get_result(conn)
        .await?;
        Ok((rows, total.n))
    })
    .await
}

/// Makes a dead (or failed, waiting) job of `subgraph` due now with a fresh set of attempts.
/// Refused (`Ok(None)`) for a job that does not exist; `Err` with a message for one that is
/// scheduled to run, running, done or cancelled: only a job that gave up can be retried.
pub async fn retry_job(
    db: &Database,
    subgraph: &str,
    id: Uuid,
) -> Result<Option<Result<JobRow, String>>, ApiError> {
    let subgraph = subgraph.to_owned();
    in_tx_begun_by(db, &worker_begin(), async move |conn| {
        if !schemas_with(conn, "jobs").await?.contains(&subgraph) {
            return Ok(None);
        }
        let s = &subgraph;
        let current: Option<JobRow> = Prepared(
            diesel::sql_query(format!(
                "SELECT '{s}'::text AS subgraph, {JOB_COLUMNS} FROM {s}.jobs WHERE id = $1 FOR UPDATE"
            ))
            .bind::<diesel::sql_types::Uuid, _>(id),
        )
        .get_result(conn)
        .await
        .optional()?;
        let Some(current) = current else {
            return Ok(None);
        };
        if current.state != "dead" {
            return Ok(Some(Err(format!(
                "the job is {}: only a dead job can be retried",
                current.state
            ))));
        }
        let row: JobRow = Prepared(
            diesel::sql_query(format!(
                "UPDATE {s}.jobs SET state = 'scheduled', run_at = now(), attempts = 0,
                        finished_at = NULL, lease_until = NULL, claimed_by = NULL
                 WHERE id = $1
                 RETURNING '{s}'::text AS subgraph, {JOB_COLUMNS}"
            ))
            .bind::<diesel::sql_types::Uuid, _>(id),
        )
        .get_result(conn)
        .await?;
        Ok(Some(Ok(row)))
    })
    .await
}

/// How far one schema's machinery is behind: what a metrics scrape reports.
#[derive(QueryableByName, Debug, Clone, Default, PartialEq)]
pub struct Lag {
    /// Deliveries pending (due or waiting for a retry).
    #[diesel(sql_type = BigInt)]
    pub deliveries_pending: i64,
    /// Dead deliveries.
    #[diesel(sql_type = BigInt)]
    pub deliveries_dead: i64,
    /// Seconds since the oldest pending delivery's event was written (0 when none).
    #[diesel(sql_type = Double)]
    pub delivery_lag_seconds: f64,
    /// Jobs due (their time has come) and not yet done.
    #[diesel(sql_type = BigInt)]
    pub jobs_due: i64,
    /// Dead jobs.
    #[diesel(sql_type = BigInt)]
    pub jobs_dead: i64,
    /// Seconds since the oldest due job's time (0 when none).
    #[diesel(sql_type = Double)]
    pub job_lag_seconds: f64,
}

/// The lag of `schema`'s deliveries (if it publishes events) and jobs (if it has any).
pub async fn lag(
    db: &Database,
    schema: &'static str,
    has_outbox: bool,
    has_jobs: bool,
) -> Result<Lag, ApiError> {
    let deliveries = if has_outbox {
        format!(
            "(SELECT count(*) FROM {schema}.deliveries WHERE state = 'pending') AS deliveries_pending,
             (SELECT count(*) FROM {schema}.deliveries WHERE state = 'dead') AS deliveries_dead,
             coalesce((SELECT extract(epoch FROM now() - min(o.created_at))::float8
                       FROM {schema}.deliveries d JOIN {schema}.outbox o ON (o.tenant_id, o.id) = (d.tenant_id, d.event_id)
                       WHERE d.state = 'pending'), 0) AS delivery_lag_seconds"
        )
    } else {
        "0::bigint AS deliveries_pending, 0::bigint AS deliveries_dead, 0::float8 AS delivery_lag_seconds".to_owned()
    };
    let jobs = if has_jobs {
        format!(
            "(SELECT count(*) FROM {schema}.jobs WHERE state IN ('scheduled', 'running') AND run_at <= now()) AS jobs_due,
             (SELECT count(*) FROM {schema}.jobs WHERE state = 'dead') AS jobs_dead,
             coalesce((SELECT extract(epoch FROM now() - min(run_at))::float8 FROM {schema}.jobs
                       WHERE state IN ('scheduled', 'running') AND run_at <= now()), 0) AS job_lag_seconds"
        )
    } else {
        "0::bigint AS jobs_due, 0::bigint AS jobs_dead, 0::float8 AS job_lag_seconds".to_owned()
    };
    let sql = format!("SELECT {deliveries}, {jobs}");
    in_tx_begun_by(db, &worker_begin(), async move |conn| {
        Prepared(diesel::sql_query(sql))
            .get_result(conn)
            .await
            .map_err(ApiError::from)
    })
    .await
}

/// How long the kit's rows are kept once they are of no more use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// An event delivered to every subscriber (and its deliveries). Dead and pending ones stay
    /// whatever their age: a platform admin may still redeliver them.
    pub events: std::time::Duration,
    /// An inbox row. Longer than `events`, so every event that could still arrive again (its
    /// outbox row is there) still finds its id.
    pub inbox: std::time::Duration,
    /// A job done or cancelled (dead ones stay for a retry). A job's key is idempotent while its
    /// row is there: scheduling the same key after it is swept runs it again.
    pub jobs: std::time::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            events: std::time::Duration::from_secs(7 * DAY),
            inbox: std::time::Duration::from_secs(30 * DAY),
            jobs: std::time::Duration::from_secs(30 * DAY),
        }
    }
}

/// Which of the kit's tables a schema has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tables {
    /// `outbox` and `deliveries`.
    pub outbox: bool,
    /// `inbox`.
    pub inbox: bool,
    /// `jobs`.
    pub jobs: bool,
}

impl Tables {
    /// Whether it has none of them.
    pub fn none(self) -> bool {
        self == Self::default()
    }
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Events (with their deliveries).
    pub events: u64,
    /// Inbox rows.
    pub inbox: u64,
    /// Jobs.
    pub jobs: u64,
}

/// Rows deleted per statement, so a sweep never holds many locks for long.
const PRUNE_BATCH: i64 = 5_000;

/// Removes `schema`'s rows past `retention`: events delivered to every subscriber, inbox rows,
/// finished jobs; each table only if the schema has it. In batches, as the worker role.
pub async fn prune(
    db: &Database,
    schema: &'static str,
    tables: Tables,
    retention: Retention,
) -> Result<Pruned, ApiError> {
    let Tables {
        outbox,
        inbox,
        jobs,
    } = tables;
    let s = schema;
    let mut pruned = Pruned::default();
    let mut sweeps: Vec<(String, f64, &mut u64)> = Vec::new();
    if outbox {
        sweeps.push((
            format!(
                "DELETE FROM {s}.outbox WHERE (tenant_id, id) IN (
                     SELECT o.tenant_id, o.id FROM {s}.outbox o
                     WHERE o.created_at < now() - make_interval(secs => $1)
                       AND NOT EXISTS (SELECT 1 FROM {s}.deliveries d
                                       WHERE (d.tenant_id, d.event_id) = (o.tenant_id, o.id)
                                         AND d.state <> 'delivered')
                     LIMIT $2)"
            ),
            retention.events.as_secs_f64(),
            &mut pruned.events,
        ));
    }
    if inbox {
        sweeps.push((
            format!(
                "DELETE FROM {s}.inbox WHERE (tenant_id, event_id) IN (
                     SELECT tenant_id, event_id FROM {s}.inbox
                     WHERE received_at < now() - make_interval(secs => $1) LIMIT $2)"
            ),
            retention.inbox.as_secs_f64(),
            &mut pruned.inbox,
        ));
    }
    if jobs {
        sweeps.push((
            format!(
                "DELETE FROM {s}.jobs WHERE (tenant_id, id) IN (
                     SELECT tenant_id, id FROM {s}.jobs
                     WHERE state IN ('done', 'cancelled')
                       AND finished_at < now() - make_interval(secs => $1) LIMIT $2)"
            ),
            retention.jobs.as_secs_f64(),
            &mut pruned.jobs,
        ));
    }
    for (sql, keep, removed) in sweeps {
        loop {
            let sql = sql.clone();
            let n = in_tx_begun_by(db, &worker_begin(), async move |conn| {
                Prepared(
                    diesel::sql_query(sql)
                        .bind::<Double, _>(keep)
                        .bind::<BigInt, _>(PRUNE_BATCH),
                )
                .execute(conn)
                .await
                .map_err(ApiError::from)
            })
            .await?;
            *removed += n as u64;
            if (n as i64) < PRUNE_BATCH {
                break;
            }
        }
    }
    Ok(pruned)
}
