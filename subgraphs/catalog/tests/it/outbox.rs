//! The outbox dispatcher: events of every tenant delivered once each, failures retried later,
//! racing dispatchers never delivering one event twice, a dead dispatcher's claims taken over after
//! their lease, and the signed HTTP delivery of a real stock alert.

use crate::common::{product, tenant, test_db, variant};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use catalog::OUTBOX;
use catalog::ids::{EventId, ProductId, TenantId};
use cityos_db::outbox::{Dispatcher, Event, Settings, Sink};
use cityos_server::events::{EventsConfig, WebhookSink, verify};
use cityos_testkit::TestDb;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A sink that keeps what it is given and fails the events it is told to fail once.
#[derive(Clone, Default)]
struct Keeper {
    got: Arc<Mutex<Vec<Event>>>,
    fail_once: Arc<Mutex<HashSet<EventId>>>,
}

impl Keeper {
    fn ids(&self) -> Vec<EventId> {
        self.got
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.id)
            .collect()
    }
}

impl Sink for Keeper {
    async fn deliver(&self, event: &Event) -> Result<(), String> {
        if self.fail_once.lock().expect("lock").remove(&event.id) {
            return Err("the consumer is down".into());
        }
        self.got.lock().expect("lock").push(event.clone());
        Ok(())
    }
}

fn settings(lease_ms: u64) -> Settings {
    Settings {
        batch: 10,
        lease: Duration::from_millis(lease_ms),
        idle: Duration::from_millis(10),
    }
}

/// An event of the tests' own kind.
#[derive(serde::Serialize)]
struct TestEvent {
    n: usize,
}

impl cityos_db::outbox::FixedTopic for TestEvent {
    const TOPIC: &'static str = "test.event";
}

/// Writes `n` events for `tenant` the way domains do: in a tenant transaction.
async fn write_events(t: &TestDb, tenant: TenantId, n: usize) -> Vec<ProductId> {
    let aggregates: Vec<ProductId> = (0..n).map(|_| ProductId::new()).collect();
    let written = aggregates.clone();
    t.db()
        .tenant_tx(tenant, async move |tx| {
            for (i, a) in written.into_iter().enumerate() {
                OUTBOX.publish(tx, a, &TestEvent { n: i }).await?;
            }
            Ok::<_, cityos_core::ApiError>(())
        })
        .await
        .expect("events");
    aggregates
}

#[derive(diesel::QueryableByName)]
struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    published: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    waiting: i64,
}

