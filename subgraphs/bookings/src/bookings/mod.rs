//! Bookings: seats of a session a customer bought. Checkout makes one from a live hold in its own
//! transaction ([`convert`], through `bookings::api`), taking over the hold's seats; it is PENDING
//! until its order is paid ([`paid`]) and, for a service that asks it, staff confirm it; then
//! CONFIRMED -> CHECKED_IN -> COMPLETED. A customer cancels their own under the service's policy
//! ([`policy`]: free until the window, then a fee kept); the provider or staff cancel with a full
//! refund; either way its seats are given back and `booking.cancelled` says what its order owes
//! the customer, which orders refunds. A confirmed booking not checked in 30 minutes after its
//! start becomes NO_SHOW (a job); reminders go out 24 hours and 1 hour before (jobs writing
//! `booking.reminder`), never for a cancelled one. Each change bumps `version` and writes
//! `booking.<status>`.

pub mod calendar;
pub mod graphql;
pub mod jobs;
pub mod policy;

use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::holds::{self, HoldStatus};
use crate::ids::{BookingId, CalendarId, HoldId, ServiceId, SessionId, UserId, VendorId};
use crate::scope::Writer;
use crate::services::{self, Service};
use crate::sessions;
use chrono::{DateTime, Utc};
use cityos_core::RequestContext;
use cityos_core::money::{Currency, Money};
use cityos_core::text::Text;
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{
    Array, BigInt, Integer, Nullable, Text as SqlText, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Where a booking is in its lifecycle.
    pub enum BookingStatus {
        /// Awaiting payment, or staff confirmation when the service asks it.
        Pending = "PENDING",
        /// Paid (and confirmed): the customer is expected.
        Confirmed = "CONFIRMED",
        /// The customer arrived.
        CheckedIn = "CHECKED_IN",
        /// Done.
        Completed = "COMPLETED",
        /// Called off; its seats were given back.
        Cancelled = "CANCELLED",
        /// Not checked in 30 minutes after the start.
        NoShow = "NO_SHOW",
    }
    transitions {
        Pending -> Confirmed | Cancelled,
        Confirmed -> CheckedIn | Cancelled | NoShow,
        CheckedIn -> Completed,
    }
}

cityos_core::states! {
    /// Who cancelled a booking.
    #[graphql(name = "BookingCancelledBy")]
    pub enum CancelledBy {
        Customer = "CUSTOMER",
        Provider = "PROVIDER",
        Staff = "STAFF",
        System = "SYSTEM",
    }
}

/// A booking, as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    #[diesel(sql_type = SqlUuid)]
    pub id: BookingId,
    #[diesel(sql_type = SqlText)]
    pub number: String,
    #[diesel(sql_type = SqlUuid)]
    pub session_id: SessionId,
    #[diesel(sql_type = SqlUuid)]
    pub service_id: ServiceId,
    #[diesel(sql_type = SqlUuid)]
    pub customer_id: UserId,
    #[diesel(sql_type = Integer)]
    pub seats: i32,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resource_id: Option<CalendarId>,
    #[diesel(sql_type = SqlText)]
    pub status: BookingStatus,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub order_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub order_line_id: Option<uuid::Uuid>,
    #[diesel(sql_type = SqlText)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub amount_minor: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub paid_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub cancelled_by: Option<CancelledBy>,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub cancel_reason: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub fee_minor: i64,
    #[diesel(sql_type = BigInt)]
    pub refund_minor: i64,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Booking {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }
}

pub(crate) const COLUMNS: &str =
    "id, number, session_id, service_id, customer_id, seats, starts_at, ends_at,
    provider_id, resource_id, status, order_id, order_line_id, currency, amount_minor, paid_at,
    cancelled_by, cancel_reason, fee_minor, refund_minor, version, created_at";

