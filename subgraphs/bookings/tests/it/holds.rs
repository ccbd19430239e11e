//! Holds: what they take from availability and give back, the races on one slot and one class,
//! expiry (never counted past its time, ended by its job), round robin, and every refusal.

use crate::common::*;
use bookings::holds::jobs::HoldExpiry;
use chrono::{Duration, NaiveDate, Utc};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::TestDb;
use serde_json::{Value, json};

pub const HOLD: &str = "mutation($i: BookingHoldInput!) { bookingHold(input: $i) {
    hold { id status start end seats expiresAt provider { id name } resource { id } service { id } }
    userErrors { field code message } } }";
pub const RELEASE: &str =
    "mutation($id: ID!) { bookingHoldRelease(id: $id) { hold { id status } userErrors { code } } }";

fn day() -> NaiveDate {
    Utc::now().date_naive() + Duration::days(5)
}

/// `HH:MM` of day() in Riyadh, as a UTC instant.
fn riyadh(hm: &str) -> String {
    let (h, m) = hm.split_once(':').expect("HH:MM");
    let h: i64 = h.parse().expect("hours");
    let at = day().and_hms_opt(0, 0, 0).expect("midnight").and_utc()
        + Duration::hours(h - 3)
        + Duration::minutes(m.parse().expect("minutes"));
    at.to_rfc3339()
}

fn ask_day(service: &str) -> Value {
    json!({ "s": service, "from": day().to_string(), "to": day().to_string(), "tz": "Asia/Riyadh" })
}

pub async fn hold(
    t: &TestDb,
    ctx: &cityos_core::RequestContext,
    service: &str,
    start: &str,
    extra: Value,
) -> Value {
    let mut i = json!({ "serviceId": service, "start": start });
    if let (Some(i), Some(extra)) = (i.as_object_mut(), extra.as_object()) {
        i.extend(extra.clone());
    }
    run(t, ctx, HOLD, json!({ "i": i })).await["bookingHold"].clone()
}

/// Every slot start of the service on day() whose seats left are at least one.
async fn open_starts(t: &TestDb, shop: &Shop, service: &str) -> Vec<String> {
    starts(&run(t, &shop.guest(), AVAILABILITY, ask_day(service)).await)
}

fn instant(s: &str) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("an instant")
        .with_timezone(&Utc)
}

fn same(a: &str, b: &str) -> bool {
    instant(a) == instant(b)
}

#[tokio::test]
async fn a_held_slot_leaves_availability_until_released() {
    let t = test_db().await;
    let shop = Shop::new(&t, "held").await;
    let p = provider(
        &t,
        &shop.admin,
        "Dr. Amal",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60, "bufferAfterMinutes": 30, "slotIntervalMinutes": 30 }),
        &[&p],
    )
    .await;
    assert_eq!(open_starts(&t, &shop, &s).await.len(), 5);
    let (_, customer) = shop.customer(&t, "sara@held.test").await;
    let r = hold(&t, &customer, &s, &riyadh("11:00"), json!({})).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let h = &r["hold"];
    assert_eq!(
        (
            h["status"].clone(),
            h["provider"]["name"].clone(),
            h["seats"].clone()
        ),
        (json!("HELD"), json!("Dr. Amal"), json!(1))
    );
    let left = instant(h["expiresAt"].as_str().expect("expiry")) - Utc::now();
    assert!(
        left > Duration::minutes(9) && left <= Duration::minutes(10),
        "{left}"
    );
    // 11:00 claims until 12:30 with its half hour after: 10:00 and 10:30 (whose half hours after
    // run into it) go with it; 09:30's ends as it starts.
    let found = open_starts(&t, &shop, &s).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        same(&found[0], &riyadh("09:00")) && same(&found[1], &riyadh("09:30")),
        "{found:?}"
    );
    let r = run(&t, &customer, RELEASE, json!({ "id": h["id"] })).await;
    assert_eq!(r["bookingHoldRelease"]["hold"]["status"], "RELEASED");
    assert_eq!(open_starts(&t, &shop, &s).await.len(), 5);
    let r = run(&t, &customer, RELEASE, json!({ "id": h["id"] })).await;
    assert_eq!(codes(&r["bookingHoldRelease"]), ["HOLD_EXPIRED"]);
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.claims")
            .await,
        0
    );
}

