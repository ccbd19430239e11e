//! Bookable services: what a booking is of. A service has a length, buffers before and after,
//! a minimum notice and a horizon, the grid its slots start on, seats per session (1 for an
//! appointment, N for a class), whether staff confirm its bookings, a cancellation policy (free
//! until some hours before the start, then a share of the price kept), a price per currency or a
//! linked catalog product, and the providers and resources a session takes (one of each kind it
//! lists). A service belongs to a vendor or to the tenant itself.

pub mod graphql;

use crate::calendars::{self, CalendarKind};
use crate::errors::{BookingsErrorCode as Code, Outcome, UserError, name, refusal};
use crate::ids::{CalendarId, ProductId, ServiceId, VendorId};
use crate::scope::{Writer, no_such_service};
use crate::slots::Rules;
use chrono::Duration;
use cityos_core::money::{Currency, Money};
use cityos_core::text::Text;
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
// The derive of a row with an embedded part names the trait.
use diesel::deserialize::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text as SqlText, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Whether a service takes bookings.
    #[graphql(name = "BookingServiceStatus")]
    pub enum ServiceStatus {
        /// Bookable.
        Active = "ACTIVE",
        /// Takes no new bookings; those made stay.
        Archived = "ARCHIVED",
    }
    transitions {
        Active -> Archived,
        Archived -> Active,
    }
}

/// The rules of a service, in minutes, as stored and as written.
#[derive(diesel::QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    #[diesel(sql_type = Integer)]
    pub duration_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub buffer_before_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub buffer_after_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub min_notice_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub max_days_ahead: i32,
    #[diesel(sql_type = Integer)]
    pub slot_interval_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub capacity: i32,
    #[diesel(sql_type = Bool)]
    pub requires_confirmation: bool,
    #[diesel(sql_type = Integer)]
    pub free_cancel_hours: i32,
    #[diesel(sql_type = Integer)]
    pub cancel_fee_bps: i32,
    #[diesel(sql_type = Integer)]
    pub hold_minutes: i32,
}

impl Settings {
    /// Each field's bounds, refused at the field's name.
    fn check(&self) -> Outcome<()> {
        let bounds: [(&str, i32, i32, i32); 10] = [
            ("durationMinutes", self.duration_minutes, 5, 1440),
            ("bufferBeforeMinutes", self.buffer_before_minutes, 0, 480),
            ("bufferAfterMinutes", self.buffer_after_minutes, 0, 480),
            ("minNoticeMinutes", self.min_notice_minutes, 0, 525_600),
            ("maxDaysAhead", self.max_days_ahead, 1, 730),
            ("slotIntervalMinutes", self.slot_interval_minutes, 5, 1440),
            ("capacity", self.capacity, 1, 1000),
            ("freeCancelHours", self.free_cancel_hours, 0, 8760),
            ("cancelFeeBasisPoints", self.cancel_fee_bps, 0, 10_000),
            ("holdMinutes", self.hold_minutes, 1, 60),
        ];
        for (field, value, min, max) in bounds {
            if !(min..=max).contains(&value) {
                return Err(refusal(
                    field,
                    Code::InvalidRule,
                    format!("{field} is {min} to {max}"),
                ));
            }
        }
        Ok(())
    }

    /// What the availability engine reads.
    pub fn rules(&self) -> Rules {
        let minutes = |m: i32| Duration::minutes(i64::from(m));
        Rules {
            duration: minutes(self.duration_minutes),
            buffer_before: minutes(self.buffer_before_minutes),
            buffer_after: minutes(self.buffer_after_minutes),
            interval: minutes(self.slot_interval_minutes),
            capacity: self.capacity,
            notice: minutes(self.min_notice_minutes),
            horizon: Duration::days(i64::from(self.max_days_ahead)),
        }
    }
}

