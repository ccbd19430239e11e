//! What a customer pays: the one pricing function every domain uses.
//!
//! [`quote`] answers "what does this customer pay for quantity Q of variant V in currency C at time
//! T" and says which rule applied. [`resolve`] is the rule itself, pure, over the facts loaded for
//! the variant and the customer. There is no currency conversion: a variant without a price in a
//! currency has no price in it.
//!
//! Precedence, for the currency asked:
//! 1. An OVERRIDE price list that is active at T and open to the customer (no customer group, or a
//!    group the customer belongs to) sets the price outright; among several, the lowest.
//! 2. Otherwise the customer pays the lowest of: the base price; the price on an active SALE list
//!    open to the customer; the unit price of a volume tier open to the customer whose quantity range
//!    contains Q (a fixed unit price, or a percentage off the base price). Buying more never costs
//!    more per unit than the sale price, and a sale never raises a price.
//! 3. Ties go to the earlier of base, SALE, tier, so a sale equal to the base reports BASE_PRICE.
//!
//! Volume tiers count the units of one variant on one line. A product-wide tier (no variant) applies
//! to each of its variants. Percentages are in basis points and round half up to the minor unit.
//!
//! The orders domain calls [`quote`] inside its own transaction at checkout, so the price it
//! records is the price the catalog holds at that moment.

pub mod graphql;

use crate::ids::{CustomerGroupId, PriceListId, ProductId, VariantId, VolumeTierId};
use crate::schema::variant_prices;
use chrono::{DateTime, Utc};
use cityos_core::money::{Currency, Money};
use diesel::{Queryable, Selectable};
use serde::Deserialize;

/// The largest quantity priced in one request.
pub const MAX_QUANTITY: i64 = 1_000_000;

cityos_core::states! {
    /// Which rule produced a price.
    pub enum PriceRule {
        /// The variant's base price in the currency.
        BasePrice = "BASE_PRICE",
        /// A SALE price list, below the base price.
        SalePriceList = "SALE_PRICE_LIST",
        /// An OVERRIDE price list (for example a customer group's contract price).
        OverridePriceList = "OVERRIDE_PRICE_LIST",
        /// A volume tier for the quantity.
        VolumeTier = "VOLUME_TIER",
        /// A price negotiated in an accepted quote (set by orders, never by the catalog's
        /// pricing).
        Negotiated = "NEGOTIATED",
    }
}

cityos_core::states! {
    /// Whether a price list replaces prices or only undercuts them.
    pub enum PriceListKind {
        /// Applies only where it is below every other price the customer could get.
        Sale = "SALE",
        /// Sets the price outright, above or below the base price.
        Override = "OVERRIDE",
    }
}

/// A variant's base price in one currency.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = variant_prices, check_for_backend(diesel::pg::Pg))]
pub struct VariantPrice {
    pub variant_id: VariantId,
    pub currency: String,
    pub amount: i64,
}

/// A variant's price on a price list, with the list's limits.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ListPrice {
    pub list_id: PriceListId,
    pub kind: PriceListKind,
    pub customer_group_id: Option<CustomerGroupId>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub currency: String,
    pub amount: i64,
}

/// Whether `at` falls in a price list's window: from `starts` (inclusive) to `ends` (exclusive),
/// an open end reaching forever.
pub fn in_window(
    starts: Option<DateTime<Utc>>,
    ends: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    starts.is_none_or(|s| s <= at) && ends.is_none_or(|e| at < e)
}

/// A quantity break of a product or one of its variants.
#[derive(Deserialize, Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = crate::schema::volume_tiers, check_for_backend(diesel::pg::Pg))]
pub struct VolumeTier {
    pub id: VolumeTierId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub currency: String,
    pub customer_group_id: Option<CustomerGroupId>,
    pub min_quantity: i32,
    pub max_quantity: Option<i32>,
    pub unit_amount: Option<i64>,
    pub percent_off_bp: Option<i32>,
}

impl VolumeTier {
    /// Whether the tier covers `quantity` units.
    pub fn covers(&self, quantity: i64) -> bool {
        i64::from(self.min_quantity) <= quantity
            && self.max_quantity.is_none_or(|m| quantity <= i64::from(m))
    }

