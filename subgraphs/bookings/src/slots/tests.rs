//! The engine's rules, one case each, then properties over random facts checked against a
//! brute-force reading of the same rules, minute by minute.

use super::*;
use chrono_tz::{America, Asia, Australia, Europe};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn hm(h: u16, m: u16) -> u16 {
    h * 60 + m
}

fn span(opens: u16, closes: u16) -> Span {
    Span::new(opens, closes).expect("a span")
}

fn every_day(spans: &[Span]) -> [Vec<Span>; 7] {
    std::array::from_fn(|_| spans.to_vec())
}

fn calendar(id: u32, zone: Tz, weekly: [Vec<Span>; 7]) -> Calendar<u32> {
    Calendar {
        id,
        zone,
        weekly,
        overrides: BTreeMap::new(),
        seats: None,
        claims: Vec::new(),
        booked: Vec::new(),
    }
}

fn hourly() -> Rules {
    Rules {
        duration: Duration::minutes(60),
        buffer_before: Duration::zero(),
        buffer_after: Duration::zero(),
        interval: Duration::minutes(60),
        capacity: 1,
        notice: Duration::zero(),
        horizon: Duration::days(3650),
    }
}

const NOW: &str = "2027-01-01T00:00:00Z";

fn facts<'a>(
    rules: Rules,
    from: &str,
    to: &str,
    providers: &'a [Calendar<u32>],
    resources: &'a [Calendar<u32>],
    holidays: &'a BTreeSet<NaiveDate>,
    sessions: &'a [Session<u32>],
) -> Facts<'a, u32> {
    Facts {
        rules,
        now: utc(NOW),
        window: Interval::new(utc(from), utc(to)),
        providers,
        resources,
        holidays,
        sessions,
        seats: 1,
    }
}

fn starts(slots: &[Slot<u32>]) -> Vec<String> {
    slots
        .iter()
        .map(|s| s.start.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

#[test]
fn berlin_spring_day_opens_at_local_nine_an_hour_earlier_in_utc() {
    let p = [calendar(
        1,
        Europe::Berlin,
        every_day(&[span(hm(9, 0), hm(12, 0))]),
    )];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-03-27T00:00:00Z",
        "2027-03-29T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    assert_eq!(
        starts(&slots(&f)),
        [
            // Saturday, CET (+1).
            "2027-03-27T08:00Z",
            "2027-03-27T09:00Z",
            "2027-03-27T10:00Z",
            // Sunday, CEST (+2) from 02:00.
            "2027-03-28T07:00Z",
            "2027-03-28T08:00Z",
            "2027-03-28T09:00Z",
        ]
    );
}

#[test]
fn a_night_span_across_the_spring_gap_has_five_real_hours() {
    let p = [calendar(
        1,
        Europe::Berlin,
        every_day(&[span(hm(0, 0), hm(6, 0))]),
    )];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-03-27T22:00:00Z",
        "2027-03-28T06:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    // Local 00:00, 01:00, then 03:00 (02:00 does not occur), 04:00 and 05:00.
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-03-27T23:00Z",
            "2027-03-28T00:00Z",
            "2027-03-28T01:00Z",
            "2027-03-28T02:00Z",
            "2027-03-28T03:00Z"
        ]
    );
}

#[test]
fn a_night_span_across_the_autumn_change_has_seven_real_hours() {
    let p = [calendar(
        1,
        Europe::Berlin,
        every_day(&[span(hm(0, 0), hm(6, 0))]),
    )];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-10-30T21:00:00Z",
        "2027-10-31T06:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    // Local 00:00, 01:00, 02:00 (summer), 02:00 (winter), 03:00, 04:00, 05:00: no duplicate
    // instant, none missing.
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-10-30T22:00Z",
            "2027-10-30T23:00Z",
            "2027-10-31T00:00Z",
            "2027-10-31T01:00Z",
            "2027-10-31T02:00Z",
            "2027-10-31T03:00Z",
            "2027-10-31T04:00Z",
        ]
    );
}

