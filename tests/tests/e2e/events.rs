//! End-to-end: a stock alert written by a staff mutation through the router leaves the catalog
//! process's outbox and reaches an HTTP consumer, signed.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use cityos_e2e::fixtures::{
    create_location, create_stocked_product, create_tenant, platform_token, staff_mutation,
};
use cityos_e2e::{Stack, StackOptions};
use cityos_server::events::verify;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

async fn receive(
    State(got): State<Received>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    got.lock().expect("lock").push((headers, body.to_vec()));
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread")]
async fn stock_alerts_leave_the_outbox_for_the_configured_consumer() {
    let got = Received::default();
    let app = axum::Router::new()
        .route("/events", axum::routing::post(receive))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secret = "an-events-secret-of-at-least-32-bytes";
    let stack = Stack::start_with(StackOptions {
        events: Some((url, secret.into())),
        ..StackOptions::default()
    })
    .await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "events").await;
    let location = create_location(&stack, &shop, "Riyadh").await;
    // Two units on hand, then a threshold of five: the level is low at once.
    let (_, variants) = create_stocked_product(&stack, &shop, "oud", &location, 2).await;
    staff_mutation(
        &stack,
        &shop,
        "mutation($v: ID!, $l: ID!) { stockThresholdSet(input: { variantId: $v, locationId: $l, threshold: 5 }) { userErrors { code } } }",
        json!({ "v": variants[0], "l": location }),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let (headers, body) = loop {
        let found = got.lock().expect("lock").iter().find_map(|(h, b)| {
            let event: Value = serde_json::from_slice(b).ok()?;
            (event["topic"] == "stock.low").then(|| (h.clone(), b.clone()))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "no stock.low event arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let event: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(event["tenant_id"], shop.id.as_str());
    assert_eq!(event["payload"]["variantId"], variants[0].as_str());
    assert_eq!(
        headers["cityos-event-id"],
        event["id"].as_str().expect("id")
    );
    // The signature is over the timestamp and the raw body, under the shared secret.
    let signed = headers["cityos-signature"].to_str().expect("signature");
    let minute = Duration::from_secs(60);
    assert_eq!(verify(secret.as_bytes(), signed, &body, minute), Ok(()));
    assert!(
        verify(
            b"another-secret-of-at-least-32-bytes",
            signed,
            &body,
            minute
        )
        .is_err()
    );
}
