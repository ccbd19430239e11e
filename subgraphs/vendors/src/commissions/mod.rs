//! Commission rules: what the marketplace takes of its vendors' sales. Staff create them
//! ([`create`]) with a method (PERCENTAGE in basis points, FIXED per unit, TIERED by bands over
//! the vendor's month or the order), a scope (the tenant default, a vendor, a category with its
//! descendants, a product), and optionally a currency, a minimum order, a cap per line, a
//! validity window and a priority; they deactivate them ([`deactivate`]), never edit what one
//! computes, so a rule's id always names what it took. [`engine`] picks a line's rule and computes
//! it; its documentation states the precedence and the rounding.
//!
//! A new rule that would tie with an active one (same scope and target, same priority, currencies
//! that can meet, windows that overlap) is refused with RULE_OVERLAP: precedence is never left to
//! chance. Rules are created one at a time per tenant (the tenant's settings row is locked), so
//! two racing creations cannot both slip past that check.

pub mod engine;
pub mod graphql;

use crate::errors::{Outcome, UserError, VendorsErrorCode as Code, refusal};
use crate::ids::{CommissionRuleId, VendorId};
use chrono::{DateTime, Utc};
use cityos_core::RequestContext;
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::Line;
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use engine::{Band, Method, Rule, Scope, TierBasis, WHOLE};

cityos_core::states! {
    /// How a commission rule computes.
    #[graphql(name = "CommissionMethod")]
    pub enum MethodKind {
        /// A share of the line, in basis points.
        Percentage = "PERCENTAGE",
        /// An amount per unit, in the rule's currency.
        Fixed = "FIXED",
        /// A share by band of the vendor's month or of the order.
        Tiered = "TIERED",
    }
}

cityos_core::states! {
    /// What a commission rule covers.
    #[graphql(name = "CommissionScope")]
    pub enum ScopeKind {
        /// Every line of the tenant: the default.
        Tenant = "TENANT",
        /// A vendor's lines.
        Vendor = "VENDOR",
        /// Lines of products in a category or its descendants.
        Category = "CATEGORY",
        /// Lines of one product.
        Product = "PRODUCT",
    }
}

/// A commission rule as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq)]
pub struct StoredRule {
    #[diesel(sql_type = SqlUuid)]
    pub id: CommissionRuleId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub method: MethodKind,
    #[diesel(sql_type = Text)]
    pub scope: ScopeKind,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub target_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub rate_bp: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub per_unit: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub tier_basis: Option<TierBasis>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub tiers: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<Text>)]
    pub currency: Option<Currency>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub min_order: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub max_per_line: Option<i64>,
    #[diesel(sql_type = Integer)]
    pub priority: i32,
    #[diesel(sql_type = Timestamptz)]
    pub valid_from: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub valid_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, method, scope, target_id, rate_bp, per_unit, tier_basis, tiers, \
    currency, min_order, max_per_line, priority, valid_from, valid_until, active, created_at";

impl StoredRule {
    /// The bands of a TIERED rule, as stored.
    pub fn bands(&self) -> Vec<Band> {
        self.tiers
            .clone()
            .and_then(|t| serde_json::from_value(t).ok())
            .unwrap_or_default()
    }

    /// The rule as the engine computes it.
    pub fn rule(&self) -> Rule {
        let target = self.target_id.unwrap_or_default();
        let scope = match self.scope {
            ScopeKind::Tenant => Scope::Tenant,
            ScopeKind::Vendor => Scope::Vendor(VendorId::from_uuid(target)),
            ScopeKind::Category => Scope::Category(target),
            ScopeKind::Product => Scope::Product(target),
        };
        let method = match self.method {
            MethodKind::Percentage => Method::Percentage {
                rate: i64::from(self.rate_bp.unwrap_or(0)),
            },
            MethodKind::Fixed => Method::Fixed {
                per_unit: self.per_unit.unwrap_or(0),
            },
            MethodKind::Tiered => Method::Tiered {
                basis: self.tier_basis.unwrap_or(TierBasis::OrderAmount),
                bands: self.bands(),
            },
        };
        Rule {
            id: self.id.into(),
            scope,
            method,
            currency: self.currency,
            min_order: self.min_order,
            max_per_line: self.max_per_line,
            priority: self.priority,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        }
    }
}

