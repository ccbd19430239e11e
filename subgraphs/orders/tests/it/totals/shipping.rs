//! Shipping by address and pickup, and the terms' tables under tenant isolation.

use super::{choose, id_of, setup, upper_first};
use crate::common::*;
use cityos_testkit::refusal;
use orders::carts::{self, Address, CartChanges};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::VendorId;
use serde_json::json;
use uuid::Uuid;

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
