//! Holds: seats of a session kept for a signed-in customer for the service's `hold_minutes` while
//! they check out. Taking one locks the service's calendars (in id order), ends the holds past
//! their time on them, reads the facts of that one start and takes the seats the engine offers,
//! so two holds of one slot are decided one after the other and the database's constraints back
//! the decision (the claims' exclusion constraint, the seat counter's check). A refused hold says
//! why: TOO_SOON, TOO_FAR_AHEAD, OUTSIDE_HOURS, SLOT_TAKEN or CAPACITY_FULL.
//!
//! A hold ends as RELEASED (by its customer), EXPIRED (its job at `expires_at`; reads stop
//! counting it at that instant) or CONVERTED (checkout made it a booking).

pub mod graphql;
pub mod jobs;
pub mod lines;
pub mod series;

use crate::availability;
use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::ids::{CalendarId, HoldId, ServiceId, SessionId, UserId};
use crate::services::Service;
use crate::sessions;
use crate::slots::{Choice, Interval};
use crate::waitlist;
use chrono::{DateTime, Duration, Utc};
use cityos_core::RequestContext;
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{Array, Integer, Nullable, Text as SqlText, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Where a hold is.
    #[graphql(name = "BookingHoldStatus")]
    pub enum HoldStatus {
        /// Keeps its seats until it expires.
        Held = "HELD",
        /// Given back by its customer.
        Released = "RELEASED",
        /// Ran out of time.
        Expired = "EXPIRED",
        /// Became a booking at checkout.
        Converted = "CONVERTED",
    }
    transitions {
        Held -> Released | Expired | Converted,
    }
}

/// The most live holds one customer keeps in a tenant: a year of weekly occurrences and a few
/// more, and not every slot of a clinic.
pub const MAX_LIVE: i64 = 60;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Refuses `adding` more holds for `customer` past [`MAX_LIVE`] live ones, under a lock of the
/// customer's holds for the transaction, so racing holds cannot pass it together.
pub async fn check_quota(tx: &mut TenantTx<'_>, customer: UserId, adding: i64) -> Outcome<()> {
    let key = format!("bookings.holds:{customer}");
    Prepared(
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))").bind::<SqlText, _>(key),
    )
    .execute(tx.conn())
    .await?;
    let live: Vec<Count> = Prepared(
        diesel::sql_query(
            "SELECT count(*) AS n FROM bookings.holds WHERE customer_id = $1 AND status = 'HELD' AND expires_at > now()",
        )
        .bind::<SqlUuid, _>(customer),
    )
    .load(tx.conn())
    .await?;
    let live = live.into_iter().next().map_or(0, |c| c.n);
    if live + adding > MAX_LIVE {
        return Err(refusal(
            "serviceId",
            Code::TooManyHolds,
            format!("a customer keeps at most {MAX_LIVE} live holds; {live} are live"),
        ));
    }
    Ok(())
}

/// A hold, with its session's time and calendars.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    #[diesel(sql_type = SqlUuid)]
    pub id: HoldId,
    #[diesel(sql_type = SqlUuid)]
    pub session_id: SessionId,
    #[diesel(sql_type = SqlUuid)]
    pub service_id: ServiceId,
    #[diesel(sql_type = Integer)]
    pub seats: i32,
    #[diesel(sql_type = SqlUuid)]
    pub customer_id: UserId,
    #[diesel(sql_type = SqlText)]
    pub status: HoldStatus,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub resource_id: Option<CalendarId>,
}

impl Hold {
    /// Whether it keeps its seats at `now`.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.status == HoldStatus::Held && now < self.expires_at
    }
}

/// What [`Hold`] reads, from [`FROM`].
const COLUMNS: &str = "h.id, h.session_id, h.service_id, h.seats, h.customer_id, h.status,
        h.expires_at, s.starts_at, s.ends_at, s.provider_id, s.resource_id";
/// Holds `h` with their sessions `s`.
const FROM: &str = "FROM bookings.holds h
    JOIN bookings.sessions s ON s.tenant_id = h.tenant_id AND s.id = h.session_id";

