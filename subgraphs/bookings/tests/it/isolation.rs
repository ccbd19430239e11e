//! Tenant isolation of every bookings table at once: rows in each for one tenant (and another),
//! then the testkit probes every table the catalogue lists, so a table added without rows here
//! fails by name.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn every_bookings_table_is_isolated_by_tenant() {
    let t = test_db().await;
    let own = Shop::new(&t, "iso-own").await;
    let other = Shop::new(&t, "iso-other").await;
    let mut booked = Vec::new();
    for shop in [&own, &other] {
        // Calendars and their weekly hours, a service with prices and calendars.
        let p = provider(
            &t,
            &shop.admin,
            "Dr. Iso",
            "Asia/Riyadh",
            &[("09:00", "17:00")],
        )
        .await;
        let room = resource(
            &t,
            &shop.admin,
            "Room",
            "Asia/Riyadh",
            Some(2),
            &[("09:00", "17:00")],
        )
        .await;
        let s = service(
            &t,
            &shop.admin,
            "Iso",
            json!({ "durationMinutes": 30 }),
            &[&p, &room],
        )
        .await;
        // A hold: its session, the session's claims and the hold's expiry job.
        let (_, customer) = shop
            .customer(&t, &format!("c@{}.test", shop.info.slug))
            .await;
        let start = (chrono::Utc::now().date_naive() + chrono::Duration::days(3))
            .and_hms_opt(7, 0, 0)
            .expect("a time")
            .and_utc();
        let r = crate::holds::hold(&t, &customer, &s, &start.to_rfc3339(), json!({})).await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
        // A booking made of another hold at checkout: the booking, its jobs and its event.
        let later = start + chrono::Duration::hours(1);
        let r = crate::holds::hold(&t, &customer, &s, &later.to_rfc3339(), json!({})).await;
        let sale = bookings::api::Sale {
            hold: r["hold"]["id"]
                .as_str()
                .expect("held")
                .parse()
                .expect("an id"),
            customer: customer.user_id().expect("signed in"),
            order_id: uuid::Uuid::now_v7(),
            order_line_id: uuid::Uuid::now_v7(),
            amount: cityos_core::money::Money::new(
                100,
                cityos_core::money::Currency::parse("SAR").expect("SAR"),
            ),
        };
        let booking = t
            .db()
            .tenant_tx(shop.info.id, async move |tx| {
                let booking = bookings::api::convert(tx, sale).await?;
                // Paid, as orders' capture says, so that staff may cancel it below.
                bookings::api::paid(tx, sale.order_id).await?;
                Ok::<_, bookings::errors::Failure>(booking)
            })
            .await
            .expect("converted and paid");
        booked.push((shop, booking.id));
        // A series of two weekly holds.
        let r = run(&t, &customer, "mutation($i: BookingHoldSeriesInput!) { bookingHoldSeries(input: $i) { userErrors { code } } }",
            json!({ "i": { "serviceId": s, "start": (start + chrono::Duration::hours(2)).to_rfc3339(), "timeZone": "Asia/Riyadh",
                "occurrences": 2, "skipConflicts": true } })).await;
        assert_eq!(r["bookingHoldSeries"]["userErrors"], json!([]), "{r}");
        // A place in line for the first, held slot.
        let (_, waiting) = shop
            .customer(&t, &format!("w@{}.test", shop.info.slug))
            .await;
        let r = run(&t, &waiting, "mutation($i: BookingWaitlistJoinInput!) { bookingWaitlistJoin(input: $i) { userErrors { code } } }",
            json!({ "i": { "serviceId": s, "start": start.to_rfc3339() } })).await;
        assert_eq!(r["bookingWaitlistJoin"]["userErrors"], json!([]), "{r}");
        // An override with hours, a holiday, blocked time.
        let r = run(&t, &shop.admin, OVERRIDE_SET, json!({ "i": { "calendarId": p, "date": "2027-05-05", "spans": [{ "opens": "10:00", "closes": "11:00" }] } })).await;
        assert_eq!(r["bookingDateOverrideSet"]["userErrors"], json!([]));
        run(&t, &shop.admin, "mutation { bookingHolidaySet(date: \"2027-09-23\", name: \"National Day\") { userErrors { code } } }", json!({})).await;
        let r = run(&t, &shop.admin, BLOCK, json!({ "i": { "calendarId": p, "start": "2027-05-06T10:00:00Z", "end": "2027-05-06T11:00:00Z" } })).await;
        assert!(r["bookingTimeBlock"]["block"].is_object(), "{r}");
    }
    // The outbox's deliveries exist once a subscriber takes the topic: staff cancel each paid
    // booking.
    bookings::OUTBOX
        .subscribe(t.db(), &[("orders".into(), "booking.cancelled".into())])
        .await
        .expect("subscribed");
    for (shop, booking) in booked {
        let r = run(
            &t,
            &shop.admin,
            "mutation($id: ID!) { bookingCancel(input: { id: $id }) { userErrors { code } } }",
            json!({ "id": booking.to_string() }),
        )
        .await;
        assert_eq!(r["bookingCancel"]["userErrors"], json!([]), "{r}");
    }
    t.assert_every_table_isolated("bookings", own.info.id, other.info.id)
        .await;
}