#[test]
fn a_time_in_the_gap_reads_with_the_offset_before_it_and_a_repeated_one_by_its_role() {
    let gap = date("2027-03-28").and_hms_opt(2, 30, 0).expect("a time");
    assert_eq!(
        instant(Europe::Berlin, gap, true),
        utc("2027-03-28T01:30:00Z")
    );
    let twice = date("2027-10-31").and_hms_opt(2, 30, 0).expect("a time");
    assert_eq!(
        instant(Europe::Berlin, twice, true),
        utc("2027-10-31T00:30:00Z")
    );
    assert_eq!(
        instant(Europe::Berlin, twice, false),
        utc("2027-10-31T01:30:00Z")
    );
}

#[test]
fn riyadh_keeps_plus_three_all_year_and_its_weekend_closed() {
    // Sunday to Thursday 08:00 to 10:00; Friday and Saturday closed.
    let mut weekly = every_day(&[span(hm(8, 0), hm(10, 0))]);
    weekly[4].clear();
    weekly[5].clear();
    let p = [calendar(1, Asia::Riyadh, weekly)];
    let none = BTreeSet::new();
    // Thursday 2027-03-25 to Sunday 2027-03-28, across Europe's change (which Riyadh has not).
    let f = facts(
        hourly(),
        "2027-03-25T00:00:00Z",
        "2027-03-29T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-03-25T05:00Z",
            "2027-03-25T06:00Z",
            "2027-03-28T05:00Z",
            "2027-03-28T06:00Z"
        ]
    );
}

#[test]
fn an_override_past_midnight_keeps_its_hours_into_a_closed_next_day() {
    let mut p = calendar(1, Europe::Berlin, every_day(&[span(hm(9, 0), hm(17, 0))]));
    // A late shift on 2 June until 02:00, and 3 June closed.
    p.overrides
        .insert(date("2027-06-02"), vec![span(hm(22, 0), hm(26, 0))]);
    p.overrides.insert(date("2027-06-03"), vec![]);
    let p = [p];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-06-02T00:00:00Z",
        "2027-06-04T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-06-02T20:00Z",
            "2027-06-02T21:00Z",
            "2027-06-02T22:00Z",
            "2027-06-02T23:00Z"
        ]
    );
}

#[test]
fn a_holiday_closes_unless_an_override_opens_it() {
    let mut p = calendar(1, Asia::Riyadh, every_day(&[span(hm(9, 0), hm(11, 0))]));
    let holidays: BTreeSet<NaiveDate> = [date("2027-09-23"), date("2027-09-24")].into();
    p.overrides
        .insert(date("2027-09-24"), vec![span(hm(10, 0), hm(11, 0))]);
    let p = [p];
    let f = facts(
        hourly(),
        "2027-09-23T00:00:00Z",
        "2027-09-25T00:00:00Z",
        &p,
        &[],
        &holidays,
        &[],
    );
    assert_eq!(starts(&slots(&f)), ["2027-09-24T07:00Z"]);
}

#[test]
fn buffers_keep_a_claim_clear_on_both_sides() {
    let mut p = calendar(1, Asia::Riyadh, every_day(&[span(hm(9, 0), hm(13, 0))]));
    // Booked 10:00 to 11:00 local.
    p.claims.push(Interval::new(
        utc("2027-05-03T07:00:00Z"),
        utc("2027-05-03T08:00:00Z"),
    ));
    let p = [p];
    let none = BTreeSet::new();
    let rules = Rules {
        buffer_before: Duration::minutes(15),
        buffer_after: Duration::minutes(15),
        interval: Duration::minutes(15),
        ..hourly()
    };
    let f = facts(
        rules,
        "2027-05-03T00:00:00Z",
        "2027-05-04T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    // Nothing before 10:00 ends its after-buffer in time; from 11:15 the before-buffer clears.
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-05-03T08:15Z",
            "2027-05-03T08:30Z",
            "2027-05-03T08:45Z",
            "2027-05-03T09:00Z"
        ]
    );
}

