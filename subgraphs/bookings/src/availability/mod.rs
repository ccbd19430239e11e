//! Availability: the facts of one service over a window gathered in a constant number of
//! statements (its calendars, their hours, overrides and claims, its sessions with seats, the
//! providers' week loads, the tenant's holidays), then the pure engine ([`crate::slots`]) turns
//! them into bookable slots, grouped by local date in the time zone the caller asked for. Holds
//! read the same facts, under their calendars' locks, for the one start they take.

pub mod graphql;

use crate::calendars::blocks;
use crate::calendars::{self, Calendar, CalendarKind};
use crate::errors::{BookingsErrorCode as Code, refusal};
use crate::ids::{CalendarId, ServiceId};
use crate::services::{self, Service, ServiceStatus};
use crate::sessions;
use crate::slots::{self, Facts, Interval, Rules, Slot};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use cityos_core::ApiError;
use cityos_db::TenantTx;
use std::collections::{BTreeSet, HashMap};

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
    /// The service's active providers and resources, by id.
    pub calendars: HashMap<CalendarId, Calendar>,
}

/// The instants local dates `from..=to` in `zone` span.
pub fn window(zone: Tz, from: NaiveDate, to: NaiveDate) -> Interval {
    let midnight = |d: NaiveDate| slots::instant(zone, d.and_time(chrono::NaiveTime::MIN), true);
    Interval::new(midnight(from), midnight(to + Duration::days(1)))
}

/// Everything the engine reads of one service over one window.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub rules: Rules,
    pub window: Interval,
    pub providers: Vec<slots::Calendar<CalendarId>>,
    pub resources: Vec<slots::Calendar<CalendarId>>,
    pub holidays: BTreeSet<NaiveDate>,
    pub sessions: Vec<slots::Session<CalendarId>>,
    /// Whether a kind the service takes has no active calendar left (nothing is bookable).
    pub unbookable: bool,
    /// The active calendars read, as stored (what a response shows of them).
    pub rows: HashMap<CalendarId, Calendar>,
}

impl Gathered {
    /// The engine's facts as of `now` for `seats`.
    pub fn facts(&self, now: DateTime<Utc>, seats: i32) -> Facts<'_, CalendarId> {
        Facts {
            rules: self.rules,
            now,
            window: self.window,
            providers: &self.providers,
            resources: &self.resources,
            holidays: &self.holidays,
            sessions: &self.sessions,
            seats,
        }
    }

    /// The bookable slots as of `now` for `seats`.
    pub fn slots(&self, now: DateTime<Utc>, seats: i32) -> Vec<Slot<CalendarId>> {
        if self.unbookable {
            return Vec::new();
        }
        slots::slots(&self.facts(now, seats))
    }

    /// The ids of every calendar read.
    pub fn calendar_ids(&self) -> Vec<CalendarId> {
        self.providers
            .iter()
            .chain(&self.resources)
            .map(|c| c.id)
            .collect()
    }
}

/// The time a claim must keep clear to reach a start in `window`, and the week around it that
/// round robin counts.
pub fn reach(rules: &Rules, window: Interval) -> Interval {
    Interval::new(
        window.start - rules.buffer_after - rules.duration,
        window.end + rules.duration + rules.buffer_before + rules.buffer_after,
    )
}

/// The service's calendars (by kind, the inactive left out), links in the service's order.
pub async fn links(
    tx: &mut TenantTx<'_>,
    service: ServiceId,
) -> Result<Vec<(CalendarId, CalendarKind)>, ApiError> {
    Ok(services::calendars_of(tx, &[service])
        .await?
        .remove(&service)
        .unwrap_or_default())
}

