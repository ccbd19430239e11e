//! End-to-end: every request goes through the real router to real subgraph processes on a real
//! PostgreSQL, as a storefront or admin client would send it.

mod refusals;

use cityos_e2e::{ADMIN_EMAIL, Stack};
use serde_json::{Value, json};

use cityos_e2e::fixtures::{bearer, create_product, create_tenant, headers, platform_token};

const SIGN_UP: &str = "mutation($input: CustomerSignUpInput!) {
  customerSignUp(input: $input) { accessToken refreshToken user { id email kind } userErrors { field code message } } }";
const PRODUCTS: &str = "{ products(first: 50) { totalCount edges { cursor node { id handle status } } pageInfo { hasNextPage } } }";

fn handles(products: &Value) -> Vec<String> {
    let mut h: Vec<String> = products["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["handle"].as_str().unwrap_or_default().to_owned())
        .collect();
    h.sort();
    h
}

#[tokio::test(flavor = "multi_thread")]
async fn storefront_journey_through_the_router() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let me = stack
        .gql(
            &[("authorization", &bearer(&platform))],
            "{ me { email kind roles tenant { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "email": ADMIN_EMAIL, "kind": "PLATFORM_ADMIN", "roles": ["PLATFORM_ADMIN"], "tenant": null })
    );

    let shop = create_tenant(&stack, &platform, "dakkah").await;
    create_product(&stack, &shop, "draft-lamp", "DRAFT").await;
    create_product(&stack, &shop, "oud-perfume", "PUBLISHED").await;
    create_product(&stack, &shop, "dates-box", "PUBLISHED").await;

    // A customer signs up through the storefront's publishable key.
    let key = [("x-publishable-key", shop.key.as_str())];
    let r = stack
        .gql(&key, SIGN_UP, json!({ "input": { "email": "Sara@Example.com", "password": "customer-pass", "firstName": "Sara" } }))
        .await;
    let signed_up = &r.data()["customerSignUp"];
    assert_eq!(signed_up["user"]["email"], "sara@example.com");
    let customer = signed_up["accessToken"]
        .as_str()
        .expect("customer token")
        .to_owned();
    let refresh = signed_up["refreshToken"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    let me = stack
        .gql(
            &[("authorization", &bearer(&customer))],
            "{ me { email kind roles tenant { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "email": "sara@example.com", "kind": "CUSTOMER", "roles": ["CUSTOMER"], "tenant": { "slug": "dakkah" } })
    );

    // The storefront sees exactly the published products; staff see all three.
    let listed = stack.gql(&key, PRODUCTS, json!({})).await;
    assert_eq!(
        handles(&listed.data()["products"]),
        ["dates-box", "oud-perfume"]
    );
    assert_eq!(listed.data()["products"]["totalCount"], 2);
    let staff_list = stack
        .gql(&headers(&shop.staff()), PRODUCTS, json!({}))
        .await;
    assert_eq!(staff_list.data()["products"]["totalCount"], 3);
    let draft = stack
        .gql(
            &key,
            "{ product(handle: \"draft-lamp\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(draft.data()["product"], Value::Null);

    // One query, two subgraphs: the tenant from identity, its products from the catalog.
    let crossed = stack
        .gql(&key, "{ tenant(slug: \"dakkah\") { name defaultCurrency products(first: 10) { totalCount edges { node { handle } } } } }", json!({}))
        .await;
    let tenant = &crossed.data()["tenant"];
    assert_eq!(tenant["defaultCurrency"], "SAR");
    assert_eq!(handles(&tenant["products"]), ["dates-box", "oud-perfume"]);

    // Paging: one at a time, following the cursor.
    let first = stack.gql(&key, "{ products(first: 1) { edges { cursor node { handle } } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    let page = &first.data()["products"];
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let next = stack
        .gql(&key, "query($a: String) { products(first: 1, after: $a) { edges { node { handle } } pageInfo { hasNextPage } } }", json!({ "a": page["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(next.data()["products"]["pageInfo"]["hasNextPage"], false);
    assert_ne!(
        next.data()["products"]["edges"][0]["node"]["handle"],
        page["edges"][0]["node"]["handle"]
    );

    // Search through the router: full text (stemmed: "perfumes") with facet counts, and
    // autocomplete that forgives a typo. Drafts stay hidden from both.
    let found = stack
        .gql(&key, "{ products(filter: { query: \"perfumes\" }) { totalCount edges { node { handle } } facets { inStock } }
            productSuggestions(query: \"dats\") { product { handle } } }", json!({}))
        .await;
    assert_eq!(handles(&found.data()["products"]), ["oud-perfume"]);
    assert_eq!(found.data()["products"]["facets"]["inStock"], 0);
    assert_eq!(
        found.data()["productSuggestions"],
        json!([{ "product": { "handle": "dates-box" } }])
    );
    let hidden = stack
        .gql(
            &key,
            "{ productSuggestions(query: \"lamp\") { product { handle } } }",
            json!({}),
        )
        .await;
    assert_eq!(hidden.data()["productSuggestions"], json!([]));

    // Refresh tokens rotate: the new one works, the old one is refused afterwards.
    let refresh_q = "mutation($t: String!) { tokenRefresh(input: { refreshToken: $t }) { accessToken refreshToken userErrors { code } } }";
    let rotated = stack.gql(&[], refresh_q, json!({ "t": refresh })).await;
    let new_refresh = rotated.data()["tokenRefresh"]["refreshToken"]
        .as_str()
        .expect("rotated token")
        .to_owned();
    assert_ne!(new_refresh, refresh);
    let replay = stack.gql(&[], refresh_q, json!({ "t": refresh })).await;
    assert_eq!(
        replay.data()["tokenRefresh"]["userErrors"][0]["code"],
        "INVALID_REFRESH_TOKEN"
    );
    // Replaying a used token revoked its family: the newest token is dead too.
    let after_theft = stack.gql(&[], refresh_q, json!({ "t": new_refresh })).await;
    assert_eq!(
        after_theft.data()["tokenRefresh"]["userErrors"][0]["code"],
        "INVALID_REFRESH_TOKEN"
    );

    // A storefront domain selects its tenant by the Host header (forwarded by the router's script).
    let add = "mutation { tenantDomainAdd(input: { host: \"Shop.Dakkah.Test\" }) { domain { host } userErrors { code } } }";
    let r = stack.gql(&headers(&shop.staff()), add, json!({})).await;
    assert_eq!(
        r.data()["tenantDomainAdd"]["domain"]["host"],
        "shop.dakkah.test"
    );
    let by_host = stack
        .gql(
            &[("host", "shop.dakkah.test:4000")],
            "{ currentTenant { slug } products { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(by_host.data()["currentTenant"]["slug"], "dakkah");
    assert_eq!(by_host.data()["products"]["totalCount"], 2);
    let unknown_host = stack
        .gql(
            &[("host", "elsewhere.test")],
            "{ currentTenant { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(
        unknown_host.error_code(),
        Some("TENANT_REQUIRED"),
        "{}",
        unknown_host.body
    );

    // Admin mutations left audit rows.
    let audit = stack
        .gql(
            &headers(&shop.staff()),
            "{ auditEvents(first: 50) { edges { node { action entityType } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = audit.data()["auditEvents"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "api_key.create",
            "product.create",
            "product.create",
            "product.create",
            "tenant.domain.add"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_cannot_reach_each_other() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let a = create_tenant(&stack, &platform, "tenant-a").await;
    let b = create_tenant(&stack, &platform, "tenant-b").await;
    let a_product = create_product(&stack, &a, "a-secret", "PUBLISHED").await;
    create_product(&stack, &b, "b-public", "PUBLISHED").await;

    let by_id = "query($id: ID!) { product(id: $id) { id } }";
    let b_staff = b.staff();
    for h in [
        vec![("x-publishable-key", b.key.as_str())],
        headers(&b_staff),
    ] {
        let r = stack.gql(&h, by_id, json!({ "id": a_product })).await;
        assert_eq!(r.data()["product"], Value::Null);
        let r = stack
            .gql(&h, "{ product(handle: \"a-secret\") { id } }", json!({}))
            .await;
        assert_eq!(r.data()["product"], Value::Null);
        let r = stack.gql(&h, PRODUCTS, json!({})).await;
        assert_eq!(handles(&r.data()["products"]), ["b-public"]);
        let r = stack
            .gql(&h, "{ tenant(slug: \"tenant-a\") { id } }", json!({}))
            .await;
        assert_eq!(r.data()["tenant"], Value::Null);
    }

    // Updating A's product as B's admin finds nothing and changes nothing.
    let update = "mutation($id: ID!) { productUpdate(input: { id: $id, title: \"pwned\" }) { product { id } userErrors { code } } }";
    let r = stack
        .gql(&headers(&b.staff()), update, json!({ "id": a_product }))
        .await;
    assert_eq!(
        r.data()["productUpdate"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    let r = stack
        .gql(
            &headers(&a.staff()),
            "query($id: ID!) { product(id: $id) { title } }",
            json!({ "id": a_product }),
        )
        .await;
    assert_eq!(r.data()["product"]["title"], "a-secret");

    // B's admin cannot see A's users or keys, nor revoke A's key.
    let r = stack
        .gql(
            &headers(&a.staff()),
            "{ apiKeys { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let a_key = r.data()["apiKeys"]["edges"][0]["node"]["id"].clone();
    let r = stack
        .gql(
            &headers(&b.staff()),
            "{ users { edges { node { email } } } apiKeys { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["users"]["edges"],
        json!([{ "node": { "email": "admin@tenant-b.test" } }])
    );
    assert_eq!(r.data()["apiKeys"]["totalCount"], 1);
    let revoke = "mutation($id: ID!) { apiKeyRevoke(input: { id: $id }) { apiKey { id } userErrors { code } } }";
    let r = stack
        .gql(&headers(&b.staff()), revoke, json!({ "id": a_key }))
        .await;
    assert_eq!(
        r.data()["apiKeyRevoke"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    assert_eq!(
        stack
            .gql(&[("x-publishable-key", &a.key)], PRODUCTS, json!({}))
            .await
            .data()["products"]["totalCount"],
        1
    );

    // B's token (or key) with A selected is refused outright.
    let r = stack
        .gql(
            &[
                ("authorization", &bearer(&b.admin_token)),
                ("x-tenant", "tenant-a"),
            ],
            PRODUCTS,
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
    let r = stack
        .gql(
            &[("x-publishable-key", &b.key), ("x-tenant", "tenant-a")],
            PRODUCTS,
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);

    // Entity resolution (what the router asks subgraphs) stays inside the caller's tenant.
    let entities =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id title } } }";
    let reps = json!({ "r": [{ "__typename": "Product", "id": a_product }] });
    let r = stack
        .gql_subgraph(
            stack.subgraph_url("catalog"),
            &[("x-publishable-key", &b.key)],
            entities,
            reps.clone(),
        )
        .await;
    assert_eq!(r.data()["_entities"], json!([null]));
    let r = stack
        .gql_subgraph(
            stack.subgraph_url("catalog"),
            &[("x-publishable-key", &a.key)],
            entities,
            reps,
        )
        .await;
    assert_eq!(r.data()["_entities"][0]["title"], "a-secret");
    let tenant_products = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { products { totalCount } } } }";
    let r = stack
        .gql_subgraph(
            stack.subgraph_url("catalog"),
            &[("x-publishable-key", &b.key)],
            tenant_products,
            json!({ "r": [{ "__typename": "Tenant", "id": a.id }] }),
        )
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
}
