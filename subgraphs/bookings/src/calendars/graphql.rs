//! Providers and resources in GraphQL: `BookingProvider` and `BookingResource` (entities other
//! subgraphs may point at), their hours, overrides, the tenant's holidays and blocked time.

use crate::calendars::blocks::{self, Claim};
use crate::calendars::hours::{self, clock};
use crate::calendars::{
    self, Calendar, CalendarKind, Changes, DateOverride, Holiday, NewCalendar, ResourceKind,
};
use crate::errors::{BookingsUserError, Outcome};
use crate::federation::Vendor;
use crate::ids::{CalendarId, ClaimId, UserId, VendorId};
use crate::scope::{BookingsLoader, in_tenant};
use crate::slots::Span;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Union};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

/// A person who performs services: a practitioner, a coach, a stylist.
pub struct BookingProvider(pub Calendar);

/// A thing a service takes: a room, a court, equipment, a table.
pub struct BookingResource(pub Calendar);

/// A provider or a resource.
#[derive(Union)]
pub enum BookingCalendar {
    Provider(BookingProvider),
    Resource(BookingResource),
}

impl From<Calendar> for BookingCalendar {
    fn from(c: Calendar) -> Self {
        match c.kind {
            CalendarKind::Provider => Self::Provider(BookingProvider(c)),
            CalendarKind::Resource => Self::Resource(BookingResource(c)),
        }
    }
}

/// An opening span of a day, in the calendar's time zone.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct OpeningSpan {
    /// When it opens, `HH:MM`.
    pub opens: String,
    /// When it closes, `HH:MM` (`24:00` at midnight); the next day's time when `overnight`.
    pub closes: String,
    /// Whether it closes after midnight, the next day.
    pub overnight: bool,
}

impl From<Span> for OpeningSpan {
    fn from(s: Span) -> Self {
        Self {
            opens: clock(s.opens),
            closes: clock(s.closes),
            overnight: s.closes > 24 * 60,
        }
    }
}

/// The hours of one weekday.
#[derive(SimpleObject, Clone, Debug)]
pub struct WeekdayHours {
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: i32,
    /// Its spans by opening time; none: closed.
    pub spans: Vec<OpeningSpan>,
}

fn week(spans: [Vec<Span>; 7]) -> Vec<WeekdayHours> {
    spans
        .into_iter()
        .zip(1..)
        .map(|(spans, weekday)| WeekdayHours {
            weekday,
            spans: spans.into_iter().map(OpeningSpan::from).collect(),
        })
        .collect()
}

/// A local date whose hours replace its weekday's.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "BookingDateOverride")]
pub struct DateOverrideObject {
    pub date: NaiveDate,
    /// Its spans; none: closed that day.
    pub spans: Vec<OpeningSpan>,
    pub reason: Option<String>,
}

impl From<DateOverride> for DateOverrideObject {
    fn from(o: DateOverride) -> Self {
        Self {
            date: o.on,
            spans: o.spans.into_iter().map(OpeningSpan::from).collect(),
            reason: o.reason,
        }
    }
}

/// A holiday of the tenant: every calendar is closed that local date unless an override opens
/// it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "BookingHoliday")]
pub struct HolidayObject {
    pub date: NaiveDate,
    pub name: String,
}

impl From<Holiday> for HolidayObject {
    fn from(h: Holiday) -> Self {
        Self {
            date: h.on_date,
            name: h.name,
        }
    }
}

/// Time blocked on a calendar.
#[derive(SimpleObject, Clone, Debug)]
pub struct BookingTimeBlock {
    pub id: ClaimId,
    pub calendar_id: CalendarId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: Option<String>,
}

impl From<Claim> for BookingTimeBlock {
    fn from(c: Claim) -> Self {
        Self {
            id: c.id,
            calendar_id: c.calendar_id,
            start: c.starts_at,
            end: c.ends_at,
            reason: c.reason,
        }
    }
}

/// Weekly hours, for a calendar's field (one statement for every calendar of a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoursOf(pub CalendarId);

impl async_graphql::dataloader::Loader<HoursOf> for BookingsLoader {
    type Value = [Vec<Span>; 7];
    type Error = ApiError;

