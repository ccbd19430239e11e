//! B2B buying companies: who buys from the tenant on account, their profile, terms and lifecycle.
//!
//! A signed-in customer registers a company (and becomes its first ADMIN), or staff create one
//! and invite its admin; either way it starts PENDING_VERIFICATION, and staff verify it (ACTIVE).
//! Staff put an active company ON_HOLD and release it (unpaid invoices past their grace period
//! do so too), and close any company for good; each move bumps its `version` and writes
//! `company.<status>` in its transaction. The tenant grants the terms ([`Terms`], staff only):
//! PREPAID or NET_15 to NET_90 with an optional early-payment discount, a credit limit, the grace
//! period, and the catalog customer group whose contract prices and volume tiers its buyers get.
//! Its admins keep the profile, the shipping locations ([`locations`]) and the ordering policy
//! (whether a purchase-order number is required, how long approval requests wait).
//!
//! Companies are private: staff see every one, a member acting for it (`x-company-id`) sees
//! theirs, nobody else any.

pub mod graphql;
pub mod locations;
pub mod members;
pub mod rules;
pub mod standing;

use crate::errors::{self, Outcome, VendorsErrorCode as Code, optional_text, reason, refusal};
use crate::ids::{CompanyId, UserId};
use crate::membership;
use chrono::{DateTime, Utc};
use cityos_core::address::Address;
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::Line;
use cityos_core::{ApiError, CompanyRole, RequestContext, Role};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::sql_types::{
    Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::{OptionalExtension as _, QueryResult, QueryableByName};
use diesel_async::RunQueryDsl;
use members::Buyers;
use std::collections::HashMap;

cityos_core::states! {
    /// Where a company is in its lifecycle.
    pub enum CompanyStatus {
        /// Registered; staff have not verified it yet. Its admins set it up; nobody orders for it.
        PendingVerification = "PENDING_VERIFICATION",
        /// Verified: its buyers order for it.
        Active = "ACTIVE",
        /// Barred from ordering on account (with a reason): by staff, or by invoices unpaid past
        /// their grace period.
        OnHold = "ON_HOLD",
        /// Gone for good (with a reason).
        Closed = "CLOSED",
    }
    transitions {
        PendingVerification -> Active | Closed,
        Active -> OnHold | Closed,
        OnHold -> Active | Closed,
    }
}

cityos_core::states! {
    /// When a company pays for its orders.
    pub enum PaymentTerms {
        /// At checkout, like any customer.
        Prepaid = "PREPAID",
        /// On account: the invoice is due 15 days after the order is placed.
        Net15 = "NET_15",
        /// Due 30 days after.
        Net30 = "NET_30",
        /// Due 60 days after.
        Net60 = "NET_60",
        /// Due 90 days after.
        Net90 = "NET_90",
    }
}

impl PaymentTerms {
    /// Days from placing an order to its invoice's due date; `None` for PREPAID.
    pub fn net_days(self) -> Option<i64> {
        match self {
            Self::Prepaid => None,
            Self::Net15 => Some(15),
            Self::Net30 => Some(30),
            Self::Net60 => Some(60),
            Self::Net90 => Some(90),
        }
    }
}

/// A company as stored.
#[derive(QueryableByName, Debug, Clone, PartialEq)]
pub struct Company {
    #[diesel(sql_type = SqlUuid)]
    pub id: CompanyId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub legal_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub tax_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub vat_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub billing_address: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub status: CompanyStatus,
    #[diesel(sql_type = Nullable<Text>)]
    pub status_reason: Option<String>,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = Text)]
    pub payment_terms: PaymentTerms,
    #[diesel(sql_type = Nullable<Integer>)]
    pub early_discount_bps: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub early_discount_days: Option<i32>,
    #[diesel(sql_type = BigInt)]
    pub credit_limit: i64,
    #[diesel(sql_type = Integer)]
    pub grace_days: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_group_id: Option<catalog::api::CustomerGroupId>,
    #[diesel(sql_type = Bool)]
    pub po_required: bool,
    #[diesel(sql_type = Integer)]
    pub approval_days: i32,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The columns a [`Company`] reads, in any statement over `vendors.companies`.