/// A rule as staff give it.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub method: MethodKind,
    pub scope: ScopeKind,
    pub target_id: Option<uuid::Uuid>,
    pub rate_bp: Option<i32>,
    pub per_unit: Option<i64>,
    pub tier_basis: Option<TierBasis>,
    pub tiers: Option<Vec<Band>>,
    pub currency: Option<String>,
    pub min_order: Option<i64>,
    pub max_per_line: Option<i64>,
    pub priority: Option<i32>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
}

fn amount(value: Option<i64>, field: &str) -> Outcome<Option<i64>> {
    match value {
        Some(v) if v < 0 => Err(refusal(
            field,
            Code::InvalidAmount,
            format!("{field} is not negative"),
        )),
        v => Ok(v),
    }
}

fn rate(value: Option<i32>, field: &str) -> Outcome<i32> {
    match value {
        Some(r) if (0..=WHOLE).contains(&i64::from(r)) => Ok(r),
        _ => Err(refusal(
            field,
            Code::InvalidAmount,
            "a rate is 0 to 10,000 basis points",
        )),
    }
}

/// Checks a new rule's fields against its method and scope: what is stored.
fn check(new: &NewRule) -> Outcome<(String, Option<Currency>, Option<serde_json::Value>)> {
    let name = Line::<120>::parse(&new.name)
        .map(Line::into_inner)
        .map_err(|e| refusal("name", Code::InvalidText, e.message("a rule's name")))?;
    let currency = new
        .currency
        .as_deref()
        .map(|c| {
            Currency::parse(c).map_err(|_| {
                refusal(
                    "currency",
                    Code::UnknownCurrency,
                    format!("`{c}` is not an ISO 4217 currency"),
                )
            })
        })
        .transpose()?;
    let given = |present: bool, field: &str, method: MethodKind| -> Outcome<()> {
        if present {
            Err(refusal(
                field,
                Code::InvalidRule,
                format!("{field} is not for a {method} rule"),
            ))
        } else {
            Ok(())
        }
    };
    let mut tiers = None;
    match new.method {
        MethodKind::Percentage => {
            rate(new.rate_bp, "rateBasisPoints")?;
            given(new.per_unit.is_some(), "perUnitMinor", new.method)?;
            given(
                new.tiers.is_some() || new.tier_basis.is_some(),
                "tiers",
                new.method,
            )?;
        }
        MethodKind::Fixed => {
            if new.per_unit.is_none_or(|p| p < 0) {
                return Err(refusal(
                    "perUnitMinor",
                    Code::InvalidAmount,
                    "give the amount per unit, not negative",
                ));
            }
            given(new.rate_bp.is_some(), "rateBasisPoints", new.method)?;
            given(
                new.tiers.is_some() || new.tier_basis.is_some(),
                "tiers",
                new.method,
            )?;
        }
        MethodKind::Tiered => {
            given(new.rate_bp.is_some(), "rateBasisPoints", new.method)?;
            given(new.per_unit.is_some(), "perUnitMinor", new.method)?;
            if new.tier_basis.is_none() {
                return Err(refusal(
                    "tierBasis",
                    Code::InvalidRule,
                    "a TIERED rule says what its bands measure",
                ));
            }
            let bands = new.tiers.clone().unwrap_or_default();
            let ascending = bands.windows(2).all(|w| w[0].from < w[1].from);
            if bands.is_empty() || bands.len() > 20 || bands[0].from != 0 || !ascending {
                return Err(refusal(
                    "tiers",
                    Code::InvalidRule,
                    "1 to 20 bands, the first from 0, each starting above the last",
                ));
            }
            for band in &bands {
                rate(i32::try_from(band.rate).ok(), "tiers")?;
            }
            tiers = Some(
                serde_json::to_value(&bands)
                    .map_err(|e| cityos_core::ApiError::internal(e.to_string()))?,
            );
        }
    }
    amount(new.min_order, "minOrderMinor")?;
    amount(new.max_per_line, "maxCommissionMinor")?;
    let needs_currency = new.method != MethodKind::Percentage
        || new.min_order.is_some()
        || new.max_per_line.is_some();
    if needs_currency && currency.is_none() {
        return Err(refusal(
            "currency",
            Code::InvalidRule,
            "amounts need a currency: give one",
        ));
    }
    if new.priority.is_some_and(|p| !(-1000..=1000).contains(&p)) {
        return Err(refusal(
            "priority",
            Code::InvalidAmount,
            "a priority is -1,000 to 1,000",
        ));
    }
    if let (Some(from), Some(until)) = (new.valid_from, new.valid_until)
        && until <= from
    {
        return Err(refusal(
            "validUntil",
            Code::InvalidRule,
            "a rule ends after it starts",
        ));
    }
    if (new.scope == ScopeKind::Tenant) != new.target_id.is_none() {
        return Err(refusal(
            "targetId",
            Code::InvalidRule,
            "name the vendor, category or product a rule covers, and nothing for the tenant default",
        ));
    }
    Ok((name, currency, tiers))
}

