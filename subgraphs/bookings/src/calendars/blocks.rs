//! Claims on a calendar's time: `[start, end)` intervals that no two may share on one calendar,
//! which the database holds (`claims_no_overlap`, an exclusion constraint), whatever was checked
//! before. Staff and the calendar's vendor block time here (a meeting, a repair); sessions of
//! services claim their time with their buffers the same way.

use crate::calendars::lock;
use crate::errors::{BookingsErrorCode as Code, Failure, NO_OVERLAP, Outcome, UserError, refusal};
use crate::ids::{CalendarId, ClaimId};
use crate::scope::Writer;
use crate::slots::Interval;
use chrono::{DateTime, Duration, Utc};
use cityos_core::RequestContext;
use cityos_core::text::Text;
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{Array, Nullable, Text as SqlText, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The longest block: a year.
pub const MAX_BLOCK: Duration = Duration::days(366);

/// Time blocked on a calendar, or (with no reason) claimed by a session.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    #[diesel(sql_type = SqlUuid)]
    pub id: ClaimId,
    #[diesel(sql_type = SqlUuid)]
    pub calendar_id: CalendarId,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub reason: Option<String>,
}

impl Claim {
    pub fn interval(&self) -> Interval {
        Interval::new(self.starts_at, self.ends_at)
    }
}

const COLUMNS: &str =
    "id, calendar_id, lower(during) AS starts_at, upper(during) AS ends_at, reason";

/// Blocks `[from, to)` on a calendar: SLOT_TAKEN when anything claims part of it already.
pub async fn block(
    db: &Database,
    ctx: &RequestContext,
    calendar: CalendarId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    reason: Option<String>,
) -> Outcome<Claim> {
    let writer = Writer::of(ctx)?;
    let by = ctx.user_id().ok();
    db.recorded(ctx, "booking_calendar.block", async move |tx| {
        if to <= from || to - from > MAX_BLOCK {
            return Err(refusal(
                "to",
                Code::InvalidPeriod,
                "a block ends after it starts, within a year",
            ));
        }
        let reason = Text::<500>::parse_optional(reason.as_deref())
            .map_err(|e| e.refusal("reason"))?
            .map_or_else(|| "Blocked".to_owned(), Text::into_inner);
        lock(tx, writer, calendar, "calendarId").await?;
        let id = ClaimId::new();
        let rows: Vec<Claim> = Prepared(
            diesel::sql_query(format!(
                "INSERT INTO bookings.claims (tenant_id, id, calendar_id, during, reason, created_by)
                 VALUES ($1, $2, $3, tstzrange($4, $5), $6, $7) RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(calendar)
            .bind::<Timestamptz, _>(from)
            .bind::<Timestamptz, _>(to)
            .bind::<SqlText, _>(&reason)
            .bind::<Nullable<SqlUuid>, _>(by),
        )
        .load(tx.conn())
        .await
        .map_err(|e| {
            Failure::on_constraint(NO_OVERLAP, e, || {
                UserError::new("from", Code::SlotTaken, "that time is claimed already")
            })
        })?;
        let claim = rows
            .into_iter()
            .next()
            .ok_or_else(|| cityos_core::ApiError::internal("insert returned nothing"))?;
        let audit = Audit::of(id, serde_json::json!({ "calendarId": calendar, "from": from, "to": to }));
        Ok((claim, audit))
    })
    .await
}

/// Frees time blocked by [`block`] (never a session's claim: those go with its seats).
pub async fn unblock(db: &Database, ctx: &RequestContext, id: ClaimId) -> Outcome<Claim> {
    let writer = Writer::of(ctx)?;
    db.recorded(ctx, "booking_calendar.unblock", async move |tx| {
        let found: Vec<Claim> = Prepared(
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM bookings.claims WHERE id = $1 AND reason IS NOT NULL"
            ))
            .bind::<SqlUuid, _>(id),
        )
        .load(tx.conn())
        .await?;
        let claim = found
            .into_iter()
            .next()
            .ok_or_else(|| refusal("id", Code::NotFound, "no such block"))?;
        lock(tx, writer, claim.calendar_id, "id").await?;
        Prepared(
            diesel::sql_query("DELETE FROM bookings.claims WHERE id = $1").bind::<SqlUuid, _>(id),
        )
        .execute(tx.conn())
        .await?;
        Ok((claim, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// The claims of calendars that overlap `during`, by calendar and start: blocked time, and the
/// claims of sessions with seats that still count (a session whose holds have all run out claims
/// nothing, even before their expiry job runs).
pub async fn overlapping(
    tx: &mut TenantTx<'_>,
    ids: &[CalendarId],
    during: Interval,
) -> QueryResult<HashMap<CalendarId, Vec<Claim>>> {
    let rows: Vec<Claim> = Prepared(
        diesel::sql_query(format!(
            "WITH {stale}
             SELECT {COLUMNS} FROM bookings.claims
             WHERE calendar_id = ANY ($1) AND during && tstzrange($2, $3)
               AND (session_id IS NULL OR session_id NOT IN (
                   SELECT s.id FROM bookings.sessions s JOIN stale ON stale.session_id = s.id
                   WHERE s.seats_taken <= stale.seats))
             ORDER BY calendar_id, lower(during)",
            stale = crate::sessions::STALE
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(during.start)
        .bind::<Timestamptz, _>(during.end),
    )
    .load(tx.conn())
    .await?;
    let mut by: HashMap<CalendarId, Vec<Claim>> = HashMap::new();
    for c in rows {
        by.entry(c.calendar_id).or_default().push(c);
    }
    Ok(by)
}
