//! The availability engine: bookable slots computed from facts, with no I/O, so every rule is
//! tested here and the database only gathers the facts ([`super::facts`]) and, when a slot is
//! taken, refuses an overlap itself (the claims' exclusion constraint).
//!
//! The rules, in order:
//! - **Opening hours.** Each calendar (a provider or a resource) opens by a weekly schedule of
//!   spans in its own IANA time zone. A span is minutes from local midnight and may run past it
//!   (`22:00` to `26:00` closes at 02:00 the next day). A date override replaces the weekly spans
//!   of its local date (no spans: closed); a tenant holiday closes the date unless an override
//!   opens it. A span that begins on one date and runs into the next belongs to the first: an
//!   override of the second does not cut it.
//! - **Local times to instants.** A local time that occurs twice (the autumn change) opens at its
//!   first occurrence and closes at its second, so the span is as long as it really is; one that
//!   does not occur (the spring gap) is read with the offset in force before the gap (02:30 in
//!   Berlin on the spring day is 03:30), as RFC 5545 and Temporal do. Spans are merged after
//!   conversion, so touching or overlapping spans are one.
//! - **Starts.** Slots start on a grid of the service's interval from the start of each merged
//!   span, counted in real time, so a span across a clock change yields no duplicate and no
//!   missing hour. A slot's service time lies inside one span of its provider and of its
//!   resource; its buffers may lie outside opening hours.
//! - **Claims.** A new session (a provider's appointment or class at a start) claims
//!   `[start - buffer before, end + buffer after)` on its provider and its resource, and no claim
//!   may overlap another on one calendar (bookings, live holds and blocked time all claim). A
//!   caller joins an existing session with free seats instead, whatever its calendars' claims.
//! - **Notice and horizon.** A slot starts no sooner than `now + notice` and no later than
//!   `now + horizon`, and inside the asked window `[from, to)`.
//! - **Round robin.** A slot's options are ordered by the provider's bookings in the ISO week of
//!   the slot (in the provider's zone), fewest first, then by the order the providers were given:
//!   the first option is who gets a booking for "any provider".

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The minutes a span may reach past its local midnight: to the end of the next day.
pub const MAX_SPAN_MINUTE: u16 = 2 * 24 * 60;

/// An opening span of one local date, in minutes from its midnight: `opens < closes <= 2880`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub opens: u16,
    pub closes: u16,
}

impl Span {
    /// The span `opens..closes`, when `opens < closes <= 2880`.
    pub fn new(opens: u16, closes: u16) -> Option<Self> {
        (opens < closes && closes <= MAX_SPAN_MINUTE).then_some(Self { opens, closes })
    }
}

/// A half-open interval of instants, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self { start, end }
    }

    /// Whether the two share an instant.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// What a service asks of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How long the service takes.
    pub duration: Duration,
    /// Kept free before the service (set-up, travel).
    pub buffer_before: Duration,
    /// Kept free after it (cleaning, notes).
    pub buffer_after: Duration,
    /// The grid slots start on, from the start of each opening span.
    pub interval: Duration,
    /// Seats in one session (1 for an appointment).
    pub capacity: i32,
    /// The least time between now and a slot's start.
    pub notice: Duration,
    /// The most time between now and a slot's start.
    pub horizon: Duration,
}

impl Rules {
    /// What a session at `start` claims on its calendars: its time and its buffers.
    pub fn claim(&self, start: DateTime<Utc>) -> Interval {
        Interval::new(
            start - self.buffer_before,
            start + self.duration + self.buffer_after,
        )
    }
}

/// A provider or a resource: when it opens, and what already claims its time.
#[derive(Debug, Clone)]
pub struct Calendar<Id> {
    pub id: Id,
    pub zone: Tz,
    /// The weekly spans, Monday first.
    pub weekly: [Vec<Span>; 7],
    /// Date overrides: the spans of a local date instead of its weekday's (none: closed).
    pub overrides: BTreeMap<NaiveDate, Vec<Span>>,
    /// Seats it holds (a room's); `None` for a provider, who limits nothing but their time.
    pub seats: Option<i32>,
    /// Claims on its time: other sessions with their buffers, live holds, blocked time.
    pub claims: Vec<Interval>,
    /// The starts of its bookings, for round robin.
    pub booked: Vec<DateTime<Utc>>,
}

