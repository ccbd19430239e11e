//! The order lifecycle through GraphQL: confirm, ship per vendor, deliver, capture, cancel with
//! restock; who sees which orders; tenant isolation of every orders table.

use crate::common::*;
use serde_json::{Value, json};

const ORDER: &str = "id number status paymentStatus total { amountMinor currency }
    vendorOrders { id status total { amountMinor } lines { sku } fulfillments { id carrier trackingNumber deliveredAt } }
    payments { id method status amount { amountMinor } capturedAmount { amountMinor } }
    lines { sku productTitle quantity unitPrice { amountMinor } priceRule total { amountMinor } variant { id } product { id } }";

#[tokio::test]
async fn an_order_runs_from_cart_to_completed_through_graphql() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let perfumer = cityos_fixtures::approved_vendor(&t, &shop.info).await;
    let oud = item(&t, &shop, "OUD-1", 1250, 10, Some(perfumer)).await;
    let tea = item(&t, &shop, "TEA-1", 300, 10, None).await;
    let guest = shop.guest();

    let v = gql(
        &t,
        &guest,
        "mutation { cartCreate(input: {}) { cart { id currency } userErrors { code } } }",
        json!({}),
    )
    .await;
    let cart = v["data"]["cartCreate"]["cart"]["id"]
        .as_str()
        .expect("cart id")
        .to_owned();
    let add = "mutation($c: ID!, $o: ID!, $t: ID!) { cartLinesAdd(input: {cartId: $c, lines: [
        {variantId: $o, quantity: 2, giftWrap: true}, {variantId: $t, quantity: 3}]}) {
        cart { itemCount subtotal { amountMinor } ready vendorGroups { subtotal { amountMinor } }
               lines { quantity unitPrice { amountMinor } lineTotal { amountMinor } priceRule giftWrap problem sku } }
        userErrors { field code } } }";
    let v = gql(
        &t,
        &guest,
        add,
        json!({"c": cart, "o": oud.to_string(), "t": tea.to_string()}),
    )
    .await;
    let c = &v["data"]["cartLinesAdd"]["cart"];
    assert_eq!(c["itemCount"], 5, "{v}");
    assert_eq!(c["subtotal"]["amountMinor"], 2 * 1250 + 900);
    assert_eq!(c["vendorGroups"].as_array().map(Vec::len), Some(2));
    assert_eq!(c["lines"][0]["priceRule"], "BASE_PRICE");
    assert_eq!(c["ready"], true);

    // A bad address: the error names the field.
    let update = "mutation($c: ID!, $a: AddressInput!) { cartUpdate(input: {cartId: $c, email: \"sara@example.com\", shippingAddress: $a}) {
        cart { email shippingAddress { city countryCode } } userErrors { field code } } }";
    let mut bad = serde_json::to_value(address()).expect("json");
    bad["postalCode"] = json!("1");
    let v = gql(&t, &guest, update, json!({"c": cart, "a": bad})).await;
    assert_eq!(
        v["data"]["cartUpdate"]["userErrors"][0]["field"],
        json!(["input", "shippingAddress", "postalCode"])
    );
    let v = gql(&t, &guest, update, json!({"c": cart, "a": address()})).await;
    assert_eq!(
        v["data"]["cartUpdate"]["cart"]["shippingAddress"]["countryCode"], "SA",
        "{v}"
    );

    let checkout = format!("mutation($c: ID!) {{ checkoutComplete(input: {{cartId: $c, idempotencyKey: \"g-1\", expectedTotalMinor: 3400}}) {{
        order {{ {ORDER} }} userErrors {{ field code message }} }} }}");
    let v = gql(&t, &guest, &checkout, json!({"c": cart})).await;
    let order = &v["data"]["checkoutComplete"]["order"];
    assert_eq!(
        (
            order["status"].as_str(),
            order["total"]["amountMinor"].as_i64()
        ),
        (Some("PENDING"), Some(3400)),
        "{v}"
    );
    assert_eq!(order["lines"][0]["sku"], "OUD-1");
    assert_eq!(order["lines"][0]["variant"]["id"], oud.to_string());
    let order_id = order["id"].as_str().expect("id").to_owned();
    let payment = order["payments"][0]["id"]
        .as_str()
        .expect("payment")
        .to_owned();
    // The guest reads it through the cart; not by id.
    let v = gql(
        &t,
        &guest,
        "query($c: ID!) { cart(id: $c) { status order { number } } }",
        json!({"c": cart}),
    )
    .await;
    assert_eq!(v["data"]["cart"]["order"]["number"], 1, "{v}");
    let v = gql(
        &t,
        &guest,
        "query($o: ID!) { order(id: $o) { id } }",
        json!({"o": order_id}),
    )
    .await;
    assert_eq!(v["data"]["order"], Value::Null);

    // Staff: confirm (cash on delivery), ship each vendor order, deliver, capture.
    let staff = &shop.admin;
    let confirm = format!(
        "mutation($o: ID!) {{ orderConfirm(input: {{orderId: $o}}) {{ order {{ {ORDER} }} userErrors {{ code }} }} }}"
    );
    let v = gql(&t, staff, &confirm, json!({"o": order_id})).await;
    assert_eq!(
        v["data"]["orderConfirm"]["order"]["status"], "CONFIRMED",
        "{v}"
    );
    let parts: Vec<String> = v["data"]["orderConfirm"]["order"]["vendorOrders"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let v = gql(&t, staff, &confirm, json!({"o": order_id})).await;
    assert_eq!(user_errors(&v, "orderConfirm"), ["INVALID_TRANSITION"]);
    assert_eq!(parts.len(), 2);
    let ship = "mutation($p: ID!) { fulfillmentCreate(input: {vendorOrderId: $p, carrier: \"Aramex\", trackingNumber: \"AX123\"}) {
        fulfillment { id carrier } userErrors { code } } }";
    let mut shipped = Vec::new();
    for p in &parts {
        let v = gql(&t, staff, ship, json!({"p": p})).await;
        shipped.push(
            v["data"]["fulfillmentCreate"]["fulfillment"]["id"]
                .as_str()
                .expect("shipped")
                .to_owned(),
        );
    }
    let v = gql(&t, staff, ship, json!({"p": parts[0]})).await;
    assert_eq!(user_errors(&v, "fulfillmentCreate"), ["INVALID_TRANSITION"]);
    let read = format!("query($o: ID!) {{ order(id: $o) {{ {ORDER} }} }}");
    let v = gql(&t, staff, &read, json!({"o": order_id})).await;
    assert_eq!(v["data"]["order"]["status"], "PROCESSING");
    let deliver = "mutation($f: ID!) { fulfillmentDeliver(input: {fulfillmentId: $f}) { fulfillment { deliveredAt } userErrors { code } } }";
    for f in &shipped {
        let v = gql(&t, staff, deliver, json!({"f": f})).await;
        assert!(
            v["data"]["fulfillmentDeliver"]["fulfillment"]["deliveredAt"].is_string(),
            "{v}"
        );
    }
    let capture = "mutation($p: ID!) { paymentCapture(input: {paymentId: $p}) { order { status paymentStatus } userErrors { code } } }";
    let v = gql(&t, staff, capture, json!({"p": payment})).await;
    assert_eq!(
        v["data"]["paymentCapture"]["order"],
        json!({"status": "COMPLETED", "paymentStatus": "PAID"}),
        "{v}"
    );
    let v = gql(&t, staff, capture, json!({"p": payment})).await;
    assert_eq!(user_errors(&v, "paymentCapture"), ["ALREADY_PAID"]);
    let cancel = "mutation($o: ID!) { orderCancel(input: {orderId: $o}) { order { status } userErrors { code } } }";
    let v = gql(&t, staff, cancel, json!({"o": order_id})).await;
    assert_eq!(user_errors(&v, "orderCancel"), ["PAYMENT_CAPTURED"]);
    // Events: placed, confirmed, invoice issued, 2 shipped, processing, 2 delivered, completed,
    // captured, invoice paid.
    assert_eq!(
        t.visible_rows("orders.outbox", Some(shop.info.id)).await,
        11
    );
    // Each staff change that happened left one audit row; the refused ones none.
    assert_eq!(
        audit_actions(&t, &shop).await,
        [
            "fulfillment.deliver",
            "fulfillment.deliver",
            "order.confirm",
            "payment.capture",
            "vendor_order.ship",
            "vendor_order.ship",
        ]
    );
}

