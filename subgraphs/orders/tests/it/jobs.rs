//! Durable jobs on the orders schema: two runners racing over the same jobs run each once; a
//! runner killed mid-job loses nothing (another takes the job after the lease, and its effect
//! happens once); a failing job backs off, dies after its attempts, and a platform admin retries
//! it; scheduling is idempotent by key. And the orders' own jobs: a cart nobody touched expires,
//! a touched one's expiry moves, an unpaid invoice falls overdue.

use crate::common::*;
use chrono::Utc;
use cityos_core::ApiError;
use cityos_db::TenantTx;
use cityos_db::jobs::{Job, JobRound, Next, Provided, Runner, RunnerSettings};
use cityos_server::Subgraph as _;
use cityos_testkit::TestDb;
use diesel_async::RunQueryDsl;
use orders::ids::TenantId;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether `Tally` jobs marked `hang` still hang (a runner stuck mid-job).
static HANGING: AtomicBool = AtomicBool::new(true);

/// A job whose effect is a row in `tally.runs`: applied once per job means one row per key.
#[derive(serde::Serialize, serde::Deserialize)]
struct Tally {
    key: String,
    hang: bool,
}

impl Job for Tally {
    const NAME: &'static str = "test.tally";

    fn key(&self) -> String {
        self.key.clone()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        diesel::sql_query("INSERT INTO tally.runs (tenant_id, key) VALUES ($1, $2)")
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
            .bind::<diesel::sql_types::Text, _>(&self.key)
            .execute(tx.conn())
            .await?;
        if self.hang && AtomicBool::load(&HANGING, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(Next::Done)
    }
}

/// A job that always fails.
#[derive(serde::Serialize, serde::Deserialize)]
struct Broken;

impl Job for Broken {
    const NAME: &'static str = "test.broken";
    const MAX_ATTEMPTS: i32 = 2;

    fn key(&self) -> String {
        "broken".into()
    }

