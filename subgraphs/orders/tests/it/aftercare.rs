//! Returns (with restocking and refunds) and disputes (messages, evidence, resolutions) as state
//! machines, racing and isolated by tenant.

use crate::common::*;
use cityos_core::{Failure, RequestContext};
use cityos_testkit::TestDb;
use cityos_testkit::refusal;
use cityos_testkit::stripe::{StripeDouble, WEBHOOK_SECRET, event, signature};
use futures_util::future::join_all;
use orders::disputes::{self, DisputeReason, DisputeResolution};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{OrderId, OrderLineId};
use orders::payments::Gateway;
use orders::returns::{self, ReturnLineInput};
use serde_json::json;

async fn order_view(t: &TestDb, who: &RequestContext, order: OrderId) -> serde_json::Value {
    let v = gql(
        t,
        who,
        "query($o: ID!) { order(id: $o) { paymentStatus lines { id }
            payments { id refundedAmount { amountMinor } }
            returns { status amount { amountMinor } restocked lines { orderLineId quantity } }
            disputes { status reason resolution messages { side body evidence } }
            invoices { kind total { amountMinor } } } }",
        json!({"o": order.to_string()}),
    )
    .await;
    v["data"]["order"].clone()
}

#[tokio::test]
async fn a_return_is_approved_received_restocked_and_refunded_once() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    gql(&t, &souq.admin, "mutation { taxRuleCreate(input: {name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false}) { userErrors { code } } }", json!({})).await;
    let lamp = item(&t, &souq, "LAMP-1", 5000, 10, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(lamp, 3)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "k")
        .await
        .expect("order");
    let line_id: OrderLineId = order_view(&t, &buyer, order.id).await["lines"][0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("line");
    let want = |quantity| {
        vec![ReturnLineInput {
            order_line_id: line_id,
            quantity,
        }]
    };
    let staff = &souq.admin;
    let reason = || "The shade is cracked".to_owned();

    // Not delivered yet: nothing to return.
    assert_eq!(
        refusal(returns::request(t.db(), &buyer, order.id, want(1), reason()).await),
        Code::NotDelivered
    );
    deliver_all(&t, &souq, &order, true).await;
    assert_eq!(on_hand(&t, &souq, lamp).await, 7);

    // Two of three units: worth 2/3 of the line's 172.50 (150.00 + 15% VAT).
    let ret = returns::request(t.db(), &buyer, order.id, want(2), reason())
        .await
        .expect("requested");
    assert_eq!(ret.ret.amount, 11_500);
    assert_eq!(
        refusal(returns::request(t.db(), &buyer, order.id, want(2), reason()).await),
        Code::InvalidQuantity
    );
    let stranger = souq.customer();
    assert_eq!(
        refusal(returns::request(t.db(), &stranger, order.id, want(1), reason()).await),
        Code::NotFound
    );
    assert_eq!(
        refusal(returns::request(t.db(), &buyer, order.id, want(0), reason()).await),
        Code::InvalidQuantity
    );
    assert_eq!(
        refusal(returns::request(t.db(), &buyer, order.id, want(1), " ".into()).await),
        Code::InvalidText
    );
    // Out of order: cannot receive or refund before approval; customers cannot approve.
    assert_eq!(
        refusal(returns::receive(t.db(), staff, ret.ret.id, true).await),
        Code::InvalidTransition
    );
    assert!(matches!(
        returns::approve(t.db(), &buyer, ret.ret.id).await,
        Err(Failure::Api(_))
    ));
    returns::approve(t.db(), staff, ret.ret.id)
        .await
        .expect("approved");
    assert_eq!(
        refusal(returns::approve(t.db(), staff, ret.ret.id).await),
        Code::InvalidTransition
    );
    let received = returns::receive(t.db(), staff, ret.ret.id, true)
        .await
        .expect("received");
    assert!(received.ret.restocked);
    assert_eq!(
        on_hand(&t, &souq, lamp).await,
        9,
        "the two units are back on the shelf"
    );

    // Five racing refunds of the return: one refund.
    let none = Gateway::default();
    let racing = (0..5).map(|_| returns::refund(t.db(), staff, &none, ret.ret.id));
    let outcomes = join_all(racing).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(outcomes.iter().all(|o| match o {
        Ok((r, refund)) => r.ret.status.as_str() == "REFUNDED" && refund.amount == 11_500,
        Err(Failure::User(e)) => e.code == Code::InvalidTransition,
        Err(_) => false,
    }));
    let v = order_view(&t, staff, order.id).await;
    assert_eq!(v["paymentStatus"], "PARTIALLY_REFUNDED");
    assert_eq!(v["payments"][0]["refundedAmount"]["amountMinor"], 11_500);
    assert_eq!(v["returns"][0]["status"], "REFUNDED", "{v}");
    assert_eq!(
        v["invoices"][1],
        json!({"kind": "CREDIT_NOTE", "total": {"amountMinor": 11_500}})
    );

    // The last unit: rejected, after which it can be asked for again.
    let last = returns::request(t.db(), &buyer, order.id, want(1), reason())
        .await
        .expect("requested");
    returns::reject(t.db(), staff, last.ret.id, Some("Opened and used".into()))
        .await
        .expect("rejected");
    let again = returns::request(t.db(), &buyer, order.id, want(1), reason())
        .await
        .expect("asked again");
    assert_eq!(again.ret.amount, 17_250 - 11_500);

    // Isolation.
    let other = shop(&t, "other").await;
    assert_isolated(
        &t,
        &["returns", "return_lines"],
        souq.info.id,
        other.info.id,
    )
    .await;
    assert_eq!(
        refusal(returns::approve(t.db(), &other.admin, again.ret.id).await),
        Code::NotFound
    );
}