#[test]
fn notice_and_horizon_bound_the_starts() {
    let p = [calendar(
        1,
        Asia::Riyadh,
        every_day(&[span(hm(9, 0), hm(12, 0))]),
    )];
    let none = BTreeSet::new();
    let rules = Rules {
        notice: Duration::hours(2),
        horizon: Duration::hours(26),
        ..hourly()
    };
    let mut f = facts(
        rules,
        "2027-05-03T00:00:00Z",
        "2027-05-06T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    // Now is 08:00 local on the 3rd: 10:00 is the first start, 10:00 the next day the last.
    f.now = utc("2027-05-03T05:00:00Z");
    assert_eq!(
        starts(&slots(&f)),
        [
            "2027-05-03T07:00Z",
            "2027-05-03T08:00Z",
            "2027-05-04T06:00Z",
            "2027-05-04T07:00Z"
        ]
    );
}

#[test]
fn any_provider_goes_to_the_least_booked_that_week() {
    let weekly = every_day(&[span(hm(9, 0), hm(10, 0))]);
    let mut busy = calendar(1, Asia::Riyadh, weekly.clone());
    busy.booked = vec![utc("2027-05-04T06:00:00Z"), utc("2027-05-05T06:00:00Z")];
    let mut light = calendar(2, Asia::Riyadh, weekly);
    // Many bookings, but the week before.
    light.booked = vec![utc("2027-04-28T06:00:00Z"); 5];
    let p = [busy, light];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-05-06T00:00:00Z",
        "2027-05-07T00:00:00Z",
        &p,
        &[],
        &none,
        &[],
    );
    let found = slots(&f);
    assert_eq!(found.len(), 1);
    let order: Vec<_> = found[0].options.iter().map(|o| o.provider).collect();
    assert_eq!(order, [Some(2), Some(1)]);
}

#[test]
fn a_class_session_is_joined_while_seats_last_and_a_room_caps_its_seats() {
    let mut coach = calendar(1, Asia::Riyadh, every_day(&[span(hm(18, 0), hm(20, 0))]));
    let rules = Rules {
        capacity: 20,
        ..hourly()
    };
    let start = utc("2027-05-03T15:00:00Z");
    coach.claims.push(rules.claim(start));
    let mut room = calendar(9, Asia::Riyadh, every_day(&[span(hm(0, 0), hm(24, 0))]));
    room.seats = Some(12);
    room.claims.push(rules.claim(start));
    let (p, r) = ([coach], [room]);
    let sessions = [Session {
        start,
        provider: Some(1),
        resource: Some(9),
        seats_left: 3,
    }];
    let none = BTreeSet::new();
    let mut f = facts(
        rules,
        "2027-05-03T00:00:00Z",
        "2027-05-04T00:00:00Z",
        &p,
        &r,
        &none,
        &sessions,
    );
    let found = slots(&f);
    assert_eq!(starts(&found), ["2027-05-03T15:00Z", "2027-05-03T16:00Z"]);
    assert_eq!((found[0].seats_left, found[0].options[0].joins), (3, true));
    // A new session at 19:00 holds what the room holds.
    assert_eq!(
        (found[1].seats_left, found[1].options[0].joins),
        (12, false)
    );
    // A party of four does not fit the session, and the coach is taken by it.
    f.seats = 4;
    assert_eq!(starts(&slots(&f)), ["2027-05-03T16:00Z"]);
}

#[test]
fn a_service_of_a_resource_alone_runs_on_the_resource_hours() {
    let r = [calendar(
        7,
        Europe::Berlin,
        every_day(&[span(hm(8, 0), hm(10, 0))]),
    )];
    let none = BTreeSet::new();
    let f = facts(
        hourly(),
        "2027-07-01T00:00:00Z",
        "2027-07-02T00:00:00Z",
        &[],
        &r,
        &none,
        &[],
    );
    let found = slots(&f);
    assert_eq!(starts(&found), ["2027-07-01T06:00Z", "2027-07-01T07:00Z"]);
    assert_eq!(found[0].options[0].resource, Some(7));
}

// Properties. Facts are random around clock changes of several zones (Lord Howe's is half an
// hour); every time is a multiple of five minutes, so a brute force stepping five minutes sees
// every boundary.

const STEP: i64 = 5;

fn step() -> Duration {
    Duration::minutes(STEP)
}

/// Whether instant `t` is in an opening span of `c`, reading each span of each nearby date alone.
fn open_at(c: &Calendar<u32>, holidays: &BTreeSet<NaiveDate>, t: DateTime<Utc>) -> bool {
    let day = t.with_timezone(&c.zone).date_naive();
    [day - Duration::days(1), day].into_iter().any(|d| {
        let midnight = d.and_time(chrono::NaiveTime::MIN);
        spans_of(c, holidays, d).iter().any(|s| {
            let opens = instant(c.zone, midnight + Duration::minutes(s.opens.into()), true);
            let closes = instant(c.zone, midnight + Duration::minutes(s.closes.into()), false);
            opens <= t && t < closes
        })
    })
}

