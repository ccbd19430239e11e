//! Availability through GraphQL, on the days that break naive engines: Europe/Berlin's spring
//! and autumn changes (found from today, so the test keeps its meaning every year), Asia/Riyadh,
//! an override past midnight, holidays, blocked time with buffers, inactive providers.

use crate::common::*;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};

/// The next last Sunday of `month` at least two days from today.
fn next_last_sunday(month: u32) -> NaiveDate {
    let today = Utc::now().date_naive() + Duration::days(2);
    (today.year()..)
        .map(|y| {
            let first_next = NaiveDate::from_ymd_opt(y + i32::from(month == 12), month % 12 + 1, 1)
                .expect("a date");
            let last = first_next - Duration::days(1);
            last - Duration::days(i64::from(last.weekday().num_days_from_sunday()))
        })
        .find(|d| *d >= today)
        .expect("a Sunday")
}

fn ask(service: &str, from: NaiveDate, to: NaiveDate, tz: &str) -> Value {
    json!({ "s": service, "from": from.to_string(), "to": to.to_string(), "tz": tz })
}

fn at(day: NaiveDate, hm: &str) -> String {
    format!("{day}T{hm}:00+00:00")
}

async fn clinic(
    t: &cityos_testkit::TestDb,
    shop: &Shop,
    zone: &str,
    spans: &[(&str, &str)],
) -> (String, String) {
    let p = provider(t, &shop.admin, "Dr. Amal", zone, spans).await;
    let s = service(
        t,
        &shop.admin,
        "Consultation",
        json!({ "durationMinutes": 60, "maxDaysAhead": 730 }),
        &[&p],
    )
    .await;
    (p, s)
}

#[tokio::test]
async fn berlin_slots_keep_local_hours_across_the_spring_change() {
    let t = test_db().await;
    let shop = Shop::new(&t, "spring").await;
    let (_, s) = clinic(&t, &shop, "Europe/Berlin", &[("09:00", "12:00")]).await;
    let sunday = next_last_sunday(3);
    let saturday = sunday - Duration::days(1);
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, saturday, sunday, "Europe/Berlin"),
    )
    .await;
    assert_eq!(
        starts(&r),
        [
            at(saturday, "08:00"),
            at(saturday, "09:00"),
            at(saturday, "10:00"),
            at(sunday, "07:00"),
            at(sunday, "08:00"),
            at(sunday, "09:00"),
        ]
    );
    let days = &r["availability"]["days"];
    assert_eq!(
        days[0]["slots"][0]["localStart"],
        format!("{saturday}T09:00:00+01:00")
    );
    assert_eq!(
        days[1]["slots"][0]["localStart"],
        format!("{sunday}T09:00:00+02:00")
    );
    assert_eq!(days[1]["slots"][0]["providers"][0]["name"], "Dr. Amal");
    // Asked in Riyadh, the same instants fall on the same dates, at Riyadh's local times.
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, saturday, sunday, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(
        r["availability"]["days"][1]["slots"][0]["localStart"],
        format!("{sunday}T10:00:00+03:00")
    );
}

#[tokio::test]
async fn a_night_span_has_seven_real_hours_on_the_autumn_day() {
    let t = test_db().await;
    let shop = Shop::new(&t, "autumn").await;
    let (_, s) = clinic(&t, &shop, "Europe/Berlin", &[("00:00", "06:00")]).await;
    let sunday = next_last_sunday(10);
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, sunday, sunday, "Europe/Berlin"),
    )
    .await;
    let before = sunday - Duration::days(1);
    assert_eq!(
        starts(&r),
        [
            at(before, "22:00"),
            at(before, "23:00"),
            at(sunday, "00:00"),
            at(sunday, "01:00"),
            at(sunday, "02:00"),
            at(sunday, "03:00"),
            at(sunday, "04:00"),
        ]
    );
    let locals: Vec<&str> = r["availability"]["days"][0]["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["localStart"].as_str().unwrap_or_default())
        .collect();
    // 02:00 twice, an hour apart, with their offsets.
    assert_eq!(locals[2], format!("{sunday}T02:00:00+02:00"));
    assert_eq!(locals[3], format!("{sunday}T02:00:00+01:00"));
}