#[tokio::test]
async fn fifty_racing_holds_of_one_appointment_slot_give_exactly_one() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race-one").await;
    let p = provider(
        &t,
        &shop.admin,
        "Dr. One",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60 }),
        &[&p],
    )
    .await;
    let mut customers = Vec::new();
    for i in 0..50 {
        customers.push(shop.customer(&t, &format!("c{i}@race-one.test")).await.1);
    }
    let start = riyadh("10:00");
    let results = futures_util::future::join_all(
        customers.iter().map(|c| hold(&t, c, &s, &start, json!({}))),
    )
    .await;
    let won = results.iter().filter(|r| r["hold"].is_object()).count();
    let taken = results
        .iter()
        .filter(|r| codes(r) == ["SLOT_TAKEN"])
        .count();
    assert_eq!((won, taken), (1, 49), "{results:?}");
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.holds")
            .await,
        1
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT coalesce(sum(seats_taken), 0)::bigint AS n FROM bookings.sessions"
        )
        .await,
        1
    );
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.claims")
            .await,
        1
    );
}

#[tokio::test]
async fn fifty_racing_holds_of_a_twenty_seat_class_give_exactly_twenty() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race-class").await;
    let coach = provider(
        &t,
        &shop.admin,
        "Coach",
        "Asia/Riyadh",
        &[("18:00", "20:00")],
    )
    .await;
    let studio = resource(
        &t,
        &shop.admin,
        "Studio",
        "Asia/Riyadh",
        Some(25),
        &[("06:00", "22:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Spin",
        json!({ "durationMinutes": 45, "slotIntervalMinutes": 60, "capacity": 20 }),
        &[&coach, &studio],
    )
    .await;
    let mut customers = Vec::new();
    for i in 0..50 {
        customers.push(shop.customer(&t, &format!("c{i}@race-class.test")).await.1);
    }
    let start = riyadh("18:00");
    let results = futures_util::future::join_all(
        customers.iter().map(|c| hold(&t, c, &s, &start, json!({}))),
    )
    .await;
    let won = results.iter().filter(|r| r["hold"].is_object()).count();
    let full = results
        .iter()
        .filter(|r| codes(r) == ["CAPACITY_FULL"])
        .count();
    assert_eq!((won, full), (20, 30), "{results:?}");
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT seats_taken::bigint AS n FROM bookings.sessions"
        )
        .await,
        20
    );
    // Two claims (coach and studio) for the one session, and the class gone from availability.
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.claims")
            .await,
        2
    );
    let found = open_starts(&t, &shop, &s).await;
    assert_eq!(found.len(), 1, "only 19:00 is left: {found:?}");
    // One seat given back is one seat offered again.
    let first = results
        .iter()
        .find(|r| r["hold"].is_object())
        .expect("a hold");
    let owner = &customers[results
        .iter()
        .position(|r| r["hold"].is_object())
        .expect("a holder")];
    run(&t, owner, RELEASE, json!({ "id": first["hold"]["id"] })).await;
    let r = run(&t, &shop.guest(), AVAILABILITY, ask_day(&s)).await;
    assert_eq!(r["availability"]["days"][0]["slots"][0]["seatsLeft"], 1);
}

