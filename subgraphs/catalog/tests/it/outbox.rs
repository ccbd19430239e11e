//! Events between subgraphs, on the catalog's outbox and inbox: every subscriber of a topic gets
//! each event and applies it once; a redelivery changes nothing; a subscriber that was down
//! catches up in order; a poisoned event goes dead without holding up the rest; racing
//! dispatchers deliver once; a dead dispatcher's claims are taken over after their lease; and the
//! endpoint refuses what is not signed by the platform.
//!
//! The two subscribers are real consumer endpoints (`cityos_server::events::routes`) on local
//! ports: the catalog's own (`order.placed` adds to `units_sold`) and a second one, `ledger`, with
//! its own schema, inbox and effect (a row per applied event, in arrival order).

use crate::common::{product, tenant, test_db};
use catalog::OUTBOX;
use catalog::ids::{ProductId, TenantId};
use cityos_core::ApiError;
use cityos_db::inbox::{Consume, Consumers};
use cityos_db::outbox::{Dispatcher, Event, Failure, Round, Settings, Sink};
use cityos_db::{Prepared, TenantTx};
use cityos_server::Subgraph as _;
use cityos_server::events::{EventsConfig, HttpSink, signature};
use cityos_testkit::TestDb;
use diesel_async::RunQueryDsl;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &[u8] = b"the-platform-events-secret-of-32-bytes";

fn settings(lease_ms: u64, max_attempts: i32) -> Settings {
    Settings {
        batch: 10,
        lease: Duration::from_millis(lease_ms),
        idle: Duration::from_millis(10),
        max_attempts,
    }
}

fn config() -> EventsConfig {
    EventsConfig::new(SECRET.to_vec(), Duration::from_millis(10), 10).expect("config")
}

/// An `order.placed` as orders writes it (more fields than the catalog reads).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Placed {
    order_id: uuid::Uuid,
    total: i64,
    lines: Vec<serde_json::Value>,
}

impl cityos_db::outbox::FixedTopic for Placed {
    const TOPIC: &'static str = "order.placed";
}