#[tokio::test]
async fn disputes_hold_both_sides_messages_and_end_in_a_resolution() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let rug = item(&t, &souq, "RUG-1", 20000, 10, None).await;
    let buyer = souq.customer();
    let staff = &souq.admin;
    let none = Gateway::default();
    let mut placed = Vec::new();
    for key in ["a", "b", "c"] {
        let cart = ready_cart(&t, &buyer, vec![line(rug, 1)]).await;
        let order = check_out(&t, &buyer, cart.cart.id, key)
            .await
            .expect("order");
        deliver_all(&t, &souq, &order, true).await;
        placed.push(order);
    }
    let photo = || vec!["https://img.example/rug-1.jpg".to_owned()];

    // Opened by the customer with evidence; one in progress per order.
    let d = disputes::open(
        t.db(),
        &buyer,
        placed[0].id,
        DisputeReason::Damaged,
        "The rug arrived torn".into(),
        photo(),
    )
    .await
    .expect("opened");
    let again = disputes::open(
        t.db(),
        &buyer,
        placed[0].id,
        DisputeReason::Other,
        "Again".into(),
        vec![],
    )
    .await;
    assert_eq!(refusal(again), Code::DisputeInProgress);
    let bad = disputes::open(
        t.db(),
        &buyer,
        placed[1].id,
        DisputeReason::Damaged,
        "x".into(),
        vec!["ftp://x".into()],
    )
    .await;
    assert_eq!(refusal(bad), Code::InvalidText);
    let stranger = disputes::open(
        t.db(),
        &souq.customer(),
        placed[1].id,
        DisputeReason::Other,
        "Not mine".into(),
        vec![],
    )
    .await;
    assert_eq!(refusal(stranger), Code::NotFound);
    let id = d.dispute.id;
    disputes::message(
        t.db(),
        staff,
        id,
        "Sorry! Could you send a photo of the label?".into(),
        vec![],
    )
    .await
    .expect("staff");
    disputes::message(
        t.db(),
        &buyer,
        id,
        "Here it is".into(),
        vec!["https://img.example/label.jpg".into()],
    )
    .await
    .expect("customer");
    assert_eq!(
        refusal(disputes::withdraw(t.db(), &souq.customer(), id).await),
        Code::NotFound
    );
    disputes::review(t.db(), staff, id)
        .await
        .expect("under review");
    assert_eq!(
        refusal(disputes::review(t.db(), staff, id).await),
        Code::InvalidTransition
    );
    let over = disputes::resolve(
        t.db(),
        staff,
        &none,
        id,
        DisputeResolution::Refund,
        None,
        Some(20_001),
    )
    .await;
    assert_eq!(refusal(over), Code::RefundExceedsCaptured);
    let missing = disputes::resolve(
        t.db(),
        staff,
        &none,
        id,
        DisputeResolution::Refund,
        None,
        None,
    )
    .await;
    assert_eq!(refusal(missing), Code::InvalidAmount);
    let resolved = disputes::resolve(
        t.db(),
        staff,
        &none,
        id,
        DisputeResolution::Refund,
        Some("Half back, keep the rug".into()),
        Some(10_000),
    )
    .await
    .expect("resolved");
    assert_eq!(
        (
            resolved.dispute.status.as_str(),
            resolved.dispute.resolution.map(|r| r.as_str())
        ),
        ("RESOLVED", Some("REFUND"))
    );
    assert_eq!(
        refusal(disputes::message(t.db(), &buyer, id, "Thanks".into(), vec![]).await),
        Code::InvalidTransition
    );
    let v = order_view(&t, &buyer, placed[0].id).await;
    assert_eq!(v["payments"][0]["refundedAmount"]["amountMinor"], 10_000);
    let sides: Vec<&str> = v["disputes"][0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["side"].as_str())
        .collect();
    assert_eq!(sides, ["CUSTOMER", "STAFF", "CUSTOMER"], "{v}");
    assert_eq!(
        v["disputes"][0]["messages"][2]["evidence"],
        json!(["https://img.example/label.jpg"])
    );

    // Withdrawn by the customer; replaced; rejected.
    let w = disputes::open(
        t.db(),
        &buyer,
        placed[1].id,
        DisputeReason::NotAsDescribed,
        "Wrong colour".into(),
        vec![],
    )
    .await
    .expect("opened");
    let w = disputes::withdraw(t.db(), &buyer, w.dispute.id)
        .await
        .expect("withdrawn");
    assert_eq!(w.dispute.status.as_str(), "WITHDRAWN");
    let r = disputes::open(
        t.db(),
        &buyer,
        placed[1].id,
        DisputeReason::Damaged,
        "Stained".into(),
        vec![],
    )
    .await
    .expect("a new one");
    let r = disputes::resolve(
        t.db(),
        staff,
        &none,
        r.dispute.id,
        DisputeResolution::Replace,
        None,
        None,
    )
    .await
    .expect("replace");
    assert_eq!(r.dispute.resolution.map(|r| r.as_str()), Some("REPLACE"));
    let j = disputes::open(
        t.db(),
        &buyer,
        placed[2].id,
        DisputeReason::NotReceived,
        "Where is it?".into(),
        vec![],
    )
    .await
    .expect("opened");
    let with_money = disputes::resolve(
        t.db(),
        staff,
        &none,
        j.dispute.id,
        DisputeResolution::Reject,
        None,
        Some(5),
    )
    .await;
    assert_eq!(refusal(with_money), Code::InvalidAmount);
    disputes::resolve(
        t.db(),
        staff,
        &none,
        j.dispute.id,
        DisputeResolution::Reject,
        Some("Signed for by you".into()),
        None,
    )
    .await
    .expect("rejected");

    // Isolation.
    let other = shop(&t, "other").await;
    assert_isolated(
        &t,
        &["disputes", "dispute_messages"],
        souq.info.id,
        other.info.id,
    )
    .await;
    assert_eq!(
        refusal(disputes::review(t.db(), &other.admin, j.dispute.id).await),
        Code::NotFound
    );
}