/// Published and waiting events of a tenant, as the tenant's own transactions see them.
async fn state(t: &TestDb, tenant: TenantId) -> (i64, i64) {
    use diesel_async::RunQueryDsl;
    let s: Counts = t
        .db()
        .tenant_tx(tenant, async |tx| {
            diesel::sql_query(
                "SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published,
                        count(*) FILTER (WHERE published_at IS NULL) AS waiting
                 FROM catalog.outbox",
            )
            .get_result(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("state");
    (s.published, s.waiting)
}

#[tokio::test]
async fn every_tenants_events_are_delivered_once_and_retried_after_a_failure() {
    let t = test_db().await;
    let (a, _) = tenant(&t, "outbox-a").await;
    let (b, _) = tenant(&t, "outbox-b").await;
    write_events(&t, a.id, 3).await;
    write_events(&t, b.id, 2).await;
    // The application role sees no event without a tenant, and only its own within one.
    assert_eq!(t.visible_rows("catalog.outbox", None).await, 0);
    assert_eq!(t.visible_rows("catalog.outbox", Some(a.id)).await, 3);

    let keeper = Keeper::default();
    let dispatcher = Dispatcher::new(
        t.db().clone(),
        "catalog.outbox",
        keeper.clone(),
        settings(60_000),
    );
    let round = dispatcher.run_once().await.expect("round");
    assert_eq!((round.delivered, round.failed), (5, 0));
    let ids = keeper.ids();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let tenants: HashSet<TenantId> = keeper
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.tenant_id)
        .collect();
    assert_eq!(tenants, HashSet::from([a.id, b.id]));
    assert_eq!(state(&t, a.id).await, (3, 0));
    assert_eq!(state(&t, b.id).await, (2, 0));
    // Nothing is delivered twice.
    assert_eq!(dispatcher.run_once().await.expect("round").delivered, 0);

    // A failed delivery keeps its event, due again a second later, and then delivers it.
    write_events(&t, a.id, 1).await;
    // The consumer fails the new event once.
    let next_id = {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: EventId,
        }
        let found: Id = t
            .db()
            .tenant_tx(a.id, async |tx| {
                diesel::sql_query("SELECT id FROM catalog.outbox WHERE published_at IS NULL")
                    .get_result(tx.conn())
                    .await
                    .map_err(cityos_core::ApiError::from)
            })
            .await
            .expect("waiting event");
        found.id
    };
    keeper.fail_once.lock().expect("lock").insert(next_id);
    let first = dispatcher.run_once().await.expect("round");
    assert_eq!((first.delivered, first.failed), (0, 1));
    assert_eq!(state(&t, a.id).await, (3, 1));
    assert_eq!(
        dispatcher.run_once().await.expect("round").delivered,
        0,
        "not due yet"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(dispatcher.run_once().await.expect("round").delivered, 1);
    let redelivered = keeper
        .got
        .lock()
        .expect("lock")
        .last()
        .cloned()
        .expect("event");
    assert_eq!((redelivered.id, redelivered.attempts), (next_id, 2));
    assert_eq!(state(&t, a.id).await, (4, 0));
}

#[tokio::test]
async fn racing_dispatchers_deliver_each_event_once() {
    let t = test_db().await;
    let (a, _) = tenant(&t, "outbox-race").await;
    write_events(&t, a.id, 60).await;
    let keeper = Keeper::default();
    let mut racers = Vec::new();
    for _ in 0..4 {
        let dispatcher = Dispatcher::new(
            t.db().clone(),
            "catalog.outbox",
            keeper.clone(),
            settings(60_000),
        );
        racers.push(tokio::spawn(async move {
            while dispatcher.run_once().await.expect("round").delivered > 0 {}
        }));
    }
    for racer in racers {
        racer.await.expect("racer");
    }
    let ids = keeper.ids();
    assert_eq!(ids.len(), 60);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        60,
        "no event twice"
    );
    assert_eq!(state(&t, a.id).await, (60, 0));
}

/// A sink that never answers: its dispatcher dies mid-delivery.
struct Hang;

impl Sink for Hang {
    async fn deliver(&self, _: &Event) -> Result<(), String> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_dead_dispatchers_claims_are_taken_over_after_the_lease() {
    let t = test_db().await;
    let (a, _) = tenant(&t, "outbox-lease").await;
    write_events(&t, a.id, 2).await;
    let dying = Dispatcher::new(t.db().clone(), "catalog.outbox", Hang, settings(300));
    let died = tokio::time::timeout(Duration::from_millis(100), dying.run_once()).await;
    assert!(died.is_err(), "the hanging delivery was cut off");
    let keeper = Keeper::default();
    let survivor = Dispatcher::new(
        t.db().clone(),
        "catalog.outbox",
        keeper.clone(),
        settings(300),
    );
    assert_eq!(
        survivor.run_once().await.expect("round").delivered,
        0,
        "still leased"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(survivor.run_once().await.expect("round").delivered, 2);
    assert!(
        keeper
            .got
            .lock()
            .expect("lock")
            .iter()
            .all(|e| e.attempts == 2)
    );
}

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

async fn receive(
    State((got, status)): State<(Received, StatusCode)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    got.lock().expect("lock").push((headers, body.to_vec()));
    status
}

/// An HTTP endpoint that keeps what it receives and answers `status`.
async fn endpoint(status: StatusCode) -> (String, Received) {
    let got = Received::default();
    let app = axum::Router::new()
        .route("/events", axum::routing::post(receive))
        .with_state((got.clone(), status));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn stock_alerts_reach_an_http_consumer_signed() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "outbox-http").await;
    // A real alert: a threshold of 5 and stock that falls from 10 to 3.
    let oud = product(&t, &admin, "oud").await;
    let v = catalog::products::variants::create_variant(
        t.db(),
        &admin,
        variant(oud, "OUD-1", &[("SAR", 100)]),
    )
    .await
    .expect("variant")
    .variant
    .id;
    let schema = catalog::build_schema(Some(&t.platform));
    let run = async |q: &str, vars: serde_json::Value| {
        let r = t
            .graphql::<catalog::Catalog>(&schema, &admin, q, vars)
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        r["data"].clone()
    };
    let location = run(
        "mutation { stockLocationCreate(input: { name: \"Main\" }) { stockLocation { id } } }",
        json!({}),
    )
    .await["stockLocationCreate"]["stockLocation"]["id"]
        .clone();
    let adjust = async |on_hand: i32| {
        run("mutation($v: ID!, $l: ID!, $n: Int!) { stockAdjust(input: { variantId: $v, locationId: $l, onHand: $n, reason: RECOUNT }) { userErrors { code } } }",
            json!({ "v": v.to_string(), "l": location, "n": on_hand })).await;
    };
    adjust(10).await;
    run("mutation($v: ID!, $l: ID!) { stockThresholdSet(input: { variantId: $v, locationId: $l, threshold: 5 }) { userErrors { code } } }",
        json!({ "v": v.to_string(), "l": location })).await;
    adjust(3).await;

    let secret = vec![42u8; 32];
    let (down, refused) = endpoint(StatusCode::SERVICE_UNAVAILABLE).await;
    let config =
        EventsConfig::new(down, secret.clone(), Duration::from_millis(10)).expect("config");
    let failing = Dispatcher::new(
        t.db().clone(),
        "catalog.outbox",
        WebhookSink::new(&config).expect("sink"),
        settings(60_000),
    );
    let round = failing.run_once().await.expect("round");
    assert_eq!((round.delivered, round.failed), (0, 1));
    assert_eq!(refused.lock().expect("lock").len(), 1);

    let (up, got) = endpoint(StatusCode::NO_CONTENT).await;
    let config = EventsConfig::new(up, secret.clone(), Duration::from_millis(10)).expect("config");
    let dispatcher = Dispatcher::new(
        t.db().clone(),
        "catalog.outbox",
        WebhookSink::new(&config).expect("sink"),
        settings(60_000),
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(dispatcher.run_once().await.expect("round").delivered, 1);
    let (headers, body) = got.lock().expect("lock").pop().expect("delivery");
    let event: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(event["topic"], "stock.low");
    assert_eq!(event["tenant_id"], info.id.to_string());
    assert_eq!(event["attempts"], 2);
    assert_eq!(
        headers["cityos-event-id"],
        event["id"].as_str().expect("id")
    );
    // The signature is over the timestamp and the raw body, under the shared secret.
    let signed = headers["cityos-signature"].to_str().expect("signature");
    let minute = Duration::from_secs(60);
    assert_eq!(verify(&secret, signed, &body, minute), Ok(()));
    assert!(
        verify(
            b"another-secret-of-at-least-32-bytes",
            signed,
            &body,
            minute
        )
        .is_err()
    );
    assert_eq!(state(&t, info.id).await, (1, 0));
}
