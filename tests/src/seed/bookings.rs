//! Bookings' demo data, in the demo tenant's time zone: a clinic (three practitioners, two
//! examination rooms, a consultation taking one of each), a gym (a coach and a 20-bike studio,
//! a spin class of 20 seats) and a meeting room for hire, all open Sunday to Thursday, and the
//! tenant's national holidays. Made by its staff through the router.

use super::{Result, Tenant, run};
use cityos_client::operations::bookings;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// `subgraphs/bookings/seed.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Data {
    time_zone: String,
    holidays: Vec<Holiday>,
    providers: Vec<Calendar>,
    resources: Vec<Calendar>,
    /// The weekdays every calendar opens (1 Monday to 7 Sunday).
    weekdays: Vec<i32>,
    services: Vec<Service>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Holiday {
    date: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Calendar {
    /// How services name it here.
    key: String,
    name: String,
    /// A resource's kind and seats.
    kind: Option<String>,
    seats: Option<i32>,
    /// Its spans (`HH:MM`, `HH:MM`) on each of the weekdays.
    hours: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Service {
    name: String,
    description: String,
    /// A `BookingServiceRulesInput`.
    rules: Value,
    prices: Value,
    /// The keys of its providers and resources.
    calendars: Vec<String>,
}

pub(super) async fn load(tenant: &Tenant, data: &Data) -> Result<()> {
    let staff = &tenant.staff;
    for h in &data.holidays {
        run(
            staff,
            bookings::BOOKING_HOLIDAY_SET,
            json!({ "date": h.date, "name": h.name }),
        )
        .await?;
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    let calendars = data
        .providers
        .iter()
        .map(|c| (c, true))
        .chain(data.resources.iter().map(|c| (c, false)));
    for (c, is_provider) in calendars {
        let id = if is_provider {
            let r = run(
                staff,
                bookings::BOOKING_PROVIDER_CREATE,
                json!({ "input": { "name": c.name, "timeZone": data.time_zone } }),
            )
            .await?;
            r["provider"]["id"].clone()
        } else {
            let r = run(
                staff,
                bookings::BOOKING_RESOURCE_CREATE,
                json!({ "input": {
                "name": c.name, "timeZone": data.time_zone, "kind": c.kind, "seats": c.seats } }),
            )
            .await?;
            r["resource"]["id"].clone()
        };
        let id = id.as_str().ok_or("a calendar without an id")?.to_owned();
        let spans: Vec<Value> = c
            .hours
            .iter()
            .map(|(o, cl)| json!({ "opens": o, "closes": cl }))
            .collect();
        let days: Vec<Value> = data
            .weekdays
            .iter()
            .map(|d| json!({ "weekday": d, "spans": spans }))
            .collect();
        run(
            staff,
            bookings::BOOKING_HOURS_SET,
            json!({ "input": { "calendarId": id, "days": days } }),
        )
        .await?;
        ids.insert(&c.key, id);
    }
    for s in &data.services {
        let calendar_ids = s
            .calendars
            .iter()
            .map(|k| {
                ids.get(k.as_str())
                    .cloned()
                    .ok_or_else(|| format!("no calendar {k}"))
            })
            .collect::<Result<Vec<String>, String>>()?;
        run(
            staff,
            bookings::BOOKING_SERVICE_CREATE,
            json!({ "input": {
            "name": s.name, "description": s.description, "rules": s.rules, "prices": s.prices,
            "calendarIds": calendar_ids } }),
        )
        .await?;
    }
    Ok(())
}
