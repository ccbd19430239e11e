//! The waitlist of a full slot. A signed-in customer joins it for a start of a service (and
//! perhaps one provider) that has no seats for their party. Seats given back anywhere (a
//! cancelled booking, a released or expired hold, a moved booking, an expired offer) go through
//! [`release`]: under the session's row lock, the first in line whose party fits gets an offer,
//! its seats taken for them at once, so no one else can take them and no seat is offered twice;
//! only then does a session left with no seats taken drop its claims. An offer lasts the
//! service's hold minutes (`booking.waitlist_offered` tells the customer); accepted, it becomes a
//! hold they check out (`holds::accept_offer`); expired or left, its seats go to the next in line.

pub mod graphql;
pub mod jobs;

use crate::availability;
pub use crate::availability::Wanted;
use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::ids::{CalendarId, ServiceId, SessionId, UserId, WaitlistEntryId};
use crate::sessions::{self, Seats};
use crate::slots::Interval;
use chrono::{DateTime, Duration, Utc};
use cityos_core::RequestContext;
use cityos_db::audit::Audit;
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{
    Array, BigInt, Integer, Nullable, Text as SqlText, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// Where a place on a waitlist is.
    #[graphql(name = "BookingWaitlistStatus")]
    pub enum WaitStatus {
        /// In line.
        Waiting = "WAITING",
        /// Seats are kept for the customer until the offer expires.
        Offered = "OFFERED",
        /// The offer became a hold.
        Accepted = "ACCEPTED",
        /// The offer ran out.
        Expired = "EXPIRED",
        /// The customer left the line (or declined the offer).
        Left = "LEFT",
    }
    transitions {
        Waiting -> Offered | Left,
        Offered -> Accepted | Expired | Left,
    }
}

/// A place on a waitlist.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    #[diesel(sql_type = SqlUuid)]
    pub id: WaitlistEntryId,
    #[diesel(sql_type = SqlUuid)]
    pub service_id: ServiceId,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Integer)]
    pub seats: i32,
    #[diesel(sql_type = SqlUuid)]
    pub customer_id: UserId,
    #[diesel(sql_type = SqlText)]
    pub status: WaitStatus,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub session_id: Option<SessionId>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Its place: 1 for the first still waiting (0 once it is no longer waiting).
    #[diesel(sql_type = BigInt)]
    pub position: i64,
}

const COLUMNS: &str = "w.id, w.service_id, w.starts_at, w.provider_id, w.seats, w.customer_id,
    w.status, w.session_id, w.offer_expires_at,
    CASE WHEN w.status = 'WAITING' THEN (
        SELECT count(*) FROM bookings.waitlist o
        WHERE o.service_id = w.service_id AND o.starts_at = w.starts_at AND o.status = 'WAITING'
          AND (o.created_at, o.id) <= (w.created_at, w.id)) ELSE 0 END AS position";

/// `booking.waitlist_offered`: seats freed for a customer in line, kept until `expiresAt`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistOffered {
    pub entry_id: WaitlistEntryId,
    pub customer_id: UserId,
    pub service_id: ServiceId,
    pub starts_at: DateTime<Utc>,
    pub seats: i32,
    pub expires_at: DateTime<Utc>,
}

impl FixedTopic for WaitlistOffered {
    const TOPIC: &'static str = "booking.waitlist_offered";
}

/// Joins the line for `wanted`, which must be a slot with no room for the party now
/// (SLOT_AVAILABLE otherwise: hold it instead).
pub async fn join(db: &Database, ctx: &RequestContext, wanted: Wanted) -> Outcome<Entry> {
    let customer = ctx.user_id()?;
    db.recorded(ctx, "booking_waitlist.join", async move |tx| {
        if !(1..=1000).contains(&wanted.seats) {
            return Err(refusal("seats", Code::InvalidRule, "wait for 1 to 1,000 seats"));
        }
        let service = availability::active_service(tx, wanted.service)
            .await?
            .ok_or_else(|| crate::scope::no_such_service("serviceId"))?;
        if wanted.seats > service.settings.capacity {
            return Err(refusal("seats", Code::CapacityFull, "the service has fewer seats"));
        }
        let window = Interval::new(wanted.start, wanted.start + Duration::minutes(1));
        let now = Utc::now();
        let gathered = availability::gather(tx, &service, window, wanted.provider).await?;
        if gathered.slots(now, wanted.seats).iter().any(|s| s.start == wanted.start) {
            return Err(refusal("start", Code::SlotAvailable, "the slot has room: hold it instead"));
        }
        let why = availability::why_not(&gathered, &service, wanted, now);
        if !matches!(&why, cityos_core::Failure::User(e) if matches!(e.code, Code::SlotTaken | Code::CapacityFull)) {
            return Err(why);
        }
        let id = WaitlistEntryId::new();
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.waitlist (tenant_id, id, service_id, starts_at, provider_id, seats, customer_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(service.id)
            .bind::<Timestamptz, _>(wanted.start)
            .bind::<Nullable<SqlUuid>, _>(wanted.provider)
            .bind::<Integer, _>(wanted.seats)
            .bind::<SqlUuid, _>(customer),
        )
        .execute(tx.conn())
        .await
        .map_err(|e| {
            cityos_core::Failure::on_unique("waitlist_customer", e, || {
                crate::errors::UserError::new("start", Code::AlreadyWaiting, "you are in line for this slot already")
            })
        })?;
        let entry = get(tx, id).await?.ok_or_else(|| cityos_core::ApiError::internal("an entry just made is missing"))?;
        Ok((entry, Audit::of(id, serde_json::json!({ "serviceId": service.id, "start": wanted.start }))))
    })
    .await
}

