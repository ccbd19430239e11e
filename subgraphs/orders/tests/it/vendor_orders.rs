//! A vendor's team sees and fulfils its own parts of orders, and only those: by list, by id in a
//! mutation, for every other vendor, customer and tenant.

use crate::common::*;
use cityos_core::VendorRole;
use cityos_testkit::vendor_context;
use serde_json::{Value, json};

const LIST: &str = "query($f: VendorOrderFilter) { vendorOrders(first: 10, filter: $f) {
    totalCount edges { node { id orderNumber status vendor { id } shippingAddress { city }
      lines { sku quantity } total { amountMinor } } } } }";
const SHIP: &str = "mutation($i: FulfillmentCreateInput!) { fulfillmentCreate(input: $i) {
    fulfillment { id carrier } userErrors { field code } } }";
const DELIVER: &str = "mutation($i: FulfillmentDeliverInput!) { fulfillmentDeliver(input: $i) {
    fulfillment { deliveredAt } userErrors { field code } } }";

fn code(r: &Value, field: &str) -> Value {
    let user = &r["data"][field]["userErrors"][0]["code"];
    if user.is_string() {
        user.clone()
    } else {
        r["errors"][0]["extensions"]["code"].clone()
    }
}

#[tokio::test]
async fn a_vendors_team_sees_and_fulfils_its_own_vendor_orders_only() {
    let t = test_db().await;
    let souq = shop(&t, "souq").await;
    let atelier = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let weaver = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let oud = item(&t, &souq, "OUD-1", 1250, 10, Some(atelier)).await;
    let rug = item(&t, &souq, "RUG-1", 9900, 3, Some(weaver)).await;
    let tea = item(&t, &souq, "TEA-1", 300, 20, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(oud, 2), line(rug, 1), line(tea, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "k-1")
        .await
        .expect("order");
    let r = gql(
        &t,
        &souq.admin,
        "mutation($o: ID!) { orderConfirm(input: {orderId: $o}) { userErrors { code } } }",
        json!({ "o": order.id.to_string() }),
    )
    .await;
    assert_eq!(user_errors(&r, "orderConfirm"), Vec::<String>::new());

    let member = vendor_context(
        &souq.info,
        orders::ids::UserId::new(),
        atelier,
        VendorRole::Staff,
    );
    let r = gql(&t, &member, LIST, json!({})).await;
    let list = &r["data"]["vendorOrders"];
    assert_eq!(list["totalCount"], 1, "{r}");
    let mine = &list["edges"][0]["node"];
    assert_eq!(
        (mine["orderNumber"].as_i64(), mine["vendor"]["id"].as_str()),
        (Some(order.number), Some(atelier.to_string().as_str()))
    );
    assert_eq!(mine["lines"], json!([{ "sku": "OUD-1", "quantity": 2 }]));
    assert_eq!(mine["shippingAddress"]["city"], "Riyadh");
    assert_eq!(mine["total"]["amountMinor"], 2500);
    let mine = mine["id"].as_str().expect("id").to_owned();
    let r = gql(
        &t,
        &member,
        LIST,
        json!({ "f": { "vendorId": weaver.to_string() } }),
    )
    .await;
    assert_eq!(code(&r, "vendorOrders"), "FORBIDDEN");
    // Staff see every vendor's part, or one vendor's.
    let r = gql(&t, &souq.admin, LIST, json!({})).await;
    assert_eq!(r["data"]["vendorOrders"]["totalCount"], 3);
    let r = gql(
        &t,
        &souq.admin,
        LIST,
        json!({ "f": { "vendorId": weaver.to_string() } }),
    )
    .await;
    assert_eq!(r["data"]["vendorOrders"]["totalCount"], 1);
    let theirs = r["data"]["vendorOrders"]["edges"][0]["node"]["id"].clone();

    // The weaver's part, and the tenant's own, are not the atelier's to ship.
    let ship = |id: Value| json!({ "i": { "vendorOrderId": id, "carrier": "SMSA", "trackingNumber": "T-1" } });
    let r = gql(&t, &member, SHIP, ship(theirs.clone())).await;
    assert_eq!(code(&r, "fulfillmentCreate"), "NOT_FOUND");
    let r = gql(&t, &member, SHIP, ship(json!(mine))).await;
    let fulfillment = r["data"]["fulfillmentCreate"]["fulfillment"]["id"].clone();
    assert!(fulfillment.is_string(), "{r}");
    // The weaver's team cannot mark the atelier's delivery; the atelier's can.
    let weaver_member = vendor_context(
        &souq.info,
        orders::ids::UserId::new(),
        weaver,
        VendorRole::Owner,
    );
    let r = gql(
        &t,
        &weaver_member,
        DELIVER,
        json!({ "i": { "fulfillmentId": fulfillment } }),
    )
    .await;
    assert_eq!(code(&r, "fulfillmentDeliver"), "NOT_FOUND");
    let r = gql(
        &t,
        &member,
        DELIVER,
        json!({ "i": { "fulfillmentId": fulfillment } }),
    )
    .await;
    assert!(
        r["data"]["fulfillmentDeliver"]["fulfillment"]["deliveredAt"].is_string(),
        "{r}"
    );

    // A customer and another tenant's team see none of it.
    let r = gql(&t, &buyer, LIST, json!({})).await;
    assert_eq!(code(&r, "vendorOrders"), "FORBIDDEN");
    let r = gql(&t, &buyer, SHIP, ship(theirs.clone())).await;
    assert_eq!(code(&r, "fulfillmentCreate"), "FORBIDDEN");
    let other = shop(&t, "elsewhere").await;
    let stranger = vendor_context(
        &other.info,
        orders::ids::UserId::new(),
        weaver,
        VendorRole::Owner,
    );
    let r = gql(&t, &stranger, LIST, json!({})).await;
    assert_eq!(r["data"]["vendorOrders"]["totalCount"], 0);
    let r = gql(&t, &stranger, SHIP, ship(theirs)).await;
    assert_eq!(code(&r, "fulfillmentCreate"), "NOT_FOUND");
}

/// The payloads of the tenant's `topic` events, oldest first.
async fn payloads(t: &cityos_testkit::TestDb, shop: &Shop, topic: &str) -> Vec<Value> {
    let topic = topic.to_owned();
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use orders::schema::outbox;
            outbox::table
                .filter(outbox::topic.eq(topic))
                .order(outbox::id)
                .select(outbox::payload)
                .load::<Value>(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("events")
}

#[tokio::test]
async fn money_events_say_what_each_vendor_sold_and_whose_money_a_refund_was() {
    use orders::payments::Gateway;
    use orders::returns::{self, ReturnLineInput};
    let t = test_db().await;
    let souq = shop(&t, "souq-money").await;
    let atelier = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let weaver = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let oud = item(&t, &souq, "OUD-1", 1250, 10, Some(atelier)).await;
    let rug = item(&t, &souq, "RUG-1", 9900, 3, Some(weaver)).await;
    let tea = item(&t, &souq, "TEA-1", 300, 20, None).await;
    let buyer = souq.customer();
    let cart = ready_cart(&t, &buyer, vec![line(oud, 2), line(rug, 1), line(tea, 1)]).await;
    let order = check_out(&t, &buyer, cart.cart.id, "k-money")
        .await
        .expect("order");
    deliver_all(&t, &souq, &order, true).await;

    // The capture names each marketplace vendor's part, its lines, and when the order was placed.
    let captured = payloads(&t, &souq, "payment.captured").await;
    let parts = captured[0]["vendorOrders"]
        .as_array()
        .expect("parts")
        .clone();
    assert_eq!(
        parts.len(),
        2,
        "the tenant's own tea is no vendor's: {parts:?}"
    );
    assert!(captured[0]["placedAt"].is_string());
    for part in &parts {
        let lines = part["lines"].as_array().expect("lines");
        let sum: i64 = lines
            .iter()
            .map(|l| l["net"].as_i64().unwrap_or(0) + l["tax"].as_i64().unwrap_or(0))
            .sum::<i64>()
            + part["shippingTotal"].as_i64().unwrap_or(0);
        assert_eq!(Some(sum), part["total"].as_i64(), "{part}");
    }
    let of = |vendor: orders::ids::VendorId| {
        parts
            .iter()
            .find(|p| p["vendorId"] == json!(vendor.to_string()))
            .cloned()
            .expect("part")
    };
    assert_eq!(of(atelier)["lines"][0]["quantity"], 2);
    assert_eq!(of(weaver)["lines"][0]["net"], 9900);
    // Deliveries name their vendor and when.
    let delivered = payloads(&t, &souq, "fulfillment.delivered").await;
    assert_eq!(delivered.len(), 3);
    assert!(delivered.iter().all(|d| d["deliveredAt"].is_string()));
    assert_eq!(
        delivered.iter().filter(|d| d["vendorId"].is_null()).count(),
        1
    );

    // A return of the rug is the weaver's money alone.
    let rug_line: orders::ids::OrderLineId = gql(
        &t,
        &buyer,
        "query($o: ID!) { order(id: $o) { lines { id sku } } }",
        json!({ "o": order.id.to_string() }),
    )
    .await["data"]["order"]["lines"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["sku"] == "RUG-1"))
        .and_then(|l| l["id"].as_str())
        .and_then(|s| s.parse().ok())
        .expect("rug line");
    let staff = &souq.admin;
    let ret = returns::request(
        t.db(),
        &buyer,
        order.id,
        vec![ReturnLineInput {
            order_line_id: rug_line,
            quantity: 1,
        }],
        "Wrong colour".into(),
    )
    .await
    .expect("requested");
    returns::approve(t.db(), staff, ret.ret.id)
        .await
        .expect("approved");
    returns::receive(t.db(), staff, ret.ret.id, true)
        .await
        .expect("received");
    returns::refund(t.db(), staff, &Gateway::default(), ret.ret.id)
        .await
        .expect("refunded");
    let refunds = payloads(&t, &souq, "payment.refunded").await;
    let shares = refunds[0]["vendorOrders"]
        .as_array()
        .expect("shares")
        .clone();
    assert_eq!(shares.len(), 1, "{shares:?}");
    assert_eq!(shares[0]["vendorId"], json!(weaver.to_string()));
    assert_eq!(shares[0]["amount"], refunds[0]["amount"]);

    // A plain refund is split over what is left of each part, in proportion, and sums exactly.
    let payment = payment_of(&t, &souq, order.id).await.id;
    let r = gql(
        &t,
        staff,
        "mutation($p: ID!) { paymentRefund(input: { paymentId: $p, amountMinor: 1001 }) { userErrors { code } } }",
        json!({ "p": payment.to_string() }),
    )
    .await;
    assert_eq!(r["data"]["paymentRefund"]["userErrors"], json!([]), "{r}");
    let refunds = payloads(&t, &souq, "payment.refunded").await;
    let shares = refunds[1]["vendorOrders"]
        .as_array()
        .expect("shares")
        .clone();
    let amounts: Vec<i64> = shares
        .iter()
        .map(|s| s["amount"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(amounts.iter().sum::<i64>(), 1001);
    // What is left of each part shares it: the oud's and the tea's parts, and the rug's shipping
    // if the rug's part had any.
    assert!(
        shares.len() >= 2 && amounts.iter().all(|a| *a > 0),
        "{shares:?}"
    );
}
