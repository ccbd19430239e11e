//! Services: their rules and bounds, prices, the calendars they take, their vendor's and
//! product's fields across the supergraph, archiving.

use crate::common::*;
use cityos_fixtures::ProductBuilder;
use serde_json::json;

#[tokio::test]
async fn a_service_takes_defaults_and_refuses_what_is_out_of_bounds() {
    let t = test_db().await;
    let shop = Shop::new(&t, "rules").await;
    let p = provider(
        &t,
        &shop.admin,
        "Dr. Amal",
        "Asia/Riyadh",
        &[("09:00", "17:00")],
    )
    .await;
    let r = run(&t, &shop.admin, SERVICE_CREATE, json!({ "i": { "name": "Check-up", "rules": { "durationMinutes": 45 },
        "prices": [{ "amountMinor": 15000, "currency": "SAR" }, { "amountMinor": 4000, "currency": "usd" }], "calendarIds": [p] } })).await;
    let s = &r["bookingServiceCreate"]["service"];
    assert_eq!(
        (s["slotIntervalMinutes"].clone(), s["capacity"].clone()),
        (json!(45), json!(1))
    );
    assert_eq!(
        s["prices"],
        json!([{ "amountMinor": 15000, "currency": "SAR" }, { "amountMinor": 4000, "currency": "USD" }])
    );
    assert_eq!(s["providers"][0]["id"], p);
    let base = || json!({ "name": "X", "rules": { "durationMinutes": 30 }, "prices": [{ "amountMinor": 1, "currency": "SAR" }], "calendarIds": [p] });
    let mut cases = vec![];
    for (field, value) in [
        ("durationMinutes", 4),
        ("durationMinutes", 1441),
        ("bufferBeforeMinutes", -1),
        ("capacity", 0),
        ("capacity", 1001),
        ("maxDaysAhead", 0),
        ("slotIntervalMinutes", 2),
        ("cancelFeeBasisPoints", 10001),
    ] {
        let mut i = base();
        i["rules"][field] = json!(value);
        cases.push((i, "INVALID_RULE"));
    }
    let mut i = base();
    i["prices"] = json!([]);
    cases.push((i, "INVALID_AMOUNT"));
    let mut i = base();
    i["prices"] =
        json!([{ "amountMinor": 1, "currency": "SAR" }, { "amountMinor": 2, "currency": "SAR" }]);
    cases.push((i, "INVALID_AMOUNT"));
    let mut i = base();
    i["prices"] = json!([{ "amountMinor": -1, "currency": "SAR" }]);
    cases.push((i, "INVALID_AMOUNT"));
    let mut i = base();
    i["prices"] = json!([{ "amountMinor": 1, "currency": "XXQ" }]);
    cases.push((i, "UNKNOWN_CURRENCY"));
    let mut i = base();
    i["calendarIds"] = json!([]);
    cases.push((i, "INVALID_RULE"));
    let mut i = base();
    i["calendarIds"] = json!([p, p]);
    cases.push((i, "INVALID_RULE"));
    let mut i = base();
    i["calendarIds"] = json!([uuid::Uuid::now_v7().to_string()]);
    cases.push((i, "NOT_FOUND"));
    let mut i = base();
    i["productId"] = json!(uuid::Uuid::now_v7().to_string());
    cases.push((i, "NOT_FOUND"));
    for (input, code) in cases {
        let r = run(&t, &shop.admin, SERVICE_CREATE, json!({ "i": input })).await;
        assert_eq!(codes(&r["bookingServiceCreate"]), [code], "{input}");
    }
    assert_eq!(
        t.count_in(shop.info.id, "SELECT count(*) AS n FROM bookings.services")
            .await,
        1
    );
}