/// A service, as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Service {
    #[diesel(sql_type = SqlUuid)]
    pub id: ServiceId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vendor_id: Option<VendorId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub product_id: Option<ProductId>,
    #[diesel(sql_type = SqlText)]
    pub name: String,
    #[diesel(sql_type = SqlText)]
    pub description: String,
    #[diesel(embed)]
    pub settings: Settings,
    #[diesel(sql_type = SqlText)]
    pub status: ServiceStatus,
}

const COLUMNS: &str = "id, vendor_id, product_id, name, description, duration_minutes,
    buffer_before_minutes, buffer_after_minutes, min_notice_minutes, max_days_ahead,
    slot_interval_minutes, capacity, requires_confirmation, free_cancel_hours, cancel_fee_bps,
    hold_minutes, status";

/// Changes to a service's rules; `None` keeps a field (on a new service: its default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsPatch {
    pub duration_minutes: Option<i32>,
    pub buffer_before_minutes: Option<i32>,
    pub buffer_after_minutes: Option<i32>,
    pub min_notice_minutes: Option<i32>,
    pub max_days_ahead: Option<i32>,
    pub slot_interval_minutes: Option<i32>,
    pub capacity: Option<i32>,
    pub requires_confirmation: Option<bool>,
    pub free_cancel_hours: Option<i32>,
    pub cancel_fee_bps: Option<i32>,
    pub hold_minutes: Option<i32>,
}

impl SettingsPatch {
    /// `base` with these changes.
    pub fn apply(self, base: Settings) -> Settings {
        Settings {
            duration_minutes: self.duration_minutes.unwrap_or(base.duration_minutes),
            buffer_before_minutes: self
                .buffer_before_minutes
                .unwrap_or(base.buffer_before_minutes),
            buffer_after_minutes: self
                .buffer_after_minutes
                .unwrap_or(base.buffer_after_minutes),
            min_notice_minutes: self.min_notice_minutes.unwrap_or(base.min_notice_minutes),
            max_days_ahead: self.max_days_ahead.unwrap_or(base.max_days_ahead),
            slot_interval_minutes: self
                .slot_interval_minutes
                .unwrap_or(base.slot_interval_minutes),
            capacity: self.capacity.unwrap_or(base.capacity),
            requires_confirmation: self
                .requires_confirmation
                .unwrap_or(base.requires_confirmation),
            free_cancel_hours: self.free_cancel_hours.unwrap_or(base.free_cancel_hours),
            cancel_fee_bps: self.cancel_fee_bps.unwrap_or(base.cancel_fee_bps),
            hold_minutes: self.hold_minutes.unwrap_or(base.hold_minutes),
        }
    }

    /// A new service's rules: these, the rest by default (no buffers or notice, 60 days ahead,
    /// slots every service length, one seat, no confirmation, free cancelling until 24 hours
    /// before, holds kept 10 minutes); the length is required.
    fn for_new(self) -> Outcome<Settings> {
        let duration = self.duration_minutes.ok_or_else(|| {
            refusal(
                "durationMinutes",
                Code::InvalidRule,
                "give the service's length",
            )
        })?;
        Ok(self.apply(Settings {
            duration_minutes: duration,
            buffer_before_minutes: 0,
            buffer_after_minutes: 0,
            min_notice_minutes: 0,
            max_days_ahead: 60,
            slot_interval_minutes: duration,
            capacity: 1,
            requires_confirmation: false,
            free_cancel_hours: 24,
            cancel_fee_bps: 0,
            hold_minutes: 10,
        }))
    }
}

/// A service to create, or (each part `None` to keep it) the changes to one.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: Option<String>,
    pub description: Option<String>,
    pub settings: SettingsPatch,
    pub product_id: Option<Option<ProductId>>,
    /// Prices by currency code and minor units; replaces all when given.
    pub prices: Option<Vec<(String, i64)>>,
    /// The providers and resources it takes; replaces all when given.
    pub calendars: Option<Vec<CalendarId>>,
}

