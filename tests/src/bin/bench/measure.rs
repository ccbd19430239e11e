//! Measuring: requests at a concurrency or a rate, their latency percentiles, the processor time
//! each process used, and what PostgreSQL ran (pg_stat_statements).

use cityos_e2e::{Stack, process_cpu_time};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(diesel::QueryableByName)]
pub(crate) struct Calls {
    #[diesel(sql_type = BigInt)]
    pub(crate) calls: i64,
}

/// Turns `pg_stat_statements` on in this database: whether its counts can be read.
pub(crate) async fn statement_stats(conn: &mut AsyncPgConnection) -> bool {
    diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(conn)
        .await
        .is_ok()
        && app_statements(conn).await.is_some()
}

/// Statements run by the application role in this database since the last reset.
pub(crate) async fn app_statements(conn: &mut AsyncPgConnection) -> Option<i64> {
    diesel::sql_query(
        "SELECT COALESCE(sum(calls), 0)::bigint AS calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'cityos_app')",
    )
    .get_result::<Calls>(conn)
    .await
    .ok()
    .map(|c| c.calls)
}

#[derive(diesel::QueryableByName)]
pub(crate) struct Heavy {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) query: String,
    #[diesel(sql_type = BigInt)]
    pub(crate) calls: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub(crate) mean_ms: f64,
}

/// One statement's text and how often it ran.
#[derive(diesel::QueryableByName)]
pub(crate) struct Calls2 {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) query: String,
    #[diesel(sql_type = BigInt)]
    pub(crate) calls: i64,
}

/// The application's statements that took the most database time, with their mean time.
pub(crate) async fn heaviest_statements(conn: &mut AsyncPgConnection) -> Vec<Heavy> {
    diesel::sql_query(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query, calls, mean_exec_time AS mean_ms
         FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'cityos_app')
         ORDER BY total_exec_time DESC LIMIT 3",
    )
    .load(conn)
    .await
    .unwrap_or_default()
}

/// The application's `limit` most frequent statements (their first 90 characters) since the last
/// reset.
pub(crate) async fn frequent_statements(conn: &mut AsyncPgConnection, limit: u32) -> Vec<Calls2> {
    diesel::sql_query(format!(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query, calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'cityos_app')
         ORDER BY calls DESC LIMIT {limit}"
    ))
    .load(conn)
    .await
    .unwrap_or_default()
}

pub(crate) async fn reset_statements(conn: &mut AsyncPgConnection) {
    let _ = diesel::sql_query("SELECT pg_stat_statements_reset()")
        .execute(conn)
        .await;
}

#[derive(diesel::QueryableByName)]
pub(crate) struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub(crate) pid: i32,
}

/// Processor time used so far by each process of the stack, by each server process of the
/// benchmark's database (keyed by pid: pooled connections come and go) and by this program.
pub(crate) struct CpuSnapshot {
    pub(crate) processes: Vec<(String, Duration)>,
    pub(crate) postgres: HashMap<i32, Duration>,
    pub(crate) load_generator: Duration,
}

impl CpuSnapshot {
    pub(crate) async fn take(stack: &Stack, db: &mut AsyncPgConnection) -> Self {
        let backends: Vec<Backend> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
        )
        .load(db)
        .await
        .unwrap_or_default();
        let postgres = backends
            .into_iter()
            .filter_map(|b| {
                let time = process_cpu_time(u32::try_from(b.pid).ok()?)?;
                Some((b.pid, time))
            })
            .collect();
        Self {
            processes: stack
                .cpu_time()
                .into_iter()
                .map(|(name, time)| (name.to_owned(), time))
                .collect(),
            postgres,
            load_generator: process_cpu_time(std::process::id()).unwrap_or_default(),
        }
    }

    /// Processor time used since `before`, per process name.
    pub(crate) fn since(&self, before: &Self) -> Vec<(String, Duration)> {
        let mut used: Vec<(String, Duration)> = self
            .processes
            .iter()
            .map(|(name, now)| {
                let then = before
                    .processes
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Duration::ZERO, |(_, t)| *t);
                (name.clone(), now.saturating_sub(then))
            })
            .collect();
        let postgres = self
            .postgres
            .iter()
            .map(|(pid, now)| {
                now.saturating_sub(before.postgres.get(pid).copied().unwrap_or_default())
            })
            .sum();
        used.push(("postgres".to_owned(), postgres));
        used.push((
            "load generator".to_owned(),
            self.load_generator.saturating_sub(before.load_generator),
        ));
        used
    }
}

/// The failed requests of a run: how many, and what the first got back.
#[derive(Default)]
pub(crate) struct Failures {
    count: usize,
    first: Option<String>,
}

impl Failures {
    fn add(&mut self, error: String) {
        self.count += 1;
        self.first.get_or_insert(error);
    }

