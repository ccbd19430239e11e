//! Sessions: a service at one start with its provider and resource. A session counts the seats its
//! live holds and bookings take (a locked counter that never passes its capacity), and while any
//! is taken it claims its calendars' time with the service's buffers, so the exclusion constraint
//! on claims refuses any other session, hold or block over it. Seats are taken and given back only
//! here, under the session's row lock; the first seat taken inserts the claims and the last one
//! given back deletes them.
//!
//! A hold or a waitlist offer past its time still counts in `seats_taken` until its job ends it;
//! reads never count it ([`STALE`]), and a writer ends such holds and offers on the
//! calendars it is about to claim before it looks (`waitlist::end_stale`). Seats given back go
//! to the slot's waitlist first (`waitlist::release`).

use crate::errors::{BookingsErrorCode as Code, Failure, NO_OVERLAP, Outcome, UserError, refusal};
use crate::ids::{CalendarId, ServiceId, SessionId};
use crate::slots::{self, Choice, Interval};
use chrono::{DateTime, Utc};
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{Array, Integer, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// The seats of holds and waitlist offers past their time that their jobs have not ended yet,
/// by session: `seats_taken` less these is what still counts. A common table expression for the
/// reads below, so a read pays one small scan (such holds and offers are few and short-lived)
/// rather than a lookup per session.
pub(crate) const STALE: &str = "stale AS (
    SELECT session_id, sum(seats)::integer AS seats FROM (
        SELECT session_id, seats FROM bookings.holds WHERE status = 'HELD' AND expires_at <= now()
        UNION ALL
        SELECT session_id, seats FROM bookings.waitlist WHERE status = 'OFFERED' AND offer_expires_at <= now()
    ) x GROUP BY session_id)";

/// A session as the engine reads it.
#[derive(diesel::QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    #[diesel(sql_type = SqlUuid)]
    pub id: SessionId,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resource_id: Option<CalendarId>,
    #[diesel(sql_type = Integer)]
    pub capacity: i32,
    /// Seats its live holds and bookings take.
    #[diesel(sql_type = Integer)]
    pub live: i32,
}

impl Live {
    pub fn fact(&self) -> slots::Session<CalendarId> {
        slots::Session {
            start: self.starts_at,
            provider: self.provider_id,
            resource: self.resource_id,
            seats_left: self.capacity - self.live,
        }
    }
}

/// The service's sessions starting in `window` with seats taken.
pub async fn of_service(
    tx: &mut TenantTx<'_>,
    service: ServiceId,
    window: Interval,
) -> QueryResult<Vec<Live>> {
    Prepared(
        diesel::sql_query(format!(
            "WITH {STALE}
             SELECT id, starts_at, provider_id, resource_id, capacity, live FROM (
                 SELECT s.id, s.starts_at, s.provider_id, s.resource_id, s.capacity,
                        s.seats_taken - coalesce(stale.seats, 0) AS live
                 FROM bookings.sessions s LEFT JOIN stale ON stale.session_id = s.id
                 WHERE s.service_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 AND s.seats_taken > 0
             ) s WHERE live > 0 ORDER BY starts_at"
        ))
        .bind::<SqlUuid, _>(service)
        .bind::<Timestamptz, _>(window.start)
        .bind::<Timestamptz, _>(window.end),
    )
    .load(tx.conn())
    .await
}

#[derive(diesel::QueryableByName)]
struct Load {
    #[diesel(sql_type = SqlUuid)]
    provider_id: CalendarId,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
}

/// The starts of the live sessions of `providers` (any service's) in `window`, for round robin.
pub async fn provider_starts(
    tx: &mut TenantTx<'_>,
    providers: &[CalendarId],
    window: Interval,
) -> QueryResult<Vec<(CalendarId, DateTime<Utc>)>> {
    let rows: Vec<Load> = Prepared(
        diesel::sql_query(format!(
            "WITH {STALE}
             SELECT s.provider_id, s.starts_at FROM bookings.sessions s LEFT JOIN stale ON stale.session_id = s.id
             WHERE s.provider_id = ANY ($1) AND s.starts_at >= $2 AND s.starts_at < $3
               AND s.seats_taken - coalesce(stale.seats, 0) > 0"
        ))
        .bind::<Array<SqlUuid>, _>(providers)
        .bind::<Timestamptz, _>(window.start)
        .bind::<Timestamptz, _>(window.end),
    )
    .load(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.provider_id, r.starts_at))
        .collect())
}

/// Locks calendars for a change of their claims, in id order (so two writers never wait on each
/// other in a circle).
pub async fn lock_calendars(tx: &mut TenantTx<'_>, ids: &[CalendarId]) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "SELECT id FROM bookings.calendars WHERE id = ANY ($1) ORDER BY id FOR UPDATE",
        )
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: SessionId,
    #[diesel(sql_type = Integer)]
    capacity: i32,
    #[diesel(sql_type = Integer)]
    seats_taken: i32,
}