fn prices(given: &[(String, i64)]) -> Outcome<Vec<Money>> {
    let mut out: Vec<Money> = Vec::with_capacity(given.len());
    for (i, (code, amount)) in given.iter().enumerate() {
        let field = format!("prices.{i}");
        let currency = Currency::parse(code)
            .map_err(|_| refusal(&field, Code::UnknownCurrency, "an unknown currency"))?;
        if !(0..=100_000_000_000).contains(amount) {
            return Err(refusal(
                &field,
                Code::InvalidAmount,
                "a price is 0 to 10^11 minor units",
            ));
        }
        if out.iter().any(|m| m.currency == currency) {
            return Err(refusal(
                &field,
                Code::InvalidAmount,
                "name each currency once",
            ));
        }
        out.push(Money::new(*amount, currency));
    }
    Ok(out)
}

/// Checks the providers and resources a service of `vendor` takes: each exists, is active and is
/// the service's vendor's (or, for the tenant's own service, the tenant's).
async fn check_calendars(
    tx: &mut TenantTx<'_>,
    vendor: Option<VendorId>,
    ids: &[CalendarId],
) -> Outcome<()> {
    if ids.is_empty() {
        return Err(refusal(
            "calendarIds",
            Code::InvalidRule,
            "a service takes at least one provider or resource",
        ));
    }
    if ids.len() > 100 {
        return Err(refusal(
            "calendarIds",
            Code::InvalidRule,
            "at most 100 providers and resources",
        ));
    }
    let found = calendars::by_ids(tx, ids).await?;
    for (i, id) in ids.iter().enumerate() {
        let field = format!("calendarIds.{i}");
        match found.get(id) {
            Some(c) if c.vendor_id == vendor && c.active => {}
            Some(c) if c.vendor_id == vendor => {
                return Err(refusal(
                    &field,
                    Code::CalendarUnavailable,
                    "the provider or resource is inactive",
                ));
            }
            _ => return Err(crate::scope::no_such_calendar(&field)),
        }
        if ids[..i].contains(id) {
            return Err(refusal(
                &field,
                Code::InvalidRule,
                "name each provider and resource once",
            ));
        }
    }
    Ok(())
}

async fn check_product(tx: &mut TenantTx<'_>, product: Option<ProductId>) -> Outcome<()> {
    match product {
        Some(p) if !catalog::api::product_exists(tx, p).await? => {
            Err(refusal("productId", Code::NotFound, "no such product"))
        }
        _ => Ok(()),
    }
}

