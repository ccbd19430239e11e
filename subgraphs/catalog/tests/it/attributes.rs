//! Product lifecycle, attributes (type, tags, metadata, vendor) and media, through GraphQL.

use crate::common::{tenant, test_db};
use catalog::ids::TenantId;
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, RequestContext, TenantInfo};
use cityos_testkit::{TestDb, context};
use serde_json::{Value, json};
use uuid::Uuid;

fn storefront(info: &TenantInfo) -> RequestContext {
    context(
        Some(info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    )
}

const CREATE: &str = "mutation($input: ProductCreateInput!) { productCreate(input: $input) {
    product { id handle status productType tags metadata vendor { id } archivedAt }
    userErrors { field code message } } }";
const UPDATE: &str = "mutation($input: ProductUpdateInput!) { productUpdate(input: $input) {
    product { id status productType tags metadata vendor { id } archivedAt publishedAt }
    userErrors { field code message } } }";

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

async fn audit_count(t: &TestDb, tenant: TenantId) -> i64 {
    t.visible_rows("identity.audit_log", Some(tenant)).await
}

#[tokio::test]
async fn the_lifecycle_allows_only_its_transitions() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "life").await;
    let created = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": { "title": "Oud", "handle": "oud", "status": "PUBLISHED" } }),
    )
    .await;
    let id = created["productCreate"]["product"]["id"].clone();
    let listed = "{ products { totalCount } product(handle: \"oud\") { status } }";
    let shop = storefront(&info);
    assert_eq!(
        run(&t, &shop, listed, json!({})).await["products"]["totalCount"],
        1
    );

    // PUBLISHED -> ARCHIVED: gone from the storefront, kept for staff, with its archive time.
    let archived = run(
        &t,
        &admin,
        UPDATE,
        json!({ "input": { "id": id, "status": "ARCHIVED" } }),
    )
    .await;
    let product = &archived["productUpdate"]["product"];
    assert_eq!(product["status"], "ARCHIVED");
    assert!(product["archivedAt"].is_string());
    assert!(product["publishedAt"].is_null());
    let seen = run(&t, &shop, listed, json!({})).await;
    assert_eq!(
        seen,
        json!({ "products": { "totalCount": 0 }, "product": null })
    );
    assert_eq!(
        run(&t, &admin, listed, json!({})).await["product"]["status"],
        "ARCHIVED"
    );

    // ARCHIVED -> PUBLISHED is refused and changes nothing (no audit row either).
    let before = audit_count(&t, info.id).await;
    let refused = run(
        &t,
        &admin,
        UPDATE,
        json!({ "input": { "id": id, "status": "PUBLISHED", "title": "New" } }),
    )
    .await;
    assert_eq!(refused["productUpdate"]["product"], Value::Null);
    assert_eq!(
        refused["productUpdate"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
    assert_eq!(
        refused["productUpdate"]["userErrors"][0]["field"],
        json!(["input", "status"])
    );
    assert_eq!(audit_count(&t, info.id).await, before);
    assert_eq!(
        run(&t, &admin, listed, json!({})).await["product"]["status"],
        "ARCHIVED"
    );

    // ARCHIVED -> DRAFT -> PUBLISHED brings it back.
    for status in ["DRAFT", "PUBLISHED"] {
        let r = run(
            &t,
            &admin,
            UPDATE,
            json!({ "input": { "id": id, "status": status } }),
        )
        .await;
        assert_eq!(r["productUpdate"]["product"]["status"], status);
        assert!(r["productUpdate"]["product"]["archivedAt"].is_null());
    }
    assert_eq!(
        run(&t, &shop, listed, json!({})).await["products"]["totalCount"],
        1
    );

    // A product cannot be born archived.
    let born = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": { "title": "Old", "handle": "old", "status": "ARCHIVED" } }),
    )
    .await;
    assert_eq!(
        born["productCreate"]["userErrors"][0]["code"],
        "INVALID_TRANSITION"
    );
}

