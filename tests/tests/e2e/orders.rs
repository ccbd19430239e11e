//! End-to-end through the router: a guest fills a cart from the storefront, signs up, merges it,
//! checks out; staff confirm, ship, deliver and take the cash; the customer sees the order on
//! `me { orders }` (identity's User extended by orders) with the catalog's product on each line.
//! And a card journey: discount, shipping and tax, checkout by card, paid through Stripe's signed
//! webhook (a local Stripe double), fulfilled, partially refunded, invoice and credit note.

use cityos_e2e::fixtures::{
    bearer, create_location, create_stocked_product, create_tenant, headers, platform_token,
    staff_mutation,
};
use cityos_e2e::{Stack, StackOptions};
use cityos_testkit::stripe::{StripeDouble, WEBHOOK_SECRET, event, signature};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_cart_becomes_an_order_that_ships_and_completes() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bazaar").await;
    let location = create_location(&stack, &shop, "Riyadh").await;
    let (_, variants) = create_stocked_product(&stack, &shop, "oud", &location, 5).await;
    let storefront = [("x-publishable-key", shop.key.clone())];

    // A guest browses and fills a cart.
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation { cartCreate(input: {}) { cart { id currency } userErrors { code } } }",
            json!({}),
        )
        .await;
    let cart = r.data()["cartCreate"]["cart"]["id"]
        .as_str()
        .expect("cart")
        .to_owned();
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation($c: ID!, $v: ID!) { cartLinesAdd(input: {cartId: $c, lines: [{variantId: $v, quantity: 2}]}) {
               cart { subtotal { amountMinor } lines { unitPrice { amountMinor } variant { sku } product { title } } }
               userErrors { code } } }",
            json!({ "c": cart, "v": variants[0] }),
        )
        .await;
    let c = &r.data()["cartLinesAdd"]["cart"];
    // The line's variant and product come from the catalog, through the router.
    assert_eq!(c["lines"][0]["variant"]["sku"], "OUD-S", "{}", r.body);
    assert_eq!(c["lines"][0]["product"]["title"], "oud");
    assert_eq!(c["subtotal"]["amountMinor"], 19_800);

    // The guest signs up and merges the cart.
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation { customerSignUp(input: {email: \"layla@example.com\", password: \"a-long-password\"}) { accessToken } }",
            json!({}),
        )
        .await;
    let token = r.data()["customerSignUp"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let customer = [
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
    ];
    let r = stack
        .gql(&headers(&customer), "mutation($c: ID!) { cartMerge(input: {guestCartId: $c}) { cart { id itemCount } userErrors { code } } }", json!({ "c": cart }))
        .await;
    assert_eq!(r.data()["cartMerge"]["cart"]["itemCount"], 2, "{}", r.body);
    let address = json!({ "firstName": "Layla", "lastName": "Haddad", "line1": "Olaya Street 5",
        "city": "Riyadh", "postalCode": "12211", "countryCode": "SA" });
    let r = stack
        .gql(&headers(&customer), "mutation($c: ID!, $a: AddressInput!) { cartUpdate(input: {cartId: $c, shippingAddress: $a, deliveryInstructions: \"Ring twice\"}) { userErrors { code } } }", json!({ "c": cart, "a": address }))
        .await;
    assert_eq!(
        r.data()["cartUpdate"]["userErrors"],
        json!([]),
        "{}",
        r.body
    );

    // Checkout, twice with one key: one order.
    let checkout = "mutation($c: ID!) { checkoutComplete(input: {cartId: $c, idempotencyKey: \"e2e-1\", expectedTotalMinor: 19800}) {
        order { id number status total { amountMinor } deliveryInstructions
                vendorOrders { id } payments { id method status } lines { sku quantity } }
        userErrors { code message } } }";
    let first = stack
        .gql(&headers(&customer), checkout, json!({ "c": cart }))
        .await;
    let again = stack
        .gql(&headers(&customer), checkout, json!({ "c": cart }))
        .await;
    let order = first.data()["checkoutComplete"]["order"].clone();
    assert_eq!(order["status"], "PENDING", "{}", first.body);
    assert_eq!(order["id"], again.data()["checkoutComplete"]["order"]["id"]);
    assert_eq!(order["deliveryInstructions"], "Ring twice");
    assert_eq!(order["payments"][0]["method"], "CASH_ON_DELIVERY");
    // Staff run the order to completion.
    let order_id = order["id"].as_str().expect("order id");
    staff_mutation(&stack, &shop, "mutation($o: ID!) { orderConfirm(input: {orderId: $o}) { order { status } userErrors { code } } }", json!({ "o": order_id })).await;
    let shipped = staff_mutation(
        &stack,
        &shop,
        "mutation($p: ID!) { fulfillmentCreate(input: {vendorOrderId: $p, carrier: \"SMSA\", trackingNumber: \"SM-1\"}) { fulfillment { id } userErrors { code } } }",
        json!({ "p": order["vendorOrders"][0]["id"] }),
    )
    .await;
    staff_mutation(&stack, &shop, "mutation($f: ID!) { fulfillmentDeliver(input: {fulfillmentId: $f}) { fulfillment { deliveredAt } userErrors { code } } }", json!({ "f": shipped["fulfillment"]["id"] })).await;
    let paid = staff_mutation(&stack, &shop, "mutation($p: ID!) { paymentCapture(input: {paymentId: $p}) { order { status paymentStatus } userErrors { code } } }", json!({ "p": order["payments"][0]["id"] })).await;
    assert_eq!(
        paid["order"],
        json!({ "status": "COMPLETED", "paymentStatus": "PAID" })
    );

    // The customer sees it on their own user, across identity and orders.
    let r = stack
        .gql(&headers(&customer), "{ me { email orders { totalCount edges { node { number status lines { product { title } } } } } } }", json!({}))
        .await;
    let me = &r.data()["me"];
    assert_eq!(me["email"], "layla@example.com", "{}", r.body);
    assert_eq!(me["orders"]["totalCount"], 1);
    assert_eq!(me["orders"]["edges"][0]["node"]["status"], "COMPLETED");
    assert_eq!(
        me["orders"]["edges"][0]["node"]["lines"][0]["product"]["title"],
        "oud"
    );
    // Staff list it; a storefront key cannot.
    let r = stack
        .gql(
            &headers(&shop.staff()),
            "{ orders { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["orders"]["totalCount"], 1, "{}", r.body);
    let r = stack
        .gql(
            &headers(&storefront),
            "{ orders { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_discounted_card_order_is_paid_by_webhook_shipped_refunded_and_invoiced() {
    let stripe = StripeDouble::start().await;
    let stack = Stack::start_with(StackOptions {
        stripe_api_base: Some(stripe.base.clone()),
        ..StackOptions::default()
    })
    .await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "medina").await;
    let location = create_location(&stack, &shop, "Jeddah").await;
    let (_, variants) = create_stocked_product(&stack, &shop, "oud", &location, 5).await;
    staff_mutation(&stack, &shop, "mutation { shippingMethodCreate(input: {name: \"Courier\", kind: FLAT_RATE, rateMinor: 1500}) { shippingMethod { id } userErrors { code } } }", json!({})).await;
    staff_mutation(&stack, &shop, "mutation { taxRuleCreate(input: {name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false}) { taxRule { id } userErrors { code } } }", json!({})).await;
    staff_mutation(&stack, &shop, "mutation { discountCodeCreate(input: {code: \"EID10\", kind: PERCENTAGE, percent: 10}) { discountCode { id } userErrors { code } } }", json!({})).await;
    let storefront = [("x-publishable-key", shop.key.clone())];

    // Browse, cart, discount.
    let r = stack
        .gql(
            &headers(&storefront),
            "{ products(first: 5) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.data()["products"]["edges"][0]["node"]["title"],
        "oud",
        "{}",
        r.body
    );
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation { cartCreate(input: {email: \"noor@example.com\"}) { cart { id } } }",
            json!({}),
        )
        .await;
    let cart = r.data()["cartCreate"]["cart"]["id"]
        .as_str()
        .expect("cart")
        .to_owned();
    let address = json!({ "firstName": "Noor", "lastName": "Saleh", "line1": "Tahlia Street 40",
        "city": "Jeddah", "postalCode": "23431", "countryCode": "SA" });
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation($c: ID!, $v: ID!, $a: AddressInput!) {
               cartLinesAdd(input: {cartId: $c, lines: [{variantId: $v, quantity: 2}]}) { userErrors { code } }
               cartUpdate(input: {cartId: $c, shippingAddress: $a}) { userErrors { code } }
               cartDiscountApply(input: {cartId: $c, code: \"eid10\"}) {
                 cart { subtotal { amountMinor } discountTotal { amountMinor } shippingTotal { amountMinor }
                        taxTotal { amountMinor } total { amountMinor } discount { code problem }
                        vendorGroups { shippingMethod { name } } }
                 userErrors { code message } } }",
            json!({ "c": cart, "v": variants[0], "a": address }),
        )
        .await;
    let c = &r.data()["cartDiscountApply"]["cart"];
    // 2 x 99.00 = 198.00, less 10% = 178.20, VAT 15% = 26.73, courier 15.00: 219.93.
    let totals: Vec<i64> = [
        "subtotal",
        "discountTotal",
        "shippingTotal",
        "taxTotal",
        "total",
    ]
    .iter()
    .map(|f| c[f]["amountMinor"].as_i64().unwrap_or(-1))
    .collect();
    assert_eq!(totals, [19_800, 1_980, 1_500, 2_673, 21_993], "{}", r.body);
    assert_eq!(c["vendorGroups"][0]["shippingMethod"]["name"], "Courier");

    // Checkout by card: a PaymentIntent at Stripe, its client secret for the storefront.
    let r = stack
        .gql(
            &headers(&storefront),
            "mutation($c: ID!) { checkoutComplete(input: {cartId: $c, idempotencyKey: \"card-1\", paymentMethod: CARD, expectedTotalMinor: 21993}) {
               order { id status discountCode vendorOrders { id } payments { id method status clientSecret } }
               userErrors { code message } } }",
            json!({ "c": cart }),
        )
        .await;
    let order = r.data()["checkoutComplete"]["order"].clone();
    assert_eq!(order["status"], "PENDING", "{}", r.body);
    assert_eq!(order["discountCode"], "EID10");
    let secret = order["payments"][0]["clientSecret"]
        .as_str()
        .expect("client secret");
    let intent = secret
        .split("_secret")
        .next()
        .expect("intent id")
        .to_owned();
    assert_eq!(stripe.books().intents[&intent]["amount"], 21_993);

    // The customer pays; Stripe calls the orders process directly (not through the router).
    let hook = stack
        .subgraph_url("orders")
        .replace("/graphql", "/webhooks/stripe");
    let body = event(
        "evt_e2e_1",
        "payment_intent.succeeded",
        stripe.succeed(&intent),
    );
    let text = String::from_utf8(body).expect("utf-8");
    let forged = signature("whsec_not_ours", text.as_bytes(), 0);
    let r = stack
        .post(&hook, &[("stripe-signature", &forged)], text.clone())
        .await;
    assert_eq!(r.status, 400, "a forged event is refused");
    let signed = signature(WEBHOOK_SECRET, text.as_bytes(), 0);
    for _ in 0..2 {
        let r = stack
            .post(&hook, &[("stripe-signature", &signed)], text.clone())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // Staff ship and deliver, then refund part of it.
    let order_id = order["id"].as_str().expect("order id");
    let shipped = staff_mutation(&stack, &shop, "mutation($p: ID!) { fulfillmentCreate(input: {vendorOrderId: $p, carrier: \"SMSA\", trackingNumber: \"SM-9\"}) { fulfillment { id } userErrors { code } } }", json!({ "p": order["vendorOrders"][0]["id"] })).await;
    staff_mutation(&stack, &shop, "mutation($f: ID!) { fulfillmentDeliver(input: {fulfillmentId: $f}) { fulfillment { deliveredAt } userErrors { code } } }", json!({ "f": shipped["fulfillment"]["id"] })).await;
    let refund = staff_mutation(&stack, &shop, "mutation($p: ID!) { paymentRefund(input: {paymentId: $p, amountMinor: 5000, reason: \"damaged box\"}) { refund { status amount { amountMinor } } userErrors { code message } } }", json!({ "p": order["payments"][0]["id"] })).await;
    assert_eq!(refund["refund"]["status"], "SUCCEEDED", "{refund}");

    let r = stack
        .gql(
            &headers(&shop.staff()),
            "query($o: ID!) { order(id: $o) { status paymentStatus total { amountMinor }
               payments { status capturedAmount { amountMinor } refundedAmount { amountMinor } }
               invoices { kind displayNumber status total { amountMinor } documentHtml } } }",
            json!({ "o": order_id }),
        )
        .await;
    let o = &r.data()["order"];
    assert_eq!(
        (o["status"].as_str(), o["paymentStatus"].as_str()),
        (Some("COMPLETED"), Some("PARTIALLY_REFUNDED")),
        "{}",
        r.body
    );
    assert_eq!(o["payments"][0]["capturedAmount"]["amountMinor"], 21_993);
    assert_eq!(o["payments"][0]["refundedAmount"]["amountMinor"], 5_000);
    let documents: Vec<(String, String, i64)> = o["invoices"]
        .as_array()
        .expect("invoices")
        .iter()
        .map(|d| {
            (
                d["displayNumber"].as_str().unwrap_or("").to_owned(),
                d["status"].as_str().unwrap_or("").to_owned(),
                d["total"]["amountMinor"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        documents,
        [
            ("INV-000001".to_owned(), "PAID".to_owned(), 21_993),
            ("CN-000001".to_owned(), "PAID".to_owned(), 5_000)
        ],
        "{}",
        r.body
    );
    assert!(
        o["invoices"][1]["documentHtml"]
            .as_str()
            .is_some_and(|h| h.contains("damaged box"))
    );
}