const COLUMNS: &str = "id, name, legal_name, tax_id, vat_id, email, phone, billing_address, \
    status, status_reason, currency, payment_terms, early_discount_bps, early_discount_days, \
    credit_limit, grace_days, customer_group_id, po_required, approval_days, version, \
    created_at, updated_at";

/// Who reads a company, for what they may see of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Tenant staff: every company.
    Staff,
    /// A member acting for this company (`x-company-id`), with their role there.
    Member(CompanyId, CompanyRole),
    /// Everyone else: no company at all.
    Nobody,
}

impl Viewer {
    /// The viewer a request is.
    pub fn of(ctx: &RequestContext) -> Self {
        if ctx.is_staff() {
            Self::Staff
        } else if let Some(scope) = ctx.company {
            Self::Member(scope.id, scope.role)
        } else {
            Self::Nobody
        }
    }

    /// Whether this viewer may see company `id`.
    pub fn sees(self, id: CompanyId) -> bool {
        match self {
            Self::Staff => true,
            Self::Member(own, _) => own == id,
            Self::Nobody => false,
        }
    }

    /// Whether this viewer may see what company `id`'s admins see (invitations, every member's
    /// limits and spend).
    pub fn administers(self, id: CompanyId) -> bool {
        match self {
            Self::Staff => true,
            Self::Member(own, role) => own == id && role == CompanyRole::Admin,
            Self::Nobody => false,
        }
    }
}

/// Succeeds for staff, and for company `id`'s members acting for it whose role covers `needed`.
pub(crate) fn may_act(
    ctx: &RequestContext,
    id: CompanyId,
    needed: CompanyRole,
) -> Result<(), ApiError> {
    if ctx.is_staff() {
        return Ok(());
    }
    let scope = ctx.require_company(needed)?;
    if scope.id == id {
        Ok(())
    } else {
        Err(ApiError::forbidden("you act for another company"))
    }
}

/// `company.<status>`: a company registered or moved on. `version` counts its changes of status:
/// a consumer keeps the highest it has applied.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CompanyChanged<'a> {
    pub company_id: CompanyId,
    pub name: &'a str,
    pub status: CompanyStatus,
    pub version: i32,
    pub reason: Option<&'a str>,
}

impl Topic for CompanyChanged<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("company", self.status.as_str())
    }
}

pub(crate) async fn publish(tx: &mut TenantTx<'_>, company: &Company) -> QueryResult<()> {
    let event = CompanyChanged {
        company_id: company.id,
        name: &company.name,
        status: company.status,
        version: company.version,
        reason: company.status_reason.as_deref(),
    };
    crate::OUTBOX.publish(tx, company.id, &event).await
}

/// A company's profile as a client gives it (to register, or to change: `None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub tax_id: Option<Option<String>>,
    pub vat_id: Option<Option<String>>,
    pub email: Option<String>,
    pub phone: Option<Option<String>>,
    pub billing_address: Option<Address>,
    pub currency: Option<String>,
    pub po_required: Option<bool>,
    pub approval_days: Option<i32>,
}

/// A profile checked field by field.
#[derive(Debug, Default)]
struct Checked {
    name: Option<String>,
    legal_name: Option<String>,
    tax_id: Option<Option<String>>,
    vat_id: Option<Option<String>>,
    email: Option<String>,
    phone: Option<Option<String>>,
    billing_address: Option<serde_json::Value>,
    currency: Option<Currency>,
    po_required: Option<bool>,
    approval_days: Option<i32>,
}

fn line<const MAX: usize>(text: &str, field: &str, what: &str) -> Outcome<String> {
    Line::<MAX>::parse(text)
        .map(Line::into_inner)
        .map_err(|e| refusal(field, Code::InvalidText, e.message(what)))
}

