//! Card payments through Stripe (a local double speaking its protocol), the signed webhook, and
//! refunds: bounded by the capture, adding up, racing, failing at the provider.

use crate::common::*;
use cityos_core::Failure;
use cityos_testkit::TestDb;
use cityos_testkit::refusal;
use cityos_testkit::stripe::{StripeDouble, WEBHOOK_SECRET, event, signature};
use futures_util::future::join_all;
use orders::checkout::{self, CheckoutRequest};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::CartId;
use orders::orders::Order;
use orders::payments::{Gateway, PaymentMethod};
use orders::refunds::{self, RefundStatus};
use orders::webhooks::{self, Handled, Refused};
use serde_json::json;

async fn pay_by_card(
    t: &TestDb,
    who: &cityos_core::RequestContext,
    cart: CartId,
    key: &str,
    gateway: &Gateway,
) -> orders::errors::Outcome<Order> {
    checkout::complete(
        t.db(),
        who,
        CheckoutRequest {
            cart_id: cart,
            idempotency_key: key.into(),
            payment_method: PaymentMethod::Card,
            expected_total: None,
            purchase_order_number: None,
        },
        gateway,
    )
    .await
    .map(placed)
}

async fn deliver(t: &TestDb, body: &[u8], signed: Option<&str>) -> Result<Handled, Refused> {
    webhooks::stripe_event(t.db(), Some(WEBHOOK_SECRET), signed, body).await
}

async fn deliver_signed(t: &TestDb, body: &[u8]) -> Handled {
    let signed = signature(WEBHOOK_SECRET, body, 0);
    deliver(t, body, Some(&signed)).await.expect("accepted")
}

async fn outbox_count(t: &TestDb, shop: &Shop, topic: &str) -> i64 {
    let topic = topic.to_owned();
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use orders::schema::outbox;
            outbox::table
                .filter(outbox::topic.eq(topic))
                .count()
                .get_result::<i64>(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("count")
}

#[tokio::test]
async fn a_card_order_is_paid_through_stripe_and_its_signed_webhook() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let stripe = StripeDouble::start().await;
    let gateway = gateway_of(&stripe);
    let oud = item(&t, &souq, "OUD-1", 12500, 5, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(oud, 2)]).await;

    // Stripe is down at checkout: the order stands, its payment waits without an intent.
    stripe.books().down = true;
    let order = pay_by_card(&t, &buyer, cart.cart.id, "card-1", &gateway)
        .await
        .expect("placed");
    let waiting = payment_of(&t, &souq, order.id).await;
    assert_eq!(
        (
            waiting.provider.as_str(),
            waiting.status.as_str(),
            waiting.provider_reference.as_deref()
        ),
        ("STRIPE", "PENDING", None)
    );
    // Checking out again with the key creates the intent, once, however often it is retried.
    stripe.books().down = false;
    for _ in 0..3 {
        let again = pay_by_card(&t, &buyer, cart.cart.id, "card-1", &gateway)
            .await
            .expect("same order");
        assert_eq!(again.id, order.id);
    }
    let payment = payment_of(&t, &souq, order.id).await;
    let intent = payment.provider_reference.clone().expect("an intent");
    assert_eq!(
        payment.client_secret.as_deref(),
        Some(format!("{intent}_secret_double").as_str())
    );
    {
        let books = stripe.books();
        assert_eq!(books.created, 1, "one intent, whatever the retries");
        let made = &books.intents[&intent];
        assert_eq!(
            (made["amount"].as_i64(), made["currency"].as_str()),
            (Some(25000), Some("sar"))
        );
        assert_eq!(made["metadata"]["order_id"], order.id.to_string());
    }

    // The customer pays; Stripe says so. Bad, missing and stale signatures change nothing.
    let paid = stripe.succeed(&intent);
    let body = event("evt_1", "payment_intent.succeeded", paid);
    let forged = signature("whsec_someone_else", &body, 0);
    let stale = signature(WEBHOOK_SECRET, &body, 301);
    for signed in [
        Some(forged.as_str()),
        Some(stale.as_str()),
        Some("t=1,v1=zz"),
        None,
    ] {
        assert!(matches!(
            deliver(&t, &body, signed).await,
            Err(Refused::Signature(_))
        ));
    }
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let signed = signature(WEBHOOK_SECRET, &body, 0);
    assert!(matches!(
        deliver(&t, &tampered, Some(&signed)).await,
        Err(Refused::Signature(_))
    ));
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "UNPAID"
    );

    assert_eq!(deliver_signed(&t, &body).await, Handled::Applied);
    let after = order_of(&t, &souq, order.id).await;
    assert_eq!(
        (after.status.as_str(), after.payment_status.as_str()),
        ("CONFIRMED", "PAID")
    );
    let payment = payment_of(&t, &souq, order.id).await;
    assert_eq!(
        (payment.status.as_str(), payment.captured_amount),
        ("CAPTURED", 25000)
    );
    // Stripe delivers again: nothing changes.
    assert_eq!(deliver_signed(&t, &body).await, Handled::Duplicate);
    assert_eq!(outbox_count(&t, &souq, "payment.captured").await, 1);
    assert_eq!(outbox_count(&t, &souq, "order.confirmed").await, 1);
    // Events about intents the platform does not know, or of other types, are acknowledged.
    let unknown = event(
        "evt_2",
        "payment_intent.succeeded",
        json!({"id": "pi_elsewhere"}),
    );
    assert!(matches!(
        deliver_signed(&t, &unknown).await,
        Handled::Ignored(_)
    ));
    let other = event("evt_3", "customer.created", json!({"id": "cus_1"}));
    assert!(matches!(
        deliver_signed(&t, &other).await,
        Handled::Ignored(_)
    ));
    // Without a configured secret every delivery is refused.
    let unconfigured = webhooks::stripe_event(t.db(), None, Some(&signed), &body).await;
    assert!(matches!(unconfigured, Err(Refused::Signature(_))));
}

