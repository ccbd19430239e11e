//! Providers and resources: whose time a booking takes. Each has a calendar: weekly hours in its
//! IANA time zone, date overrides (other hours, or closed), the tenant's holidays, and claims on
//! its time ([`blocks`]: time staff blocked; sessions, later, their bookings). A provider is a
//! person, possibly a user of the tenant; a resource is a room, a court, equipment or a table,
//! possibly with seats. Both belong to a vendor or to the tenant itself, and only staff or that
//! vendor's managers change them.

pub mod blocks;
pub mod graphql;
pub mod hours;

use crate::errors::{BookingsErrorCode as Code, Outcome, name, refusal};
use crate::ids::{CalendarId, UserId, VendorId};
use crate::scope::{Writer, no_such_calendar};
use crate::slots::Span;
use chrono::NaiveDate;
use cityos_core::RequestContext;
use cityos_core::text::Text;
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{
    Array, Bool, Date, Integer, Nullable, SmallInt, Text as SqlText, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use std::collections::{BTreeMap, HashMap};

cityos_core::states! {
    /// Whether a calendar is a person's or a thing's.
    #[graphql(name = "BookingCalendarKind")]
    pub enum CalendarKind {
        /// A person who performs services: a practitioner, a coach, a stylist.
        Provider = "PROVIDER",
        /// A thing a service takes: a room, a court, equipment, a table.
        Resource = "RESOURCE",
    }
}

cityos_core::states! {
    /// What a resource is.
    #[graphql(name = "BookingResourceKind")]
    pub enum ResourceKind {
        Room = "ROOM",
        Court = "COURT",
        Equipment = "EQUIPMENT",
        Vehicle = "VEHICLE",
        Table = "TABLE",
        Other = "OTHER",
    }
}

/// A provider's or a resource's calendar, as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    #[diesel(sql_type = SqlUuid)]
    pub id: CalendarId,
    #[diesel(sql_type = SqlText)]
    pub kind: CalendarKind,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vendor_id: Option<VendorId>,
    #[diesel(sql_type = SqlText)]
    pub name: String,
    #[diesel(sql_type = SqlText)]
    pub time_zone: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<UserId>,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub resource_kind: Option<ResourceKind>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub seats: Option<i32>,
    #[diesel(sql_type = Bool)]
    pub active: bool,
}

impl Calendar {
    /// Its time zone (checked when it was saved: a stored name the tz database does not know is
    /// a fault of ours, never read as another zone).
    pub fn zone(&self) -> Result<chrono_tz::Tz, cityos_core::ApiError> {
        self.time_zone.parse().map_err(|_| {
            cityos_core::ApiError::internal(format_args!("stored time zone {:?}", self.time_zone))
        })
    }
}

const COLUMNS: &str = "id, kind, vendor_id, name, time_zone, user_id, resource_kind, seats, active";

/// A new provider or resource.
#[derive(Debug, Clone)]
pub struct NewCalendar {
    pub kind: CalendarKind,
    pub name: String,
    pub time_zone: String,
    pub vendor_id: Option<VendorId>,
    /// A provider's user account.
    pub user_id: Option<UserId>,
    /// A resource's kind.
    pub resource_kind: Option<ResourceKind>,
    /// A resource's seats.
    pub seats: Option<i32>,
}

/// Changes to a calendar; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    pub seats: Option<i32>,
}

fn seats(seats: Option<i32>) -> Outcome<Option<i32>> {
    match seats {
        Some(s) if !(1..=10_000).contains(&s) => Err(refusal(
            "seats",
            Code::InvalidRule,
            "a resource holds 1 to 10,000 seats",
        )),
        s => Ok(s),
    }
}

