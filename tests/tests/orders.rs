//! End-to-end through the router: a guest fills a cart from the storefront, signs up, merges it,
//! checks out; staff confirm, ship, deliver and take the cash; the customer sees the order on
//! `me { orders }` (identity's User extended by orders) with the catalog's product on each line.

use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    bearer, create_location, create_stocked_product, create_tenant, headers, platform_token,
    staff_mutation,
};
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