/// The actions on orders, payments and their parts in the shop's audit trail, sorted (setting the
/// shop up audits catalog changes too).
async fn audit_actions(t: &cityos_testkit::TestDb, shop: &Shop) -> Vec<String> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
    }
    let rows: Vec<Row> = t
        .db()
        .tenant_tx(shop.info.id, async |tx| {
            diesel::sql_query(
                "SELECT action FROM identity.audit_log
                 WHERE entity_type IN ('Order', 'Payment', 'VendorOrder', 'Fulfillment')
                 ORDER BY action",
            )
            .load(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("audit log");
    rows.into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn cancelling_puts_the_stock_back_and_customers_see_only_their_own_orders() {
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let lamp = item(&t, &shop, "LAMP-1", 4500, 5, None).await;
    let buyer = shop.customer();
    let cart = ready_cart(&t, &buyer, vec![line(lamp, 3)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "c-1")
        .await
        .expect("order");
    assert_eq!(on_hand(&t, &shop, lamp).await, 2);

    // Another customer sees nothing of it.
    let stranger = shop.customer();
    let v = gql(
        &t,
        &stranger,
        "query($o: ID!) { order(id: $o) { id } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    assert_eq!(v["data"]["order"], Value::Null);
    let entities = "query($u: ID!) { _entities(representations: [{__typename: \"User\", id: $u}]) { ... on User { orders { totalCount edges { node { number status } } } } } }";
    let v = gql(
        &t,
        &stranger,
        entities,
        json!({"u": buyer.user_id().expect("id").to_string()}),
    )
    .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN", "{v}");
    let v = gql(
        &t,
        &buyer,
        entities,
        json!({"u": buyer.user_id().expect("id").to_string()}),
    )
    .await;
    assert_eq!(v["data"]["_entities"][0]["orders"]["totalCount"], 1, "{v}");
    let v = gql(&t, &buyer, "{ orders { totalCount } }", json!({})).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The customer cancels their pending order: stock back, payment released.
    let cancel = "mutation($o: ID!) { orderCancel(input: {orderId: $o, reason: \"changed my mind\"}) {
        order { status paymentStatus cancelReason payments { status } vendorOrders { status } } userErrors { code } } }";
    let v = gql(&t, &stranger, cancel, json!({"o": order.id.to_string()})).await;
    assert_eq!(user_errors(&v, "orderCancel"), ["NOT_FOUND"]);
    let v = gql(&t, &buyer, cancel, json!({"o": order.id.to_string()})).await;
    assert_eq!(
        v["data"]["orderCancel"]["order"],
        json!({"status": "CANCELLED", "paymentStatus": "VOIDED", "cancelReason": "changed my mind",
               "payments": [{"status": "CANCELLED"}], "vendorOrders": [{"status": "CANCELLED"}]}),
        "{v}"
    );
    assert_eq!(on_hand(&t, &shop, lamp).await, 5);
    let v = gql(&t, &shop.admin, cancel, json!({"o": order.id.to_string()})).await;
    assert_eq!(user_errors(&v, "orderCancel"), ["INVALID_TRANSITION"]);
    assert_eq!(on_hand(&t, &shop, lamp).await, 5, "restocked once");
    let v = gql(
        &t,
        &shop.admin,
        "{ orders(status: CANCELLED) { totalCount edges { node { number } } } }",
        json!({}),
    )
    .await;
    assert_eq!(v["data"]["orders"]["totalCount"], 1, "{v}");
}

#[tokio::test]
async fn every_orders_table_is_isolated_by_tenant() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let other = shop(&t, "other").await;
    let tea_house = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let tea = item(&t, &souq, "TEA-1", 300, 10, Some(tea_house)).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "iso")
        .await
        .expect("order");
    let staff = &souq.admin;
    let v = gql(
        &t,
        staff,
        "query($o: ID!) { order(id: $o) { vendorOrders { id } payments { id } } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    let part = v["data"]["order"]["vendorOrders"][0]["id"]
        .as_str()
        .expect("part")
        .to_owned();
    let payment = v["data"]["order"]["payments"][0]["id"]
        .as_str()
        .expect("payment")
        .to_owned();
    gql(
        &t,
        staff,
        "mutation($o: ID!) { orderConfirm(input: {orderId: $o}) { userErrors { code } } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    gql(&t, staff, "mutation($p: ID!) { fulfillmentCreate(input: {vendorOrderId: $p, carrier: \"SMSA\", trackingNumber: \"1\"}) { userErrors { code } } }", json!({"p": part})).await;

    assert_isolated(
        &t,
        &[
            "carts",
            "cart_lines",
            "counters",
            "orders",
            "vendor_orders",
            "order_lines",
            "allocations",
            "payments",
            "fulfillments",
            "outbox",
        ],
        souq.info.id,
        other.info.id,
    )
    .await;
    // And the application refuses across tenants: the other tenant's staff and customers.
    let theirs = &other.admin;
    let v = gql(
        &t,
        theirs,
        "query($o: ID!) { order(id: $o) { id } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    assert_eq!(v["data"]["order"], Value::Null);
    let v = gql(&t, theirs, "{ orders { totalCount } }", json!({})).await;
    assert_eq!(v["data"]["orders"]["totalCount"], 0);
    let v = gql(
        &t,
        theirs,
        "mutation($p: ID!) { paymentCapture(input: {paymentId: $p}) { userErrors { code } } }",
        json!({"p": payment}),
    )
    .await;
    assert_eq!(user_errors(&v, "paymentCapture"), ["NOT_FOUND"]);
    let v = gql(
        &t,
        &other.guest(),
        "query($c: ID!) { cart(id: $c) { id } }",
        json!({"c": cart.cart.id.to_string()}),
    )
    .await;
    assert_eq!(v["data"]["cart"], Value::Null);
    let v = gql(
        &t,
        theirs,
        "mutation($o: ID!) { orderCancel(input: {orderId: $o}) { userErrors { code } } }",
        json!({"o": order.id.to_string()}),
    )
    .await;
    assert_eq!(user_errors(&v, "orderCancel"), ["NOT_FOUND"]);
}

#[tokio::test]
async fn racing_shipments_and_deliveries_of_one_vendor_order_happen_once() {
    use futures_util::future::join_all;
    let t = test_db().await;
    let shop = shop(&t, "souq").await;
    let tea = item(&t, &shop, "TEA-1", 300, 10, None).await;
    let buyer = shop.customer();
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "race")
        .await
        .expect("order");
    orders::orders::confirm(t.db(), &shop.admin, order.id)
        .await
        .expect("confirm");
    let id = order.id;
    let part = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::vendor_orders_of(tx, &[id])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("parts")
        .remove(&id)
        .expect("part")[0]
        .id;
    let ships = (0..5)
        .map(|_| orders::orders::ship(t.db(), &shop.admin, part, "SMSA".into(), "SM-9".into()));
    let shipped: Vec<_> = join_all(ships).await;
    let codes = |outcomes: &[orders::errors::Outcome<orders::orders::Fulfillment>]| {
        let ok = outcomes.iter().filter(|o| o.is_ok()).count();
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Err(cityos_core::Failure::User(e)) if e.code == orders::errors::OrdersErrorCode::InvalidTransition))
            .count();
        (ok, refused)
    };
    assert_eq!(codes(&shipped), (1, 4));
    let fulfillment = shipped
        .into_iter()
        .find_map(Result::ok)
        .expect("shipped")
        .id;
    let delivers = (0..5).map(|_| orders::orders::deliver(t.db(), &shop.admin, fulfillment));
    let delivered: Vec<_> = join_all(delivers).await;
    assert_eq!(codes(&delivered), (1, 4));
    // placed, confirmed, invoice issued, shipped, processing, delivered, completed: each once.
    assert_eq!(t.visible_rows("orders.outbox", Some(shop.info.id)).await, 7);
}