pub use crate::availability::Wanted;

/// Holds `wanted` for the signed-in caller.
pub async fn hold(db: &Database, ctx: &RequestContext, wanted: Wanted) -> Outcome<Hold> {
    let customer = ctx.user_id()?;
    db.recorded(ctx, "booking_hold.create", async move |tx| {
        if !(1..=1000).contains(&wanted.seats) {
            return Err(refusal("seats", Code::InvalidRule, "hold 1 to 1,000 seats"));
        }
        let Some(service) = availability::active_service(tx, wanted.service).await? else {
            return Err(crate::scope::no_such_service("serviceId"));
        };
        check_quota(tx, customer, 1).await?;
        let now = Utc::now();
        let session = place(tx, &service, wanted, now).await?;
        let id = HoldId::new();
        let expires_at = now + Duration::minutes(i64::from(service.settings.hold_minutes));
        insert(
            tx,
            (id, session, &service),
            wanted.seats,
            customer,
            expires_at,
        )
        .await?;
        let hold = by_ids(tx, &[id])
            .await?
            .remove(&id)
            .ok_or_else(|| cityos_core::ApiError::internal("a hold just made is missing"))?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "serviceId": service.id, "start": wanted.start,
            "providerId": hold.provider_id, "seats": wanted.seats }),
        );
        Ok((hold, audit))
    })
    .await
}

/// Takes the seats `wanted` asks of `service` in the caller's transaction: locks the service's
/// calendars in id order, ends the holds past their time on them, reads the facts of that one
/// start and takes the seats of the engine's first choice; why not, when it cannot.
pub async fn place(
    tx: &mut TenantTx<'_>,
    service: &Service,
    wanted: Wanted,
    now: DateTime<Utc>,
) -> Outcome<SessionId> {
    let links = availability::links(tx, service.id).await?;
    if let Some(p) = wanted.provider
        && !links.contains(&(p, crate::calendars::CalendarKind::Provider))
    {
        return Err(refusal(
            "providerId",
            Code::NotFound,
            "the provider does not perform this service",
        ));
    }
    let ids: Vec<CalendarId> = links.iter().map(|(id, _)| *id).collect();
    sessions::lock_calendars(tx, &ids).await?;
    let rules = service.settings.rules();
    let window = Interval::new(wanted.start, wanted.start + Duration::minutes(1));
    waitlist::end_stale(tx, &ids, availability::reach(&rules, window)).await?;
    let gathered = availability::gather(tx, service, window, wanted.provider).await?;
    let found = gathered.slots(now, wanted.seats);
    let Some(choice) = found
        .iter()
        .find(|s| s.start == wanted.start)
        .and_then(|s| <[Choice<CalendarId>]>::first(&s.options).copied())
    else {
        return Err(availability::why_not(&gathered, service, wanted, now));
    };
    take(tx, service, wanted.start, &choice, wanted.seats).await
}

/// Accepts a waitlist offer of the signed-in customer's: its seats become a hold they check out,
/// for the service's hold minutes from now.
pub async fn accept_offer(
    db: &Database,
    ctx: &RequestContext,
    entry: crate::ids::WaitlistEntryId,
) -> Outcome<Hold> {
    let customer = ctx.user_id()?;
    db.recorded(ctx, "booking_waitlist.accept", async move |tx| {
        check_quota(tx, customer, 1).await?;
        let (session, offer) = waitlist::accept(tx, entry, customer).await?;
        let service = availability::active_service(tx, offer.service_id)
            .await?
            .ok_or_else(|| crate::scope::no_such_service("id"))?;
        let id = HoldId::new();
        let expires_at = Utc::now() + Duration::minutes(i64::from(service.settings.hold_minutes));
        insert(
            tx,
            (id, session, &service),
            offer.seats,
            customer,
            expires_at,
        )
        .await?;
        let hold = by_ids(tx, &[id])
            .await?
            .remove(&id)
            .ok_or_else(|| cityos_core::ApiError::internal("a hold just made is missing"))?;
        Ok((
            hold,
            Audit::of(id, serde_json::json!({ "waitlistEntryId": entry })),
        ))
    })
    .await
}