/// A session of the service that exists already: joining it needs a seat, not a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session<Id> {
    pub start: DateTime<Utc>,
    pub provider: Option<Id>,
    pub resource: Option<Id>,
    /// Seats not taken by a booking or a live hold.
    pub seats_left: i32,
}

/// Everything one computation reads.
#[derive(Debug, Clone)]
pub struct Facts<'a, Id> {
    pub rules: Rules,
    pub now: DateTime<Utc>,
    /// The asked window of starts, `[from, to)`.
    pub window: Interval,
    /// The providers who may perform it (none: the service needs no provider).
    pub providers: &'a [Calendar<Id>],
    /// The resources it may use, one of them per session (none: it needs no resource).
    pub resources: &'a [Calendar<Id>],
    /// The tenant's holidays, as local dates of each calendar.
    pub holidays: &'a BTreeSet<NaiveDate>,
    /// The service's sessions that have seats taken.
    pub sessions: &'a [Session<Id>],
    /// The seats asked for (a party's size).
    pub seats: i32,
}

/// One way to book a slot: with whom, in which resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice<Id> {
    pub provider: Option<Id>,
    pub resource: Option<Id>,
    /// Seats free this way.
    pub seats_left: i32,
    /// Whether it joins an existing session (no new claim).
    pub joins: bool,
}

/// A bookable slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<Id> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The most seats free in one way of booking it.
    pub seats_left: i32,
    /// The ways to book it, the round robin's choice first.
    pub options: Vec<Choice<Id>>,
}

/// The local dates (in `zone`) whose spans may reach into `window`: a span reaches at most into
/// the next date, so the day before the window's first local date is included.
fn local_dates(zone: Tz, window: Interval) -> impl Iterator<Item = NaiveDate> {
    let first = window.start.with_timezone(&zone).date_naive() - Duration::days(1);
    let last = window.end.with_timezone(&zone).date_naive();
    first.iter_days().take_while(move |d| *d <= last)
}

/// The instant of local time `at` in `zone`: of a repeated time the first occurrence when
/// `opening`, else the second; of a skipped time, the offset before the gap.
pub fn instant(zone: Tz, at: NaiveDateTime, opening: bool) -> DateTime<Utc> {
    use chrono::LocalResult;
    match zone.from_local_datetime(&at) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => {
            if opening { first } else { second }.with_timezone(&Utc)
        }
        LocalResult::None => {
            // Gaps last hours at most: six hours earlier is before it.
            let before = zone
                .offset_from_utc_datetime(&(at - Duration::hours(6)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(at - Duration::seconds(i64::from(before))))
        }
    }
}

/// Whether a calendar opens on `day`, and how: the override, else closed on a holiday, else the
/// weekday's spans.
fn spans_of<'c, Id>(
    calendar: &'c Calendar<Id>,
    holidays: &BTreeSet<NaiveDate>,
    day: NaiveDate,
) -> &'c [Span] {
    if let Some(spans) = calendar.overrides.get(&day) {
        spans
    } else if holidays.contains(&day) {
        &[]
    } else {
        &calendar.weekly[day.weekday().num_days_from_monday() as usize]
    }
}

/// A calendar's opening hours that reach into `window`, as merged intervals of instants.
pub fn open_intervals<Id>(
    calendar: &Calendar<Id>,
    holidays: &BTreeSet<NaiveDate>,
    window: Interval,
) -> Vec<Interval> {
    let mut open: Vec<Interval> = Vec::new();
    for day in local_dates(calendar.zone, window) {
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        for span in spans_of(calendar, holidays, day) {
            let start = instant(
                calendar.zone,
                midnight + Duration::minutes(span.opens.into()),
                true,
            );
            let end = instant(
                calendar.zone,
                midnight + Duration::minutes(span.closes.into()),
                false,
            );
            if start < end {
                open.push(Interval::new(start, end));
            }
        }
    }
    merge(open)
}

