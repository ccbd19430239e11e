//! Categories (a tree) and collections (ordered sets), through GraphQL.

use crate::common::{product, tenant, test_db};
use catalog::ids::TenantId;
use catalog::taxonomy::categories::{self, NewCategory};
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, RequestContext, TenantInfo};
use cityos_testkit::{TestDb, context};
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

fn storefront(info: &TenantInfo) -> RequestContext {
    context(
        Some(info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    )
}

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

const CREATE: &str = "mutation($input: CategoryCreateInput!) { categoryCreate(input: $input) {
    category { id depth } userErrors { field code } } }";
const MOVE: &str =
    "mutation($id: ID!, $parent: ID) { categoryMove(input: { id: $id, parentId: $parent }) {
    category { id depth parent { handle } } userErrors { field code } } }";

async fn category(
    t: &TestDb,
    admin: &RequestContext,
    handle: &str,
    parent: Option<&Value>,
) -> Value {
    let mut input = json!({ "name": handle, "handle": handle });
    if let Some(parent) = parent {
        input["parentId"] = parent.clone();
    }
    let r = run(t, admin, CREATE, json!({ "input": input })).await;
    assert_eq!(r["categoryCreate"]["userErrors"], json!([]), "{handle}");
    r["categoryCreate"]["category"]["id"].clone()
}

fn handles(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|c| c["handle"].as_str().expect("handle").to_owned())
        .collect()
}

/// Every category's stored path agrees with its parent chain (no cycle, no stale subtree).
async fn tree_is_consistent(t: &TestDb, tenant: TenantId) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Bad {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let bad: Bad = t
        .db()
        .tenant_tx(tenant, async |tx| {
            use diesel_async::RunQueryDsl;
            Ok::<_, cityos_core::ApiError>(
                diesel::sql_query(
                    "SELECT count(*) AS n FROM catalog.categories c
                     LEFT JOIN catalog.categories p ON p.id = c.parent_id
                     WHERE c.path <> coalesce(p.path, ''::public.ltree)
                                      || replace(c.id::text, '-', '')::public.ltree",
                )
                .get_result(tx.conn())
                .await?,
            )
        })
        .await
        .expect("check");
    bad.n == 0
}