/// `booking.<status>`: a booking was made (`booking.pending`) or changed status. Orders refunds
/// `refundMinor` of `orderLineId` on `booking.cancelled`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BookingChanged {
    pub booking_id: BookingId,
    pub number: String,
    pub service_id: ServiceId,
    pub customer_id: UserId,
    pub provider_id: Option<CalendarId>,
    pub status: BookingStatus,
    pub starts_at: DateTime<Utc>,
    pub seats: i32,
    pub order_id: Option<uuid::Uuid>,
    pub order_line_id: Option<uuid::Uuid>,
    pub currency: Currency,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub refund_minor: i64,
    pub cancelled_by: Option<CancelledBy>,
    pub version: i32,
}

impl Topic for BookingChanged {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("booking", self.status.as_str())
    }
}

impl From<&Booking> for BookingChanged {
    fn from(b: &Booking) -> Self {
        Self {
            booking_id: b.id,
            number: b.number.clone(),
            service_id: b.service_id,
            customer_id: b.customer_id,
            provider_id: b.provider_id,
            status: b.status,
            starts_at: b.starts_at,
            seats: b.seats,
            order_id: b.order_id,
            order_line_id: b.order_line_id,
            currency: b.currency,
            amount_minor: b.amount_minor,
            fee_minor: b.fee_minor,
            refund_minor: b.refund_minor,
            cancelled_by: b.cancelled_by,
            version: b.version,
        }
    }
}

async fn publish(tx: &mut TenantTx<'_>, booking: &Booking) -> QueryResult<()> {
    crate::OUTBOX
        .publish(tx, booking.id, &BookingChanged::from(booking))
        .await
}

/// What checkout sells of a hold: the order line it is on and what that line charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    pub hold: HoldId,
    /// The customer checking out: the hold's.
    pub customer: UserId,
    pub order_id: uuid::Uuid,
    pub order_line_id: uuid::Uuid,
    pub amount: Money,
}

fn number_of(id: BookingId) -> String {
    let hex = id.uuid().simple().to_string().to_ascii_uppercase();
    format!("BK-{}", &hex[hex.len() - 12..])
}

/// Makes a PENDING booking of hold `sale.hold` in the caller's transaction (checkout's): the
/// hold becomes CONVERTED and its seats the booking's. NOT_FOUND for a hold that is not the
/// customer's, HOLD_EXPIRED for one that no longer keeps its seats.
pub async fn convert(tx: &mut TenantTx<'_>, sale: Sale) -> Outcome<Booking> {
    let hold = holds::lock(tx, sale.hold)
        .await?
        .filter(|h| h.customer_id == sale.customer)
        .ok_or_else(|| refusal("holdId", Code::NotFound, "no such hold"))?;
    if !hold.live(Utc::now()) {
        return Err(refusal(
            "holdId",
            Code::HoldExpired,
            "the hold has ended; hold the slot again",
        ));
    }
    holds::end(tx, &hold, HoldStatus::Converted).await?;
    let id = BookingId::new();
    let rows: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "INSERT INTO bookings.bookings (tenant_id, id, number, session_id, service_id, hold_id,
                 customer_id, seats, starts_at, ends_at, provider_id, resource_id, order_id,
                 order_line_id, currency, amount_minor, series_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 (SELECT series_id FROM bookings.holds WHERE id = $6))
             RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(id)
        .bind::<SqlText, _>(number_of(id))
        .bind::<SqlUuid, _>(hold.session_id)
        .bind::<SqlUuid, _>(hold.service_id)
        .bind::<SqlUuid, _>(hold.id)
        .bind::<SqlUuid, _>(hold.customer_id)
        .bind::<Integer, _>(hold.seats)
        .bind::<Timestamptz, _>(hold.starts_at)
        .bind::<Timestamptz, _>(hold.ends_at)
        .bind::<Nullable<SqlUuid>, _>(hold.provider_id)
        .bind::<Nullable<SqlUuid>, _>(hold.resource_id)
        .bind::<SqlUuid, _>(sale.order_id)
        .bind::<SqlUuid, _>(sale.order_line_id)
        .bind::<SqlText, _>(sale.amount.currency)
        .bind::<BigInt, _>(sale.amount.amount),
    )
    .load(tx.conn())
    .await?;
    let booking = rows
        .into_iter()
        .next()
        .ok_or_else(|| cityos_core::ApiError::internal("insert returned nothing"))?;
    jobs::schedule(tx, &booking).await?;
    publish(tx, &booking).await?;
    Ok(booking)
}