/// Creates a provider or a resource: for the caller's vendor when a vendor's manager asks, for
/// `vendor_id` (an approved vendor) or the tenant when staff do.
pub async fn create(db: &Database, ctx: &RequestContext, new: NewCalendar) -> Outcome<Calendar> {
    let writer = Writer::of(ctx)?;
    let action = match new.kind {
        CalendarKind::Provider => "booking_provider.create",
        CalendarKind::Resource => "booking_resource.create",
    };
    db.recorded(ctx, action, async move |tx| {
        let name = name(&new.name, "name")?;
        let zone = hours::zone(&new.time_zone, "timeZone")?;
        let seats = seats(new.seats)?;
        let vendor = writer.vendor_for(tx, new.vendor_id).await?;
        if let Some(user) = new.user_id
            && identity::api::user_email(tx, user).await?.is_none()
        {
            return Err(refusal("userId", Code::NotFound, "no such user"));
        }
        let id = CalendarId::new();
        let rows: Vec<Calendar> = Prepared(
            diesel::sql_query(format!(
                "INSERT INTO bookings.calendars
                     (tenant_id, id, kind, vendor_id, name, time_zone, user_id, resource_kind, seats)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlText, _>(new.kind)
            .bind::<Nullable<SqlUuid>, _>(vendor)
            .bind::<SqlText, _>(&name)
            .bind::<SqlText, _>(zone.name())
            .bind::<Nullable<SqlUuid>, _>(new.user_id)
            .bind::<Nullable<SqlText>, _>(new.resource_kind)
            .bind::<Nullable<Integer>, _>(seats),
        )
        .load(tx.conn())
        .await
        .map_err(|e| {
            cityos_core::Failure::on_unique("calendars_user", e, || {
                crate::errors::UserError::new(
                    "userId",
                    Code::InvalidRule,
                    "this user is a provider already",
                )
            })
        })?;
        let calendar = rows
            .into_iter()
            .next()
            .ok_or_else(|| cityos_core::ApiError::internal("insert returned nothing"))?;
        let audit = Audit::of(id, serde_json::json!({ "name": name, "vendorId": vendor }));
        Ok((calendar, audit))
    })
    .await
}

/// Locks calendar `id` for a change by `writer`: NOT_FOUND at `field` when it does not exist or
/// belongs to another vendor.
pub async fn lock(
    tx: &mut TenantTx<'_>,
    writer: Writer,
    id: CalendarId,
    field: &str,
) -> Outcome<Calendar> {
    let found: Vec<Calendar> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.calendars WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    match found.into_iter().next() {
        Some(c) if writer.may_touch(c.vendor_id) => Ok(c),
        _ => Err(no_such_calendar(field)),
    }
}

/// Changes a calendar's name, time zone, seats (a resource's) or whether it takes bookings.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: CalendarId,
    changes: Changes,
) -> Outcome<Calendar> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_calendar.update", async move |tx| {
        let current = lock(tx, writer, id, "id").await?;
        let name = changes
            .name
            .as_deref()
            .map(|n| name(n, "name"))
            .transpose()?;
        let zone = changes
            .time_zone
            .as_deref()
            .map(|z| hours::zone(z, "timeZone"))
            .transpose()?;
        let seats = seats(changes.seats)?;
        if seats.is_some() && current.kind == CalendarKind::Provider {
            return Err(refusal(
                "seats",
                Code::InvalidRule,
                "a provider has no seats",
            ));
        }
        let rows: Vec<Calendar> = Prepared(
            diesel::sql_query(format!(
                "UPDATE bookings.calendars SET name = coalesce($2, name),
                     time_zone = coalesce($3, time_zone), active = coalesce($4, active),
                     seats = coalesce($5, seats)
                 WHERE id = $1 RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<SqlText>, _>(name)
            .bind::<Nullable<SqlText>, _>(zone.map(|z| z.name()))
            .bind::<Nullable<Bool>, _>(changes.active)
            .bind::<Nullable<Integer>, _>(seats),
        )
        .load(tx.conn())
        .await?;
        let calendar = rows
            .into_iter()
            .next()
            .ok_or_else(|| no_such_calendar("id"))?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "name": calendar.name,
            "timeZone": calendar.time_zone, "active": calendar.active, "seats": calendar.seats }),
        );
        Ok((calendar, audit))
    })
    .await
}

