//! Discount codes at checkout: refusals that say why, and usage limits under racing checkouts.

use super::setup;
use crate::common::*;
use catalog::taxonomy::categories::{self, NewCategory};
use cityos_testkit::refusal;
use futures_util::future::join_all;
use orders::carts::{self};
use orders::errors::OrdersErrorCode as Code;
use serde_json::json;

#[tokio::test]
async fn a_code_that_does_not_apply_says_why_and_changes_nothing() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let vendor = cityos_fixtures::approved_vendor(&t, &souq.info).await;
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
