//! What the router refuses: bad credentials and tenants, limits and duplicates, hostile input; each
//! with a code, each changing nothing.

use super::{PRODUCTS, SIGN_UP, handles};
use cityos_auth::{AccessClaims, TokenKeys};
use cityos_e2e::Stack;
use cityos_e2e::fixtures::{bearer, create_product, create_tenant, headers, platform_token};
use cityos_e2e::operations::{catalog, identity};
use serde_json::{Value, json};

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