/// Sorts intervals and merges those that overlap or touch.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable();
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for i in intervals {
        match merged.last_mut() {
            Some(last) if i.start <= last.end => last.end = last.end.max(i.end),
            _ => merged.push(i),
        }
    }
    merged
}

/// Whether `inner` lies inside one of the sorted, merged `intervals`.
fn within(intervals: &[Interval], inner: Interval) -> bool {
    let i = intervals.partition_point(|o| o.end < inner.end);
    intervals
        .get(i)
        .is_some_and(|o| o.start <= inner.start && inner.end <= o.end)
}

/// Whether `probe` overlaps one of the sorted, merged `intervals`.
fn overlaps_any(intervals: &[Interval], probe: Interval) -> bool {
    let i = intervals.partition_point(|o| o.end <= probe.start);
    intervals.get(i).is_some_and(|o| o.start < probe.end)
}

/// A calendar as the computation reads it: its open hours and claims, merged, and its bookings
/// counted by ISO week of its zone.
struct Prepared<'c, Id> {
    calendar: &'c Calendar<Id>,
    open: Vec<Interval>,
    claims: Vec<Interval>,
    weeks: HashMap<chrono::IsoWeek, usize>,
}

impl<Id> Prepared<'_, Id> {
    /// Whether a new session at `start` may use this calendar.
    fn free(&self, rules: &Rules, start: DateTime<Utc>) -> bool {
        within(&self.open, Interval::new(start, start + rules.duration))
            && !overlaps_any(&self.claims, rules.claim(start))
    }

    /// Its bookings in the ISO week (in its zone) of `at`.
    fn week_load(&self, at: DateTime<Utc>) -> usize {
        let week = at.with_timezone(&self.calendar.zone).iso_week();
        self.weeks.get(&week).copied().unwrap_or(0)
    }
}

fn prepare<'c, Id>(
    calendars: &'c [Calendar<Id>],
    holidays: &BTreeSet<NaiveDate>,
    window: Interval,
) -> Vec<Prepared<'c, Id>> {
    calendars
        .iter()
        .map(|calendar| {
            let mut weeks = HashMap::new();
            for b in &calendar.booked {
                *weeks
                    .entry(b.with_timezone(&calendar.zone).iso_week())
                    .or_insert(0) += 1;
            }
            Prepared {
                calendar,
                open: open_intervals(calendar, holidays, window),
                claims: merge(calendar.claims.clone()),
                weeks,
            }
        })
        .collect()
}

