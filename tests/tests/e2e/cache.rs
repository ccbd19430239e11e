//! The catalog's response cache, through the router (`cityos_server::cache`): storefront answers
//! come from it (its hit counter says so), every change that could alter one is visible in the
//! very next request (a price, stock, a translation, publication, a review's approval, a customer
//! group's price list, a checkout in the orders process), a price list's window opening shows at
//! its time with no write, no tenant, locale, currency or caller ever receives another's answer,
//! and a staff view is never served to a storefront. And under concurrent readers, each of a run of
//! writes is seen by the read right after it: writes through the catalog's API, and writes
//! committed by another process straight to the database (the test's own connection, the shortest
//! path from a commit to the next request there is).

use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    Tenant, bearer, create_location, create_stocked_product, create_tenant, headers,
    platform_token, staff_mutation, staff_op,
};
use cityos_e2e::operations::{catalog, orders};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use std::time::Duration;

/// The product page: title (in the request's locale), status, each variant's price in a
/// currency and its stock, the rating.
const PAGE: &str = "query Page($h: String!, $c: String!) { product(handle: $h) { title
    variants { sku price(currency: $c) { unitPrice { amountMinor } rule } availableQuantity }
    rating { count average } } }";

async fn page(stack: &Stack, h: &[(&str, &str)], handle: &str, currency: &str) -> Value {
    let r = stack
        .gql(h, PAGE, json!({ "h": handle, "c": currency }))
        .await;
    assert!(r.body["errors"].is_null(), "{}", r.body);
    r.data()["product"].clone()
}

/// The catalog's response-cache lookups so far with `outcome`, from its `/metrics`.
async fn lookups(stack: &Stack, outcome: &str) -> u64 {
    let series = format!(
        "cityos_response_cache_lookups_total{{outcome=\"{outcome}\",subgraph=\"catalog\"}}"
    );
    stack.metric("catalog", &series).await.unwrap_or(0.0) as u64
}

fn price(product: &Value, variant: usize) -> i64 {
    product["variants"][variant]["price"]["unitPrice"]["amountMinor"]
        .as_i64()
        .unwrap_or_else(|| panic!("no price in {product}"))
}

fn stock(product: &Value, variant: usize) -> i64 {
    product["variants"][variant]["availableQuantity"]
        .as_i64()
        .unwrap_or_else(|| panic!("no stock in {product}"))
}

async fn adjust(stack: &Stack, shop: &Tenant, variant: &str, location: &str, delta: i32) {
    staff_op(
        stack,
        shop,
        catalog::STOCK_ADJUST,
        json!({ "input": { "variantId": variant, "locationId": location, "delta": delta, "reason": "RECEIVED" } }),
    )
    .await;
}

/// A price list made from `input`, pricing `variant` at `sar` minor units.
async fn price_list(stack: &Stack, shop: &Tenant, input: Value, variant: &str, sar: i64) {
    let list = staff_op(
        stack,
        shop,
        catalog::PRICE_LIST_CREATE,
        json!({ "input": input }),
    )
    .await["priceList"]["id"]
        .clone();
    staff_op(
        stack,
        shop,
        catalog::PRICE_LIST_PRICES_SET,
        json!({ "input": { "priceListId": list, "entries": [{ "variantId": variant,
            "prices": [{ "currency": "SAR", "amountMinor": sar }] }] } }),
    )
    .await;
}

