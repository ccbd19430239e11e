//! Vendors' ratings from the catalog's `review.changed` events, through the vendors inbox: applied
//! once each, in each review's version order, following a product that changes hands.

use crate::common::{Shop, approved, run, test_db};
use cityos_core::ids::{EventId, TenantId, VendorId};
use cityos_db::inbox::{Applied, Inbox};
use cityos_db::outbox::Event;
use cityos_server::Subgraph as _;
use cityos_testkit::TestDb;
use serde_json::{Value, json};
use uuid::Uuid;

/// A `review.changed` event as the catalog writes it.
pub fn review_changed(
    tenant: TenantId,
    review: Uuid,
    vendor: Option<VendorId>,
    rating: i16,
    counted: bool,
    version: i32,
) -> Event {
    Event {
        id: EventId::new(),
        source: "catalog".into(),
        tenant_id: tenant,
        topic: "review.changed".into(),
        aggregate_id: Some(review),
        payload: json!({ "reviewId": review, "productId": Uuid::now_v7(), "vendorId": vendor,
            "rating": rating, "counted": counted, "version": version }),
        created_at: chrono::Utc::now(),
        attempt: 1,
    }
}

pub async fn apply(t: &TestDb, event: &Event) -> Applied {
    Inbox::of("vendors")
        .apply(t.db(), &vendors::Vendors::consumers(), event)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", event.topic))
}

async fn rating(t: &TestDb, shop: &Shop, vendor: VendorId) -> Value {
    let r = run(
        t,
        &shop.guest(),
        "query($id: ID!) { vendor(id: $id) { rating { average count } } }",
        json!({ "id": vendor.to_string() }),
    )
    .await;
    r["vendor"]["rating"].clone()
}

#[tokio::test]
async fn ratings_follow_reviews_in_order_once_each() {
    let t = test_db().await;
    let shop = Shop::new(&t, "stars").await;
    let (a, _) = approved(&t, &shop, "stars-a").await;
    let (b, _) = approved(&t, &shop, "stars-b").await;
    let tenant = shop.info.id;
    let (r1, r2) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        rating(&t, &shop, a).await,
        json!({ "average": null, "count": 0 })
    );

    apply(&t, &review_changed(tenant, r1, Some(a), 5, true, 2)).await;
    let second = review_changed(tenant, r2, Some(a), 2, true, 2);
    assert_eq!(apply(&t, &second).await, Applied::Now);
    assert_eq!(
        rating(&t, &shop, a).await,
        json!({ "average": 3.5, "count": 2 })
    );
    // The same event again, and an older state of r1 arriving late, change nothing.
    assert_eq!(apply(&t, &second).await, Applied::Before);
    apply(&t, &review_changed(tenant, r1, Some(a), 5, false, 1)).await;
    assert_eq!(
        rating(&t, &shop, a).await,
        json!({ "average": 3.5, "count": 2 })
    );
    // r1 edited back to pending: it no longer counts.
    apply(&t, &review_changed(tenant, r1, Some(a), 4, false, 3)).await;
    assert_eq!(
        rating(&t, &shop, a).await,
        json!({ "average": 2.0, "count": 1 })
    );
    // r2's product moves to vendor b: both vendors are recounted.
    apply(&t, &review_changed(tenant, r2, Some(b), 2, true, 3)).await;
    assert_eq!(
        rating(&t, &shop, a).await,
        json!({ "average": null, "count": 0 })
    );
    assert_eq!(
        rating(&t, &shop, b).await,
        json!({ "average": 2.0, "count": 1 })
    );
    // A review of the tenant's own product touches no vendor.
    apply(
        &t,
        &review_changed(tenant, Uuid::now_v7(), None, 1, true, 2),
    )
    .await;
    assert_eq!(
        rating(&t, &shop, b).await,
        json!({ "average": 2.0, "count": 1 })
    );

    // A malformed event is refused and leaves nothing behind (the publisher retries).
    let bad = review_changed(tenant, Uuid::now_v7(), Some(b), 9, true, 2);
    let refused = Inbox::of("vendors")
        .apply(t.db(), &vendors::Vendors::consumers(), &bad)
        .await;
    assert!(refused.is_err());
    let kept = t
        .count_in(
            tenant,
            &format!(
                "SELECT count(*) AS n FROM vendors.inbox WHERE event_id = '{}'",
                bad.id
            ),
        )
        .await;
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn vendors_list_best_rated_first_page_by_page() {
    let t = test_db().await;
    let shop = Shop::new(&t, "ranked").await;
    let mut vendors = Vec::new();
    for handle in ["ranked-a", "ranked-b", "ranked-c", "ranked-d"] {
        vendors.push(approved(&t, &shop, handle).await.0);
    }
    let tenant = shop.info.id;
    // b: 5 and 4 stars (4.5); c: 5 (5.0); d: 3 (3.0); a: unrated.
    for (vendor, stars) in [(1, 5), (1, 4), (2, 5), (3, 3)] {
        apply(
            &t,
            &review_changed(
                tenant,
                Uuid::now_v7(),
                Some(vendors[vendor]),
                stars,
                true,
                2,
            ),
        )
        .await;
    }
    let q = "query($a: String) { vendors(first: 1, after: $a, sort: RATING) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { handle rating { average } } } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let r = run(&t, &shop.guest(), q, json!({ "a": after })).await;
        let list = &r["vendors"];
        assert_eq!(list["totalCount"], 4);
        for e in list["edges"].as_array().expect("edges") {
            seen.push((
                e["node"]["handle"].as_str().expect("handle").to_owned(),
                e["node"]["rating"]["average"].clone(),
            ));
        }
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    let handles: Vec<&str> = seen.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        handles,
        ["ranked-c", "ranked-b", "ranked-d", "ranked-a"],
        "{seen:?}"
    );
    assert_eq!(seen[1].1, json!(4.5));
    assert!(seen[3].1.is_null());
}
