//! Tax rules: a rate per country, optionally narrowed to a region and a product category, either
//! included in prices or added to them, computed per line.
//!
//! For a line, the rules of the address's country apply. A rule naming a region applies only
//! there; a rule naming a category applies to products in that category or below it. The most
//! specific rule wins: a region rule over a country rule, then a deeper category over a shallower
//! one (or none), then the higher rate. Amounts round half away from zero, per line.

pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, refusal};
use crate::ids::{CategoryId, TaxRuleId};
use crate::schema::tax_rules;
use crate::shipping::country_codes;
use chrono::{DateTime, Utc};
use cityos_core::money::ratio;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::Database;
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;

/// The most rules a tenant keeps.
pub const MAX_RULES: i64 = 1000;
/// 100% in basis points.
pub const FULL: i64 = 10_000;

/// A tax rule as stored.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone)]
#[diesel(table_name = tax_rules, check_for_backend(diesel::pg::Pg))]
pub struct TaxRule {
    pub id: TaxRuleId,
    pub name: String,
    pub country_code: String,
    pub region: Option<String>,
    pub category_id: Option<CategoryId>,
    /// Basis points: 1500 is 15%.
    pub rate: i32,
    pub inclusive: bool,
    pub created_at: DateTime<Utc>,
}

/// A rule of the address's country with the depth of its category (0 without one).
#[derive(Deserialize, Debug, Clone)]
pub struct ScopedRule {
    #[serde(flatten)]
    pub rule: TaxRule,
    pub depth: i32,
}

/// The tax of one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineTax {
    /// Basis points.
    pub rate: i32,
    pub inclusive: bool,
    /// The tax in the line's amount (inclusive) or on top of it (exclusive).
    pub amount: i64,
}

impl LineTax {
    /// The tax on `net` (a line after discounts) at `rule`.
    pub fn of(net: i64, rule: &TaxRule) -> Self {
        let rate = i64::from(rule.rate);
        let amount = if rule.inclusive {
            net - ratio(net, FULL, FULL + rate)
        } else {
            ratio(net, rate, FULL)
        };
        Self {
            rate: rule.rate,
            inclusive: rule.inclusive,
            amount,
        }
    }

    /// What it adds to the line's total.
    pub fn added(&self) -> i64 {
        if self.inclusive { 0 } else { self.amount }
    }
}

/// The rule for a product in `categories` (with their ancestors) shipped to `region`, among the
/// rules of the address's country.
pub fn resolve<'a>(
    rules: &'a [ScopedRule],
    region: Option<&str>,
    categories: &[CategoryId],
) -> Option<&'a TaxRule> {
    rules
        .iter()
        .filter(|r| match &r.rule.region {
            None => true,
            Some(want) => region.is_some_and(|have| have.trim().eq_ignore_ascii_case(want)),
        })
        .filter(|r| r.rule.category_id.is_none_or(|c| categories.contains(&c)))
        .max_by_key(|r| {
            (
                r.rule.region.is_some(),
                r.depth,
                r.rule.rate,
                std::cmp::Reverse(r.rule.id),
            )
        })
        .map(|r| &r.rule)
}

/// A new tax rule.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub name: String,
    pub country_code: String,
    pub region: Option<String>,
    pub category_id: Option<CategoryId>,
    pub rate: i32,
    pub inclusive: bool,
}

/// The tenant's rules by country, region and category (staff).
pub async fn list(db: &Database, ctx: &RequestContext) -> Result<Vec<TaxRule>, ApiError> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        Ok(tax_rules::table
            .order((
                tax_rules::country_code,
                tax_rules::region.asc().nulls_first(),
                tax_rules::id,
            ))
            .select(TaxRule::as_select())
            .load(tx.conn())
            .await?)
    })
    .await
}

