//! Shipping per vendor group, taxes per line and discount codes: exact totals from cart to order,
//! refusals that say why, usage limits under racing checkouts, and tenant isolation.

use crate::common::*;
use catalog::taxonomy::categories::{self, NewCategory};
use cityos_testkit::TestDb;
use cityos_testkit::refusal;
use futures_util::future::join_all;
use orders::carts::{self, Address, CartChanges, ShippingChoice};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{CartId, ShippingMethodId, VendorId};
use serde_json::{Value, json};
use uuid::Uuid;

/// Runs a set-up mutation as the shop's admin and returns its payload's `field` object.
async fn setup(t: &TestDb, shop: &Shop, mutation: &str, field: &str, input: Value) -> Value {
    let query = format!(
        "mutation($input: {}Input!) {{ {field}(input: $input) {{ {} {{ id }} userErrors {{ code field }} }} }}",
        upper_first(field),
        payload_field(field),
    );
    let v = gql(t, &shop.admin, &query, json!({ "input": input })).await;
    assert_eq!(
        user_errors(&v, field),
        Vec::<String>::new(),
        "{mutation}: {v}"
    );
    v["data"][field][payload_field(field)].clone()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn payload_field(mutation: &str) -> &'static str {
    if mutation.starts_with("shippingMethod") {
        "shippingMethod"
    } else if mutation.starts_with("taxRule") {
        "taxRule"
    } else {
        "discountCode"
    }
}

fn id_of(v: &Value) -> ShippingMethodId {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("an id")
}

/// Standard (15.00, free from 200.00, SA only), Express (30.00) and pickup; returns their ids.
async fn methods(
    t: &TestDb,
    shop: &Shop,
) -> (ShippingMethodId, ShippingMethodId, ShippingMethodId) {
    let standard = setup(
        t,
        shop,
        "standard",
        "shippingMethodCreate",
        json!({
            "name": "Standard", "kind": "FREE_ABOVE", "rateMinor": 1500, "freeAboveMinor": 20000,
            "countries": ["sa"]
        }),
    )
    .await;
    let express = setup(
        t,
        shop,
        "express",
        "shippingMethodCreate",
        json!({
            "name": "Express", "kind": "FLAT_RATE", "rateMinor": 3000, "position": 1
        }),
    )
    .await;
    let pickup = setup(
        t,
        shop,
        "pickup",
        "shippingMethodCreate",
        json!({
            "name": "Olaya store", "kind": "PICKUP", "pickupLocation": "Olaya Street 1, Riyadh"
        }),
    )
    .await;
    (id_of(&standard), id_of(&express), id_of(&pickup))
}

async fn choose(
    t: &TestDb,
    who: &cityos_core::RequestContext,
    cart: CartId,
    vendor: Option<VendorId>,
    method: ShippingMethodId,
) -> orders::errors::Outcome<carts::PricedCart> {
    carts::choose_shipping(
        t.db(),
        who,
        cart,
        ShippingChoice {
            vendor,
            method,
            instructions: Some("Ring twice".into()),
        },
    )
    .await
}

/// The tenant's only code's `times_used`, and how many redemptions exist.
async fn code_uses(t: &TestDb, shop: &Shop) -> (i32, i64) {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use orders::schema::{discount_codes, discount_redemptions};
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            let used: i32 = discount_codes::table
                .select(discount_codes::times_used)
                .first(tx.conn())
                .await?;
            let rows: i64 = discount_redemptions::table
                .count()
                .get_result(tx.conn())
                .await?;
            Ok::<_, cityos_core::ApiError>((used, rows))
        })
        .await
        .expect("uses")
}

