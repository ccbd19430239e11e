//! End-to-end through the router and running processes: staff set up a clinic (a practitioner
//! with weekly hours in Riyadh, a consultation) and a class; a storefront reads availability in
//! the customer's zone; 20 customers race for one slot and exactly one holds it; a class fills,
//! the next customer joins its waitlist, a seat is released and the waitlist's first is offered
//! it and accepts it as a hold. (Checkout of a booking line goes through orders next.)

use cityos_e2e::Stack;
use cityos_e2e::fixtures::{Caller, create_tenant, headers, payload_of, platform_token};
use cityos_e2e::operations::bookings;
use serde_json::{Value, json};

async fn staff_ok(
    stack: &Stack,
    staff: &[(&str, &str)],
    op: cityos_e2e::Operation,
    vars: Value,
) -> Value {
    payload_of(stack.op(staff, op, vars).await)
}

/// A calendar of `kind` ("provider" or "resource") open every day for `spans`.
async fn calendar(
    stack: &Stack,
    staff: &[(&str, &str)],
    provider: bool,
    name: &str,
    spans: &[(&str, &str)],
) -> String {
    let id = if provider {
        let r = staff_ok(
            stack,
            staff,
            bookings::BOOKING_PROVIDER_CREATE,
            json!({ "input": { "name": name, "timeZone": "Asia/Riyadh" } }),
        )
        .await;
        r["provider"]["id"].clone()
    } else {
        let r = staff_ok(stack, staff, bookings::BOOKING_RESOURCE_CREATE,
            json!({ "input": { "name": name, "timeZone": "Asia/Riyadh", "kind": "ROOM", "seats": 2 } })).await;
        r["resource"]["id"].clone()
    };
    let id = id.as_str().expect("an id").to_owned();
    let spans: Vec<Value> = spans
        .iter()
        .map(|(o, c)| json!({ "opens": o, "closes": c }))
        .collect();
    let days: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "spans": spans }))
        .collect();
    staff_ok(
        stack,
        staff,
        bookings::BOOKING_HOURS_SET,
        json!({ "input": { "calendarId": id, "days": days } }),
    )
    .await;
    id
}

/// `c` holds `start` of `service`.
async fn hold(stack: &Stack, c: &Caller, service: &str, start: &str) -> cityos_e2e::Response {
    let h = c.headers();
    let vars = json!({ "input": { "serviceId": service, "start": start } });
    stack.op(&headers(&h), bookings::BOOKING_HOLD, vars).await
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_find_hold_race_for_and_wait_for_slots_through_the_router() {
    let stack = Stack::start().await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "clinic").await;
    let staff = shop.staff();
    let staff = headers(&staff);
    let doctor = calendar(&stack, &staff, true, "Dr. Amal", &[("09:00", "12:00")]).await;
    let r = staff_ok(&stack, &staff, bookings::BOOKING_SERVICE_CREATE, json!({ "input": { "name": "Consultation",
        "rules": { "durationMinutes": 60 }, "prices": [{ "amountMinor": 25000, "currency": "SAR" }], "calendarIds": [doctor] } })).await;
    let consultation = r["service"]["id"].as_str().expect("a service").to_owned();

    // Availability for the storefront, in Berlin time: Riyadh's 09:00 is 07:00 there in summer,
    // 07:00 in winter too (Berlin +1, Riyadh +3).
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(4);
    let storefront = [("x-publishable-key", shop.key.as_str())];
    let r = stack.op(&storefront, bookings::AVAILABILITY, json!({ "serviceId": consultation, "from": day, "to": day, "timeZone": "Europe/Berlin" })).await;
    let slots = r.data()["availability"]["days"][0]["slots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(slots.len(), 3, "{}", r.body);
    assert_eq!(slots[0]["providers"][0]["name"], "Dr. Amal");
    assert!(
        slots[0]["localStart"]
            .as_str()
            .is_some_and(|l| l.contains("T07:00:00+01:00") || l.contains("T08:00:00+02:00")),
        "{}",
        r.body
    );
    let start = slots[0]["start"].as_str().expect("a start").to_owned();

    // 20 customers race for the first slot: one holds it.
    let mut customers = Vec::new();
    for i in 0..20 {
        customers.push(Caller::sign_up(&stack, &shop, &format!("c{i}@clinic.test")).await);
    }
    let results = futures_util::future::join_all(
        customers
            .iter()
            .map(|c| hold(&stack, c, &consultation, &start)),
    )
    .await;
    let codes: Vec<String> = results
        .iter()
        .map(|r| {
            r.data()["bookingHold"]["userErrors"][0]["code"]
                .as_str()
                .unwrap_or("HELD")
                .to_owned()
        })
        .collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "HELD").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "SLOT_TAKEN").count(),
        19,
        "{codes:?}"
    );
    let r = stack
        .op(
            &storefront,
            bookings::AVAILABILITY,
            json!({ "serviceId": consultation, "from": day, "to": day, "timeZone": "Asia/Riyadh" }),
        )
        .await;
    assert_eq!(
        r.data()["availability"]["days"][0]["slots"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{}",
        r.body
    );

    // A class of two fills; the third customer waits and gets the seat the first releases.
    let coach = calendar(&stack, &staff, true, "Coach", &[("18:00", "19:00")]).await;
    let studio = calendar(&stack, &staff, false, "Studio", &[("06:00", "22:00")]).await;
    let r = staff_ok(&stack, &staff, bookings::BOOKING_SERVICE_CREATE, json!({ "input": { "name": "Spin",
        "rules": { "durationMinutes": 45, "capacity": 20 }, "prices": [{ "amountMinor": 6000, "currency": "SAR" }], "calendarIds": [coach, studio] } })).await;
    let spin = r["service"]["id"].as_str().expect("a service").to_owned();
    let class = format!("{day}T15:00:00Z");
    let first = payload_of(hold(&stack, &customers[1], &spin, &class).await);
    payload_of(hold(&stack, &customers[2], &spin, &class).await);
    let r = hold(&stack, &customers[3], &spin, &class).await;
    assert_eq!(
        r.data()["bookingHold"]["userErrors"][0]["code"],
        "CAPACITY_FULL",
        "{}",
        r.body
    );
    let joined = customers[3]
        .ok(
            &stack,
            bookings::BOOKING_WAITLIST_JOIN.text,
            json!({ "input": { "serviceId": spin, "start": class } }),
        )
        .await;
    assert_eq!(joined["entry"]["position"], 1);
    customers[1]
        .ok(
            &stack,
            bookings::BOOKING_HOLD_RELEASE.text,
            json!({ "id": first["hold"]["id"] }),
        )
        .await;
    let mine = customers[3]
        .send(&stack, bookings::MY_BOOKING_WAITLIST.text, json!({}))
        .await;
    assert_eq!(mine["myBookingWaitlist"][0]["status"], "OFFERED", "{mine}");
    let accepted = customers[3]
        .ok(
            &stack,
            bookings::BOOKING_WAITLIST_ACCEPT.text,
            json!({ "id": joined["entry"]["id"] }),
        )
        .await;
    assert_eq!(accepted["hold"]["status"], "HELD");
}
