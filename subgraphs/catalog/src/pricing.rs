//! What a customer pays: the one pricing function every domain uses.
//!
//! `quote` answers "what does this customer pay for quantity Q of variant V in currency C at time
//! T" and says which rule applied. Today the catalog knows base prices per variant and currency, so
//! that is the only rule. The precedence the catalog grows into, highest first:
//! an OVERRIDE price list for one of the customer's groups, then a volume tier for the quantity,
//! then a SALE price list (the lower of sale and base), then the base price. Each added rule is a
//! new `PriceRule` value; callers read the rule, never assume it.
//!
//! The orders domain calls [`quote`] inside its own transaction at checkout, so the price it
//! records is the price the catalog holds at that moment.

use crate::schema::variant_prices;
use chrono::{DateTime, Utc};
use cityos_core::money::{Currency, Money};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// The largest quantity priced in one request.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// Which rule produced a price.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceRule {
    /// The variant's base price in the currency.
    BasePrice,
}

/// A question for the pricing function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRequest {
    /// The variant.
    pub variant_id: Uuid,
    /// The currency to price in (no conversion: a variant without a price in it has no price).
    pub currency: Currency,
    /// How many units, at least 1.
    pub quantity: i64,
    /// When (price lists and tiers are dated).
    pub at: DateTime<Utc>,
}

/// The answer: unit price, line total and the rule that applied.
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
}

/// Applies the pricing rules to the facts loaded for a request. `None` when the variant has no price
/// in the currency, or the quantity is out of range, or the total would overflow.
pub fn resolve(request: &PriceRequest, base_amount: Option<i64>) -> Option<Quote> {
    if !(1..=MAX_QUANTITY).contains(&request.quantity) {
        return None;
    }
    let unit = base_amount?;
    let total = unit.checked_mul(request.quantity)?;
    Some(Quote {
        unit_price: Money::new(unit, request.currency),
        quantity: request.quantity,
        line_total: Money::new(total, request.currency),
        rule: PriceRule::BasePrice,
    })
}

/// Prices a request on the caller's connection, inside the caller's (tenant-scoped) transaction.
pub async fn quote(
    conn: &mut AsyncPgConnection,
    request: &PriceRequest,
) -> QueryResult<Option<Quote>> {
    let base: Option<i64> = variant_prices::table
        .filter(variant_prices::variant_id.eq(request.variant_id))
        .filter(variant_prices::currency.eq(request.currency.code()))
        .select(variant_prices::amount)
        .first(conn)
        .await
        .optional()?;
    Ok(resolve(request, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(quantity: i64) -> PriceRequest {
        PriceRequest {
            variant_id: Uuid::nil(),
            currency: Currency::parse("SAR").unwrap(),
            quantity,
            at: Utc::now(),
        }
    }

    #[test]
    fn base_price_times_quantity() {
        let q = resolve(&request(3), Some(1250)).unwrap();
        assert_eq!(
            (q.unit_price.amount, q.line_total.amount, q.rule),
            (1250, 3750, PriceRule::BasePrice)
        );
    }

    #[test]
    fn no_price_bad_quantity_or_overflow_gives_none() {
        assert_eq!(resolve(&request(1), None), None);
        assert_eq!(resolve(&request(0), Some(1)), None);
        assert_eq!(resolve(&request(MAX_QUANTITY + 1), Some(1)), None);
        assert_eq!(resolve(&request(2), Some(i64::MAX)), None);
    }
}
