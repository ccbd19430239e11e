//! Set-up shared by the bookings subgraph's tests: a tenant, its vendors (approved through the
//! vendors subgraph's own mutations), and providers, resources and services made through the
//! mutations their users send.

use bookings::{Bookings, build_schema};
use cityos_core::ids::{UserId, VendorId};
use cityos_core::{RequestContext, Role, TenantInfo, VendorRole};
use cityos_fixtures::TenantBuilder;
use cityos_testkit::{TestDb, user_context, vendor_context};
use serde_json::{Value, json};

/// A fresh database with the bookings schema and those it depends on.
pub async fn test_db() -> TestDb {
    TestDb::for_subgraph::<Bookings>().await
}

/// A tenant and its admin.
pub struct Shop {
    pub info: TenantInfo,
    pub admin: RequestContext,
}

impl Shop {
    pub async fn new(t: &TestDb, slug: &str) -> Self {
        let tenant = TenantBuilder::new(slug).create(t).await;
        Self {
            info: tenant.info,
            admin: tenant.admin,
        }
    }

    /// A signed-up customer and their context.
    pub async fn customer(&self, t: &TestDb, email: &str) -> (UserId, RequestContext) {
        let id = cityos_fixtures::customer(t, &self.info, email).await;
        (id, user_context(Some(&self.info), id, &[Role::Customer]))
    }

    /// A storefront visitor.
    pub fn guest(&self) -> RequestContext {
        cityos_testkit::context(Some(&self.info), cityos_core::Actor::Anonymous)
    }

    /// A vendor the marketplace approved (the tenant asking no documents), and its owner acting
    /// for it.
    pub async fn vendor(&self, t: &TestDb, handle: &str) -> (VendorId, RequestContext) {
        let schema = vendors::build_schema(Some(&t.platform));
        let vendors = async |ctx: &RequestContext, q: &str, v: Value| {
            let r = t.graphql::<vendors::Vendors>(&schema, ctx, q, v).await;
            assert!(r.get("errors").is_none(), "{r}");
            r["data"].clone()
        };
        vendors(&self.admin, "mutation { vendorSettingsUpdate(input: { requiredDocuments: [] }) { userErrors { code } } }", json!({})).await;
        let (owner, customer) = self.customer(t, &format!("owner@{handle}.test")).await;
        let r = vendors(&customer, "mutation($i: VendorApplyInput!) { vendorApply(input: $i) { vendor { id } userErrors { code } } }",
            json!({ "i": { "name": format!("{handle} house"), "handle": handle, "email": format!("hello@{handle}.test") } })).await;
        let vendor: VendorId = r["vendorApply"]["vendor"]["id"]
            .as_str()
            .expect("applied")
            .parse()
            .expect("an id");
        for step in ["vendorReviewStart", "vendorApprove"] {
            let q = format!(
                "mutation($i: VendorTransitionInput!) {{ {step}(input: $i) {{ userErrors {{ code }} }} }}"
            );
            let r = vendors(
                &self.admin,
                &q,
                json!({ "i": { "id": vendor.to_string() } }),
            )
            .await;
            assert_eq!(r[step]["userErrors"], json!([]), "{r}");
        }
        (
            vendor,
            vendor_context(&self.info, owner, vendor, VendorRole::Owner),
        )
    }
}

/// Runs `query` as `ctx` through the bookings schema; the response's `data`, with no errors.
pub async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let r = raw(t, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// Runs `query` as `ctx`: the whole response.
pub async fn raw(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    t.graphql::<Bookings>(&schema, ctx, query, vars).await
}

/// The codes of a payload's userErrors.
pub fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub const PROVIDER_CREATE: &str =
    "mutation($i: BookingProviderCreateInput!) { bookingProviderCreate(input: $i) {
    provider { id name timeZone active vendor { id } } userErrors { field code message } } }";
pub const RESOURCE_CREATE: &str =
    "mutation($i: BookingResourceCreateInput!) { bookingResourceCreate(input: $i) {
    resource { id name kind seats timeZone } userErrors { field code message } } }";