    async fn load(&self, keys: &[HoursOf]) -> Result<HashMap<HoursOf, [Vec<Span>; 7]>, ApiError> {
        let ids: Vec<CalendarId> = keys.iter().map(|k| k.0).collect();
        let mut found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(calendars::weekly(tx, &ids).await?)
            })
            .await?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

impl async_graphql::dataloader::Loader<CalendarId> for BookingsLoader {
    type Value = Calendar;
    type Error = ApiError;

    async fn load(&self, keys: &[CalendarId]) -> Result<HashMap<CalendarId, Calendar>, ApiError> {
        let ids = keys.to_vec();
        let writer = self.writer;
        let found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(calendars::by_ids(tx, &ids).await?)
            })
            .await?;
        // Inactive calendars only for those who may change them.
        Ok(found
            .into_iter()
            .filter(|(_, c)| c.active || writer.is_some_and(|w| w.may_touch(c.vendor_id)))
            .collect())
    }
}

/// The fields providers and resources share.
macro_rules! calendar_fields {
    ($ty:ident { $($extra:tt)* }) => {
        #[Object]
        impl $ty {
            $($extra)*
            async fn id(&self) -> CalendarId {
                self.0.id
            }
            async fn name(&self) -> &str {
                &self.0.name
            }
            /// Its IANA time zone: its hours are local times there.
            async fn time_zone(&self) -> &str {
                &self.0.time_zone
            }
            /// Whether it takes bookings.
            async fn active(&self) -> bool {
                self.0.active
            }
            /// The vendor it works for; null: the tenant itself.
            async fn vendor(&self) -> Option<Vendor> {
                self.0.vendor_id.map(|v| Vendor { id: to_id(v) })
            }
            /// Its weekly hours, Monday first.
            async fn weekly_hours(&self, ctx: &Context<'_>) -> Result<Vec<WeekdayHours>> {
                let loader = ctx.loader::<BookingsLoader>()?;
                Ok(week(loader.load_one(HoursOf(self.0.id)).await?.unwrap_or_default()))
            }
            /// Its date overrides on local dates `from..=to` (at most 366 days).
            async fn date_overrides(
                &self,
                ctx: &Context<'_>,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<DateOverrideObject>> {
                if to < from || (to - from).num_days() > 366 {
                    return Err(ApiError::bad_input("ask for at most 366 days, `to` not before `from`").into());
                }
                let id = self.0.id;
                let mut found = in_tenant!(ctx, |tx| calendars::overrides(tx, &[id], from, to))?;
                Ok(found.remove(&id).unwrap_or_default().into_values().map(Into::into).collect())
            }
        }
    };
}

calendar_fields! { BookingProvider {} }
calendar_fields! { BookingResource {
    /// What it is.
    async fn kind(&self) -> Result<ResourceKind> {
        self.0
            .resource_kind
            .ok_or_else(|| ApiError::internal("a resource without a kind").into())
    }
    /// Seats it holds (a class there has no more); null: its time alone limits it.
    async fn seats(&self) -> Option<i32> {
        self.0.seats
    }
} }

/// An opening span as written: `HH:MM` to `HH:MM`; a close at or before the opening runs past
/// midnight (`22:00` to `02:00`), `24:00` closes at midnight.
#[derive(InputObject)]
pub struct OpeningSpanInput {
    pub opens: String,
    pub closes: String,
}

fn spans(given: Vec<OpeningSpanInput>, field: &str) -> Outcome<Vec<Span>> {
    given
        .into_iter()
        .enumerate()
        .map(|(i, s)| hours::span(&s.opens, &s.closes, &format!("{field}.{i}")))
        .collect()
}

/// A weekday's hours as written.
#[derive(InputObject)]
pub struct WeekdayHoursInput {
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: i32,
    /// At most 6, not overlapping; none: closed.
    pub spans: Vec<OpeningSpanInput>,
}