/// Whether a new session at `t` may use `c`: open at every step of the service, no claim within
/// its buffers.
fn brute_free(f: &Facts<'_, u32>, c: &Calendar<u32>, t: DateTime<Utc>) -> bool {
    let r = &f.rules;
    let mut at = t;
    while at < t + r.duration {
        if !open_at(c, f.holidays, at) {
            return false;
        }
        at += step();
    }
    let claim = Interval::new(t - r.buffer_before, t + r.duration + r.buffer_after);
    !c.claims.iter().any(|x| x.overlaps(&claim))
}

fn brute_allowed(f: &Facts<'_, u32>, t: DateTime<Utc>) -> bool {
    f.window.start <= t
        && t < f.window.end
        && f.now + f.rules.notice <= t
        && t <= f.now + f.rules.horizon
}

/// Whether `choice` at `t` is bookable at once: what the database would accept.
fn brute_bookable(f: &Facts<'_, u32>, t: DateTime<Utc>, choice: &Choice<u32>) -> bool {
    if !brute_allowed(f, t) || choice.seats_left < f.seats {
        return false;
    }
    if choice.joins {
        return f.sessions.iter().any(|s| {
            s.start == t
                && s.provider == choice.provider
                && s.resource == choice.resource
                && s.seats_left >= f.seats
        });
    }
    let provider_ok = match choice.provider {
        None => f.providers.is_empty(),
        Some(p) => f.providers.iter().any(|c| c.id == p && brute_free(f, c, t)),
    };
    let resource_ok = match choice.resource {
        None => f.resources.is_empty(),
        Some(r) => f
            .resources
            .iter()
            .any(|c| c.id == r && brute_free(f, c, t) && c.seats.unwrap_or(i32::MAX) >= f.seats),
    };
    let no_session_there = !f
        .sessions
        .iter()
        .any(|s| s.start == t && s.provider == choice.provider && s.resource == choice.resource);
    provider_ok && resource_ok && no_session_there
}

/// The start of the continuous opening that holds `t`, walking back no further than `floor`.
fn opening_start(
    f: &Facts<'_, u32>,
    c: &Calendar<u32>,
    t: DateTime<Utc>,
    floor: DateTime<Utc>,
) -> DateTime<Utc> {
    let mut u = t;
    while u - step() >= floor && open_at(c, f.holidays, u - step()) {
        u -= step();
    }
    u
}

const ZONES: [Tz; 5] = [
    Europe::Berlin,
    Asia::Riyadh,
    America::New_York,
    Australia::Lord_Howe,
    Asia::Kolkata,
];
const CHANGES: [&str; 7] = [
    "2027-03-28",
    "2027-10-31",
    "2027-03-14",
    "2027-11-07",
    "2027-04-04",
    "2027-10-03",
    "2027-06-15",
];

fn random_spans(rng: &mut StdRng, most: usize) -> Vec<Span> {
    (0..rng.gen_range(0..=most))
        .map(|_| {
            let opens = rng.gen_range(0..96u16) * 15;
            let closes = (opens + rng.gen_range(2..48u16) * 15).min(MAX_SPAN_MINUTE);
            span(opens, closes)
        })
        .collect()
}

fn random_calendar(
    rng: &mut StdRng,
    id: u32,
    zone: Tz,
    around: NaiveDate,
    seats: bool,
) -> Calendar<u32> {
    let weekly = std::array::from_fn(|_| random_spans(rng, 2));
    let mut c = calendar(id, zone, weekly);
    for d in -1..3 {
        if rng.gen_bool(0.3) {
            c.overrides
                .insert(around + Duration::days(d), random_spans(rng, 2));
        }
    }
    let base = around.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::days(1);
    for _ in 0..rng.gen_range(0..6) {
        let start = base + Duration::minutes(rng.gen_range(0..(4 * 288)) * STEP);
        c.claims.push(Interval::new(
            start,
            start + Duration::minutes(rng.gen_range(1..36) * STEP),
        ));
        c.booked.push(start);
    }
    if seats {
        c.seats = Some(rng.gen_range(1..4));
    }
    c
}