    fn merge(&mut self, other: Self) {
        self.count += other.count;
        if let Some(e) = other.first {
            self.first.get_or_insert(e);
        }
    }
}

/// What a run measured: the latency of each successful request, sorted, and the failures.
pub(crate) struct Outcome {
    pub(crate) errors: usize,
    /// What a failed request got back (the first one recorded; its first 300 characters).
    pub(crate) first_error: Option<String>,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_us: Vec<u64>,
}

impl Outcome {
    pub(crate) fn new(mut latencies_us: Vec<u64>, failures: Failures, elapsed: Duration) -> Self {
        latencies_us.sort_unstable();
        Self {
            errors: failures.count,
            first_error: failures.first,
            elapsed,
            latencies_us,
        }
    }

    /// Successful requests.
    pub(crate) fn requests(&self) -> usize {
        self.latencies_us.len()
    }
}

/// Runs `concurrency` clients against `url` for `duration`. Each client cycles through `bodies`,
/// clients starting at different offsets.
pub(crate) async fn load(
    url: &str,
    headers: &[(String, String)],
    bodies: &[String],
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, url, headers, bodies) = (
                client.clone(),
                url.to_owned(),
                headers.to_vec(),
                bodies.to_vec(),
            );
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), Failures::default());
                let mut n = worker * 7;
                while Instant::now() < deadline {
                    n += 1;
                    let t = Instant::now();
                    match send(&client, &url, &headers, &bodies[n % bodies.len()]).await {
                        Ok(()) => latencies
                            .push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX)),
                        Err(e) => errors.add(e),
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), Failures::default());
    for worker in workers {
        let (latencies, errors) = worker.await.expect("worker");
        all.extend(latencies);
        failed.merge(errors);
    }
    Outcome::new(all, failed, started.elapsed())
}

/// Sends one request: whether it succeeded with no GraphQL error, else what came back.
pub(crate) async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Result<(), String> {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        request = request.header(k, v);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let b = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success()
        && !b.windows(9).any(|w| w == b"\"errors\":")
        && !b.windows(15).any(|w| w == b"\"userErrors\":[{")
    {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&b);
    Err(format!(
        "{status}: {}",
        text.chars().take(300).collect::<String>()
    ))
}

/// Open loop: starts `rate` requests per second on schedule whatever the answers, and measures each
/// from its scheduled start (so a stall counts against every request it delays).
pub(crate) async fn load_at_rate(
    url: &str,
    headers: &[(String, String)],
    bodies: &[String],
    rate: u32,
    duration: Duration,
) -> Outcome {
    load_at_rate_as(url, &[headers.to_vec()], bodies, rate, duration).await
}

/// [`load_at_rate`] with request `i` sent as `callers[i % callers.len()]` (callers with limits
/// of their own, such as a customer's live holds).
pub(crate) async fn load_at_rate_as(
    url: &str,
    callers: &[Vec<(String, String)>],
    bodies: &[String],
    rate: u32,
    duration: Duration,
) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let started = Instant::now();
    let total = (duration.as_secs_f64() * f64::from(rate)) as usize;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = started + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(scheduled.into()).await;
        let (client, url, headers, body) = (
            client.clone(),
            url.to_owned(),
            callers[i % callers.len()].clone(),
            bodies[i % bodies.len()].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let sent = send(&client, &url, &headers, &body).await;
            (
                sent,
                u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX),
            )
        }));
    }
    let (mut all, mut failed) = (Vec::new(), Failures::default());
    for task in tasks {
        match task.await.expect("request task") {
            (Ok(()), us) => all.push(us),
            (Err(e), _) => failed.add(e),
        }
    }
    Outcome::new(all, failed, started.elapsed())
}

pub(crate) fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

#[derive(diesel::QueryableByName)]
struct Waiting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    what: String,
}

/// Samples, every 20 ms until `stop`, what the application's active server processes are doing:
/// their wait event (`CPU` when none) and statement. Returns the samples per kind, most first.
pub(crate) async fn sample_waits(
    database_url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<(String, usize)> {
    use diesel_async::AsyncConnection as _;
    let Ok(mut conn) = AsyncPgConnection::establish(&database_url).await else {
        return Vec::new();
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    while !std::sync::atomic::AtomicBool::load(&stop, std::sync::atomic::Ordering::Relaxed) {
        let rows: Vec<Waiting> = diesel::sql_query(
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' in '
                    || left(regexp_replace(query, '\\s+', ' ', 'g'), 50) AS what
             FROM pg_stat_activity
             WHERE usename = 'cityos_app' AND state = 'active' AND pid <> pg_backend_pid()",
        )
        .load(&mut conn)
        .await
        .unwrap_or_default();
        for row in rows {
            *seen.entry(row.what).or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut seen: Vec<(String, usize)> = seen.into_iter().collect();
    seen.sort_by_key(|s| std::cmp::Reverse(s.1));
    seen.truncate(8);
    seen
}
