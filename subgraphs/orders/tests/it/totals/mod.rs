//! Shipping per vendor group, taxes per line and discount codes: exact totals from cart to order,
//! refusals that say why, usage limits under racing checkouts, and tenant isolation.

mod codes;
mod shipping;

use crate::common::*;
use catalog::taxonomy::categories::{self, NewCategory};
use cityos_testkit::TestDb;
use cityos_testkit::refusal;
use orders::carts::{self, ShippingChoice};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{CartId, ShippingMethodId, VendorId};
use serde_json::{Value, json};

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
    let vendor_a = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let vendor_b = cityos_fixtures::approved_vendor(&t, &souq.info).await;
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
            purchase_order_number: None,
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .map(placed);
    assert_eq!(refusal(wrong), Code::PriceChanged);
    let order = orders::checkout::complete(
        t.db(),
        &buyer,
        orders::checkout::CheckoutRequest {
            cart_id: id,
            idempotency_key: "k1".into(),
            payment_method: orders::payments::PaymentMethod::CashOnDelivery,
            expected_total: Some(28068),
            purchase_order_number: None,
        },
        &orders::payments::Gateway::default(),
    )
    .await
    .map(placed)
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