/// A new provider.
#[derive(InputObject)]
pub struct BookingProviderCreateInput {
    /// 1 to 120 characters.
    pub name: String,
    /// An IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// The vendor it works for (staff only; a vendor's team creates its own).
    pub vendor_id: Option<VendorId>,
    /// The user account of the person, who then sees their calendar.
    pub user_id: Option<UserId>,
}

/// A new resource.
#[derive(InputObject)]
pub struct BookingResourceCreateInput {
    pub name: String,
    pub time_zone: String,
    pub kind: ResourceKind,
    /// Seats it holds (1 to 10,000); none: unlimited by the resource.
    pub seats: Option<i32>,
    pub vendor_id: Option<VendorId>,
}

/// Changes to a provider or resource; fields left out stay.
#[derive(InputObject)]
pub struct BookingCalendarUpdateInput {
    pub id: CalendarId,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    /// Whether it takes bookings.
    pub active: Option<bool>,
    /// A resource's seats.
    pub seats: Option<i32>,
}

/// A calendar's weekly hours, replacing what it had.
#[derive(InputObject)]
pub struct BookingHoursSetInput {
    pub calendar_id: CalendarId,
    /// Each weekday at most once; a weekday left out is closed.
    pub days: Vec<WeekdayHoursInput>,
}

/// The hours of one local date of a calendar.
#[derive(InputObject)]
pub struct BookingDateOverrideSetInput {
    pub calendar_id: CalendarId,
    pub date: NaiveDate,
    /// None: closed that day.
    pub spans: Vec<OpeningSpanInput>,
    /// Up to 500 characters.
    pub reason: Option<String>,
}

/// Time to block on a calendar.
#[derive(InputObject)]
pub struct BookingTimeBlockInput {
    pub calendar_id: CalendarId,
    pub start: DateTime<Utc>,
    /// After `start`, within a year of it.
    pub end: DateTime<Utc>,
    /// Up to 500 characters.
    pub reason: Option<String>,
}

cityos_core::payload! {
    /// The result of `bookingProviderCreate`.
    BookingProviderPayload<BookingsUserError> {
        provider: BookingProvider,
    }
}

cityos_core::payload! {
    /// The result of `bookingResourceCreate`.
    BookingResourcePayload<BookingsUserError> {
        resource: BookingResource,
    }
}

cityos_core::payload! {
    /// The result of `bookingCalendarUpdate` and `bookingDateOverrideRemove`.
    BookingCalendarPayload<BookingsUserError> {
        calendar: BookingCalendar,
    }
}

cityos_core::payload! {
    /// The result of `bookingHoursSet`.
    BookingHoursPayload<BookingsUserError> {
        /// The weekly hours as saved, Monday first.
        weekly_hours: Vec<WeekdayHours>,
    }
}

cityos_core::payload! {
    /// The result of `bookingDateOverrideSet`.
    BookingDateOverridePayload<BookingsUserError> {
        date_override: DateOverrideObject,
    }
}

cityos_core::payload! {
    /// The result of `bookingHolidaySet` and `bookingHolidayRemove`.
    BookingHolidayPayload<BookingsUserError> {
        holiday: HolidayObject,
    }
}

cityos_core::payload! {
    /// The result of `bookingTimeBlock` and `bookingTimeUnblock`.
    BookingTimeBlockPayload<BookingsUserError> {
        block: BookingTimeBlock,
    }
}

/// Provider `id` (none for a resource's id, or one the caller may not see), through the loader.
pub(crate) async fn provider(
    ctx: &Context<'_>,
    id: Option<CalendarId>,
) -> Result<Option<BookingProvider>> {
    let Some(id) = id else { return Ok(None) };
    let found = ctx.loader::<BookingsLoader>()?.load_one(id).await?;
    Ok(found
        .filter(|c| c.kind == CalendarKind::Provider)
        .map(BookingProvider))
}

/// Resource `id` (none for a provider's id, or one the caller may not see), through the loader.
pub(crate) async fn resource(
    ctx: &Context<'_>,
    id: Option<CalendarId>,
) -> Result<Option<BookingResource>> {
    let Some(id) = id else { return Ok(None) };
    let found = ctx.loader::<BookingsLoader>()?.load_one(id).await?;
    Ok(found
        .filter(|c| c.kind == CalendarKind::Resource)
        .map(BookingResource))
}