#[tokio::test]
async fn the_category_tree_moves_subtrees_and_refuses_cycles() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "tree").await;
    let home = category(&t, &admin, "home", None).await;
    let kitchen = category(&t, &admin, "kitchen", Some(&home)).await;
    let cookware = category(&t, &admin, "cookware", Some(&kitchen)).await;
    let pans = category(&t, &admin, "pans", Some(&cookware)).await;
    let garden = category(&t, &admin, "garden", Some(&home)).await;
    let gifts = category(&t, &admin, "gifts", None).await;

    let q = "query($h: String!) { category(handle: $h) { depth ancestors { handle } descendants { handle }
        children { handle } parent { handle } } categories { handle } }";
    let r = run(&t, &admin, q, json!({ "h": "cookware" })).await;
    assert_eq!(handles(&r["category"]["ancestors"]), ["home", "kitchen"]);
    assert_eq!(handles(&r["category"]["descendants"]), ["pans"]);
    assert_eq!(r["category"]["depth"], 3);
    assert_eq!(handles(&r["categories"]), ["home", "gifts"]);
    let r = run(&t, &admin, q, json!({ "h": "home" })).await;
    assert_eq!(
        handles(&r["category"]["descendants"]),
        ["kitchen", "cookware", "pans", "garden"]
    );

    // Moving kitchen under gifts carries its subtree.
    let moved = run(&t, &admin, MOVE, json!({ "id": kitchen, "parent": gifts })).await;
    assert_eq!(
        moved["categoryMove"]["category"]["parent"]["handle"],
        "gifts"
    );
    let r = run(&t, &admin, q, json!({ "h": "pans" })).await;
    assert_eq!(
        handles(&r["category"]["ancestors"]),
        ["gifts", "kitchen", "cookware"]
    );
    assert_eq!(r["category"]["depth"], 4);
    let r = run(&t, &admin, q, json!({ "h": "home" })).await;
    assert_eq!(handles(&r["category"]["descendants"]), ["garden"]);
    // ... and back to a root.
    let moved = run(&t, &admin, MOVE, json!({ "id": cookware, "parent": null })).await;
    assert_eq!(moved["categoryMove"]["category"]["depth"], 1);
    assert!(tree_is_consistent(&t, info.id).await);

    // Under itself or a descendant: refused, nothing changes.
    for (id, parent) in [(&cookware, &cookware), (&cookware, &pans)] {
        let r = run(&t, &admin, MOVE, json!({ "id": id, "parent": parent })).await;
        assert_eq!(r["categoryMove"]["userErrors"][0]["code"], "INVALID_PARENT");
    }
    let r = run(&t, &admin, q, json!({ "h": "pans" })).await;
    assert_eq!(handles(&r["category"]["ancestors"]), ["cookware"]);

    // Ten levels at most, whether created or moved there.
    let mut chain = vec![category(&t, &admin, "d1", None).await];
    for depth in 2..=10 {
        let parent = chain.last().cloned();
        chain.push(category(&t, &admin, &format!("d{depth}"), parent.as_ref()).await);
    }
    let r = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": { "name": "d11", "handle": "d11", "parentId": chain[9] } }),
    )
    .await;
    assert_eq!(
        r["categoryCreate"]["userErrors"][0]["code"],
        "INVALID_PARENT"
    );
    let r = run(
        &t,
        &admin,
        MOVE,
        json!({ "id": cookware, "parent": chain[9] }),
    )
    .await;
    assert_eq!(r["categoryMove"]["userErrors"][0]["code"], "INVALID_PARENT");
    assert!(tree_is_consistent(&t, info.id).await);

    // Handles are unique; a category with children cannot be deleted; a leaf can.
    let r = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": { "name": "x", "handle": "garden" } }),
    )
    .await;
    assert_eq!(r["categoryCreate"]["userErrors"][0]["code"], "HANDLE_TAKEN");
    let delete = "mutation($id: ID!) { categoryDelete(input: { id: $id }) { deletedId userErrors { code } } }";
    let r = run(&t, &admin, delete, json!({ "id": cookware })).await;
    assert_eq!(
        r["categoryDelete"]["userErrors"][0]["code"],
        "CATEGORY_NOT_EMPTY"
    );
    let r = run(&t, &admin, delete, json!({ "id": garden })).await;
    assert_eq!(r["categoryDelete"]["deletedId"], garden);

    // Storefronts read the tree but cannot change it.
    let r = run(&t, &storefront(&info), q, json!({ "h": "pans" })).await;
    assert_eq!(r["category"]["depth"], 2);
    let schema = build_schema(Some(&t.platform));
    let denied = t
        .graphql::<Catalog>(
            &schema,
            &storefront(&info),
            MOVE,
            json!({ "id": pans, "parent": null }),
        )
        .await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn racing_moves_never_make_a_cycle() {
    let t = Arc::new(test_db().await);
    let (info, admin) = tenant(&t, "race-tree").await;
    let new = |handle: &str| NewCategory {
        name: handle.into(),
        handle: handle.into(),
        ..NewCategory::default()
    };
    for round in 0..10 {
        let a = categories::create(t.db(), &admin, new(&format!("a{round}")))
            .await
            .expect("a")
            .id;
        let b = categories::create(t.db(), &admin, new(&format!("b{round}")))
            .await
            .expect("b")
            .id;
        // A under B and B under A at once: one wins, the other is refused.
        let (t1, t2) = (t.clone(), t.clone());
        let (admin1, admin2) = (admin.clone(), admin.clone());
        let first =
            tokio::spawn(async move { categories::move_to(t1.db(), &admin1, a, Some(b)).await });
        let second =
            tokio::spawn(async move { categories::move_to(t2.db(), &admin2, b, Some(a)).await });
        let outcomes = [first.await.expect("task"), second.await.expect("task")];
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "round {round}"
        );
    }
    assert!(tree_is_consistent(&t, info.id).await);
}