/// Takes `seats` of the session `choice` names at `start` (made if it is new, with the seats
/// `choice` offers), claiming its calendars over `claim` when it had none taken:
/// SLOT_TAKEN when another claim is there (the exclusion constraint says so, whatever was read
/// before), CAPACITY_FULL when too few seats are left.
pub async fn take(
    tx: &mut TenantTx<'_>,
    service: ServiceId,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    choice: &Choice<CalendarId>,
    claim: Interval,
    seats: i32,
) -> Outcome<SessionId> {
    Prepared(
        diesel::sql_query(
            "INSERT INTO bookings.sessions
                 (tenant_id, id, service_id, provider_id, resource_id, starts_at, ends_at, capacity)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT ON CONSTRAINT sessions_slot DO NOTHING",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(SessionId::new())
        .bind::<SqlUuid, _>(service)
        .bind::<Nullable<SqlUuid>, _>(choice.provider)
        .bind::<Nullable<SqlUuid>, _>(choice.resource)
        .bind::<Timestamptz, _>(start)
        .bind::<Timestamptz, _>(end)
        .bind::<Integer, _>(choice.seats_left.max(1)),
    )
    .execute(tx.conn())
    .await?;
    let found: Vec<Row> = Prepared(
        diesel::sql_query(
            "SELECT id, capacity, seats_taken FROM bookings.sessions
             WHERE service_id = $1 AND starts_at = $2 AND provider_id IS NOT DISTINCT FROM $3
               AND resource_id IS NOT DISTINCT FROM $4
             FOR UPDATE",
        )
        .bind::<SqlUuid, _>(service)
        .bind::<Timestamptz, _>(start)
        .bind::<Nullable<SqlUuid>, _>(choice.provider)
        .bind::<Nullable<SqlUuid>, _>(choice.resource),
    )
    .load(tx.conn())
    .await?;
    let session = found
        .into_iter()
        .next()
        .ok_or_else(|| cityos_core::ApiError::internal("a session just made is missing"))?;
    if session.seats_taken + seats > session.capacity {
        return Err(full(session.capacity));
    }
    if session.seats_taken == 0 {
        let calendars: Vec<CalendarId> = [choice.provider, choice.resource]
            .into_iter()
            .flatten()
            .collect();
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.claims (tenant_id, id, calendar_id, during, session_id)
                 SELECT $1, gen_random_uuid(), c, tstzrange($3, $4), $5 FROM unnest($2::uuid[]) AS c",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<Array<SqlUuid>, _>(&calendars)
            .bind::<Timestamptz, _>(claim.start)
            .bind::<Timestamptz, _>(claim.end)
            .bind::<SqlUuid, _>(session.id),
        )
        .execute(tx.conn())
        .await
        .map_err(|e| {
            Failure::on_constraint(NO_OVERLAP, e, || {
                UserError::new("start", Code::SlotTaken, "that time was taken meanwhile")
            })
        })?;
    }
    Prepared(
        diesel::sql_query(
            "UPDATE bookings.sessions SET seats_taken = seats_taken + $2 WHERE id = $1",
        )
        .bind::<SqlUuid, _>(session.id)
        .bind::<Integer, _>(seats),
    )
    .execute(tx.conn())
    .await?;
    Ok(session.id)
}

/// The refusal of a session without the seats asked for.
pub fn full(capacity: i32) -> Failure {
    if capacity == 1 {
        refusal("start", Code::SlotTaken, "that slot is taken")
    } else {
        refusal("seats", Code::CapacityFull, "not as many seats are left")
    }
}

/// A session's seats after a change.
#[derive(diesel::QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    #[diesel(sql_type = SqlUuid)]
    pub id: SessionId,
    #[diesel(sql_type = SqlUuid)]
    pub service_id: ServiceId,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Integer)]
    pub capacity: i32,
    #[diesel(sql_type = Integer)]
    pub seats_taken: i32,
}

/// Gives `seats` of a session back, locking it, and keeps its claims: the caller offers the
/// seats to the slot's waitlist first and then drops the claims of a session left with none
/// taken ([`drop_claims_if_unused`]).
pub async fn return_seats(
    tx: &mut TenantTx<'_>,
    session: SessionId,
    seats: i32,
) -> QueryResult<Seats> {
    Prepared(
        diesel::sql_query(
            "UPDATE bookings.sessions SET seats_taken = seats_taken - $2 WHERE id = $1
             RETURNING id, service_id, starts_at, provider_id, capacity, seats_taken",
        )
        .bind::<SqlUuid, _>(session)
        .bind::<Integer, _>(seats),
    )
    .get_result(tx.conn())
    .await
}

/// Takes `seats` more of a locked session that has seats taken (and so its claims).
pub async fn add_seats(tx: &mut TenantTx<'_>, session: SessionId, seats: i32) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "UPDATE bookings.sessions SET seats_taken = seats_taken + $2 WHERE id = $1",
        )
        .bind::<SqlUuid, _>(session)
        .bind::<Integer, _>(seats),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

/// Drops the claims of a session with no seat taken: its time is free again.
pub async fn drop_claims_if_unused(tx: &mut TenantTx<'_>, seats: &Seats) -> QueryResult<()> {
    if seats.seats_taken == 0 {
        Prepared(
            diesel::sql_query("DELETE FROM bookings.claims WHERE session_id = $1")
                .bind::<SqlUuid, _>(seats.id),
        )
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