async fn write_prices(tx: &mut TenantTx<'_>, id: ServiceId, prices: &[Money]) -> QueryResult<()> {
    Prepared(
        diesel::sql_query("DELETE FROM bookings.service_prices WHERE service_id = $1")
            .bind::<SqlUuid, _>(id),
    )
    .execute(tx.conn())
    .await?;
    let codes: Vec<&str> = prices.iter().map(|m| m.currency.code()).collect();
    let amounts: Vec<i64> = prices.iter().map(|m| m.amount).collect();
    Prepared(
        diesel::sql_query(
            "INSERT INTO bookings.service_prices (tenant_id, service_id, currency, amount_minor)
             SELECT $1, $2, c, a FROM unnest($3::text[], $4::bigint[]) AS p (c, a)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(id)
        .bind::<Array<SqlText>, _>(&codes)
        .bind::<Array<BigInt>, _>(&amounts),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

async fn write_calendars(
    tx: &mut TenantTx<'_>,
    id: ServiceId,
    ids: &[CalendarId],
) -> QueryResult<()> {
    Prepared(
        diesel::sql_query("DELETE FROM bookings.service_calendars WHERE service_id = $1")
            .bind::<SqlUuid, _>(id),
    )
    .execute(tx.conn())
    .await?;
    Prepared(
        diesel::sql_query(
            "INSERT INTO bookings.service_calendars (tenant_id, service_id, calendar_id)
             SELECT $1, $2, c FROM unnest($3::uuid[]) AS s (c)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(id)
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

fn product_taken() -> UserError {
    UserError::new(
        "productId",
        Code::ProductTaken,
        "another service is linked to this product",
    )
}

/// Creates a service for the writer's vendor (staff: for `vendor`, or the tenant's own).
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    vendor: Option<VendorId>,
    draft: Draft,
) -> Outcome<Service> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_service.create", async move |tx| {
        let name = name(draft.name.as_deref().unwrap_or_default(), "name")?;
        let description = Text::<5000>::parse(draft.description.as_deref().unwrap_or_default())
            .map_err(|e| e.refusal("description"))?
            .into_inner();
        let settings = draft.settings.for_new()?;
        settings.check()?;
        let prices = prices(draft.prices.as_deref().unwrap_or_default())?;
        let product = draft.product_id.flatten();
        if prices.is_empty() && product.is_none() {
            return Err(refusal("prices", Code::InvalidAmount, "give a price or link a product"));
        }
        let vendor = writer.vendor_for(tx, vendor).await?;
        let calendar_ids = draft.calendars.unwrap_or_default();
        check_calendars(tx, vendor, &calendar_ids).await?;
        check_product(tx, product).await?;
        let id = ServiceId::new();
        let rows: Vec<Service> = Prepared(with_settings(
            diesel::sql_query(format!(
                "INSERT INTO bookings.services (tenant_id, id, vendor_id, product_id, name, description,
                     duration_minutes, buffer_before_minutes, buffer_after_minutes, min_notice_minutes,
                     max_days_ahead, slot_interval_minutes, capacity, requires_confirmation,
                     free_cancel_hours, cancel_fee_bps, hold_minutes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                 RETURNING {COLUMNS}"
            ))
            .into_boxed()
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<SqlUuid>, _>(vendor)
            .bind::<Nullable<SqlUuid>, _>(product)
            .bind::<SqlText, _>(&name)
            .bind::<SqlText, _>(&description),
            settings,
        ))
        .load(tx.conn())
        .await
        .map_err(|e| Failure::on_unique("services_product", e, product_taken))?;
        let service = rows
            .into_iter()
            .next()
            .ok_or_else(|| cityos_core::ApiError::internal("insert returned nothing"))?;
        write_prices(tx, id, &prices).await?;
        write_calendars(tx, id, &calendar_ids).await?;
        let audit = Audit::of(id, serde_json::json!({ "name": name, "vendorId": vendor }));
        Ok((service, audit))
    })
    .await
}

/// Binds a service's rules after a statement's other parameters, in the order both writes list
/// their columns: duration, buffers before and after, notice, days ahead, slot interval,
/// capacity, confirmation, free cancellation hours, fee, hold minutes.
fn with_settings(
    query: BoxedSqlQuery<'_, Pg, SqlQuery>,
    s: Settings,
) -> BoxedSqlQuery<'_, Pg, SqlQuery> {
    query
        .bind::<Integer, _>(s.duration_minutes)
        .bind::<Integer, _>(s.buffer_before_minutes)
        .bind::<Integer, _>(s.buffer_after_minutes)
        .bind::<Integer, _>(s.min_notice_minutes)
        .bind::<Integer, _>(s.max_days_ahead)
        .bind::<Integer, _>(s.slot_interval_minutes)
        .bind::<Integer, _>(s.capacity)
        .bind::<Bool, _>(s.requires_confirmation)
        .bind::<Integer, _>(s.free_cancel_hours)
        .bind::<Integer, _>(s.cancel_fee_bps)
        .bind::<Integer, _>(s.hold_minutes)
}

/// Locks service `id` for a change by `writer`: NOT_FOUND at `field` when it does not exist or
/// is another vendor's.
pub async fn lock(
    tx: &mut TenantTx<'_>,
    writer: Writer,
    id: ServiceId,
    field: &str,
) -> Outcome<Service> {
    let found: Vec<Service> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.services WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    match found.into_iter().next() {
        Some(s) if writer.may_touch(s.vendor_id) => Ok(s),
        _ => Err(no_such_service(field)),
    }
}

/// Changes a service; what the draft leaves out stays. An archived service takes no changes but
/// its return to ACTIVE.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: ServiceId,
    draft: Draft,
) -> Outcome<Service> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_service.update", async move |tx| {
        let current = lock(tx, writer, id, "id").await?;
        if current.status == ServiceStatus::Archived {
            return Err(refusal(
                "id",
                Code::ServiceArchived,
                "an archived service takes no changes",
            ));
        }
        let name = draft.name.as_deref().map(|n| name(n, "name")).transpose()?;
        let description = draft
            .description
            .as_deref()
            .map(|d| {
                Text::<5000>::parse(d)
                    .map(Text::into_inner)
                    .map_err(|e| e.refusal("description"))
            })
            .transpose()?;
        let settings = draft.settings.apply(current.settings);
        settings.check()?;
        let product = draft.product_id.unwrap_or(current.product_id);
        if draft.product_id.is_some() {
            check_product(tx, product).await?;
        }
        let prices = draft.prices.as_deref().map(prices).transpose()?;
        if let Some(ids) = &draft.calendars {
            check_calendars(tx, current.vendor_id, ids).await?;
        }
        let rows: Vec<Service> = Prepared(with_settings(
            diesel::sql_query(format!(
                "UPDATE bookings.services SET name = coalesce($2, name),
                     description = coalesce($3, description), product_id = $4,
                     duration_minutes = $5, buffer_before_minutes = $6, buffer_after_minutes = $7,
                     min_notice_minutes = $8, max_days_ahead = $9, slot_interval_minutes = $10,
                     capacity = $11, requires_confirmation = $12, free_cancel_hours = $13,
                     cancel_fee_bps = $14, hold_minutes = $15
                 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .into_boxed()
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<SqlText>, _>(name)
            .bind::<Nullable<SqlText>, _>(description)
            .bind::<Nullable<SqlUuid>, _>(product),
            settings,
        ))
        .load(tx.conn())
        .await
        .map_err(|e| Failure::on_unique("services_product", e, product_taken))?;
        let service = rows
            .into_iter()
            .next()
            .ok_or_else(|| no_such_service("id"))?;
        if let Some(prices) = &prices {
            if prices.is_empty() && service.product_id.is_none() {
                return Err(refusal(
                    "prices",
                    Code::InvalidAmount,
                    "give a price or link a product",
                ));
            }
            write_prices(tx, id, prices).await?;
        }
        if let Some(ids) = &draft.calendars {
            write_calendars(tx, id, ids).await?;
        }
        Ok((
            service,
            Audit::of(
                id,
                serde_json::json!({ "settings": format!("{settings:?}") }),
            ),
        ))
    })
    .await
}