/// Refuses a target that is not the tenant's: a vendor of its marketplace, a category or a
/// product of its catalog (asked of the catalog).
async fn check_target(
    tx: &mut TenantTx<'_>,
    scope: ScopeKind,
    target: Option<uuid::Uuid>,
) -> Outcome<()> {
    let Some(id) = target else {
        return Ok(());
    };
    let found = match scope {
        ScopeKind::Tenant => true,
        ScopeKind::Vendor => !crate::vendors::by_ids(tx, &[VendorId::from_uuid(id)])
            .await?
            .is_empty(),
        ScopeKind::Category => {
            catalog::api::category_exists(tx, catalog::api::CategoryId::from_uuid(id)).await?
        }
        ScopeKind::Product => {
            catalog::api::product_exists(tx, catalog::api::ProductId::from_uuid(id)).await?
        }
    };
    if found {
        Ok(())
    } else {
        Err(UserError::new(
            "targetId",
            Code::NotFound,
            format!("no such {}", scope.as_str().to_ascii_lowercase()),
        )
        .into())
    }
}

/// Creates a rule (staff); refused with RULE_OVERLAP when it would tie with an active rule.
pub async fn create(db: &Database, ctx: &RequestContext, new: NewRule) -> Outcome<StoredRule> {
    db.staff(ctx, "commission_rule.create", async move |tx| {
        let (name, currency, tiers) = check(&new)?;
        check_target(tx, new.scope, new.target_id).await?;
        crate::settings::lock(tx).await?;
        let valid_from = new.valid_from.unwrap_or_else(Utc::now);
        let priority = new.priority.unwrap_or(0);
        #[derive(diesel::QueryableByName)]
        struct Tie {
            #[diesel(sql_type = SqlUuid)]
            id: CommissionRuleId,
        }
        let ties: Vec<Tie> = Prepared(
            diesel::sql_query(
                "SELECT id FROM vendors.commission_rules
                 WHERE active AND scope = $1 AND target_id IS NOT DISTINCT FROM $2 AND priority = $3
                   AND ($4::text IS NULL OR currency IS NULL OR currency = $4)
                   AND tstzrange(valid_from, valid_until) && tstzrange($5, $6)
                 LIMIT 1",
            )
            .bind::<Text, _>(new.scope)
            .bind::<Nullable<SqlUuid>, _>(new.target_id)
            .bind::<Integer, _>(priority)
            .bind::<Nullable<Text>, _>(currency)
            .bind::<Timestamptz, _>(valid_from)
            .bind::<Nullable<Timestamptz>, _>(new.valid_until),
        )
        .load(tx.conn())
        .await?;
        if let Some(tie) = ties.into_iter().next() {
            return Err(refusal(
                "priority",
                Code::RuleOverlap,
                format!("rule {} covers the same lines at the same priority in an overlapping window: give another priority or window, or deactivate it", tie.id),
            ));
        }
        let sql = format!(
            "INSERT INTO vendors.commission_rules (tenant_id, id, name, method, scope, target_id,
                 rate_bp, per_unit, tier_basis, tiers, currency, min_order, max_per_line, priority,
                 valid_from, valid_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             RETURNING {COLUMNS}"
        );
        let rule: StoredRule = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(CommissionRuleId::new())
            .bind::<Text, _>(&name)
            .bind::<Text, _>(new.method)
            .bind::<Text, _>(new.scope)
            .bind::<Nullable<SqlUuid>, _>(new.target_id)
            .bind::<Nullable<Integer>, _>(new.rate_bp)
            .bind::<Nullable<BigInt>, _>(new.per_unit)
            .bind::<Nullable<Text>, _>(new.tier_basis)
            .bind::<Nullable<Jsonb>, _>(tiers)
            .bind::<Nullable<Text>, _>(currency)
            .bind::<Nullable<BigInt>, _>(new.min_order)
            .bind::<Nullable<BigInt>, _>(new.max_per_line)
            .bind::<Integer, _>(priority)
            .bind::<Timestamptz, _>(valid_from)
            .bind::<Nullable<Timestamptz>, _>(new.valid_until)
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(rule.id, serde_json::json!({ "name": rule.name, "method": rule.method, "scope": rule.scope }));
        Ok((rule, audit))
    })
    .await
}

