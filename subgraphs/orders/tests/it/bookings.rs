//! Booking lines: a bookings hold goes into the cart, priced by its service in the cart's
//! currency; checkout makes it a booking of the order line in its own transaction; payment
//! confirms it; a hold past its time refuses checkout; racing checkouts of a cart make one
//! booking; cancelling the order cancels the booking and frees the slot; a booking cancelled
//! inside its fee window is refunded the rest, once, through orders' inbox and its refund job.

use crate::common::*;
use chrono::{Duration, Utc};
use cityos_core::RequestContext;
use cityos_core::ids::UserId;
use cityos_db::inbox::{Applied, Inbox};
use cityos_db::outbox::Event;
use cityos_server::Subgraph as _;
use cityos_testkit::{TestDb, refusal, user_context};
use orders::carts::{self, CartChanges};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{CartId, OrderId};
use serde_json::{Value, json};

/// Runs `query` as `ctx` through the bookings schema: its `data`, with no errors.
async fn book(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = bookings::build_schema(Some(&t.platform));
    let r = t
        .graphql::<bookings::Bookings>(&schema, ctx, query, vars)
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// Runs `query` as `ctx` through the orders schema: its `data`, with no errors.
async fn buy(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let r = gql(t, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// A clinic open all day: one practitioner and a 60-minute consultation at 100.00 SAR, free to
/// cancel until 48 hours before, half kept after. Returns the service's id.
async fn clinic(t: &TestDb, shop: &Shop) -> String {
    let provider = provider(t, shop, "Dr. Amal").await;
    service(
        t,
        shop,
        json!({ "name": "Consultation", "calendarIds": [provider],
        "prices": [{ "amountMinor": 10000, "currency": "SAR" }],
        "rules": { "durationMinutes": 60, "slotIntervalMinutes": 60, "freeCancelHours": 48,
            "cancelFeeBasisPoints": 5000 } }),
    )
    .await
}

/// A provider of the tenant in Riyadh, open all day every day: its id.
async fn provider(t: &TestDb, shop: &Shop, name: &str) -> Value {
    let r = book(t, &shop.admin,
        "mutation($i: BookingProviderCreateInput!) { bookingProviderCreate(input: $i) { provider { id } } }",
        json!({ "i": { "name": name, "timeZone": "Asia/Riyadh" } })).await;
    let provider = r["bookingProviderCreate"]["provider"]["id"].clone();
    let days: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "spans": [{ "opens": "00:00", "closes": "24:00" }] }))
        .collect();
    let r = book(t, &shop.admin,
        "mutation($i: BookingHoursSetInput!) { bookingHoursSet(input: $i) { userErrors { code } } }",
        json!({ "i": { "calendarId": provider, "days": days } })).await;
    assert_eq!(r["bookingHoursSet"]["userErrors"], json!([]), "{r}");
    provider
}

/// A service of the tenant made of `input`: its id.
async fn service(t: &TestDb, shop: &Shop, input: Value) -> String {
    let r = book(t, &shop.admin,
        "mutation($i: BookingServiceCreateInput!) { bookingServiceCreate(input: $i) { service { id } userErrors { code message } } }",
        json!({ "i": input })).await;
    r["bookingServiceCreate"]["service"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned()
}

/// The first slot of `service` at least three hours from now (inside the fee window).
async fn slot(t: &TestDb, shop: &Shop, service: &str) -> String {
    let guest = shop.guest();
    let at = Utc::now() + Duration::hours(3);
    let day = at.date_naive();
    let r = book(t, &guest,
        "query($s: ID!, $from: NaiveDate!, $to: NaiveDate!) { availability(serviceId: $s, from: $from, to: $to, timeZone: \"UTC\") { days { slots { start } } } }",
        json!({ "s": service, "from": day.to_string(), "to": (day + Duration::days(1)).to_string() })).await;
    r["availability"]["days"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["slots"].as_array().into_iter().flatten())
        .filter_map(|s| s["start"].as_str())
        .find(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|s| s >= at))
        .expect("a slot")
        .to_owned()
}

