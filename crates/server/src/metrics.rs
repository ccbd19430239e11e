//! Prometheus metrics of one subgraph process, served at `GET /metrics` on its port (the
//! platform's network only, like `/events`; the router's own are on `ROUTER_METRICS_LISTEN`).
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `cityos_graphql_request_duration_seconds` | histogram (its `_count` is the request count) | `subgraph`, `operation`, `outcome` (`ok`, `error`) |
//! | `cityos_events_consumed_duration_seconds` | histogram | `topic`, `outcome` (`applied`, `duplicate`, `refused`) |
//! | `cityos_db_pool_connections` | gauge | `state` (`in_use`, `idle`, `max`) |
//! | `cityos_outbox_deliveries` | gauge, read from the database at each scrape | `state` (`pending`, `dead`) |
//! | `cityos_outbox_lag_seconds` | gauge: age of the oldest pending delivery's event | `schema` |
//! | `cityos_jobs` | gauge, read at each scrape | `state` (`due`, `dead`) |
//! | `cityos_jobs_lag_seconds` | gauge: how long the oldest due job has been due | `schema` |
//! | `cityos_response_cache_lookups_total` | counter: storefront answers looked up in the response cache ([`crate::cache`]) | `subgraph`, `outcome` (`hit`, `stale`, `expired`, `miss`) |
//! | `cityos_response_cache_bytes` | gauge: bytes the response cache holds | `subgraph` |
//! | `cityos_response_cache_fences_total` | counter: fences run for hits (each serves every hit waiting for it) | `subgraph` |
//!
//! The outbox and job gauges appear only on a subgraph that has an outbox or a job runner.
//!
//! The operation is the client's operation name: the router names its fetch from a subgraph
//! `<operation>__<subgraph>__<n>`, and the suffix is taken off. Names come from clients, so they
//! are bounded: at most 64 characters of `[A-Za-z0-9_]`, and after [`MAX_OPERATIONS`] distinct
//! names every new one counts as `other`.

use cityos_db::Database;
use cityos_db::inbox::{Applied, Refusal};
use prometheus::{
    Encoder as _, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// Distinct operation names counted before the rest count as `other`.
pub const MAX_OPERATIONS: usize = 500;

struct Metrics {
    registry: Registry,
    graphql: HistogramVec,
    consumed: HistogramVec,
    pool: GaugeVec,
    deliveries: GaugeVec,
    delivery_lag: GaugeVec,
    jobs: GaugeVec,
    job_lag: GaugeVec,
    cache_lookups: IntCounterVec,
    cache_bytes: GaugeVec,
    cache_fences: IntCounterVec,
    operations: Mutex<HashSet<String>>,
}

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

fn histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
        labels,
    )
    .unwrap_or_else(|e| panic!("metric {name}: {e}"))
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    GaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| panic!("metric {name}: {e}"))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let m = Metrics {
        registry: Registry::new(),
        graphql: histogram(
            "cityos_graphql_request_duration_seconds",
            "GraphQL requests served, by operation name and outcome, and how long they took",
            &["subgraph", "operation", "outcome"],
        ),
        consumed: histogram(
            "cityos_events_consumed_duration_seconds",
            "Events received at /events, by topic and outcome, and how long applying them took",
            &["topic", "outcome"],
        ),
        pool: gauge(
            "cityos_db_pool_connections",
            "Database pool connections: in use, idle, and the pool's maximum",
            &["state"],
        ),
        deliveries: gauge(
            "cityos_outbox_deliveries",
            "Event deliveries of this subgraph's outbox that are pending or dead",
            &["state"],
        ),
        delivery_lag: gauge(
            "cityos_outbox_lag_seconds",
            "Seconds since the oldest pending delivery's event was written",
            &["schema"],
        ),
        jobs: gauge(
            "cityos_jobs",
            "Durable jobs of this subgraph that are due (and not done) or dead",
            &["state"],
        ),
        job_lag: gauge(
            "cityos_jobs_lag_seconds",
            "Seconds the oldest due job has waited past its time",
            &["schema"],
        ),
        cache_lookups: IntCounterVec::new(
            Opts::new(
                "cityos_response_cache_lookups_total",
                "Storefront answers looked up in the response cache, by outcome",
            ),
            &["subgraph", "outcome"],
        )
        .unwrap_or_else(|e| panic!("metric cityos_response_cache_lookups_total: {e}")),
        cache_bytes: gauge(
            "cityos_response_cache_bytes",
            "Bytes the response cache holds (answers and bookkeeping)",
            &["subgraph"],
        ),
        cache_fences: IntCounterVec::new(
            Opts::new(
                "cityos_response_cache_fences_total",
                "Fences run on the response cache's listener connection for its hits",
            ),
            &["subgraph"],
        )
        .unwrap_or_else(|e| panic!("metric cityos_response_cache_fences_total: {e}")),
        operations: Mutex::new(HashSet::new()),
    };
    for c in [&m.graphql, &m.consumed] {
        let _ = m.registry.register(Box::new(c.clone()));
    }
    for c in [&m.cache_lookups, &m.cache_fences] {
        let _ = m.registry.register(Box::new(c.clone()));
    }
    for g in [
        &m.pool,
        &m.deliveries,
        &m.delivery_lag,
        &m.jobs,
        &m.job_lag,
        &m.cache_bytes,
    ] {
        let _ = m.registry.register(Box::new(g.clone()));
    }
    m
});