/// Publishes an `order.placed` of `quantity` units of `product` in `tenant`'s transaction.
async fn place(t: &TestDb, tenant: TenantId, product: ProductId, quantity: i32) {
    let event = Placed {
        order_id: uuid::Uuid::now_v7(),
        total: 100,
        lines: vec![
            json!({ "productId": product, "quantity": quantity, "variantId": uuid::Uuid::now_v7() }),
        ],
    };
    t.db()
        .tenant_tx(tenant, async move |tx| {
            OUTBOX.publish(tx, product, &event).await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("event");
}

/// The second subscriber's effect: one row per event applied, numbered in arrival order.
#[derive(serde::Deserialize)]
struct Ledger {
    lines: Vec<serde_json::Value>,
}

impl Consume for Ledger {
    const TOPIC: &'static str = "order.placed";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        Prepared(
            diesel::sql_query(
                "INSERT INTO ledger.entries (tenant_id, event_id, lines) VALUES ($1, $2, $3)",
            )
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant())
            .bind::<diesel::sql_types::Uuid, _>(event.id)
            .bind::<diesel::sql_types::Integer, _>(self.lines.len() as i32),
        )
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

/// Creates the second subscriber's schema: its inbox and its entries, tenant-owned.
async fn ledger_schema(t: &TestDb) {
    t.owner_sql(
        "CREATE SCHEMA ledger;
         SELECT platform.app_schema('ledger');
         SELECT platform.create_inbox('ledger');
         CREATE TABLE ledger.entries (tenant_id uuid NOT NULL, n bigserial, event_id uuid NOT NULL,
             lines integer NOT NULL, PRIMARY KEY (tenant_id, n));
         SELECT platform.tenant_table('ledger.entries');
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA ledger TO cityos_app;",
    )
    .await;
}

/// Serves a consumer endpoint on a free port; its URL.
async fn units_sold(t: &TestDb, tenant: TenantId) -> i64 {
    t.count_in(
        tenant,
        "SELECT coalesce(sum(units_sold), 0)::bigint AS n FROM catalog.products",
    )
    .await
}

async fn ledger_entries(t: &TestDb, tenant: TenantId) -> i64 {
    t.count_in(tenant, "SELECT count(*) AS n FROM ledger.entries")
        .await
}

async fn subscribe(t: &TestDb, subscribers: &[&str]) {
    let subscriptions: Vec<(String, String)> = subscribers
        .iter()
        .map(|s| ((*s).to_owned(), "order.placed".to_owned()))
        .collect();
    OUTBOX
        .subscribe(t.db(), &subscriptions)
        .await
        .expect("subscribe");
}

fn http(url: &str) -> HttpSink {
    HttpSink::new(url.to_owned(), &config()).expect("sink")
}

/// Rounds until nothing is due for anyone; the rounds' sums per subscriber.
async fn drain<S: Sink>(dispatcher: &Dispatcher<S>) -> Vec<(String, Round)> {
    let mut total: Vec<(String, Round)> = Vec::new();
    loop {
        let rounds = dispatcher.run_once().await.expect("round");
        let busy = rounds
            .iter()
            .any(|(_, r)| r.delivered + r.refused + r.dead > 0);
        for (name, r) in rounds {
            match total.iter_mut().find(|(n, _)| *n == name) {
                Some((_, t)) => {
                    t.delivered += r.delivered;
                    t.refused += r.refused;
                    t.dead += r.dead;
                    t.unreachable |= r.unreachable;
                }
                None => total.push((name, r)),
            }
        }
        if !busy {
            return total;
        }
    }
}

#[tokio::test]
async fn two_subscribers_each_apply_an_event_once_and_a_redelivery_changes_nothing() {
    let t = test_db().await;
    ledger_schema(&t).await;
    let (a, admin) = tenant(&t, "events-two").await;
    let (b, admin_b) = tenant(&t, "events-two-b").await;
    let oud = product(&t, &admin, "oud").await;
    let musk = product(&t, &admin_b, "musk").await;
    subscribe(&t, &["catalog", "ledger"]).await;
    let catalog_url = t
        .serve_events("catalog", catalog::Catalog::consumers(), SECRET)
        .await;
    let ledger_url = t
        .serve_events("ledger", Consumers::new().on::<Ledger>(), SECRET)
        .await;
    place(&t, a.id, oud, 2).await;
    place(&t, a.id, oud, 3).await;
    place(&t, b.id, musk, 7).await;
    // One delivery per event and subscriber, written with the event, visible only in its tenant.
    assert_eq!(t.visible_rows("catalog.deliveries", None).await, 0);
    assert_eq!(t.visible_rows("catalog.deliveries", Some(a.id)).await, 4);

    let dispatcher = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![
            ("catalog".to_owned(), http(&catalog_url)),
            ("ledger".to_owned(), http(&ledger_url)),
        ],
        settings(60_000, 10),
    );
    let rounds = drain(&dispatcher).await;
    for (name, round) in &rounds {
        assert_eq!((round.delivered, round.refused), (3, 0), "{name}");
    }
    assert_eq!(units_sold(&t, a.id).await, 5);
    assert_eq!(units_sold(&t, b.id).await, 7);
    assert_eq!(ledger_entries(&t, a.id).await, 2);
    assert_eq!(ledger_entries(&t, b.id).await, 1);

    // A platform admin replays every delivery of tenant a: both subscribers get them again and
    // neither changes anything.
    let filter = cityos_db::ops::Filter {
        tenant: Some(a.id),
        ..Default::default()
    };
    let (delivered, total) = cityos_db::ops::deliveries(t.db(), &filter, None, 50)
        .await
        .expect("deliveries");
    assert_eq!(total, 4);
    assert!(
        delivered
            .iter()
            .all(|d| d.state == "delivered" && d.attempts == 1)
    );
    for d in &delivered {
        let again = cityos_db::ops::redeliver(t.db(), "catalog", d.event_id, &d.subscriber)
            .await
            .expect("redeliver")
            .expect("found");
        assert_eq!((again.state.as_str(), again.attempts), ("pending", 0));
    }
    let rounds = drain(&dispatcher).await;
    assert!(rounds.iter().all(|(_, r)| r.delivered == 2), "{rounds:?}");
    assert_eq!(units_sold(&t, a.id).await, 5);
    assert_eq!(ledger_entries(&t, a.id).await, 2);
    assert_eq!(
        t.count_in(a.id, "SELECT count(*) AS n FROM catalog.inbox")
            .await,
        2,
        "one inbox row per event"
    );
    // No such delivery, or no such publisher: nothing to redeliver.
    let unknown = uuid::Uuid::now_v7();
    assert!(
        cityos_db::ops::redeliver(t.db(), "catalog", unknown, "ledger")
            .await
            .expect("ok")
            .is_none()
    );
    assert!(
        cityos_db::ops::redeliver(t.db(), "nowhere", unknown, "ledger")
            .await
            .expect("ok")
            .is_none()
    );
}