#[tokio::test]
async fn riyadh_weekends_overrides_past_midnight_and_holidays() {
    let t = test_db().await;
    let shop = Shop::new(&t, "riyadh").await;
    let p = provider(&t, &shop.admin, "Coach", "Asia/Riyadh", &[]).await;
    // Sunday to Thursday 16:00 to 18:00; Friday and Saturday closed.
    let days: Vec<Value> = [7, 1, 2, 3, 4]
        .iter()
        .map(|d| json!({ "weekday": d, "spans": [{ "opens": "16:00", "closes": "18:00" }] }))
        .collect();
    let r = run(
        &t,
        &shop.admin,
        HOURS_SET,
        json!({ "i": { "calendarId": p, "days": days } }),
    )
    .await;
    assert_eq!(r["bookingHoursSet"]["weeklyHours"][4]["spans"], json!([]));
    let s = service(
        &t,
        &shop.admin,
        "Session",
        json!({ "durationMinutes": 60, "maxDaysAhead": 730 }),
        &[&p],
    )
    .await;
    let today = Utc::now().date_naive();
    let thursday = (3..10)
        .map(|d| today + Duration::days(d))
        .find(|d| d.weekday() == Weekday::Thu)
        .expect("a Thursday");
    let (friday, saturday, sunday) = (
        thursday + Duration::days(1),
        thursday + Duration::days(2),
        thursday + Duration::days(3),
    );
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, thursday, sunday, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(
        starts(&r),
        [
            at(thursday, "13:00"),
            at(thursday, "14:00"),
            at(sunday, "13:00"),
            at(sunday, "14:00")
        ]
    );
    // A late shift on Friday until 02:00 runs into a closed Saturday; Sunday is a holiday.
    let r = run(
        &t,
        &shop.admin,
        OVERRIDE_SET,
        json!({ "i": { "calendarId": p, "date": friday.to_string(),
        "spans": [{ "opens": "22:00", "closes": "02:00" }], "reason": "Late shift" } }),
    )
    .await;
    assert_eq!(
        r["bookingDateOverrideSet"]["dateOverride"]["spans"][0],
        json!({ "opens": "22:00", "closes": "02:00", "overnight": true })
    );
    let r = run(&t, &shop.admin, "mutation($d: NaiveDate!) { bookingHolidaySet(date: $d, name: \"National Day\") { holiday { date name } userErrors { code } } }",
        json!({ "d": sunday.to_string() })).await;
    assert_eq!(r["bookingHolidaySet"]["holiday"]["name"], "National Day");
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, friday, sunday, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(
        starts(&r),
        [
            at(friday, "19:00"),
            at(friday, "20:00"),
            at(friday, "21:00"),
            at(friday, "22:00")
        ]
    );
    // Grouped by the asked zone's dates: Friday's 22:00 and 23:00, then Saturday's 00:00 and 01:00.
    let days: Vec<&str> = r["availability"]["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["date"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(days, [friday.to_string(), saturday.to_string()]);
    // An override opens the holiday again.
    run(
        &t,
        &shop.admin,
        OVERRIDE_SET,
        json!({ "i": { "calendarId": p, "date": sunday.to_string(),
        "spans": [{ "opens": "10:00", "closes": "11:00" }] } }),
    )
    .await;
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, sunday, sunday, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(starts(&r), [at(sunday, "07:00")]);
}

#[tokio::test]
async fn blocked_time_takes_slots_with_the_buffers_and_frees_them_when_unblocked() {
    let t = test_db().await;
    let shop = Shop::new(&t, "blocks").await;
    let p = provider(
        &t,
        &shop.admin,
        "Stylist",
        "Asia/Riyadh",
        &[("09:00", "13:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Cut",
        json!({ "durationMinutes": 60, "slotIntervalMinutes": 15,
        "bufferBeforeMinutes": 15, "bufferAfterMinutes": 15, "maxDaysAhead": 730 }),
        &[&p],
    )
    .await;
    let day = Utc::now().date_naive() + Duration::days(5);
    // 10:00 to 11:00 local is blocked.
    let r = run(&t, &shop.admin, BLOCK, json!({ "i": { "calendarId": p, "start": at(day, "07:00"), "end": at(day, "08:00"), "reason": "Team meeting" } })).await;
    let block = r["bookingTimeBlock"]["block"]["id"]
        .as_str()
        .expect("blocked")
        .to_owned();
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, day, day, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(
        starts(&r),
        [
            at(day, "08:15"),
            at(day, "08:30"),
            at(day, "08:45"),
            at(day, "09:00")
        ]
    );
    // Overlapping it is refused, and changes nothing.
    let r = run(
        &t,
        &shop.admin,
        BLOCK,
        json!({ "i": { "calendarId": p, "start": at(day, "07:30"), "end": at(day, "09:00") } }),
    )
    .await;
    assert_eq!(codes(&r["bookingTimeBlock"]), ["SLOT_TAKEN"]);
    let r = run(
        &t,
        &shop.admin,
        "mutation($id: ID!) { bookingTimeUnblock(id: $id) { block { id } userErrors { code } } }",
        json!({ "id": block }),
    )
    .await;
    assert_eq!(r["bookingTimeUnblock"]["block"]["id"], block);
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, day, day, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(starts(&r).len(), 13);
}

#[tokio::test]
async fn racing_blocks_of_one_hour_leave_exactly_one() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race").await;
    let p = provider(
        &t,
        &shop.admin,
        "Room keeper",
        "Asia/Riyadh",
        &[("00:00", "24:00")],
    )
    .await;
    let day = Utc::now().date_naive() + Duration::days(3);
    let attempts = (0..20).map(|i| {
        let (t, admin, p) = (&t, &shop.admin, &p);
        async move {
            // Each starts at another minute of one hour, so all overlap.
            let start = format!("{day}T10:{i:02}:00+00:00");
            let end = format!("{day}T11:{i:02}:00+00:00");
            run(
                t,
                admin,
                BLOCK,
                json!({ "i": { "calendarId": p, "start": start, "end": end } }),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|r| r["bookingTimeBlock"]["block"].is_object())
        .count();
    let taken = results
        .iter()
        .filter(|r| codes(&r["bookingTimeBlock"]) == ["SLOT_TAKEN"])
        .count();
    assert_eq!((won, taken), (1, 19));
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.claims")
            .await,
        1
    );
}

#[tokio::test]
async fn inactive_providers_archived_services_and_bad_questions() {
    let t = test_db().await;
    let shop = Shop::new(&t, "gaps").await;
    let (p, s) = clinic(&t, &shop, "Asia/Riyadh", &[("09:00", "10:00")]).await;
    let day = Utc::now().date_naive() + Duration::days(4);
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, day, day, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(starts(&r).len(), 1);
    // Another provider: asked for by id, only theirs; one not of the service is an error.
    let other = provider(
        &t,
        &shop.admin,
        "Dr. Other",
        "Asia/Riyadh",
        &[("09:00", "10:00")],
    )
    .await;
    let mut vars = ask(&s, day, day, "Asia/Riyadh");
    vars["p"] = json!(other);
    let r = raw(&t, &shop.guest(), AVAILABILITY, vars).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "NOT_FOUND", "{r}");
    for (vars, why) in [
        (ask(&s, day, day, "Mars/Olympus"), "an unknown zone"),
        (
            ask(&s, day, day + Duration::days(62), "Asia/Riyadh"),
            "63 days",
        ),
        (
            ask(&s, day, day - Duration::days(1), "Asia/Riyadh"),
            "backwards",
        ),
    ] {
        let r = raw(&t, &shop.guest(), AVAILABILITY, vars).await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{why}: {r}"
        );
    }
    // An inactive provider has no slots, and an archived service is not there.
    let r = run(&t, &shop.admin, "mutation($i: BookingCalendarUpdateInput!) { bookingCalendarUpdate(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": p, "active": false } })).await;
    assert_eq!(r["bookingCalendarUpdate"]["userErrors"], json!([]));
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, day, day, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(starts(&r), Vec::<String>::new());
    run(
        &t,
        &shop.admin,
        "mutation($id: ID!) { bookingServiceArchive(id: $id) { userErrors { code } } }",
        json!({ "id": s }),
    )
    .await;
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, day, day, "Asia/Riyadh"),
    )
    .await;
    assert_eq!(r["availability"], Value::Null);
}