/// Deactivates a rule (staff): it applies to no line from now on.
pub async fn deactivate(
    db: &Database,
    ctx: &RequestContext,
    id: CommissionRuleId,
) -> Outcome<StoredRule> {
    db.staff(ctx, "commission_rule.deactivate", async move |tx| {
        let sql = format!(
            "UPDATE vendors.commission_rules SET active = false WHERE id = $1 AND active RETURNING {COLUMNS}"
        );
        let found: Vec<StoredRule> = diesel::sql_query(sql).bind::<SqlUuid, _>(id).load(tx.conn()).await?;
        let rule = found
            .into_iter()
            .next()
            .ok_or_else(|| refusal("id", Code::NotFound, "no such active rule"))?;
        Ok((rule, Audit::of(id, serde_json::json!({}))))
    })
    .await
}

/// The active rules that may apply to a line of `vendor` in `currency` at `at`: the tenant's
/// defaults, the vendor's, those on any of `categories` and those on any of `products` (the engine
/// then picks per line). One statement.
pub async fn in_force(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Currency,
    at: DateTime<Utc>,
    categories: &[uuid::Uuid],
    products: &[uuid::Uuid],
) -> QueryResult<Vec<Rule>> {
    let rows: Vec<StoredRule> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM vendors.commission_rules
             WHERE active AND valid_from <= $1 AND (valid_until IS NULL OR valid_until > $1)
               AND (currency IS NULL OR currency = $2)
               AND (scope = 'TENANT' OR (scope = 'VENDOR' AND target_id = $3)
                    OR (scope = 'CATEGORY' AND target_id = ANY ($4))
                    OR (scope = 'PRODUCT' AND target_id = ANY ($5)))
             ORDER BY id"
        ))
        .bind::<Timestamptz, _>(at)
        .bind::<Text, _>(currency.code())
        .bind::<SqlUuid, _>(vendor)
        .bind::<Array<SqlUuid>, _>(categories)
        .bind::<Array<SqlUuid>, _>(products),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.iter().map(StoredRule::rule).collect())
}

/// A page of the tenant's rules, oldest first (only active ones unless `all`).
pub async fn page(
    tx: &mut TenantTx<'_>,
    all: bool,
    page: PageRequest<CommissionRuleId>,
) -> QueryResult<Page<StoredRule>> {
    let order = if page.backward { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM vendors.commission_rules
         WHERE ($1 OR active) AND ($2::uuid IS NULL OR id > $2) AND ($3::uuid IS NULL OR id < $3)
         ORDER BY id {order} LIMIT $4"
    );
    let rows: Vec<StoredRule> = diesel::sql_query(sql)
        .bind::<Bool, _>(all)
        .bind::<Nullable<SqlUuid>, _>(page.after)
        .bind::<Nullable<SqlUuid>, _>(page.before)
        .bind::<BigInt, _>(page.fetch_limit())
        .load(tx.conn())
        .await?;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total: Count =
        diesel::sql_query("SELECT count(*) AS n FROM vendors.commission_rules WHERE $1 OR active")
            .bind::<Bool, _>(all)
            .get_result(tx.conn())
            .await?;
    Ok(page.finish(rows, |r| r.id, total.n))
}
