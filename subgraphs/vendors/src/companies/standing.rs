//! What orders' checkout reads of a company and does to it, on orders' own transaction (through
//! [`crate::api`]): a buyer's standing with the company's row locked, and the hold that unpaid
//! invoices past their grace period put on it. The rules (limits, credit, terms) are applied by
//! orders, which owns the orders and invoices they are reckoned from; this module gives the facts
//! and the lock that makes them hold under racing checkouts.

use super::{COLUMNS, Company, CompanyStatus, PaymentTerms, move_to};
use crate::ids::{CompanyId, UserId};
use cityos_core::money::Currency;
use cityos_core::{ApiError, CompanyRole};
use cityos_db::TenantTx;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::{OptionalExtension as _, QueryResult, QueryableByName};
use diesel_async::RunQueryDsl;

/// A member's standing in their company, read with the company's row locked.
#[derive(Debug, Clone, PartialEq)]
pub struct BuyerStanding {
    pub company_id: CompanyId,
    pub company_name: String,
    pub status: CompanyStatus,
    pub currency: Currency,
    pub payment_terms: PaymentTerms,
    /// What may be owed on account at once, in `currency` minor units.
    pub credit_limit: i64,
    /// Days past an invoice's due date before the company is put ON_HOLD.
    pub grace_days: i32,
    pub po_required: bool,
    /// Days an approval request waits before it expires.
    pub approval_days: i32,
    /// The member's role.
    pub role: CompanyRole,
    /// The most one order may cost (minor units of `currency`); `None`: no limit.
    pub order_limit: Option<i64>,
    /// The most the member's orders may commit in a calendar month; `None`: no limit.
    pub monthly_limit: Option<i64>,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    order_limit: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    monthly_limit: Option<i64>,
}

/// Locks company `company` (`FOR UPDATE`: one company's checkouts queue here, so its credit limit
/// and its buyers' monthly limits hold under races) and reads `user`'s standing in it; `None`
/// when there is no such company or `user` is not its member. Two statements.
pub async fn lock_buyer(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    user: UserId,
) -> QueryResult<Option<BuyerStanding>> {
    let sql = format!("SELECT {COLUMNS} FROM vendors.companies WHERE id = $1 FOR UPDATE");
    let Some(found): Option<Company> = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(company)
        .get_result(tx.conn())
        .await
        .optional()?
    else {
        return Ok(None);
    };
    let member: Option<MemberRow> = diesel::sql_query(
        "SELECT role, order_limit, monthly_limit FROM vendors.members
         WHERE organization_id = $1 AND user_id = $2 AND kind = 'COMPANY'",
    )
    .bind::<SqlUuid, _>(company)
    .bind::<SqlUuid, _>(user)
    .get_result(tx.conn())
    .await
    .optional()?;
    let Some(member) = member else {
        return Ok(None);
    };
    let Ok(role) = CompanyRole::parse(&member.role) else {
        return Ok(None);
    };
    Ok(Some(BuyerStanding {
        company_id: found.id,
        company_name: found.name,
        status: found.status,
        currency: found.currency,
        payment_terms: found.payment_terms,
        credit_limit: found.credit_limit,
        grace_days: found.grace_days,
        po_required: found.po_required,
        approval_days: found.approval_days,
        role,
        order_limit: member.order_limit,
        monthly_limit: member.monthly_limit,
    }))
}

/// The role `user` holds in company `company` now (`None`: not a member, or the company is
/// closed): `vendors.company_member`.
pub async fn member_role(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    user: UserId,
) -> QueryResult<Option<CompanyRole>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        role: String,
    }
    let row: Option<Row> = diesel::sql_query("SELECT role FROM vendors.company_member($1, $2)")
        .bind::<SqlUuid, _>(company)
        .bind::<SqlUuid, _>(user)
        .get_result(tx.conn())
        .await
        .optional()?;
    Ok(row.and_then(|r| CompanyRole::parse(&r.role).ok()))
}

/// What other subgraphs show and check of a company (a quote's company, a dashboard's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyAccount {
    pub id: CompanyId,
    pub name: String,
    pub status: CompanyStatus,
    pub currency: Currency,
    pub payment_terms: PaymentTerms,
    /// What may be owed on account at once, in `currency` minor units.
    pub credit_limit: i64,
}

/// The accounts of `companies` that exist in the tenant: one statement.
pub async fn accounts(
    tx: &mut TenantTx<'_>,
    companies: &[CompanyId],
) -> QueryResult<std::collections::HashMap<CompanyId, CompanyAccount>> {
    Ok(super::by_ids(tx, companies)
        .await?
        .into_iter()
        .map(|(id, c)| {
            let account = CompanyAccount {
                id,
                name: c.name,
                status: c.status,
                currency: c.currency,
                payment_terms: c.payment_terms,
                credit_limit: c.credit_limit,
            };
            (id, account)
        })
        .collect())
}

/// A member of a company as its dashboard shows them: role, address and spending limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyMember {
    pub user_id: UserId,
    pub email: String,
    pub role: CompanyRole,
    /// The most one order may cost (minor units of the company's currency); `None`: no limit.
    pub order_limit: Option<i64>,
    /// The most the member's orders may commit in a calendar month; `None`: no limit.
    pub monthly_limit: Option<i64>,
}

/// The members of company `company`, oldest first: one statement.
pub async fn members(tx: &mut TenantTx<'_>, company: CompanyId) -> QueryResult<Vec<CompanyMember>> {
    Ok(
        crate::membership::members_of::<super::members::Buyers>(tx, &[company])
            .await?
            .remove(&company)
            .unwrap_or_default()
            .into_iter()
            .map(|m| CompanyMember {
                user_id: m.user_id,
                email: m.email,
                role: m.role,
                order_limit: m.order_limit,
                monthly_limit: m.monthly_limit,
            })
            .collect(),
    )
}

/// The grace period of company `company` in days (`None`: no such company).
pub async fn grace_days(tx: &mut TenantTx<'_>, company: CompanyId) -> QueryResult<Option<i32>> {
    Ok(super::by_ids(tx, &[company])
        .await?
        .remove(&company)
        .map(|c| c.grace_days))
}

/// Puts an ACTIVE company ON_HOLD for `why` (an invoice unpaid past its grace period), writing
/// `company.on_hold`; a company in any other status is left as it is. Returns whether it moved.
pub async fn hold_for_unpaid(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    why: &str,
) -> Result<bool, ApiError> {
    let current = match super::lock(tx, company).await {
        Ok(current) => current,
        Err(cityos_core::Failure::User(_)) => return Ok(false),
        Err(cityos_core::Failure::Api(e)) => return Err(e),
    };
    if current.status != CompanyStatus::Active {
        return Ok(false);
    }
    move_to(tx, &current, CompanyStatus::OnHold, Some(why))
        .await
        .map(|_| true)
        .map_err(cityos_core::Failure::into_api)
}
