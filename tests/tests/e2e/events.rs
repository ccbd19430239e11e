//! End-to-end through running processes: an order placed in the orders subgraph reaches the
//! catalog as `order.placed` (orders' dispatcher, the catalog's signed `/events` and inbox), and the
//! storefront's BEST_SELLING sort through the router follows the units sold. A platform admin
//! sees every delivery and job through the router and replays a delivery, which changes nothing;
//! tenant staff see none of it. Each subgraph serves Prometheus metrics with its requests by
//! operation and the outbox's state.

use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    bearer, create_location, create_stocked_product, create_tenant, headers, platform_token,
};
use cityos_e2e::operations::{identity, orders};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Checks out a guest cart of `lines` (variant, quantity) with the storefront's named
/// operations; the order's id.
async fn guest_order(
    stack: &Stack,
    storefront: &[(&'static str, String)],
    lines: &[(&str, i32)],
) -> String {
    let storefront = headers(storefront);
    let r = stack
        .op(&storefront, orders::CART_CREATE, json!({ "input": {} }))
        .await;
    let cart = r.data()["cartCreate"]["cart"]["id"]
        .as_str()
        .expect("cart")
        .to_owned();
    let lines: Vec<Value> = lines
        .iter()
        .map(|(v, q)| json!({ "variantId": v, "quantity": q }))
        .collect();
    let address = json!({ "firstName": "Huda", "lastName": "Al-Otaibi", "line1": "Tahlia Street 12",
        "city": "Jeddah", "postalCode": "23431", "countryCode": "SA" });
    let steps = [
        (
            orders::CART_LINES_ADD,
            "cartLinesAdd",
            json!({ "cartId": cart, "lines": lines }),
        ),
        (
            orders::CART_UPDATE,
            "cartUpdate",
            json!({ "cartId": cart, "email": "guest@example.com", "shippingAddress": address }),
        ),
        (
            orders::CHECKOUT_COMPLETE,
            "checkoutComplete",
            json!({ "cartId": cart, "idempotencyKey": cart }),
        ),
    ];
    let mut order = None;
    for (operation, field, input) in steps {
        let r = stack
            .op(&storefront, operation, json!({ "input": input }))
            .await;
        assert_eq!(r.data()[field]["userErrors"], json!([]), "{}", r.body);
        order = r.data()[field]["order"]["id"].as_str().map(str::to_owned);
    }
    order.unwrap_or_else(|| panic!("checkout placed no order"))
}

/// The storefront's best sellers: (handle, units sold), best first.
async fn best_sellers(stack: &Stack, storefront: &[(&'static str, String)]) -> Vec<(String, i64)> {
    let r = stack
        .gql(
            &headers(storefront),
            "query BestSellers { products(first: 10, sort: {key: BEST_SELLING}) { edges { node { handle unitsSold } } } }",
            json!({}),
        )
        .await;
    r.data()["products"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["handle"].as_str().unwrap_or_default().to_owned(),
                node["unitsSold"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_placed_reach_the_catalog_once_and_order_its_best_sellers() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "sales").await;
    let location = create_location(&stack, &shop, "Jeddah").await;
    let (_, oud) = create_stocked_product(&stack, &shop, "oud", &location, 20).await;
    let (_, musk) = create_stocked_product(&stack, &shop, "musk", &location, 20).await;
    let (_, amber) = create_stocked_product(&stack, &shop, "amber", &location, 20).await;
    let storefront = [("x-publishable-key", shop.key.clone())];
    assert!(
        best_sellers(&stack, &storefront)
            .await
            .iter()
            .all(|(_, n)| *n == 0)
    );

    guest_order(&stack, &storefront, &[(&musk[0], 3), (&oud[0], 1)]).await;
    guest_order(&stack, &storefront, &[(&musk[1], 2), (&amber[0], 2)]).await;

    let wanted = vec![
        ("musk".to_owned(), 5),
        ("amber".to_owned(), 2),
        ("oud".to_owned(), 1),
    ];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = best_sellers(&stack, &storefront).await;
        if now == wanted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "best sellers are {now:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The platform admin's view: each order's event delivered to the catalog once.
    let admin = [("authorization", bearer(&platform))];
    let filter = json!({ "first": 10, "filter": { "source": "orders", "topic": "order.placed", "subscriber": "catalog" } });
    let r = stack
        .op(&headers(&admin), identity::EVENT_DELIVERIES, filter.clone())
        .await;
    let list = &r.data()["eventDeliveries"];
    assert_eq!(list["totalCount"], 2, "{}", r.body);
    let first = list["edges"][0]["node"].clone();
    assert_eq!(
        (
            first["subscriber"].as_str(),
            first["state"].as_str(),
            first["attempts"].as_i64()
        ),
        (Some("catalog"), Some("DELIVERED"), Some(1)),
        "{}",
        r.body
    );
    assert_eq!(first["tenantId"], shop.id.as_str());
    // Tenant staff may not look.
    let r = stack
        .op(
            &headers(&shop.staff()),
            identity::EVENT_DELIVERIES,
            filter.clone(),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
    // A replay is delivered again and changes nothing.
    let replay = json!({ "input": { "source": "orders", "eventId": first["eventId"], "subscriber": "catalog" } });
    let r = stack
        .op(&headers(&admin), identity::EVENT_REDELIVER, replay)
        .await;
    let delivery = &r.data()["eventRedeliver"]["delivery"];
    assert_eq!(
        (&delivery["state"], &delivery["attempts"]),
        (&json!("PENDING"), &json!(0)),
        "{}",
        r.body
    );
    let nobody = json!({ "input": { "source": "orders", "eventId": first["eventId"], "subscriber": "nobody" } });
    let r = stack
        .op(&headers(&admin), identity::EVENT_REDELIVER, nobody)
        .await;
    assert_eq!(
        r.data()["eventRedeliver"]["userErrors"][0]["code"],
        "NOT_FOUND",
        "{}",
        r.body
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = stack
            .op(&headers(&admin), identity::EVENT_DELIVERIES, filter.clone())
            .await;
        let node = &r.data()["eventDeliveries"]["edges"][0]["node"];
        if node["state"] == "DELIVERED" {
            assert_eq!(node["attempts"], 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replay was not delivered: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        best_sellers(&stack, &storefront).await,
        wanted,
        "the replay changed nothing"
    );
    // Every cart has its expiry job; one not due yet cannot be retried.
    let carts = json!({ "first": 10, "filter": { "subgraph": "orders", "name": "cart.expire" } });
    let r = stack.op(&headers(&admin), identity::JOBS, carts).await;
    assert_eq!(r.data()["jobs"]["totalCount"], 2, "{}", r.body);
    let job = r.data()["jobs"]["edges"][0]["node"].clone();
    let retry = json!({ "input": { "subgraph": "orders", "jobId": job["id"] } });
    let r = stack.op(&headers(&admin), identity::JOB_RETRY, retry).await;
    assert_eq!(
        r.data()["jobRetry"]["userErrors"][0]["code"],
        "INVALID_TRANSITION",
        "{}",
        r.body
    );

    // Each subgraph serves its metrics beside its GraphQL endpoint (not through the router).
    let http = reqwest::Client::new();
    let metrics = async |name: &str| {
        let url = stack.subgraph_url(name).replace("/graphql", "/metrics");
        http.get(url)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    };
    let catalog = metrics("catalog").await;
    assert!(
        catalog.contains("cityos_graphql_request_duration_seconds_count{operation=\"BestSellers\",outcome=\"ok\",subgraph=\"catalog\"}"),
        "{catalog}"
    );
    assert!(catalog.contains("cityos_events_consumed_duration_seconds_count{outcome=\"applied\",topic=\"order.placed\"} 2"), "{catalog}");
    let orders = metrics("orders").await;
    assert!(
        orders.contains("cityos_outbox_deliveries{state=\"dead\"} 0"),
        "{orders}"
    );
    assert!(
        orders.contains("cityos_db_pool_connections{state=\"max\"} 8"),
        "{orders}"
    );
}
