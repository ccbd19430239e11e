//! A company's approval rules: which of its buyers' checkouts wait for approval, and by whom.
//!
//! A rule has conditions (each optional, all that are set must hold): the order's total at or
//! above an amount in a currency, the buyer's role, a category (or one beneath it) among the
//! cart's products; and an ordered chain of 1 to 5 levels, each approved by ANY one or ALL of its
//! approvers (roles of the company and named members). Its admins (acting for it) or staff create
//! and deactivate rules; active rules apply in position order, the first that matches wins.
//! Orders' checkout reads them through [`crate::api`] and applies them ([`ApprovalRule::matches`]),
//! resolving each level to the members who hold it ([`approvers`]) when a request is made.

use super::{lock, may_act, require_open};
use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{ApprovalRuleId, CompanyId, UserId};
use cityos_core::money::Currency;
use cityos_core::text::Line;
use cityos_core::{CompanyRole, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension as _, QueryResult, QueryableByName};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The most active rules a company keeps.
pub const MAX_RULES: i64 = 20;
/// The most levels in a chain.
pub const MAX_LEVELS: usize = 5;

cityos_core::states! {
    /// How a level of an approval chain is passed.
    #[graphql(name = "ApprovalMode")]
    pub enum Mode {
        /// Any one of its approvers approves.
        Any = "ANY",
        /// Every one of its approvers approves.
        All = "ALL",
    }
}

/// One level of an approval chain.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub mode: Mode,
    /// Members holding these roles approve.
    #[serde(default)]
    pub roles: Vec<CompanyRole>,
    /// These members approve.
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// An approval rule as stored.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct ApprovalRule {
    #[diesel(sql_type = SqlUuid)]
    pub id: ApprovalRuleId,
    #[diesel(sql_type = SqlUuid)]
    pub company_id: CompanyId,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// The order total from which it applies (with `currency`).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub min_total: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub currency: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub buyer_role: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub category_id: Option<catalog::api::CategoryId>,
    #[diesel(sql_type = Jsonb)]
    pub levels: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = Bool)]
    pub active: bool,
}

const COLUMNS: &str =
    "id, company_id, name, min_total, currency, buyer_role, category_id, levels, position, active";

/// What a checkout is, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Checkout<'a> {
    pub total: i64,
    pub currency: Currency,
    pub buyer_role: CompanyRole,
    /// The categories of the cart's products, with all their ancestors.
    pub categories: &'a [catalog::api::CategoryId],
}

impl ApprovalRule {
    /// The chain of levels.
    pub fn chain(&self) -> Vec<Level> {
        serde_json::from_value(self.levels.clone()).unwrap_or_default()
    }

    /// Whether a checkout meets every condition the rule sets.
    pub fn matches(&self, checkout: &Checkout<'_>) -> bool {
        let total_ok = match (self.min_total, &self.currency) {
            (Some(min), Some(currency)) => {
                currency == checkout.currency.code() && checkout.total >= min
            }
            _ => true,
        };
        let role_ok = self
            .buyer_role
            .as_deref()
            .is_none_or(|r| r == checkout.buyer_role.as_str());
        let category_ok = self
            .category_id
            .is_none_or(|c| checkout.categories.contains(&c));
        self.active && total_ok && role_ok && category_ok
    }
}

/// A rule as a client gives it.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub min_total: Option<(i64, String)>,
    pub buyer_role: Option<CompanyRole>,
    pub category_id: Option<catalog::api::CategoryId>,
    pub levels: Vec<Level>,
    pub position: i32,
}

/// The active rules of company `company`, in the order they apply.
pub async fn active(tx: &mut TenantTx<'_>, company: CompanyId) -> QueryResult<Vec<ApprovalRule>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM vendors.approval_rules
             WHERE company_id = $1 AND active ORDER BY position, id"
        ))
        .bind::<SqlUuid, _>(company),
    )
    .load(tx.conn())
    .await
}

/// The active rules of each of `companies`, in the order they apply.
pub async fn of(
    tx: &mut TenantTx<'_>,
    companies: &[CompanyId],
) -> QueryResult<HashMap<CompanyId, Vec<ApprovalRule>>> {
    let rows: Vec<ApprovalRule> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM vendors.approval_rules
             WHERE company_id = ANY ($1) AND active ORDER BY company_id, position, id"
        ))
        .bind::<Array<SqlUuid>, _>(companies),
    )
    .load(tx.conn())
    .await?;
    let mut by: HashMap<CompanyId, Vec<ApprovalRule>> = HashMap::new();
    for rule in rows {
        by.entry(rule.company_id).or_default().push(rule);
    }
    Ok(by)
}