/// The bookable slots of `facts`, by start.
pub fn slots<Id: Copy + Eq>(facts: &Facts<'_, Id>) -> Vec<Slot<Id>> {
    let rules = &facts.rules;
    if rules.duration <= Duration::zero() || rules.interval <= Duration::zero() || facts.seats < 1 {
        return Vec::new();
    }
    // Starts the notice and the horizon allow, inside the window.
    let earliest = facts.window.start.max(facts.now + rules.notice);
    let latest_exclusive = facts
        .window
        .end
        .min(facts.now + rules.horizon + Duration::nanoseconds(1));
    if earliest >= latest_exclusive {
        return Vec::new();
    }
    let allowed = Interval::new(earliest, latest_exclusive);
    // Open hours are read for the window widened by a service's length, so a slot near its edge
    // still sees the whole span it lies in.
    let reach = Interval::new(facts.window.start, facts.window.end + rules.duration);
    let providers = prepare(facts.providers, facts.holidays, reach);
    let resources = prepare(facts.resources, facts.holidays, reach);

    // The grid: from the start of every open span of the calendars that anchor it (the providers,
    // or the resources of a service without providers), and every existing session's start.
    let anchors = if providers.is_empty() {
        &resources
    } else {
        &providers
    };
    let mut starts: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    for calendar in anchors {
        for span in &calendar.open {
            let mut at = span.start;
            if at < allowed.start {
                // Skip whole steps to the first start not before the allowed window.
                let steps = (allowed.start - at)
                    .num_seconds()
                    .div_euclid(rules.interval.num_seconds());
                at += rules.interval * i32::try_from(steps).unwrap_or(i32::MAX);
                if at < allowed.start {
                    at += rules.interval;
                }
            }
            while at + rules.duration <= span.end && at < allowed.end {
                starts.insert(at);
                at += rules.interval;
            }
        }
    }
    starts.extend(
        facts
            .sessions
            .iter()
            .map(|s| s.start)
            .filter(|s| allowed.start <= *s && *s < allowed.end),
    );

    let mut at: HashMap<DateTime<Utc>, Vec<&Session<Id>>> = HashMap::new();
    for s in facts.sessions {
        at.entry(s.start).or_default().push(s);
    }
    let mut slots = Vec::new();
    for start in starts {
        let here = at.get(&start).map_or(&[][..], Vec::as_slice);
        let options = options_at(facts, &providers, &resources, start, here);
        if let Some(seats_left) = options.iter().map(|o| o.seats_left).max() {
            slots.push(Slot {
                start,
                end: start + rules.duration,
                seats_left,
                options,
            });
        }
    }
    slots
}

/// The ways to book `start` for the asked seats, the round robin's choice first.
fn options_at<Id: Copy + Eq>(
    facts: &Facts<'_, Id>,
    providers: &[Prepared<'_, Id>],
    resources: &[Prepared<'_, Id>],
    start: DateTime<Utc>,
    sessions: &[&Session<Id>],
) -> Vec<Choice<Id>> {
    let rules = &facts.rules;
    // The free resource with the most seats (the first of them), with the seats a session
    // there may hold.
    let resource = |asked: bool| -> Option<(Option<Id>, i32)> {
        if !asked {
            return Some((None, rules.capacity));
        }
        resources
            .iter()
            .filter(|r| r.free(rules, start))
            .map(|r| {
                let seats = r
                    .calendar
                    .seats
                    .map_or(rules.capacity, |s| s.min(rules.capacity));
                (Some(r.calendar.id), seats)
            })
            .min_by_key(|(_, seats)| std::cmp::Reverse(*seats))
    };
    let needs_resource = !resources.is_empty();
    let join = |provider: Option<Id>| {
        sessions
            .iter()
            .find(|s| s.provider == provider && s.seats_left >= facts.seats)
            .map(|s| Choice {
                provider,
                resource: s.resource,
                seats_left: s.seats_left,
                joins: true,
            })
    };
    let fresh = |provider: Option<Id>| {
        resource(needs_resource)
            .filter(|(_, seats)| *seats >= facts.seats)
            .map(|(resource, seats)| Choice {
                provider,
                resource,
                seats_left: seats,
                joins: false,
            })
    };
    if providers.is_empty() {
        return join(None).or_else(|| fresh(None)).into_iter().collect();
    }
    let mut ranked: Vec<(usize, usize, Choice<Id>)> = Vec::new();
    for (order, provider) in providers.iter().enumerate() {
        let id = Some(provider.calendar.id);
        // A provider's session at this start is joined; without one, a new session needs the
        // provider's time free.
        let option = match join(id) {
            Some(joined) => Some(joined),
            None if sessions.iter().any(|s| s.provider == id) => None,
            None if provider.free(rules, start) => fresh(id),
            None => None,
        };
        if let Some(option) = option {
            ranked.push((provider.week_load(start), order, option));
        }
    }
    ranked.sort_by_key(|(load, order, _)| (*load, *order));
    ranked.into_iter().map(|(_, _, o)| o).collect()
}

#[cfg(test)]
mod tests;