#[tokio::test]
async fn a_vendor_s_services_take_its_own_calendars_and_show_on_the_vendor_and_product() {
    let t = test_db().await;
    let shop = Shop::new(&t, "vendor-svc").await;
    let (vendor, owner) = shop.vendor(&t, "spa").await;
    let (_, rival) = shop.vendor(&t, "rival-spa").await;
    let mine = provider(
        &t,
        &owner,
        "Therapist",
        "Asia/Riyadh",
        &[("10:00", "18:00")],
    )
    .await;
    let theirs = provider(
        &t,
        &rival,
        "Other therapist",
        "Asia/Riyadh",
        &[("10:00", "18:00")],
    )
    .await;
    let r = run(
        &t,
        &owner,
        SERVICE_CREATE,
        json!({ "i": { "name": "Massage", "rules": { "durationMinutes": 60 },
        "prices": [{ "amountMinor": 30000, "currency": "SAR" }], "calendarIds": [theirs] } }),
    )
    .await;
    assert_eq!(codes(&r["bookingServiceCreate"]), ["NOT_FOUND"]);
    let s = service(
        &t,
        &owner,
        "Massage",
        json!({ "durationMinutes": 60 }),
        &[&mine],
    )
    .await;
    // The vendor's services and the product's service, as the router asks for them.
    let product = ProductBuilder::new("massage").create(&t, &shop.admin).await;
    let r = run(&t, &owner, "mutation($i: BookingServiceUpdateInput!) { bookingServiceUpdate(input: $i) { service { product { id } } userErrors { code } } }",
        json!({ "i": { "id": s, "productId": product.id.to_string() } })).await;
    assert_eq!(
        r["bookingServiceUpdate"]["service"]["product"]["id"],
        product.id.to_string()
    );
    let other = service(
        &t,
        &owner,
        "Massage (long)",
        json!({ "durationMinutes": 90 }),
        &[&mine],
    )
    .await;
    let r = run(&t, &owner, "mutation($i: BookingServiceUpdateInput!) { bookingServiceUpdate(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": other, "productId": product.id.to_string() } })).await;
    assert_eq!(codes(&r["bookingServiceUpdate"]), ["PRODUCT_TAKEN"]);
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Vendor { services { name } } ... on Product { service { id } } } }";
    let r = run(
        &t,
        &shop.guest(),
        entities,
        json!({ "r": [
        { "__typename": "Vendor", "id": vendor.to_string() },
        { "__typename": "Product", "id": product.id.to_string() } ] }),
    )
    .await;
    assert_eq!(
        r["_entities"][0]["services"],
        json!([{ "name": "Massage" }, { "name": "Massage (long)" }])
    );
    assert_eq!(r["_entities"][1]["service"]["id"], s);
    // Archived: gone for storefronts, kept for the team; it takes no changes until restored.
    run(
        &t,
        &owner,
        "mutation($id: ID!) { bookingServiceArchive(id: $id) { userErrors { code } } }",
        json!({ "id": other }),
    )
    .await;
    let r = run(
        &t,
        &shop.guest(),
        entities,
        json!({ "r": [{ "__typename": "Vendor", "id": vendor.to_string() }] }),
    )
    .await;
    assert_eq!(
        r["_entities"][0]["services"],
        json!([{ "name": "Massage" }])
    );
    let r = run(
        &t,
        &owner,
        entities,
        json!({ "r": [{ "__typename": "Vendor", "id": vendor.to_string() }] }),
    )
    .await;
    assert_eq!(
        r["_entities"][0]["services"].as_array().map(Vec::len),
        Some(2)
    );
    let r = run(&t, &owner, "mutation($i: BookingServiceUpdateInput!) { bookingServiceUpdate(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": other, "name": "Renamed" } })).await;
    assert_eq!(codes(&r["bookingServiceUpdate"]), ["SERVICE_ARCHIVED"]);
    let r = run(
        &t,
        &owner,
        "mutation($id: ID!) { bookingServiceArchive(id: $id) { userErrors { code } } }",
        json!({ "id": other }),
    )
    .await;
    assert_eq!(codes(&r["bookingServiceArchive"]), ["INVALID_TRANSITION"]);
    let r = run(
        &t,
        &rival,
        "mutation($id: ID!) { bookingServiceRestore(id: $id) { userErrors { code } } }",
        json!({ "id": other }),
    )
    .await;
    assert_eq!(codes(&r["bookingServiceRestore"]), ["NOT_FOUND"]);
    let r = run(&t, &owner, "mutation($id: ID!) { bookingServiceRestore(id: $id) { service { status } userErrors { code } } }", json!({ "id": other })).await;
    assert_eq!(r["bookingServiceRestore"]["service"]["status"], "ACTIVE");
}