#[tokio::test]
async fn category_and_collection_listings_follow_their_rules() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "shelves").await;
    let home = category(&t, &admin, "home", None).await;
    let kitchen = category(&t, &admin, "kitchen", Some(&home)).await;
    let mut ids = Vec::new();
    for handle in ["pan", "pot", "rug", "lamp"] {
        ids.push(json!(product(&t, &admin, handle).await.to_string()));
    }
    // A draft is in the category and the collection, but storefronts do not see it.
    let draft = run(
        &t,
        &admin,
        "mutation { productCreate(input: { title: \"Vase\", handle: \"vase\" }) { product { id } } }",
        json!({}),
    )
    .await["productCreate"]["product"]["id"]
        .clone();
    let set =
        "mutation($p: ID!, $c: [ID!]!) { productCategoriesSet(input: { productId: $p, categoryIds: $c }) {
        categories { handle } userErrors { code } } }";
    for (p, c) in [
        (&ids[0], &kitchen),
        (&ids[1], &kitchen),
        (&ids[2], &home),
        (&draft, &kitchen),
    ] {
        let r = run(&t, &admin, set, json!({ "p": p, "c": [c, c] })).await;
        assert_eq!(r["productCategoriesSet"]["userErrors"], json!([]));
    }
    let r = run(
        &t,
        &admin,
        set,
        json!({ "p": ids[3], "c": [Uuid::now_v7().to_string()] }),
    )
    .await;
    assert_eq!(
        r["productCategoriesSet"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );

    let listing = "query($h: String!) { category(handle: $h) { products(first: 10) { totalCount edges { node { handle categories { handle } } } } } }";
    let shop = storefront(&info);
    let r = run(&t, &shop, listing, json!({ "h": "home" })).await;
    assert_eq!(r["category"]["products"]["totalCount"], 3);
    let listed: Vec<&str> = r["category"]["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["handle"].as_str().expect("handle"))
        .collect();
    assert_eq!(listed, ["pan", "pot", "rug"]);
    assert_eq!(
        r["category"]["products"]["edges"][0]["node"]["categories"],
        json!([{ "handle": "kitchen" }])
    );
    let r = run(&t, &admin, listing, json!({ "h": "kitchen" })).await;
    assert_eq!(r["category"]["products"]["totalCount"], 3);

    // A collection lists in its own order; adding at a position inserts, re-adding moves.
    let created = run(
        &t,
        &admin,
        "mutation { collectionCreate(input: { title: \"Ramadan gifts\", handle: \"ramadan-gifts\" }) { collection { id } userErrors { code } } }",
        json!({}),
    )
    .await;
    let collection = created["collectionCreate"]["collection"]["id"].clone();
    let add = "mutation($input: CollectionProductsAddInput!) { collectionProductsAdd(input: $input) { collection { handle } userErrors { code } } }";
    for input in [
        json!({ "collectionId": collection, "productIds": [ids[3], ids[0], draft] }),
        json!({ "collectionId": collection, "productIds": [ids[2]], "position": 1 }),
        json!({ "collectionId": collection, "productIds": [ids[0]], "position": 0 }),
    ] {
        let r = run(&t, &admin, add, json!({ "input": input })).await;
        assert_eq!(r["collectionProductsAdd"]["userErrors"], json!([]));
    }
    let page = "query($after: String) { collection(handle: \"ramadan-gifts\") { products(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { handle collections { handle } } } } } }";
    let first = run(&t, &shop, page, json!({})).await;
    let products = &first["collection"]["products"];
    assert_eq!(products["totalCount"], 3);
    let order = |v: &Value| -> Vec<String> {
        v["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["handle"].as_str().expect("h").to_owned())
            .collect()
    };
    assert_eq!(order(products), ["pan", "lamp"]);
    assert_eq!(
        products["edges"][0]["node"]["collections"],
        json!([{ "handle": "ramadan-gifts" }])
    );
    let next = run(
        &t,
        &shop,
        page,
        json!({ "after": products["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(order(&next["collection"]["products"]), ["rug"]);
    assert_eq!(
        next["collection"]["products"]["pageInfo"]["hasNextPage"],
        false
    );
    let staff = run(
        &t,
        &admin,
        page.replace("first: 2", "first: 10").as_str(),
        json!({}),
    )
    .await;
    assert_eq!(
        order(&staff["collection"]["products"]),
        ["pan", "lamp", "rug", "vase"]
    );

    // Removing keeps the order of the rest; bad input is refused.
    let remove = "mutation($c: ID!, $p: [ID!]!) { collectionProductsRemove(input: { collectionId: $c, productIds: $p }) { userErrors { code } } }";
    run(
        &t,
        &admin,
        remove,
        json!({ "c": collection, "p": [ids[3]] }),
    )
    .await;
    let staff = run(
        &t,
        &admin,
        page.replace("first: 2", "first: 10").as_str(),
        json!({}),
    )
    .await;
    assert_eq!(
        order(&staff["collection"]["products"]),
        ["pan", "rug", "vase"]
    );
    for input in [
        json!({ "collectionId": collection, "productIds": [] }),
        json!({ "collectionId": collection, "productIds": [Uuid::now_v7().to_string()] }),
        json!({ "collectionId": Uuid::now_v7().to_string(), "productIds": [ids[0]] }),
    ] {
        let r = run(&t, &admin, add, json!({ "input": input })).await;
        assert!(
            !r["collectionProductsAdd"]["userErrors"]
                .as_array()
                .expect("errors")
                .is_empty(),
            "{input}"
        );
    }
}

#[tokio::test]
async fn categories_and_collections_are_isolated_by_tenant() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "tax-a").await;
    let (b, b_admin) = tenant(&t, "tax-b").await;
    let home = category(&t, &a_admin, "home", None).await;
    let pan = product(&t, &a_admin, "pan").await.to_string();
    run(
        &t,
        &a_admin,
        "mutation($p: ID!, $c: [ID!]!) { productCategoriesSet(input: { productId: $p, categoryIds: $c }) { userErrors { code } } }",
        json!({ "p": pan, "c": [home] }),
    )
    .await;
    let collection = run(
        &t,
        &a_admin,
        "mutation { collectionCreate(input: { title: \"Sale\", handle: \"sale\" }) { collection { id } } }",
        json!({}),
    )
    .await["collectionCreate"]["collection"]["id"]
        .clone();
    run(
        &t,
        &a_admin,
        "mutation($c: ID!, $p: ID!) { collectionProductsAdd(input: { collectionId: $c, productIds: [$p] }) { userErrors { code } } }",
        json!({ "c": collection, "p": pan }),
    )
    .await;
    for table in [
        "catalog.categories",
        "catalog.product_categories",
        "catalog.collections",
        "catalog.collection_products",
    ] {
        assert_eq!(t.visible_rows(table, None).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(b.id)).await, 0, "{table}");
        assert_eq!(t.visible_rows(table, Some(a.id)).await, 1, "{table}");
    }
    // B cannot read, move, file under or fill A's category and collection.
    let r = run(
        &t,
        &b_admin,
        "query($id: ID!) { category(id: $id) { handle } collection(handle: \"sale\") { id } }",
        json!({ "id": home }),
    )
    .await;
    assert_eq!(r, json!({ "category": null, "collection": null }));
    let b_home = category(&t, &b_admin, "home", None).await;
    let r = run(&t, &b_admin, MOVE, json!({ "id": b_home, "parent": home })).await;
    assert_eq!(r["categoryMove"]["userErrors"][0]["code"], "INVALID_PARENT");
    let r = run(
        &t,
        &b_admin,
        CREATE,
        json!({ "input": { "name": "x", "handle": "x", "parentId": home } }),
    )
    .await;
    assert_eq!(
        r["categoryCreate"]["userErrors"][0]["code"],
        "INVALID_PARENT"
    );
    let r = run(
        &t,
        &b_admin,
        "mutation($c: ID!, $p: ID!) { collectionProductsAdd(input: { collectionId: $c, productIds: [$p] }) { userErrors { code } } }",
        json!({ "c": collection, "p": pan }),
    )
    .await;
    assert_eq!(
        r["collectionProductsAdd"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        t.visible_rows("catalog.collection_products", Some(a.id))
            .await,
        1
    );
}

#[tokio::test]
async fn reading_the_tree_costs_per_level_not_per_category() {
    let t = test_db().await;
    let (_, admin) = tenant(&t, "wide").await;
    let schema = build_schema(Some(&t.platform));
    let q = "{ categories { handle children { handle children { handle } } } }";
    let mut trips = Vec::new();
    for width in [2, 4] {
        // A tree `width` wide at each of three levels (under a fresh set of roots each time).
        for r in 0..width {
            let root = category(&t, &admin, &format!("w{width}-r{r}"), None).await;
            for c in 0..width {
                let child = category(&t, &admin, &format!("w{width}-r{r}-c{c}"), Some(&root)).await;
                category(&t, &admin, &format!("w{width}-r{r}-c{c}-g"), Some(&child)).await;
            }
        }
        let before = t.db().round_trips();
        let r = t.graphql::<Catalog>(&schema, &admin, q, json!({})).await;
        assert!(r.get("errors").is_none(), "{r}");
        trips.push(t.db().round_trips() - before);
    }
    assert_eq!(
        trips[0], trips[1],
        "round trips for widths 2 and 4: {trips:?}"
    );
}