#[tokio::test]
async fn type_tags_metadata_and_vendor_are_checked_and_kept() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "attrs").await;
    let vendor = cityos_fixtures::approved_vendor(&t, &info)
        .await
        .to_string();
    let created = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": {
            "title": "Oud", "handle": "oud", "status": "PUBLISHED", "productType": " Perfume ",
            "tags": ["Oud", " gift ", "OUD", "Ramadan"], "metadata": { "origin": "Cambodia", "ml": 50 },
            "vendorId": vendor
        } }),
    )
    .await;
    let product = &created["productCreate"]["product"];
    assert_eq!(product["productType"], "Perfume");
    assert_eq!(product["tags"], json!(["oud", "gift", "ramadan"]));
    assert_eq!(
        product["metadata"],
        json!({ "origin": "Cambodia", "ml": 50 })
    );
    assert_eq!(product["vendor"]["id"], vendor);
    let id = product["id"].clone();

    // Each rule refuses with its code and field, and changes nothing.
    let long_tag = "x".repeat(51);
    let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let big = json!({ "blob": "x".repeat(17 * 1024) });
    for (input, field, code) in [
        (json!({ "tags": [long_tag] }), "tags", "INVALID_TAGS"),
        (json!({ "tags": [" "] }), "tags", "INVALID_TAGS"),
        (json!({ "tags": many }), "tags", "INVALID_TAGS"),
        (
            json!({ "metadata": [1, 2] }),
            "metadata",
            "INVALID_METADATA",
        ),
        (json!({ "metadata": big }), "metadata", "INVALID_METADATA"),
        (
            json!({ "productType": "p".repeat(101) }),
            "productType",
            "INVALID_PRODUCT_TYPE",
        ),
    ] {
        let mut input = input;
        input["id"] = id.clone();
        let r = run(&t, &admin, UPDATE, json!({ "input": input })).await;
        let errors = &r["productUpdate"]["userErrors"];
        assert_eq!(errors[0]["code"], code, "{input}");
        assert_eq!(errors[0]["field"], json!(["input", field]), "{input}");
    }
    let kept = run(
        &t,
        &admin,
        "{ product(handle: \"oud\") { productType tags metadata } }",
        json!({}),
    )
    .await;
    assert_eq!(kept["product"]["tags"], json!(["oud", "gift", "ramadan"]));
    assert_eq!(kept["product"]["productType"], "Perfume");

    // Nulls clear the type and the vendor; the storefront reads the same fields.
    let cleared = run(
        &t,
        &admin,
        UPDATE,
        json!({ "input": { "id": id, "productType": null, "vendorId": null, "tags": [] } }),
    )
    .await;
    let product = &cleared["productUpdate"]["product"];
    assert_eq!(
        (
            product["productType"].clone(),
            product["vendor"].clone(),
            product["tags"].clone()
        ),
        (Value::Null, Value::Null, json!([]))
    );
    let seen = run(
        &t,
        &storefront(&info),
        "{ product(handle: \"oud\") { metadata vendor { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(seen["product"]["metadata"]["origin"], "Cambodia");
}

#[tokio::test]
async fn vendors_list_their_products_to_the_caller() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "market").await;
    let a = cityos_fixtures::approved_vendor(&t, &info)
        .await
        .to_string();
    let b = cityos_fixtures::approved_vendor(&t, &info)
        .await
        .to_string();
    for (handle, vendor, status) in [
        ("a-1", &a, "PUBLISHED"),
        ("a-2", &a, "PUBLISHED"),
        ("a-3", &a, "DRAFT"),
        ("b-1", &b, "PUBLISHED"),
        ("own", &String::new(), "PUBLISHED"),
    ] {
        let mut input = json!({ "title": handle, "handle": handle, "status": status });
        if !vendor.is_empty() {
            input["vendorId"] = json!(vendor);
        }
        run(&t, &admin, CREATE, json!({ "input": input })).await;
    }
    let q = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Vendor { id
        products(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { handle vendor { id } variants { sku } } } } } } }";
    let reps =
        json!({ "r": [{ "__typename": "Vendor", "id": a }, { "__typename": "Vendor", "id": b }] });
    let shop = run(&t, &storefront(&info), q, reps.clone()).await;
    let vendors = &shop["_entities"];
    assert_eq!(vendors[0]["products"]["totalCount"], 2);
    assert_eq!(vendors[0]["products"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(vendors[0]["products"]["edges"][0]["node"]["handle"], "a-1");
    assert_eq!(
        vendors[0]["products"]["edges"][0]["node"]["vendor"]["id"],
        a
    );
    assert_eq!(vendors[1]["products"]["totalCount"], 1);
    // Staff see the vendor's draft too; the next page follows the cursor.
    let staff = run(&t, &admin, q, reps).await;
    assert_eq!(staff["_entities"][0]["products"]["totalCount"], 3);
    let next =
        "query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on Vendor {
        products(first: 5, after: $after) { totalCount edges { node { handle } } } } } }";
    let cursor = staff["_entities"][0]["products"]["pageInfo"]["endCursor"].clone();
    let rest = run(
        &t,
        &admin,
        next,
        json!({ "r": [{ "__typename": "Vendor", "id": a }], "after": cursor }),
    )
    .await;
    let handles: Vec<&str> = rest["_entities"][0]["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["handle"].as_str().expect("handle"))
        .collect();
    assert_eq!(handles, ["a-2", "a-3"]);
}

