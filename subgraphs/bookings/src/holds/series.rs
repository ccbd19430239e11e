//! Recurring holds: the same local time in a time zone every N weeks (1 to 4) for 2 to 52
//! occurrences, in one transaction under the service's calendar locks. All or nothing refuses
//! the series at the first occurrence that cannot be held (naming it); skipping conflicts holds
//! the rest and says, per occurrence, why one was skipped. Each occurrence is a hold of its own,
//! checked out (and then booked, cancelled or moved) on its own.

use super::{Hold, HoldId, Wanted, by_ids, insert, place};
use crate::availability;
use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::ids::SeriesId;
use crate::slots;
use chrono::{DateTime, Duration, Utc};
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared};
use diesel::sql_types::{Bool, Integer, Text as SqlText, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// What a customer asks to hold again and again.
#[derive(Debug, Clone)]
pub struct Recurring {
    /// The first occurrence.
    pub first: Wanted,
    pub every_weeks: i32,
    pub occurrences: i32,
    /// The zone whose wall time repeats (across its clock changes).
    pub time_zone: String,
    pub skip_conflicts: bool,
}

/// What happened to one occurrence.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    /// Its hold; none when it was skipped.
    pub hold: Option<Hold>,
    /// Why it was skipped.
    pub skipped: Option<Code>,
}

/// A series as held.
#[derive(Debug, Clone)]
pub struct Series {
    pub id: SeriesId,
    pub occurrences: Vec<Occurrence>,
}

/// The starts of `r`: its first start's wall time in `zone`, every `every_weeks` weeks.
pub fn starts(
    first: DateTime<Utc>,
    zone: chrono_tz::Tz,
    every_weeks: i32,
    occurrences: i32,
) -> Vec<DateTime<Utc>> {
    let local = first.with_timezone(&zone).naive_local();
    (0..occurrences)
        .map(|k| {
            slots::instant(
                zone,
                local + Duration::weeks(i64::from(every_weeks * k)),
                true,
            )
        })
        .collect()
}

/// Holds the occurrences of `r` for the signed-in customer.
pub async fn hold_series(db: &Database, ctx: &RequestContext, r: Recurring) -> Outcome<Series> {
    let customer = ctx.user_id()?;
    db.recorded(ctx, "booking_series.hold", async move |tx| {
        if !(1..=4).contains(&r.every_weeks) {
            return Err(refusal("everyWeeks", Code::InvalidRule, "a series repeats every 1 to 4 weeks"));
        }
        if !(2..=52).contains(&r.occurrences) {
            return Err(refusal("occurrences", Code::InvalidRule, "a series has 2 to 52 occurrences"));
        }
        if !(1..=1000).contains(&r.first.seats) {
            return Err(refusal("seats", Code::InvalidRule, "hold 1 to 1,000 seats"));
        }
        let zone = crate::calendars::hours::zone(&r.time_zone, "timeZone")?;
        super::check_quota(tx, customer, i64::from(r.occurrences)).await?;
        let service = availability::active_service(tx, r.first.service)
            .await?
            .ok_or_else(|| crate::scope::no_such_service("serviceId"))?;
        let id = SeriesId::new();
        Prepared(
            diesel::sql_query(
                "INSERT INTO bookings.series (tenant_id, id, service_id, customer_id, every_weeks, occurrences, time_zone, skip_conflicts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(service.id)
            .bind::<SqlUuid, _>(customer)
            .bind::<Integer, _>(r.every_weeks)
            .bind::<Integer, _>(r.occurrences)
            .bind::<SqlText, _>(zone.name())
            .bind::<Bool, _>(r.skip_conflicts),
        )
        .execute(tx.conn())
        .await?;
        let now = Utc::now();
        let expires_at = now + Duration::minutes(i64::from(service.settings.hold_minutes));
        let mut occurrences = Vec::new();
        let mut held = Vec::new();
        for (k, start) in starts(r.first.start, zone, r.every_weeks, r.occurrences).into_iter().enumerate() {
            let wanted = Wanted { start, ..r.first };
            match place(tx, &service, wanted, now).await {
                Ok(session) => {
                    let hold = HoldId::new();
                    insert(tx, (hold, session, &service), wanted.seats, customer, expires_at).await?;
                    held.push(hold);
                    occurrences.push(Occurrence { start, hold: None, skipped: None });
                }
                Err(Failure::User(e)) if r.skip_conflicts => {
                    occurrences.push(Occurrence { start, hold: None, skipped: Some(e.code) });
                }
                Err(Failure::User(e)) => {
                    return Err(refusal(
                        &format!("occurrences.{k}"),
                        e.code,
                        format!("the occurrence at {start} cannot be held: {}", e.message),
                    ));
                }
                Err(other) => return Err(other),
            }
        }
        if held.is_empty() {
            return Err(refusal("start", Code::SlotTaken, "no occurrence of the series can be held"));
        }
        Prepared(
            diesel::sql_query("UPDATE bookings.holds SET series_id = $2 WHERE id = ANY ($1)")
                .bind::<diesel::sql_types::Array<SqlUuid>, _>(&held)
                .bind::<SqlUuid, _>(id),
        )
        .execute(tx.conn())
        .await?;
        let mut found = by_ids(tx, &held).await?;
        let mut held = held.into_iter();
        for o in occurrences.iter_mut().filter(|o| o.skipped.is_none()) {
            o.hold = held.next().and_then(|h| found.remove(&h));
        }
        let audit = Audit::of(id, serde_json::json!({ "serviceId": service.id, "occurrences": r.occurrences,
            "held": occurrences.iter().filter(|o| o.hold.is_some()).count() }));
        Ok((Series { id, occurrences }, audit))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weekly_series_keeps_its_wall_time_across_the_clock_change() {
        let first = DateTime::parse_from_rfc3339("2027-03-21T08:00:00Z")
            .expect("an instant")
            .with_timezone(&Utc);
        let found = starts(first, chrono_tz::Europe::Berlin, 1, 3);
        let local: Vec<String> = found
            .iter()
            .map(|s| {
                s.with_timezone(&chrono_tz::Europe::Berlin)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            local,
            ["2027-03-21 09:00", "2027-03-28 09:00", "2027-04-04 09:00"]
        );
        assert_eq!(found[1].to_rfc3339(), "2027-03-28T07:00:00+00:00");
        let fortnightly = starts(first, chrono_tz::Asia::Riyadh, 2, 2);
        assert_eq!(fortnightly[1] - fortnightly[0], Duration::weeks(2));
    }
}
