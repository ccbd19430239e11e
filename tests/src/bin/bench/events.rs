//! Events and jobs, measured in process on the benchmark's PostgreSQL: one dispatcher of the
//! catalog's outbox delivering `order.placed` over HTTP to two subscribers (the catalog's own
//! consumer, which adds to `units_sold`, and a second one with its own schema and inbox that
//! writes a row per event), and one job runner.
//!
//! - Throughput: events written up front, then the time until both subscribers have applied all
//!   of them.
//! - Delay: events written one per transaction at a steady rate while the dispatcher runs; for
//!   each, from its transaction's start (`outbox.created_at`, just before its commit) to the
//!   consumer's effect (the consumer transaction's clock, just before its commit).
//! - Jobs: jobs due at once, then the time until one runner has run them all.

use crate::measure::percentile;
use cityos_core::ApiError;
use cityos_db::inbox::{Consume, Consumers};
use cityos_db::jobs::{Job, Jobs, Next, Provided, Runner, RunnerSettings};
use cityos_db::outbox::{Dispatcher, Event, Outbox, Settings};
use cityos_db::{Prepared, TenantTx};
use cityos_server::Subgraph as _;
use cityos_server::events::{EventsConfig, HttpSink};
use cityos_testkit::TestDb;
use diesel_async::RunQueryDsl;
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &[u8] = b"the-benchmark-events-secret-of-32-bytes";
const OUTBOX: Outbox = Outbox::of("catalog");

/// The second subscriber: a row per event, stamped when applied.
#[derive(serde::Deserialize)]
struct Ledger {}

impl Consume for Ledger {
    const TOPIC: &'static str = "order.placed";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        Prepared(
            diesel::sql_query("INSERT INTO ledger.entries (tenant_id, event_id) VALUES ($1, $2)")
                .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
                .bind::<diesel::sql_types::Uuid, _>(event.id),
        )
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// A job whose effect is a row.
#[derive(serde::Serialize, serde::Deserialize)]
struct Tick {
    n: usize,
}

impl Job for Tick {
    const NAME: &'static str = "bench.tick";

    fn key(&self) -> String {
        self.n.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        Prepared(
            diesel::sql_query("INSERT INTO ledger.ticks (tenant_id, n) VALUES ($1, $2)")
                .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
                .bind::<diesel::sql_types::BigInt, _>(i64::try_from(self.n).unwrap_or(0)),
        )
        .execute(tx.conn())
        .await?;
        Ok(Next::Done)
    }
}

#[derive(serde::Serialize)]
struct Placed {
    lines: Vec<serde_json::Value>,
}

impl cityos_db::outbox::FixedTopic for Placed {
    const TOPIC: &'static str = "order.placed";
}

/// Writes `n` events, `per_tx` to a transaction.
async fn publish(
    t: &TestDb,
    tenant: cityos_core::ids::TenantId,
    line: &serde_json::Value,
    n: usize,
    per_tx: usize,
) {
    let mut left = n;
    while left > 0 {
        let batch = left.min(per_tx);
        left -= batch;
        let line = line.clone();
        t.db()
            .tenant_tx(tenant, async move |tx| {
                for _ in 0..batch {
                    let event = Placed {
                        lines: vec![line.clone()],
                    };
                    OUTBOX
                        .publish(tx, cityos_core::ids::EventId::new(), &event)
                        .await?;
                }
                Ok::<_, ApiError>(())
            })
            .await
            .unwrap_or_else(|e| panic!("publishing: {e:?}"));
    }
}