/// A tax or VAT registration number: 1 to 40 letters, digits, spaces, dots, slashes and hyphens.
fn registration(text: Option<String>, field: &str) -> Outcome<Option<String>> {
    let Some(text) = text else { return Ok(None) };
    let text = text.trim().to_owned();
    let ok = (1..=40).contains(&text.chars().count())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '/' | '-'));
    if ok {
        Ok(Some(text))
    } else {
        Err(refusal(
            field,
            Code::InvalidRegistration,
            format!("{field} is 1 to 40 letters, digits, spaces, dots, slashes and hyphens"),
        ))
    }
}

fn check(profile: Profile) -> Outcome<Checked> {
    let name = profile
        .name
        .map(|n| line::<200>(&n, "name", "a company's name"))
        .transpose()?;
    let legal_name = profile
        .legal_name
        .map(|n| line::<200>(&n, "legalName", "a company's legal name"))
        .transpose()?;
    let tax_id = profile
        .tax_id
        .map(|t| registration(t, "taxId"))
        .transpose()?;
    let vat_id = profile
        .vat_id
        .map(|t| registration(t, "vatId"))
        .transpose()?;
    let email = profile.email.as_deref().map(errors::email).transpose()?;
    let phone = match profile.phone {
        Some(p) => Some(p.as_deref().map(errors::phone).transpose()?),
        None => None,
    };
    let billing_address = profile
        .billing_address
        .map(|a| errors::address(a, "billingAddress"))
        .transpose()?;
    let currency = profile
        .currency
        .map(|c| {
            Currency::parse(&c).map_err(|_| {
                refusal(
                    "currency",
                    Code::UnknownCurrency,
                    format!("`{c}` is not an ISO 4217 currency"),
                )
            })
        })
        .transpose()?;
    if let Some(days) = profile.approval_days
        && !(1..=90).contains(&days)
    {
        return Err(refusal(
            "approvalDays",
            Code::InvalidPeriod,
            "approval requests wait 1 to 90 days",
        ));
    }
    Ok(Checked {
        name,
        legal_name,
        tax_id,
        vat_id,
        email,
        phone,
        billing_address,
        currency,
        po_required: profile.po_required,
        approval_days: profile.approval_days,
    })
}

/// Registers a company: a signed-in customer becomes its first ADMIN; staff create one without
/// members (and invite its admin). Name, legal name, e-mail and billing address are required; the
/// currency defaults to the tenant's. It starts PENDING_VERIFICATION and writes
/// `company.pending_verification`.
pub async fn register(db: &Database, ctx: &RequestContext, profile: Profile) -> Outcome<Company> {
    let founder = if ctx.is_staff() {
        None
    } else if ctx.has_role(Role::Customer) {
        Some(ctx.user_id()?)
    } else {
        ctx.user_id()?;
        return Err(ApiError::forbidden("register a company with a customer account").into());
    };
    let tenant_currency = ctx.tenant()?.default_currency.clone();
    db.recorded(ctx, "company.register", async move |tx| {
        let c = check(profile)?;
        let name = c
            .name
            .ok_or_else(|| refusal("name", Code::InvalidText, "give the company a name"))?;
        let legal_name = c.legal_name.unwrap_or_else(|| name.clone());
        let email = c
            .email
            .ok_or_else(|| refusal("email", Code::InvalidEmail, "give a contact e-mail"))?;
        let address = c.billing_address.ok_or_else(|| {
            refusal(
                "billingAddress",
                Code::InvalidAddress,
                "give the company's billing address",
            )
        })?;
        let currency = match c.currency {
            Some(currency) => currency,
            None => Currency::parse(&tenant_currency)
                .map_err(|_| ApiError::internal("the tenant's currency is not ISO 4217"))?,
        };
        let id = CompanyId::new();
        membership::register::<Buyers>(tx, id).await?;
        let sql = format!(
            "INSERT INTO vendors.companies (tenant_id, id, name, legal_name, tax_id, vat_id, email,
                phone, billing_address, currency, po_required, approval_days, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             RETURNING {COLUMNS}"
        );
        let company: Company = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(&name)
            .bind::<Text, _>(&legal_name)
            .bind::<Nullable<Text>, _>(c.tax_id.flatten())
            .bind::<Nullable<Text>, _>(c.vat_id.flatten())
            .bind::<Text, _>(&email)
            .bind::<Nullable<Text>, _>(c.phone.flatten())
            .bind::<Jsonb, _>(&address)
            .bind::<Text, _>(currency.code())
            .bind::<Bool, _>(c.po_required.unwrap_or(false))
            .bind::<Integer, _>(c.approval_days.unwrap_or(DEFAULT_APPROVAL_DAYS))
            .bind::<Nullable<SqlUuid>, _>(founder)
            .get_result(tx.conn())
            .await?;
        if let Some(user) = founder {
            let email = identity::api::user_email(tx, user)
                .await?
                .ok_or_else(|| ApiError::forbidden("only users of this tenant may register"))?;
            membership::add::<Buyers>(tx, id, user, &email, CompanyRole::Admin).await?;
        }
        publish(tx, &company).await?;
        let audit = Audit::of(id, serde_json::json!({ "name": company.name }));
        Ok((company, audit))
    })
    .await
}