/// Records that order `order` was paid, in the caller's transaction (orders' capture): its
/// PENDING bookings are paid, and CONFIRMED unless their service waits for staff.
pub async fn paid(tx: &mut TenantTx<'_>, order: uuid::Uuid) -> Outcome<Vec<Booking>> {
    let rows: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "UPDATE bookings.bookings b SET paid_at = coalesce(b.paid_at, now()),
                 status = CASE WHEN s.requires_confirmation AND b.approved_at IS NULL THEN b.status ELSE 'CONFIRMED' END,
                 confirmed_at = CASE WHEN s.requires_confirmation AND b.approved_at IS NULL THEN NULL ELSE now() END,
                 version = b.version + 1
             FROM bookings.services s
             WHERE s.tenant_id = b.tenant_id AND s.id = b.service_id
               AND b.order_id = $1 AND b.status = 'PENDING' AND b.paid_at IS NULL
             RETURNING {}",
            prefixed("b")
        ))
        .bind::<SqlUuid, _>(order),
    )
    .load(tx.conn())
    .await?;
    for b in &rows {
        publish(tx, b).await?;
    }
    Ok(rows)
}

fn prefixed(alias: &str) -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Booking `id`, locked.
pub async fn lock(tx: &mut TenantTx<'_>, id: BookingId) -> QueryResult<Option<Booking>> {
    let found: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.bookings WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    Ok(found.into_iter().next())
}

/// Who acts on a booking: the business (staff, the service's vendor's managers, the booking's
/// provider) or its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Business(CancelledBy),
    Customer,
}

/// Locks booking `id` for `ctx`, and says as whom it acts: NOT_FOUND for anyone else.
async fn lock_for(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    id: BookingId,
) -> Outcome<(Booking, Service, Actor)> {
    let booking = lock(tx, id).await?.ok_or_else(no_such_booking)?;
    let service = services::by_ids(tx, &[booking.service_id])
        .await?
        .remove(&booking.service_id)
        .ok_or_else(no_such_booking)?;
    let user = ctx.user_id().ok();
    let writer = Writer::of(ctx).ok();
    let actor = if writer.is_some_and(|w| w.may_touch(service.vendor_id)) {
        Actor::Business(if ctx.is_staff() {
            CancelledBy::Staff
        } else {
            CancelledBy::Provider
        })
    } else if user.is_some() && provider_user(tx, booking.provider_id).await? == user {
        Actor::Business(CancelledBy::Provider)
    } else if user == Some(booking.customer_id) {
        Actor::Customer
    } else {
        return Err(no_such_booking());
    };
    Ok((booking, service, actor))
}

async fn provider_user(
    tx: &mut TenantTx<'_>,
    provider: Option<CalendarId>,
) -> QueryResult<Option<UserId>> {
    let Some(p) = provider else { return Ok(None) };
    Ok(crate::calendars::by_ids(tx, &[p])
        .await?
        .remove(&p)
        .and_then(|c| c.user_id))
}

fn no_such_booking() -> crate::errors::Failure {
    refusal("id", Code::NotFound, "no such booking")
}

/// Moves `booking` to `to` with the columns `set` (SQL assignments after `status = $2`).
async fn transition(
    tx: &mut TenantTx<'_>,
    booking: &Booking,
    to: BookingStatus,
    set: &str,
) -> Outcome<Booking> {
    booking.status.require::<Code>(to, "id")?;
    let rows: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "UPDATE bookings.bookings SET status = $2, version = version + 1 {set}
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(booking.id)
        .bind::<SqlText, _>(to),
    )
    .load(tx.conn())
    .await?;
    let changed = rows.into_iter().next().ok_or_else(no_such_booking)?;
    publish(tx, &changed).await?;
    Ok(changed)
}

