//! Tenant isolation of every orders table at once: one fixture (a card order with shipping, tax
//! and a discount, paid through the provider's webhook, shipped, delivered, partly returned and
//! refunded, then disputed; a company's order on account, paid in part, one approved, and a quote
//! sent to it with a message; a booking line paid, cancelled and partly refunded) writes rows to
//! each table for one tenant, and the testkit probes every table the catalogue lists, so a table
//! added without fixture rows here fails by name.

use crate::common::*;
use cityos_testkit::stripe::{StripeDouble, WEBHOOK_SECRET, event, signature};
use orders::carts::{self, ShippingChoice};
use orders::checkout::{self, CheckoutRequest};
use orders::disputes::{self, DisputeReason};
use orders::ids::{OrderLineId, ShippingMethodId};
use orders::payments::PaymentMethod;
use orders::returns::{self, ReturnLineInput};
use orders::webhooks;
use serde_json::json;

#[tokio::test]
async fn every_orders_table_is_isolated_by_tenant_from_one_fixture() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let other = shop(&t, "other").await;
    let staff = &souq.admin;
    // Its order's event goes to a subscriber: a delivery row.
    orders::OUTBOX
        .subscribe(t.db(), &[("catalog".into(), "order.placed".into())])
        .await
        .expect("subscribed");
    let stripe = StripeDouble::start().await;
    let gateway = gateway_of(&stripe);

    // The tenant's terms: a tax rule, a shipping method, a discount code.
    gql(&t, staff, "mutation { taxRuleCreate(input: {name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false}) { userErrors { code } } }", json!({})).await;
    let v = gql(&t, staff, "mutation { shippingMethodCreate(input: {name: \"Flat\", kind: FLAT_RATE, rateMinor: 500}) { shippingMethod { id } userErrors { code } } }", json!({})).await;
    let flat: ShippingMethodId = v["data"]["shippingMethodCreate"]["shippingMethod"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("shipping method");
    gql(&t, staff, "mutation { discountCodeCreate(input: {code: \"TENOFF\", kind: PERCENTAGE, percent: 10}) { userErrors { code } } }", json!({})).await;

    // A cart of a vendor's tea, with the code and the method chosen, checked out by card.
    let vendor = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let tea = item(&t, &souq, "TEA-1", 1000, 10, Some(vendor)).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 3)]).await.cart.id;
    carts::apply_discount(t.db(), &buyer, cart, "TENOFF".into())
        .await
        .expect("code");
    let choice = ShippingChoice {
        vendor: Some(vendor),
        method: flat,
        instructions: None,
    };
    carts::choose_shipping(t.db(), &buyer, cart, choice)
        .await
        .expect("shipping");
    let request = CheckoutRequest {
        cart_id: cart,
        idempotency_key: "iso-1".into(),
        payment_method: PaymentMethod::Card,
        expected_total: None,
        purchase_order_number: None,
    };
    let order = checkout::complete(t.db(), &buyer, request, &gateway)
        .await
        .map(placed)
        .expect("order");

    // Paid through the provider's signed webhook (a processed payment event), then confirmed.
    let intent = payment_of(&t, &souq, order.id)
        .await
        .provider_reference
        .expect("an intent");
    let body = event(
        "evt_iso",
        "payment_intent.succeeded",
        stripe.succeed(&intent),
    );
    let signed = signature(WEBHOOK_SECRET, &body, 0);
    webhooks::stripe_event(t.db(), Some(WEBHOOK_SECRET), Some(&signed), &body)
        .await
        .expect("webhook");
    let status = order_of(&t, &souq, order.id).await.status;
    if status.as_str() == "PENDING" {
        orders::orders::confirm(t.db(), staff, order.id)
            .await
            .expect("confirmed");
    }

    // Shipped and delivered; one unit returned and refunded (a credit note); then a dispute.
    deliver_all(&t, &souq, &order, false).await;
    let v = gql(
        &t,
        &buyer,
        "query($o: ID!) { order(id: $o) { lines { id } } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    let line_id: OrderLineId = v["data"]["order"]["lines"][0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("line");
    let wanted = vec![ReturnLineInput {
        order_line_id: line_id,
        quantity: 1,
    }];
    let ret = returns::request(t.db(), &buyer, order.id, wanted, "Too strong".into())
        .await
        .expect("requested")
        .ret
        .id;
    returns::approve(t.db(), staff, ret)
        .await
        .expect("approved");
    returns::receive(t.db(), staff, ret, true)
        .await
        .expect("received");
    returns::refund(t.db(), staff, &gateway, ret)
        .await
        .expect("refunded");
    let dispute = disputes::open(
        t.db(),
        &buyer,
        order.id,
        DisputeReason::Damaged,
        "One tin was dented".into(),
        Vec::new(),
    )
    .await
    .expect("dispute")
    .dispute
    .id;
    disputes::message(t.db(), staff, dispute, "We will look".into(), Vec::new())
        .await
        .expect("message");

    // A company's order on account, paid in part against its invoice.
    let (company_id, _, company_buyer) = company(&t, &souq, "iso").await;
    net_30(&t, &souq, company_id, 100_000, 0).await;
    let company_cart = ready_cart(&t, &company_buyer, vec![line(tea, 1)])
        .await
        .cart
        .id;
    let on_account = check_out_with(
        &t,
        &company_buyer,
        company_cart,
        "iso-company",
        PaymentMethod::OnAccount,
        Some("PO-1"),
    )
    .await
    .expect("on account");
    let invoice = invoice_of(&t, souq.info.id, on_account.id).await.id;
    orders::orders::record_invoice_payment(t.db(), staff, invoice, 100, Some("TRX".into()))
        .await
        .expect("recorded");
    // An approval rule then sends the buyer's next checkout to an approver, who approves it.
    let (_, approver) = member(
        &t,
        &souq,
        &company_buyer,
        company_id,
        "approver@iso.test",
        cityos_core::CompanyRole::Approver,
    )
    .await;
    let any_approver = vendors::api::ApprovalLevel {
        mode: vendors::api::ApprovalMode::Any,
        roles: vec![cityos_core::CompanyRole::Approver],
        members: Vec::new(),
    };
    approval_rule(&t, &souq, company_id, 1, vec![any_approver]).await;
    let waiting_cart = ready_cart(&t, &company_buyer, vec![line(tea, 1)])
        .await
        .cart
        .id;
    let Ok(checkout::Checkout::AwaitingApproval(request)) =
        submit(&t, &company_buyer, waiting_cart, "iso-approval").await
    else {
        panic!("an approval request");
    };
    checkout::approvals::decide(
        t.db(),
        &approver,
        request.id,
        request.version,
        true,
        None,
        &gateway,
    )
    .await
    .expect("approved");
    // Staff quotes the company a price, with a message, and sends it (a frozen version).
    let quote = orders::quotes::draft(
        t.db(),
        staff,
        orders::quotes::Draft {
            company_id,
            lines: vec![orders::quotes::LineInput {
                variant_id: tea,
                quantity: 5,
                unit_price: Some(900),
            }],
            valid_until: Some(chrono::Utc::now() + chrono::Duration::days(7)),
            note: None,
            message: Some("Our price for five".into()),
        },
    )
    .await
    .expect("quote drafted");
    orders::quotes::send(t.db(), staff, quote.id)
        .await
        .expect("quote sent");

    // The other tenant has an order of its own.
    let theirs = item(&t, &other, "THEIRS-1", 500, 5, None).await;
    let their_buyer = other.customer();
    let their_cart = ready_cart(&t, &their_buyer, vec![line(theirs, 1)]).await;
    check_out(&t, &their_buyer, their_cart.cart.id, "theirs")
        .await
        .expect("their order");

    // A booking line checked out, paid, cancelled with a fee and the rest refunded: a booking
    // refund and the inbox's record of the event.
    crate::bookings::booked_paid_and_refunded(&t, &souq).await;

    t.assert_every_table_isolated("orders", souq.info.id, other.info.id)
        .await;
}