/// How long approval requests wait until a company's admins say otherwise.
pub const DEFAULT_APPROVAL_DAYS: i32 = 7;

/// Reads company `id` for a change, locked, or NOT_FOUND at `id`.
pub(crate) async fn lock(tx: &mut TenantTx<'_>, id: CompanyId) -> Outcome<Company> {
    let sql = format!("SELECT {COLUMNS} FROM vendors.companies WHERE id = $1 FOR UPDATE");
    let found: Option<Company> = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(id)
        .get_result(tx.conn())
        .await
        .optional()?;
    found.ok_or_else(|| refusal("id", Code::NotFound, "no such company"))
}

/// Refuses a change to a closed company.
pub(crate) fn require_open(company: &Company) -> Outcome<()> {
    if company.status == CompanyStatus::Closed {
        Err(refusal(
            "id",
            Code::CompanyClosed,
            "the company is closed and takes no changes",
        ))
    } else {
        Ok(())
    }
}

/// Changes a company's profile and ordering policy (its admins acting for it, or staff). The
/// currency may change only while it is PENDING_VERIFICATION.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyId,
    profile: Profile,
) -> Outcome<Company> {
    may_act(ctx, id, CompanyRole::Admin)?;
    db.recorded(ctx, "company.update", async move |tx| {
        let current = lock(tx, id).await?;
        require_open(&current)?;
        let c = check(profile)?;
        if let Some(currency) = c.currency
            && currency != current.currency
            && current.status != CompanyStatus::PendingVerification
        {
            return Err(refusal(
                "currency",
                Code::CurrencyLocked,
                "a verified company keeps its currency",
            ));
        }
        let sql = format!(
            "UPDATE vendors.companies SET name = $2, legal_name = $3, tax_id = $4, vat_id = $5,
                email = $6, phone = $7, billing_address = $8, currency = $9, po_required = $10,
                approval_days = $11, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let company: Company = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(c.name.unwrap_or(current.name))
            .bind::<Text, _>(c.legal_name.unwrap_or(current.legal_name))
            .bind::<Nullable<Text>, _>(c.tax_id.unwrap_or(current.tax_id))
            .bind::<Nullable<Text>, _>(c.vat_id.unwrap_or(current.vat_id))
            .bind::<Text, _>(c.email.unwrap_or(current.email))
            .bind::<Nullable<Text>, _>(c.phone.unwrap_or(current.phone))
            .bind::<Jsonb, _>(c.billing_address.unwrap_or(current.billing_address))
            .bind::<Text, _>(c.currency.unwrap_or(current.currency).code())
            .bind::<Bool, _>(c.po_required.unwrap_or(current.po_required))
            .bind::<Integer, _>(c.approval_days.unwrap_or(current.approval_days))
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(id, serde_json::json!({ "name": company.name }));
        Ok((company, audit))
    })
    .await
}

/// The terms the tenant grants a company (staff only); `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub payment_terms: Option<PaymentTerms>,
    /// `Some(None)` removes the early-payment discount; `Some(Some((bps, days)))` sets it.
    pub early_discount: Option<Option<(i32, i32)>>,
    pub credit_limit: Option<i64>,
    pub grace_days: Option<i32>,
    /// `Some(None)` unlinks the customer group.
    pub customer_group_id: Option<Option<catalog::api::CustomerGroupId>>,
}