#[tokio::test]
async fn a_subscriber_that_was_down_catches_up_in_order_and_a_poisoned_event_goes_dead_alone() {
    let t = test_db().await;
    ledger_schema(&t).await;
    let (a, admin) = tenant(&t, "events-down").await;
    let oud = product(&t, &admin, "oud").await;
    subscribe(&t, &["catalog", "ledger"]).await;
    let catalog_url = t
        .serve_events("catalog", catalog::Catalog::consumers(), SECRET)
        .await;
    // The ledger is down: its port answers nothing.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").port()
    };
    let down_url = format!("http://127.0.0.1:{closed}/events");
    for quantity in [1, 0, 2, 3] {
        // The second event is poisoned: a line of no units, which the catalog refuses.
        place(&t, a.id, oud, quantity).await;
    }
    let dispatcher = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![
            ("catalog".to_owned(), http(&catalog_url)),
            ("ledger".to_owned(), http(&down_url)),
        ],
        settings(60_000, 2),
    );
    let rounds = dispatcher.run_once().await.expect("round");
    let (catalog_round, ledger_round) = (rounds[0].1, rounds[1].1);
    assert_eq!(
        (catalog_round.delivered, catalog_round.refused),
        (3, 1),
        "the poisoned event does not hold up the rest"
    );
    assert!(ledger_round.unreachable && ledger_round.delivered == 0);
    assert_eq!(units_sold(&t, a.id).await, 6);
    // The ledger's deliveries waited without counting attempts.
    let ledger_filter = cityos_db::ops::Filter {
        name: Some("ledger".into()),
        ..Default::default()
    };
    let (waiting, _) = cityos_db::ops::deliveries(t.db(), &ledger_filter, None, 50)
        .await
        .expect("deliveries");
    assert!(
        waiting
            .iter()
            .all(|d| d.state == "pending" && d.attempts == 0),
        "{waiting:?}"
    );
    assert!(waiting.iter().any(|d| {
        d.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("unreachable"))
    }));

    // The poisoned event's second refusal is its last: dead, and listed as such.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let catalog_only = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("catalog".to_owned(), http(&catalog_url))],
        settings(60_000, 2),
    );
    let round = catalog_only.run_once().await.expect("round")[0].1;
    assert_eq!((round.delivered, round.dead), (0, 1));
    let dead_filter = cityos_db::ops::Filter {
        state: Some("dead".into()),
        ..Default::default()
    };
    let (dead, count) = cityos_db::ops::deliveries(t.db(), &dead_filter, None, 50)
        .await
        .expect("dead");
    assert_eq!(count, 1);
    assert_eq!(
        (dead[0].subscriber.as_str(), dead[0].attempts),
        ("catalog", 2)
    );
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("422"),
        "{dead:?}"
    );

    // The ledger comes back on another port (its deliveries were waiting a second), and
    // receives all four in the order they were written.
    let ledger_url = t
        .serve_events("ledger", Consumers::new().on::<Ledger>(), SECRET)
        .await;
    let back = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("ledger".to_owned(), http(&ledger_url))],
        settings(60_000, 2),
    );
    let round = back.run_once().await.expect("round")[0].1;
    assert_eq!(round.delivered, 4);
    let order: Vec<uuid::Uuid> = {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            event_id: uuid::Uuid,
        }
        t.db()
            .tenant_tx(a.id, async |tx| {
                diesel::sql_query("SELECT event_id FROM ledger.entries ORDER BY n")
                    .load::<Row>(tx.conn())
                    .await
                    .map_err(ApiError::from)
            })
            .await
            .expect("entries")
            .into_iter()
            .map(|r| r.event_id)
            .collect()
    };
    assert_eq!(order.len(), 4);
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "in the order written"
    );
}

/// A sink that keeps what it is given.
#[derive(Clone, Default)]
struct Keeper {
    got: Arc<Mutex<Vec<Event>>>,
}

impl Sink for Keeper {
    async fn deliver(&self, event: &Event) -> Result<(), Failure> {
        self.got.lock().expect("lock").push(event.clone());
        Ok(())
    }
}

#[tokio::test]
async fn racing_dispatchers_deliver_each_event_once_per_subscriber() {
    let t = test_db().await;
    let (a, admin) = tenant(&t, "events-race").await;
    let oud = product(&t, &admin, "oud").await;
    subscribe(&t, &["one", "two"]).await;
    for _ in 0..30 {
        place(&t, a.id, oud, 1).await;
    }
    let (one, two) = (Keeper::default(), Keeper::default());
    let mut racers = Vec::new();
    for _ in 0..4 {
        let dispatcher = Dispatcher::new(
            t.db().clone(),
            OUTBOX,
            vec![
                ("one".to_owned(), one.clone()),
                ("two".to_owned(), two.clone()),
            ],
            settings(60_000, 10),
        );
        racers.push(tokio::spawn(async move { drain(&dispatcher).await }));
    }
    for racer in racers {
        racer.await.expect("racer");
    }
    for keeper in [&one, &two] {
        let ids: Vec<_> = keeper
            .got
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids.len(), 30);
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            30,
            "no event twice"
        );
    }
}