#[tokio::test]
async fn shipping_taxes_and_a_discount_come_to_exact_totals_from_cart_to_order() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let (vendor_a, vendor_b) = (VendorId::new(), VendorId::new());
    let (_, perfume) = item_of_product(&t, &souq, "OUD-1", 12000, 5, Some(vendor_a)).await;
    let (dates_product, dates) = item_of_product(&t, &souq, "DATES-1", 3333, 9, None).await;
    let soap = item(&t, &souq, "SOAP-1", 999, 5, Some(vendor_b)).await;
    let food = categories::create(
        t.db(),
        &souq.admin,
        NewCategory {
            name: "Food".into(),
            handle: "food".into(),
            ..NewCategory::default()
        },
    )
    .await
    .expect("food");
    let sweets = categories::create(
        t.db(),
        &souq.admin,
        NewCategory {
            name: "Dates".into(),
            handle: "dates".into(),
            parent_id: Some(food.id),
            ..NewCategory::default()
        },
    )
    .await
    .expect("dates");
    categories::set_for_product(t.db(), &souq.admin, dates_product, vec![sweets.id])
        .await
        .expect("categorized");
    let (standard, express, pickup) = methods(&t, &souq).await;
    setup(
        &t,
        &souq,
        "vat",
        "taxRuleCreate",
        json!({
            "name": "VAT", "countryCode": "sa", "rateBasisPoints": 1500, "inclusive": false
        }),
    )
    .await;
    // Food (the parent of the dates' category) is taxed at 5%, included in its prices.
    setup(
        &t,
        &souq,
        "food vat",
        "taxRuleCreate",
        json!({
            "name": "Reduced VAT", "countryCode": "SA", "categoryId": food.id.to_string(),
            "rateBasisPoints": 500, "inclusive": true
        }),
    )
    .await;
    setup(
        &t,
        &souq,
        "code",
        "discountCodeCreate",
        json!({
            "code": "oud10", "kind": "PERCENTAGE", "percent": 10, "currency": "SAR",
            "minSubtotalMinor": 5000, "vendorId": vendor_a.to_string(), "perCustomerLimit": 1
        }),
    )
    .await;

    let buyer = souq.customer();
    let cart = ready_cart(
        &t,
        &buyer,
        vec![line(perfume, 1), line(dates, 3), line(soap, 1)],
    )
    .await;
    let id = cart.cart.id;
    // Until chosen, every group ships the cheapest way: pickup.
    assert!(
        cart.totals
            .shipments
            .iter()
            .all(|s| s.method().is_some_and(|o| o.method.id == pickup))
    );
    carts::apply_discount(t.db(), &buyer, id, " oud10 ".into())
        .await
        .expect("code applies");
    choose(&t, &buyer, id, Some(vendor_a), express)
        .await
        .expect("express");
    choose(&t, &buyer, id, None, standard)
        .await
        .expect("standard");
    let cart = choose(&t, &buyer, id, Some(vendor_b), pickup)
        .await
        .expect("pickup");

    // Perfume: 120.00 less 10% = 108.00, plus 15% VAT 16.20 = 124.20, Express 30.00.
    // Dates: 3 x 33.33 = 99.99 with 5% included (4.76), Standard 15.00 (below 200.00).
    // Soap: 9.99 plus 15% VAT (1.4985 rounds to 1.50) = 11.49, picked up.
    let totals = &cart.totals;
    assert_eq!(
        (
            totals.subtotal,
            totals.discount_total,
            totals.shipping_total,
            totals.tax_total,
            totals.total
        ),
        (22998, 1200, 4500, 2246, 28068)
    );
    let per_group: Vec<(i64, i64, i64, i64)> = totals
        .shipments
        .iter()
        .map(|s| (s.discount, s.shipping, s.tax, s.total))
        .collect();
    assert_eq!(
        per_group,
        [
            (1200, 3000, 1620, 15420),
            (0, 1500, 476, 11499),
            (0, 0, 150, 1149)
        ]
    );

    // A wrong expected total is refused; the right one places the order with the same amounts.
    let wrong = orders::checkout::complete(
        t.db(),
        &buyer,
        orders::checkout::CheckoutRequest {
            cart_id: id,
            idempotency_key: "k1".into(),
            payment_method: orders::payments::PaymentMethod::CashOnDelivery,
            expected_total: Some(22998),
        },
        &orders::payments::Gateway::default(),
    )
    .await;
    assert_eq!(refusal(wrong), Code::PriceChanged);
    let order = orders::checkout::complete(
        t.db(),
        &buyer,
        orders::checkout::CheckoutRequest {
            cart_id: id,
            idempotency_key: "k1".into(),
            payment_method: orders::payments::PaymentMethod::CashOnDelivery,
            expected_total: Some(28068),
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .expect("order");
    assert_eq!(
        (
            order.subtotal,
            order.discount_total,
            order.shipping_total,
            order.tax_total,
            order.total
        ),
        (22998, 1200, 4500, 2246, 28068)
    );
    assert_eq!(order.discount_code.as_deref(), Some("OUD10"));

    let v = gql(&t, &buyer, "query($o: ID!) { order(id: $o) {
            vendorOrders { subtotal { amountMinor } discountTotal { amountMinor } shippingTotal { amountMinor }
                taxTotal { amountMinor } total { amountMinor } shippingMethodName shippingKind pickupLocation
                deliveryInstructions lines { sku } }
            lines { sku discountTotal { amountMinor } taxTotal { amountMinor } taxRateBasisPoints taxIncluded total { amountMinor } } } }",
        json!({"o": order.id.to_string()})).await;
    let parts = v["data"]["order"]["vendorOrders"]
        .as_array()
        .expect("parts")
        .clone();
    let sum = |field: &str| -> i64 {
        parts
            .iter()
            .map(|p| p[field]["amountMinor"].as_i64().unwrap_or(0))
            .sum()
    };
    assert_eq!(
        (
            sum("subtotal"),
            sum("discountTotal"),
            sum("shippingTotal"),
            sum("taxTotal"),
            sum("total")
        ),
        (22998, 1200, 4500, 2246, 28068),
        "{v}"
    );
    let shipped: Vec<(String, String)> = parts
        .iter()
        .map(|p| {
            (
                p["lines"][0]["sku"].as_str().unwrap_or("").to_owned(),
                p["shippingMethodName"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(shipped.contains(&("OUD-1".into(), "Express".into())), "{v}");
    assert!(
        shipped.contains(&("SOAP-1".into(), "Olaya store".into())),
        "{v}"
    );
    assert!(
        parts
            .iter()
            .all(|p| p["deliveryInstructions"] == "Ring twice"),
        "{v}"
    );
    let lines = &v["data"]["order"]["lines"];
    let dates_line = lines
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["sku"] == "DATES-1"))
        .expect("dates line");
    assert_eq!(
        (
            dates_line["taxRateBasisPoints"].as_i64(),
            dates_line["taxIncluded"].as_bool(),
            dates_line["taxTotal"]["amountMinor"].as_i64(),
            dates_line["total"]["amountMinor"].as_i64()
        ),
        (Some(500), Some(true), Some(476), Some(9999))
    );

    // The use is counted, the customer cannot use the code again, and cancelling gives it back.
    assert_eq!(code_uses(&t, &souq).await, (1, 1));
    let again = ready_cart(&t, &buyer, vec![line(perfume, 1)]).await;
    let why = refusal(carts::apply_discount(t.db(), &buyer, again.cart.id, "OUD10".into()).await);
    assert_eq!(why, Code::DiscountCustomerLimit);
    orders::orders::cancel(
        t.db(),
        &souq.admin,
        order.id,
        None,
        &orders::payments::Gateway::default(),
    )
    .await
    .expect("cancelled");
    assert_eq!(code_uses(&t, &souq).await, (0, 0));
    carts::apply_discount(t.db(), &buyer, again.cart.id, "OUD10".into())
        .await
        .expect("usable again after the cancellation");
}

#[tokio::test]
async fn a_code_that_does_not_apply_says_why_and_changes_nothing() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let vendor = VendorId::new();
    let rug = item(&t, &souq, "RUG-1", 4000, 10, Some(vendor)).await;
    let lamp = item(&t, &souq, "LAMP-1", 2000, 10, None).await;
    let empty = categories::create(
        t.db(),
        &souq.admin,
        NewCategory {
            name: "Toys".into(),
            handle: "toys".into(),
            ..NewCategory::default()
        },
    )
    .await
    .expect("category");
    let now = chrono::Utc::now();
    let codes = [
        json!({"code": "MIN100", "kind": "FIXED_AMOUNT", "amountMinor": 1000, "currency": "SAR", "minSubtotalMinor": 10000}),
        json!({"code": "LATER", "kind": "PERCENTAGE", "percent": 5, "startsAt": (now + chrono::Duration::days(1)).to_rfc3339()}),
        json!({"code": "USD5", "kind": "FIXED_AMOUNT", "amountMinor": 500, "currency": "USD"}),
        json!({"code": "TOYS", "kind": "PERCENTAGE", "percent": 20, "categoryId": empty.id.to_string()}),
        json!({"code": "BIG", "kind": "FIXED_AMOUNT", "amountMinor": 100000, "currency": "SAR"}),
    ];
    for input in codes {
        setup(&t, &souq, "code", "discountCodeCreate", input).await;
    }
    let expired = setup(
        &t,
        &souq,
        "old",
        "discountCodeCreate",
        json!({"code": "OLD", "kind": "PERCENTAGE", "percent": 5}),
    )
    .await;
    let v = gql(&t, &souq.admin, "mutation($i: ID!) { discountCodeUpdate(input: {id: $i, active: false}) { discountCode { active } userErrors { code } } }", json!({"i": expired["id"]})).await;
    assert_eq!(
        v["data"]["discountCodeUpdate"]["discountCode"]["active"], false,
        "{v}"
    );

    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(rug, 1), line(lamp, 1)]).await;
    let id = cart.cart.id;
    for (code, why) in [
        ("NOPE", Code::DiscountNotFound),
        ("MIN100", Code::DiscountMinimumNotMet),
        ("LATER", Code::DiscountNotStarted),
        ("USD5", Code::DiscountCurrency),
        ("TOYS", Code::DiscountNotEligible),
        ("OLD", Code::DiscountExpired),
        ("a b", Code::DiscountNotFound),
    ] {
        let outcome = carts::apply_discount(t.db(), &buyer, id, code.into()).await;
        assert_eq!(refusal(outcome), why, "{code}");
    }
    let after = carts::get(t.db(), &buyer, id)
        .await
        .expect("read")
        .expect("cart");
    assert_eq!((after.cart.discount_code, after.totals.total), (None, 6000));

    // A fixed amount never takes off more than the lines cost.
    let big = carts::apply_discount(t.db(), &buyer, id, "big".into())
        .await
        .expect("applies");
    assert_eq!((big.totals.discount_total, big.totals.total), (6000, 0));

    // A code that stops applying (a line removed below its minimum) shows why, and checkout
    // refuses with that reason, changing nothing.
    carts::add_lines(t.db(), &buyer, id, vec![line(rug, 2)])
        .await
        .expect("more rugs");
    let applied = carts::apply_discount(t.db(), &buyer, id, "MIN100".into())
        .await
        .expect("12,000 >= 10,000");
    assert_eq!(applied.totals.discount_total, 1000);
    let v = gql(&t, &buyer, "mutation($c: ID!, $r: [ID!]!) { cartLinesRemove(input: {cartId: $c, variantIds: $r}) {
            cart { total { amountMinor } discountTotal { amountMinor } ready discount { code amount { amountMinor } problem message } } userErrors { code } } }",
        json!({"c": id.to_string(), "r": [rug.to_string()]})).await;
    let c = &v["data"]["cartLinesRemove"]["cart"];
    assert_eq!(c["discount"]["problem"], "DISCOUNT_MINIMUM_NOT_MET", "{v}");
    assert_eq!(
        (
            c["discountTotal"]["amountMinor"].as_i64(),
            c["total"]["amountMinor"].as_i64(),
            c["ready"].as_bool()
        ),
        (Some(0), Some(2000), Some(false)),
        "{v}"
    );
    assert_eq!(
        refusal(check_out(&t, &buyer, id, "try").await),
        Code::DiscountMinimumNotMet
    );
    assert_eq!(on_hand(&t, &souq, lamp).await, 10);
    carts::remove_discount(t.db(), &buyer, id)
        .await
        .expect("removed");
    check_out(&t, &buyer, id, "try")
        .await
        .expect("checks out without the code");
}

