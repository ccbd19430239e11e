//! The waitlist: a full class's line, offers to the first whose party fits when seats free
//! (taken for them at once), accepting into a hold and a booking, expiry to the next in line,
//! and racing cancellations that never offer one seat twice.

use crate::common::*;
use crate::holds::hold;
use bookings::api::{self, Sale};
use chrono::{Duration, Utc};
use cityos_core::RequestContext;
use cityos_core::money::{Currency, Money};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::TestDb;
use serde_json::{Value, json};

const JOIN: &str = "mutation($i: BookingWaitlistJoinInput!) { bookingWaitlistJoin(input: $i) {
    entry { id status position seats } userErrors { code message } } }";
const ACCEPT: &str = "mutation($id: ID!) { bookingWaitlistAccept(id: $id) { hold { id status seats expiresAt } userErrors { code } } }";
const LEAVE: &str = "mutation($id: ID!) { bookingWaitlistLeave(id: $id) { entry { id status } userErrors { code } } }";
const MINE: &str = "{ myBookingWaitlist { id status position offerExpiresAt } }";

/// A class of `seats` seats at 18:00 Riyadh five days ahead, and its start.
async fn class(t: &TestDb, shop: &Shop, seats: i32) -> (String, String) {
    let coach = provider(
        t,
        &shop.admin,
        "Coach",
        "Asia/Riyadh",
        &[("18:00", "19:00")],
    )
    .await;
    let s = service(
        t,
        &shop.admin,
        "Spin",
        json!({ "durationMinutes": 45, "slotIntervalMinutes": 60, "capacity": seats }),
        &[&coach],
    )
    .await;
    let day = Utc::now().date_naive() + Duration::days(5);
    let start = (day.and_hms_opt(15, 0, 0).expect("a time").and_utc()).to_rfc3339();
    (s, start)
}

/// A paid booking of one seat for a new customer.
async fn book(
    t: &TestDb,
    shop: &Shop,
    service: &str,
    start: &str,
    email: &str,
) -> (api::Booking, RequestContext) {
    let (id, ctx) = shop.customer(t, email).await;
    let r = hold(t, &ctx, service, start, json!({})).await;
    let hold_id = r["hold"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let b = convert(t, shop, &hold_id, id).await;
    (b, ctx)
}

async fn convert(
    t: &TestDb,
    shop: &Shop,
    hold: &str,
    customer: cityos_core::ids::UserId,
) -> api::Booking {
    let sale = Sale {
        hold: hold.parse().expect("a hold id"),
        customer,
        order_id: uuid::Uuid::now_v7(),
        order_line_id: uuid::Uuid::now_v7(),
        amount: Money::new(6_000, Currency::parse("SAR").expect("SAR")),
    };
    let b = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| api::convert(tx, sale).await)
        .await
        .expect("converted");
    let order = b.order_id.expect("an order");
    t.db()
        .tenant_tx(shop.info.id, async move |tx| api::paid(tx, order).await)
        .await
        .expect("paid");
    b
}

async fn join(t: &TestDb, ctx: &RequestContext, service: &str, start: &str) -> Value {
    run(
        t,
        ctx,
        JOIN,
        json!({ "i": { "serviceId": service, "start": start } }),
    )
    .await["bookingWaitlistJoin"]
        .clone()
}

async fn cancel(t: &TestDb, shop: &Shop, booking: &api::Booking) {
    let r = run(
        t,
        &shop.admin,
        "mutation($id: ID!) { bookingCancel(input: { id: $id }) { userErrors { code } } }",
        json!({ "id": booking.id.to_string() }),
    )
    .await;
    assert_eq!(r["bookingCancel"]["userErrors"], json!([]), "{r}");
}

async fn status_of(t: &TestDb, ctx: &RequestContext) -> Value {
    run(t, ctx, MINE, json!({})).await["myBookingWaitlist"].clone()
}