/// The queries of providers and resources.
#[derive(Default)]
pub struct CalendarQuery;

#[Object]
impl CalendarQuery {
    /// Resolves `BookingProvider` references: null for one the caller may not see.
    #[graphql(entity)]
    async fn find_booking_provider_by_id(
        &self,
        ctx: &Context<'_>,
        id: CalendarId,
    ) -> Result<Option<BookingProvider>> {
        provider(ctx, Some(id)).await
    }

    /// Resolves `BookingResource` references: null for one the caller may not see.
    #[graphql(entity)]
    async fn find_booking_resource_by_id(
        &self,
        ctx: &Context<'_>,
        id: CalendarId,
    ) -> Result<Option<BookingResource>> {
        resource(ctx, Some(id)).await
    }

    /// A provider (an inactive one only for who may change it).
    async fn booking_provider(
        &self,
        ctx: &Context<'_>,
        id: CalendarId,
    ) -> Result<Option<BookingProvider>> {
        provider(ctx, Some(id)).await
    }

    /// A resource (an inactive one only for who may change it).
    async fn booking_resource(
        &self,
        ctx: &Context<'_>,
        id: CalendarId,
    ) -> Result<Option<BookingResource>> {
        resource(ctx, Some(id)).await
    }

    /// A vendor's providers and resources (the tenant's own without `vendorId`), by name: the
    /// active ones, and the inactive too for who may change them.
    async fn booking_calendars(
        &self,
        ctx: &Context<'_>,
        vendor_id: Option<VendorId>,
        kind: CalendarKind,
    ) -> Result<Vec<BookingCalendar>> {
        let writer = crate::scope::Writer::of(ctx.request()?).ok();
        let found = in_tenant!(ctx, |tx| calendars::of_vendor(tx, vendor_id, kind))?;
        Ok(found
            .into_iter()
            .filter(|c| c.active || writer.is_some_and(|w| w.may_touch(c.vendor_id)))
            .map(BookingCalendar::from)
            .collect())
    }

    /// The tenant's holidays on dates `from..=to` (at most 366 days).
    async fn booking_holidays(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<HolidayObject>> {
        if to < from || (to - from).num_days() > 366 {
            return Err(
                ApiError::bad_input("ask for at most 366 days, `to` not before `from`").into(),
            );
        }
        let found = in_tenant!(ctx, |tx| calendars::holidays(tx, from, to))?;
        Ok(found.into_iter().map(Into::into).collect())
    }
}

/// The mutations of providers and resources.
#[derive(Default)]
pub struct CalendarMutation;

#[Object]
impl CalendarMutation {
    /// Creates a provider (staff, or a vendor's manager for its vendor).
    async fn booking_provider_create(
        &self,
        ctx: &Context<'_>,
        input: BookingProviderCreateInput,
    ) -> Result<BookingProviderPayload> {
        let new = NewCalendar {
            kind: CalendarKind::Provider,
            name: input.name,
            time_zone: input.time_zone,
            vendor_id: input.vendor_id,
            user_id: input.user_id,
            resource_kind: None,
            seats: None,
        };
        let outcome = calendars::create(ctx.db(), ctx.request()?, new).await;
        Ok(BookingProviderPayload::of(outcome.map(BookingProvider))?)
    }

    /// Creates a resource (staff, or a vendor's manager for its vendor).
    async fn booking_resource_create(
        &self,
        ctx: &Context<'_>,
        input: BookingResourceCreateInput,
    ) -> Result<BookingResourcePayload> {
        let new = NewCalendar {
            kind: CalendarKind::Resource,
            name: input.name,
            time_zone: input.time_zone,
            vendor_id: input.vendor_id,
            user_id: None,
            resource_kind: Some(input.kind),
            seats: input.seats,
        };
        let outcome = calendars::create(ctx.db(), ctx.request()?, new).await;
        Ok(BookingResourcePayload::of(outcome.map(BookingResource))?)
    }

