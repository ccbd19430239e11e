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