/// A hold of `start` for `who`: its id, or the refusal's code.
async fn hold(
    t: &TestDb,
    who: &RequestContext,
    service: &str,
    start: &str,
) -> Result<String, String> {
    let r = book(t, who,
        "mutation($i: BookingHoldInput!) { bookingHold(input: $i) { hold { id } userErrors { code } } }",
        json!({ "i": { "serviceId": service, "start": start } })).await;
    match r["bookingHold"]["hold"]["id"].as_str() {
        Some(id) => Ok(id.to_owned()),
        None => Err(r["bookingHold"]["userErrors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()),
    }
}

const BOOKING_ADD: &str = "mutation($i: CartBookingInput!) { cartBookingAdd(input: $i) {
    cart { total { amountMinor } lines { quantity problem unitPrice { amountMinor currency } variant { id }
      productTitle booking { holdId serviceName providerName startsAt heldUntil service { id } } }
      vendorGroups { shippingOptions { cost { amountMinor } } shippingMethod { id } } }
    userErrors { field code message } } }";

const BOOKING: &str =
    "query($id: ID!) { booking(id: $id) { status paid refundOwed { amountMinor } } }";

/// The codes of a payload's userErrors.
fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["code"].as_str().map(str::to_owned))
        .collect()
}

/// A signed-up customer of `shop` (bookings need a real account).
async fn customer(t: &TestDb, shop: &Shop, email: &str) -> (UserId, RequestContext) {
    let id = cityos_fixtures::customer(t, &shop.info, email).await;
    (
        id,
        user_context(Some(&shop.info), id, &[cityos_core::Role::Customer]),
    )
}

