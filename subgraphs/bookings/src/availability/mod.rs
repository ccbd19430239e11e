//! Availability: the facts of one service over a window gathered in a constant number of
//! statements (its calendars, their hours, overrides and claims, the tenant's holidays), then the
//! pure engine ([`crate::slots`]) turns them into bookable slots, grouped by local date in the time zone
//! the caller asked for.

pub mod graphql;

use crate::calendars::blocks;
use crate::calendars::{self, Calendar, CalendarKind};
use crate::ids::{CalendarId, ServiceId};
use crate::services::{self, Service, ServiceStatus};
use crate::slots::{self, Facts, Interval, Slot};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use cityos_core::ApiError;
use cityos_db::TenantTx;
use std::collections::BTreeSet;

/// The most days one question spans.
pub const MAX_DAYS: i64 = 62;

/// What a caller asks: a service's slots on local dates `from..=to` in `zone`.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub service: ServiceId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: Tz,
    /// Only this provider's slots.
    pub provider: Option<CalendarId>,
    /// The seats wanted (a party's size).
    pub seats: i32,
}

/// A service's slots, by local date of the asked zone.
#[derive(Debug, Clone)]
pub struct Found {
    pub service: Service,
    pub zone: Tz,
    pub days: Vec<(NaiveDate, Vec<Slot<CalendarId>>)>,
}

/// The instants local dates `from..=to` in `zone` span.
pub fn window(zone: Tz, from: NaiveDate, to: NaiveDate) -> Interval {
    let midnight = |d: NaiveDate| slots::instant(zone, d.and_time(chrono::NaiveTime::MIN), true);
    Interval::new(midnight(from), midnight(to + Duration::days(1)))
}

/// The providers and resources a service takes, each with its facts over `reach`, the inactive
/// ones left out; `None` when a kind it takes has none left (it cannot be booked).
async fn calendars_of(
    tx: &mut TenantTx<'_>,
    service: &Service,
    reach: Interval,
    only: Option<CalendarId>,
) -> Result<Option<Takes>, ApiError> {
    let links = services::calendars_of(tx, &[service.id])
        .await?
        .remove(&service.id)
        .unwrap_or_default();
    let ids: Vec<CalendarId> = links.iter().map(|(id, _)| *id).collect();
    if let Some(p) = only
        && !links.contains(&(p, CalendarKind::Provider))
    {
        return Err(ApiError::not_found(
            "the provider does not perform this service",
        ));
    }
    let rows = calendars::by_ids(tx, &ids).await?;
    let mut weekly = calendars::weekly(tx, &ids).await?;
    // Local dates differ from UTC ones by less than a day either way.
    let first = reach.start.date_naive() - Duration::days(2);
    let last = reach.end.date_naive() + Duration::days(2);
    let mut overrides = calendars::overrides(tx, &ids, first, last).await?;
    let mut claims = blocks::overlapping(tx, &ids, reach).await?;
    let needs = |kind| links.iter().any(|(_, k)| *k == kind);
    let (needs_provider, needs_resource) =
        (needs(CalendarKind::Provider), needs(CalendarKind::Resource));
    let (mut providers, mut resources) = (Vec::new(), Vec::new());
    for (id, kind) in links {
        let Some(row) = rows.get(&id).filter(|c| c.active) else {
            continue;
        };
        if kind == CalendarKind::Provider && only.is_some_and(|p| p != id) {
            continue;
        }
        let calendar = facts_of(
            row,
            weekly.remove(&id).unwrap_or_default(),
            overrides.remove(&id).unwrap_or_default(),
            claims.remove(&id).unwrap_or_default(),
        )?;
        match kind {
            CalendarKind::Provider => providers.push(calendar),
            CalendarKind::Resource => resources.push(calendar),
        }
    }
    if needs_provider && providers.is_empty()
        || needs_resource && resources.is_empty()
        || !(needs_provider || needs_resource)
    {
        return Ok(None);
    }
    Ok(Some((providers, resources)))
}

/// A service's providers and resources as the engine reads them.
type Takes = (
    Vec<slots::Calendar<CalendarId>>,
    Vec<slots::Calendar<CalendarId>>,
);

fn facts_of(
    row: &Calendar,
    weekly: [Vec<slots::Span>; 7],
    overrides: std::collections::BTreeMap<NaiveDate, calendars::DateOverride>,
    claims: Vec<blocks::Claim>,
) -> Result<slots::Calendar<CalendarId>, ApiError> {
    Ok(slots::Calendar {
        id: row.id,
        zone: row.zone()?,
        weekly,
        overrides: overrides.into_iter().map(|(d, o)| (d, o.spans)).collect(),
        seats: row.seats,
        claims: claims.iter().map(blocks::Claim::interval).collect(),
        booked: Vec::new(),
    })
}

/// The slots of `asked` as of `now`; `None` for a service that does not exist or is archived.
pub async fn find(
    tx: &mut TenantTx<'_>,
    asked: Asked,
    now: DateTime<Utc>,
) -> Result<Option<Found>, ApiError> {
    if asked.to < asked.from || (asked.to - asked.from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_input(format!(
            "ask for 1 to {MAX_DAYS} days, `to` not before `from`"
        )));
    }
    if !(1..=1000).contains(&asked.seats) {
        return Err(ApiError::bad_input("seats is 1 to 1,000"));
    }
    let Some(service) = services::by_ids(tx, &[asked.service])
        .await?
        .remove(&asked.service)
        .filter(|s| s.status == ServiceStatus::Active)
    else {
        return Ok(None);
    };
    let rules = service.settings.rules();
    let window = window(asked.zone, asked.from, asked.to);
    // Claims that reach a slot of the window: its service time and buffers.
    let reach = Interval::new(
        window.start - rules.buffer_after - rules.duration,
        window.end + rules.duration + rules.buffer_before + rules.buffer_after,
    );
    let takes = calendars_of(tx, &service, reach, asked.provider).await?;
    let holidays: BTreeSet<NaiveDate> = calendars::holidays(
        tx,
        reach.start.date_naive() - Duration::days(2),
        reach.end.date_naive() + Duration::days(2),
    )
    .await?
    .into_iter()
    .map(|h| h.on_date)
    .collect();
    let found = match &takes {
        None => Vec::new(),
        Some((providers, resources)) => slots::slots(&Facts {
            rules,
            now,
            window,
            providers,
            resources,
            holidays: &holidays,
            sessions: &[],
            seats: asked.seats,
        }),
    };
    let mut days: Vec<(NaiveDate, Vec<Slot<CalendarId>>)> = Vec::new();
    for slot in found {
        let day = slot.start.with_timezone(&asked.zone).date_naive();
        match days.last_mut() {
            Some((d, list)) if *d == day => list.push(slot),
            _ => days.push((day, vec![slot])),
        }
    }
    Ok(Some(Found {
        service,
        zone: asked.zone,
        days,
    }))
}