#[tokio::test]
async fn a_hold_past_its_time_never_counts_and_its_job_ends_it() {
    let t = test_db().await;
    let shop = Shop::new(&t, "expiry").await;
    let p = provider(
        &t,
        &shop.admin,
        "Dr. Late",
        "Asia/Riyadh",
        &[("09:00", "11:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60, "holdMinutes": 5 }),
        &[&p],
    )
    .await;
    let (_, first) = shop.customer(&t, "first@expiry.test").await;
    let (_, second) = shop.customer(&t, "second@expiry.test").await;
    let start = riyadh("09:00");
    let r = hold(&t, &first, &s, &start, json!({})).await;
    let left = instant(r["hold"]["expiresAt"].as_str().expect("expiry")) - Utc::now();
    assert!(left <= Duration::minutes(5), "{left}");
    assert_eq!(
        codes(&hold(&t, &second, &s, &start, json!({})).await),
        ["SLOT_TAKEN"]
    );
    t.owner_sql("UPDATE bookings.holds SET expires_at = now() - interval '1 second'")
        .await;
    // Before its job runs, the slot is open again and can be held at once.
    assert_eq!(open_starts(&t, &shop, &s).await.len(), 2);
    let r = hold(&t, &second, &s, &start, json!({})).await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.holds WHERE status = 'EXPIRED'"
        )
        .await,
        1
    );
    // The second hold expires too, and its job ends it: nothing is held or claimed after.
    t.owner_sql(
        "UPDATE bookings.holds SET expires_at = now() - interval '1 second' WHERE status = 'HELD'",
    )
    .await;
    t.owner_sql("UPDATE bookings.jobs SET run_at = now() - interval '1 second'")
        .await;
    let settings = RunnerSettings {
        batch: 10,
        lease: std::time::Duration::from_secs(30),
        idle: std::time::Duration::from_millis(10),
    };
    Runner::new(t.db().clone(), bookings::JOBS, settings)
        .with::<HoldExpiry>()
        .run_once()
        .await
        .expect("a round");
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.holds WHERE status = 'EXPIRED'"
        )
        .await,
        2
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT coalesce(sum(seats_taken), 0)::bigint AS n FROM bookings.sessions"
        )
        .await,
        0
    );
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.claims")
            .await,
        0
    );
}

#[tokio::test]
async fn any_provider_goes_to_the_least_booked_that_week() {
    let t = test_db().await;
    let shop = Shop::new(&t, "robin").await;
    let a = provider(
        &t,
        &shop.admin,
        "Dr. A",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let b = provider(
        &t,
        &shop.admin,
        "Dr. B",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60 }),
        &[&a, &b],
    )
    .await;
    let (_, c) = shop.customer(&t, "c@robin.test").await;
    let mut given = Vec::new();
    for hm in ["09:00", "10:00", "09:00", "11:00"] {
        let r = hold(&t, &c, &s, &riyadh(hm), json!({})).await;
        given.push(
            r["hold"]["provider"]["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned(),
        );
    }
    assert_eq!(given, ["Dr. A", "Dr. B", "Dr. B", "Dr. A"]);
    // Both are taken at 09:00 now; asking for Dr. A at 10:00 gets Dr. A.
    assert_eq!(
        codes(&hold(&t, &c, &s, &riyadh("09:00"), json!({})).await),
        ["SLOT_TAKEN"]
    );
    let r = hold(&t, &c, &s, &riyadh("10:00"), json!({ "providerId": a })).await;
    assert_eq!(r["hold"]["provider"]["name"], "Dr. A", "{r}");
}