/// The customer's cart with `hold` as its booking line, and a billing address.
async fn cart_with(t: &TestDb, who: &RequestContext, hold: &str) -> CartId {
    let cart = carts::create(t.db(), who, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    let r = buy(
        t,
        who,
        BOOKING_ADD,
        json!({ "i": { "cartId": cart.to_string(), "holdId": hold } }),
    )
    .await;
    assert_eq!(r["cartBookingAdd"]["userErrors"], json!([]), "{r}");
    carts::update(
        t.db(),
        who,
        cart,
        CartChanges {
            billing_address: Some(address()),
            ..CartChanges::default()
        },
    )
    .await
    .expect("billing address");
    cart
}

/// The booking made of an order's first line.
async fn booking_of(t: &TestDb, shop: &Shop, order: OrderId) -> String {
    let lines = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::lines_of(tx, &[order])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("lines")
        .remove(&order)
        .expect("lines of the order");
    let line = &lines[0];
    assert_eq!((line.variant_id, line.sku.as_str()), (None, ""));
    line.booking_id.expect("a booking line").to_string()
}

/// The bookings subgraph's `booking.cancelled` events, as its dispatcher sends them.
async fn cancelled_events(t: &TestDb, shop: &Shop) -> Vec<Event> {
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel_async::RunQueryDsl as _;
            diesel::sql_query(
                "SELECT id, 'bookings' AS source, tenant_id, topic, aggregate_id, payload, created_at,
                        1 AS attempt
                 FROM bookings.outbox WHERE topic = 'booking.cancelled' ORDER BY created_at",
            )
            .load::<Event>(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("events")
}

#[tokio::test]
async fn a_held_slot_checks_out_as_a_booking_payment_confirms_it_and_a_late_cancellation_refunds_the_rest_once()
 {
    let t = test_db().await;
    let shop = shop(&t, "bookings-checkout").await;
    booked_paid_and_refunded(&t, &shop).await;
}

/// A customer holds a consultation, checks it out as a booking line, pays, cancels inside the
/// fee window and is refunded the rest once, every step checked (the isolation fixture's rows
/// of booking refunds and the inbox come from here too).
pub async fn booked_paid_and_refunded(t: &TestDb, shop: &Shop) {
    let service = clinic(t, shop).await;
    let start = slot(t, shop, &service).await;
    let (_, sara) = customer(t, shop, "booker@example.com").await;
    let held = hold(t, &sara, &service, &start).await.expect("held");

    // In the cart: the service at its price, nothing to ship, no variant.
    let cart = carts::create(t.db(), &sara, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    let add = json!({ "i": { "cartId": cart.to_string(), "holdId": held } });
    let r = buy(t, &sara, BOOKING_ADD, add.clone()).await;
    let payload = &r["cartBookingAdd"];
    assert_eq!(payload["userErrors"], json!([]), "{r}");
    let line = &payload["cart"]["lines"][0];
    assert_eq!(line["quantity"], 1);
    assert_eq!(line["problem"], Value::Null);
    assert_eq!(line["variant"], Value::Null);
    assert_eq!(
        line["unitPrice"],
        json!({ "amountMinor": 10000, "currency": "SAR" })
    );
    assert_eq!(line["productTitle"], "Consultation");
    assert_eq!(line["booking"]["serviceName"], "Consultation");
    assert_eq!(line["booking"]["providerName"], "Dr. Amal");
    assert_eq!(line["booking"]["service"]["id"], service.as_str());
    assert_eq!(
        payload["cart"]["vendorGroups"][0]["shippingOptions"],
        json!([])
    );
    // No address yet, so no tax.
    assert_eq!(payload["cart"]["total"]["amountMinor"], 10000);
    // The same hold twice: refused, the cart unchanged.
    let r = buy(t, &sara, BOOKING_ADD, add).await;
    assert_eq!(codes(&r["cartBookingAdd"]), ["HOLD_IN_CART"]);

    // Nothing ships, but the invoice needs an address.
    let refused = refusal(check_out(t, &sara, cart, "bk-1").await);
    assert_eq!(refused, Code::AddressRequired);
    carts::update(
        t.db(),
        &sara,
        cart,
        CartChanges {
            billing_address: Some(address()),
            ..CartChanges::default()
        },
    )
    .await
    .expect("billing address");
    let order = check_out(t, &sara, cart, "bk-1").await.expect("placed");
    // 100.00 SAR, with the tenant's VAT on top where it has a rule (the isolation fixture's).
    let total = order.total;
    assert!(total == 10000 || total == 11500, "{total}");
    let (fee, back) = (total / 2, total - total / 2);
    let booking = booking_of(t, shop, order.id).await;
    let b = book(t, &sara, BOOKING, json!({ "id": booking })).await;
    assert_eq!(
        (
            b["booking"]["status"].as_str(),
            b["booking"]["paid"].as_bool()
        ),
        (Some("PENDING"), Some(false))
    );
    // The hold is spent: it cannot go into another cart.
    let other = carts::create(t.db(), &sara, None, None)
        .await
        .expect("a new cart")
        .cart
        .id;
    let r = buy(
        t,
        &sara,
        BOOKING_ADD,
        json!({ "i": { "cartId": other.to_string(), "holdId": held } }),
    )
    .await;
    assert_eq!(codes(&r["cartBookingAdd"]), ["HOLD_EXPIRED"]);

    // Paid: confirmed.
    let payment = payment_of(t, shop, order.id).await;
    orders::orders::capture_payment(t.db(), &shop.admin, payment.id)
        .await
        .expect("captured");
    let b = book(t, &sara, BOOKING, json!({ "id": booking })).await;
    assert_eq!(
        (
            b["booking"]["status"].as_str(),
            b["booking"]["paid"].as_bool()
        ),
        (Some("CONFIRMED"), Some(true))
    );

    // Cancelled inside the fee window: half kept, half owed back through orders.
    let r = book(t, &sara,
        "mutation($i: BookingCancelInput!) { bookingCancel(input: $i) { booking { status refundOwed { amountMinor } } userErrors { code } } }",
        json!({ "i": { "id": booking, "acceptedFeeMinor": fee } })).await;
    assert_eq!(
        r["bookingCancel"]["booking"]["refundOwed"]["amountMinor"], back,
        "{r}"
    );
    let events = cancelled_events(t, shop).await;
    assert_eq!(events.len(), 1);
    let (inbox, consumers) = (Inbox::of("orders"), orders::Orders::consumers());
    let first = inbox
        .apply(t.db(), &consumers, &events[0])
        .await
        .expect("applied");
    assert_eq!(first, Applied::Now);
    let again = inbox
        .apply(t.db(), &consumers, &events[0])
        .await
        .expect("a duplicate");
    assert_eq!(again, Applied::Before);
    let runner = crate::jobs::orders_runner(t);
    runner.run_once().await.expect("the refund job");
    let paid_back = t
        .count_in(shop.info.id, &format!(
            "SELECT count(*) AS n FROM orders.refunds WHERE order_id = '{}' AND status = 'SUCCEEDED' AND amount = {back}",
            order.id
        ))
        .await;
    assert_eq!(paid_back, 1);
    let now = order_of(t, shop, order.id).await;
    assert_eq!(
        now.payment_status,
        orders::orders::OrderPaymentStatus::PartiallyRefunded
    );
    let vendor_share = t
        .count_in(shop.info.id, &format!(
            "SELECT count(*) AS n FROM orders.vendor_orders WHERE order_id = '{}' AND refunded_total = {back}",
            order.id
        ))
        .await;
    assert_eq!(
        vendor_share, 1,
        "the refund is the booking line's vendor order's"
    );
    assert_isolated(
        t,
        &["booking_refunds", "inbox"],
        shop.info.id,
        cityos_core::ids::TenantId::new(),
    )
    .await;
}

#[tokio::test]
async fn a_hold_past_its_time_refuses_checkout_and_a_cancelled_order_frees_its_slot() {
    let t = test_db().await;
    let shop = shop(&t, "bookings-expired").await;
    let service = clinic(&t, &shop).await;
    let start = slot(&t, &shop, &service).await;
    let (_, sara) = customer(&t, &shop, "sara@example.com").await;
    let (_, omar) = customer(&t, &shop, "omar@example.com").await;
    let first = hold(&t, &sara, &service, &start).await.expect("held");
    let cart = cart_with(&t, &sara, &first).await;

    // Someone else's hold, or a guest's cart: no such hold for them.
    let omars_cart = carts::create(t.db(), &omar, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    let r = buy(
        &t,
        &omar,
        BOOKING_ADD,
        json!({ "i": { "cartId": omars_cart.to_string(), "holdId": first } }),
    )
    .await;
    assert_eq!(codes(&r["cartBookingAdd"]), ["NOT_FOUND"]);

    // The hold runs out: the line says so and checkout refuses, changing nothing.
    t.owner_sql(&format!(
        "UPDATE bookings.holds SET expires_at = now() - interval '1 second' WHERE id = '{first}'"
    ))
    .await;
    let priced = carts::get(t.db(), &sara, cart)
        .await
        .expect("read")
        .expect("the cart");
    assert_eq!(
        priced.lines[0].problem,
        Some(carts::LineProblem::HoldExpired)
    );
    let refused = refusal(check_out(&t, &sara, cart, "bk-2").await);
    assert_eq!(refused, Code::HoldExpired);

    // Held again (the lapsed hold no longer counts), checked out, the order cancelled unpaid:
    // the booking goes and the slot is free for Omar.
    let again = hold(&t, &sara, &service, &start).await.expect("held again");
    let r = buy(&t, &sara, "mutation($i: CartBookingInput!) { cartBookingRemove(input: $i) { cart { lines { id } } userErrors { code } } }",
        json!({ "i": { "cartId": cart.to_string(), "holdId": first } })).await;
    assert_eq!(r["cartBookingRemove"]["cart"]["lines"], json!([]), "{r}");
    let r = buy(
        &t,
        &sara,
        BOOKING_ADD,
        json!({ "i": { "cartId": cart.to_string(), "holdId": again } }),
    )
    .await;
    assert_eq!(r["cartBookingAdd"]["userErrors"], json!([]), "{r}");
    // Racing checkouts of the cart (distinct keys): one order, one booking.
    let keys: Vec<String> = (0..8).map(|i| format!("bk-race-{i}")).collect();
    let raced =
        futures_util::future::join_all(keys.iter().map(|k| check_out(&t, &sara, cart, k))).await;
    let mut placed: Vec<_> = raced.into_iter().filter_map(Result::ok).collect();
    assert_eq!(placed.len(), 1, "one checkout places the order");
    let order = placed.remove(0);
    let booking = booking_of(&t, &shop, order.id).await;
    let made = t
        .count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.bookings")
        .await;
    assert_eq!(made, 1, "one booking of the hold");
    // Unpaid, it goes with its order, not on its own (the order would still ask for it).
    let r = book(
        &t,
        &sara,
        "mutation($i: BookingCancelInput!) { bookingCancel(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": booking } }),
    )
    .await;
    assert_eq!(codes(&r["bookingCancel"]), ["ORDER_UNPAID"]);
    assert_eq!(
        hold(&t, &omar, &service, &start).await,
        Err("SLOT_TAKEN".to_owned())
    );
    orders::orders::cancel(
        t.db(),
        &sara,
        order.id,
        Some("plans changed".into()),
        &orders::payments::Gateway::default(),
    )
    .await
    .expect("cancelled");
    let b = book(&t, &sara, BOOKING, json!({ "id": booking })).await;
    assert_eq!(b["booking"]["status"], "CANCELLED");
    assert_eq!(b["booking"]["refundOwed"]["amountMinor"], 0);
    hold(&t, &omar, &service, &start)
        .await
        .expect("the slot is free again");
}

#[tokio::test]
async fn a_service_without_its_own_price_is_priced_as_its_linked_product_or_refused() {
    let t = test_db().await;
    let shop = shop(&t, "bookings-linked").await;
    let (product, _) = item_of_product(&t, &shop, "MASSAGE-60", 7500, 1, None).await;
    let provider = provider(&t, &shop, "Lina").await;
    let rules = json!({ "durationMinutes": 60, "slotIntervalMinutes": 60 });
    let linked = service(
        &t,
        &shop,
        json!({ "name": "Massage", "calendarIds": [provider],
        "productId": product.to_string(), "rules": rules }),
    )
    .await;
    let dollars = service(
        &t,
        &shop,
        json!({ "name": "Sauna", "calendarIds": [provider],
        "prices": [{ "amountMinor": 2000, "currency": "USD" }], "rules": rules }),
    )
    .await;

    let (_, sara) = customer(&t, &shop, "sara@example.com").await;
    let cart = carts::create(t.db(), &sara, None, None)
        .await
        .expect("cart")
        .cart
        .id;
    // Priced as the product's variant, in SAR, with the product on the line.
    let start = slot(&t, &shop, &linked).await;
    let held = hold(&t, &sara, &linked, &start).await.expect("held");
    let r = buy(
        &t,
        &sara,
        BOOKING_ADD,
        json!({ "i": { "cartId": cart.to_string(), "holdId": held } }),
    )
    .await;
    assert_eq!(r["cartBookingAdd"]["userErrors"], json!([]), "{r}");
    let line = &r["cartBookingAdd"]["cart"]["lines"][0];
    assert_eq!(
        line["unitPrice"],
        json!({ "amountMinor": 7500, "currency": "SAR" })
    );
    assert_eq!(line["productTitle"], "Massage");
    // Priced in dollars only: no price in this cart, refused, the cart unchanged.
    let later = chrono::DateTime::parse_from_rfc3339(&start).expect("a start") + Duration::hours(2);
    let other = hold(&t, &sara, &dollars, &later.to_rfc3339())
        .await
        .expect("held");
    let r = buy(
        &t,
        &sara,
        BOOKING_ADD,
        json!({ "i": { "cartId": cart.to_string(), "holdId": other } }),
    )
    .await;
    assert_eq!(codes(&r["cartBookingAdd"]), ["NO_PRICE"]);
    let priced = carts::get(t.db(), &sara, cart)
        .await
        .expect("read")
        .expect("the cart");
    assert_eq!(priced.lines.len(), 1);
    // A line taken out releases its hold at once.
    let spare_at = later + Duration::hours(2);
    let spare = hold(&t, &sara, &linked, &spare_at.to_rfc3339())
        .await
        .expect("held");
    let line = json!({ "i": { "cartId": cart.to_string(), "holdId": spare } });
    let r = buy(&t, &sara, BOOKING_ADD, line.clone()).await;
    assert_eq!(r["cartBookingAdd"]["userErrors"], json!([]), "{r}");
    let r = buy(&t, &sara, "mutation($i: CartBookingInput!) { cartBookingRemove(input: $i) { cart { lines { id } } } }", line).await;
    assert_eq!(
        r["cartBookingRemove"]["cart"]["lines"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{r}"
    );
    let released = t
        .count_in(shop.info.id, &format!(
            "SELECT count(*) AS n FROM bookings.holds WHERE id = '{spare}' AND status = 'RELEASED'"
        ))
        .await;
    assert_eq!(released, 1, "taking the line out releases its hold");

    carts::update(
        t.db(),
        &sara,
        cart,
        CartChanges {
            billing_address: Some(address()),
            ..CartChanges::default()
        },
    )
    .await
    .expect("billing address");
    let order = check_out(&t, &sara, cart, "linked").await.expect("placed");
    let lines = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::lines_of(tx, &[order.id])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("lines")
        .remove(&order.id)
        .expect("its lines");
    assert_eq!(
        (lines[0].product_id, lines[0].unit_price),
        (Some(product), 7500)
    );
}
