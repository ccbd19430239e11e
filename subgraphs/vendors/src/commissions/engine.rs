//! The commission of one line, as one pure function: [`commission`] picks the rule that applies
//! and says what it takes. No I/O; the ledger feeds it the rules in force and the line's facts.
//!
//! **Which rule.** A rule applies to a line when it is in force at the line's time (`valid_from`
//! inclusive, `valid_until` exclusive), its currency (if it names one) is the line's, its scope
//! covers the line, and the order reaches its minimum (`min_order`, in the rule's currency). Of the
//! rules that apply, the most specific scope wins: the line's **product**, then its **categories**
//! (the deepest first: a rule on "Oud" beats one on "Perfume"), then its **vendor**, then the
//! **tenant** default; within one scope, the higher `priority`, then the rule named first (by id,
//! so the choice never depends on load order; creating a rule that would tie is refused).
//!
//! **What it takes.** PERCENTAGE takes `rate` basis points of the line's commissionable amount;
//! FIXED takes an amount per unit; TIERED takes the basis points of the band its basis falls in
//! (the vendor's sales this calendar month before this order, or this order's amount): the band
//! with the largest `from` not above the basis. Basis-point results are rounded half away from
//! zero, per line. The result is then capped at the rule's `max_per_line`, and always lies
//! between 0 and the line's commissionable amount.

use crate::ids::VendorId;
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use uuid::Uuid;

/// Basis points in a whole.
pub const WHOLE: i64 = 10_000;

/// What a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every line of the tenant.
    Tenant,
    /// Lines sold by a vendor.
    Vendor(VendorId),
    /// Lines of products in a category or its descendants.
    Category(Uuid),
    /// Lines of one product.
    Product(Uuid),
}

cityos_core::states! {
    /// What a TIERED commission rule's bands are measured against.
    #[graphql(name = "CommissionTierBasis")]
    pub enum TierBasis {
        /// The vendor's sales in the current calendar month, before this order.
        VendorMonthSales = "VENDOR_MONTH_SALES",
        /// The amount of the order the line is in.
        OrderAmount = "ORDER_AMOUNT",
    }
}

/// One band of a TIERED rule: from `from` minor units of the basis on, `rate` basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Band {
    /// Where the band starts (inclusive), in minor units of the rule's currency.
    pub from: i64,
    /// Its rate, in basis points.
    pub rate: i64,
}

/// How a rule computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// A share of the amount, in basis points.
    Percentage { rate: i64 },
    /// An amount per unit, in minor units of the rule's currency.
    Fixed { per_unit: i64 },
    /// A share by band, in basis points; bands ascend from 0.
    Tiered { basis: TierBasis, bands: Vec<Band> },
}

/// A commission rule in force (or not) for the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Uuid,
    pub scope: Scope,
    pub method: Method,
    /// The currency its amounts are in; a rule with one applies to lines in it only. FIXED and
    /// TIERED rules and rules with a minimum or a cap always name one.
    pub currency: Option<Currency>,
    pub min_order: Option<i64>,
    pub max_per_line: Option<i64>,
    pub priority: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// A line as its commission sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The product sold; `None` for a line of no product (a booking of a service not linked to
    /// one), which only vendor-wide rules cover.
    pub product: Option<Uuid>,
    /// The product's categories and their ancestors, each with its depth (1 for a root).
    pub categories: Vec<(Uuid, i32)>,
    pub vendor: VendorId,
    pub currency: Currency,
    pub quantity: i64,
    /// What commission is taken from: the line's net amount (and its tax or shipping share when
    /// the tenant says those are commissionable). Never negative.
    pub amount: i64,
    /// The order's amount, for minimums and ORDER_AMOUNT bands.
    pub order_amount: i64,
    /// The vendor's sales this calendar month before this order, for VENDOR_MONTH_SALES bands.
    pub month_sales: i64,
    pub at: DateTime<Utc>,
}

/// The commission of a line and the rule that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub rule: Uuid,
    pub amount: i64,
}

/// `amount * rate / 10 000`, rounded half away from zero.
pub fn basis_points(amount: i64, rate: i64) -> i64 {
    let product = i128::from(amount) * i128::from(rate);
    let whole = i128::from(WHOLE);
    let half = whole / 2;
    let rounded = if product >= 0 {
        (product + half) / whole
    } else {
        (product - half) / whole
    };
    i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN })
}

/// How specific a rule's scope is for `line`, higher first; `None` when it does not cover it.
fn specificity(scope: Scope, line: &Line) -> Option<(u8, i32)> {
    match scope {
        Scope::Product(p) => (Some(p) == line.product).then_some((3, 0)),
        Scope::Category(c) => line
            .categories
            .iter()
            .filter(|(id, _)| *id == c)
            .map(|(_, depth)| (2, *depth))
            .max(),
        Scope::Vendor(v) => (v == line.vendor).then_some((1, 0)),
        Scope::Tenant => Some((0, 0)),
    }
}

fn applies(rule: &Rule, line: &Line) -> bool {
    rule.valid_from <= line.at
        && rule.valid_until.is_none_or(|until| line.at < until)
        && rule.currency.is_none_or(|c| c == line.currency)
        && rule.min_order.is_none_or(|min| line.order_amount >= min)
}

