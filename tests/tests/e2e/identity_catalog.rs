//! End-to-end: every request goes through the real router to real subgraph processes on a real
//! PostgreSQL, as a storefront or admin client would send it.

use cityos_auth::{AccessClaims, TokenKeys};
use cityos_e2e::{ADMIN_EMAIL, Stack};
use serde_json::{Value, json};

use cityos_e2e::fixtures::{bearer, create_product, create_tenant, headers, platform_token};
use cityos_e2e::operations::{catalog, identity};

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

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_and_tenants_are_refused() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "shop").await;

    let keys = TokenKeys::new(stack.jwt_secret.as_bytes().to_vec()).expect("keys");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let claims = |exp| AccessClaims {
        sub: cityos_core::ids::UserId::new(),
        tid: cityos_server::context::PLATFORM_TENANT_ID,
        roles: vec!["PLATFORM_ADMIN".into()],
        iat: now - 3600,
        exp,
    };
    let expired = keys.issue(&claims(now - 60));
    let foreign = TokenKeys::new(vec![42u8; 32])
        .expect("keys")
        .issue(&claims(now + 600));
    for token in ["garbage", "a.b.c", expired.as_str(), foreign.as_str()] {
        let r = stack
            .gql(
                &[("authorization", &bearer(token))],
                "{ me { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            r.error_code(),
            Some("UNAUTHENTICATED"),
            "{token}: {}",
            r.body
        );
    }
    let r = stack
        .gql(&[("x-publishable-key", "pk_nonsense")], PRODUCTS, json!({}))
        .await;
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
    let r = stack
        .gql(&[("x-tenant", "no-such-tenant")], PRODUCTS, json!({}))
        .await;
    assert_eq!(r.error_code(), Some("TENANT_NOT_FOUND"));
    let r = stack.gql(&[], PRODUCTS, json!({})).await;
    assert_eq!(r.error_code(), Some("TENANT_REQUIRED"));
    let r = stack
        .gql(
            &[("x-publishable-key", &shop.key)],
            "mutation { productCreate(input: { title: \"x\", handle: \"x\" }) { product { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));

    // Same answer for a wrong password and an unknown email.
    let wrong = stack
        .gql(
            &[("x-tenant", "shop")],
            identity::SIGN_IN.text,
            json!({ "input": { "email": "admin@shop.test", "password": "nope-nope" } }),
        )
        .await;
    let unknown = stack
        .gql(
            &[("x-tenant", "shop")],
            identity::SIGN_IN.text,
            json!({ "input": { "email": "ghost@shop.test", "password": "nope-nope" } }),
        )
        .await;
    assert_eq!(wrong.data(), unknown.data());
    assert_eq!(
        wrong.data()["signIn"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );

    // A suspended tenant's requests are refused, in every subgraph, until it is reactivated.
    let suspend = "mutation($id: ID!, $s: TenantStatus!) { tenantUpdate(input: { id: $id, status: $s }) { tenant { status } userErrors { code } } }";
    let r = stack
        .gql(
            &headers(&shop.staff()),
            suspend,
            json!({ "id": shop.id, "s": "SUSPENDED" }),
        )
        .await;
    assert_eq!(
        r.error_code(),
        Some("FORBIDDEN"),
        "tenant admins cannot suspend: {}",
        r.body
    );
    let r = stack
        .gql(
            &[("authorization", &bearer(&platform))],
            suspend,
            json!({ "id": shop.id, "s": "SUSPENDED" }),
        )
        .await;
    assert_eq!(r.data()["tenantUpdate"]["tenant"]["status"], "SUSPENDED");
    for query in [PRODUCTS, "{ currentTenant { id } }"] {
        let r = stack
            .gql(&[("x-publishable-key", &shop.key)], query, json!({}))
            .await;
        assert_eq!(r.error_code(), Some("TENANT_SUSPENDED"), "{}", r.body);
    }
    let r = stack
        .gql(
            &[("authorization", &bearer(&platform))],
            suspend,
            json!({ "id": shop.id, "s": "ACTIVE" }),
        )
        .await;
    assert_eq!(r.data()["tenantUpdate"]["tenant"]["status"], "ACTIVE");
    assert_eq!(
        stack
            .gql(&[("x-publishable-key", &shop.key)], PRODUCTS, json!({}))
            .await
            .data()["products"]["totalCount"],
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_hold_and_duplicates_change_nothing() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "limits").await;
    create_product(&stack, &shop, "only-one", "PUBLISHED").await;

    // Duplicate handle: a user error, and still one product.
    let r = stack
        .gql(
            &headers(&shop.staff()),
            catalog::PRODUCT_CREATE.text,
            json!({ "input": { "title": "Again", "handle": "only-one" } }),
        )
        .await;
    assert_eq!(
        r.data()["productCreate"]["userErrors"],
        json!([{ "field": ["input", "handle"], "code": "HANDLE_TAKEN",
        "message": "another product already has the handle `only-one`" }])
    );
    assert_eq!(
        stack
            .gql(&headers(&shop.staff()), PRODUCTS, json!({}))
            .await
            .data()["products"]["totalCount"],
        1
    );

    // Duplicate email, differently cased: a user error, and the user list is unchanged.
    let users = "{ users(first: 10) { totalCount } }";
    let before = stack
        .gql(&headers(&shop.staff()), users, json!({}))
        .await
        .data()["users"]["totalCount"]
        .clone();
    let r = stack
        .gql(
            &[("x-publishable-key", &shop.key)],
            SIGN_UP,
            json!({ "input": { "email": "ADMIN@limits.test", "password": "whatever-pass" } }),
        )
        .await;
    assert_eq!(
        r.data()["customerSignUp"]["userErrors"][0]["code"],
        "EMAIL_TAKEN"
    );
    assert_eq!(r.data()["customerSignUp"]["accessToken"], Value::Null);
    assert_eq!(
        stack
            .gql(&headers(&shop.staff()), users, json!({}))
            .await
            .data()["users"]["totalCount"],
        before
    );

    // Too complex: the catalog prices a page at its size times its fields.
    let fields =
        "edges { node { id title handle description status createdAt updatedAt publishedAt } }";
    let heavy: String = (0..8)
        .map(|i| format!("p{i}: products(first: 100) {{ {fields} }} "))
        .collect();
    let r = stack
        .gql(
            &headers(&shop.staff()),
            &format!("{{ {heavy} }}"),
            json!({}),
        )
        .await;
    let message = r.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("complex"), "{}", r.body);

    // Too deep (checked by the subgraph itself) and too nested to parse (checked by the router).
    let mut deep = String::from("name");
    for _ in 0..14 {
        deep = format!("ofType {{ {deep} }}");
    }
    let r = stack
        .gql_subgraph(
            stack.subgraph_url("catalog"),
            &[],
            &format!("{{ __schema {{ types {{ fields {{ type {{ {deep} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nested too deep"),
        "{}",
        r.body
    );
    let nested = format!("{}{}", "{ a ".repeat(300), "}".repeat(300));
    let r = stack.gql(&[], &nested, json!({})).await;
    assert!(
        r.body.get("errors").is_some() && r.body["data"].is_null(),
        "{}",
        r.body
    );

    // An oversized body is refused by the router before anything runs.
    let huge = json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(1_100_000) } })
        .to_string();
    assert_eq!(stack.post(&stack.url, &[], huge).await.status, 413);

    // Subgraphs refuse anyone who skips the router.
    let direct = stack
        .post(
            stack.subgraph_url("catalog"),
            &[("x-publishable-key", &shop.key)],
            json!({ "query": PRODUCTS }).to_string(),
        )
        .await;
    assert_eq!(direct.status, 403);
    assert_eq!(direct.error_code(), Some("FORBIDDEN"));
    let wrong = stack
        .post(
            stack.subgraph_url("identity"),
            &[("router-authorization", "guess")],
            json!({ "query": "{ me { id } }" }).to_string(),
        )
        .await;
    assert_eq!(wrong.status, 403);
}

