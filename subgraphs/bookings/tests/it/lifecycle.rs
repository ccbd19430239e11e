//! Bookings: made from holds at checkout (as orders' checkout calls `bookings::api::convert`),
//! paid, confirmed, checked in, completed; cancelled under the policy with the fee and refund
//! that sum to what was paid; no-shows and reminders by their jobs.

use crate::common::*;
use crate::holds::{HOLD, hold};
use bookings::api::{self, Sale};
use chrono::{Duration, Utc};
use cityos_core::money::{Currency, Money};
use cityos_core::{Failure, RequestContext};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::TestDb;
use serde_json::{Value, json};

const BOOKING: &str = "query($id: ID!) { booking(id: $id) { id number status paid seats price { amountMinor currency }
    feeKept { amountMinor } refundOwed { amountMinor } cancelledBy version provider { name } service { name } } }";

fn lifecycle(name: &str) -> String {
    format!(
        "mutation($id: ID!) {{ {name}(id: $id) {{ booking {{ id status version }} userErrors {{ code message }} }} }}"
    )
}

const CANCEL: &str = "mutation($i: BookingCancelInput!) { bookingCancel(input: $i) {
    booking { id status feeKept { amountMinor } refundOwed { amountMinor } cancelledBy } userErrors { code message } } }";

/// A customer of `shop` and their context.
async fn customer(
    t: &TestDb,
    shop: &Shop,
    email: &str,
) -> (cityos_core::ids::UserId, RequestContext) {
    shop.customer(t, email).await
}

/// A clinic open all day every day: a provider and a 60-minute service on a 15-minute grid,
/// with the given rules on top.
async fn clinic(t: &TestDb, shop: &Shop, rules: Value) -> String {
    let p = provider(
        t,
        &shop.admin,
        "Dr. Amal",
        "Asia/Riyadh",
        &[("00:00", "24:00")],
    )
    .await;
    let mut all = json!({ "durationMinutes": 60, "slotIntervalMinutes": 15, "freeCancelHours": 24, "cancelFeeBasisPoints": 5000 });
    if let (Some(a), Some(r)) = (all.as_object_mut(), rules.as_object()) {
        a.extend(r.clone());
    }
    service(t, &shop.admin, "Consultation", all, &[&p]).await
}

/// The first slot of `service` at least `ahead` from now, as availability offers it.
async fn slot_after(t: &TestDb, shop: &Shop, service: &str, ahead: Duration) -> String {
    let at = Utc::now() + ahead;
    let day = at.date_naive();
    let r = run(t, &shop.guest(), AVAILABILITY, json!({ "s": service, "from": day.to_string(), "to": (day + Duration::days(1)).to_string(), "tz": "UTC" })).await;
    starts(&r)
        .into_iter()
        .find(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|s| s >= at))
        .expect("a slot")
}

/// Converts hold `hold` of `customer` as checkout does, for 250.00 SAR on a new order line.
async fn convert(
    t: &TestDb,
    shop: &Shop,
    hold: &str,
    customer: cityos_core::ids::UserId,
) -> Result<api::Booking, Failure<bookings::errors::BookingsErrorCode>> {
    let sale = Sale {
        hold: hold.parse().expect("a hold id"),
        customer,
        order_id: uuid::Uuid::now_v7(),
        order_line_id: uuid::Uuid::now_v7(),
        amount: Money::new(25_000, Currency::parse("SAR").expect("SAR")),
    };
    t.db()
        .tenant_tx(shop.info.id, async move |tx| api::convert(tx, sale).await)
        .await
}

async fn pay(t: &TestDb, shop: &Shop, order: uuid::Uuid) -> Vec<api::Booking> {
    t.db()
        .tenant_tx(shop.info.id, async move |tx| api::paid(tx, order).await)
        .await
        .expect("paid")
}

/// A booking of `service` at `start` for a new customer, paid unless `paid` is false.
async fn booked(
    t: &TestDb,
    shop: &Shop,
    service: &str,
    start: &str,
    email: &str,
    paid: bool,
) -> (api::Booking, RequestContext) {
    let (id, ctx) = customer(t, shop, email).await;
    let r = hold(t, &ctx, service, start, json!({})).await;
    let hold_id = r["hold"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let mut booking = convert(t, shop, &hold_id, id).await.expect("converted");
    if paid {
        booking = pay(t, shop, booking.order_id.expect("an order"))
            .await
            .remove(0);
    }
    (booking, ctx)
}

/// The topics of the outbox's events, oldest first.
async fn topics(t: &TestDb) -> Vec<String> {
    {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            topic: String,
        }
        use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
        let mut conn = diesel_async::AsyncPgConnection::establish(&t.owner_url)
            .await
            .expect("owner");
        let rows: Vec<Row> =
            diesel::sql_query("SELECT topic FROM bookings.outbox ORDER BY created_at, id")
                .load(&mut conn)
                .await
                .expect("outbox");
        rows.into_iter().map(|r| r.topic).collect()
    }
}