#[tokio::test]
async fn a_failed_card_can_be_retried_and_a_card_cancelled_before_payment_is_released() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let stripe = StripeDouble::start().await;
    let gateway = gateway_of(&stripe);
    let tea = item(&t, &souq, "TEA-1", 1000, 5, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let order = pay_by_card(&t, &buyer, cart.cart.id, "k", &gateway)
        .await
        .expect("order");
    let intent = payment_of(&t, &souq, order.id)
        .await
        .provider_reference
        .expect("intent");
    let declined = event(
        "evt_f",
        "payment_intent.payment_failed",
        json!({"id": intent, "last_payment_error": {"message": "Your card was declined."}}),
    );
    assert_eq!(deliver_signed(&t, &declined).await, Handled::Applied);
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "FAILED"
    );
    let paid = event("evt_s", "payment_intent.succeeded", stripe.succeed(&intent));
    assert_eq!(deliver_signed(&t, &paid).await, Handled::Applied);
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "PAID"
    );

    // Cancelled before paying: the intent is released at Stripe.
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let order = pay_by_card(&t, &buyer, cart.cart.id, "k2", &gateway)
        .await
        .expect("order");
    let intent = payment_of(&t, &souq, order.id)
        .await
        .provider_reference
        .expect("intent");
    orders::orders::cancel(t.db(), &buyer, order.id, None, &gateway)
        .await
        .expect("cancelled");
    assert_eq!(stripe.books().intents[&intent]["status"], "canceled");
    assert_eq!(
        payment_of(&t, &souq, order.id).await.status.as_str(),
        "CANCELLED"
    );
    assert_eq!(on_hand(&t, &souq, tea).await, 4);
}

#[tokio::test]
async fn refunds_add_up_never_exceed_the_capture_and_survive_races() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let none = Gateway::default();
    let lamp = item(&t, &souq, "LAMP-1", 10000, 50, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(lamp, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "k")
        .await
        .expect("order");
    let payment = payment_of(&t, &souq, order.id).await;
    let staff = &souq.admin;
    // Nothing captured yet: nothing to refund.
    let early = refunds::refund(t.db(), staff, &none, payment.id, 100, None).await;
    assert_eq!(refusal(early), Code::RefundExceedsCaptured);
    orders::orders::capture_payment(t.db(), staff, payment.id)
        .await
        .expect("captured");

    let first = refunds::refund(
        t.db(),
        staff,
        &none,
        payment.id,
        3000,
        Some("scratched".into()),
    )
    .await
    .expect("refunded");
    assert_eq!(first.status, RefundStatus::Succeeded);
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "PARTIALLY_REFUNDED"
    );
    refunds::refund(t.db(), staff, &none, payment.id, 4000, None)
        .await
        .expect("second");
    let over = refunds::refund(t.db(), staff, &none, payment.id, 3001, None).await;
    assert_eq!(refusal(over), Code::RefundExceedsCaptured);
    for bad in [0, -5] {
        let outcome = refunds::refund(t.db(), staff, &none, payment.id, bad, None).await;
        assert_eq!(refusal(outcome), Code::InvalidAmount);
    }
    let customer = refunds::refund(t.db(), &buyer, &none, payment.id, 1, None).await;
    assert!(
        matches!(customer, Err(Failure::Api(_))),
        "customers cannot refund"
    );
    refunds::refund(t.db(), staff, &none, payment.id, 3000, None)
        .await
        .expect("the rest");
    let done = payment_of(&t, &souq, order.id).await;
    assert_eq!(done.refunded_amount, 10000);
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "REFUNDED"
    );
    assert_eq!(outbox_count(&t, &souq, "payment.refunded").await, 3);

    // Ten racing refunds of 30.00 on a 100.00 capture: exactly three are made.
    let cart = ready_cart(&t, &buyer, vec![line(lamp, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "k2")
        .await
        .expect("order");
    let payment = payment_of(&t, &souq, order.id).await;
    orders::orders::capture_payment(t.db(), staff, payment.id)
        .await
        .expect("captured");
    let racing = (0..10).map(|_| refunds::refund(t.db(), staff, &none, payment.id, 3000, None));
    let outcomes = join_all(racing).await;
    let made = outcomes.iter().filter(|o| o.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Failure::User(e)) if e.code == Code::RefundExceedsCaptured))
        .count();
    assert_eq!((made, refused), (3, 7));
    assert_eq!(payment_of(&t, &souq, order.id).await.refunded_amount, 9000);
}