/// Replaces a calendar's weekly hours: each weekday (1 Monday to 7 Sunday) named at most once
/// with its spans; a weekday left out is closed.
pub async fn set_weekly(
    db: &Database,
    ctx: &RequestContext,
    id: CalendarId,
    days: Vec<(i32, Vec<Span>)>,
) -> Outcome<[Vec<Span>; 7]> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_calendar.hours", async move |tx| {
        let mut week: [Option<Vec<Span>>; 7] = Default::default();
        for (i, (weekday, spans)) in days.into_iter().enumerate() {
            let field = format!("days.{i}");
            let slot = usize::try_from(weekday - 1)
                .ok()
                .and_then(|d| week.get_mut(d))
                .ok_or_else(|| {
                    refusal(&field, Code::InvalidHours, "a weekday is 1 (Monday) to 7 (Sunday)")
                })?;
            if slot.is_some() {
                return Err(refusal(&field, Code::InvalidHours, "name each weekday once"));
            }
            *slot = Some(hours::day(spans, &field)?);
        }
        let week = week.map(Option::unwrap_or_default);
        lock(tx, writer, id, "calendarId").await?;
        Prepared(
            diesel::sql_query("DELETE FROM bookings.weekly_hours WHERE calendar_id = $1")
                .bind::<SqlUuid, _>(id),
        )
        .execute(tx.conn())
        .await?;
        let (mut weekdays, mut opens, mut closes) = (Vec::new(), Vec::new(), Vec::new());
        for (d, spans) in week.iter().enumerate() {
            for s in spans {
                weekdays.push(i16::try_from(d + 1).unwrap_or(7));
                opens.push(to_sql(s.opens));
                closes.push(to_sql(s.closes));
            }
        }
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.weekly_hours (tenant_id, calendar_id, weekday, opens, closes)
                 SELECT $1, $2, d, o, c FROM unnest($3::smallint[], $4::smallint[], $5::smallint[]) AS s (d, o, c)",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<Array<SmallInt>, _>(&weekdays)
            .bind::<Array<SmallInt>, _>(&opens)
            .bind::<Array<SmallInt>, _>(&closes),
        )
        .execute(tx.conn())
        .await?;
        let audit = Audit::of(id, serde_json::json!({ "spans": weekdays.len() }));
        Ok((week, audit))
    })
    .await
}

fn to_sql(minutes: u16) -> i16 {
    i16::try_from(minutes).unwrap_or(i16::MAX)
}

fn from_sql(minutes: i16) -> u16 {
    u16::try_from(minutes).unwrap_or(0)
}

/// Sets the hours of one local date of a calendar (no spans: closed that day).
pub async fn set_override(
    db: &Database,
    ctx: &RequestContext,
    id: CalendarId,
    on: NaiveDate,
    spans: Vec<Span>,
    reason: Option<String>,
) -> Outcome<DateOverride> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_calendar.override", async move |tx| {
        let spans = hours::day(spans, "spans")?;
        let reason = Text::<500>::parse_optional(reason.as_deref())
            .map_err(|e| e.refusal("reason"))?
            .map(Text::into_inner);
        lock(tx, writer, id, "calendarId").await?;
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.date_overrides (tenant_id, calendar_id, on_date, reason)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, calendar_id, on_date) DO UPDATE SET reason = excluded.reason",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<Date, _>(on)
            .bind::<Nullable<SqlText>, _>(&reason),
        )
        .execute(tx.conn())
        .await?;
        Prepared(
            diesel::sql_query(
                "DELETE FROM bookings.override_hours WHERE calendar_id = $1 AND on_date = $2",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Date, _>(on),
        )
        .execute(tx.conn())
        .await?;
        let opens: Vec<i16> = spans.iter().map(|s| to_sql(s.opens)).collect();
        let closes: Vec<i16> = spans.iter().map(|s| to_sql(s.closes)).collect();
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.override_hours (tenant_id, calendar_id, on_date, opens, closes)
                 SELECT $1, $2, $3, o, c FROM unnest($4::smallint[], $5::smallint[]) AS s (o, c)",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<Date, _>(on)
            .bind::<Array<SmallInt>, _>(&opens)
            .bind::<Array<SmallInt>, _>(&closes),
        )
        .execute(tx.conn())
        .await?;
        let audit = Audit::of(id, serde_json::json!({ "date": on, "spans": spans.len() }));
        Ok((
            DateOverride {
                calendar_id: id,
                on,
                spans,
                reason,
            },
            audit,
        ))
    })
    .await
}

