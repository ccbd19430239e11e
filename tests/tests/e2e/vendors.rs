//! End-to-end through the router and running processes: a customer applies as a vendor, acts for
//! it with `x-vendor-id` (checked against its team by the subgraph's request context), submits its
//! documents; staff accept them and approve; the approval reaches the catalog as
//! `vendor.approved`, so the vendor's product is listed and names its vendor, which the vendors
//! subgraph resolves. Suspension hides the product from storefronts and carts, reinstatement brings
//! it back. A non-member naming the vendor, another tenant's user, and a removed member are
//! refused.

use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    Tenant, bearer, create_location, create_stocked_product, create_tenant, headers, platform_token,
};
use cityos_e2e::operations::{catalog, identity, orders, vendors};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Signs a customer up on `tenant`'s storefront and in; their access token and user id.
async fn customer(stack: &Stack, tenant: &Tenant, email: &str) -> (String, String) {
    let storefront = [("x-publishable-key", tenant.key.as_str())];
    let r = stack
        .op(
            &storefront,
            identity::CUSTOMER_SIGN_UP,
            json!({ "input": { "email": email, "password": "vendor-pass-1" } }),
        )
        .await;
    let user = r.data()["customerSignUp"]["user"]["id"]
        .as_str()
        .expect("user")
        .to_owned();
    let r = stack
        .op(
            &[("x-tenant", tenant.slug.as_str())],
            identity::SIGN_IN,
            json!({ "input": { "email": email, "password": "vendor-pass-1" } }),
        )
        .await;
    (
        r.data()["signIn"]["accessToken"]
            .as_str()
            .expect("token")
            .to_owned(),
        user,
    )
}

/// The payload of `operation` sent with `h`, after checking it has no errors or refusals.
async fn ok(
    stack: &Stack,
    h: &[(&str, &str)],
    operation: cityos_e2e::Operation,
    vars: Value,
) -> Value {
    let r = stack.op(h, operation, vars).await;
    let payload = r
        .data()
        .as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(payload["userErrors"], json!([]), "{}", r.body);
    payload
}

/// What a storefront sees: (listed products, the product by handle with its vendor's name).
async fn storefront_view(stack: &Stack, key: &str) -> (i64, Value) {
    let r = stack
        .gql(
            &[("x-publishable-key", key)],
            "{ products(first: 10) { totalCount } product(handle: \"saffron\") { vendor { name status } } }",
            json!({}),
        )
        .await;
    let data = r.data();
    (
        data["products"]["totalCount"].as_i64().expect("count"),
        data["product"].clone(),
    )
}