/// The client's operation name in the router's name for its fetch from `subgraph`.
fn client_operation<'a>(name: &'a str, subgraph: &str) -> &'a str {
    let Some((head, n)) = name.rsplit_once("__") else {
        return name;
    };
    let fetch = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    match head
        .strip_suffix(subgraph)
        .and_then(|h| h.strip_suffix("__"))
    {
        Some(operation) if fetch => operation,
        _ => name,
    }
}

/// The label of a client's operation name: see the module's documentation.
fn operation_label(name: Option<&str>, subgraph: &str) -> String {
    let Some(name) = name
        .map(|n| client_operation(n, subgraph))
        .filter(|n| !n.is_empty())
    else {
        return "anonymous".to_owned();
    };
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if clean.is_empty() {
        return "other".to_owned();
    }
    let mut seen = METRICS
        .operations
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(&clean) {
        clean
    } else if seen.len() < MAX_OPERATIONS {
        seen.insert(clean.clone());
        clean
    } else {
        "other".to_owned()
    }
}

/// Counts one GraphQL request.
pub fn graphql_request(subgraph: &str, operation: Option<&str>, ok: bool, took: Duration) {
    let operation = operation_label(operation, subgraph);
    let outcome = if ok { "ok" } else { "error" };
    METRICS
        .graphql
        .with_label_values(&[subgraph, operation.as_str(), outcome])
        .observe(took.as_secs_f64());
}

/// Counts one response-cache lookup of `subgraph` and records what the cache holds after it.
pub fn cache_lookup(subgraph: &str, outcome: &str, bytes: usize) {
    METRICS
        .cache_lookups
        .with_label_values(&[subgraph, outcome])
        .inc();
    cache_bytes(subgraph, bytes);
}

/// Counts one fence of `subgraph`'s response cache.
pub fn cache_fence(subgraph: &str) {
    METRICS.cache_fences.with_label_values(&[subgraph]).inc();
}

/// Records the bytes `subgraph`'s response cache holds.
pub fn cache_bytes(subgraph: &str, bytes: usize) {
    METRICS
        .cache_bytes
        .with_label_values(&[subgraph])
        .set(bytes as f64);
}

/// Counts one received event.
pub fn event_consumed(topic: &str, outcome: &Result<Applied, Refusal>, took: Duration) {
    let outcome = match outcome {
        Ok(Applied::Now) => "applied",
        Ok(Applied::Before) => "duplicate",
        Err(_) => "refused",
    };
    // Topics are the consumer's own (unknown ones are refused before a label is made for them).
    let topic = if matches!(outcome, "refused") {
        "any"
    } else {
        topic
    };
    METRICS
        .consumed
        .with_label_values(&[topic, outcome])
        .observe(took.as_secs_f64());
}

/// What a scrape reads besides the counters.
#[derive(Clone)]
pub struct Scrape {
    /// The subgraph's pool.
    pub db: Database,
    /// Its schema.
    pub schema: &'static str,
    /// Whether it has an outbox.
    pub has_outbox: bool,
    /// Whether it has jobs.
    pub has_jobs: bool,
}

/// The text exposition of every metric, the gauges read now.
pub async fn render(scrape: &Scrape) -> String {
    let m = &*METRICS;
    let status = scrape.db.pool_status();
    m.pool
        .with_label_values(&["in_use"])
        .set((status.size - status.available) as f64);
    m.pool
        .with_label_values(&["idle"])
        .set(status.available as f64);
    m.pool
        .with_label_values(&["max"])
        .set(status.max_size as f64);
    if scrape.has_outbox || scrape.has_jobs {
        match cityos_db::ops::lag(
            &scrape.db,
            scrape.schema,
            scrape.has_outbox,
            scrape.has_jobs,
        )
        .await
        {
            Ok(lag) => {
                if scrape.has_outbox {
                    let d = &m.deliveries;
                    d.with_label_values(&["pending"])
                        .set(lag.deliveries_pending as f64);
                    d.with_label_values(&["dead"])
                        .set(lag.deliveries_dead as f64);
                    m.delivery_lag
                        .with_label_values(&[scrape.schema])
                        .set(lag.delivery_lag_seconds);
                }
                if scrape.has_jobs {
                    m.jobs.with_label_values(&["due"]).set(lag.jobs_due as f64);
                    m.jobs
                        .with_label_values(&["dead"])
                        .set(lag.jobs_dead as f64);
                    m.job_lag
                        .with_label_values(&[scrape.schema])
                        .set(lag.job_lag_seconds);
                }
            }
            Err(error) => tracing::warn!(error = %error.message, "metrics: reading the lag failed"),
        }
    }
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::warn!(error = %e, "metrics: encoding failed");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        let label = |n: Option<&str>| operation_label(n, "catalog");
        assert_eq!(label(None), "anonymous");
        assert_eq!(label(Some("ProductPage")), "ProductPage");
        assert_eq!(label(Some("ProductPage__catalog__0")), "ProductPage");
        assert_eq!(label(Some("ProductPage__catalog__12")), "ProductPage");
        assert_eq!(label(Some("A__orders__1")), "A__orders__1");
        assert_eq!(label(Some("A__catalog__x")), "A__catalog__x");
        assert_eq!(label(Some("a{b}\n")), "ab");
        assert_eq!(label(Some(&"x".repeat(200))).len(), 64);
        assert_eq!(label(Some("!!")), "other");
    }
}
