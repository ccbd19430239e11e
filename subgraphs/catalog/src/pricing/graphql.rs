//! Prices in GraphQL: `Price` (a quote and the rule that gave it) and `VolumeTier`.

use crate::pricing::{PriceRule, Quote, VolumeTier};
use async_graphql::{ID, Object};
use cityos_core::ids::to_id;
use cityos_core::money::Money;

/// A quantity break and the unit price it gives.
pub struct TierView {
    pub tier: VolumeTier,
    pub unit_price: Option<Money>,
}

/// A quantity break: buying between `minQuantity` and `maxQuantity` units of a variant on one line
/// costs `unitPrice` each.
#[Object(name = "VolumeTier")]
impl TierView {
    /// The tier's id.
    async fn id(&self) -> ID {
        to_id(self.tier.id)
    }
    /// The fewest units the tier applies to.
    async fn min_quantity(&self) -> i32 {
        self.tier.min_quantity
    }
    /// The most units it applies to; null for no upper bound.
    async fn max_quantity(&self) -> Option<i32> {
        self.tier.max_quantity
    }
    /// The unit price it gives; null for a percentage tier of a variant without a base price.
    async fn unit_price(&self) -> Option<Money> {
        self.unit_price
    }
    /// The percentage off the base price, for percentage tiers (12.5 means 12.5 %).
    async fn percent_off(&self) -> Option<f64> {
        self.tier.percent_off_bp.map(|bp| f64::from(bp) / 100.0)
    }
    /// Whether it applies to every variant of the product rather than to this one only.
    async fn product_wide(&self) -> bool {
        self.tier.variant_id.is_none()
    }
    /// The customer group it is limited to, if any.
    async fn customer_group_id(&self) -> Option<ID> {
        self.tier.customer_group_id.map(to_id)
    }
}

/// A price for a quantity of a variant, and the rule it came from.
#[Object(name = "Price")]
impl Quote {
    /// Price of one unit.
    async fn unit_price(&self) -> Money {
        self.unit_price
    }
    /// Units priced.
    async fn quantity(&self) -> i64 {
        self.quantity
    }
    /// Unit price times quantity.
    async fn line_total(&self) -> Money {
        self.line_total
    }
    /// Which pricing rule produced the unit price.
    async fn rule(&self) -> PriceRule {
        self.rule
    }
    /// The base unit price, when the caller pays less than it (for a struck-through price).
    async fn compare_at_unit_price(&self) -> Option<Money> {
        self.compare_at
    }
    /// The price list or volume tier that produced the price; null for the base price.
    async fn rule_source_id(&self) -> Option<ID> {
        self.source.map(ID::from)
    }
}