async fn run_jobs(t: &TestDb) {
    t.owner_sql(
        "UPDATE bookings.jobs SET run_at = now() - interval '1 second' WHERE state = 'scheduled'",
    )
    .await;
    let settings = RunnerSettings {
        batch: 50,
        lease: std::time::Duration::from_secs(30),
        idle: std::time::Duration::from_millis(10),
    };
    use cityos_server::Subgraph as _;
    let runner = bookings::Bookings::jobs(Runner::new(t.db().clone(), bookings::JOBS, settings));
    runner.run_once().await.expect("a round");
}

#[tokio::test]
async fn a_paid_booking_is_confirmed_checked_in_and_completed() {
    let t = test_db().await;
    let shop = Shop::new(&t, "life").await;
    let s = clinic(&t, &shop, json!({})).await;
    let start = slot_after(&t, &shop, &s, Duration::minutes(20)).await;
    let (id, c) = customer(&t, &shop, "sara@life.test").await;
    let r = hold(&t, &c, &s, &start, json!({})).await;
    let hold_id = r["hold"]["id"].as_str().expect("held").to_owned();
    let b = convert(&t, &shop, &hold_id, id).await.expect("converted");
    assert!(
        b.number.starts_with("BK-") && b.number.len() == 15,
        "{}",
        b.number
    );
    assert_eq!(b.status, api::BookingStatus::Pending);
    // The hold is spent: checkout twice makes one booking.
    assert!(
        matches!(convert(&t, &shop, &hold_id, id).await, Err(Failure::User(e)) if e.code == bookings::errors::BookingsErrorCode::HoldExpired)
    );
    let paid = pay(&t, &shop, b.order_id.expect("order")).await;
    assert_eq!(paid[0].status, api::BookingStatus::Confirmed);
    assert!(
        pay(&t, &shop, b.order_id.expect("order")).await.is_empty(),
        "paid once"
    );
    let r = run(&t, &c, BOOKING, json!({ "id": b.id.to_string() })).await;
    assert_eq!(r["booking"]["status"], "CONFIRMED");
    assert_eq!(
        r["booking"]["price"],
        json!({ "amountMinor": 25000, "currency": "SAR" })
    );
    assert_eq!(r["booking"]["provider"]["name"], "Dr. Amal");
    // Completing before check-in is not a transition; the customer cannot check themself in.
    let r = run(
        &t,
        &shop.admin,
        &lifecycle("bookingComplete"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(codes(&r["bookingComplete"]), ["INVALID_TRANSITION"]);
    let r = run(
        &t,
        &c,
        &lifecycle("bookingCheckIn"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(codes(&r["bookingCheckIn"]), ["NOT_FOUND"]);
    let r = run(
        &t,
        &shop.admin,
        &lifecycle("bookingCheckIn"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(
        r["bookingCheckIn"]["booking"]["status"], "CHECKED_IN",
        "{r}"
    );
    let r = run(
        &t,
        &shop.admin,
        &lifecycle("bookingComplete"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(r["bookingComplete"]["booking"]["status"], "COMPLETED");
    assert_eq!(r["bookingComplete"]["booking"]["version"], 4);
    assert_eq!(
        topics(&t).await,
        [
            "booking.pending",
            "booking.confirmed",
            "booking.checked_in",
            "booking.completed"
        ]
    );
}

#[tokio::test]
async fn a_service_that_waits_for_staff_is_confirmed_once_paid_and_approved() {
    let t = test_db().await;
    let shop = Shop::new(&t, "approve").await;
    let s = clinic(&t, &shop, json!({ "requiresConfirmation": true })).await;
    let start = slot_after(&t, &shop, &s, Duration::days(3)).await;
    let (b, c) = booked(&t, &shop, &s, &start, "c@approve.test", true).await;
    assert_eq!(b.status, api::BookingStatus::Pending);
    let r = run(
        &t,
        &c,
        &lifecycle("bookingConfirm"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(codes(&r["bookingConfirm"]), ["NOT_FOUND"]);
    let r = run(
        &t,
        &shop.admin,
        &lifecycle("bookingConfirm"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(r["bookingConfirm"]["booking"]["status"], "CONFIRMED");
    // Approved before payment, it is confirmed when paid.
    let start = slot_after(&t, &shop, &s, Duration::days(4)).await;
    let (b, _) = booked(&t, &shop, &s, &start, "d@approve.test", false).await;
    let r = run(
        &t,
        &shop.admin,
        &lifecycle("bookingConfirm"),
        json!({ "id": b.id.to_string() }),
    )
    .await;
    assert_eq!(r["bookingConfirm"]["booking"]["status"], "PENDING");
    assert_eq!(
        pay(&t, &shop, b.order_id.expect("order")).await[0].status,
        api::BookingStatus::Confirmed
    );
}

#[tokio::test]
async fn cancelling_applies_the_policy_and_gives_the_seats_back() {
    let t = test_db().await;
    let shop = Shop::new(&t, "cancel").await;
    let s = clinic(&t, &shop, json!({})).await;
    // Two days ahead: free.
    let early = slot_after(&t, &shop, &s, Duration::days(2)).await;
    let (b, c) = booked(&t, &shop, &s, &early, "early@cancel.test", true).await;
    let r = run(
        &t,
        &c,
        CANCEL,
        json!({ "i": { "id": b.id.to_string(), "reason": "Travelling" } }),
    )
    .await;
    let done = &r["bookingCancel"]["booking"];
    assert_eq!(
        (
            done["status"].clone(),
            done["feeKept"]["amountMinor"].clone(),
            done["refundOwed"]["amountMinor"].clone()
        ),
        (json!("CANCELLED"), json!(0), json!(25000)),
        "{r}"
    );
    assert_eq!(done["cancelledBy"], "CUSTOMER");
    let r = run(&t, &c, CANCEL, json!({ "i": { "id": b.id.to_string() } })).await;
    assert_eq!(codes(&r["bookingCancel"]), ["INVALID_TRANSITION"]);
    // Its time is free again: another customer holds it.
    let (_, other) = customer(&t, &shop, "other@cancel.test").await;
    let r = run(
        &t,
        &other,
        HOLD,
        json!({ "i": { "serviceId": s, "start": early } }),
    )
    .await;
    assert_eq!(r["bookingHold"]["userErrors"], json!([]), "{r}");
    // Within the day before: half is kept, once the customer accepts it.
    let late = slot_after(&t, &shop, &s, Duration::hours(3)).await;
    let (b, c) = booked(&t, &shop, &s, &late, "late@cancel.test", true).await;
    let r = run(&t, &c, CANCEL, json!({ "i": { "id": b.id.to_string() } })).await;
    assert_eq!(codes(&r["bookingCancel"]), ["POLICY_FEE"]);
    assert!(
        r["bookingCancel"]["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("125.00 SAR")),
        "{r}"
    );
    let r = run(
        &t,
        &c,
        CANCEL,
        json!({ "i": { "id": b.id.to_string(), "acceptedFeeMinor": 100 } }),
    )
    .await;
    assert_eq!(codes(&r["bookingCancel"]), ["POLICY_FEE"]);
    let r = run(
        &t,
        &c,
        CANCEL,
        json!({ "i": { "id": b.id.to_string(), "acceptedFeeMinor": 12500 } }),
    )
    .await;
    let done = &r["bookingCancel"]["booking"];
    assert_eq!(
        (
            done["feeKept"]["amountMinor"].clone(),
            done["refundOwed"]["amountMinor"].clone()
        ),
        (json!(12500), json!(12500)),
        "{r}"
    );
    // The provider's side cancels in full, whenever.
    let (b, _) = booked(
        &t,
        &shop,
        &s,
        &slot_after(&t, &shop, &s, Duration::hours(5)).await,
        "third@cancel.test",
        true,
    )
    .await;
    let r = run(
        &t,
        &shop.admin,
        CANCEL,
        json!({ "i": { "id": b.id.to_string(), "reason": "Doctor ill" } }),
    )
    .await;
    let done = &r["bookingCancel"]["booking"];
    assert_eq!(
        (
            done["refundOwed"]["amountMinor"].clone(),
            done["cancelledBy"].clone()
        ),
        (json!(25000), json!("STAFF")),
        "{r}"
    );
    // An unpaid booking owes nothing back.
    let (b, c) = booked(
        &t,
        &shop,
        &s,
        &slot_after(&t, &shop, &s, Duration::hours(7)).await,
        "unpaid@cancel.test",
        false,
    )
    .await;
    // Its order still asks for its price, so it is cancelled with the order, by anyone.
    for who in [&c, &shop.admin] {
        let r = run(&t, who, CANCEL, json!({ "i": { "id": b.id.to_string() } })).await;
        assert_eq!(codes(&r["bookingCancel"]), ["ORDER_UNPAID"], "{r}");
    }
    let order = b.order_id.expect("an order");
    let gone = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            api::order_cancelled(tx, order, api::CancelledBy::Customer, Some("plans changed")).await
        })
        .await
        .expect("cancelled with its order");
    assert_eq!(
        (gone.len(), gone[0].status, gone[0].refund_minor),
        (1, api::BookingStatus::Cancelled, 0)
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.cancelled'"
        )
        .await,
        4
    );
    // Every cancelled booking's seats are back; the live hold and nothing else holds seats.
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT coalesce(sum(seats_taken), 0)::bigint AS n FROM bookings.sessions"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn racing_checkouts_of_one_hold_make_one_booking() {
    let t = test_db().await;
    let shop = Shop::new(&t, "convert").await;
    let s = clinic(&t, &shop, json!({})).await;
    let start = slot_after(&t, &shop, &s, Duration::days(1)).await;
    let (id, c) = customer(&t, &shop, "c@convert.test").await;
    let (other, _) = customer(&t, &shop, "o@convert.test").await;
    let r = hold(&t, &c, &s, &start, json!({})).await;
    let h = r["hold"]["id"].as_str().expect("held").to_owned();
    assert!(
        matches!(convert(&t, &shop, &h, other).await, Err(Failure::User(e)) if e.code == bookings::errors::BookingsErrorCode::NotFound)
    );
    let results = futures_util::future::join_all((0..10).map(|_| convert(&t, &shop, &h, id))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.bookings")
            .await,
        1
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT seats_taken::bigint AS n FROM bookings.sessions"
        )
        .await,
        1
    );
    // A hold past its time cannot be checked out.
    let later = slot_after(&t, &shop, &s, Duration::days(2)).await;
    let r = hold(&t, &c, &s, &later, json!({})).await;
    t.owner_sql(
        "UPDATE bookings.holds SET expires_at = now() - interval '1 second' WHERE status = 'HELD'",
    )
    .await;
    let late = convert(&t, &shop, r["hold"]["id"].as_str().expect("held"), id).await;
    assert!(
        matches!(late, Err(Failure::User(e)) if e.code == bookings::errors::BookingsErrorCode::HoldExpired)
    );
}

#[tokio::test]
async fn reminders_go_out_once_and_never_for_a_cancelled_booking_and_no_shows_are_marked() {
    let t = test_db().await;
    let shop = Shop::new(&t, "jobs").await;
    let s = clinic(&t, &shop, json!({})).await;
    let start = slot_after(&t, &shop, &s, Duration::days(3)).await;
    let (kept, _) = booked(&t, &shop, &s, &start, "kept@jobs.test", true).await;
    let later = slot_after(&t, &shop, &s, Duration::days(4)).await;
    let (dropped, c) = booked(&t, &shop, &s, &later, "dropped@jobs.test", true).await;
    run(
        &t,
        &c,
        CANCEL,
        json!({ "i": { "id": dropped.id.to_string() } }),
    )
    .await;
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.jobs WHERE state = 'scheduled'"
        )
        .await,
        3
    );
    // Its reminders, run early, go out once each.
    run_jobs(&t).await;
    run_jobs(&t).await;
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.reminder'"
        )
        .await,
        2
    );
    // Its start passes without a check-in.
    t.owner_sql(&format!(
        "UPDATE bookings.bookings SET starts_at = now() - interval '31 minutes' WHERE id = '{}'",
        kept.id
    ))
    .await;
    run_jobs(&t).await;
    let r = run(
        &t,
        &shop.admin,
        BOOKING,
        json!({ "id": kept.id.to_string() }),
    )
    .await;
    assert_eq!(r["booking"]["status"], "NO_SHOW", "{r}");
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.reminder'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_booking_is_its_customer_s_staff_s_and_its_vendor_s_only() {
    let t = test_db().await;
    let shop = Shop::new(&t, "who").await;
    let (_, owner) = shop.vendor(&t, "spa").await;
    let (_, rival) = shop.vendor(&t, "rival").await;
    let p = provider(
        &t,
        &owner,
        "Therapist",
        "Asia/Riyadh",
        &[("00:00", "24:00")],
    )
    .await;
    let s = service(
        &t,
        &owner,
        "Massage",
        json!({ "durationMinutes": 60 }),
        &[&p],
    )
    .await;
    let start = slot_after(&t, &shop, &s, Duration::days(2)).await;
    let (b, c) = booked(&t, &shop, &s, &start, "c@who.test", true).await;
    let (_, stranger) = customer(&t, &shop, "s@who.test").await;
    for (ctx, seen) in [
        (&c, true),
        (&owner, true),
        (&shop.admin, true),
        (&rival, false),
        (&stranger, false),
    ] {
        let r = run(&t, ctx, BOOKING, json!({ "id": b.id.to_string() })).await;
        assert_eq!(r["booking"].is_object(), seen, "{r}");
    }
    let r = run(
        &t,
        &rival,
        CANCEL,
        json!({ "i": { "id": b.id.to_string() } }),
    )
    .await;
    assert_eq!(codes(&r["bookingCancel"]), ["NOT_FOUND"]);
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { bookings { number status } } } }";
    let mine = json!({ "r": [{ "__typename": "User", "id": b.customer_id.to_string() }] });
    let r = run(&t, &c, entities, mine.clone()).await;
    assert_eq!(
        r["_entities"][0]["bookings"][0]["number"],
        b.number.as_str()
    );
    let r = raw(&t, &stranger, entities, mine).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
}

const RESCHEDULE: &str = "mutation($i: BookingRescheduleInput!) { bookingReschedule(input: $i) {
    booking { id status start version } userErrors { code message } } }";

#[tokio::test]
async fn a_booking_moves_in_one_step_and_keeps_its_slot_when_the_new_one_is_refused() {
    let t = test_db().await;
    let shop = Shop::new(&t, "move").await;
    let s = clinic(&t, &shop, json!({})).await;
    let from = slot_after(&t, &shop, &s, Duration::days(3)).await;
    let (b, c) = booked(&t, &shop, &s, &from, "c@move.test", true).await;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("an instant")
            .with_timezone(&Utc)
    };
    let taken_at = (at(&from) + Duration::hours(3)).to_rfc3339();
    let (_, _) = booked(&t, &shop, &s, &taken_at, "other@move.test", true).await;
    // Onto a taken slot: refused, and still where it was.
    let r = run(
        &t,
        &c,
        RESCHEDULE,
        json!({ "i": { "id": b.id.to_string(), "start": taken_at } }),
    )
    .await;
    assert_eq!(codes(&r["bookingReschedule"]), ["SLOT_TAKEN"], "{r}");
    let r = run(&t, &c, BOOKING, json!({ "id": b.id.to_string() })).await;
    assert_eq!(r["booking"]["version"], 2);
    let (_, third) = customer(&t, &shop, "third@move.test").await;
    assert_eq!(
        codes(&hold(&t, &third, &s, &from, json!({})).await),
        ["SLOT_TAKEN"]
    );
    // Half an hour later, over its own old time: moved.
    let to = (at(&from) + Duration::minutes(30)).to_rfc3339();
    let r = run(
        &t,
        &c,
        RESCHEDULE,
        json!({ "i": { "id": b.id.to_string(), "start": to } }),
    )
    .await;
    let moved = &r["bookingReschedule"]["booking"];
    assert!(
        moved["start"].as_str().is_some_and(|m| at(m) == at(&to)),
        "{r}"
    );
    assert_eq!(
        (moved["status"].clone(), moved["version"].clone()),
        (json!("CONFIRMED"), json!(3))
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.outbox WHERE topic = 'booking.rescheduled'"
        )
        .await,
        1
    );
    // Its reminders follow it: the old start's are cancelled, the new start's scheduled.
    assert_eq!(t.count_in(shop.info.id, &format!(
        "SELECT count(*) AS n FROM bookings.jobs WHERE state = 'scheduled' AND name = 'booking.remind' AND payload->>'bookingId' = '{}'", b.id)).await, 2);
    // Within the window only the business moves it; a cancelled booking does not move.
    t.owner_sql(&format!(
        "UPDATE bookings.bookings SET starts_at = now() + interval '2 hours' WHERE id = '{}'",
        b.id
    ))
    .await;
    let later = slot_after(&t, &shop, &s, Duration::days(5)).await;
    let r = run(
        &t,
        &c,
        RESCHEDULE,
        json!({ "i": { "id": b.id.to_string(), "start": later } }),
    )
    .await;
    assert_eq!(codes(&r["bookingReschedule"]), ["TOO_LATE"]);
    let r = run(
        &t,
        &shop.admin,
        RESCHEDULE,
        json!({ "i": { "id": b.id.to_string(), "start": later } }),
    )
    .await;
    assert_eq!(r["bookingReschedule"]["userErrors"], json!([]), "{r}");
    run(
        &t,
        &shop.admin,
        CANCEL,
        json!({ "i": { "id": b.id.to_string() } }),
    )
    .await;
    let r = run(
        &t,
        &shop.admin,
        RESCHEDULE,
        json!({ "i": { "id": b.id.to_string(), "start": from } }),
    )
    .await;
    assert_eq!(codes(&r["bookingReschedule"]), ["INVALID_TRANSITION"]);
    // Seats: the other customer's booking only.
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT coalesce(sum(seats_taken), 0)::bigint AS n FROM bookings.sessions"
        )
        .await,
        1
    );
}