/// What `rule` takes of `line`, before the caps.
fn raw(rule: &Rule, line: &Line) -> i64 {
    match &rule.method {
        Method::Percentage { rate } => basis_points(line.amount, *rate),
        Method::Fixed { per_unit } => per_unit.saturating_mul(line.quantity),
        Method::Tiered { basis, bands } => {
            let measure = match basis {
                TierBasis::VendorMonthSales => line.month_sales,
                TierBasis::OrderAmount => line.order_amount,
            };
            let rate = bands
                .iter()
                .filter(|b| b.from <= measure)
                .max_by_key(|b| b.from)
                .map_or(0, |b| b.rate);
            basis_points(line.amount, rate)
        }
    }
}

/// The rule that applies to `line` among `rules`, and the commission it takes; `None` when no
/// rule applies (no commission).
pub fn commission(rules: &[Rule], line: &Line) -> Option<Applied> {
    let rule = rules
        .iter()
        .filter(|r| applies(r, line))
        .filter_map(|r| specificity(r.scope, line).map(|s| (s, r)))
        .max_by(|(a, ra), (b, rb)| {
            a.cmp(b)
                .then(ra.priority.cmp(&rb.priority))
                .then(rb.id.cmp(&ra.id))
        })
        .map(|(_, r)| r)?;
    let mut amount = raw(rule, line);
    if let Some(cap) = rule.max_per_line {
        amount = amount.min(cap);
    }
    let amount = amount.clamp(0, line.amount.max(0));
    Some(Applied {
        rule: rule.id,
        amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn at(day: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, day, 12, 0, 0)
            .single()
            .expect("date")
    }

    fn rule(id: u128, scope: Scope, method: Method) -> Rule {
        Rule {
            id: Uuid::from_u128(id),
            scope,
            method,
            currency: None,
            min_order: None,
            max_per_line: None,
            priority: 0,
            valid_from: at(1),
            valid_until: None,
        }
    }

    fn pct(rate: i64) -> Method {
        Method::Percentage { rate }
    }

    const PRODUCT: Uuid = Uuid::from_u128(100);
    const PERFUME: Uuid = Uuid::from_u128(200);
    const OUD: Uuid = Uuid::from_u128(201);

    fn vendor() -> VendorId {
        VendorId::from_uuid(Uuid::from_u128(300))
    }

    fn line(amount: i64, quantity: i64) -> Line {
        Line {
            product: Some(PRODUCT),
            categories: vec![(PERFUME, 1), (OUD, 2)],
            vendor: vendor(),
            currency: Currency::SAR,
            quantity,
            amount,
            order_amount: amount,
            month_sales: 0,
            at: at(15),
        }
    }

    #[test]
    fn the_most_specific_scope_wins_then_priority() {
        let rules = vec![
            rule(1, Scope::Tenant, pct(1000)),
            rule(2, Scope::Vendor(vendor()), pct(900)),
            rule(3, Scope::Category(PERFUME), pct(800)),
            rule(4, Scope::Category(OUD), pct(700)),
            rule(5, Scope::Product(PRODUCT), pct(600)),
        ];
        let l = line(10_000, 1);
        let mut left = rules.clone();
        for expected in [5, 4, 3, 2, 1] {
            assert_eq!(
                commission(&left, &l).map(|a| a.rule),
                Some(Uuid::from_u128(expected))
            );
            left.retain(|r| r.id != Uuid::from_u128(expected));
        }
        assert_eq!(commission(&left, &l), None, "no rule: no commission");
        let mut favoured = rule(6, Scope::Tenant, pct(100));
        favoured.priority = 5;
        let picked = commission(&[rule(1, Scope::Tenant, pct(1000)), favoured], &l);
        assert_eq!(
            picked,
            Some(Applied {
                rule: Uuid::from_u128(6),
                amount: 100
            })
        );
        // A rule on another product, category or vendor does not cover the line.
        let others = [
            rule(7, Scope::Product(Uuid::from_u128(9)), pct(1)),
            rule(8, Scope::Category(Uuid::from_u128(9)), pct(1)),
            rule(9, Scope::Vendor(VendorId::new()), pct(1)),
        ];
        assert_eq!(commission(&others, &l), None);
    }

    #[test]
    fn windows_currencies_and_minimums_decide_whether_a_rule_applies() {
        let l = line(10_000, 1);
        let mut later = rule(1, Scope::Tenant, pct(1000));
        later.valid_from = at(16);
        let mut ended = rule(2, Scope::Tenant, pct(1000));
        ended.valid_until = Some(at(15));
        let mut usd = rule(3, Scope::Tenant, pct(1000));
        usd.currency = Some(Currency::USD);
        let mut minimum = rule(4, Scope::Tenant, pct(1000));
        minimum.min_order = Some(10_001);
        assert_eq!(commission(&[later, ended, usd, minimum.clone()], &l), None);
        minimum.min_order = Some(10_000);
        assert_eq!(commission(&[minimum], &l).map(|a| a.amount), Some(1000));
    }

    #[test]
    fn each_method_computes_and_rounds_half_away_from_zero() {
        // 12.5% of 1.01 SAR is 12.625 halalas: 13.
        assert_eq!(
            commission(&[rule(1, Scope::Tenant, pct(1250))], &line(101, 1)).map(|a| a.amount),
            Some(13)
        );
        assert_eq!(basis_points(-101, 1250), -13);
        assert_eq!(basis_points(4, 1250), 1, "0.5 rounds up");
        let fixed = rule(2, Scope::Tenant, Method::Fixed { per_unit: 150 });
        assert_eq!(
            commission(std::slice::from_ref(&fixed), &line(10_000, 3)).map(|a| a.amount),
            Some(450)
        );
        // Never more than the line: a fixed fee on a cheap line is capped at the line.
        assert_eq!(
            commission(&[fixed], &line(200, 3)).map(|a| a.amount),
            Some(200)
        );
        let bands = vec![
            Band {
                from: 0,
                rate: 1500,
            },
            Band {
                from: 100_000,
                rate: 1000,
            },
            Band {
                from: 500_000,
                rate: 500,
            },
        ];
        let tiered = rule(
            3,
            Scope::Tenant,
            Method::Tiered {
                basis: TierBasis::VendorMonthSales,
                bands,
            },
        );
        let mut l = line(10_000, 1);
        for (sales, rate) in [(0, 1500), (99_999, 1500), (100_000, 1000), (750_000, 500)] {
            l.month_sales = sales;
            assert_eq!(
                commission(std::slice::from_ref(&tiered), &l).map(|a| a.amount),
                Some(basis_points(10_000, rate))
            );
        }
        let mut capped = rule(4, Scope::Tenant, pct(5000));
        capped.max_per_line = Some(1_000);
        assert_eq!(
            commission(&[capped], &line(10_000, 1)).map(|a| a.amount),
            Some(1_000)
        );
    }

    fn random_rule(rng: &mut impl Rng, id: u128) -> Rule {
        let scope = match rng.gen_range(0..4) {
            0 => Scope::Tenant,
            1 => Scope::Vendor(vendor()),
            2 => Scope::Category(if rng.gen_bool(0.5) { PERFUME } else { OUD }),
            _ => Scope::Product(PRODUCT),
        };
        let method = match rng.gen_range(0..3) {
            0 => pct(rng.gen_range(0..=WHOLE)),
            1 => Method::Fixed {
                per_unit: rng.gen_range(0..5_000),
            },
            _ => {
                let mut from = 0;
                let mut bands = Vec::new();
                for _ in 0..rng.gen_range(1..4) {
                    bands.push(Band {
                        from,
                        rate: rng.gen_range(0..=WHOLE),
                    });
                    from += rng.gen_range(1..200_000);
                }
                let basis = if rng.gen_bool(0.5) {
                    TierBasis::OrderAmount
                } else {
                    TierBasis::VendorMonthSales
                };
                Method::Tiered { basis, bands }
            }
        };
        Rule {
            priority: rng.gen_range(-2..3),
            min_order: rng.gen_bool(0.2).then(|| rng.gen_range(0..50_000)),
            max_per_line: rng.gen_bool(0.2).then(|| rng.gen_range(0..20_000)),
            ..rule(id, scope, method)
        }
    }

    #[test]
    fn commissions_are_bounded_deterministic_and_percentages_grow_with_quantity() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_201);
        for case in 0..5_000 {
            let rules: Vec<Rule> = (0..rng.gen_range(0..6))
                .map(|i| random_rule(&mut rng, i))
                .collect();
            let unit = rng.gen_range(0..100_000);
            let quantity = rng.gen_range(1..50);
            let mut l = line(unit * quantity, quantity);
            l.month_sales = rng.gen_range(0..1_000_000);
            l.order_amount = l.amount + rng.gen_range(0..100_000);
            let got = commission(&rules, &l);
            if let Some(applied) = got {
                assert!(
                    (0..=l.amount).contains(&applied.amount),
                    "case {case}: {applied:?} of {l:?}"
                );
                assert!(rules.iter().any(|r| r.id == applied.rule));
            } else {
                assert!(
                    rules.iter().all(|r| !applies(r, &l)),
                    "case {case}: a rule applied but none was chosen"
                );
            }
            // The order of the rules never changes the choice.
            let mut shuffled = rules.clone();
            shuffled.reverse();
            assert_eq!(commission(&shuffled, &l), got, "case {case}");
            // One more unit of the same line never lowers a percentage commission.
            if let Some(applied) = got
                && let Some(r) = rules.iter().find(|r| r.id == applied.rule)
                && matches!(r.method, Method::Percentage { .. })
            {
                let mut more = l.clone();
                more.quantity += 1;
                more.amount += unit;
                more.order_amount += unit;
                let next = commission(&rules, &more).expect("still applies");
                if next.rule == applied.rule {
                    assert!(
                        next.amount >= applied.amount,
                        "case {case}: {next:?} < {applied:?}"
                    );
                }
            }
        }
    }
}