/// A sink that never answers: its dispatcher dies mid-delivery.
struct Hang;

impl Sink for Hang {
    async fn deliver(&self, _: &Event) -> Result<(), Failure> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_dead_dispatchers_claims_are_taken_over_after_the_lease() {
    let t = test_db().await;
    let (a, admin) = tenant(&t, "events-lease").await;
    let oud = product(&t, &admin, "oud").await;
    subscribe(&t, &["one"]).await;
    place(&t, a.id, oud, 1).await;
    place(&t, a.id, oud, 1).await;
    let dying = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("one".to_owned(), Hang)],
        settings(300, 10),
    );
    let died = tokio::time::timeout(Duration::from_millis(100), dying.run_once()).await;
    assert!(died.is_err(), "the hanging delivery was cut off");
    let keeper = Keeper::default();
    let survivor = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("one".to_owned(), keeper.clone())],
        settings(300, 10),
    );
    assert_eq!(
        survivor.run_once().await.expect("round")[0].1.delivered,
        0,
        "still leased"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(survivor.run_once().await.expect("round")[0].1.delivered, 2);
    assert!(
        keeper
            .got
            .lock()
            .expect("lock")
            .iter()
            .all(|e| e.attempt == 2 && e.source == "catalog"),
        "the dead dispatcher's claim counted as the first attempt"
    );
}

