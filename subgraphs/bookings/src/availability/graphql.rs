//! Availability in GraphQL: `availability(serviceId, from, to, timeZone, providerId, seats)`,
//! slots grouped by local date in the caller's time zone, each with the providers free for it in
//! round-robin order (the first gets a booking for "any provider").

use crate::availability::{self, Asked, Found};
use crate::calendars::graphql::BookingProvider;
use crate::calendars::hours;
use crate::ids::{CalendarId, ServiceId};
use crate::scope::in_tenant;
use crate::services::graphql::BookingService;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use cityos_core::ApiError;

/// A service's bookable slots over some days.
#[derive(SimpleObject)]
#[graphql(name = "BookingAvailability")]
pub struct AvailabilityObject {
    pub service: BookingService,
    /// The time zone the days and local times are in (the one asked for).
    pub time_zone: String,
    /// The days with at least one slot, in order.
    pub days: Vec<AvailabilityDay>,
}

/// A local date's slots.
#[derive(SimpleObject)]
#[graphql(name = "BookingAvailabilityDay")]
pub struct AvailabilityDay {
    pub date: NaiveDate,
    pub slots: Vec<BookingSlot>,
}

/// A slot that can be held now.
#[derive(SimpleObject)]
pub struct BookingSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start as a local time with its offset in the asked time zone, e.g.
    /// `2027-03-28T09:00:00+02:00`.
    pub local_start: String,
    /// The most seats free in one session at this start.
    pub seats_left: i32,
    /// The providers free for it, the one "any provider" gets first (fewest bookings that week);
    /// empty for a service without providers. Read with the slots, not one by one.
    pub providers: Vec<BookingProvider>,
}

fn object(found: Found) -> AvailabilityObject {
    let zone: Tz = found.zone;
    AvailabilityObject {
        service: BookingService(found.service),
        time_zone: zone.name().to_owned(),
        days: found
            .days
            .into_iter()
            .map(|(date, slots)| AvailabilityDay {
                date,
                slots: slots
                    .into_iter()
                    .map(|s| BookingSlot {
                        start: s.start,
                        end: s.end,
                        local_start: s.start.with_timezone(&zone).to_rfc3339(),
                        seats_left: s.seats_left,
                        providers: s
                            .options
                            .iter()
                            .filter_map(|o| found.calendars.get(&o.provider?))
                            .map(|c| BookingProvider(c.clone()))
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The availability query.
#[derive(Default)]
pub struct AvailabilityQuery;

#[Object]
impl AvailabilityQuery {
    /// The slots of a service on local dates `from..=to` (at most 62 days) in `timeZone`, that
    /// can be held now: its providers' and resources' hours, minus overrides and holidays, minus
    /// bookings, live holds and blocked time with the service's buffers, minus what is sooner
    /// than its notice or further than its horizon. Null for a service that does not exist or is
    /// archived.
    #[allow(
        clippy::too_many_arguments,
        reason = "the question's arguments, each its own GraphQL argument"
    )]
    async fn availability(
        &self,
        ctx: &Context<'_>,
        service_id: ServiceId,
        from: NaiveDate,
        to: NaiveDate,
        #[graphql(
            desc = "An IANA time zone, e.g. `Europe/Berlin`: the days and local times are its."
        )]
        time_zone: String,
        #[graphql(desc = "Only this provider's slots.")] provider_id: Option<CalendarId>,
        #[graphql(desc = "The seats wanted (a party's size), 1 to 1,000.", default = 1)] seats: i32,
    ) -> Result<Option<AvailabilityObject>> {
        let zone = hours::zone(&time_zone, "timeZone").map_err(|_| {
            ApiError::bad_input("timeZone is not an IANA time zone, e.g. Europe/Berlin")
        })?;
        let asked = Asked {
            service: service_id,
            from,
            to,
            zone,
            provider: provider_id,
            seats,
        };
        let now = Utc::now();
        let found = in_tenant!(ctx, |tx| availability::find(tx, asked, now))?;
        Ok(found.map(object))
    }
}