#[tokio::test]
async fn media_are_ordered_checked_and_isolated() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "media").await;
    let (other, other_admin) = tenant(&t, "media-b").await;
    let created = run(
        &t,
        &admin,
        CREATE,
        json!({ "input": { "title": "Oud", "handle": "oud", "status": "PUBLISHED" } }),
    )
    .await;
    let id = created["productCreate"]["product"]["id"].clone();
    let add = "mutation($input: ProductMediaAddInput!) { productMediaAdd(input: $input) {
        media { id url altText position } userErrors { field code } } }";
    for (url, position) in [
        ("https://cdn.test/1.jpg", None),
        ("https://cdn.test/2.jpg", None),
        ("https://cdn.test/0.jpg", Some(0)),
    ] {
        let mut input = json!({ "productId": id, "url": url, "altText": "Oud bottle" });
        if let Some(p) = position {
            input["position"] = json!(p);
        }
        let r = run(&t, &admin, add, json!({ "input": input })).await;
        assert_eq!(r["productMediaAdd"]["userErrors"], json!([]));
    }
    let urls = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("media")
            .iter()
            .map(|m| {
                m["url"]
                    .as_str()
                    .expect("url")
                    .rsplit('/')
                    .next()
                    .expect("name")
                    .to_owned()
            })
            .collect()
    };
    // The storefront listing shows them in order (from the product's card).
    let listed = run(
        &t,
        &storefront(&info),
        "{ products { edges { node { media { url position } } } } }",
        json!({}),
    )
    .await;
    let media = &listed["products"]["edges"][0]["node"]["media"];
    assert_eq!(urls(media), ["0.jpg", "1.jpg", "2.jpg"]);
    assert_eq!(media[2]["position"], 2);

    // Move the last to the front, then remove the middle one: positions stay 0..n.
    let ids: Vec<Value> = run(
        &t,
        &admin,
        "{ product(handle: \"oud\") { media { id } } }",
        json!({}),
    )
    .await["product"]["media"]
        .as_array()
        .expect("media")
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    let update = "mutation($input: ProductMediaUpdateInput!) { productMediaUpdate(input: $input) {
        media { url position altText } userErrors { code } } }";
    let moved = run(
        &t,
        &admin,
        update,
        json!({ "input": { "id": ids[2], "position": 0, "altText": "Box" } }),
    )
    .await;
    assert_eq!(
        urls(&moved["productMediaUpdate"]["media"]),
        ["2.jpg", "0.jpg", "1.jpg"]
    );
    assert_eq!(moved["productMediaUpdate"]["media"][0]["altText"], "Box");
    let remove = "mutation($id: ID!) { productMediaRemove(input: { id: $id }) { media { url position } userErrors { code } } }";
    let removed = run(&t, &admin, remove, json!({ "id": ids[0] })).await;
    let media = &removed["productMediaRemove"]["media"];
    assert_eq!(urls(media), ["2.jpg", "1.jpg"]);
    assert_eq!(
        (media[0]["position"].clone(), media[1]["position"].clone()),
        (json!(0), json!(1))
    );

    // Bad input is refused and changes nothing.
    let before = t.visible_rows("catalog.product_media", Some(info.id)).await;
    for (input, code) in [
        (
            json!({ "productId": id, "url": "javascript:alert(1)" }),
            "INVALID_MEDIA",
        ),
        (
            json!({ "productId": id, "url": "https://cdn.test/x.jpg", "altText": "a".repeat(501) }),
            "INVALID_MEDIA",
        ),
        (
            json!({ "productId": id, "url": "https://cdn.test/x.jpg", "position": -1 }),
            "INVALID_MEDIA",
        ),
        (
            json!({ "productId": Uuid::now_v7().to_string(), "url": "https://cdn.test/x.jpg" }),
            "NOT_FOUND",
        ),
    ] {
        let r = run(&t, &admin, add, json!({ "input": input })).await;
        assert_eq!(
            r["productMediaAdd"]["userErrors"][0]["code"], code,
            "{input}"
        );
    }
    assert_eq!(
        t.visible_rows("catalog.product_media", Some(info.id)).await,
        before
    );

    // Row-level security: nothing without a tenant, nothing of A for B; B cannot touch A's media.
    assert_eq!(t.visible_rows("catalog.product_media", None).await, 0);
    assert_eq!(
        t.visible_rows("catalog.product_media", Some(other.id))
            .await,
        0
    );
    let r = run(&t, &other_admin, remove, json!({ "id": ids[1] })).await;
    assert_eq!(
        r["productMediaRemove"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let r = run(
        &t,
        &other_admin,
        add,
        json!({ "input": { "productId": id, "url": "https://cdn.test/b.jpg" } }),
    )
    .await;
    assert_eq!(r["productMediaAdd"]["userErrors"][0]["code"], "NOT_FOUND");
    assert_eq!(
        t.visible_rows("catalog.product_media", Some(info.id)).await,
        before
    );

    // Storefronts cannot write.
    let schema = build_schema(Some(&t.platform));
    let denied = t
        .graphql::<Catalog>(&schema, &storefront(&info), remove, json!({ "id": ids[1] }))
        .await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn products_compare_aligns_options_and_attributes() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "compare").await;
    let mut ids = Vec::new();
    for (handle, kind, metadata, status) in [
        (
            "oud",
            "Perfume",
            json!({ "origin": "Cambodia", "ml": 50 }),
            "PUBLISHED",
        ),
        ("musk", "Perfume", json!({ "origin": "Oman" }), "PUBLISHED"),
        ("draft", "Perfume", json!({ "secret": true }), "DRAFT"),
    ] {
        let created = run(
            &t,
            &admin,
            CREATE,
            json!({ "input": { "title": handle, "handle": handle, "status": status, "productType": kind,
                "tags": [handle], "metadata": metadata } }),
        )
        .await;
        ids.push(created["productCreate"]["product"]["id"].clone());
    }
    let option = "mutation($p: ID!, $n: String!, $v: [String!]!) { productOptionCreate(input: { productId: $p, name: $n, values: $v }) { userErrors { code } } }";
    run(
        &t,
        &admin,
        option,
        json!({ "p": ids[0], "n": "Size", "v": ["50ml", "100ml"] }),
    )
    .await;
    run(
        &t,
        &admin,
        option,
        json!({ "p": ids[1], "n": "Colour", "v": ["Amber"] }),
    )
    .await;

    let q = "query($ids: [ID!]!) { productsCompare(ids: $ids) { products { handle } rows { label kind values } } }";
    let compared = run(
        &t,
        &storefront(&info),
        q,
        json!({ "ids": [ids[1], ids[0], ids[2]] }),
    )
    .await;
    let c = &compared["productsCompare"];
    // The storefront does not see the draft: two products, in the order asked.
    assert_eq!(
        c["products"],
        json!([{ "handle": "musk" }, { "handle": "oud" }])
    );
    let row = |label: &str| -> Value {
        c["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["label"] == label)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(row("Product type")["values"], json!(["Perfume", "Perfume"]));
    assert_eq!(
        row("Size"),
        json!({ "label": "Size", "kind": "OPTION", "values": [null, "50ml, 100ml"] })
    );
    assert_eq!(row("Colour")["values"], json!(["Amber", null]));
    assert_eq!(
        row("metadata.origin")["values"],
        json!(["Oman", "Cambodia"])
    );
    assert_eq!(row("metadata.ml")["values"], json!([null, "50"]));
    assert_eq!(row("metadata.secret"), Value::Null);
    assert_eq!(row("Tags")["values"], json!(["musk", "oud"]));

    // Two to ten products.
    let schema = build_schema(Some(&t.platform));
    let one = t
        .graphql::<Catalog>(&schema, &admin, q, json!({ "ids": [ids[0]] }))
        .await;
    assert_eq!(one["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Typed ids are parsed before a resolver runs: in a list, a variable or a literal, a string
    // that is not an id is refused, and says which.
    for (query, vars) in [
        (q, json!({ "ids": [ids[0], "nope"] })),
        (
            "query($id: ID!) { product(id: $id) { id } }",
            json!({ "id": "nope" }),
        ),
        (
            "{ product(id: \"nope\") { id } category(id: \"1\") { id } }",
            json!({}),
        ),
    ] {
        let r = t.graphql::<Catalog>(&schema, &admin, query, vars).await;
        let error = &r["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{r}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("is not a valid id")),
            "{r}"
        );
    }
}
