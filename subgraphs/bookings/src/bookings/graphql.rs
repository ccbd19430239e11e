//! Bookings in GraphQL: `Booking`, `booking(id)`, `User.bookings` across the supergraph, and the
//! lifecycle's mutations.

use crate::bookings::{self, Booking, BookingStatus, Cancel, CancelledBy};
use crate::calendars::graphql::{BookingProvider, BookingResource};
use crate::errors::BookingsUserError;
use crate::federation::User;
use crate::ids::{BookingId, UserId};
use crate::scope::{BookingsLoader, Writer, in_tenant};
use crate::services::graphql::BookingService;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::money::Money;
use cityos_core::{ApiError, RequestContext};
use cityos_server::CtxExt as _;

/// Seats of a session a customer bought.
pub struct BookingObject(pub Booking);

#[Object(name = "Booking")]
impl BookingObject {
    async fn id(&self) -> BookingId {
        self.0.id
    }
    /// Its reference for people, e.g. `BK-9F3A1C7D2E4B`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn status(&self) -> BookingStatus {
        self.0.status
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
    /// What its order line charged for it.
    async fn price(&self) -> Money {
        self.0.amount()
    }
    /// Whether its order was paid.
    async fn paid(&self) -> bool {
        self.0.paid_at.is_some()
    }
    /// What a cancellation kept under the policy.
    async fn fee_kept(&self) -> Money {
        Money::new(self.0.fee_minor, self.0.currency)
    }
    /// What a cancellation owes back through its order.
    async fn refund_owed(&self) -> Money {
        Money::new(self.0.refund_minor, self.0.currency)
    }
    async fn cancelled_by(&self) -> Option<CancelledBy> {
        self.0.cancelled_by
    }
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
    /// The order it was bought in.
    async fn order_id(&self) -> Option<ID> {
        self.0.order_id.map(|o| ID(o.to_string()))
    }
    /// Counts its changes.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<BookingService>> {
        Ok(ctx
            .loader::<BookingsLoader>()?
            .load_one(self.0.service_id)
            .await?
            .map(BookingService))
    }
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<BookingProvider>> {
        crate::calendars::graphql::provider(ctx, self.0.provider_id).await
    }
    async fn resource(&self, ctx: &Context<'_>) -> Result<Option<BookingResource>> {
        crate::calendars::graphql::resource(ctx, self.0.resource_id).await
    }
}

/// Whether `ctx` may see `booking` of a service of `vendor`: its customer, staff, or the
/// service's vendor's managers.
fn sees(
    ctx: &RequestContext,
    booking: &Booking,
    vendor: Option<cityos_core::ids::VendorId>,
) -> bool {
    ctx.user_id().is_ok_and(|u| u == booking.customer_id)
        || Writer::of(ctx).is_ok_and(|w| w.may_touch(vendor))
}