/// Waits (up to 20 s) until the storefront sees `wanted`.
async fn eventually(stack: &Stack, key: &str, wanted: (i64, Value)) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = storefront_view(stack, key).await;
        if now == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the storefront still sees {now:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vendor_is_onboarded_sells_and_is_suspended_through_the_router() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bazaar").await;
    let staff = shop.staff();
    let staff = headers(&staff);
    let (owner_token, _) = customer(&stack, &shop, "faisal@bazaar.test").await;
    let owner = [
        ("authorization", bearer(&owner_token)),
        ("x-tenant", shop.slug.clone()),
    ];

    let applied = ok(
        &stack,
        &headers(&owner),
        vendors::VENDOR_APPLY,
        json!({ "input": {
        "name": "Saffron Co", "handle": "saffron-co", "email": "hi@saffron.test" } }),
    )
    .await;
    let vendor = applied["vendor"]["id"].as_str().expect("vendor").to_owned();
    let acting = [
        ("authorization", bearer(&owner_token)),
        ("x-tenant", shop.slug.clone()),
        ("x-vendor-id", vendor.clone()),
    ];
    let r = stack
        .op(&headers(&acting), vendors::MY_VENDORS, json!({}))
        .await;
    assert_eq!(r.data()["myVendors"][0]["role"], "OWNER", "{}", r.body);

    // Naming the vendor without being on its team is refused before any resolver runs, as is
    // naming it anonymously, or with a malformed id.
    let (stranger_token, _) = customer(&stack, &shop, "mallory@bazaar.test").await;
    let refusals = [
        (
            vec![
                ("authorization", bearer(&stranger_token)),
                ("x-tenant", shop.slug.clone()),
                ("x-vendor-id", vendor.clone()),
            ],
            "FORBIDDEN",
        ),
        (
            vec![
                ("x-tenant", shop.slug.clone()),
                ("x-vendor-id", vendor.clone()),
            ],
            "UNAUTHENTICATED",
        ),
        (
            vec![
                ("authorization", bearer(&owner_token)),
                ("x-tenant", shop.slug.clone()),
                ("x-vendor-id", "not-an-id".to_owned()),
            ],
            "BAD_USER_INPUT",
        ),
    ];
    for (h, code) in refusals {
        let r = stack.op(&headers(&h), vendors::MY_VENDORS, json!({})).await;
        assert_eq!(r.error_code(), Some(code), "{}", r.body);
    }

    // Review: the owner submits every document acting for the vendor, staff accept and approve.
    ok(
        &stack,
        &staff,
        vendors::VENDOR_REVIEW_START,
        json!({ "input": { "id": vendor } }),
    )
    .await;
    for kind in [
        "COMMERCIAL_REGISTRATION",
        "VAT_CERTIFICATE",
        "OWNER_ID",
        "BANK_LETTER",
    ] {
        let doc = ok(
            &stack,
            &headers(&acting),
            vendors::VENDOR_DOCUMENT_SUBMIT,
            json!({ "input": {
            "vendorId": vendor, "kind": kind, "url": "https://files.test/doc.pdf",
            "sha256": "c".repeat(64), "expiresOn": "2099-01-01" } }),
        )
        .await;
        ok(
            &stack,
            &staff,
            vendors::VENDOR_DOCUMENT_REVIEW,
            json!({ "input": { "id": doc["document"]["id"], "accept": true } }),
        )
        .await;
    }
    ok(
        &stack,
        &staff,
        vendors::VENDOR_APPROVE,
        json!({ "input": { "id": vendor } }),
    )
    .await;

    // The catalog learns of the approval from the event: staff may now give it a product.
    let location = create_location(&stack, &shop, "Souq").await;
    let (product, variants) = create_stocked_product(&stack, &shop, "saffron", &location, 5).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = stack
            .op(
                &staff,
                catalog::PRODUCT_UPDATE,
                json!({ "input": { "id": product, "vendorId": vendor } }),
            )
            .await;
        if r.data()["productUpdate"]["userErrors"] == json!([]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the catalog never saw the approval: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = (
        1,
        json!({ "vendor": { "name": "Saffron Co", "status": "APPROVED" } }),
    );
    eventually(&stack, &shop.key, seen.clone()).await;
    let r = stack
        .op(
            &[("x-publishable-key", shop.key.as_str())],
            vendors::STOREFRONT_VENDOR,
            json!({ "handle": "saffron-co" }),
        )
        .await;
    assert_eq!(
        r.data()["vendor"]["products"]["totalCount"],
        1,
        "{}",
        r.body
    );

    // Suspended: gone from the storefront and refused by carts; reinstated: back.
    ok(
        &stack,
        &staff,
        vendors::VENDOR_SUSPEND,
        json!({ "input": { "id": vendor, "reason": "expired licence" } }),
    )
    .await;
    eventually(&stack, &shop.key, (0, Value::Null)).await;
    let storefront = [("x-publishable-key", shop.key.as_str())];
    let cart = ok(
        &stack,
        &storefront,
        orders::CART_CREATE,
        json!({ "input": {} }),
    )
    .await;
    let r = stack
        .op(
            &storefront,
            orders::CART_LINES_ADD,
            json!({ "input": { "cartId": cart["cart"]["id"],
            "lines": [{ "variantId": variants[0], "quantity": 1 }] } }),
        )
        .await;
    assert_eq!(
        r.data()["cartLinesAdd"]["userErrors"][0]["code"],
        "VARIANT_UNAVAILABLE",
        "{}",
        r.body
    );
    ok(
        &stack,
        &staff,
        vendors::VENDOR_APPROVE,
        json!({ "input": { "id": vendor } }),
    )
    .await;
    eventually(&stack, &shop.key, seen).await;

    // Another tenant's staff cannot act for it or see its team; a member taken off the team
    // loses the vendor at once (the stack caches no lookups).
    let elsewhere = create_tenant(&stack, &platform, "elsewhere").await;
    let theirs = [
        ("authorization", bearer(&elsewhere.admin_token)),
        ("x-tenant", elsewhere.slug.clone()),
        ("x-vendor-id", vendor.clone()),
    ];
    let r = stack
        .op(&headers(&theirs), vendors::MY_VENDORS, json!({}))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
    let invite = ok(
        &stack,
        &headers(&acting),
        vendors::VENDOR_INVITE,
        json!({ "input": {
        "vendorId": vendor, "email": "omar@bazaar.test", "role": "STAFF" } }),
    )
    .await;
    let (omar_token, omar) = customer(&stack, &shop, "omar@bazaar.test").await;
    let omar_h = [
        ("authorization", bearer(&omar_token)),
        ("x-tenant", shop.slug.clone()),
    ];
    ok(
        &stack,
        &headers(&omar_h),
        vendors::VENDOR_INVITATION_ACCEPT,
        json!({ "token": invite["token"] }),
    )
    .await;
    let omar_acting = [
        omar_h[0].clone(),
        omar_h[1].clone(),
        ("x-vendor-id", vendor.clone()),
    ];
    let r = stack
        .op(&headers(&omar_acting), vendors::MY_VENDORS, json!({}))
        .await;
    assert_eq!(r.data()["myVendors"][0]["role"], "STAFF");
    ok(
        &stack,
        &headers(&acting),
        vendors::VENDOR_MEMBER_REMOVE,
        json!({ "input": { "vendorId": vendor, "userId": omar } }),
    )
    .await;
    let r = stack
        .op(&headers(&omar_acting), vendors::MY_VENDORS, json!({}))
        .await;
    assert_eq!(r.error_code(), Some("FORBIDDEN"), "{}", r.body);
}