/// The members of company `company` who approve `level`: those holding one of its roles and
/// those it names, each once, by user id.
pub async fn approvers(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    level: &Level,
) -> QueryResult<Vec<UserId>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        user_id: UserId,
    }
    let roles: Vec<&str> = level.roles.iter().map(|r| r.as_str()).collect();
    let rows: Vec<Row> = Prepared(
        diesel::sql_query(
            "SELECT user_id FROM vendors.members
             WHERE organization_id = $1 AND kind = 'COMPANY'
               AND (role = ANY ($2) OR user_id = ANY ($3))
             ORDER BY user_id",
        )
        .bind::<SqlUuid, _>(company)
        .bind::<Array<Text>, _>(roles)
        .bind::<Array<SqlUuid>, _>(&level.members),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// Creates an approval rule for company `company` (its admins acting for it, or staff).
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    company: CompanyId,
    rule: NewRule,
) -> Outcome<ApprovalRule> {
    may_act(ctx, company, CompanyRole::Admin)?;
    let name = Line::<100>::parse(&rule.name)
        .map_err(|e| refusal("name", Code::InvalidText, e.message("a rule's name")))?
        .into_inner();
    let min_total = match rule.min_total {
        None => None,
        Some((amount, currency)) => {
            let currency = Currency::parse(&currency).map_err(|_| {
                refusal(
                    "minTotal.currency",
                    Code::UnknownCurrency,
                    format!("`{currency}` is not an ISO 4217 currency"),
                )
            })?;
            if !(0..=super::members::MAX_LIMIT).contains(&amount) {
                return Err(refusal(
                    "minTotal.amount",
                    Code::InvalidAmount,
                    "an order total is 0 or more (minor units)",
                ));
            }
            Some((amount, currency))
        }
    };
    if rule.levels.is_empty() || rule.levels.len() > MAX_LEVELS {
        return Err(refusal(
            "levels",
            Code::InvalidApprovalRule,
            format!("an approval chain has 1 to {MAX_LEVELS} levels"),
        ));
    }
    for (i, level) in rule.levels.iter().enumerate() {
        if level.roles.is_empty() && level.members.is_empty() {
            return Err(refusal(
                &format!("levels.{i}"),
                Code::InvalidApprovalRule,
                "a level names at least one role or member who approves",
            ));
        }
        if level.roles.len() > 3 || level.members.len() > 20 {
            return Err(refusal(
                &format!("levels.{i}"),
                Code::InvalidApprovalRule,
                "a level names at most 3 roles and 20 members",
            ));
        }
    }
    let levels = serde_json::to_value(&rule.levels).map_err(cityos_core::ApiError::internal)?;
    db.recorded(ctx, "approval_rule.create", async move |tx| {
        require_open(&lock(tx, company).await?)?;
        if let Some(category) = rule.category_id
            && !catalog::api::category_exists(tx, category).await?
        {
            return Err(refusal("categoryId", Code::NotFound, "no such category"));
        }
        // Every member the chain names, read at once: those who are the company's.
        let named = Level {
            mode: Mode::Any,
            roles: Vec::new(),
            members: rule.levels.iter().flat_map(|l| l.members.clone()).collect(),
        };
        let members = if named.members.is_empty() {
            Vec::new()
        } else {
            approvers(tx, company, &named).await?
        };
        for (i, level) in rule.levels.iter().enumerate() {
            if let Some(stranger) = level.members.iter().find(|m| !members.contains(m)) {
                return Err(refusal(
                    &format!("levels.{i}.members"),
                    Code::InvalidApprovalRule,
                    format!("{stranger} is not a member of the company"),
                ));
            }
        }
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let count: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM vendors.approval_rules WHERE company_id = $1 AND active",
        )
        .bind::<SqlUuid, _>(company)
        .get_result(tx.conn())
        .await?;
        if count.n >= MAX_RULES {
            return Err(refusal(
                "companyId",
                Code::LimitReached,
                format!("a company keeps at most {MAX_RULES} active approval rules"),
            ));
        }
        let id = ApprovalRuleId::new();
        let saved: ApprovalRule = Prepared(
            diesel::sql_query(format!(
                "INSERT INTO vendors.approval_rules (tenant_id, id, company_id, name, min_total,
                    currency, buyer_role, category_id, levels, position, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(company)
            .bind::<Text, _>(&name)
            .bind::<Nullable<BigInt>, _>(min_total.as_ref().map(|m| m.0))
            .bind::<Nullable<Text>, _>(min_total.as_ref().map(|m| m.1.code()))
            .bind::<Nullable<Text>, _>(rule.buyer_role.map(|r| r.as_str()))
            .bind::<Nullable<SqlUuid>, _>(rule.category_id)
            .bind::<Jsonb, _>(&levels)
            .bind::<Integer, _>(rule.position)
            .bind::<Nullable<SqlUuid>, _>(ctx.user_id().ok()),
        )
        .get_result(tx.conn())
        .await?;
        let audit = Audit::of(id, serde_json::json!({ "company": company, "name": name }));
        Ok((saved, audit))
    })
    .await
}

/// Deactivates approval rule `id` (its company's admins acting for it, or staff): requests made
/// under it keep their chain.
pub async fn deactivate(
    db: &Database,
    ctx: &RequestContext,
    id: ApprovalRuleId,
) -> Outcome<ApprovalRule> {
    let ctx_for_check = ctx.clone();
    db.recorded(ctx, "approval_rule.deactivate", async move |tx| {
        let found: Option<ApprovalRule> = Prepared(
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM vendors.approval_rules WHERE id = $1"
            ))
            .bind::<SqlUuid, _>(id),
        )
        .get_result(tx.conn())
        .await
        .optional()?;
        let Some(found) = found else {
            return Err(refusal("id", Code::NotFound, "no such approval rule"));
        };
        if may_act(&ctx_for_check, found.company_id, CompanyRole::Admin).is_err() {
            return Err(refusal("id", Code::NotFound, "no such approval rule"));
        }
        let saved: ApprovalRule = Prepared(
            diesel::sql_query(format!(
                "UPDATE vendors.approval_rules SET active = false WHERE id = $1
                 RETURNING {COLUMNS}"
            ))
            .bind::<SqlUuid, _>(id),
        )
        .get_result(tx.conn())
        .await?;
        let audit = Audit::of(id, serde_json::json!({ "company": found.company_id }));
        Ok((saved, audit))
    })
    .await
}