/// Grants company `id` its terms (staff). Moving it to another customer group moves its members
/// with it, in the catalog, in the same transaction.
pub async fn set_terms(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyId,
    terms: Terms,
) -> Outcome<Company> {
    ctx.require_staff()?;
    db.recorded(ctx, "company.terms", async move |tx| {
        let current = lock(tx, id).await?;
        require_open(&current)?;
        let payment_terms = terms.payment_terms.unwrap_or(current.payment_terms);
        let early = match terms.early_discount {
            Some(early) => early,
            None => current.early_discount_bps.zip(current.early_discount_days),
        };
        if let Some((bps, days)) = early {
            if !(1..=10_000).contains(&bps) || !(1..=90).contains(&days) {
                return Err(refusal(
                    "earlyPaymentDiscount",
                    Code::InvalidAmount,
                    "an early-payment discount is 1 to 10,000 basis points within 1 to 90 days",
                ));
            }
            if payment_terms
                .net_days()
                .is_none_or(|net| i64::from(days) >= net)
            {
                return Err(refusal(
                    "earlyPaymentDiscount",
                    Code::InvalidTerms,
                    "an early-payment discount needs NET terms longer than its days",
                ));
            }
        }
        let credit_limit = terms.credit_limit.unwrap_or(current.credit_limit);
        if credit_limit < 0 {
            return Err(refusal(
                "creditLimit",
                Code::InvalidAmount,
                "a credit limit is 0 or more",
            ));
        }
        let grace_days = terms.grace_days.unwrap_or(current.grace_days);
        if !(0..=90).contains(&grace_days) {
            return Err(refusal(
                "graceDays",
                Code::InvalidPeriod,
                "the grace period is 0 to 90 days",
            ));
        }
        let group = terms.customer_group_id.unwrap_or(current.customer_group_id);
        if let Some(g) = group
            && Some(g) != current.customer_group_id
            && !catalog::api::customer_group_exists(tx, g).await?
        {
            return Err(refusal(
                "customerGroupId",
                Code::NotFound,
                "no such customer group",
            ));
        }
        if group != current.customer_group_id {
            let users: Vec<UserId> = membership::members_of::<Buyers>(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|m| m.user_id)
                .collect();
            if let Some(old) = current.customer_group_id {
                catalog::api::customer_group_leave(tx, old, &users).await?;
            }
            if let Some(new) = group {
                catalog::api::customer_group_join(tx, new, &users).await?;
            }
        }
        let sql = format!(
            "UPDATE vendors.companies SET payment_terms = $2, early_discount_bps = $3,
                early_discount_days = $4, credit_limit = $5, grace_days = $6,
                customer_group_id = $7, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        );
        let company: Company = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(payment_terms)
            .bind::<Nullable<Integer>, _>(early.map(|e| e.0))
            .bind::<Nullable<Integer>, _>(early.map(|e| e.1))
            .bind::<BigInt, _>(credit_limit)
            .bind::<Integer, _>(grace_days)
            .bind::<Nullable<SqlUuid>, _>(group)
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(
            id,
            serde_json::json!({
                "paymentTerms": payment_terms, "creditLimit": credit_limit,
                "graceDays": grace_days, "customerGroupId": group,
                "earlyDiscount": early,
            }),
        );
        Ok((company, audit))
    })
    .await
}

/// Moves company `id` to `to` (staff): putting on hold and closing need a reason. Writes
/// `company.<to>`.
pub async fn transition(
    db: &Database,
    ctx: &RequestContext,
    id: CompanyId,
    to: CompanyStatus,
    why: Option<String>,
) -> Outcome<Company> {
    ctx.require_staff()?;
    let action = format!("company.{}", to.as_str().to_ascii_lowercase());
    db.recorded(ctx, &action, async move |tx| {
        let current = lock(tx, id).await?;
        let company = move_to(tx, &current, to, why.as_deref()).await?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "from": current.status, "to": to, "reason": company.status_reason }),
        );
        Ok((company, audit))
    })
    .await
}