/// Entry `id`.
pub async fn get(tx: &mut TenantTx<'_>, id: WaitlistEntryId) -> QueryResult<Option<Entry>> {
    let found: Vec<Entry> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.waitlist w WHERE w.id = $1"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    Ok(found.into_iter().next())
}

/// Entry `id` of `customer`, locked: NOT_FOUND for anyone else's.
async fn lock_own(tx: &mut TenantTx<'_>, id: WaitlistEntryId, customer: UserId) -> Outcome<Entry> {
    Prepared(
        diesel::sql_query(
            "SELECT id FROM bookings.waitlist WHERE id = $1 AND customer_id = $2 FOR UPDATE",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(customer),
    )
    .execute(tx.conn())
    .await?;
    get(tx, id)
        .await?
        .filter(|e| e.customer_id == customer)
        .ok_or_else(|| refusal("id", Code::NotFound, "no such place in line"))
}

async fn set_status(tx: &mut TenantTx<'_>, id: WaitlistEntryId, to: WaitStatus) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "UPDATE bookings.waitlist SET status = $2,
                 ended_at = CASE WHEN $2 IN ('WAITING', 'OFFERED') THEN NULL ELSE now() END
             WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlText, _>(to),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

/// Leaves the line (or declines an offer, whose seats go to the next in line).
pub async fn leave(db: &Database, ctx: &RequestContext, id: WaitlistEntryId) -> Outcome<Entry> {
    let customer = ctx.user_id()?;
    db.recorded(ctx, "booking_waitlist.leave", async move |tx| {
        let entry = lock_own(tx, id, customer).await?;
        entry.status.require::<Code>(WaitStatus::Left, "id")?;
        set_status(tx, id, WaitStatus::Left).await?;
        if let (WaitStatus::Offered, Some(session)) = (entry.status, entry.session_id) {
            jobs::cancel(tx, id).await?;
            release(tx, session, entry.seats).await?;
        }
        let left = get(tx, id)
            .await?
            .ok_or_else(|| refusal("id", Code::NotFound, "no such place in line"))?;
        Ok((left, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// Takes a live offer of `customer`'s as accepted, in the caller's transaction: its session and
/// seats, which become a hold's (HOLD_EXPIRED for an offer that is over).
pub async fn accept(
    tx: &mut TenantTx<'_>,
    id: WaitlistEntryId,
    customer: UserId,
) -> Outcome<(SessionId, Entry)> {
    let entry = lock_own(tx, id, customer).await?;
    let live = entry.status == WaitStatus::Offered
        && entry.offer_expires_at.is_some_and(|at| Utc::now() < at);
    let (true, Some(session)) = (live, entry.session_id) else {
        return Err(refusal(
            "id",
            Code::HoldExpired,
            "there is no live offer to accept",
        ));
    };
    set_status(tx, id, WaitStatus::Accepted).await?;
    jobs::cancel(tx, id).await?;
    Ok((session, entry))
}

/// Gives `seats` of `session` back: to the first in line for its slot while their party fits,
/// each an offer for the service's hold minutes; the claims go when no seat is left taken.
pub async fn release(tx: &mut TenantTx<'_>, session: SessionId, seats: i32) -> QueryResult<()> {
    let mut now = sessions::return_seats(tx, session, seats).await?;
    while let Some(next) = first_in_line(tx, &now).await? {
        if next.seats > now.capacity - now.seats_taken {
            break;
        }
        offer(tx, &now, &next).await?;
        now.seats_taken += next.seats;
    }
    sessions::drop_claims_if_unused(tx, &now).await
}

#[derive(diesel::QueryableByName)]
struct InLine {
    #[diesel(sql_type = SqlUuid)]
    id: WaitlistEntryId,
    #[diesel(sql_type = Integer)]
    seats: i32,
    #[diesel(sql_type = SqlUuid)]
    customer_id: UserId,
}

/// The first still waiting for the session's slot (and its provider, or any), locked; one another
/// transaction is offering to is skipped, so two freed seats go to two customers.
async fn first_in_line(tx: &mut TenantTx<'_>, s: &Seats) -> QueryResult<Option<InLine>> {
    let found: Vec<InLine> = Prepared(
        diesel::sql_query(
            "SELECT id, seats, customer_id FROM bookings.waitlist
             WHERE service_id = $1 AND starts_at = $2 AND status = 'WAITING'
               AND (provider_id IS NULL OR provider_id IS NOT DISTINCT FROM $3)
             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind::<SqlUuid, _>(s.service_id)
        .bind::<Timestamptz, _>(s.starts_at)
        .bind::<Nullable<SqlUuid>, _>(s.provider_id),
    )
    .load(tx.conn())
    .await?;
    Ok(found.into_iter().next())
}

async fn offer(tx: &mut TenantTx<'_>, s: &Seats, next: &InLine) -> QueryResult<()> {
    let minutes: Vec<Minutes> = Prepared(
        diesel::sql_query("SELECT hold_minutes FROM bookings.services WHERE id = $1")
            .bind::<SqlUuid, _>(s.service_id),
    )
    .load(tx.conn())
    .await?;
    let minutes = minutes.into_iter().next().map_or(10, |m| m.hold_minutes);
    let expires_at = Utc::now() + Duration::minutes(i64::from(minutes));
    sessions::add_seats(tx, s.id, next.seats).await?;
    Prepared(
        diesel::sql_query(
            "UPDATE bookings.waitlist SET status = 'OFFERED', session_id = $2, offer_expires_at = $3 WHERE id = $1",
        )
        .bind::<SqlUuid, _>(next.id)
        .bind::<SqlUuid, _>(s.id)
        .bind::<Timestamptz, _>(expires_at),
    )
    .execute(tx.conn())
    .await?;
    jobs::schedule(tx, next.id, expires_at).await?;
    let event = WaitlistOffered {
        entry_id: next.id,
        customer_id: next.customer_id,
        service_id: s.service_id,
        starts_at: s.starts_at,
        seats: next.seats,
        expires_at,
    };
    crate::OUTBOX.publish(tx, next.id, &event).await
}

#[derive(diesel::QueryableByName)]
struct Minutes {
    #[diesel(sql_type = Integer)]
    hold_minutes: i32,
}

#[derive(diesel::QueryableByName)]
struct Ended {
    #[diesel(sql_type = SqlUuid)]
    session_id: SessionId,
    #[diesel(sql_type = Integer)]
    seats: i32,
}

/// Ends the holds and offers past their time in sessions claiming `calendars` over `during`,
/// giving their seats back (to the next in line first): what a writer does before it reads, so
/// its view and the counters agree.
pub async fn end_stale(
    tx: &mut TenantTx<'_>,
    calendars: &[CalendarId],
    during: Interval,
) -> QueryResult<()> {
    let sessions = "SELECT session_id FROM bookings.claims
        WHERE calendar_id = ANY ($1) AND during && tstzrange($2, $3) AND session_id IS NOT NULL";
    let mut ended: Vec<Ended> = Prepared(
        diesel::sql_query(format!(
            "UPDATE bookings.holds SET status = 'EXPIRED', ended_at = now()
             WHERE status = 'HELD' AND expires_at <= now() AND session_id IN ({sessions})
             RETURNING session_id, seats"
        ))
        .bind::<Array<SqlUuid>, _>(calendars)
        .bind::<Timestamptz, _>(during.start)
        .bind::<Timestamptz, _>(during.end),
    )
    .load(tx.conn())
    .await?;
    let offers: Vec<Ended> = Prepared(
        diesel::sql_query(format!(
            "UPDATE bookings.waitlist SET status = 'EXPIRED', ended_at = now()
             WHERE status = 'OFFERED' AND offer_expires_at <= now() AND session_id IN ({sessions})
             RETURNING session_id, seats"
        ))
        .bind::<Array<SqlUuid>, _>(calendars)
        .bind::<Timestamptz, _>(during.start)
        .bind::<Timestamptz, _>(during.end),
    )
    .load(tx.conn())
    .await?;
    ended.extend(offers);
    for e in ended {
        release(tx, e.session_id, e.seats).await?;
    }
    Ok(())
}

/// A customer's places in line that are still open, soonest slot first.
pub async fn of_customer(tx: &mut TenantTx<'_>, customer: UserId) -> QueryResult<Vec<Entry>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.waitlist w
             WHERE w.customer_id = $1 AND w.status IN ('WAITING', 'OFFERED') ORDER BY w.starts_at, w.id"
        ))
        .bind::<SqlUuid, _>(customer),
    )
    .load(tx.conn())
    .await
}