/// What a hostile client tries first: control characters in every kind of text argument, queries
/// past the limits, and foreign or made-up ids as group members. Each is refused with a code, and
/// nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_input_is_refused_with_a_code_and_changes_nothing() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "hostile").await;
    let other = create_tenant(&stack, &platform, "elsewhere").await;
    create_product(&stack, &shop, "oud-perfume", "PUBLISHED").await;
    let staff = shop.staff();
    let staff = headers(&staff);
    let key = [("x-publishable-key", shop.key.as_str())];
    let cart = stack
        .gql(
            &key,
            "mutation { cartCreate(input: {}) { cart { id } } }",
            json!({}),
        )
        .await;
    let cart = cart.data()["cartCreate"]["cart"]["id"].clone();

    let nul = "Oud\u{0}";
    type Try<'a> = (&'a [(&'a str, &'a str)], &'a str, Value);
    let tries: Vec<Try> = vec![
        (
            &staff,
            catalog::PRODUCT_CREATE.text,
            json!({ "input": { "title": nul, "handle": "nul-title" } }),
        ),
        (
            &staff,
            catalog::PRODUCT_CREATE.text,
            json!({ "input": { "title": "Tags", "handle": "nul-tag", "tags": ["ok", "ba\u{0}d"] } }),
        ),
        (
            &staff,
            catalog::PRODUCT_CREATE.text,
            json!({ "input": { "title": "Bell\u{7}", "handle": "bell-title" } }),
        ),
        (
            &staff,
            "mutation { productCreate(input: { title: \"Oud\\u0000\", handle: \"literal-nul\" }) { product { id } } }",
            json!({}),
        ),
        (
            &key,
            "query($q: String!) { products(first: 5, filter: { query: $q }) { totalCount } }",
            json!({ "q": nul }),
        ),
        (
            &key,
            "query($h: String!) { product(handle: $h) { id } }",
            json!({ "h": "oud-perfume\u{0}" }),
        ),
        (
            &key,
            "query($s: String!) { tenant(slug: $s) { id } }",
            json!({ "s": "hostile\u{0}" }),
        ),
        (
            &key,
            "mutation($c: ID!) { cartUpdate(input: { cartId: $c, shippingAddress: { firstName: \"Sara\", lastName: \"Harbi\", line1: \"King Fahd Road\\u0000\", city: \"Riyadh\", countryCode: \"SA\" } }) { userErrors { code } } }",
            json!({ "c": cart }),
        ),
    ];
    for (headers, query, variables) in tries {
        let r = stack.gql(headers, query, variables.clone()).await;
        assert_eq!(
            r.error_code(),
            Some("BAD_USER_INPUT"),
            "{query} {variables}: {}",
            r.body
        );
    }
    let r = stack
        .gql(
            &[("authorization", &bearer(&platform))],
            "query($s: String!) { tenant(slug: $s) { id } }",
            json!({ "s": "\u{0}" }),
        )
        .await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);
    // Nothing was created, and the cart kept no address.
    let listed = stack.gql(&staff, PRODUCTS, json!({})).await;
    assert_eq!(handles(&listed.data()["products"]), ["oud-perfume"]);
    let r = stack
        .gql(
            &key,
            "query($c: ID!) { cart(id: $c) { shippingAddress { line1 } } }",
            json!({ "c": cart }),
        )
        .await;
    assert_eq!(r.data()["cart"]["shippingAddress"], Value::Null);

    // Past the catalog's depth limit: refused before anything runs, with a code.
    let deep = "{ categories { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }";
    let r = stack.gql(&key, deep, json!({})).await;
    assert_eq!(r.error_code(), Some("BAD_USER_INPUT"), "{}", r.body);

    // Group members are customers of the tenant: not another tenant's, not staff, not made up.
    let group = stack
        .gql(&staff, "mutation { customerGroupCreate(input: { name: \"Wholesale\" }) { customerGroup { id } } }", json!({}))
        .await;
    let group = group.data()["customerGroupCreate"]["customerGroup"]["id"].clone();
    let sign_up = async |tenant: &cityos_e2e::fixtures::Tenant, email: &str| {
        let r = stack
            .gql(
                &[("x-publishable-key", tenant.key.as_str())],
                SIGN_UP,
                json!({ "input": { "email": email, "password": "customer-pass" } }),
            )
            .await;
        r.data()["customerSignUp"]["user"]["id"].clone()
    };
    let ours = sign_up(&shop, "sara@example.com").await;
    let theirs = sign_up(&other, "omar@example.com").await;
    let add = "mutation($g: ID!, $c: [ID!]!) { customerGroupMembersAdd(input: { groupId: $g, customerIds: $c }) {
        customerGroup { members(first: 10) { totalCount edges { node { id email } } } } userErrors { field code } } }";
    let admin = stack.gql(&staff, "{ me { id } }", json!({})).await.data()["me"]["id"].clone();
    for stranger in [theirs, json!("0190f1a2-0000-7000-8000-000000000000"), admin] {
        let r = stack
            .gql(&staff, add, json!({ "g": group, "c": [ours, stranger] }))
            .await;
        assert_eq!(
            r.data()["customerGroupMembersAdd"]["userErrors"],
            json!([{ "field": ["input", "customerIds"], "code": "UNKNOWN_CUSTOMER" }]),
            "{}",
            r.body
        );
    }
    let r = stack
        .gql(&staff, add, json!({ "g": group, "c": [ours] }))
        .await;
    assert_eq!(
        r.data()["customerGroupMembersAdd"]["customerGroup"]["members"],
        json!({ "totalCount": 1, "edges": [{ "node": { "id": ours, "email": "sara@example.com" } }] })
    );

    // A user reference nobody can resolve is an error, never a silent null.
    let r = stack
        .gql_subgraph(
            stack.subgraph_url("identity"),
            &staff,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }",
            json!({ "r": [{ "__typename": "User", "id": "0190f1a2-0000-7000-8000-000000000000" }] }),
        )
        .await;
    assert_eq!(r.error_code(), Some("NOT_FOUND"), "{}", r.body);
}