/// Gathers the facts of `service` for starts in `window`, only provider `only` when named (an
/// error when it does not perform the service).
pub async fn gather(
    tx: &mut TenantTx<'_>,
    service: &Service,
    window: Interval,
    only: Option<CalendarId>,
) -> Result<Gathered, ApiError> {
    let rules = service.settings.rules();
    let reach = reach(&rules, window);
    let links = links(tx, service.id).await?;
    if let Some(p) = only
        && !links.contains(&(p, CalendarKind::Provider))
    {
        return Err(ApiError::not_found(
            "the provider does not perform this service",
        ));
    }
    let ids: Vec<CalendarId> = links.iter().map(|(id, _)| *id).collect();
    let mut rows = calendars::by_ids(tx, &ids).await?;
    rows.retain(|_, c| c.active);
    let mut weekly = calendars::weekly(tx, &ids).await?;
    // Local dates differ from UTC ones by less than a day either way.
    let first = reach.start.date_naive() - Duration::days(2);
    let last = reach.end.date_naive() + Duration::days(2);
    let mut overrides = calendars::overrides(tx, &ids, first, last).await?;
    let mut claims = blocks::overlapping(tx, &ids, reach).await?;
    let holidays: BTreeSet<NaiveDate> = calendars::holidays(tx, first, last)
        .await?
        .into_iter()
        .map(|h| h.on_date)
        .collect();
    let sessions: Vec<slots::Session<CalendarId>> = sessions::of_service(tx, service.id, window)
        .await?
        .iter()
        .map(sessions::Live::fact)
        .collect();
    // Round robin counts the ISO weeks around the window.
    let weeks = Interval::new(
        window.start - Duration::days(8),
        window.end + Duration::days(8),
    );
    let providers: Vec<CalendarId> = links
        .iter()
        .filter(|(_, k)| *k == CalendarKind::Provider)
        .map(|(id, _)| *id)
        .collect();
    let loads = sessions::provider_starts(tx, &providers, weeks).await?;

    let needs = |kind| links.iter().any(|(_, k)| *k == kind);
    let (needs_provider, needs_resource) =
        (needs(CalendarKind::Provider), needs(CalendarKind::Resource));
    let (mut providers, mut resources) = (Vec::new(), Vec::new());
    for (id, kind) in &links {
        let Some(row) = rows.get(id).filter(|c| c.active) else {
            continue;
        };
        if *kind == CalendarKind::Provider && only.is_some_and(|p| p != *id) {
            continue;
        }
        let booked = loads
            .iter()
            .filter(|(p, _)| p == id)
            .map(|(_, at)| *at)
            .collect();
        let calendar = facts_of(
            row,
            weekly.remove(id).unwrap_or_default(),
            overrides.remove(id).unwrap_or_default(),
            claims.remove(id).unwrap_or_default(),
            booked,
        )?;
        match kind {
            CalendarKind::Provider => providers.push(calendar),
            CalendarKind::Resource => resources.push(calendar),
        }
    }
    let unbookable = (needs_provider && providers.is_empty())
        || (needs_resource && resources.is_empty())
        || !(needs_provider || needs_resource);
    Ok(Gathered {
        rules,
        window,
        providers,
        resources,
        holidays,
        sessions,
        unbookable,
        rows,
    })
}

fn facts_of(
    row: &Calendar,
    weekly: [Vec<slots::Span>; 7],
    overrides: std::collections::BTreeMap<NaiveDate, calendars::DateOverride>,
    claims: Vec<blocks::Claim>,
    booked: Vec<DateTime<Utc>>,
) -> Result<slots::Calendar<CalendarId>, ApiError> {
    Ok(slots::Calendar {
        id: row.id,
        zone: row.zone()?,
        weekly,
        overrides: overrides.into_iter().map(|(d, o)| (d, o.spans)).collect(),
        seats: row.seats,
        claims: claims.iter().map(blocks::Claim::interval).collect(),
        booked,
    })
}

/// The service `id` if it takes bookings.
pub async fn active_service(
    tx: &mut TenantTx<'_>,
    id: ServiceId,
) -> Result<Option<Service>, ApiError> {
    Ok(services::by_ids(tx, &[id])
        .await?
        .remove(&id)
        .filter(|s| s.status == ServiceStatus::Active))
}

/// What a customer asks to hold (or to wait for).
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub service: ServiceId,
    pub start: DateTime<Utc>,
    /// A provider of the service; none: the round robin's.
    pub provider: Option<CalendarId>,
    pub seats: i32,
}

/// Why `wanted` is not a slot of `gathered` at `now`.
pub fn why_not(
    gathered: &Gathered,
    service: &Service,
    wanted: Wanted,
    now: DateTime<Utc>,
) -> crate::errors::Failure {
    let rules = &gathered.rules;
    if wanted.start < now + rules.notice {
        return refusal(
            "start",
            Code::TooSoon,
            "that start is sooner than the service's notice",
        );
    }
    if wanted.start > now + rules.horizon {
        return refusal(
            "start",
            Code::TooFarAhead,
            "that start is further ahead than the service is booked",
        );
    }
    // With nothing claimed, would it be a slot at all?
    let mut open = gathered.clone();
    open.sessions.clear();
    for c in open.providers.iter_mut().chain(open.resources.iter_mut()) {
        c.claims.clear();
    }
    if !open.slots(now, 1).iter().any(|s| s.start == wanted.start) {
        return refusal(
            "start",
            Code::OutsideHours,
            "that start is not a slot of the service: outside its hours or off its grid",
        );
    }
    let session_there = gathered.sessions.iter().any(|s| {
        s.start == wanted.start && (wanted.provider.is_none() || s.provider == wanted.provider)
    });
    let capacity = service.settings.capacity;
    if wanted.seats > capacity || (capacity > 1 && (session_there || wanted.seats > 1)) {
        refusal(
            "seats",
            Code::CapacityFull,
            "not as many seats are left at that start",
        )
    } else {
        refusal("start", Code::SlotTaken, "that slot is taken")
    }
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
    let Some(service) = active_service(tx, asked.service).await? else {
        return Ok(None);
    };
    let window = window(asked.zone, asked.from, asked.to);
    let gathered = gather(tx, &service, window, asked.provider).await?;
    let mut days: Vec<(NaiveDate, Vec<Slot<CalendarId>>)> = Vec::new();
    for slot in gathered.slots(now, asked.seats) {
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
        calendars: gathered.rows,
    }))
}