async fn insert(
    tx: &mut TenantTx<'_>,
    (id, session, service): (HoldId, SessionId, &Service),
    seats: i32,
    customer: UserId,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "INSERT INTO bookings.holds (tenant_id, id, session_id, service_id, seats, customer_id, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(session)
        .bind::<SqlUuid, _>(service.id)
        .bind::<Integer, _>(seats)
        .bind::<SqlUuid, _>(customer)
        .bind::<Timestamptz, _>(expires_at),
    )
    .execute(tx.conn())
    .await?;
    jobs::schedule(tx, id, expires_at).await
}

/// Takes the seats `choice` offers at `start`.
async fn take(
    tx: &mut TenantTx<'_>,
    service: &Service,
    start: DateTime<Utc>,
    choice: &Choice<CalendarId>,
    seats: i32,
) -> Outcome<SessionId> {
    let rules = service.settings.rules();
    sessions::take(
        tx,
        service.id,
        (start, start + rules.duration),
        choice,
        rules.claim(start),
        seats,
    )
    .await
}

/// Gives a live hold's seats back (its customer, or staff).
pub async fn release(db: &Database, ctx: &RequestContext, id: HoldId) -> Outcome<Hold> {
    let caller = ctx.user_id()?;
    let staff = ctx.is_staff();
    db.recorded(ctx, "booking_hold.release", async move |tx| {
        let hold = lock(tx, id)
            .await?
            .filter(|h| staff || h.customer_id == caller);
        let Some(hold) = hold else {
            return Err(refusal("id", Code::NotFound, "no such hold"));
        };
        if hold.status != HoldStatus::Held {
            return Err(refusal(
                "id",
                Code::HoldExpired,
                "the hold has ended already",
            ));
        }
        let ended = end(tx, &hold, HoldStatus::Released).await?;
        Ok((ended, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// Releases hold `id` of `customer` in the caller's transaction (orders, when a cart's booking
/// line is taken out) if it is still HELD: its seats go back, or to the waitlist. Whether it was;
/// a hold that ended already or is someone else's is left as it is.
pub async fn release_for(tx: &mut TenantTx<'_>, id: HoldId, customer: UserId) -> QueryResult<bool> {
    match lock(tx, id).await? {
        Some(hold) if hold.customer_id == customer && hold.status == HoldStatus::Held => {
            end(tx, &hold, HoldStatus::Released).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Hold `id`, locked.
pub async fn lock(tx: &mut TenantTx<'_>, id: HoldId) -> QueryResult<Option<Hold>> {
    let found: Vec<Hold> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} {FROM} WHERE h.id = $1 FOR UPDATE OF h"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    Ok(found.into_iter().next())
}

/// Ends a HELD hold as `to`, giving its seats back unless it became a booking (whose seats they
/// then are).
pub async fn end(tx: &mut TenantTx<'_>, hold: &Hold, to: HoldStatus) -> QueryResult<Hold> {
    Prepared(
        diesel::sql_query("UPDATE bookings.holds SET status = $2, ended_at = now() WHERE id = $1")
            .bind::<SqlUuid, _>(hold.id)
            .bind::<SqlText, _>(to),
    )
    .execute(tx.conn())
    .await?;
    if to != HoldStatus::Converted {
        waitlist::release(tx, hold.session_id, hold.seats).await?;
    }
    jobs::cancel(tx, hold.id).await?;
    Ok(Hold {
        status: to,
        ..hold.clone()
    })
}

/// Holds by id.
pub async fn by_ids(tx: &mut TenantTx<'_>, ids: &[HoldId]) -> QueryResult<HashMap<HoldId, Hold>> {
    let rows: Vec<Hold> = Prepared(
        diesel::sql_query(format!("SELECT {COLUMNS} {FROM} WHERE h.id = ANY ($1)"))
            .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|h| (h.id, h)).collect())
}