    /// The tier's unit price given the base price: its fixed price, or the base less its
    /// percentage (rounded half up). `None` for a percentage tier without a base price.
    pub fn unit_amount(&self, base: Option<i64>) -> Option<i64> {
        match (self.unit_amount, self.percent_off_bp) {
            (Some(amount), _) => Some(amount),
            (None, Some(bp)) => {
                let base = i128::from(base?);
                let off = (base * i128::from(bp) + 5_000) / 10_000;
                i64::try_from(base - off).ok()
            }
            (None, None) => None,
        }
    }
}

/// A question for the pricing function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRequest {
    /// The variant.
    pub variant_id: VariantId,
    /// The currency to price in.
    pub currency: Currency,
    /// How many units, 1 to [`MAX_QUANTITY`].
    pub quantity: i64,
    /// When (price lists are dated).
    pub at: DateTime<Utc>,
}

/// The facts the rule reads: a variant's base prices, the price-list entries and volume tiers that
/// may apply to it, and the customer groups of the customer asking.
#[derive(Debug, Clone, Copy)]
pub struct PricingFacts<'a> {
    pub base: &'a [VariantPrice],
    pub lists: &'a [ListPrice],
    pub tiers: &'a [VolumeTier],
    pub groups: &'a [CustomerGroupId],
}

/// The answer: unit price, line total, the rule that applied and the base price it undercuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Price of one unit.
    pub unit_price: Money,
    /// Units priced.
    pub quantity: i64,
    /// `unit_price` times `quantity`.
    pub line_total: Money,
    /// The rule that produced `unit_price`.
    pub rule: PriceRule,
    /// The price list or volume tier that applied, if one did.
    pub source: Option<PriceSource>,
    /// The base unit price, when the customer pays less than it.
    pub compare_at: Option<Money>,
}

/// The price list or volume tier a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// An override or sale price list.
    List(PriceListId),
    /// A volume tier.
    Tier(VolumeTierId),
}

impl std::fmt::Display for PriceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::List(id) => id.fmt(f),
            Self::Tier(id) => id.fmt(f),
        }
    }
}

fn open_to(group: Option<CustomerGroupId>, groups: &[CustomerGroupId]) -> bool {
    group.is_none_or(|g| groups.contains(&g))
}