#[tokio::test]
async fn racing_checkouts_never_use_a_code_more_often_than_its_limit() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 100, None).await;
    setup(
        &t,
        &souq,
        "code",
        "discountCodeCreate",
        json!({"code": "FIRST3", "kind": "PERCENTAGE", "percent": 50, "usageLimit": 3}),
    )
    .await;
    let mut carts_ = Vec::new();
    for _ in 0..12 {
        let buyer = souq.customer();
        let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
        carts::apply_discount(t.db(), &buyer, cart.cart.id, "FIRST3".into())
            .await
            .expect("applies while unused");
        carts_.push((buyer, cart.cart.id));
    }
    let keys: Vec<String> = (0..carts_.len()).map(|i| format!("race-{i}")).collect();
    let racing = carts_
        .iter()
        .zip(&keys)
        .map(|((buyer, cart), key)| check_out(&t, buyer, *cart, key));
    let (mut placed, mut used_up) = (0, 0);
    for outcome in join_all(racing).await {
        match outcome {
            Ok(order) => {
                assert_eq!(order.discount_total, 500);
                placed += 1;
            }
            Err(cityos_core::Failure::User(e)) if e.code == Code::DiscountUsedUp => used_up += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((placed, used_up), (3, 9));
    assert_eq!(on_hand(&t, &souq, tea).await, 97);
    let v = gql(
        &t,
        &souq.admin,
        "{ discountCodes(first: 5) { totalCount edges { node { code timesUsed usageLimit } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        v["data"]["discountCodes"]["edges"][0]["node"]["timesUsed"], 3,
        "{v}"
    );
}

#[tokio::test]
async fn shipping_follows_the_address_and_pickup_needs_no_shipping_address() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 10, None).await;
    let gulf = setup(
        &t,
        &souq,
        "gulf",
        "shippingMethodCreate",
        json!({
            "name": "Gulf courier", "kind": "FLAT_RATE", "rateMinor": 2500, "countries": ["AE"]
        }),
    )
    .await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let id = cart.cart.id;
    // Nothing delivers to Saudi Arabia: the group has no options and checkout refuses.
    assert!(cart.totals.shipments[0].options.is_empty());
    assert_eq!(
        refusal(choose(&t, &buyer, id, None, id_of(&gulf)).await),
        Code::ShippingMethodUnavailable
    );
    assert_eq!(
        refusal(check_out(&t, &buyer, id, "k").await),
        Code::ShippingUnavailable
    );
    assert_eq!(
        refusal(choose(&t, &buyer, id, Some(VendorId::new()), id_of(&gulf)).await),
        Code::NotFound
    );
    // In the Emirates it ships, at its rate.
    let dubai = Address {
        city: "Dubai".into(),
        country_code: "AE".into(),
        postal_code: None,
        ..address()
    };
    let moved = carts::update(
        t.db(),
        &buyer,
        id,
        CartChanges {
            shipping_address: Some(dubai),
            ..CartChanges::default()
        },
    )
    .await
    .expect("moved");
    assert_eq!(
        (moved.totals.shipping_total, moved.totals.total),
        (2500, 3500)
    );
    let order = check_out(&t, &buyer, id, "k").await.expect("ships to AE");
    assert_eq!(order.shipping_total, 2500);

    // A pickup-only cart needs a billing address, not a shipping address.
    let pickup = setup(
        &t,
        &souq,
        "pickup",
        "shippingMethodCreate",
        json!({
            "name": "Collect", "kind": "PICKUP", "pickupLocation": "Souq gate 3"
        }),
    )
    .await;
    let guest = souq.guest();
    let cart = carts::create(t.db(), &guest, None, Some("guest@example.com".into()))
        .await
        .expect("cart");
    let id = cart.cart.id;
    carts::add_lines(t.db(), &guest, id, vec![line(tea, 1)])
        .await
        .expect("line");
    choose(&t, &guest, id, None, id_of(&pickup))
        .await
        .expect("pickup chosen");
    let outcome = check_out(&t, &guest, id, "g").await;
    assert_eq!(refusal(outcome), Code::AddressRequired);
    carts::update(
        t.db(),
        &guest,
        id,
        CartChanges {
            billing_address: Some(address()),
            ..CartChanges::default()
        },
    )
    .await
    .expect("billing");
    let order = check_out(&t, &guest, id, "g").await.expect("picked up");
    assert_eq!((order.shipping_total, order.total), (0, 1000));

    // Staff set-up refusals.
    let bad = [
        (
            "shippingMethodCreate",
            json!({"name": "Free", "kind": "FREE_ABOVE", "rateMinor": 100}),
            "INVALID_AMOUNT",
        ),
        (
            "shippingMethodCreate",
            json!({"name": "X", "kind": "FLAT_RATE", "countries": ["SAU"]}),
            "INVALID_COUNTRY",
        ),
        (
            "taxRuleCreate",
            json!({"name": "VAT", "countryCode": "SA", "rateBasisPoints": 10001, "inclusive": false}),
            "INVALID_AMOUNT",
        ),
        (
            "taxRuleCreate",
            json!({"name": "VAT", "countryCode": "SA", "categoryId": Uuid::now_v7().to_string(), "rateBasisPoints": 1500, "inclusive": false}),
            "NOT_FOUND",
        ),
        (
            "discountCodeCreate",
            json!({"code": "OK", "kind": "PERCENTAGE", "percent": 5}),
            "INVALID_CODE",
        ),
        (
            "discountCodeCreate",
            json!({"code": "HALF", "kind": "PERCENTAGE", "percent": 101}),
            "INVALID_AMOUNT",
        ),
        (
            "discountCodeCreate",
            json!({"code": "PAST", "kind": "PERCENTAGE", "percent": 5, "endsAt": "2020-01-01T00:00:00Z"}),
            "INVALID_WINDOW",
        ),
    ];
    for (mutation, input, code) in bad {
        let query = format!(
            "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}",
            upper_first(mutation)
        );
        let v = gql(&t, &souq.admin, &query, json!({ "input": input })).await;
        assert_eq!(user_errors(&v, mutation), [code], "{mutation} {input}: {v}");
    }
    setup(
        &t,
        &souq,
        "vat",
        "taxRuleCreate",
        json!({"name": "VAT", "countryCode": "SA", "rateBasisPoints": 1500, "inclusive": false}),
    )
    .await;
    let v = gql(&t, &souq.admin, "mutation { taxRuleCreate(input: {name: \"VAT again\", countryCode: \"SA\", rateBasisPoints: 1000, inclusive: false}) { userErrors { code } } }", json!({})).await;
    assert_eq!(user_errors(&v, "taxRuleCreate"), ["RULE_EXISTS"]);
    let v = gql(&t, &buyer, "mutation { discountCodeCreate(input: {code: \"MINE\", kind: PERCENTAGE, percent: 90}) { userErrors { code } } }", json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    let v = gql(&t, &buyer, "{ shippingMethods { name } }", json!({})).await;
    assert_eq!(
        v["data"]["shippingMethods"].as_array().map(Vec::len),
        Some(2),
        "{v}"
    );
}