const CALENDAR: &str = "query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
    bookingCalendar(calendarIds: $ids, from: $from, to: $to) {
      calendar { ... on BookingProvider { id name } ... on BookingResource { id name } }
      bookings { number status start } blocks { reason start } } }";

#[tokio::test]
async fn the_calendar_view_shows_bookings_and_blocks_to_the_business_in_constant_statements() {
    let t = test_db().await;
    let shop = Shop::new(&t, "cal").await;
    let (provider_user, provider_ctx) = customer(&t, &shop, "dr@cal.test").await;
    let r = run(&t, &shop.admin, PROVIDER_CREATE, json!({ "i": { "name": "Dr. Cal", "timeZone": "Asia/Riyadh", "userId": provider_user.to_string() } })).await;
    let p = r["bookingProviderCreate"]["provider"]["id"]
        .as_str()
        .expect("a provider")
        .to_owned();
    set_hours(&t, &shop.admin, &p, &[("00:00", "24:00")]).await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60 }),
        &[&p],
    )
    .await;
    let start = slot_after(&t, &shop, &s, Duration::days(1)).await;
    let (b, c) = booked(&t, &shop, &s, &start, "c@cal.test", true).await;
    let at = chrono::DateTime::parse_from_rfc3339(&start)
        .expect("an instant")
        .with_timezone(&Utc);
    let block_start = (at + Duration::hours(3)).to_rfc3339();
    let block_end = (at + Duration::hours(4)).to_rfc3339();
    run(&t, &shop.admin, BLOCK, json!({ "i": { "calendarId": p, "start": block_start, "end": block_end, "reason": "Lunch" } })).await;
    let vars = json!({ "ids": [p], "from": (at - Duration::days(1)).to_rfc3339(), "to": (at + Duration::days(6)).to_rfc3339() });
    for ctx in [&shop.admin, &provider_ctx] {
        let r = run(&t, ctx, CALENDAR, vars.clone()).await;
        let col = &r["bookingCalendar"][0];
        assert_eq!(col["calendar"]["name"], "Dr. Cal");
        assert_eq!(col["bookings"][0]["number"], b.number.as_str(), "{r}");
        assert_eq!(col["blocks"][0]["reason"], "Lunch");
    }
    // A customer, or another vendor's team, sees no calendar.
    let (_, rival) = shop.vendor(&t, "rival-cal").await;
    for ctx in [&c, &rival] {
        let r = raw(&t, ctx, CALENDAR, vars.clone()).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
    }
    let r = raw(
        &t,
        &shop.admin,
        CALENDAR,
        json!({ "ids": [p], "from": vars["to"], "to": vars["from"] }),
    )
    .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );
    // Five calendars cost what one does.
    let mut ids = vec![p.clone()];
    for i in 0..4 {
        ids.push(
            provider(
                &t,
                &shop.admin,
                &format!("Dr. {i}"),
                "Asia/Riyadh",
                &[("00:00", "24:00")],
            )
            .await,
        );
    }
    let before = t.db().round_trips();
    run(&t, &shop.admin, CALENDAR, vars.clone()).await;
    let one = t.db().round_trips() - before;
    let before = t.db().round_trips();
    run(
        &t,
        &shop.admin,
        CALENDAR,
        json!({ "ids": ids, "from": vars["from"], "to": vars["to"] }),
    )
    .await;
    assert_eq!(t.db().round_trips() - before, one);
}
