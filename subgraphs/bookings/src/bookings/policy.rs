//! The cancellation policy as one pure function: who cancels, when, and what was paid decide the
//! fee kept and the refund owed, which always sum to what was paid.

use chrono::{DateTime, Duration, Utc};
use cityos_core::money::ratio;

/// Who cancels a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The customer: the service's policy applies.
    Customer,
    /// The provider, staff or the system: the customer is refunded in full.
    Business,
}

/// A service's policy: free until `free_hours` before the start, then `fee_bps` of the price kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub free_hours: i32,
    pub fee_bps: i32,
}

/// What a cancellation keeps and gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub fee: i64,
    pub refund: i64,
}

/// The split of `paid` (minor units) when `by` cancels at `now` a booking starting at `start`:
/// nothing kept when the business cancels or the customer does before the free window ends;
/// after it, `fee_bps` of what was paid (rounded half away from zero), the rest refunded.
pub fn split(policy: Policy, paid: i64, by: By, now: DateTime<Utc>, start: DateTime<Utc>) -> Split {
    let paid = paid.max(0);
    let free_until = start - Duration::hours(i64::from(policy.free_hours));
    let fee = match by {
        By::Business => 0,
        By::Customer if now < free_until => 0,
        By::Customer => ratio(paid, i64::from(policy.fee_bps.clamp(0, 10_000)), 10_000).min(paid),
    };
    Split {
        fee,
        refund: paid - fee,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("an instant")
            .with_timezone(&Utc)
    }

    const POLICY: Policy = Policy {
        free_hours: 24,
        fee_bps: 5_000,
    };

    #[test]
    fn free_before_the_window_then_the_fee_and_the_rest_back() {
        let start = at("2027-05-10T10:00:00Z");
        let early = split(
            POLICY,
            25_000,
            By::Customer,
            at("2027-05-09T09:59:59Z"),
            start,
        );
        assert_eq!(
            early,
            Split {
                fee: 0,
                refund: 25_000
            }
        );
        let late = split(
            POLICY,
            25_000,
            By::Customer,
            at("2027-05-09T10:00:00Z"),
            start,
        );
        assert_eq!(
            late,
            Split {
                fee: 12_500,
                refund: 12_500
            }
        );
        // Half away from zero, and the parts sum to what was paid.
        let odd = split(
            POLICY,
            25_001,
            By::Customer,
            at("2027-05-10T09:00:00Z"),
            start,
        );
        assert_eq!(
            odd,
            Split {
                fee: 12_501,
                refund: 12_500
            }
        );
        let business = split(
            POLICY,
            25_000,
            By::Business,
            at("2027-05-10T09:00:00Z"),
            start,
        );
        assert_eq!(
            business,
            Split {
                fee: 0,
                refund: 25_000
            }
        );
        let unpaid = split(POLICY, 0, By::Customer, at("2027-05-10T09:00:00Z"), start);
        assert_eq!(unpaid, Split { fee: 0, refund: 0 });
        let all = split(
            Policy {
                free_hours: 0,
                fee_bps: 10_000,
            },
            999,
            By::Customer,
            start,
            start,
        );
        assert_eq!(
            all,
            Split {
                fee: 999,
                refund: 0
            }
        );
    }

    #[test]
    fn the_parts_always_sum_to_what_was_paid() {
        let start = at("2027-05-10T10:00:00Z");
        for paid in [0, 1, 2, 3, 99, 100, 101, 12_345, 1_000_000_007] {
            for bps in [0, 1, 3_333, 5_000, 6_667, 9_999, 10_000] {
                let s = split(
                    Policy {
                        free_hours: 1,
                        fee_bps: bps,
                    },
                    paid,
                    By::Customer,
                    start,
                    start,
                );
                assert_eq!(s.fee + s.refund, paid);
                assert!(s.fee >= 0 && s.refund >= 0);
            }
        }
    }
}