/// Archives a service (no new bookings) or makes it active again.
pub async fn set_status(
    db: &Database,
    ctx: &RequestContext,
    id: ServiceId,
    to: ServiceStatus,
) -> Outcome<Service> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_service.status", async move |tx| {
        let current = lock(tx, writer, id, "id").await?;
        current.status.require::<Code>(to, "status")?;
        let rows: Vec<Service> = Prepared(
            diesel::sql_query(format!(
                "UPDATE bookings.services SET status = $2 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(id)
            .bind::<SqlText, _>(to),
        )
        .load(tx.conn())
        .await?;
        let service = rows
            .into_iter()
            .next()
            .ok_or_else(|| no_such_service("id"))?;
        Ok((service, Audit::of(id, serde_json::json!({ "status": to }))))
    })
    .await
}

// Reads, each one statement for any number of services.

/// Services by id, as stored (callers filter what a caller may see).
pub async fn by_ids(
    tx: &mut TenantTx<'_>,
    ids: &[ServiceId],
) -> QueryResult<HashMap<ServiceId, Service>> {
    let rows: Vec<Service> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.services WHERE id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|s| (s.id, s)).collect())
}

/// The services linked to catalog products, by product.
pub async fn by_products(
    tx: &mut TenantTx<'_>,
    products: &[ProductId],
) -> QueryResult<HashMap<ProductId, Service>> {
    let rows: Vec<Service> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.services WHERE product_id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(products),
    )
    .load(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|s| Some((s.product_id?, s)))
        .collect())
}

