//! Reviews: moderation, one per customer, responses, helpful votes, and a rating summary that
//! always equals what the approved reviews say.

use crate::common::{product, tenant, test_db};
use catalog::ids::{TenantId, UserId};
use catalog::reviews::{self, NewReview, ReviewStatus};
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, context, user_context};
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn customer(info: &TenantInfo) -> RequestContext {
    user_context(Some(info), UserId::new(), &[Role::Customer])
}

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

const CREATE: &str = "mutation($input: ReviewCreateInput!) { reviewCreate(input: $input) {
    review { id status rating } userErrors { field code } } }";
const MODERATE: &str =
    "mutation($id: ID!, $s: ReviewStatus!) { reviewModerate(input: { id: $id, status: $s }) {
    review { status } userErrors { code } } }";
const RATING: &str =
    "{ products { edges { node { handle rating { count average distribution } } } } }";

/// Products whose stored rating differs from a count of their approved reviews.
async fn wrong_summaries(t: &TestDb, tenant: TenantId) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = t
        .db()
        .tenant_tx(tenant, async |tx| {
            use diesel_async::RunQueryDsl;
            Ok::<_, cityos_core::ApiError>(
                diesel::sql_query(
                    "SELECT count(*) AS n FROM catalog.products p
                     WHERE p.rating_counts <> ARRAY(
                        SELECT count(r.id)::int FROM generate_series(1, 5) s
                        LEFT JOIN catalog.reviews r ON r.product_id = p.id AND r.rating = s
                             AND r.status = 'APPROVED'
                        GROUP BY s ORDER BY s)",
                )
                .get_result(tx.conn())
                .await?,
            )
        })
        .await
        .expect("check");
    n.n
}