/// Removes the override of a local date: the weekday's hours apply again.
pub async fn remove_override(
    db: &Database,
    ctx: &RequestContext,
    id: CalendarId,
    on: NaiveDate,
) -> Outcome<Calendar> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_calendar.override_remove", async move |tx| {
        let calendar = lock(tx, writer, id, "calendarId").await?;
        let removed = Prepared(
            diesel::sql_query(
                "DELETE FROM bookings.date_overrides WHERE calendar_id = $1 AND on_date = $2",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Date, _>(on),
        )
        .execute(tx.conn())
        .await?;
        if removed == 0 {
            return Err(refusal("date", Code::NotFound, "no override on that date"));
        }
        Ok((calendar, Audit::of(id, serde_json::json!({ "date": on }))))
    })
    .await
}

/// A date override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateOverride {
    pub calendar_id: CalendarId,
    pub on: NaiveDate,
    /// No spans: closed.
    pub spans: Vec<Span>,
    pub reason: Option<String>,
}

/// A tenant holiday.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    #[diesel(sql_type = Date)]
    pub on_date: NaiveDate,
    #[diesel(sql_type = SqlText)]
    pub name: String,
}

/// Makes `on` a holiday of the tenant (staff): every calendar closes that local date unless an
/// override opens it.
pub async fn set_holiday(
    db: &Database,
    ctx: &RequestContext,
    on: NaiveDate,
    name_text: String,
) -> Outcome<Holiday> {
    db.staff(ctx, "booking_holiday.set", async move |tx| {
        let name = name(&name_text, "name")?;
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.holidays (tenant_id, on_date, name) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id, on_date) DO UPDATE SET name = excluded.name",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<Date, _>(on)
            .bind::<SqlText, _>(&name),
        )
        .execute(tx.conn())
        .await?;
        let audit = Audit::of(tx.tenant(), serde_json::json!({ "date": on, "name": name }));
        Ok((Holiday { on_date: on, name }, audit))
    })
    .await
}

/// Removes a holiday (staff).
pub async fn remove_holiday(
    db: &Database,
    ctx: &RequestContext,
    on: NaiveDate,
) -> Outcome<Holiday> {
    db.staff(ctx, "booking_holiday.remove", async move |tx| {
        let removed: Vec<Holiday> = Prepared(
            diesel::sql_query(
                "DELETE FROM bookings.holidays WHERE on_date = $1 RETURNING on_date, name",
            )
            .bind::<Date, _>(on),
        )
        .load(tx.conn())
        .await?;
        let holiday = removed
            .into_iter()
            .next()
            .ok_or_else(|| refusal("date", Code::NotFound, "no holiday on that date"))?;
        let audit = Audit::of(tx.tenant(), serde_json::json!({ "date": on }));
        Ok((holiday, audit))
    })
    .await
}

// Reads, each one statement for any number of calendars.

/// Calendars by id.
pub async fn by_ids(
    tx: &mut TenantTx<'_>,
    ids: &[CalendarId],
) -> QueryResult<HashMap<CalendarId, Calendar>> {
    let rows: Vec<Calendar> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.calendars WHERE id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// A vendor's calendars of one kind (the tenant's own with `None`), by name.
pub async fn of_vendor(
    tx: &mut TenantTx<'_>,
    vendor: Option<VendorId>,
    kind: CalendarKind,
) -> QueryResult<Vec<Calendar>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.calendars
             WHERE vendor_id IS NOT DISTINCT FROM $1 AND kind = $2 ORDER BY name, id"
        ))
        .bind::<Nullable<SqlUuid>, _>(vendor)
        .bind::<SqlText, _>(kind),
    )
    .load(tx.conn())
    .await
}

