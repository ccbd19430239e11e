//! The calendar view of staff and providers: the bookings (not cancelled) and blocked time of
//! some providers and resources over a day or a week, in three statements whatever their number.

use super::{Booking, COLUMNS};
use crate::calendars::blocks::Claim;
use crate::calendars::{self, Calendar};
use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::ids::CalendarId;
use crate::scope::Writer;
use chrono::{DateTime, Duration, Utc};
use cityos_core::RequestContext;
use cityos_db::{Prepared, TenantTx};
use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// The longest span one view shows.
pub const MAX_SPAN: Duration = Duration::days(31);

/// One calendar's part of the view.
#[derive(Debug, Clone)]
pub struct Column {
    pub calendar: Calendar,
    pub bookings: Vec<Booking>,
    pub blocks: Vec<Claim>,
}

/// The view of `ids` over `[from, to)` for `ctx`: staff, the calendars' vendor's managers, or the
/// provider whose calendar it is; NOT_FOUND names a calendar the caller may not see.
pub async fn view(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    ids: &[CalendarId],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Outcome<Vec<Column>> {
    if to <= from || to - from > MAX_SPAN {
        return Err(refusal(
            "to",
            Code::InvalidPeriod,
            "a view spans up to 31 days, ending after it starts",
        ));
    }
    if ids.is_empty() || ids.len() > 50 {
        return Err(refusal(
            "calendarIds",
            Code::InvalidRule,
            "view 1 to 50 providers and resources",
        ));
    }
    let writer = Writer::of(ctx).ok();
    let user = ctx.user_id().ok();
    let mut found = calendars::by_ids(tx, ids).await?;
    let mut columns = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let seen = found.get(id).is_some_and(|c| {
            writer.is_some_and(|w| w.may_touch(c.vendor_id))
                || (user.is_some() && c.user_id == user)
        });
        let Some(calendar) = found.remove(id).filter(|_| seen) else {
            return Err(refusal(
                &format!("calendarIds.{i}"),
                Code::NotFound,
                "no such provider or resource",
            ));
        };
        columns.push(Column {
            calendar,
            bookings: Vec::new(),
            blocks: Vec::new(),
        });
    }
    let bookings: Vec<Booking> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM bookings.bookings
             WHERE (provider_id = ANY ($1) OR resource_id = ANY ($1)) AND status <> 'CANCELLED'
               AND starts_at < $3 AND ends_at > $2
             ORDER BY starts_at, id"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to),
    )
    .load(tx.conn())
    .await?;
    let blocks: Vec<Claim> = Prepared(
        diesel::sql_query(
            "SELECT id, calendar_id, lower(during) AS starts_at, upper(during) AS ends_at, reason
             FROM bookings.claims
             WHERE calendar_id = ANY ($1) AND reason IS NOT NULL AND during && tstzrange($2, $3)
             ORDER BY lower(during), id",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to),
    )
    .load(tx.conn())
    .await?;
    for c in &mut columns {
        let id = Some(c.calendar.id);
        c.bookings = bookings
            .iter()
            .filter(|b| b.provider_id == id || b.resource_id == id)
            .cloned()
            .collect();
        c.blocks = blocks
            .iter()
            .filter(|b| Some(b.calendar_id) == id)
            .cloned()
            .collect();
    }
    Ok(columns)
}