#[tokio::test]
async fn reviews_are_moderated_before_they_count() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "reviews").await;
    let oud = product(&t, &admin, "oud").await.to_string();
    let (sara, omar) = (customer(&info), customer(&info));
    let shop = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );

    let r = run(&t, &sara, CREATE, json!({ "input": { "productId": oud, "rating": 5, "title": "Lovely", "body": "Lasts all day" } })).await;
    let review = r["reviewCreate"]["review"].clone();
    assert_eq!(review["status"], "PENDING");
    let id = review["id"].clone();
    // Pending: the author sees it, storefronts and other customers do not, the rating is empty.
    let list = "query($h: String!) { product(handle: $h) { reviews { totalCount edges { node { rating status author { id } } } } } }";
    assert_eq!(
        run(&t, &sara, list, json!({ "h": "oud" })).await["product"]["reviews"]["totalCount"],
        1
    );
    assert_eq!(
        run(&t, &omar, list, json!({ "h": "oud" })).await["product"]["reviews"]["totalCount"],
        0
    );
    assert_eq!(
        run(&t, &shop, list, json!({ "h": "oud" })).await["product"]["reviews"]["totalCount"],
        0
    );
    let rating = run(&t, &shop, RATING, json!({})).await;
    assert_eq!(
        rating["products"]["edges"][0]["node"]["rating"],
        json!({ "count": 0, "average": null, "distribution": [0, 0, 0, 0, 0] })
    );

    // Approved: everyone sees it and it counts.
    let r = run(&t, &admin, MODERATE, json!({ "id": id, "s": "APPROVED" })).await;
    assert_eq!(r["reviewModerate"]["review"]["status"], "APPROVED");
    run(
        &t,
        &omar,
        CREATE,
        json!({ "input": { "productId": oud, "rating": 2 } }),
    )
    .await;
    let omar_review = run(
        &t,
        &admin,
        "{ reviews(status: PENDING) { edges { node { id } } } }",
        json!({}),
    )
    .await["reviews"]["edges"][0]["node"]["id"]
        .clone();
    run(
        &t,
        &admin,
        MODERATE,
        json!({ "id": omar_review, "s": "APPROVED" }),
    )
    .await;
    let rating = run(&t, &shop, RATING, json!({})).await;
    assert_eq!(
        rating["products"]["edges"][0]["node"]["rating"],
        json!({ "count": 2, "average": 3.5, "distribution": [0, 1, 0, 0, 1] })
    );
    assert_eq!(
        run(&t, &shop, list, json!({ "h": "oud" })).await["product"]["reviews"]["totalCount"],
        2
    );

    // Once per customer; an edit goes back to moderation and stops counting until approved.
    let again = run(
        &t,
        &sara,
        CREATE,
        json!({ "input": { "productId": oud, "rating": 4 } }),
    )
    .await;
    assert_eq!(
        again["reviewCreate"]["userErrors"][0]["code"],
        "ALREADY_REVIEWED"
    );
    let edit = "mutation($id: ID!) { reviewUpdate(input: { id: $id, rating: 4 }) { review { status rating } userErrors { code } } }";
    let edited = run(&t, &sara, edit, json!({ "id": id })).await;
    assert_eq!(
        edited["reviewUpdate"]["review"],
        json!({ "status": "PENDING", "rating": 4 })
    );
    assert_eq!(
        run(&t, &omar, edit, json!({ "id": id })).await["reviewUpdate"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let rating = run(&t, &shop, RATING, json!({})).await;
    assert_eq!(
        rating["products"]["edges"][0]["node"]["rating"]["distribution"],
        json!([0, 1, 0, 0, 0])
    );

    // Moderation follows its table; bad input is refused.
    let r = run(
        &t,
        &admin,
        MODERATE,
        json!({ "id": omar_review, "s": "PENDING" }),
    )
    .await;
    assert_eq!(
        r["reviewModerate"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    for (input, code) in [
        (json!({ "productId": oud, "rating": 6 }), "INVALID_REVIEW"),
        (
            json!({ "productId": oud, "rating": 3, "body": "b".repeat(5001) }),
            "INVALID_REVIEW",
        ),
        (
            json!({ "productId": Uuid::now_v7().to_string(), "rating": 3 }),
            "NOT_FOUND",
        ),
    ] {
        let r = run(&t, &customer(&info), CREATE, json!({ "input": input })).await;
        assert_eq!(r["reviewCreate"]["userErrors"][0]["code"], code, "{input}");
    }
    // Staff answer and verify; customers and storefronts cannot.
    let respond = "mutation($id: ID!) { reviewRespond(input: { id: $id, body: \"Thank you!\" }) { response { body } userErrors { code } } }";
    assert_eq!(
        run(&t, &admin, respond, json!({ "id": omar_review })).await["reviewRespond"]["response"]["body"],
        "Thank you!"
    );
    let verify = "mutation($id: ID!) { reviewVerifiedPurchaseSet(input: { id: $id, verified: true }) { review { verifiedPurchase } } }";
    assert_eq!(
        run(&t, &admin, verify, json!({ "id": omar_review })).await["reviewVerifiedPurchaseSet"]["review"]
            ["verifiedPurchase"],
        true
    );
    let schema = build_schema(Some(&t.platform));
    for q in [respond, verify, MODERATE] {
        let denied = t
            .graphql::<Catalog>(
                &schema,
                &sara,
                q,
                json!({ "id": omar_review, "s": "REJECTED" }),
            )
            .await;
        assert_eq!(
            denied["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{q}"
        );
    }
    let shown = run(&t, &shop, "{ product(handle: \"oud\") { reviews { edges { node { verifiedPurchase response { body } } } } } }", json!({})).await;
    assert_eq!(
        shown["product"]["reviews"]["edges"][0]["node"],
        json!({ "verifiedPurchase": true, "response": { "body": "Thank you!" } })
    );
    assert_eq!(wrong_summaries(&t, info.id).await, 0);
}

#[tokio::test]
async fn racing_reviews_votes_and_moderation_keep_every_count_true() {
    let t = Arc::new(test_db().await);
    let (info, admin) = tenant(&t, "race-reviews").await;
    let oud = product(&t, &admin, "oud").await;

    // Eight racing reviews by one customer: exactly one is written.
    let sara = customer(&info);
    let mut tasks = Vec::new();
    for rating in 1..=8 {
        let (t, sara) = (t.clone(), sara.clone());
        tasks.push(tokio::spawn(async move {
            let new = NewReview {
                product_id: oud,
                rating: rating % 5 + 1,
                title: None,
                body: None,
            };
            reviews::create(t.db(), &sara, new).await
        }));
    }
    let mut written = Vec::new();
    for task in tasks {
        if let Ok(review) = task.await.expect("task") {
            written.push(review.id);
        }
    }
    assert_eq!(written.len(), 1);
    let first = written[0];
    reviews::moderate(t.db(), &admin, first, ReviewStatus::Approved)
        .await
        .expect("approve");

    // Ten customers each vote twice at once: ten votes; the author cannot vote.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let voter = customer(&info);
        for _ in 0..2 {
            let (t, voter) = (t.clone(), voter.clone());
            tasks.push(tokio::spawn(async move {
                reviews::vote(t.db(), &voter, first, true).await
            }));
        }
    }
    for task in tasks {
        task.await.expect("task").expect("vote");
    }
    let own = reviews::vote(t.db(), &sara, first, true).await;
    assert!(
        matches!(own, Err(cityos_core::Failure::User(e)) if e.code == catalog::errors::CatalogErrorCode::OwnReview)
    );
    let voter = customer(&info);
    reviews::vote(t.db(), &voter, first, true)
        .await
        .expect("vote");
    let after = reviews::vote(t.db(), &voter, first, false)
        .await
        .expect("unvote");
    assert_eq!(after.helpful_count, 10);

    // Twenty reviews moderated back and forth by racing staff: the summary stays exact.
    let mut ids = Vec::new();
    for i in 0..20 {
        let new = NewReview {
            product_id: oud,
            rating: i % 5 + 1,
            title: None,
            body: None,
        };
        ids.push(
            reviews::create(t.db(), &customer(&info), new)
                .await
                .expect("review")
                .id,
        );
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let (t, admin) = (t.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            let _ = reviews::moderate(t.db(), &admin, id, ReviewStatus::Approved).await;
            if i % 3 == 0 {
                let _ = reviews::moderate(t.db(), &admin, id, ReviewStatus::Rejected).await;
            }
            if i % 6 == 0 {
                let _ = reviews::moderate(t.db(), &admin, id, ReviewStatus::Approved).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(wrong_summaries(&t, info.id).await, 0);
    // Deleting an approved review takes it out of the summary too.
    reviews::delete(t.db(), &admin, ids[0])
        .await
        .expect("delete");
    assert_eq!(wrong_summaries(&t, info.id).await, 0);
}

#[tokio::test]
async fn reviews_are_isolated_by_tenant() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "rev-a").await;
    let (b, b_admin) = tenant(&t, "rev-b").await;
    let oud = product(&t, &a_admin, "oud").await.to_string();
    let id = run(
        &t,
        &customer(&a),
        CREATE,
        json!({ "input": { "productId": oud, "rating": 4 } }),
    )
    .await["reviewCreate"]["review"]["id"]
        .clone();
    run(&t, &a_admin, MODERATE, json!({ "id": id, "s": "APPROVED" })).await;
    run(
        &t,
        &a_admin,
        "mutation($id: ID!) { reviewRespond(input: { id: $id, body: \"Thanks\" }) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    run(
        &t,
        &customer(&a),
        "mutation($id: ID!) { reviewVote(input: { id: $id, helpful: true }) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    for table in [
        "catalog.reviews",
        "catalog.review_responses",
        "catalog.review_votes",
    ] {
        assert_eq!(t.visible_rows(table, None).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(b.id)).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(a.id)).await, 1, "{table}");
    }
    // B can neither review A's product nor moderate, answer, vote on or delete A's review.
    let r = run(
        &t,
        &customer(&b),
        CREATE,
        json!({ "input": { "productId": oud, "rating": 1 } }),
    )
    .await;
    assert_eq!(r["reviewCreate"]["userErrors"][0]["code"], "NOT_FOUND");
    let r = run(&t, &b_admin, MODERATE, json!({ "id": id, "s": "REJECTED" })).await;
    assert_eq!(r["reviewModerate"]["userErrors"][0]["code"], "NOT_FOUND");
    let r = run(
        &t,
        &customer(&b),
        "mutation($id: ID!) { reviewVote(input: { id: $id, helpful: true }) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(r["reviewVote"]["userErrors"][0]["code"], "NOT_FOUND");
    let r = run(
        &t,
        &b_admin,
        "mutation($id: ID!) { reviewDelete(input: { id: $id }) { userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(r["reviewDelete"]["userErrors"][0]["code"], "NOT_FOUND");
    assert_eq!(t.visible_rows("catalog.reviews", Some(a.id)).await, 1);
    let r = run(&t, &b_admin, "{ reviews { totalCount } }", json!({})).await;
    assert_eq!(r["reviews"]["totalCount"], 0);
}

#[tokio::test]
async fn reviews_page_newest_first_in_both_directions() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "rev-pages").await;
    let oud = product(&t, &admin, "oud").await;
    for rating in [1, 2, 3] {
        let new = NewReview {
            product_id: oud,
            rating,
            title: None,
            body: None,
        };
        let id = reviews::create(t.db(), &customer(&info), new)
            .await
            .expect("review")
            .id;
        reviews::moderate(t.db(), &admin, id, ReviewStatus::Approved)
            .await
            .expect("approve");
    }
    let shop = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let q = "query($after: String, $before: String, $first: Int, $last: Int) { product(handle: \"oud\") {
        reviews(first: $first, after: $after, last: $last, before: $before) {
            pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { node { rating } } } } }";
    let ratings = |v: &Value| -> Vec<i64> {
        v["product"]["reviews"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["rating"].as_i64().expect("rating"))
            .collect()
    };
    let first = run(&t, &shop, q, json!({ "first": 2 })).await;
    assert_eq!(ratings(&first), [3, 2]);
    assert_eq!(first["product"]["reviews"]["pageInfo"]["hasNextPage"], true);
    let next = run(
        &t,
        &shop,
        q,
        json!({ "first": 2, "after": first["product"]["reviews"]["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(ratings(&next), [1]);
    let back = run(
        &t,
        &shop,
        q,
        json!({ "last": 1, "before": next["product"]["reviews"]["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(ratings(&back), [2]);
}