struct World {
    rules: Rules,
    now: DateTime<Utc>,
    window: Interval,
    providers: Vec<Calendar<u32>>,
    resources: Vec<Calendar<u32>>,
    holidays: BTreeSet<NaiveDate>,
    sessions: Vec<Session<u32>>,
    seats: i32,
}

impl World {
    fn random(rng: &mut StdRng) -> Self {
        let zone = ZONES[rng.gen_range(0..ZONES.len())];
        let around = date(CHANGES[rng.gen_range(0..CHANGES.len())]);
        let minutes =
            |rng: &mut StdRng, of: &[i64]| Duration::minutes(of[rng.gen_range(0..of.len())]);
        let rules = Rules {
            duration: minutes(rng, &[15, 30, 45, 60, 90]),
            buffer_before: minutes(rng, &[0, 0, 5, 10, 15]),
            buffer_after: minutes(rng, &[0, 0, 5, 10, 15]),
            interval: minutes(rng, &[15, 30, 60]),
            capacity: [1, 1, 3][rng.gen_range(0..3)],
            notice: minutes(rng, &[0, 60, 600]),
            horizon: Duration::days(rng.gen_range(1..4)),
        };
        let window_start = around.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::hours(12);
        let now = window_start - Duration::hours(rng.gen_range(0..24));
        // Mostly one zone, sometimes a provider elsewhere.
        let zone_of = |rng: &mut StdRng| {
            if rng.gen_bool(0.8) {
                zone
            } else {
                ZONES[rng.gen_range(0..ZONES.len())]
            }
        };
        let providers: Vec<_> = (0..rng.gen_range(0..3))
            .map(|i| {
                let z = zone_of(rng);
                random_calendar(rng, i + 1, z, around, false)
            })
            .collect();
        let resources: Vec<_> = (0..rng.gen_range(usize::from(providers.is_empty())..3))
            .map(|i| {
                let z = zone_of(rng);
                random_calendar(rng, i as u32 + 10, z, around, true)
            })
            .collect();
        let mut holidays = BTreeSet::new();
        if rng.gen_bool(0.3) {
            holidays.insert(around + Duration::days(rng.gen_range(-1..2)));
        }
        let mut world = Self {
            rules,
            now,
            window: Interval::new(window_start, window_start + Duration::hours(48)),
            providers,
            resources,
            holidays,
            sessions: Vec::new(),
            seats: rng.gen_range(1..3),
        };
        // A few sessions where a fresh computation finds room, holding their claims.
        let found = slots(&world.facts());
        for _ in 0..rng.gen_range(0..3) {
            if found.is_empty() {
                break;
            }
            let slot = &found[rng.gen_range(0..found.len())];
            let choice = slot.options[rng.gen_range(0..slot.options.len())];
            if !choice.joins {
                world.book(slot.start, &choice, rng.gen_range(0..=choice.seats_left));
            }
        }
        world
    }

    fn facts(&self) -> Facts<'_, u32> {
        Facts {
            rules: self.rules,
            now: self.now,
            window: self.window,
            providers: &self.providers,
            resources: &self.resources,
            holidays: &self.holidays,
            sessions: &self.sessions,
            seats: self.seats,
        }
    }

    /// Takes `taken` seats of `choice` at `start`, as the database would: joining its session,
    /// or a new session claiming its calendars.
    fn book(&mut self, start: DateTime<Utc>, choice: &Choice<u32>, taken: i32) {
        if let Some(s) = self.sessions.iter_mut().find(|s| {
            s.start == start && s.provider == choice.provider && s.resource == choice.resource
        }) {
            s.seats_left -= taken;
            return;
        }
        let claim = self.rules.claim(start);
        for c in self.providers.iter_mut().chain(self.resources.iter_mut()) {
            if Some(c.id) == choice.provider || Some(c.id) == choice.resource {
                c.claims.push(claim);
                c.booked.push(start);
            }
        }
        self.sessions.push(Session {
            start,
            provider: choice.provider,
            resource: choice.resource,
            seats_left: choice.seats_left - taken,
        });
    }
}