#[tokio::test]
async fn card_refunds_go_through_stripe_and_its_refund_events_are_reconciled() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let stripe = StripeDouble::start().await;
    let gateway = gateway_of(&stripe);
    let rug = item(&t, &souq, "RUG-1", 40000, 5, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(rug, 1)]).await;
    let order = pay_by_card(&t, &buyer, cart.cart.id, "k", &gateway)
        .await
        .expect("order");
    let payment = payment_of(&t, &souq, order.id).await;
    let intent = payment.provider_reference.clone().expect("intent");
    let paid = event(
        "evt_paid",
        "payment_intent.succeeded",
        stripe.succeed(&intent),
    );
    deliver_signed(&t, &paid).await;
    let staff = &souq.admin;

    let refund = refunds::refund(t.db(), staff, &gateway, payment.id, 10000, None)
        .await
        .expect("refunded at Stripe");
    assert!(
        refund
            .provider_reference
            .as_deref()
            .is_some_and(|r| r.starts_with("re_"))
    );
    // Stripe refuses (down): the refund is FAILED, its amount free again.
    stripe.books().down = true;
    let outcome = refunds::refund(t.db(), staff, &gateway, payment.id, 5000, None).await;
    assert_eq!(refusal(outcome), Code::PaymentProviderError);
    assert_eq!(outbox_count(&t, &souq, "refund.failed").await, 1);
    stripe.books().down = false;
    assert_eq!(payment_of(&t, &souq, order.id).await.refunded_amount, 10000);
    let v = gql(&t, staff, "query($o: ID!) { order(id: $o) { paymentStatus refunds { amount { amountMinor } status failure } payments { refundedAmount { amountMinor } clientSecret } } }", json!({"o": order.id.to_string()})).await;
    let refunds_seen = v["data"]["order"]["refunds"]
        .as_array()
        .expect("refunds")
        .clone();
    assert_eq!(refunds_seen.len(), 2, "{v}");
    assert_eq!(
        (
            refunds_seen[0]["status"].as_str(),
            refunds_seen[1]["status"].as_str()
        ),
        (Some("SUCCEEDED"), Some("FAILED")),
        "{v}"
    );
    assert_eq!(v["data"]["order"]["paymentStatus"], "PARTIALLY_REFUNDED");

    // Stripe's charge.refunded after our refund changes nothing; a refund made in Stripe's
    // dashboard raises the refunded total.
    let ours = event(
        "evt_r1",
        "charge.refunded",
        json!({"id": "ch_1", "payment_intent": intent, "amount_refunded": 10000}),
    );
    assert!(matches!(
        deliver_signed(&t, &ours).await,
        Handled::Ignored(_)
    ));
    let total = stripe.refund_in_dashboard(&intent, 30000);
    let theirs = event(
        "evt_r2",
        "charge.refunded",
        json!({"id": "ch_1", "payment_intent": intent, "amount_refunded": total}),
    );
    assert_eq!(deliver_signed(&t, &theirs).await, Handled::Applied);
    assert_eq!(payment_of(&t, &souq, order.id).await.refunded_amount, 40000);
    assert_eq!(
        order_of(&t, &souq, order.id).await.payment_status.as_str(),
        "REFUNDED"
    );
    let more = refunds::refund(t.db(), staff, &gateway, payment.id, 1, None).await;
    assert_eq!(refusal(more), Code::RefundExceedsCaptured);

    // Refunds and processed events are isolated by tenant.
    let other = shop(&t, "other").await;
    assert_isolated(
        &t,
        &["refunds", "payment_events"],
        souq.info.id,
        other.info.id,
    )
    .await;
    let theirs = refunds::refund(t.db(), &other.admin, &gateway, payment.id, 1, None).await;
    assert_eq!(refusal(theirs), Code::NotFound);
}