#[tokio::test]
async fn refused_holds_say_why_and_change_nothing() {
    let t = test_db().await;
    let shop = Shop::new(&t, "why").await;
    let p = provider(
        &t,
        &shop.admin,
        "Dr. Why",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let other = provider(
        &t,
        &shop.admin,
        "Dr. Other",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60, "maxDaysAhead": 30 }),
        &[&p],
    )
    .await;
    let soon = service(
        &t,
        &shop.admin,
        "Planned",
        json!({ "durationMinutes": 60, "minNoticeMinutes": 43200 }),
        &[&p],
    )
    .await;
    let (_, c) = shop.customer(&t, "c@why.test").await;
    let (_, d) = shop.customer(&t, "d@why.test").await;
    let far = (Utc::now() + Duration::days(40))
        .date_naive()
        .and_hms_opt(7, 0, 0)
        .expect("a time")
        .and_utc()
        .to_rfc3339();
    let cases = [
        (
            hold(&t, &c, &soon, &riyadh("10:00"), json!({})).await,
            "TOO_SOON",
        ),
        (hold(&t, &c, &s, &far, json!({})).await, "TOO_FAR_AHEAD"),
        (
            hold(&t, &c, &s, &riyadh("10:10"), json!({})).await,
            "OUTSIDE_HOURS",
        ),
        (
            hold(&t, &c, &s, &riyadh("12:00"), json!({})).await,
            "OUTSIDE_HOURS",
        ),
        (
            hold(&t, &c, &s, &riyadh("10:00"), json!({ "seats": 2 })).await,
            "CAPACITY_FULL",
        ),
        (
            hold(&t, &c, &s, &riyadh("10:00"), json!({ "seats": 0 })).await,
            "INVALID_RULE",
        ),
        (
            hold(&t, &c, &s, &riyadh("10:00"), json!({ "providerId": other })).await,
            "NOT_FOUND",
        ),
        (
            hold(
                &t,
                &c,
                &uuid::Uuid::now_v7().to_string(),
                &riyadh("10:00"),
                json!({}),
            )
            .await,
            "NOT_FOUND",
        ),
    ];
    for (r, code) in cases {
        assert_eq!(codes(&r), [code], "{r}");
    }
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.holds")
            .await,
        0
    );
    // A storefront visitor must sign in; another customer's hold is not theirs to release.
    let r = raw(
        &t,
        &shop.guest(),
        HOLD,
        json!({ "i": { "serviceId": s, "start": riyadh("10:00") } }),
    )
    .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{r}"
    );
    let r = hold(&t, &c, &s, &riyadh("10:00"), json!({})).await;
    let r = run(&t, &d, RELEASE, json!({ "id": r["hold"]["id"] })).await;
    assert_eq!(codes(&r["bookingHoldRelease"]), ["NOT_FOUND"]);
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.holds WHERE status = 'HELD'"
        )
        .await,
        1
    );
}

const SERIES: &str = "mutation($i: BookingHoldSeriesInput!) { bookingHoldSeries(input: $i) {
    series { id occurrences { start skipped hold { id status provider { name } } } } userErrors { field code message } } }";