/// Moves the locked `current` to `to` with `why`, bumping its version and writing
/// `company.<to>`: the one way a company's status changes (staff, and the overdue job).
pub(crate) async fn move_to(
    tx: &mut TenantTx<'_>,
    current: &Company,
    to: CompanyStatus,
    why: Option<&str>,
) -> Outcome<Company> {
    current.status.require::<Code>(to, "status")?;
    let status_reason = match to {
        CompanyStatus::OnHold | CompanyStatus::Closed => Some(reason::<1000>(why, "reason")?),
        _ => optional_text::<1000>(why, "reason")?,
    };
    let sql = format!(
        "UPDATE vendors.companies SET status = $2, status_reason = $3, version = version + 1,
            updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let company: Company = Prepared(
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(current.id)
            .bind::<Text, _>(to)
            .bind::<Nullable<Text>, _>(status_reason),
    )
    .get_result(tx.conn())
    .await?;
    publish(tx, &company).await?;
    Ok(company)
}

/// Companies by id, as stored (callers filter by [`Viewer`]).
pub async fn by_ids(
    tx: &mut TenantTx<'_>,
    ids: &[CompanyId],
) -> QueryResult<HashMap<CompanyId, Company>> {
    let sql = format!("SELECT {COLUMNS} FROM vendors.companies WHERE id = ANY($1)");
    let rows: Vec<Company> = diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(ids)
        .load(tx.conn())
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// A page of the tenant's companies for staff, by name: those in `statuses` (every status when
/// empty) whose name contains `query`.
pub async fn list(
    tx: &mut TenantTx<'_>,
    statuses: &[CompanyStatus],
    query: Option<&str>,
    page: PageRequest<NameKey>,
) -> Result<Page<Company>, ApiError> {
    let statuses: Vec<&str> = if statuses.is_empty() {
        CompanyStatus::ALL.iter().map(|s| s.as_str()).collect()
    } else {
        statuses.iter().map(|s| s.as_str()).collect()
    };
    let pattern = query.map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let total: Count = Prepared(
        diesel::sql_query(
            "SELECT count(*) AS n FROM vendors.companies
             WHERE status = ANY($1) AND ($2::text IS NULL OR name ILIKE $2)",
        )
        .bind::<Array<Text>, _>(&statuses)
        .bind::<Nullable<Text>, _>(pattern.as_deref()),
    )
    .get_result(tx.conn())
    .await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM vendors.companies
         WHERE status = ANY($1) AND ($2::text IS NULL OR name ILIKE $2)
           AND ($3::text IS NULL OR (lower(name), id) > (lower($3), $4))
         ORDER BY lower(name), id LIMIT $5"
    );
    let after = page.after.as_ref();
    let rows: Vec<Company> = diesel::sql_query(sql)
        .bind::<Array<Text>, _>(&statuses)
        .bind::<Nullable<Text>, _>(pattern.as_deref())
        .bind::<Nullable<Text>, _>(after.map(|a| a.name.as_str()))
        .bind::<Nullable<SqlUuid>, _>(after.map(|a| a.id))
        .bind::<BigInt, _>(page.fetch_limit())
        .load(tx.conn())
        .await?;
    Ok(page.finish(
        rows,
        |c| NameKey {
            name: c.name.clone(),
            id: c.id,
        },
        total.n,
    ))
}

/// A position in the list of companies by name: the name, then the id as tie-break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKey {
    pub name: String,
    pub id: CompanyId,
}

impl cityos_core::paging::CursorKey for NameKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.id.to_bytes();
        bytes.extend_from_slice(self.name.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (id, name) = bytes.split_at_checked(16)?;
        Some(Self {
            id: CompanyId::from_bytes(id)?,
            name: String::from_utf8(name.to_vec()).ok()?,
        })
    }
}
