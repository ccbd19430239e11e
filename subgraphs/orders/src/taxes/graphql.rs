//! Tax rules in GraphQL (staff).

use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{CategoryId, TaxRuleId};
use crate::taxes::{self, RuleInput, TaxRule};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

cityos_core::payload! {
    /// The result of a tax rule mutation.
    TaxRulePayload<OrdersUserError> {
        /// The rule (as it was, for a deletion); null when refused.
        tax_rule: TaxRule,
    }
}

/// A tax rate for a country, optionally narrowed to a region and a product category.
#[Object]
impl TaxRule {
    /// The rule's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What invoices call it, e.g. `VAT`.
    async fn name(&self) -> &str {
        &self.name
    }
    /// The country it applies in (ISO 3166-1 alpha-2).
    async fn country_code(&self) -> &str {
        &self.country_code
    }
    /// The region it is narrowed to (compared with the address's region, ignoring case).
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The catalog category it is narrowed to (with its subcategories).
    async fn category_id(&self) -> Option<ID> {
        self.category_id.map(to_id)
    }
    /// The rate in basis points: 1500 is 15%.
    async fn rate_basis_points(&self) -> i32 {
        self.rate
    }
    /// Whether prices include it (true) or it is added to them (false).
    async fn inclusive(&self) -> bool {
        self.inclusive
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A new tax rule.
#[derive(InputObject)]
pub struct TaxRuleCreateInput {
    /// What invoices call it, 1 to 100 characters, e.g. `VAT`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country_code: String,
    /// Narrows it to addresses in this region (matched ignoring case).
    pub region: Option<String>,
    /// Narrows it to a catalog category and its subcategories.
    pub category_id: Option<CategoryId>,
    /// The rate in basis points, 0 to 10,000: 1500 is 15%.
    pub rate_basis_points: i32,
    /// Whether prices include it (true) or it is added to them (false).
    pub inclusive: bool,
}

/// A tax rule to delete.
#[derive(InputObject)]
pub struct TaxRuleDeleteInput {
    /// The rule.
    pub id: TaxRuleId,
}

/// The queries of tax rules.
#[derive(Default)]
pub struct TaxQuery;

#[Object]
impl TaxQuery {
    /// The tenant's tax rules by country and region (staff).
    async fn tax_rules(&self, ctx: &Context<'_>) -> Result<Vec<TaxRule>> {
        Ok(taxes::list(ctx.db(), ctx.request()?).await?)
    }
}

/// The mutations of tax rules.
#[derive(Default)]
pub struct TaxMutation;

#[Object]
impl TaxMutation {
    /// Creates a tax rule (staff); one per country, region and category.
    async fn tax_rule_create(
        &self,
        ctx: &Context<'_>,
        input: TaxRuleCreateInput,
    ) -> Result<TaxRulePayload> {
        let rule = RuleInput {
            name: input.name,
            country_code: input.country_code,
            region: input.region,
            category_id: input.category_id,
            rate: input.rate_basis_points,
            inclusive: input.inclusive,
        };
        rule_payload(taxes::create(ctx.db(), ctx.request()?, rule).await)
    }
    /// Deletes a tax rule (staff); placed orders keep the tax they were charged.
    async fn tax_rule_delete(
        &self,
        ctx: &Context<'_>,
        input: TaxRuleDeleteInput,
    ) -> Result<TaxRulePayload> {
        let id = input.id;
        rule_payload(taxes::delete(ctx.db(), ctx.request()?, id).await)
    }
}

fn rule_payload(outcome: Outcome<TaxRule>) -> Result<TaxRulePayload> {
    Ok(TaxRulePayload::of(outcome)?)
}