    async fn run(self, _: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        Err(ApiError::internal("the upstream is gone"))
    }
}

async fn tally_schema(t: &TestDb) {
    t.owner_sql(
        "CREATE SCHEMA tally;
         SELECT platform.app_schema('tally');
         CREATE TABLE tally.runs (tenant_id uuid NOT NULL, key text NOT NULL, at timestamptz NOT NULL DEFAULT now());
         SELECT platform.tenant_table('tally.runs');",
    )
    .await;
}

fn runner(t: &TestDb, lease_ms: u64) -> Runner {
    let settings = RunnerSettings {
        batch: 10,
        lease: Duration::from_millis(lease_ms),
        idle: Duration::from_millis(10),
    };
    Runner::new(t.db().clone(), orders::JOBS, settings)
        .with::<Tally>()
        .with::<Broken>()
}

async fn schedule<J: Job>(t: &TestDb, tenant: TenantId, job: J) {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            orders::JOBS.schedule(tx, &job, Utc::now()).await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("scheduled");
}

async fn drain(runner: &Runner) -> JobRound {
    let mut total = JobRound::default();
    loop {
        let r = runner.run_once().await.expect("round");
        total.done += r.done;
        total.failed += r.failed;
        total.dead += r.dead;
        total.lost += r.lost;
        if r.done + r.failed + r.dead + r.lost == 0 {
            return total;
        }
    }
}

#[tokio::test]
async fn racing_runners_run_each_job_once_and_a_killed_runners_job_is_taken_over() {
    let t = test_db().await;
    tally_schema(&t).await;
    let souq = shop(&t, "jobs-race").await;
    let tenant = souq.info.id;
    for i in 0..40 {
        schedule(
            &t,
            tenant,
            Tally {
                key: format!("k{i}"),
                hang: false,
            },
        )
        .await;
    }
    // The same name and key again is the same job.
    schedule(
        &t,
        tenant,
        Tally {
            key: "k0".into(),
            hang: false,
        },
    )
    .await;
    assert_eq!(
        t.count_in(tenant, "SELECT count(*) AS n FROM orders.jobs")
            .await,
        40
    );

    let (a, b) = (runner(&t, 60_000), runner(&t, 60_000));
    let (ra, rb) = tokio::join!(drain(&a), drain(&b));
    assert_eq!(ra.done + rb.done, 40, "{ra:?} {rb:?}");
    assert_eq!(
        t.count_in(tenant, "SELECT count(*) AS n FROM tally.runs")
            .await,
        40
    );
    assert_eq!(
        t.count_in(tenant, "SELECT count(DISTINCT key) AS n FROM tally.runs")
            .await,
        40
    );
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM orders.jobs WHERE state = 'done'"
        )
        .await,
        40
    );
    // Done jobs are not run again, and scheduling one again changes nothing.
    schedule(
        &t,
        tenant,
        Tally {
            key: "k1".into(),
            hang: false,
        },
    )
    .await;
    assert_eq!(drain(&a).await, JobRound::default());

    // A runner stuck mid-job is killed: its transaction rolls back with its connection.
    schedule(
        &t,
        tenant,
        Tally {
            key: "stuck".into(),
            hang: true,
        },
    )
    .await;
    let dying = runner(&t, 300);
    let killed = tokio::spawn(async move { dying.run_once().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    killed.abort();
    assert!(killed.await.is_err(), "killed mid-job");
    // While its lease lasts, nobody takes the job; after it, another runner does, once.
    let survivor = runner(&t, 300);
    assert_eq!(
        survivor.run_once().await.expect("round").done,
        0,
        "still leased"
    );
    HANGING.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(drain(&survivor).await.done, 1);
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM tally.runs WHERE key = 'stuck'"
        )
        .await,
        1,
        "the killed run left no effect"
    );
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT attempts::bigint AS n FROM orders.jobs WHERE key = 'stuck'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_failing_job_backs_off_dies_and_is_retried_by_a_platform_admin() {
    let t = test_db().await;
    let souq = shop(&t, "jobs-broken").await;
    let tenant = souq.info.id;
    schedule(&t, tenant, Broken).await;
    let r = runner(&t, 60_000);
    assert_eq!(r.run_once().await.expect("round").failed, 1);
    assert_eq!(
        r.run_once().await.expect("round"),
        JobRound::default(),
        "backing off"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(r.run_once().await.expect("round").dead, 1);

    let dead = cityos_db::ops::Filter {
        state: Some("dead".into()),
        ..Default::default()
    };
    let (jobs, total) = cityos_db::ops::jobs(t.db(), &dead, None, 10)
        .await
        .expect("jobs");
    assert_eq!(total, 1);
    let job = &jobs[0];
    assert_eq!(
        (job.subgraph.as_str(), job.name.as_str(), job.attempts),
        ("orders", "test.broken", 2)
    );
    // The cause of an internal error stays in the log; the admin is told where.
    let said = job.last_error.as_deref().unwrap_or_default();
    assert!(
        said.starts_with("INTERNAL: internal error (the cause is in the orders log"),
        "{said}"
    );
    let retried = cityos_db::ops::retry_job(t.db(), "orders", job.id)
        .await
        .expect("retry")
        .expect("found")
        .expect("dead, so retried");
    assert_eq!((retried.state.as_str(), retried.attempts), ("scheduled", 0));
    let again = cityos_db::ops::retry_job(t.db(), "orders", job.id)
        .await
        .expect("retry");
    assert!(
        matches!(again, Some(Err(ref why)) if why.contains("scheduled")),
        "{again:?}"
    );
    assert!(
        cityos_db::ops::retry_job(t.db(), "orders", uuid::Uuid::now_v7())
            .await
            .expect("ok")
            .is_none()
    );
    assert_eq!(
        r.run_once().await.expect("round").failed,
        1,
        "it runs again"
    );
}

/// The orders' own runner, with its real jobs.
pub fn orders_runner(t: &TestDb) -> Runner {
    orders::Orders::jobs(Runner::new(
        t.db().clone(),
        orders::JOBS,
        RunnerSettings::default(),
    ))
}

#[tokio::test]
async fn an_untouched_cart_expires_and_a_touched_ones_expiry_moves() {
    let t = test_db().await;
    let souq = shop(&t, "jobs-carts").await;
    let oud = item(&t, &souq, "OUD-1", 10000, 10, None).await;
    let buyer = souq.customer();
    let left = ready_cart(&t, &buyer, vec![line(oud, 1)]).await.cart.id;
    let guest = souq.guest();
    let touched = orders::carts::create(t.db(), &guest, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    let tenant = souq.info.id;
    assert_eq!(
        t.count_in(tenant, "SELECT count(*) AS n FROM orders.jobs WHERE name = 'cart.expire' AND state = 'scheduled'").await,
        2
    );
    // The jobs' keys are not the carts' ids: a guest cart's id is its only credential.
    let (jobs, _) = cityos_db::ops::jobs(t.db(), &cityos_db::ops::Filter::default(), None, 10)
        .await
        .expect("jobs");
    assert!(
        jobs.iter().all(|j| j.key != left.to_string()
            && j.key != touched.to_string()
            && j.key.len() == 32),
        "{jobs:?}"
    );
    let runner = orders_runner(&t);
    assert_eq!(
        runner.run_once().await.expect("round").done,
        0,
        "not due for 30 days"
    );

    // Thirty days later: the left cart's time has come; the other was touched a day before.
    t.owner_sql(&format!(
        "UPDATE orders.jobs SET run_at = now() - interval '1 minute' WHERE name = 'cart.expire';
         UPDATE orders.carts SET expires_at = now() - interval '1 minute' WHERE id = '{left}';
         UPDATE orders.carts SET expires_at = now() + interval '1 day' WHERE id = '{touched}';"
    ))
    .await;
    assert_eq!(runner.run_once().await.expect("round").done, 2);
    let v = gql(
        &t,
        &buyer,
        "query($c: ID!) { cart(id: $c) { status } }",
        json!({ "c": left.to_string() }),
    )
    .await;
    assert_eq!(v["data"]["cart"]["status"], "EXPIRED", "{v}");
    let v = gql(
        &t,
        &buyer,
        "mutation($c: ID!, $v: ID!) { cartLinesAdd(input: {cartId: $c, lines: [{variantId: $v, quantity: 1}]}) { userErrors { code } } }",
        json!({ "c": left.to_string(), "v": oud.to_string() }),
    )
    .await;
    assert_eq!(user_errors(&v, "cartLinesAdd"), ["CART_EXPIRED"]);
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM orders.outbox WHERE topic = 'cart.expired'"
        )
        .await,
        1
    );
    // The touched cart's job waits for its new time.
    assert_eq!(
        t.count_in(tenant, "SELECT count(*) AS n FROM orders.jobs WHERE state = 'scheduled' AND run_at > now() + interval '23 hours'").await,
        1
    );
    // The customer starts over with a new cart.
    let fresh = orders::carts::create(t.db(), &buyer, None, None)
        .await
        .expect("new cart");
    assert_ne!(fresh.cart.id, left);
}