/// The services of vendors (each vendor's by name), active ones only unless `all`.
pub async fn of_vendors(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
    all: bool,
) -> QueryResult<HashMap<VendorId, Vec<Service>>> {
    let rows: Vec<Service> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.services
             WHERE vendor_id = ANY ($1) AND ($2 OR status = 'ACTIVE') ORDER BY name, id"
        ))
        .bind::<Array<SqlUuid>, _>(vendors)
        .bind::<Bool, _>(all),
    )
    .load(tx.conn())
    .await?;
    let mut by: HashMap<VendorId, Vec<Service>> = HashMap::new();
    for s in rows {
        if let Some(v) = s.vendor_id {
            by.entry(v).or_default().push(s);
        }
    }
    Ok(by)
}

/// The tenant's active services (its own and its vendors'), by name, at most `limit`.
pub async fn active(tx: &mut TenantTx<'_>, limit: i64) -> QueryResult<Vec<Service>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.services WHERE status = 'ACTIVE' ORDER BY name, id LIMIT $1"
        ))
        .bind::<BigInt, _>(limit),
    )
    .load(tx.conn())
    .await
}

#[derive(diesel::QueryableByName)]
struct Link {
    #[diesel(sql_type = SqlUuid)]
    service_id: ServiceId,
    #[diesel(sql_type = SqlUuid)]
    calendar_id: CalendarId,
    #[diesel(sql_type = SqlText)]
    kind: CalendarKind,
}

/// The providers and resources each service takes, providers first, by name.
pub async fn calendars_of(
    tx: &mut TenantTx<'_>,
    services: &[ServiceId],
) -> QueryResult<HashMap<ServiceId, Vec<(CalendarId, CalendarKind)>>> {
    let rows: Vec<Link> = Prepared(
        diesel::sql_query(
            "SELECT sc.service_id, sc.calendar_id, c.kind FROM bookings.service_calendars sc
             JOIN bookings.calendars c ON c.tenant_id = sc.tenant_id AND c.id = sc.calendar_id
             WHERE sc.service_id = ANY ($1) ORDER BY sc.service_id, c.kind, c.name, c.id",
        )
        .bind::<Array<SqlUuid>, _>(services),
    )
    .load(tx.conn())
    .await?;
    let mut by: HashMap<ServiceId, Vec<(CalendarId, CalendarKind)>> = HashMap::new();
    for l in rows {
        by.entry(l.service_id)
            .or_default()
            .push((l.calendar_id, l.kind));
    }
    Ok(by)
}

#[derive(diesel::QueryableByName)]
struct PriceRow {
    #[diesel(sql_type = SqlUuid)]
    service_id: ServiceId,
    #[diesel(sql_type = SqlText)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
}

/// Each service's prices, by currency code.
pub async fn prices_of(
    tx: &mut TenantTx<'_>,
    services: &[ServiceId],
) -> Result<HashMap<ServiceId, Vec<Money>>, cityos_core::ApiError> {
    let rows: Vec<PriceRow> = Prepared(
        diesel::sql_query(
            "SELECT service_id, currency, amount_minor FROM bookings.service_prices
             WHERE service_id = ANY ($1) ORDER BY service_id, currency",
        )
        .bind::<Array<SqlUuid>, _>(services),
    )
    .load(tx.conn())
    .await?;
    let mut by: HashMap<ServiceId, Vec<Money>> = HashMap::new();
    for r in rows {
        by.entry(r.service_id)
            .or_default()
            .push(Money::from_stored(r.amount_minor, &r.currency)?);
    }
    Ok(by)
}