#[derive(diesel::QueryableByName)]
struct HoursRow {
    #[diesel(sql_type = SqlUuid)]
    calendar_id: CalendarId,
    #[diesel(sql_type = SmallInt)]
    weekday: i16,
    #[diesel(sql_type = SmallInt)]
    opens: i16,
    #[diesel(sql_type = SmallInt)]
    closes: i16,
}

/// The weekly hours of calendars, Monday first (a calendar without hours is closed all week).
pub async fn weekly(
    tx: &mut TenantTx<'_>,
    ids: &[CalendarId],
) -> QueryResult<HashMap<CalendarId, [Vec<Span>; 7]>> {
    let rows: Vec<HoursRow> = Prepared(
        diesel::sql_query(
            "SELECT calendar_id, weekday, opens, closes FROM bookings.weekly_hours
             WHERE calendar_id = ANY ($1) ORDER BY calendar_id, weekday, opens",
        )
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    let mut weeks: HashMap<CalendarId, [Vec<Span>; 7]> = HashMap::new();
    for r in rows {
        let day = usize::try_from(r.weekday - 1).unwrap_or(0).min(6);
        if let Some(span) = Span::new(from_sql(r.opens), from_sql(r.closes)) {
            weeks.entry(r.calendar_id).or_default()[day].push(span);
        }
    }
    Ok(weeks)
}

#[derive(diesel::QueryableByName)]
struct OverrideRow {
    #[diesel(sql_type = SqlUuid)]
    calendar_id: CalendarId,
    #[diesel(sql_type = Date)]
    on_date: NaiveDate,
    #[diesel(sql_type = Nullable<SqlText>)]
    reason: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    opens: Option<i16>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    closes: Option<i16>,
}

/// The overrides of calendars on local dates `from..=to`, by calendar and date.
pub async fn overrides(
    tx: &mut TenantTx<'_>,
    ids: &[CalendarId],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<HashMap<CalendarId, BTreeMap<NaiveDate, DateOverride>>> {
    let rows: Vec<OverrideRow> = Prepared(
        diesel::sql_query(
            "SELECT o.calendar_id, o.on_date, o.reason, h.opens, h.closes
             FROM bookings.date_overrides o
             LEFT JOIN bookings.override_hours h
                 ON h.tenant_id = o.tenant_id AND h.calendar_id = o.calendar_id AND h.on_date = o.on_date
             WHERE o.calendar_id = ANY ($1) AND o.on_date BETWEEN $2 AND $3
             ORDER BY o.calendar_id, o.on_date, h.opens",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to),
    )
    .load(tx.conn())
    .await?;
    let mut found: HashMap<CalendarId, BTreeMap<NaiveDate, DateOverride>> = HashMap::new();
    for r in rows {
        let entry = found
            .entry(r.calendar_id)
            .or_default()
            .entry(r.on_date)
            .or_insert_with(|| DateOverride {
                calendar_id: r.calendar_id,
                on: r.on_date,
                spans: Vec::new(),
                reason: r.reason.clone(),
            });
        if let (Some(o), Some(c)) = (r.opens, r.closes)
            && let Some(span) = Span::new(from_sql(o), from_sql(c))
        {
            entry.spans.push(span);
        }
    }
    Ok(found)
}

/// The tenant's holidays on dates `from..=to`.
pub async fn holidays(
    tx: &mut TenantTx<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Holiday>> {
    Prepared(
        diesel::sql_query(
            "SELECT on_date, name FROM bookings.holidays WHERE on_date BETWEEN $1 AND $2 ORDER BY on_date",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to),
    )
    .load(tx.conn())
    .await
}