async fn wait_for(t: &TestDb, tenant: cityos_core::ids::TenantId, sql: &'static str, wanted: i64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while t.count_in(tenant, sql).await < wanted {
        assert!(Instant::now() < deadline, "{sql} never reached {wanted}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Delays (microseconds, sorted) from each event's write to its effect, by `sql` returning them.
async fn delays(t: &TestDb, tenant: cityos_core::ids::TenantId, sql: &'static str) -> Vec<u64> {
    #[derive(diesel::QueryableByName)]
    struct Us {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        us: i64,
    }
    let mut rows: Vec<u64> = t
        .db()
        .tenant_tx(tenant, async move |tx| {
            diesel::sql_query(sql)
                .load::<Us>(tx.conn())
                .await
                .map_err(ApiError::from)
        })
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .into_iter()
        .map(|r| u64::try_from(r.us).unwrap_or(0))
        .collect();
    rows.sort_unstable();
    rows
}

/// Runs the events and jobs measurements and prints their table.
pub(crate) async fn run(seconds: u64) {
    let t = TestDb::for_subgraph::<catalog::Catalog>().await;
    t.owner_sql(
        "CREATE SCHEMA ledger;
         SELECT platform.app_schema('ledger');
         SELECT platform.create_inbox('ledger');
         CREATE TABLE ledger.entries (tenant_id uuid NOT NULL, event_id uuid NOT NULL,
             at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (tenant_id, event_id));
         CREATE TABLE ledger.ticks (tenant_id uuid NOT NULL, n bigint NOT NULL, PRIMARY KEY (tenant_id, n));
         SELECT platform.tenant_table('ledger.entries', 'ledger.ticks');",
    )
    .await;
    let shop = cityos_fixtures::TenantBuilder::new("bench-events")
        .create(&t)
        .await;
    let tenant = shop.info.id;
    let product = cityos_fixtures::ProductBuilder::new("oud")
        .create(&t, &shop.admin)
        .await
        .id;
    let line = json!({ "productId": product, "quantity": 1 });
    OUTBOX
        .subscribe(
            t.db(),
            &[
                ("catalog".into(), "order.placed".into()),
                ("ledger".into(), "order.placed".into()),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let catalog_url = t
        .serve_events("catalog", catalog::Catalog::consumers(), SECRET)
        .await;
    let ledger_url = t
        .serve_events("ledger", Consumers::new().on::<Ledger>(), SECRET)
        .await;
    let config = EventsConfig::new(SECRET.to_vec(), Duration::from_millis(500), 10)
        .unwrap_or_else(|e| panic!("{e}"));
    let sink = |url: &str| HttpSink::new(url.to_owned(), &config).unwrap_or_else(|e| panic!("{e}"));

    // Throughput: a backlog, drained by one dispatcher.
    let backlog = 4_000;
    publish(&t, tenant, &line, backlog, 200).await;
    let dispatcher = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![
            ("catalog".to_owned(), sink(&catalog_url)),
            ("ledger".to_owned(), sink(&ledger_url)),
        ],
        Settings::default(),
    );
    let started = Instant::now();
    let running = tokio::spawn(dispatcher.run());
    wait_for(
        &t,
        tenant,
        "SELECT count(*) AS n FROM ledger.entries",
        backlog as i64,
    )
    .await;
    wait_for(
        &t,
        tenant,
        "SELECT count(*) AS n FROM catalog.inbox",
        backlog as i64,
    )
    .await;
    let drained = started.elapsed();

    // Delay at a steady rate, the same dispatcher running.
    let rate = 100u64;
    let steady = usize::try_from(rate * seconds).unwrap_or(1_000);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    for _ in 0..steady {
        tick.tick().await;
        publish(&t, tenant, &line, 1, 1).await;
    }
    let total = (backlog + steady) as i64;
    wait_for(
        &t,
        tenant,
        "SELECT count(*) AS n FROM ledger.entries",
        total,
    )
    .await;
    wait_for(&t, tenant, "SELECT count(*) AS n FROM catalog.inbox", total).await;
    running.abort();
    let ledger = delays(
        &t,
        tenant,
        "SELECT (extract(epoch FROM e.at - o.created_at) * 1e6)::bigint AS us
         FROM ledger.entries e JOIN catalog.outbox o ON o.id = e.event_id
         ORDER BY o.id DESC LIMIT 1000",
    )
    .await;
    let catalog_delays = delays(
        &t,
        tenant,
        "SELECT (extract(epoch FROM i.received_at - o.created_at) * 1e6)::bigint AS us
         FROM catalog.inbox i JOIN catalog.outbox o ON o.id = i.event_id
         ORDER BY o.id DESC LIMIT 1000",
    )
    .await;

    // Jobs: a backlog, run by one runner.
    let jobs = 4_000usize;
    let jobs_of = Jobs::of("catalog");
    t.db()
        .tenant_tx(tenant, async move |tx| {
            for n in 0..jobs {
                jobs_of
                    .schedule(tx, &Tick { n }, chrono::Utc::now())
                    .await?;
            }
            Ok::<_, ApiError>(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let runner = Runner::new(t.db().clone(), jobs_of, RunnerSettings::default()).with::<Tick>();
    let started = Instant::now();
    let running = tokio::spawn(runner.run());
    wait_for(
        &t,
        tenant,
        "SELECT count(*) AS n FROM ledger.ticks",
        jobs as i64,
    )
    .await;
    let ran = started.elapsed();
    running.abort();

    println!(
        "\nevents and jobs (in process, one dispatcher or runner, HTTP to local consumers):\n"
    );
    println!("| measure | figure |");
    println!("|---|---:|");
    println!(
        "| {backlog} events to 2 subscribers, drained | {:.0} events/s ({:.0} deliveries/s) |",
        backlog as f64 / drained.as_secs_f64(),
        2.0 * backlog as f64 / drained.as_secs_f64()
    );
    for (name, d) in [
        ("catalog (units sold)", &catalog_delays),
        ("ledger (a row)", &ledger),
    ] {
        println!(
            "| commit to effect at {rate} events/s, {name} | p50 {:.1} ms, p99 {:.1} ms |",
            percentile(d, 50.0),
            percentile(d, 99.0)
        );
    }
    println!(
        "| {jobs} due jobs, one runner | {:.0} jobs/s |",
        jobs as f64 / ran.as_secs_f64()
    );
}