pub const HOURS_SET: &str = "mutation($i: BookingHoursSetInput!) { bookingHoursSet(input: $i) {
    weeklyHours { weekday spans { opens closes overnight } } userErrors { field code message } } }";
pub const OVERRIDE_SET: &str = "mutation($i: BookingDateOverrideSetInput!) { bookingDateOverrideSet(input: $i) {
    dateOverride { date spans { opens closes overnight } reason } userErrors { field code message } } }";
pub const SERVICE_CREATE: &str = "mutation($i: BookingServiceCreateInput!) { bookingServiceCreate(input: $i) {
    service { id name status durationMinutes slotIntervalMinutes capacity prices { amountMinor currency }
      providers { id } resources { id } vendor { id } } userErrors { field code message } } }";
pub const BLOCK: &str = "mutation($i: BookingTimeBlockInput!) { bookingTimeBlock(input: $i) {
    block { id start end reason } userErrors { field code message } } }";
pub const AVAILABILITY: &str = "query($s: ID!, $from: NaiveDate!, $to: NaiveDate!, $tz: String!, $p: ID, $seats: Int! = 1) {
    availability(serviceId: $s, from: $from, to: $to, timeZone: $tz, providerId: $p, seats: $seats) {
      timeZone days { date slots { start end localStart seatsLeft providers { id name } } } } }";

/// A provider of `ctx`'s vendor (or the tenant's, for staff) in `zone`, open `spans` every day.
pub async fn provider(
    t: &TestDb,
    ctx: &RequestContext,
    name: &str,
    zone: &str,
    spans: &[(&str, &str)],
) -> String {
    let r = run(
        t,
        ctx,
        PROVIDER_CREATE,
        json!({ "i": { "name": name, "timeZone": zone } }),
    )
    .await;
    let id = r["bookingProviderCreate"]["provider"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    set_hours(t, ctx, &id, spans).await;
    id
}

/// A resource of `ctx`'s vendor in `zone`, open `spans` every day.
pub async fn resource(
    t: &TestDb,
    ctx: &RequestContext,
    name: &str,
    zone: &str,
    seats: Option<i32>,
    spans: &[(&str, &str)],
) -> String {
    let r = run(
        t,
        ctx,
        RESOURCE_CREATE,
        json!({ "i": { "name": name, "timeZone": zone, "kind": "ROOM", "seats": seats } }),
    )
    .await;
    let id = r["bookingResourceCreate"]["resource"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    set_hours(t, ctx, &id, spans).await;
    id
}

/// Opens calendar `id` for `spans` every day of the week.
pub async fn set_hours(t: &TestDb, ctx: &RequestContext, id: &str, spans: &[(&str, &str)]) {
    let spans: Vec<Value> = spans
        .iter()
        .map(|(o, c)| json!({ "opens": o, "closes": c }))
        .collect();
    let days: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "spans": spans }))
        .collect();
    let r = run(
        t,
        ctx,
        HOURS_SET,
        json!({ "i": { "calendarId": id, "days": days } }),
    )
    .await;
    assert_eq!(r["bookingHoursSet"]["userErrors"], json!([]), "{r}");
}

/// A service of `ctx`'s vendor taking `calendars`, with `rules`, priced 100.00 SAR.
pub async fn service(
    t: &TestDb,
    ctx: &RequestContext,
    name: &str,
    rules: Value,
    calendars: &[&str],
) -> String {
    let r = run(
        t,
        ctx,
        SERVICE_CREATE,
        json!({ "i": { "name": name, "rules": rules,
        "prices": [{ "amountMinor": 10000, "currency": "SAR" }], "calendarIds": calendars } }),
    )
    .await;
    r["bookingServiceCreate"]["service"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned()
}

/// The slot starts `availability` returns, as RFC 3339 UTC instants.
pub fn starts(r: &Value) -> Vec<String> {
    r["availability"]["days"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["slots"].as_array().into_iter().flatten())
        .map(|s| s["start"].as_str().unwrap_or_default().to_owned())
        .collect()
}
