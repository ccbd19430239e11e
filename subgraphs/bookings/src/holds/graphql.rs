//! Holds in GraphQL: `bookingHold` (a signed-in customer keeps a slot while checking out) and
//! `bookingHoldRelease`.

use crate::calendars::graphql::{BookingProvider, BookingResource};
use crate::errors::BookingsUserError;
use crate::holds::{self, Hold, HoldStatus, Wanted};
use crate::ids::{CalendarId, HoldId, ServiceId};
use crate::scope::BookingsLoader;
use crate::services::graphql::BookingService;
use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_server::CtxExt as _;

/// Seats of a slot kept for a customer while they check out.
pub struct BookingHold(pub Hold);

#[Object]
impl BookingHold {
    async fn id(&self) -> HoldId {
        self.0.id
    }
    /// HELD until `expiresAt`, then EXPIRED; or RELEASED, or CONVERTED into a booking.
    async fn status(&self) -> HoldStatus {
        if self.0.status == HoldStatus::Held && self.0.expires_at <= Utc::now() {
            HoldStatus::Expired
        } else {
            self.0.status
        }
    }
    async fn start(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn end(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn seats(&self) -> i32 {
        self.0.seats
    }
    /// When it stops keeping its seats.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<BookingService>> {
        let loader = ctx.loader::<BookingsLoader>()?;
        Ok(loader
            .load_one(self.0.service_id)
            .await?
            .map(BookingService))
    }
    /// The provider it is with (the round robin's, when none was asked for).
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<BookingProvider>> {
        crate::calendars::graphql::provider(ctx, self.0.provider_id).await
    }
    /// The resource it takes.
    async fn resource(&self, ctx: &Context<'_>) -> Result<Option<BookingResource>> {
        crate::calendars::graphql::resource(ctx, self.0.resource_id).await
    }
}

/// A slot to hold.
#[derive(InputObject)]
pub struct BookingHoldInput {
    pub service_id: ServiceId,
    /// A slot's start, as `availability` gives it.
    pub start: DateTime<Utc>,
    /// One of the service's providers; left out, the one with the fewest bookings that week.
    pub provider_id: Option<CalendarId>,
    /// Seats (a party's size), 1 to 1,000.
    #[graphql(default = 1)]
    pub seats: i32,
}

cityos_core::payload! {
    /// The result of `bookingHold` and `bookingHoldRelease`.
    BookingHoldPayload<BookingsUserError> {
        hold: BookingHold,
    }
}

/// The mutations of holds.
#[derive(Default)]
pub struct HoldMutation;

#[Object]
impl HoldMutation {
    /// Holds a slot for the signed-in customer for the service's hold minutes: TOO_SOON,
    /// TOO_FAR_AHEAD, OUTSIDE_HOURS, SLOT_TAKEN or CAPACITY_FULL when it cannot.
    async fn booking_hold(
        &self,
        ctx: &Context<'_>,
        input: BookingHoldInput,
    ) -> Result<BookingHoldPayload> {
        let wanted = Wanted {
            service: input.service_id,
            start: input.start,
            provider: input.provider_id,
            seats: input.seats,
        };
        let outcome = holds::hold(ctx.db(), ctx.request()?, wanted).await;
        Ok(BookingHoldPayload::of(outcome.map(BookingHold))?)
    }

    /// Accepts a waitlist offer: its seats become a hold to check out, for the service's hold
    /// minutes (HOLD_EXPIRED when the offer is over).
    async fn booking_waitlist_accept(
        &self,
        ctx: &Context<'_>,
        id: crate::ids::WaitlistEntryId,
    ) -> Result<BookingHoldPayload> {
        let outcome = holds::accept_offer(ctx.db(), ctx.request()?, id).await;
        Ok(BookingHoldPayload::of(outcome.map(BookingHold))?)
    }

    /// Gives a hold's seats back (its customer, or staff).
    async fn booking_hold_release(
        &self,
        ctx: &Context<'_>,
        id: HoldId,
    ) -> Result<BookingHoldPayload> {
        let outcome = holds::release(ctx.db(), ctx.request()?, id).await;
        Ok(BookingHoldPayload::of(outcome.map(BookingHold))?)
    }
}

/// The same local time of a service every few weeks, held at once.
#[derive(InputObject)]
pub struct BookingHoldSeriesInput {
    pub service_id: ServiceId,
    /// The first occurrence's start, a slot as `availability` gives it.
    pub start: DateTime<Utc>,
    /// The IANA time zone whose wall time repeats (across its clock changes).
    pub time_zone: String,
    /// One of the service's providers for every occurrence; left out, the round robin's each time.
    pub provider_id: Option<CalendarId>,
    #[graphql(default = 1)]
    pub seats: i32,
    /// Every 1 to 4 weeks.
    #[graphql(default = 1)]
    pub every_weeks: i32,
    /// 2 to 52 occurrences.
    pub occurrences: i32,
    /// Hold what can be held and skip the rest (saying why); otherwise all or nothing.
    #[graphql(default)]
    pub skip_conflicts: bool,
}

/// What happened to one occurrence of a series.
#[derive(async_graphql::SimpleObject)]
pub struct BookingOccurrence {
    pub start: DateTime<Utc>,
    /// Its hold; null when it was skipped.
    pub hold: Option<BookingHold>,
    /// Why it was skipped (SLOT_TAKEN, OUTSIDE_HOURS, TOO_FAR_AHEAD, ...).
    pub skipped: Option<crate::errors::BookingsErrorCode>,
}

/// Occurrences of a service held together.
#[derive(async_graphql::SimpleObject)]
pub struct BookingSeries {
    pub id: crate::ids::SeriesId,
    pub occurrences: Vec<BookingOccurrence>,
}

cityos_core::payload! {
    /// The result of `bookingHoldSeries`.
    BookingSeriesPayload<BookingsUserError> {
        series: BookingSeries,
    }
}

/// The mutations of recurring holds.
#[derive(Default)]
pub struct SeriesMutation;

#[Object]
impl SeriesMutation {
    /// Holds the same local time every `everyWeeks` weeks for `occurrences` occurrences (up to
    /// 52), each a hold of its own: all or nothing (refused at the first that cannot be held,
    /// named by `occurrences.<n>`), or, with `skipConflicts`, what can be held with the reason
    /// each other was skipped.
    async fn booking_hold_series(
        &self,
        ctx: &Context<'_>,
        input: BookingHoldSeriesInput,
    ) -> Result<BookingSeriesPayload> {
        let r = holds::series::Recurring {
            first: Wanted {
                service: input.service_id,
                start: input.start,
                provider: input.provider_id,
                seats: input.seats,
            },
            every_weeks: input.every_weeks,
            occurrences: input.occurrences,
            time_zone: input.time_zone,
            skip_conflicts: input.skip_conflicts,
        };
        let outcome = holds::series::hold_series(ctx.db(), ctx.request()?, r).await;
        Ok(BookingSeriesPayload::of(outcome.map(|s| {
            BookingSeries {
                id: s.id,
                occurrences: s
                    .occurrences
                    .into_iter()
                    .map(|o| BookingOccurrence {
                        start: o.start,
                        hold: o.hold.map(BookingHold),
                        skipped: o.skipped,
                    })
                    .collect(),
            }
        }))?)
    }
}
