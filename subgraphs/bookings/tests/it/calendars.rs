//! Providers and resources: who may write them, what their hours accept, and that a refusal
//! changes nothing.

use crate::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_vendor_team_writes_its_own_calendars_only() {
    let t = test_db().await;
    let shop = Shop::new(&t, "teams").await;
    let (vendor, owner) = shop.vendor(&t, "clinic").await;
    let (_, rival) = shop.vendor(&t, "rival").await;
    let p = provider(
        &t,
        &owner,
        "Dr. Noura",
        "Asia/Riyadh",
        &[("09:00", "17:00")],
    )
    .await;
    let r = run(&t, &shop.guest(), "query($id: ID!) { bookingProvider(id: $id) { name vendor { id } weeklyHours { weekday spans { opens closes } } } }", json!({ "id": p })).await;
    assert_eq!(r["bookingProvider"]["vendor"]["id"], vendor.to_string());
    assert_eq!(
        r["bookingProvider"]["weeklyHours"][0]["spans"][0],
        json!({ "opens": "09:00", "closes": "17:00" })
    );
    // Another vendor's team cannot see it to change it, nor name another vendor.
    let r = run(
        &t,
        &rival,
        HOURS_SET,
        json!({ "i": { "calendarId": p, "days": [] } }),
    )
    .await;
    assert_eq!(codes(&r["bookingHoursSet"]), ["NOT_FOUND"]);
    let r = raw(
        &t,
        &rival,
        PROVIDER_CREATE,
        json!({ "i": { "name": "X", "timeZone": "UTC", "vendorId": vendor.to_string() } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    // A customer may not write at all.
    let (_, customer) = shop.customer(&t, "c@teams.test").await;
    let r = raw(
        &t,
        &customer,
        PROVIDER_CREATE,
        json!({ "i": { "name": "X", "timeZone": "UTC" } }),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    // Staff name the vendor; an unknown one is refused.
    let r = run(
        &t,
        &shop.admin,
        PROVIDER_CREATE,
        json!({ "i": { "name": "Dr. Staff", "timeZone": "UTC", "vendorId": vendor.to_string() } }),
    )
    .await;
    assert_eq!(
        r["bookingProviderCreate"]["provider"]["vendor"]["id"],
        vendor.to_string()
    );
    let r = run(&t, &shop.admin, PROVIDER_CREATE, json!({ "i": { "name": "Dr. Nobody", "timeZone": "UTC", "vendorId": uuid::Uuid::now_v7().to_string() } })).await;
    assert_eq!(codes(&r["bookingProviderCreate"]), ["NOT_FOUND"]);
    // The hours are unchanged.
    let r = run(
        &t,
        &shop.guest(),
        "query($id: ID!) { bookingProvider(id: $id) { weeklyHours { spans { opens } } } }",
        json!({ "id": p }),
    )
    .await;
    assert_eq!(
        r["bookingProvider"]["weeklyHours"][6]["spans"][0]["opens"],
        "09:00"
    );
}

#[tokio::test]
async fn malformed_hours_names_and_zones_are_refused_and_change_nothing() {
    let t = test_db().await;
    let shop = Shop::new(&t, "hours").await;
    let p = provider(
        &t,
        &shop.admin,
        "Coach",
        "Europe/Berlin",
        &[("09:00", "12:00")],
    )
    .await;
    let span = |o: &str, c: &str| json!({ "opens": o, "closes": c });
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([{ "weekday": 1, "spans": [span("09:00", "12:00"), span("11:00", "13:00")] }]),
            "INVALID_HOURS",
        ),
        (json!([{ "weekday": 8, "spans": [] }]), "INVALID_HOURS"),
        (json!([{ "weekday": 0, "spans": [] }]), "INVALID_HOURS"),
        (
            json!([{ "weekday": 1, "spans": [] }, { "weekday": 1, "spans": [] }]),
            "INVALID_HOURS",
        ),
        (
            json!([{ "weekday": 1, "spans": [span("9:00", "12:00")] }]),
            "INVALID_HOURS",
        ),
        (
            json!([{ "weekday": 1, "spans": [span("24:00", "01:00")] }]),
            "INVALID_HOURS",
        ),
        (
            json!([{ "weekday": 1, "spans": vec![span("09:00", "10:00"); 7] }]),
            "INVALID_HOURS",
        ),
    ];
    for (days, code) in cases {
        let r = run(
            &t,
            &shop.admin,
            HOURS_SET,
            json!({ "i": { "calendarId": p, "days": days } }),
        )
        .await;
        assert_eq!(codes(&r["bookingHoursSet"]), [code], "{days}");
    }
    let r = run(
        &t,
        &shop.guest(),
        "query($id: ID!) { bookingProvider(id: $id) { weeklyHours { spans { opens closes } } } }",
        json!({ "id": p }),
    )
    .await;
    assert_eq!(
        r["bookingProvider"]["weeklyHours"][0]["spans"],
        json!([{ "opens": "09:00", "closes": "12:00" }])
    );
    for (input, code) in [
        (
            json!({ "name": "X", "timeZone": "Europe/Atlantis" }),
            "INVALID_TIME_ZONE",
        ),
        (json!({ "name": "", "timeZone": "UTC" }), "INVALID_TEXT"),
        (
            json!({ "name": "x".repeat(121), "timeZone": "UTC" }),
            "INVALID_TEXT",
        ),
    ] {
        let r = run(&t, &shop.admin, PROVIDER_CREATE, json!({ "i": input })).await;
        assert_eq!(codes(&r["bookingProviderCreate"]), [code]);
    }
    // A control character never reaches the resolver.
    let r = raw(
        &t,
        &shop.admin,
        PROVIDER_CREATE,
        json!({ "i": { "name": "Dr\u{7}", "timeZone": "UTC" } }),
    )
    .await;
    assert!(r["errors"].is_array(), "{r}");
    let r = run(
        &t,
        &shop.admin,
        RESOURCE_CREATE,
        json!({ "i": { "name": "Hall", "timeZone": "UTC", "kind": "ROOM", "seats": 0 } }),
    )
    .await;
    assert_eq!(codes(&r["bookingResourceCreate"]), ["INVALID_RULE"]);
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.calendars")
            .await,
        1
    );
}

#[tokio::test]
async fn overrides_and_holidays_round_trip() {
    let t = test_db().await;
    let shop = Shop::new(&t, "days").await;
    let p = provider(
        &t,
        &shop.admin,
        "Coach",
        "Europe/Berlin",
        &[("09:00", "12:00")],
    )
    .await;
    let r = run(
        &t,
        &shop.admin,
        OVERRIDE_SET,
        json!({ "i": { "calendarId": p, "date": "2027-12-24", "spans": [], "reason": "Closed" } }),
    )
    .await;
    assert_eq!(
        r["bookingDateOverrideSet"]["dateOverride"],
        json!({ "date": "2027-12-24", "spans": [], "reason": "Closed" })
    );
    let q = "query($id: ID!) { bookingProvider(id: $id) { dateOverrides(from: \"2027-12-01\", to: \"2027-12-31\") { date spans { opens } reason } } }";
    let r = run(&t, &shop.guest(), q, json!({ "id": p })).await;
    assert_eq!(
        r["bookingProvider"]["dateOverrides"][0]["date"],
        "2027-12-24"
    );
    let r = run(&t, &shop.admin, "mutation($id: ID!) { bookingDateOverrideRemove(calendarId: $id, date: \"2027-12-24\") { userErrors { code } } }", json!({ "id": p })).await;
    assert_eq!(r["bookingDateOverrideRemove"]["userErrors"], json!([]));
    let r = run(&t, &shop.admin, "mutation($id: ID!) { bookingDateOverrideRemove(calendarId: $id, date: \"2027-12-24\") { userErrors { code } } }", json!({ "id": p })).await;
    assert_eq!(codes(&r["bookingDateOverrideRemove"]), ["NOT_FOUND"]);
    let r = run(&t, &shop.guest(), q, json!({ "id": p })).await;
    assert_eq!(r["bookingProvider"]["dateOverrides"], json!([]));
    // Holidays are staff's.
    let (vendor_team, _) = (shop.vendor(&t, "gym").await.1, ());
    let r = raw(&t, &vendor_team, "mutation { bookingHolidaySet(date: \"2027-09-23\", name: \"National Day\") { userErrors { code } } }", json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    run(&t, &shop.admin, "mutation { bookingHolidaySet(date: \"2027-09-23\", name: \"National Day\") { userErrors { code } } }", json!({})).await;
    let r = run(
        &t,
        &shop.guest(),
        "{ bookingHolidays(from: \"2027-01-01\", to: \"2027-12-31\") { date name } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r["bookingHolidays"],
        json!([{ "date": "2027-09-23", "name": "National Day" }])
    );
}