#[ComplexObject]
impl User {
    /// The user's bookings, soonest first, at most `first` (1 to 100, default 50): for the user
    /// themself and staff.
    async fn bookings(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<BookingObject>> {
        let user = UserId::parse(&self.id).map_err(|e| ApiError::bad_input(e.to_string()))?;
        let rc = ctx.request()?;
        if rc.user_id().ok() != Some(user) && !rc.is_staff() {
            return Err(ApiError::forbidden("a user's bookings are theirs and staff's").into());
        }
        let limit = i64::from(first.unwrap_or(50).clamp(1, 100));
        let found = in_tenant!(ctx, |tx| bookings::of_customer(tx, user, limit))?;
        Ok(found.into_iter().map(BookingObject).collect())
    }
}

/// A booking to cancel.
#[derive(InputObject)]
pub struct BookingCancelInput {
    pub id: BookingId,
    /// Up to 1,000 characters.
    pub reason: Option<String>,
    /// The fee, in minor units, the customer accepts to have kept (POLICY_FEE names it when
    /// cancelling keeps one).
    pub accepted_fee_minor: Option<i64>,
}

/// Where to move a booking.
#[derive(InputObject)]
pub struct BookingRescheduleInput {
    pub id: BookingId,
    /// A slot's start, as `availability` gives it.
    pub start: DateTime<Utc>,
    /// One of the service's providers; left out, the one with the fewest bookings that week.
    pub provider_id: Option<crate::ids::CalendarId>,
}

cityos_core::payload! {
    /// The result of a booking's lifecycle mutations.
    BookingPayload<BookingsUserError> {
        booking: BookingObject,
    }
}

/// One provider's or resource's part of a calendar view.
#[derive(async_graphql::SimpleObject)]
pub struct BookingCalendarColumn {
    pub calendar: crate::calendars::graphql::BookingCalendar,
    /// Its bookings that are not cancelled, by start.
    pub bookings: Vec<BookingObject>,
    /// Its blocked time, by start.
    pub blocks: Vec<crate::calendars::graphql::BookingTimeBlock>,
}

/// The queries of bookings.
#[derive(Default)]
pub struct BookingQuery;

#[Object]
impl BookingQuery {
    /// The day or week view of providers' and resources' bookings and blocked time over
    /// `[from, to)` (at most 31 days, 50 calendars): for staff, the calendars' vendor's managers
    /// and each provider for their own. One statement per kind, whatever the number.
    async fn booking_calendar(
        &self,
        ctx: &Context<'_>,
        calendar_ids: Vec<crate::ids::CalendarId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BookingCalendarColumn>> {
        let rc = ctx.request()?.clone();
        let tenant = rc.tenant()?.id;
        let columns = ctx
            .db()
            .tenant_tx(tenant, async move |tx| {
                bookings::calendar::view(tx, &rc, &calendar_ids, (from, to)).await
            })
            .await
            .map_err(|e| match e {
                cityos_core::Failure::User(u)
                    if u.code == crate::errors::BookingsErrorCode::NotFound =>
                {
                    ApiError::not_found(u.message)
                }
                cityos_core::Failure::User(u) => ApiError::bad_input(u.message),
                cityos_core::Failure::Api(a) => a,
            })?;
        Ok(columns
            .into_iter()
            .map(|c| BookingCalendarColumn {
                calendar: c.calendar.into(),
                bookings: c.bookings.into_iter().map(BookingObject).collect(),
                blocks: c.blocks.into_iter().map(Into::into).collect(),
            })
            .collect())
    }

    /// Resolves `Booking` references (an order line's booking): null for one the caller may not
    /// see.
    #[graphql(entity)]
    async fn find_booking_by_id(
        &self,
        ctx: &Context<'_>,
        id: BookingId,
    ) -> Result<Option<BookingObject>> {
        self.booking(ctx, id).await
    }

    /// A booking: for its customer, staff and the service's vendor's managers.
    async fn booking(&self, ctx: &Context<'_>, id: BookingId) -> Result<Option<BookingObject>> {
        let rc = ctx.request()?.clone();
        let found = in_tenant!(ctx, |tx| async {
            let Some(b) = bookings::by_ids(tx, &[id]).await?.remove(&id) else {
                return Ok::<_, ApiError>(None);
            };
            let vendors = bookings::vendors_of(tx, std::slice::from_ref(&b)).await?;
            Ok(Some((
                b.clone(),
                vendors.get(&b.service_id).copied().flatten(),
            )))
        })?;
        Ok(found
            .filter(|(b, vendor)| sees(&rc, b, *vendor))
            .map(|(b, _)| BookingObject(b)))
    }
}

/// The mutations of bookings.
#[derive(Default)]
pub struct BookingMutation;

#[Object]
impl BookingMutation {
    /// Confirms a booking of a service that waits for staff (staff, its vendor's managers, its
    /// provider): CONFIRMED once it is paid too.
    async fn booking_confirm(&self, ctx: &Context<'_>, id: BookingId) -> Result<BookingPayload> {
        let outcome = bookings::approve(ctx.db(), ctx.request()?, id).await;
        Ok(BookingPayload::of(outcome.map(BookingObject))?)
    }

    /// Checks a confirmed booking in, from an hour before its start.
    async fn booking_check_in(&self, ctx: &Context<'_>, id: BookingId) -> Result<BookingPayload> {
        let outcome = bookings::check_in(ctx.db(), ctx.request()?, id).await;
        Ok(BookingPayload::of(outcome.map(BookingObject))?)
    }

    /// Completes a checked-in booking.
    async fn booking_complete(&self, ctx: &Context<'_>, id: BookingId) -> Result<BookingPayload> {
        let outcome = bookings::complete(ctx.db(), ctx.request()?, id).await;
        Ok(BookingPayload::of(outcome.map(BookingObject))?)
    }

    /// Moves a pending or confirmed booking to another slot of its service in one step: the
    /// old slot is kept if the new one is refused. Its customer may until the free cancellation
    /// window ends (TOO_LATE after).
    async fn booking_reschedule(
        &self,
        ctx: &Context<'_>,
        input: BookingRescheduleInput,
    ) -> Result<BookingPayload> {
        let mv = bookings::Move {
            id: input.id,
            start: input.start,
            provider: input.provider_id,
        };
        let outcome = bookings::reschedule(ctx.db(), ctx.request()?, mv).await;
        Ok(BookingPayload::of(outcome.map(BookingObject))?)
    }

    /// Cancels a booking: its customer under the service's policy (POLICY_FEE until they accept
    /// the fee kept now), the business with a full refund; the refund is owed through its order.
    async fn booking_cancel(
        &self,
        ctx: &Context<'_>,
        input: BookingCancelInput,
    ) -> Result<BookingPayload> {
        let ask = Cancel {
            id: input.id,
            reason: input.reason,
            accepted_fee_minor: input.accepted_fee_minor,
        };
        let outcome = bookings::cancel(ctx.db(), ctx.request()?, ask).await;
        Ok(BookingPayload::of(outcome.map(BookingObject))?)
    }
}