#[tokio::test]
async fn a_weekly_series_is_held_all_or_nothing_or_around_its_conflicts() {
    let t = test_db().await;
    let shop = Shop::new(&t, "series").await;
    let p = provider(
        &t,
        &shop.admin,
        "Coach",
        "Asia/Riyadh",
        &[("09:00", "12:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Training",
        json!({ "durationMinutes": 60, "maxDaysAhead": 60 }),
        &[&p],
    )
    .await;
    let (_, c) = shop.customer(&t, "c@series.test").await;
    let (_, other) = shop.customer(&t, "o@series.test").await;
    let first = riyadh("10:00");
    let third = (instant(&first) + Duration::weeks(2)).to_rfc3339();
    // Someone holds the third week.
    assert_eq!(
        hold(&t, &other, &s, &third, json!({})).await["userErrors"],
        json!([])
    );
    let input = |skip: bool, n: i32| json!({ "i": { "serviceId": s, "start": first, "timeZone": "Asia/Riyadh", "occurrences": n, "skipConflicts": skip } });
    let r = run(&t, &c, SERIES, input(false, 4)).await;
    let e = &r["bookingHoldSeries"]["userErrors"][0];
    assert_eq!(
        (e["code"].clone(), e["field"].clone()),
        (json!("SLOT_TAKEN"), json!(["input", "occurrences", "2"])),
        "{r}"
    );
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.holds WHERE status = 'HELD'"
        )
        .await,
        1
    );
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.series")
            .await,
        0
    );
    // Skipping conflicts: weeks 1, 2 and 4 held, 3 taken; past the horizon (9 weeks) too far.
    let r = run(&t, &c, SERIES, input(true, 10)).await;
    let occurrences = r["bookingHoldSeries"]["series"]["occurrences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let what: Vec<String> = occurrences
        .iter()
        .map(|o| {
            o["skipped"].as_str().map_or_else(
                || o["hold"]["status"].as_str().unwrap_or_default().to_owned(),
                str::to_owned,
            )
        })
        .collect();
    assert_eq!(what[..4], ["HELD", "HELD", "SLOT_TAKEN", "HELD"], "{r}");
    assert_eq!(
        what.last().map(String::as_str),
        Some("TOO_FAR_AHEAD"),
        "{what:?}"
    );
    let held = what.iter().filter(|w| *w == "HELD").count() as i64;
    assert_eq!(
        t.count_in(
            shop.info.id,
            "SELECT count(*) AS n FROM bookings.holds WHERE series_id IS NOT NULL"
        )
        .await,
        held
    );
    for (bad, field) in [
        (json!({ "everyWeeks": 5 }), "everyWeeks"),
        (json!({ "occurrences": 53 }), "occurrences"),
        (json!({ "timeZone": "Nowhere" }), "timeZone"),
    ] {
        let mut i = input(false, 3);
        if let (Some(i), Some(bad)) = (i["i"].as_object_mut(), bad.as_object()) {
            i.extend(bad.clone());
        }
        let r = run(&t, &c, SERIES, i).await;
        assert_eq!(
            r["bookingHoldSeries"]["userErrors"][0]["field"][1], field,
            "{r}"
        );
    }
}

#[tokio::test]
async fn a_customer_keeps_at_most_sixty_live_holds() {
    let t = test_db().await;
    let shop = Shop::new(&t, "quota").await;
    let p = provider(
        &t,
        &shop.admin,
        "Coach",
        "Asia/Riyadh",
        &[("00:00", "24:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Training",
        json!({ "durationMinutes": 60, "maxDaysAhead": 730 }),
        &[&p],
    )
    .await;
    let (_, c) = shop.customer(&t, "c@quota.test").await;
    let r = run(&t, &c, SERIES, json!({ "i": { "serviceId": s, "start": riyadh("10:00"), "timeZone": "Asia/Riyadh", "occurrences": 52 } })).await;
    assert_eq!(r["bookingHoldSeries"]["userErrors"], json!([]), "{r}");
    for h in 0..8 {
        let r = hold(&t, &c, &s, &riyadh(&format!("{:02}:00", 11 + h)), json!({})).await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    let r = hold(&t, &c, &s, &riyadh("20:00"), json!({})).await;
    assert_eq!(codes(&r), ["TOO_MANY_HOLDS"]);
    let r = run(&t, &c, SERIES, json!({ "i": { "serviceId": s, "start": riyadh("21:00"), "timeZone": "Asia/Riyadh", "occurrences": 2 } })).await;
    assert_eq!(codes(&r["bookingHoldSeries"]), ["TOO_MANY_HOLDS"]);
    // Another customer is not held back, and a hold past its time frees a place.
    let (_, d) = shop.customer(&t, "d@quota.test").await;
    assert_eq!(
        hold(&t, &d, &s, &riyadh("20:00"), json!({})).await["userErrors"],
        json!([])
    );
    t.owner_sql("UPDATE bookings.holds SET expires_at = now() - interval '1 second' WHERE id = (SELECT id FROM bookings.holds ORDER BY created_at LIMIT 1)").await;
    assert_eq!(
        hold(&t, &c, &s, &riyadh("21:00"), json!({})).await["userErrors"],
        json!([])
    );
}