#[tokio::test]
async fn the_first_in_line_gets_the_freed_seat_and_books_it() {
    let t = test_db().await;
    let shop = Shop::new(&t, "line").await;
    let (s, start) = class(&t, &shop, 2).await;
    let (first, _) = book(&t, &shop, &s, &start, "a@line.test").await;
    book(&t, &shop, &s, &start, "b@line.test").await;
    let (waiter_id, waiter) = shop.customer(&t, "w1@line.test").await;
    let (_, second) = shop.customer(&t, "w2@line.test").await;
    assert_eq!(
        codes(&hold(&t, &waiter, &s, &start, json!({})).await),
        ["CAPACITY_FULL"]
    );
    let r = join(&t, &waiter, &s, &start).await;
    assert_eq!(
        (r["entry"]["status"].clone(), r["entry"]["position"].clone()),
        (json!("WAITING"), json!(1)),
        "{r}"
    );
    assert_eq!(join(&t, &second, &s, &start).await["entry"]["position"], 2);
    assert_eq!(
        codes(&join(&t, &waiter, &s, &start).await),
        ["ALREADY_WAITING"]
    );
    // A slot with room is held, not waited for; a start that is no slot is refused as such.
    let next_day = (chrono::DateTime::parse_from_rfc3339(&start).expect("an instant")
        + Duration::days(1))
    .to_rfc3339();
    assert_eq!(
        codes(&join(&t, &waiter, &s, &next_day).await),
        ["SLOT_AVAILABLE"]
    );
    let off = (chrono::DateTime::parse_from_rfc3339(&start).expect("an instant")
        + Duration::minutes(10))
    .to_rfc3339();
    assert_eq!(codes(&join(&t, &waiter, &s, &off).await), ["OUTSIDE_HOURS"]);
    // A seat frees: the first in line is offered it, and it is theirs: the class stays full.
    cancel(&t, &shop, &first).await;
    let mine = status_of(&t, &waiter).await;
    assert_eq!(mine[0]["status"], "OFFERED", "{mine}");
    assert_eq!(status_of(&t, &second).await[0]["position"], 1);
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.waitlist_offered'"
        )
        .await,
        1
    );
    let (_, walk_in) = shop.customer(&t, "walk@line.test").await;
    assert_eq!(
        codes(&hold(&t, &walk_in, &s, &start, json!({})).await),
        ["CAPACITY_FULL"]
    );
    // Accepted, the offer is a hold, checked out into a booking.
    let r = run(&t, &waiter, ACCEPT, json!({ "id": mine[0]["id"] })).await;
    let h = r["bookingWaitlistAccept"]["hold"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let b = convert(&t, &shop, &h, waiter_id).await;
    assert_eq!(b.seats, 1);
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT seats_taken::bigint AS n FROM bookings.sessions"
        )
        .await,
        2
    );
    let r = run(&t, &waiter, ACCEPT, json!({ "id": mine[0]["id"] })).await;
    assert_eq!(codes(&r["bookingWaitlistAccept"]), ["HOLD_EXPIRED"]);
}

#[tokio::test]
async fn an_offer_not_taken_goes_to_the_next_in_line() {
    let t = test_db().await;
    let shop = Shop::new(&t, "expire").await;
    let (s, start) = class(&t, &shop, 1).await;
    let (taken, _) = book(&t, &shop, &s, &start, "a@expire.test").await;
    let (_, one) = shop.customer(&t, "one@expire.test").await;
    let (_, two) = shop.customer(&t, "two@expire.test").await;
    let (_, three) = shop.customer(&t, "three@expire.test").await;
    for c in [&one, &two, &three] {
        assert_eq!(join(&t, c, &s, &start).await["userErrors"], json!([]));
    }
    cancel(&t, &shop, &taken).await;
    // The first lets it run out; its job passes it on.
    t.owner_sql("UPDATE bookings.waitlist SET offer_expires_at = now() - interval '1 second' WHERE status = 'OFFERED'").await;
    t.owner_sql("UPDATE bookings.jobs SET run_at = now() - interval '1 second' WHERE state = 'scheduled' AND name = 'waitlist.offer_expire'").await;
    let settings = RunnerSettings {
        batch: 10,
        lease: std::time::Duration::from_secs(30),
        idle: std::time::Duration::from_millis(10),
    };
    use cityos_server::Subgraph as _;
    bookings::Bookings::jobs(Runner::new(t.db().clone(), bookings::JOBS, settings))
        .run_once()
        .await
        .expect("a round");
    assert_eq!(status_of(&t, &one).await, json!([]));
    let mine = status_of(&t, &two).await;
    assert_eq!(mine[0]["status"], "OFFERED", "{mine}");
    // The second declines; the third is offered.
    let r = run(&t, &two, LEAVE, json!({ "id": mine[0]["id"] })).await;
    assert_eq!(r["bookingWaitlistLeave"]["entry"]["status"], "LEFT");
    assert_eq!(status_of(&t, &three).await[0]["status"], "OFFERED");
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT seats_taken::bigint AS n FROM bookings.sessions"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn racing_cancellations_never_offer_one_seat_twice() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race-line").await;
    let (s, start) = class(&t, &shop, 3).await;
    let mut booked = Vec::new();
    for i in 0..3 {
        booked.push(
            book(&t, &shop, &s, &start, &format!("b{i}@race-line.test"))
                .await
                .0,
        );
    }
    let mut waiters = Vec::new();
    for i in 0..6 {
        let (_, c) = shop.customer(&t, &format!("w{i}@race-line.test")).await;
        assert_eq!(join(&t, &c, &s, &start).await["userErrors"], json!([]));
        waiters.push(c);
    }
    futures_util::future::join_all(booked.iter().map(|b| cancel(&t, &shop, b))).await;
    let mut offered = Vec::new();
    for c in &waiters {
        offered.push(
            status_of(&t, c).await[0]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(
        offered,
        [
            "OFFERED", "OFFERED", "OFFERED", "WAITING", "WAITING", "WAITING"
        ]
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT seats_taken::bigint AS n FROM bookings.sessions"
        )
        .await,
        3
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.waitlist_offered'"
        )
        .await,
        3
    );
}
