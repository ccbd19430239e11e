//! Opening hours as people write them: `HH:MM` local times, a span closing at or before it
//! opens running past midnight (`22:00` to `02:00`), `24:00` closing at midnight; checked and
//! turned into the engine's [`Span`]s.

use crate::errors::{BookingsErrorCode as Code, Outcome, refusal};
use crate::slots::Span;

/// The most spans one day has.
pub const MAX_SPANS: usize = 6;

/// Minutes from midnight of `HH:MM` (00:00 to 24:00).
fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// `HH:MM` of minutes from a midnight, within one day (a span's close past midnight shows the
/// next day's time; 1440 shows `24:00`).
pub fn clock(minutes: u16) -> String {
    let m = if minutes > 24 * 60 {
        minutes - 24 * 60
    } else {
        minutes
    };
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A span from `opens` to `closes`, refused at `field`.
pub fn span(opens: &str, closes: &str, field: &str) -> Outcome<Span> {
    let bad = || {
        refusal(
            field,
            Code::InvalidHours,
            "a span opens and closes at HH:MM, 00:00 to 24:00",
        )
    };
    let opens = minutes(opens).filter(|m| *m < 24 * 60).ok_or_else(bad)?;
    let mut closes = minutes(closes).ok_or_else(bad)?;
    if closes <= opens {
        // Past midnight: closes the next day.
        closes += 24 * 60;
    }
    Span::new(opens, closes).ok_or_else(bad)
}

/// One day's spans: at most [`MAX_SPANS`], none overlapping another; sorted.
pub fn day(mut spans: Vec<Span>, field: &str) -> Outcome<Vec<Span>> {
    if spans.len() > MAX_SPANS {
        return Err(refusal(
            field,
            Code::InvalidHours,
            format!("a day has at most {MAX_SPANS} spans"),
        ));
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].opens < w[0].closes) {
        return Err(refusal(
            field,
            Code::InvalidHours,
            "a day's spans may not overlap",
        ));
    }
    Ok(spans)
}

/// An IANA time zone's name, refused at `field` when the tz database has no such zone.
pub fn zone(name: &str, field: &str) -> Outcome<chrono_tz::Tz> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        refusal(
            field,
            Code::InvalidTimeZone,
            "name a time zone of the IANA database, e.g. Europe/Berlin",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_past_midnight_and_print_back() {
        let s = span("22:00", "02:00", "f").expect("a span");
        assert_eq!((s.opens, s.closes), (1320, 1560));
        assert_eq!(
            (clock(s.opens), clock(s.closes)),
            ("22:00".into(), "02:00".into())
        );
        let whole = span("00:00", "24:00", "f").expect("a span");
        assert_eq!(
            (whole.opens, whole.closes, clock(whole.closes)),
            (0, 1440, "24:00".into())
        );
        assert_eq!(span("00:00", "00:00", "f").expect("a span").closes, 1440);
        for bad in [
            "9:00",
            "24:01",
            "12:60",
            "ab:cd",
            "",
            "12:3",
            "-1:00",
            "१२:००",
        ] {
            assert!(span(bad, "13:00", "f").is_err(), "{bad}");
        }
        assert!(span("24:00", "01:00", "f").is_err());
    }

    #[test]
    fn a_day_refuses_overlaps_and_too_many_spans() {
        let s = |a, b| span(a, b, "f").expect("a span");
        assert!(day(vec![s("13:00", "17:00"), s("09:00", "12:00")], "f").is_ok());
        assert!(day(vec![s("09:00", "12:00"), s("11:00", "13:00")], "f").is_err());
        assert!(day(vec![s("09:00", "10:00"); 7], "f").is_err());
    }

    #[test]
    fn zones_are_the_tz_database_s() {
        assert!(zone("Europe/Berlin", "f").is_ok());
        assert!(zone("Asia/Riyadh", "f").is_ok());
        assert!(zone("Mars/Olympus", "f").is_err());
        assert!(zone("", "f").is_err());
    }
}