#[tokio::test]
async fn shipping_tax_and_discount_tables_are_isolated_by_tenant() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let other = shop(&t, "other").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 10, None).await;
    let flat = setup(
        &t,
        &souq,
        "flat",
        "shippingMethodCreate",
        json!({"name": "Flat", "kind": "FLAT_RATE", "rateMinor": 500}),
    )
    .await;
    let rule = setup(
        &t,
        &souq,
        "vat",
        "taxRuleCreate",
        json!({"name": "VAT", "countryCode": "SA", "rateBasisPoints": 1500, "inclusive": false}),
    )
    .await;
    let code = setup(
        &t,
        &souq,
        "code",
        "discountCodeCreate",
        json!({"code": "TENOFF", "kind": "PERCENTAGE", "percent": 10}),
    )
    .await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    choose(&t, &buyer, cart.cart.id, None, id_of(&flat))
        .await
        .expect("flat");
    carts::apply_discount(t.db(), &buyer, cart.cart.id, "TENOFF".into())
        .await
        .expect("code");
    let order = check_out(&t, &buyer, cart.cart.id, "iso")
        .await
        .expect("order");
    // 10.00 - 1.00 + 15% of 9.00 + 5.00 shipping.
    assert_eq!(order.total, 900 + 135 + 500);

    assert_isolated(
        &t,
        &[
            "shipping_methods",
            "cart_shipments",
            "tax_rules",
            "discount_codes",
            "discount_redemptions",
        ],
        souq.info.id,
        other.info.id,
    )
    .await;
    // Through the application: another tenant's staff see none of it and cannot change it, and
    // the code does not exist for their shoppers.
    let theirs = &other.admin;
    let v = gql(
        &t,
        theirs,
        "{ shippingMethods { id } taxRules { id } discountCodes { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        (
            v["data"]["shippingMethods"].as_array().map(Vec::len),
            v["data"]["taxRules"].as_array().map(Vec::len),
            v["data"]["discountCodes"]["totalCount"].as_i64()
        ),
        (Some(0), Some(0), Some(0)),
        "{v}"
    );
    for (mutation, input) in [
        (
            "shippingMethodUpdate",
            json!({"id": flat["id"], "active": false}),
        ),
        ("taxRuleDelete", json!({"id": rule["id"]})),
        (
            "discountCodeUpdate",
            json!({"id": code["id"], "active": false}),
        ),
    ] {
        let query = format!(
            "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ userErrors {{ code }} }} }}",
            upper_first(mutation)
        );
        let v = gql(&t, theirs, &query, json!({ "input": input })).await;
        assert_eq!(user_errors(&v, mutation), ["NOT_FOUND"], "{mutation}: {v}");
    }
    let stranger = other.customer();
    let tea2 = item(&t, &other, "TEA-2", 1000, 10, None).await;
    let their_cart = ready_cart(&t, &stranger, vec![line(tea2, 1)]).await;
    let outcome =
        carts::apply_discount(t.db(), &stranger, their_cart.cart.id, "TENOFF".into()).await;
    assert_eq!(refusal(outcome), Code::DiscountNotFound);
    assert_eq!(
        refusal(choose(&t, &stranger, their_cart.cart.id, None, id_of(&flat)).await),
        Code::ShippingMethodUnavailable
    );
}