#[tokio::test]
async fn an_unpaid_invoice_falls_overdue_at_its_due_date_and_can_still_be_paid() {
    let t = test_db().await;
    let souq = shop(&t, "jobs-invoices").await;
    let oud = item(&t, &souq, "OUD-1", 10000, 10, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(oud, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "overdue")
        .await
        .expect("order");
    orders::orders::confirm(t.db(), &souq.admin, order.id)
        .await
        .expect("confirmed");
    let tenant = souq.info.id;
    let runner = orders_runner(&t);
    assert_eq!(
        runner.run_once().await.expect("round").done,
        0,
        "due in 14 days"
    );
    t.owner_sql(
        "UPDATE orders.jobs SET run_at = now() - interval '1 minute' WHERE name = 'invoice.overdue';
         UPDATE orders.invoices SET due_at = now() - interval '1 minute';",
    )
    .await;
    assert_eq!(runner.run_once().await.expect("round").done, 1);
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM orders.invoices WHERE status = 'OVERDUE'"
        )
        .await,
        1
    );
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM orders.outbox WHERE topic = 'invoice.overdue'"
        )
        .await,
        1
    );
    // Paid late, it is paid.
    t.db()
        .tenant_tx(tenant, async move |tx| {
            orders::orders::invoices::mark_paid(tx, order.id).await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("paid");
    assert_eq!(
        t.count_in(
            tenant,
            "SELECT count(*) AS n FROM orders.invoices WHERE status = 'PAID'"
        )
        .await,
        1
    );
}