/// Creates a rule (staff). One rule per country, region and category.
pub async fn create(db: &Database, ctx: &RequestContext, input: RuleInput) -> Outcome<TaxRule> {
    db.staff(ctx, "tax_rule.create", async move |tx| {
        let tenant = tx.tenant();
        let name = input.name.trim().to_owned();
        if !(1..=100).contains(&name.chars().count()) {
            return Err(refusal(
                "name",
                Code::InvalidText,
                "a name has 1 to 100 characters",
            ));
        }
        let country = country_codes(vec![input.country_code], "countryCode")
            .map_err(|_| {
                refusal(
                    "countryCode",
                    Code::InvalidCountry,
                    "a country is an ISO 3166-1 alpha-2 code, e.g. SA",
                )
            })?
            .remove(0);
        let region = match input.region.map(|r| r.trim().to_owned()) {
            Some(r) if r.is_empty() || r.chars().count() > 100 => {
                return Err(refusal(
                    "region",
                    Code::InvalidText,
                    "a region has 1 to 100 characters",
                ));
            }
            other => other,
        };
        if !(0..=10_000).contains(&input.rate) {
            return Err(refusal(
                "rateBasisPoints",
                Code::InvalidAmount,
                "a rate is 0 to 10,000 basis points (0% to 100%)",
            ));
        }
        if let Some(category) = input.category_id {
            crate::errors::check_category(tx, category).await?;
        }
        let count: i64 = tax_rules::table.count().get_result(tx.conn()).await?;
        if count >= MAX_RULES {
            return Err(refusal(
                "name",
                Code::InvalidCount,
                format!("a tenant keeps at most {MAX_RULES} tax rules"),
            ));
        }
        let value = diesel::insert_into(tax_rules::table)
            .values((
                tax_rules::tenant_id.eq(tenant),
                tax_rules::id.eq(TaxRuleId::new()),
                tax_rules::name.eq(&name),
                tax_rules::country_code.eq(&country),
                tax_rules::region.eq(&region),
                tax_rules::category_id.eq(input.category_id),
                tax_rules::rate.eq(input.rate),
                tax_rules::inclusive.eq(input.inclusive),
            ))
            .returning(TaxRule::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("tax_rules_scope_key", e, || {
                    UserError::new(
                        "countryCode",
                        Code::RuleExists,
                        "a rule for this country, region and category exists; delete it first",
                    )
                })
            })?;
        let audit = Audit::of(
            value.id,
            serde_json::json!({ "country": value.country_code, "rate": value.rate }),
        );
        Ok((value, audit))
    })
    .await
}

/// Deletes a rule (staff); orders keep the rate they were placed with.
pub async fn delete(db: &Database, ctx: &RequestContext, id: TaxRuleId) -> Outcome<TaxRule> {
    db.staff(ctx, "tax_rule.delete", async move |tx| {
        let value = diesel::delete(tax_rules::table.filter(tax_rules::id.eq(id)))
            .returning(TaxRule::as_returning())
            .get_result(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| refusal("id", Code::NotFound, "no such tax rule"))?;
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((value, audit))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn rule(region: Option<&str>, category: Option<u128>, depth: i32, rate: i32) -> ScopedRule {
        ScopedRule {
            rule: TaxRule {
                id: TaxRuleId::from_uuid(Uuid::from_u128(u128::from(rate.unsigned_abs()))),
                name: "VAT".into(),
                country_code: "SA".into(),
                region: region.map(Into::into),
                category_id: category.map(|c| CategoryId::from_uuid(Uuid::from_u128(c))),
                rate,
                inclusive: false,
                created_at: Utc::now(),
            },
            depth,
        }
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            rule(None, None, 0, 1500),
            rule(None, Some(1), 1, 500),
            rule(None, Some(2), 2, 0),
            rule(Some("Riyadh"), None, 0, 1600),
        ];
        let rate = |region, cats: &[u128]| {
            let cats: Vec<CategoryId> = cats
                .iter()
                .map(|c| CategoryId::from_uuid(Uuid::from_u128(*c)))
                .collect();
            resolve(&rules, region, &cats).map(|r| r.rate)
        };
        assert_eq!(rate(None, &[]), Some(1500));
        assert_eq!(rate(None, &[1]), Some(500));
        assert_eq!(rate(None, &[1, 2]), Some(0), "the deeper category");
        assert_eq!(rate(Some(" riyadh "), &[1, 2]), Some(1600), "region first");
        assert_eq!(resolve(&[], None, &[]).map(|r| r.rate), None);
    }

    #[test]
    fn inclusive_and_exclusive_amounts_round_half_away_from_zero() {
        let mut r = rule(None, None, 0, 1500).rule;
        assert_eq!(LineTax::of(1000, &r).amount, 150);
        assert_eq!(LineTax::of(1003, &r).amount, 150, "150.45");
        assert_eq!(LineTax::of(1001, &r).added(), 150, "150.15");
        assert_eq!(LineTax::of(1010, &r).amount, 152, "151.5 rounds up");
        r.inclusive = true;
        let t = LineTax::of(1150, &r);
        assert_eq!((t.amount, t.added()), (150, 0));
        assert_eq!(LineTax::of(1000, &r).amount, 130, "1000 - 869.57");
        assert_eq!(ratio(5, 1, 2), 3);
    }
}