    /// Changes a provider or resource.
    async fn booking_calendar_update(
        &self,
        ctx: &Context<'_>,
        input: BookingCalendarUpdateInput,
    ) -> Result<BookingCalendarPayload> {
        let changes = Changes {
            name: input.name,
            time_zone: input.time_zone,
            active: input.active,
            seats: input.seats,
        };
        let outcome = calendars::update(ctx.db(), ctx.request()?, input.id, changes).await;
        Ok(BookingCalendarPayload::of(
            outcome.map(BookingCalendar::from),
        )?)
    }

    /// Replaces a provider's or resource's weekly hours.
    async fn booking_hours_set(
        &self,
        ctx: &Context<'_>,
        input: BookingHoursSetInput,
    ) -> Result<BookingHoursPayload> {
        let days: Outcome<Vec<(i32, Vec<Span>)>> = input
            .days
            .into_iter()
            .enumerate()
            .map(|(i, d)| Ok((d.weekday, spans(d.spans, &format!("days.{i}.spans"))?)))
            .collect();
        let outcome = match days {
            Ok(days) => {
                calendars::set_weekly(ctx.db(), ctx.request()?, input.calendar_id, days).await
            }
            Err(e) => Err(e),
        };
        Ok(BookingHoursPayload::of(outcome.map(week))?)
    }

    /// Sets the hours of one local date of a provider or resource (no spans: closed).
    async fn booking_date_override_set(
        &self,
        ctx: &Context<'_>,
        input: BookingDateOverrideSetInput,
    ) -> Result<BookingDateOverridePayload> {
        let outcome = match spans(input.spans, "spans") {
            Ok(spans) => {
                calendars::set_override(
                    ctx.db(),
                    ctx.request()?,
                    input.calendar_id,
                    input.date,
                    spans,
                    input.reason,
                )
                .await
            }
            Err(e) => Err(e),
        };
        Ok(BookingDateOverridePayload::of(outcome.map(Into::into))?)
    }

    /// Removes a date override: the weekday's hours apply again.
    async fn booking_date_override_remove(
        &self,
        ctx: &Context<'_>,
        calendar_id: CalendarId,
        date: NaiveDate,
    ) -> Result<BookingCalendarPayload> {
        let outcome = calendars::remove_override(ctx.db(), ctx.request()?, calendar_id, date).await;
        Ok(BookingCalendarPayload::of(
            outcome.map(BookingCalendar::from),
        )?)
    }

    /// Makes a date a holiday of the tenant (staff).
    async fn booking_holiday_set(
        &self,
        ctx: &Context<'_>,
        date: NaiveDate,
        name: String,
    ) -> Result<BookingHolidayPayload> {
        let outcome = calendars::set_holiday(ctx.db(), ctx.request()?, date, name).await;
        Ok(BookingHolidayPayload::of(outcome.map(Into::into))?)
    }

    /// Removes a holiday (staff).
    async fn booking_holiday_remove(
        &self,
        ctx: &Context<'_>,
        date: NaiveDate,
    ) -> Result<BookingHolidayPayload> {
        let outcome = calendars::remove_holiday(ctx.db(), ctx.request()?, date).await;
        Ok(BookingHolidayPayload::of(outcome.map(Into::into))?)
    }

    /// Blocks time on a provider or resource: SLOT_TAKEN when anything claims part of it.
    async fn booking_time_block(
        &self,
        ctx: &Context<'_>,
        input: BookingTimeBlockInput,
    ) -> Result<BookingTimeBlockPayload> {
        let outcome = blocks::block(
            ctx.db(),
            ctx.request()?,
            input.calendar_id,
            (input.start, input.end),
            input.reason,
        )
        .await;
        Ok(BookingTimeBlockPayload::of(outcome.map(Into::into))?)
    }

    /// Frees blocked time.
    async fn booking_time_unblock(
        &self,
        ctx: &Context<'_>,
        id: ClaimId,
    ) -> Result<BookingTimeBlockPayload> {
        let outcome = blocks::unblock(ctx.db(), ctx.request()?, id).await;
        Ok(BookingTimeBlockPayload::of(outcome.map(Into::into))?)
    }
}