/// Staff's (or the provider's) confirmation of a booking of a service that asks for it: it is
/// CONFIRMED once paid too.
pub async fn approve(db: &Database, ctx: &RequestContext, id: BookingId) -> Outcome<Booking> {
    db.recorded(ctx, "booking.confirm", async move |tx| {
        let (booking, _, actor) = lock_for(tx, ctx, id).await?;
        if actor == Actor::Customer {
            return Err(no_such_booking());
        }
        booking.status.require::<Code>(BookingStatus::Confirmed, "id")?;
        let changed = if booking.paid_at.is_some() {
            transition(tx, &booking, BookingStatus::Confirmed, ", approved_at = now(), confirmed_at = now()").await?
        } else {
            let rows: Vec<Booking> = Prepared(
                diesel::sql_query(format!(
                    "UPDATE bookings.bookings SET approved_at = now() WHERE id = $1 RETURNING {COLUMNS}"
                ))
                .bind::<SqlUuid, _>(id),
            )
            .load(tx.conn())
            .await?;
            rows.into_iter().next().ok_or_else(no_such_booking)?
        };
        Ok((changed, Audit::of(id, serde_json::json!({ "status": booking.status }))))
    })
    .await
}

/// Checks a confirmed booking in, from an hour before its start (the business).
pub async fn check_in(db: &Database, ctx: &RequestContext, id: BookingId) -> Outcome<Booking> {
    db.recorded(ctx, "booking.check_in", async move |tx| {
        let (booking, _, actor) = lock_for(tx, ctx, id).await?;
        if actor == Actor::Customer {
            return Err(no_such_booking());
        }
        if Utc::now() < booking.starts_at - chrono::Duration::hours(1) {
            return Err(refusal(
                "id",
                Code::TooSoon,
                "check in from an hour before the start",
            ));
        }
        let changed = transition(
            tx,
            &booking,
            BookingStatus::CheckedIn,
            ", checked_in_at = now()",
        )
        .await?;
        Ok((changed, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// Completes a checked-in booking (the business).
pub async fn complete(db: &Database, ctx: &RequestContext, id: BookingId) -> Outcome<Booking> {
    db.recorded(ctx, "booking.complete", async move |tx| {
        let (booking, _, actor) = lock_for(tx, ctx, id).await?;
        if actor == Actor::Customer {
            return Err(no_such_booking());
        }
        let changed = transition(
            tx,
            &booking,
            BookingStatus::Completed,
            ", completed_at = now()",
        )
        .await?;
        Ok((changed, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// What a customer asked to cancel.
#[derive(Debug, Clone)]
pub struct Cancel {
    pub id: BookingId,
    pub reason: Option<String>,
    /// The fee the customer agreed to have kept, as shown to them; refused with POLICY_FEE when
    /// the policy keeps another amount.
    pub accepted_fee_minor: Option<i64>,
}

/// Cancels a paid booking: its customer under the service's policy (POLICY_FEE unless they
/// accept the fee it keeps now), or the business with a full refund. Its seats are given back and
/// `booking.cancelled` tells orders what to refund. A booking whose order is unpaid is cancelled
/// with its order (ORDER_UNPAID here; orders calls [`order_cancelled`]), so the order never asks
/// for a booking that is gone.
pub async fn cancel(db: &Database, ctx: &RequestContext, ask: Cancel) -> Outcome<Booking> {
    db.recorded(ctx, "booking.cancel", async move |tx| {
        let reason = Text::<1000>::parse_optional(ask.reason.as_deref())
            .map_err(|e| e.refusal("reason"))?
            .map(Text::into_inner);
        let (booking, service, actor) = lock_for(tx, ctx, ask.id).await?;
        booking
            .status
            .require::<Code>(BookingStatus::Cancelled, "id")?;
        if booking.paid_at.is_none() && booking.order_id.is_some() {
            // Its order still asks for its price: the order is what is cancelled.
            return Err(refusal(
                "id",
                Code::OrderUnpaid,
                "this booking's order is not paid yet: cancel the order, which cancels its bookings",
            ));
        }
        let (by, who) = match actor {
            Actor::Customer => (policy::By::Customer, CancelledBy::Customer),
            Actor::Business(who) => (policy::By::Business, who),
        };
        let paid = if booking.paid_at.is_some() {
            booking.amount_minor
        } else {
            0
        };
        let rules = policy::Policy {
            free_hours: service.settings.free_cancel_hours,
            fee_bps: service.settings.cancel_fee_bps,
        };
        let split = policy::split(rules, paid, by, Utc::now(), booking.starts_at);
        if split.fee > 0 && ask.accepted_fee_minor != Some(split.fee) {
            let fee = Money::new(split.fee, booking.currency);
            return Err(refusal(
                "acceptedFeeMinor",
                Code::PolicyFee,
                format!("cancelling now keeps {fee}; accept that fee to cancel"),
            ));
        }
        let changed = end(tx, &booking, who, reason.as_deref(), split).await?;
        let audit = Audit::of(
            ask.id,
            serde_json::json!({ "by": who, "fee": split.fee, "refund": split.refund }),
        );
        Ok((changed, audit))
    })
    .await
}

/// Cancels a locked, live booking as `who` would, keeping `split.fee` and owing `split.refund`
/// back: its seats go to the waitlist or back to the session, its jobs end, `booking.cancelled`
/// is written.
async fn end(
    tx: &mut TenantTx<'_>,
    booking: &Booking,
    who: CancelledBy,
    reason: Option<&str>,
    split: policy::Split,
) -> Outcome<Booking> {
    crate::waitlist::release(tx, booking.session_id, booking.seats).await?;
    let rows: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "UPDATE bookings.bookings SET status = 'CANCELLED', version = version + 1,
                 cancelled_at = now(), cancelled_by = $2, cancel_reason = $3, fee_minor = $4,
                 refund_minor = $5
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(booking.id)
        .bind::<SqlText, _>(who)
        .bind::<Nullable<SqlText>, _>(reason)
        .bind::<BigInt, _>(split.fee)
        .bind::<BigInt, _>(split.refund),
    )
    .load(tx.conn())
    .await?;
    let changed = rows.into_iter().next().ok_or_else(no_such_booking)?;
    publish(tx, &changed).await?;
    jobs::cancel(tx, &changed).await?;
    Ok(changed)
}

/// Records that order `order` was cancelled before it was paid, in the caller's transaction
/// (orders' cancellation): its live bookings are cancelled by `who` with nothing kept and
/// nothing owed back, and their seats freed.
pub async fn order_cancelled(
    tx: &mut TenantTx<'_>,
    order: uuid::Uuid,
    who: CancelledBy,
    reason: Option<&str>,
) -> Outcome<Vec<Booking>> {
    let live: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.bookings
             WHERE order_id = $1 AND status IN ('PENDING', 'CONFIRMED') ORDER BY id FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(order),
    )
    .load(tx.conn())
    .await?;
    let nothing = policy::Split { fee: 0, refund: 0 };
    let mut cancelled = Vec::with_capacity(live.len());
    for booking in &live {
        cancelled.push(end(tx, booking, who, reason, nothing).await?);
    }
    Ok(cancelled)
}

/// `booking.rescheduled`: a booking moved from `previousStart` to its `startsAt` (and perhaps
/// to another provider).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BookingRescheduled {
    #[serde(flatten)]
    pub booking: BookingChanged,
    pub previous_start: DateTime<Utc>,
}

impl cityos_db::outbox::FixedTopic for BookingRescheduled {
    const TOPIC: &'static str = "booking.rescheduled";
}

/// Where to move a booking.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub id: BookingId,
    pub start: DateTime<Utc>,
    /// A provider of the service; none: the round robin's.
    pub provider: Option<CalendarId>,
}

/// Moves a PENDING or CONFIRMED booking to another slot of its service, in one transaction: its
/// seats are given back and the new slot's taken, so a refusal (any of a hold's) leaves it where
/// it was, and no one else can take either slot in between. Its customer may until the free
/// cancellation window ends (TOO_LATE after), the business until it starts.
pub async fn reschedule(db: &Database, ctx: &RequestContext, mv: Move) -> Outcome<Booking> {
    db.recorded(ctx, "booking.reschedule", async move |tx| {
        let (booking, service, actor) = lock_for(tx, ctx, mv.id).await?;
        if !matches!(
            booking.status,
            BookingStatus::Pending | BookingStatus::Confirmed
        ) {
            return Err(refusal(
                "id",
                Code::InvalidTransition,
                "only a pending or confirmed booking moves",
            ));
        }
        let now = Utc::now();
        let window_ends = booking.starts_at
            - chrono::Duration::hours(i64::from(service.settings.free_cancel_hours));
        if actor == Actor::Customer && now >= window_ends {
            return Err(refusal(
                "id",
                Code::TooLate,
                "the booking can no longer be moved by its customer",
            ));
        }
        if now >= booking.starts_at {
            return Err(refusal("id", Code::TooLate, "the booking has started"));
        }
        // The calendars first, as every writer of claims locks them, then the seats.
        let links = crate::availability::links(tx, service.id).await?;
        let ids: Vec<CalendarId> = links.iter().map(|(id, _)| *id).collect();
        sessions::lock_calendars(tx, &ids).await?;
        crate::waitlist::release(tx, booking.session_id, booking.seats).await?;
        let wanted = holds::Wanted {
            service: service.id,
            start: mv.start,
            provider: mv.provider,
            seats: booking.seats,
        };
        let session = holds::place(tx, &service, wanted, now).await?;
        jobs::cancel(tx, &booking).await?;
        let rows: Vec<Booking> = Prepared(
            diesel::sql_query(format!(
                "UPDATE bookings.bookings b SET session_id = s.id, starts_at = s.starts_at,
                     ends_at = s.ends_at, provider_id = s.provider_id, resource_id = s.resource_id,
                     reschedules = b.reschedules + 1, version = b.version + 1
                 FROM bookings.sessions s
                 WHERE s.tenant_id = b.tenant_id AND s.id = $2 AND b.id = $1
                 RETURNING {}",
                prefixed("b")
            ))
            .bind::<SqlUuid, _>(booking.id)
            .bind::<SqlUuid, _>(session),
        )
        .load(tx.conn())
        .await?;
        let moved = rows.into_iter().next().ok_or_else(no_such_booking)?;
        jobs::schedule(tx, &moved).await?;
        let event = BookingRescheduled {
            booking: BookingChanged::from(&moved),
            previous_start: booking.starts_at,
        };
        crate::OUTBOX.publish(tx, moved.id, &event).await?;
        let audit = Audit::of(
            moved.id,
            serde_json::json!({ "from": booking.starts_at, "to": moved.starts_at,
            "providerId": moved.provider_id }),
        );
        Ok((moved, audit))
    })
    .await
}

// Reads.

/// Bookings by id, as stored (callers check who may see them).
pub async fn by_ids(
    tx: &mut TenantTx<'_>,
    ids: &[BookingId],
) -> QueryResult<HashMap<BookingId, Booking>> {
    let rows: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.bookings WHERE id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

/// A customer's bookings, soonest first, at most `limit`.
pub async fn of_customer(
    tx: &mut TenantTx<'_>,
    customer: UserId,
    limit: i64,
) -> QueryResult<Vec<Booking>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.bookings WHERE customer_id = $1 ORDER BY starts_at, id LIMIT $2"
        ))
        .bind::<SqlUuid, _>(customer)
        .bind::<BigInt, _>(limit),
    )
    .load(tx.conn())
    .await
}

/// The vendor of each booking's service (none: the tenant's own), for who may see it.
pub async fn vendors_of(
    tx: &mut TenantTx<'_>,
    bookings: &[Booking],
) -> QueryResult<HashMap<ServiceId, Option<VendorId>>> {
    let ids: Vec<ServiceId> = bookings.iter().map(|b| b.service_id).collect();
    Ok(services::by_ids(tx, &ids)
        .await?
        .into_iter()
        .map(|(id, s)| (id, s.vendor_id))
        .collect())
}