#[tokio::test]
async fn a_dispute_refund_the_provider_refuses_leaves_it_under_review() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let stripe = StripeDouble::start().await;
    let gateway = gateway_of(&stripe);
    let oud = item(&t, &souq, "OUD-1", 30000, 5, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(oud, 1)]).await;
    let order = orders::checkout::complete(
        t.db(),
        &buyer,
        orders::checkout::CheckoutRequest {
            cart_id: cart.cart.id,
            idempotency_key: "card".into(),
            payment_method: orders::payments::PaymentMethod::Card,
            expected_total: None,
            purchase_order_number: None,
        },
        &gateway,
    )
    .await
    .map(placed)
    .expect("order");
    let intent = stripe
        .books()
        .intents
        .keys()
        .next()
        .cloned()
        .expect("intent");
    let body = event(
        "evt_paid",
        "payment_intent.succeeded",
        stripe.succeed(&intent),
    );
    let signed = signature(WEBHOOK_SECRET, &body, 0);
    orders::webhooks::stripe_event(t.db(), Some(WEBHOOK_SECRET), Some(&signed), &body)
        .await
        .expect("paid");
    deliver_all(&t, &souq, &order, false).await;

    let d = disputes::open(
        t.db(),
        &buyer,
        order.id,
        DisputeReason::NotAsDescribed,
        "Smells of nothing".into(),
        vec![],
    )
    .await
    .expect("opened");
    disputes::review(t.db(), &souq.admin, d.dispute.id)
        .await
        .expect("reviewing");
    stripe.books().down = true;
    let outcome = disputes::resolve(
        t.db(),
        &souq.admin,
        &gateway,
        d.dispute.id,
        DisputeResolution::Refund,
        None,
        Some(30_000),
    )
    .await;
    assert_eq!(refusal(outcome), Code::PaymentProviderError);
    let v = order_view(&t, &souq.admin, order.id).await;
    assert_eq!(v["disputes"][0]["status"], "UNDER_REVIEW", "{v}");
    assert_eq!(v["payments"][0]["refundedAmount"]["amountMinor"], 0);
    stripe.books().down = false;
    disputes::resolve(
        t.db(),
        &souq.admin,
        &gateway,
        d.dispute.id,
        DisputeResolution::Refund,
        None,
        Some(30_000),
    )
    .await
    .expect("refunded this time");
    assert_eq!(
        order_view(&t, &souq.admin, order.id).await["paymentStatus"],
        "REFUNDED"
    );
}
