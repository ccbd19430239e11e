//! The waitlist in GraphQL: `bookingWaitlistJoin`, `bookingWaitlistLeave`, and the signed-in
//! customer's places in line (`myBookingWaitlist`). Accepting an offer is a hold's
//! (`bookingWaitlistAccept`, in `holds::graphql`).

use crate::errors::BookingsUserError;
use crate::ids::{CalendarId, ServiceId, WaitlistEntryId};
use crate::scope::{BookingsLoader, in_tenant};
use crate::services::graphql::BookingService;
use crate::waitlist::{self, Entry, WaitStatus, Wanted};
use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_server::CtxExt as _;

/// A customer's place in line for a full slot.
pub struct BookingWaitlistEntry(pub Entry);

#[Object]
impl BookingWaitlistEntry {
    async fn id(&self) -> WaitlistEntryId {
        self.0.id
    }
    async fn status(&self) -> WaitStatus {
        self.0.status
    }
    async fn start(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn seats(&self) -> i32 {
        self.0.seats
    }
    /// 1 for the first in line; 0 once no longer waiting.
    async fn position(&self) -> i64 {
        self.0.position
    }
    /// Until when an offer keeps its seats.
    async fn offer_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.offer_expires_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<BookingService>> {
        Ok(ctx
            .loader::<BookingsLoader>()?
            .load_one(self.0.service_id)
            .await?
            .map(BookingService))
    }
}

/// A full slot to wait for.
#[derive(InputObject)]
pub struct BookingWaitlistJoinInput {
    pub service_id: ServiceId,
    pub start: DateTime<Utc>,
    /// Only this provider's session; left out, any.
    pub provider_id: Option<CalendarId>,
    #[graphql(default = 1)]
    pub seats: i32,
}

cityos_core::payload! {
    /// The result of `bookingWaitlistJoin` and `bookingWaitlistLeave`.
    BookingWaitlistPayload<BookingsUserError> {
        entry: BookingWaitlistEntry,
    }
}

/// The queries of the waitlist.
#[derive(Default)]
pub struct WaitlistQuery;

#[Object]
impl WaitlistQuery {
    /// The signed-in customer's places in line still open, soonest first.
    async fn my_booking_waitlist(&self, ctx: &Context<'_>) -> Result<Vec<BookingWaitlistEntry>> {
        let customer = ctx.request()?.user_id()?;
        let found = in_tenant!(ctx, |tx| waitlist::of_customer(tx, customer))?;
        Ok(found.into_iter().map(BookingWaitlistEntry).collect())
    }
}

/// The mutations of the waitlist.
#[derive(Default)]
pub struct WaitlistMutation;

#[Object]
impl WaitlistMutation {
    /// Joins the line of a full slot (SLOT_AVAILABLE when it has room: hold it instead). When
    /// seats free, the first in line whose party fits gets an offer (`booking.waitlist_offered`).
    async fn booking_waitlist_join(
        &self,
        ctx: &Context<'_>,
        input: BookingWaitlistJoinInput,
    ) -> Result<BookingWaitlistPayload> {
        let wanted = Wanted {
            service: input.service_id,
            start: input.start,
            provider: input.provider_id,
            seats: input.seats,
        };
        let outcome = waitlist::join(ctx.db(), ctx.request()?, wanted).await;
        Ok(BookingWaitlistPayload::of(
            outcome.map(BookingWaitlistEntry),
        )?)
    }

    /// Leaves the line, or declines an offer (its seats go to the next in line).
    async fn booking_waitlist_leave(
        &self,
        ctx: &Context<'_>,
        id: WaitlistEntryId,
    ) -> Result<BookingWaitlistPayload> {
        let outcome = waitlist::leave(ctx.db(), ctx.request()?, id).await;
        Ok(BookingWaitlistPayload::of(
            outcome.map(BookingWaitlistEntry),
        )?)
    }
}