/// Applies the rules (see the module documentation) to the facts of one variant. `None` when no
/// rule gives a price in the currency, the quantity is out of range, or the total would overflow.
pub fn resolve(request: &PriceRequest, facts: PricingFacts<'_>) -> Option<Quote> {
    if !(1..=MAX_QUANTITY).contains(&request.quantity) {
        return None;
    }
    let code = request.currency.code();
    let base = facts
        .base
        .iter()
        .find(|p| p.currency == code)
        .map(|p| p.amount);
    let lists = facts.lists.iter().filter(|l| {
        l.currency == code
            && in_window(l.starts_at, l.ends_at, request.at)
            && open_to(l.customer_group_id, facts.groups)
    });
    let overriding = lists
        .clone()
        .filter(|l| l.kind == PriceListKind::Override)
        .min_by_key(|l| (l.amount, l.list_id));
    let (unit, rule, source) = match overriding {
        Some(list) => (
            list.amount,
            PriceRule::OverridePriceList,
            Some(PriceSource::List(list.list_id)),
        ),
        None => {
            let sales = lists.filter(|l| l.kind == PriceListKind::Sale).map(|l| {
                (
                    l.amount,
                    PriceRule::SalePriceList,
                    Some(PriceSource::List(l.list_id)),
                )
            });
            let tiers = facts
                .tiers
                .iter()
                .filter(|t| {
                    t.currency == code
                        && (t.variant_id.is_none() || t.variant_id == Some(request.variant_id))
                        && open_to(t.customer_group_id, facts.groups)
                        && t.covers(request.quantity)
                })
                .filter_map(|t| {
                    let source = Some(PriceSource::Tier(t.id));
                    Some((t.unit_amount(base)?, PriceRule::VolumeTier, source))
                });
            // `min_by_key` keeps the first of equal keys: base, then sales, then tiers.
            base.map(|b| (b, PriceRule::BasePrice, None))
                .into_iter()
                .chain(sales)
                .chain(tiers)
                .min_by_key(|(amount, _, _)| *amount)?
        }
    };
    let total = unit.checked_mul(request.quantity)?;
    Some(Quote {
        unit_price: Money::new(unit, request.currency),
        quantity: request.quantity,
        line_total: Money::new(total, request.currency),
        rule,
        source,

        compare_at: base
            .filter(|b| *b > unit)
            .map(|b| Money::new(b, request.currency)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    use chrono::Duration;

    const VARIANT: VariantId = VariantId::from_uuid(Uuid::from_u128(1));
    const WHOLESALE: CustomerGroupId = CustomerGroupId::from_uuid(Uuid::from_u128(2));

    fn sar() -> Currency {
        Currency::SAR
    }

    fn request(quantity: i64) -> PriceRequest {
        PriceRequest {
            variant_id: VARIANT,
            currency: sar(),
            quantity,
            at: Utc::now(),
        }
    }

    fn base(amount: i64) -> Vec<VariantPrice> {
        vec![VariantPrice {
            variant_id: VARIANT,
            currency: "SAR".into(),
            amount,
        }]
    }

    fn list(id: u128, kind: PriceListKind, amount: i64) -> ListPrice {
        ListPrice {
            list_id: PriceListId::from_uuid(Uuid::from_u128(id)),
            kind,
            customer_group_id: None,
            starts_at: None,
            ends_at: None,
            currency: "SAR".into(),
            amount,
        }
    }

    fn tier(
        id: u128,
        min: i32,
        max: Option<i32>,
        unit: Option<i64>,
        bp: Option<i32>,
    ) -> VolumeTier {
        VolumeTier {
            id: VolumeTierId::from_uuid(Uuid::from_u128(id)),
            product_id: ProductId::from_uuid(Uuid::nil()),
            variant_id: None,
            currency: "SAR".into(),
            customer_group_id: None,
            min_quantity: min,
            max_quantity: max,
            unit_amount: unit,
            percent_off_bp: bp,
        }
    }

    fn price(
        q: i64,
        base: &[VariantPrice],
        lists: &[ListPrice],
        tiers: &[VolumeTier],
        groups: &[CustomerGroupId],
    ) -> Option<(i64, PriceRule)> {
        let facts = PricingFacts {
            base,
            lists,
            tiers,
            groups,
        };
        resolve(&request(q), facts).map(|q| (q.unit_price.amount, q.rule))
    }

    #[test]
    fn base_price_times_quantity() {
        let q = resolve(
            &request(3),
            PricingFacts {
                base: &base(1250),
                lists: &[],
                tiers: &[],
                groups: &[],
            },
        )
        .unwrap();
        assert_eq!(
            (
                q.unit_price.amount,
                q.line_total.amount,
                q.rule,
                q.compare_at
            ),
            (1250, 3750, PriceRule::BasePrice, None)
        );
    }

    #[test]
    fn no_price_bad_quantity_or_overflow_gives_none() {
        assert_eq!(price(1, &[], &[], &[], &[]), None);
        assert_eq!(price(0, &base(1), &[], &[], &[]), None);
        assert_eq!(price(MAX_QUANTITY + 1, &base(1), &[], &[], &[]), None);
        assert_eq!(price(2, &base(i64::MAX), &[], &[], &[]), None);
        // Another currency's price is not this currency's price.
        let usd = [VariantPrice {
            variant_id: VARIANT,
            currency: "USD".into(),
            amount: 100,
        }];
        assert_eq!(price(1, &usd, &[], &[], &[]), None);
    }

    #[test]
    fn a_sale_only_ever_lowers_the_price() {
        let sale = [list(10, PriceListKind::Sale, 900)];
        assert_eq!(
            price(1, &base(1000), &sale, &[], &[]),
            Some((900, PriceRule::SalePriceList))
        );
        let dearer = [list(10, PriceListKind::Sale, 1100)];
        assert_eq!(
            price(1, &base(1000), &dearer, &[], &[]),
            Some((1000, PriceRule::BasePrice))
        );
        let equal = [list(10, PriceListKind::Sale, 1000)];
        assert_eq!(
            price(1, &base(1000), &equal, &[], &[]),
            Some((1000, PriceRule::BasePrice))
        );
        let q = resolve(
            &request(2),
            PricingFacts {
                base: &base(1000),
                lists: &sale,
                tiers: &[],
                groups: &[],
            },
        )
        .unwrap();
        assert_eq!(q.compare_at.map(|m| m.amount), Some(1000));
        assert_eq!(
            q.source,
            Some(PriceSource::List(PriceListId::from_uuid(Uuid::from_u128(
                10
            ))))
        );
        assert_eq!(q.line_total.amount, 1800);
    }

    #[test]
    fn an_override_wins_even_above_base_and_below_tiers() {
        let lists = [
            list(10, PriceListKind::Sale, 500),
            list(11, PriceListKind::Override, 1200),
            list(12, PriceListKind::Override, 1100),
        ];
        let tiers = [tier(20, 1, None, Some(100), None)];
        assert_eq!(
            price(5, &base(1000), &lists, &tiers, &[]),
            Some((1100, PriceRule::OverridePriceList))
        );
        // An override prices a variant that has no base price.
        assert_eq!(
            price(1, &[], &lists[1..], &[], &[]),
            Some((1100, PriceRule::OverridePriceList))
        );
    }

    #[test]
    fn lists_apply_only_inside_their_window() {
        let now = Utc::now();
        let mut future = list(10, PriceListKind::Sale, 500);
        future.starts_at = Some(now + Duration::hours(1));
        let mut past = list(11, PriceListKind::Override, 100);
        past.ends_at = Some(now - Duration::seconds(1));
        let mut open = list(12, PriceListKind::Sale, 800);
        open.starts_at = Some(now - Duration::hours(1));
        open.ends_at = Some(now + Duration::hours(1));
        assert_eq!(
            price(1, &base(1000), &[future, past, open], &[], &[]),
            Some((800, PriceRule::SalePriceList))
        );
    }

    #[test]
    fn group_limited_rules_apply_to_members_only() {
        let mut contract = list(10, PriceListKind::Override, 700);
        contract.customer_group_id = Some(WHOLESALE);
        let mut bulk = tier(20, 10, None, Some(600), None);
        bulk.customer_group_id = Some(WHOLESALE);
        let (lists, tiers) = ([contract], [bulk]);
        assert_eq!(
            price(10, &base(1000), &lists, &tiers, &[]),
            Some((1000, PriceRule::BasePrice))
        );
        assert_eq!(
            price(10, &base(1000), &lists, &tiers, &[WHOLESALE]),
            Some((700, PriceRule::OverridePriceList))
        );
        assert_eq!(
            price(10, &base(1000), &[], &tiers, &[WHOLESALE]),
            Some((600, PriceRule::VolumeTier))
        );
    }

    #[test]
    fn tiers_cover_their_quantities_and_the_lowest_price_wins() {
        let tiers = [
            tier(20, 10, Some(49), None, Some(1000)),
            tier(21, 50, None, Some(700), None),
        ];
        let sale = [list(10, PriceListKind::Sale, 850)];
        let b = base(1000);
        assert_eq!(
            price(9, &b, &[], &tiers, &[]),
            Some((1000, PriceRule::BasePrice))
        );
        assert_eq!(
            price(10, &b, &[], &tiers, &[]),
            Some((900, PriceRule::VolumeTier))
        );
        assert_eq!(
            price(49, &b, &sale, &tiers, &[]),
            Some((850, PriceRule::SalePriceList))
        );
        assert_eq!(
            price(50, &b, &sale, &tiers, &[]),
            Some((700, PriceRule::VolumeTier))
        );
        // A percentage tier needs a base price; a fixed one does not.
        assert_eq!(price(10, &[], &[], &tiers, &[]), None);
        assert_eq!(
            price(50, &[], &[], &tiers, &[]),
            Some((700, PriceRule::VolumeTier))
        );
        // A tier of another variant does not apply.
        let mut other = tier(22, 1, None, Some(1), None);
        other.variant_id = Some(VariantId::from_uuid(Uuid::from_u128(99)));

        assert_eq!(
            price(1, &b, &[], &[other], &[]),
            Some((1000, PriceRule::BasePrice))
        );
    }

    #[test]
    fn percentages_round_half_up() {
        let t = tier(1, 1, None, None, Some(1250));
        assert_eq!(t.unit_amount(Some(999)), Some(874)); // 999 - 124.875 -> 999 - 125
        assert_eq!(t.unit_amount(Some(4)), Some(3)); // 0.5 off rounds to 1
        assert_eq!(
            tier(1, 1, None, None, Some(10_000)).unit_amount(Some(999)),
            Some(0)
        );
    }
}