async fn sign_up(stack: &Stack, shop: &Tenant, email: &str) -> (String, String) {
    let r = stack
        .gql(
            &[("x-publishable-key", &shop.key)],
            "mutation($e: String!) { customerSignUp(input: {email: $e, password: \"a-long-password\"}) { accessToken user { id } } }",
            json!({ "e": email }),
        )
        .await;
    let up = &r.data()["customerSignUp"];
    (
        up["accessToken"].as_str().expect("token").to_owned(),
        up["user"]["id"].as_str().expect("user id").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn storefront_answers_are_cached_and_every_change_shows_in_the_next_request() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "cached").await;
    let location = create_location(&stack, &shop, "Riyadh").await;
    let (oud, variants) = create_stocked_product(&stack, &shop, "oud", &location, 5).await;
    let key = shop.key.clone();
    let storefront = [("x-publishable-key", key.as_str())];

    // The same request twice: the second is answered from the cache, identically.
    let first = page(&stack, &storefront, "oud", "SAR").await;
    let hits = lookups(&stack, "hit").await;
    let again = page(&stack, &storefront, "oud", "SAR").await;
    assert_eq!(first, again);
    assert_eq!(
        lookups(&stack, "hit").await,
        hits + 1,
        "served from the cache"
    );
    assert_eq!((price(&first, 0), stock(&first, 0)), (9_900, 5));

    // A price.
    staff_mutation(
        &stack,
        &shop,
        "mutation($v: ID!) { productVariantPricesSet(input: {variantId: $v, prices: [{currency: \"SAR\", amountMinor: 9500}, {currency: \"USD\", amountMinor: 2640}]}) { userErrors { code } } }",
        json!({ "v": variants[0] }),
    )
    .await;
    assert_eq!(
        price(&page(&stack, &storefront, "oud", "SAR").await, 0),
        9_500
    );

    // Stock.
    adjust(&stack, &shop, &variants[0], &location, 3).await;
    assert_eq!(stock(&page(&stack, &storefront, "oud", "SAR").await, 0), 8);

    // Currency and locale are each their own answer.
    let usd = page(&stack, &storefront, "oud", "USD").await;
    assert_eq!(price(&usd, 0), 2_640);
    staff_mutation(
        &stack,
        &shop,
        "mutation($p: ID!) { productTranslationSet(input: {productId: $p, locale: \"en\", title: \"Oud (English)\"}) { userErrors { code } } }",
        json!({ "p": oud }),
    )
    .await;
    let english = [
        ("x-publishable-key", key.as_str()),
        ("accept-language", "en"),
    ];
    let arabic = [
        ("x-publishable-key", key.as_str()),
        ("accept-language", "ar"),
    ];
    for _ in 0..2 {
        assert_eq!(
            page(&stack, &english, "oud", "SAR").await["title"],
            "Oud (English)"
        );
        assert_eq!(page(&stack, &arabic, "oud", "SAR").await["title"], "oud");
    }
    staff_mutation(
        &stack,
        &shop,
        "mutation($p: ID!) { productTranslationSet(input: {productId: $p, locale: \"en\", title: \"Oud, retitled\"}) { userErrors { code } } }",
        json!({ "p": oud }),
    )
    .await;
    assert_eq!(
        page(&stack, &english, "oud", "SAR").await["title"],
        "Oud, retitled"
    );

    // Publication, and the staff view: a draft is gone from the storefront at once; staff read
    // it (often), and the storefront still never gets their answer.
    staff_op(
        &stack,
        &shop,
        catalog::PRODUCT_UPDATE,
        json!({ "input": { "id": oud, "status": "DRAFT" } }),
    )
    .await;
    assert!(page(&stack, &storefront, "oud", "SAR").await.is_null());
    let staff = shop.staff();
    for _ in 0..3 {
        assert_eq!(
            page(&stack, &headers(&staff), "oud", "SAR").await["title"],
            "oud"
        );
    }
    assert!(page(&stack, &storefront, "oud", "SAR").await.is_null());
    staff_op(
        &stack,
        &shop,
        catalog::PRODUCT_UPDATE,
        json!({ "input": { "id": oud, "status": "PUBLISHED" } }),
    )
    .await;
    assert_eq!(
        page(&stack, &storefront, "oud", "SAR").await["title"],
        "oud"
    );

    // A review counts once it is approved, in the next request.
    let (token, customer_id) = sign_up(&stack, &shop, "reviewer@example.com").await;
    let customer = [
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
    ];
    let review = stack
        .op(
            &headers(&customer),
            catalog::REVIEW_CREATE,
            json!({ "input": { "productId": oud, "rating": 4, "title": "Warm" } }),
        )
        .await;
    let review = review.data()["reviewCreate"]["review"]["id"].clone();
    assert_eq!(
        page(&stack, &storefront, "oud", "SAR").await["rating"]["count"],
        0
    );
    staff_op(
        &stack,
        &shop,
        catalog::REVIEW_MODERATE,
        json!({ "input": { "id": review, "status": "APPROVED" } }),
    )
    .await;
    let rated = page(&stack, &storefront, "oud", "SAR").await;
    assert_eq!(rated["rating"]["count"], 1);
    assert_eq!(rated["rating"]["average"], 4.0);

    // A customer group's price list: its member sees the group price (their own answer), another
    // customer and the anonymous storefront do not.
    let (other_token, _) = sign_up(&stack, &shop, "other@example.com").await;
    let other = [
        ("authorization", bearer(&other_token)),
        ("x-tenant", shop.slug.clone()),
    ];
    for h in [&headers(&customer), &headers(&other), &storefront.to_vec()] {
        assert_eq!(price(&page(&stack, h, "oud", "SAR").await, 0), 9_500);
    }
    let group = staff_op(
        &stack,
        &shop,
        catalog::CUSTOMER_GROUP_CREATE,
        json!({ "input": { "name": "VIP" } }),
    )
    .await["customerGroup"]["id"]
        .clone();
    price_list(
        &stack,
        &shop,
        json!({ "name": "VIP prices", "kind": "OVERRIDE", "customerGroupId": group }),
        &variants[0],
        8_000,
    )
    .await;
    assert_eq!(
        price(&page(&stack, &headers(&customer), "oud", "SAR").await, 0),
        9_500
    );
    staff_op(
        &stack,
        &shop,
        catalog::CUSTOMER_GROUP_MEMBERS_ADD,
        json!({ "input": { "groupId": group, "customerIds": [customer_id] } }),
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            price(&page(&stack, &headers(&customer), "oud", "SAR").await, 0),
            8_000
        );
        assert_eq!(
            price(&page(&stack, &headers(&other), "oud", "SAR").await, 0),
            9_500
        );
        assert_eq!(
            price(&page(&stack, &storefront, "oud", "SAR").await, 0),
            9_500
        );
    }

    // A sale whose window opens in two seconds: before, the cached base price; from its start,
    // the sale price, with no write in between.
    let starts = chrono::Utc::now() + chrono::Duration::seconds(2);
    price_list(
        &stack,
        &shop,
        json!({ "name": "Flash sale", "kind": "SALE", "startsAt": starts.to_rfc3339() }),
        &variants[0],
        7_000,
    )
    .await;
    let hits = lookups(&stack, "hit").await;
    for _ in 0..3 {
        assert_eq!(
            price(&page(&stack, &storefront, "oud", "SAR").await, 0),
            9_500
        );
    }
    assert!(
        lookups(&stack, "hit").await >= hits + 2,
        "the base price was cached"
    );
    let wait = (starts - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(
        price(&page(&stack, &storefront, "oud", "SAR").await, 0),
        7_000
    );

    // Stock sold by a checkout in the orders process shows in the catalog's next answer.
    let before = stock(&page(&stack, &storefront, "oud", "SAR").await, 1);
    let r = stack
        .gql(
            &storefront,
            "mutation { cartCreate(input: {email: \"buyer@example.com\"}) { cart { id } } }",
            json!({}),
        )
        .await;
    let cart = r.data()["cartCreate"]["cart"]["id"].clone();
    let r = stack
        .gql(
            &storefront,
            "mutation($c: ID!, $v: ID!) { cartLinesAdd(input: {cartId: $c, lines: [{variantId: $v, quantity: 2}]}) { userErrors { code } }
               cartUpdate(input: {cartId: $c, shippingAddress: {firstName: \"B\", lastName: \"C\", line1: \"Olaya 1\", city: \"Riyadh\", postalCode: \"12211\", countryCode: \"SA\"}}) { userErrors { code } } }",
            json!({ "c": cart, "v": variants[1] }),
        )
        .await;
    assert!(!r.body.to_string().contains("\"code\""), "{}", r.body);
    let r = stack
        .op(
            &storefront,
            orders::CHECKOUT_COMPLETE,
            json!({ "input": { "cartId": cart, "idempotencyKey": "cache-checkout" } }),
        )
        .await;
    assert_eq!(
        r.data()["checkoutComplete"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );
    assert_eq!(
        stock(&page(&stack, &storefront, "oud", "SAR").await, 1),
        before - 2
    );

    // Another tenant with the same handle and the very same request gets its own answer.
    let other_shop = create_tenant(&stack, &platform, "cached-too").await;
    let other_location = create_location(&stack, &other_shop, "Jeddah").await;
    let (_, their_variants) =
        create_stocked_product(&stack, &other_shop, "oud", &other_location, 1).await;
    let theirs = [("x-publishable-key", other_shop.key.as_str())];
    for _ in 0..2 {
        let (mine, their) = (
            page(&stack, &storefront, "oud", "SAR").await,
            page(&stack, &theirs, "oud", "SAR").await,
        );
        assert_eq!((price(&mine, 0), stock(&their, 0)), (7_000, 1));
        assert_eq!(price(&their, 0), 9_900);
    }
    // And a write in one tenant leaves the other's answers cached.
    let hits = lookups(&stack, "hit").await;
    adjust(&stack, &other_shop, &their_variants[0], &other_location, 1).await;
    page(&stack, &storefront, "oud", "SAR").await;
    assert_eq!(lookups(&stack, "hit").await, hits + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn under_concurrent_readers_every_write_is_seen_by_the_next_read() {
    let stack = std::sync::Arc::new(Stack::start().await);
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "cached-race").await;
    let location = create_location(&stack, &shop, "Riyadh").await;
    let (_, variants) = create_stocked_product(&stack, &shop, "musk", &location, 1).await;
    let key = shop.key.clone();

    // Eight readers keep the answer hot (and refill it as it goes stale) while the writer, forty
    // times, adds a unit and reads at once: every read after a write sees it. Every other write is
    // a statement of this process's own database connection, committed and then read at once.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (stack, key, stop) = (stack.clone(), key.clone(), stop.clone());
            tokio::spawn(async move {
                let mut reads = 0u32;
                while !std::sync::atomic::AtomicBool::load(
                    &stop,
                    std::sync::atomic::Ordering::Relaxed,
                ) {
                    page(&stack, &[("x-publishable-key", &key)], "musk", "SAR").await;
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let hits = lookups(&stack, "hit").await;
    for n in 2..42 {
        if n % 2 == 0 {
            adjust(&stack, &shop, &variants[0], &location, 1).await;
        } else {
            let updated = diesel::sql_query(format!(
                "UPDATE catalog.stock_levels SET on_hand = on_hand + 1
                 WHERE tenant_id = '{}' AND variant_id = '{}'",
                shop.id, variants[0]
            ))
            .execute(&mut db)
            .await
            .expect("a direct write");
            assert_eq!(updated, 1);
        }
        let seen = stock(
            &page(&stack, &[("x-publishable-key", &key)], "musk", "SAR").await,
            0,
        );
        assert_eq!(seen, n, "the read right after the write");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.expect("reader");
    }
    assert!(reads > 20, "the readers ran ({reads} reads)");
    assert!(
        lookups(&stack, "hit").await > hits,
        "and were served from the cache"
    );
}