#[tokio::test]
async fn the_event_endpoint_takes_only_fresh_events_signed_by_the_platform() {
    let t = test_db().await;
    let (a, admin) = tenant(&t, "events-signed").await;
    let oud = product(&t, &admin, "oud").await;
    let url = t
        .serve_events("catalog", catalog::Catalog::consumers(), SECRET)
        .await;
    let event = Event {
        id: catalog::ids::EventId::new(),
        source: "orders".into(),
        tenant_id: a.id,
        topic: "order.placed".into(),
        aggregate_id: None,
        payload: json!({ "lines": [{ "productId": oud, "quantity": 4 }] }),
        created_at: chrono::Utc::now(),
        attempt: 1,
    };
    let body = serde_json::to_vec(&event).expect("json");
    let client = reqwest::Client::new();
    let post = async |signed: String, body: Vec<u8>| {
        let r = client
            .post(&url)
            .header("cityos-signature", signed)
            .body(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (
            status,
            r.json::<serde_json::Value>().await.unwrap_or_default(),
        )
    };
    let now = chrono::Utc::now().timestamp();
    let foreign = signature(b"another-secret-of-at-least-32-bytes!!", now, &body);
    assert_eq!(post(foreign, body.clone()).await.0, 401);
    let stale = signature(SECRET, now - 600, &body);
    assert_eq!(post(stale, body.clone()).await.0, 401);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(post(signature(SECRET, now, &body), tampered).await.0, 401);
    assert_eq!(
        units_sold(&t, a.id).await,
        0,
        "nothing unsigned took effect"
    );

    assert_eq!(
        post(signature(SECRET, now, &body), body.clone()).await,
        (200, json!({ "applied": true }))
    );
    assert_eq!(
        post(signature(SECRET, now, &body), body.clone()).await,
        (200, json!({ "applied": false })),
        "the same event again changes nothing"
    );
    assert_eq!(units_sold(&t, a.id).await, 4);

    // A topic the catalog does not consume, and a payload it cannot read, are refused.
    let other = serde_json::to_vec(&Event {
        id: catalog::ids::EventId::new(),
        topic: "order.cancelled".into(),
        ..event.clone()
    })
    .expect("json");
    assert_eq!(post(signature(SECRET, now, &other), other).await.0, 422);
    let unreadable = serde_json::to_vec(&Event {
        id: catalog::ids::EventId::new(),
        payload: json!({ "lines": "many" }),
        ..event.clone()
    })
    .expect("json");
    let (status, said) = post(signature(SECRET, now, &unreadable), unreadable).await;
    assert_eq!(status, 422, "{said}");
    assert_eq!(
        post(signature(SECRET, now, b"{}"), b"{}".to_vec()).await.0,
        400
    );
    assert_eq!(units_sold(&t, a.id).await, 4);
}

#[tokio::test]
async fn the_retention_sweep_removes_only_what_can_no_longer_be_needed() {
    let t = test_db().await;
    let (a, admin) = tenant(&t, "events-retention").await;
    let oud = product(&t, &admin, "oud").await;
    subscribe(&t, &["catalog", "ledger"]).await;
    let catalog_url = t
        .serve_events("catalog", catalog::Catalog::consumers(), SECRET)
        .await;
    for quantity in [1, 2, 0] {
        place(&t, a.id, oud, quantity).await;
    }
    // The catalog takes all but the poisoned third (dead at once); the ledger takes none yet.
    let dispatcher = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("catalog".to_owned(), http(&catalog_url))],
        settings(60_000, 1),
    );
    drain(&dispatcher).await;
    // A job done long ago, one still to come.
    t.owner_sql(&format!(
        "INSERT INTO catalog.jobs (tenant_id, id, name, key, run_at, state, finished_at)
         VALUES ('{a}', gen_random_uuid(), 'old.job', 'k', now() - interval '40 days', 'done', now() - interval '40 days'),
                ('{a}', gen_random_uuid(), 'next.job', 'k', now() + interval '1 day', 'scheduled', NULL);
         UPDATE catalog.outbox SET created_at = now() - interval '8 days';
         UPDATE catalog.inbox SET received_at = now() - interval '8 days';",
        a = a.id
    ))
    .await;
    let everything = cityos_db::ops::Tables {
        outbox: true,
        inbox: true,
        jobs: true,
    };
    let keep = cityos_db::ops::Retention::default();
    let pruned = cityos_db::ops::prune(t.db(), "catalog", everything, keep)
        .await
        .expect("prune");
    // No event is delivered everywhere yet (the ledger has none), so none goes; the inbox ids are
    // younger than 30 days; the old finished job goes.
    assert_eq!(
        pruned,
        cityos_db::ops::Pruned {
            events: 0,
            inbox: 0,
            jobs: 1,
        }
    );

    // The ledger catches up (its deliveries delivered) and the inbox ids pass 30 days: the two
    // events delivered everywhere go with their deliveries, the dead one stays.
    t.owner_sql(
        "UPDATE catalog.deliveries SET state = 'delivered' WHERE subscriber = 'ledger';
         UPDATE catalog.inbox SET received_at = now() - interval '31 days';",
    )
    .await;
    let pruned = cityos_db::ops::prune(t.db(), "catalog", everything, keep)
        .await
        .expect("prune");
    assert_eq!(
        pruned,
        cityos_db::ops::Pruned {
            events: 2,
            inbox: 2,
            jobs: 0,
        }
    );
    assert_eq!(t.visible_rows("catalog.outbox", Some(a.id)).await, 1);
    assert_eq!(
        t.visible_rows("catalog.deliveries", Some(a.id)).await,
        2,
        "the dead event's two"
    );
    assert_eq!(t.visible_rows("catalog.jobs", Some(a.id)).await, 1);
    assert_eq!(units_sold(&t, a.id).await, 3, "effects stay");
}

#[tokio::test]
async fn an_event_that_keeps_killing_its_dispatchers_goes_dead() {
    let t = test_db().await;
    let (a, admin) = tenant(&t, "events-killer").await;
    let oud = product(&t, &admin, "oud").await;
    subscribe(&t, &["one"]).await;
    place(&t, a.id, oud, 1).await;
    // Two dispatchers die on it in turn (each claim an attempt); the third finds it out of
    // attempts and buries it instead of trying again.
    for _ in 0..2 {
        let dying = Dispatcher::new(
            t.db().clone(),
            OUTBOX,
            vec![("one".to_owned(), Hang)],
            settings(200, 2),
        );
        let died = tokio::time::timeout(Duration::from_millis(100), dying.run_once()).await;
        assert!(died.is_err());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let keeper = Keeper::default();
    let third = Dispatcher::new(
        t.db().clone(),
        OUTBOX,
        vec![("one".to_owned(), keeper.clone())],
        settings(200, 2),
    );
    assert_eq!(third.run_once().await.expect("round")[0].1.delivered, 0);
    assert!(keeper.got.lock().expect("lock").is_empty());
    let dead = cityos_db::ops::Filter {
        state: Some("dead".into()),
        ..Default::default()
    };
    let (rows, _) = cityos_db::ops::deliveries(t.db(), &dead, None, 10)
        .await
        .expect("dead");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some("the dispatcher stopped mid-delivery")
    );
}