#[test]
fn every_slot_is_bookable_and_every_bookable_start_is_a_slot() {
    let mut rng = StdRng::seed_from_u64(0x5107);
    for round in 0..400 {
        let world = World::random(&mut rng);
        let f = world.facts();
        let found = slots(&f);
        for slot in &found {
            assert!(
                !slot.options.is_empty(),
                "round {round}: a slot without options"
            );
            assert_eq!(slot.end, slot.start + f.rules.duration);
            assert_eq!(
                slot.seats_left,
                slot.options.iter().map(|o| o.seats_left).max().unwrap_or(0)
            );
            for choice in &slot.options {
                if !brute_bookable(&f, slot.start, choice) {
                    let r = f.resources.iter().find(|c| Some(c.id) == choice.resource);
                    let diag = r.map(|c| {
                        (
                            brute_free(&f, c, slot.start),
                            c.seats,
                            c.zone,
                            c.claims.clone(),
                            c.weekly.clone(),
                            c.overrides.clone(),
                            open_intervals(c, f.holidays, f.window),
                        )
                    });
                    panic!(
                        "round {round}: {slot:?} {choice:?} allowed {} seats {} rules {:?} {diag:?} sessions {:?}",
                        brute_allowed(&f, slot.start),
                        f.seats,
                        f.rules,
                        f.sessions
                    );
                }
            }
        }
        // Completeness: every start on an anchor's grid that some provider could take is offered
        // with that provider.
        let floor = f.window.start - Duration::days(2);
        let anchors = if f.providers.is_empty() {
            f.resources
        } else {
            f.providers
        };
        for anchor in anchors {
            let mut t =
                f.window.start - Duration::minutes(f.window.start.timestamp().rem_euclid(300) / 60);
            while t < f.window.end {
                let aligned = open_at(anchor, f.holidays, t)
                    && (t - opening_start(&f, anchor, t, floor)).num_minutes()
                        % f.rules.interval.num_minutes()
                        == 0;
                if aligned && brute_allowed(&f, t) && brute_free(&f, anchor, t) {
                    let fresh_resource = f.resources.iter().any(|r| {
                        (f.providers.is_empty() && r.id == anchor.id || !f.providers.is_empty())
                            && brute_free(&f, r, t)
                            && r.seats.unwrap_or(i32::MAX).min(f.rules.capacity) >= f.seats
                    });
                    let needs_resource = !f.resources.is_empty();
                    let taken_by_session = f.sessions.iter().any(|s| {
                        s.start == t && s.provider == (!f.providers.is_empty()).then_some(anchor.id)
                    });
                    if (!needs_resource && f.rules.capacity >= f.seats || fresh_resource)
                        && !taken_by_session
                    {
                        let offered = found.iter().find(|s| s.start == t).is_some_and(|s| {
                            s.options.iter().any(|o| {
                                if f.providers.is_empty() {
                                    o.resource.is_some()
                                } else {
                                    o.provider == Some(anchor.id)
                                }
                            })
                        });
                        assert!(offered, "round {round}: {t} with {} not offered", anchor.id);
                    }
                }
                t += step();
            }
        }
    }
}

#[test]
fn booking_a_slot_leaves_no_slot_over_it_and_its_buffers() {
    let mut rng = StdRng::seed_from_u64(0xB00C);
    for round in 0..400 {
        let mut world = World::random(&mut rng);
        let found = slots(&world.facts());
        let Some(slot) = found.first().cloned() else {
            continue;
        };
        let choice = slot.options[0];
        world.book(slot.start, &choice, world.seats);
        let f = world.facts();
        let claim = f.rules.claim(slot.start);
        for after in slots(&f) {
            for o in &after.options {
                assert!(
                    brute_bookable(&f, after.start, o),
                    "round {round}: {after:?}"
                );
                if o.joins {
                    continue;
                }
                // A new session on a calendar the booking took stays clear of it and its buffers.
                let shares = (o.provider.is_some() && o.provider == choice.provider)
                    || (o.resource.is_some() && o.resource == choice.resource);
                if shares && !choice.joins {
                    assert!(
                        !f.rules.claim(after.start).overlaps(&claim),
                        "round {round}: {after:?} over {claim:?}"
                    );
                }
            }
        }
    }
}
