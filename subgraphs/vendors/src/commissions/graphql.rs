//! Commission rules in GraphQL: `commissionRules`, `commissionRuleCreate` and
//! `commissionRuleDeactivate` (staff).

use crate::commissions::engine::{Band, TierBasis};
use crate::commissions::{self, MethodKind, NewRule, ScopeKind, StoredRule};
use crate::errors::VendorsUserError;
use crate::ids::CommissionRuleId;
use crate::scope::in_tenant;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;

cityos_core::connection!(
    CommissionRuleConnection,
    CommissionRuleEdge,
    StoredRule,
    "commission rule"
);

/// One band of a TIERED rule.
#[derive(SimpleObject, InputObject, Clone, Copy)]
#[graphql(name = "CommissionTier", input_name = "CommissionTierInput")]
pub struct Tier {
    /// Where the band starts (inclusive), in minor units of the rule's currency; the first is 0.
    pub from_minor: i64,
    /// Its rate in basis points (1,000 is 10%).
    pub rate_basis_points: i32,
}

/// What the marketplace takes of a vendor's sales.
#[Object(name = "CommissionRule")]
impl StoredRule {
    /// The rule's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// A name to recognise it by.
    async fn name(&self) -> &str {
        &self.name
    }
    /// How it computes.
    async fn method(&self) -> MethodKind {
        self.method
    }
    /// What it covers.
    async fn scope(&self) -> ScopeKind {
        self.scope
    }
    /// The vendor, category or product it covers; null for the tenant default.
    async fn target_id(&self) -> Option<ID> {
        self.target_id.map(|id| ID(id.to_string()))
    }
    /// PERCENTAGE: its rate in basis points.
    async fn rate_basis_points(&self) -> Option<i32> {
        self.rate_bp
    }
    /// FIXED: what it takes per unit, in minor units of its currency.
    async fn per_unit_minor(&self) -> Option<i64> {
        self.per_unit
    }
    /// TIERED: what its bands measure.
    async fn tier_basis(&self) -> Option<TierBasis> {
        self.tier_basis
    }
    /// TIERED: its bands, ascending.
    async fn tiers(&self) -> Vec<Tier> {
        self.bands()
            .iter()
            .map(|b| Tier {
                from_minor: b.from,
                rate_basis_points: i32::try_from(b.rate).unwrap_or(0),
            })
            .collect()
    }
    /// The currency of its amounts; it applies to lines in it only. Null: any currency.
    async fn currency(&self) -> Option<&str> {
        self.currency.map(|c| c.code())
    }
    /// The order amount below which it does not apply.
    async fn min_order_minor(&self) -> Option<i64> {
        self.min_order
    }
    /// The most it takes of one line.
    async fn max_commission_minor(&self) -> Option<i64> {
        self.max_per_line
    }
    /// Within one scope, the higher applies.
    async fn priority(&self) -> i32 {
        self.priority
    }
    /// From when it applies.
    async fn valid_from(&self) -> DateTime<Utc> {
        self.valid_from
    }
    /// Until when it applies (exclusive); null: no end.
    async fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }
    /// Whether it applies at all (deactivated rules stay, for the record).
    async fn active(&self) -> bool {
        self.active
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A new commission rule. Which fields it takes depends on its method: PERCENTAGE a rate, FIXED
/// an amount per unit and a currency, TIERED a basis, bands and a currency.
#[derive(InputObject)]
pub struct CommissionRuleCreateInput {
    /// A name, 1 to 120 characters.
    pub name: String,
    /// How it computes.
    pub method: MethodKind,
    /// What it covers.
    pub scope: ScopeKind,
    /// The vendor, category (with its descendants) or product it covers; none for TENANT.
    pub target_id: Option<ID>,
    /// PERCENTAGE: 0 to 10,000 basis points.
    pub rate_basis_points: Option<i32>,
    /// FIXED: minor units per unit sold.
    pub per_unit_minor: Option<i64>,
    /// TIERED: what the bands measure.
    pub tier_basis: Option<TierBasis>,
    /// TIERED: 1 to 20 bands, the first from 0, ascending.
    pub tiers: Option<Vec<Tier>>,
    /// ISO 4217 currency of its amounts (required with any amount); it then applies to lines in
    /// that currency only.
    pub currency: Option<String>,
    /// It applies only to orders of at least this amount.
    pub min_order_minor: Option<i64>,
    /// The most it takes of one line.
    pub max_commission_minor: Option<i64>,
    /// -1,000 to 1,000 (0 by default); within one scope, the higher applies.
    pub priority: Option<i32>,
    /// From when it applies; now by default.
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when (exclusive); no end by default.
    pub valid_until: Option<DateTime<Utc>>,
}

cityos_core::payload! {
    /// The result of a commission rule mutation.
    CommissionRulePayload<VendorsUserError> {
        /// The rule as it now is; null when refused.
        rule: StoredRule,
    }
}

/// The queries of commission rules.
#[derive(Default)]
pub struct CommissionQuery;

#[Object]
impl CommissionQuery {
    /// The tenant's commission rules, oldest first: active ones, or all with `all` (staff).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn commission_rules(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        all: Option<bool>,
    ) -> Result<CommissionRuleConnection> {
        ctx.request()?.require_staff()?;
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let all = all.unwrap_or(false);
        Ok(in_tenant!(ctx, |tx| commissions::page(tx, all, page))?.into())
    }
}

/// The mutations of commission rules.
#[derive(Default)]
pub struct CommissionMutation;

#[Object]
impl CommissionMutation {
    /// Creates a commission rule (staff). Refused with RULE_OVERLAP when it would tie with an
    /// active rule, so precedence is never ambiguous.
    async fn commission_rule_create(
        &self,
        ctx: &Context<'_>,
        input: CommissionRuleCreateInput,
    ) -> Result<CommissionRulePayload> {
        let target_id = input
            .target_id
            .map(|id| {
                id.parse::<uuid::Uuid>().map_err(|_| {
                    cityos_core::ApiError::bad_input(
                        "`targetId` must be a vendor's, category's or product's id",
                    )
                })
            })
            .transpose()?;
        let new = NewRule {
            name: input.name,
            method: input.method,
            scope: input.scope,
            target_id,
            rate_bp: input.rate_basis_points,
            per_unit: input.per_unit_minor,
            tier_basis: input.tier_basis,
            tiers: input.tiers.map(|t| {
                t.iter()
                    .map(|b| Band {
                        from: b.from_minor,
                        rate: i64::from(b.rate_basis_points),
                    })
                    .collect()
            }),
            currency: input.currency,
            min_order: input.min_order_minor,
            max_per_line: input.max_commission_minor,
            priority: input.priority,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
        };
        Ok(CommissionRulePayload::of(
            commissions::create(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Deactivates a commission rule (staff): it applies to no line from now on; lines it already
    /// set keep their commission.
    async fn commission_rule_deactivate(
        &self,
        ctx: &Context<'_>,
        id: CommissionRuleId,
    ) -> Result<CommissionRulePayload> {
        Ok(CommissionRulePayload::of(
            commissions::deactivate(ctx.db(), ctx.request()?, id).await,
        )?)
    }
}
