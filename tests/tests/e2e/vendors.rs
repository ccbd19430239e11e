//! End-to-end through the router and running processes: a customer applies as a vendor, acts for
//! it with `x-vendor-id` (checked against its team by the subgraph's request context), submits its
//! documents; staff accept them and approve; the approval reaches the catalog as
//! `vendor.approved`, so the vendor's product is listed and names its vendor, which the vendors
//! subgraph resolves. Suspension hides the product from storefronts and carts, reinstatement brings
//! it back. A non-member naming the vendor, another tenant's user, and a removed member are
//! refused. Then the money: a second vendor adds its own product and stock, a customer buys from
//! two vendors, the payment is captured, both see
//! their sale and commission, the payout run pays the one with a connected account through the
//! Stripe double, a refund after the payout leaves its balance negative, and the next sale repays
//! it before the next payout.

use cityos_e2e::fixtures::{
    Tenant, bearer, create_location, create_stocked_product, create_tenant, customer, headers,
    payload_of, platform_token,
};
use cityos_e2e::operations::{catalog, orders, vendors};
use cityos_e2e::{Stack, StackOptions};
use cityos_testkit::stripe::StripeDouble;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The payload of `operation` sent with `h`, after checking it has no errors or refusals.
async fn ok(
    stack: &Stack,
    h: &[(&str, &str)],
    operation: cityos_e2e::Operation,
    vars: Value,
) -> Value {
    payload_of(stack.op(h, operation, vars).await)
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
async fn a_vendor_is_onboarded_sells_is_suspended_and_paid_out_through_the_router() {
    let stripe = StripeDouble::start().await;
    let stack = Stack::start_with(StackOptions {
        stripe_api_base: Some(stripe.base.clone()),
        ..StackOptions::default()
    })
    .await;
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

    let saffron = Seller {
        vendor: vendor.clone(),
        acting: acting.to_vec(),
        variants,
    };
    pays_out(&stack, &stripe, &shop, &location, saffron).await;
}

/// A vendor of the journey: its id, its owner acting for it, its product's variants (S at
/// 99.00 SAR, L at 149.00).
struct Seller {
    vendor: String,
    acting: Vec<(&'static str, String)>,
    variants: Vec<String>,
}

/// A customer applies, staff accept the documents and approve, and the vendor gets a stocked
/// product once the catalog has seen the approval.
async fn onboard(stack: &Stack, shop: &Tenant, location: &str, handle: &str) -> Seller {
    let staff = shop.staff();
    let staff = headers(&staff);
    let (token, _) = customer(stack, shop, &format!("owner@{handle}.test")).await;
    let owner = [
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
    ];
    let applied = ok(stack, &headers(&owner), vendors::VENDOR_APPLY, json!({ "input": {
        "name": format!("{handle} house"), "handle": handle, "email": format!("hi@{handle}.test") } })).await;
    let vendor = applied["vendor"]["id"].as_str().expect("vendor").to_owned();
    let acting = vec![
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
        ("x-vendor-id", vendor.clone()),
    ];
    ok(
        stack,
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
            stack,
            &headers(&acting),
            vendors::VENDOR_DOCUMENT_SUBMIT,
            json!({ "input": {
            "vendorId": vendor, "kind": kind, "url": "https://files.test/doc.pdf",
            "sha256": "d".repeat(64), "expiresOn": "2099-01-01" } }),
        )
        .await;
        ok(
            stack,
            &staff,
            vendors::VENDOR_DOCUMENT_REVIEW,
            json!({ "input": { "id": doc["document"]["id"], "accept": true } }),
        )
        .await;
    }
    ok(
        stack,
        &staff,
        vendors::VENDOR_APPROVE,
        json!({ "input": { "id": vendor } }),
    )
    .await;
    // The vendor's team adds its product and stock itself, once the catalog has seen the
    // approval (until then the catalog does not know the vendor).
    let team = headers(&acting);
    let deadline = Instant::now() + Duration::from_secs(20);
    let product = loop {
        let r = stack
            .gql(&team, "mutation($i: ProductCreateInput!) { productCreate(input: $i) { product { id vendor { id } } userErrors { code } } }",
                json!({ "i": { "title": format!("{handle} attar"), "handle": handle, "status": "PUBLISHED" } }))
            .await;
        let created = &r.data()["productCreate"]["product"];
        if created.is_object() {
            assert_eq!(created["vendor"]["id"], json!(vendor), "{}", r.body);
            break created["id"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the catalog never saw the approval: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let r = stack
        .gql(&team, "mutation($i: ProductOptionCreateInput!) { productOptionCreate(input: $i) { userErrors { code } } }",
            json!({ "i": { "productId": product, "name": "Size", "values": ["S", "L"] } }))
        .await;
    assert_eq!(
        r.data()["productOptionCreate"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );
    let mut variants = Vec::new();
    for (size, sar) in [("S", 9_900), ("L", 14_900)] {
        let r = stack
            .gql(&team, "mutation($i: ProductVariantCreateInput!) { productVariantCreate(input: $i) { variant { id } userErrors { code } } }",
                json!({ "i": { "productId": product, "sku": format!("{handle}-{size}").to_uppercase(), "options": [{ "name": "Size", "value": size }], "prices": [{ "currency": "SAR", "amountMinor": sar }] } }))
            .await;
        let variant = r.data()["productVariantCreate"]["variant"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", r.body))
            .to_owned();
        let r = stack
            .gql(&team, "mutation($i: StockAdjustInput!) { stockAdjust(input: $i) { userErrors { code } } }",
                json!({ "i": { "variantId": variant, "locationId": location, "delta": 10, "reason": "RECEIVED" } }))
            .await;
        assert_eq!(
            r.data()["stockAdjust"]["userErrors"],
            json!([]),
            "{}",
            r.body
        );
        variants.push(variant);
    }
    Seller {
        vendor,
        acting,
        variants,
    }
}

/// A customer's order of `lines` (variant, quantity), paid by bank transfer and captured by
/// staff: the order's id.
async fn paid_order(stack: &Stack, shop: &Tenant, lines: &[(&str, i32)]) -> String {
    let storefront = [("x-publishable-key", shop.key.clone())];
    let storefront = headers(&storefront);
    let cart = ok(
        stack,
        &storefront,
        orders::CART_CREATE,
        json!({ "input": {} }),
    )
    .await;
    let cart = cart["cart"]["id"].as_str().expect("cart").to_owned();
    let lines: Vec<Value> = lines
        .iter()
        .map(|(v, q)| json!({ "variantId": v, "quantity": q }))
        .collect();
    let address = json!({ "firstName": "Huda", "lastName": "Al-Otaibi", "line1": "Tahlia Street 12",
        "city": "Jeddah", "postalCode": "23431", "countryCode": "SA" });
    ok(
        stack,
        &storefront,
        orders::CART_LINES_ADD,
        json!({ "input": { "cartId": cart, "lines": lines } }),
    )
    .await;
    ok(stack, &storefront, orders::CART_UPDATE, json!({ "input": { "cartId": cart, "email": "huda@example.com", "shippingAddress": address } })).await;
    let placed = ok(
        stack,
        &storefront,
        orders::CHECKOUT_COMPLETE,
        json!({ "input": { "cartId": cart, "idempotencyKey": cart } }),
    )
    .await;
    let order = placed["order"]["id"].as_str().expect("order").to_owned();
    let staff = shop.staff();
    let staff = headers(&staff);
    let r = stack
        .gql(
            &staff,
            "query($o: ID!) { order(id: $o) { payments { id } } }",
            json!({ "o": order }),
        )
        .await;
    let payment = r.data()["order"]["payments"][0]["id"].clone();
    let r = stack
        .gql(&staff, "mutation($p: ID!) { paymentCapture(input: { paymentId: $p }) { userErrors { code } } }", json!({ "p": payment }))
        .await;
    assert_eq!(
        r.data()["paymentCapture"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );
    order
}

/// Each vendor's team ships and delivers its part of `order`.
async fn deliver(stack: &Stack, order: &str, sellers: &[&Seller]) {
    for seller in sellers {
        let acting = headers(&seller.acting);
        let r = stack
            .gql(&acting, "query($v: ID!) { vendorOrders(first: 10, filter: { vendorId: $v }) { edges { node { id orderNumber status } } } }", json!({ "v": seller.vendor }))
            .await;
        let parts = r.data()["vendorOrders"]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for part in parts.iter().filter(|p| p["node"]["status"] != "DELIVERED") {
            let r = stack
                .gql(&acting, "mutation($i: FulfillmentCreateInput!) { fulfillmentCreate(input: $i) { fulfillment { id } userErrors { code } } }",
                    json!({ "i": { "vendorOrderId": part["node"]["id"], "carrier": "SMSA", "trackingNumber": format!("T-{order}") } }))
                .await;
            let shipped = r.data()["fulfillmentCreate"]["fulfillment"]["id"].clone();
            assert!(shipped.is_string(), "{}", r.body);
            let r = stack
                .gql(&acting, "mutation($i: FulfillmentDeliverInput!) { fulfillmentDeliver(input: $i) { userErrors { code } } }",
                    json!({ "i": { "fulfillmentId": shipped } }))
                .await;
            assert_eq!(
                r.data()["fulfillmentDeliver"]["userErrors"],
                json!([]),
                "{}",
                r.body
            );
        }
    }
}

const MONEY: &str = "query($v: ID!) { vendor(id: $v) {
    balances { balance { amountMinor } available { amountMinor } }
    sales(first: 5) { edges { node { total { amountMinor } commission { amountMinor } net { amountMinor } } } }
    payouts(first: 5) { edges { node { amount { amountMinor } status transferId } } } } }";

/// Polls what `seller` sees of its money until `done` holds (20 s at most).
async fn money_until(stack: &Stack, seller: &Seller, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = stack
            .gql(
                &headers(&seller.acting),
                MONEY,
                json!({ "v": seller.vendor }),
            )
            .await;
        let seen = r.data()["vendor"].clone();
        if done(&seen) {
            return seen;
        }
        assert!(Instant::now() < deadline, "the vendor still sees {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn available(v: &Value) -> Option<i64> {
    v["balances"][0]["available"]["amountMinor"].as_i64()
}

async fn pays_out(
    stack: &Stack,
    stripe: &StripeDouble,
    shop: &Tenant,
    location: &str,
    saffron: Seller,
) {
    let staff = shop.staff();
    let staff = headers(&staff);
    // Money is available on delivery here (no hold), and the marketplace takes 10%.
    let r = stack
        .gql(&staff, "mutation { vendorSettingsUpdate(input: { holdDays: 0 }) { settings { holdDays } userErrors { code } }
                      commissionRuleCreate: commissionRuleCreate(input: { name: \"Default\", method: PERCENTAGE, scope: TENANT, rateBasisPoints: 1000, validFrom: \"2000-01-01T00:00:00Z\" }) { userErrors { code } } }", json!({}))
        .await;
    assert_eq!(
        r.data()["vendorSettingsUpdate"]["settings"]["holdDays"],
        0,
        "{}",
        r.body
    );
    let musk = onboard(stack, shop, location, "musk-house").await;

    // One order from both vendors: 99.00 of saffron, 2 x 99.00 of musk.
    let order = paid_order(
        stack,
        shop,
        &[(&saffron.variants[0], 1), (&musk.variants[0], 2)],
    )
    .await;
    let seen = money_until(stack, &saffron, |v| {
        v["sales"]["edges"][0]["node"]["net"]["amountMinor"] == 8_910
    })
    .await;
    assert_eq!(
        seen["sales"]["edges"][0]["node"]["commission"]["amountMinor"],
        990
    );
    assert_eq!(available(&seen), Some(0), "held until delivery");
    money_until(stack, &musk, |v| {
        v["sales"]["edges"][0]["node"]["net"]["amountMinor"] == 17_820
    })
    .await;
    // Neither sees the other's money.
    let r = stack
        .gql(
            &headers(&musk.acting),
            MONEY,
            json!({ "v": saffron.vendor }),
        )
        .await;
    assert_eq!(r.data()["vendor"]["balances"], Value::Null, "{}", r.body);
    deliver(stack, &order, &[&saffron, &musk]).await;
    money_until(stack, &saffron, |v| available(v) == Some(8_910)).await;

    // The payout run pays the vendor with a connected account, through Stripe.
    let account = stripe.connect_account(true);
    let r = stack
        .gql(&headers(&saffron.acting), "mutation($i: VendorPayoutTermsInput!) { vendorPayoutTermsUpdate(input: $i) { terms { accountState } userErrors { code } } }",
            json!({ "i": { "vendorId": saffron.vendor, "stripeAccountId": account } }))
        .await;
    assert_eq!(
        r.data()["vendorPayoutTermsUpdate"]["terms"]["accountState"],
        "ACTIVE",
        "{}",
        r.body
    );
    let r = stack
        .gql(
            &staff,
            "mutation { vendorPayoutRun { result { created skipped } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["vendorPayoutRun"]["result"],
        json!({ "created": 1, "skipped": 0 }),
        "{}",
        r.body
    );
    let seen = money_until(stack, &saffron, |v| {
        v["payouts"]["edges"][0]["node"]["status"] == "PAID"
    })
    .await;
    assert_eq!(
        seen["payouts"]["edges"][0]["node"]["amount"]["amountMinor"],
        8_910
    );
    assert_eq!(stripe.books().transfers.len(), 1);
    assert_eq!(stripe.books().transfers[0]["destination"], json!(account));

    // The whole order refunded after the payout: saffron's balance goes negative.
    let r = stack
        .gql(
            &staff,
            "query($o: ID!) { order(id: $o) { payments { id } } }",
            json!({ "o": order }),
        )
        .await;
    let payment = r.data()["order"]["payments"][0]["id"].clone();
    let r = stack
        .gql(&staff, "mutation($p: ID!) { paymentRefund(input: { paymentId: $p, amountMinor: 29700 }) { userErrors { code } } }", json!({ "p": payment }))
        .await;
    assert_eq!(
        r.data()["paymentRefund"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );
    money_until(stack, &saffron, |v| available(v) == Some(-8_910)).await;
    let request = "mutation($i: VendorPayoutRequestInput!) { vendorPayoutRequest(input: $i) { payout { amount { amountMinor } } userErrors { code } } }";
    let vars = json!({ "i": { "vendorId": saffron.vendor, "currency": "SAR" } });
    let r = stack
        .gql(&headers(&saffron.acting), request, vars.clone())
        .await;
    assert_eq!(
        r.data()["vendorPayoutRequest"]["userErrors"][0]["code"],
        "NEGATIVE_BALANCE",
        "{}",
        r.body
    );

    // The next sale (149.00, 134.10 after commission) repays it first; the next payout nets it.
    let again = paid_order(stack, shop, &[(&saffron.variants[1], 1)]).await;
    deliver(stack, &again, &[&saffron]).await;
    money_until(stack, &saffron, |v| available(v) == Some(13_410 - 8_910)).await;
    let r = stack.gql(&headers(&saffron.acting), request, vars).await;
    assert_eq!(
        r.data()["vendorPayoutRequest"]["payout"]["amount"]["amountMinor"],
        4_500,
        "{}",
        r.body
    );
    let seen = money_until(stack, &saffron, |v| {
        v["payouts"]["edges"][0]["node"]["status"] == "PAID"
    })
    .await;
    assert_eq!(seen["balances"][0]["balance"]["amountMinor"], 0);
    assert_eq!(stripe.books().transfers.len(), 2);
}