#[tokio::test]
async fn a_room_alone_is_bookable_on_its_hours_and_notice_and_horizon_bound_it() {
    let t = test_db().await;
    let shop = Shop::new(&t, "rooms").await;
    let room = resource(
        &t,
        &shop.admin,
        "Meeting room",
        "Asia/Riyadh",
        Some(8),
        &[("08:00", "10:00")],
    )
    .await;
    let s = service(
        &t,
        &shop.admin,
        "Room hire",
        json!({ "durationMinutes": 60, "maxDaysAhead": 2, "minNoticeMinutes": 0 }),
        &[&room],
    )
    .await;
    let today = Utc::now().date_naive();
    let r = run(
        &t,
        &shop.guest(),
        AVAILABILITY,
        ask(&s, today, today + Duration::days(10), "Asia/Riyadh"),
    )
    .await;
    let found = starts(&r);
    // Only within two days from now.
    assert!(!found.is_empty() && found.len() <= 6, "{found:?}");
    let horizon = Utc::now() + Duration::days(2);
    assert!(
        found
            .iter()
            .all(|s| chrono::DateTime::parse_from_rfc3339(s).expect("an instant") <= horizon)
    );
    assert_eq!(
        r["availability"]["days"][0]["slots"][0]["providers"],
        json!([])
    );
}
