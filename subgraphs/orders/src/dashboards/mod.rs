//! What a company has spent and owes, read from orders' own tables: a company's dashboard (spend
//! this month by member, pending approvals, open invoices, available credit) and, for the
//! tenant's staff, the companies with overdue balances.
//!
//! The figures are the ones checkout enforces, from the same SQL ([`company::MONTH_SPEND`],
//! [`company::OWED`]): a member's committed spend is what their monthly limit counts (orders
//! placed this calendar month, UTC, that are not cancelled, plus requests awaiting approval), the
//! open balance is what the credit limit counts (what is unpaid of the company's ON_ACCOUNT
//! payments, invoiced or not yet), and available credit is the credit limit less the open
//! balance, never below zero. An invoice is overdue once unpaid past its due date.
//!
//! A company's admins and the tenant's staff see its whole dashboard; its approvers and buyers
//! see the company's credit, their own spend and limits, the pending requests they made or
//! approve, and the open invoices of their own orders.

pub mod graphql;

use crate::checkout::approvals::{self, ApprovalRequest};
use crate::checkout::company::{MONTH_SPEND, OWED};
use crate::ids::{CompanyId, OrderId, TenantId, UserId};
use crate::orders::invoices::{self, Invoice, InvoiceKind};
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use cityos_core::{ApiError, CompanyRole, RequestContext};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// How many pending requests and open invoices a dashboard lists (the oldest first); it counts
/// all of them.
pub const LISTED: i64 = 50;

/// What a dashboard shows of one member this month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSpend {
    pub user_id: UserId,
    /// Their address; `None` once they have left the company.
    pub email: Option<String>,
    /// Their role; `None` once they have left the company.
    pub role: Option<CompanyRole>,
    /// What their orders placed this month cost (cancelled ones aside).
    pub placed: i64,
    /// How many orders they placed this month (cancelled ones aside).
    pub orders: i64,
    /// What their requests awaiting approval made this month cost.
    pub waiting: i64,
    pub order_limit: Option<i64>,
    pub monthly_limit: Option<i64>,
    /// The company's.
    pub currency: Currency,
}

impl MemberSpend {
    /// What their monthly limit counts: placed plus waiting.
    pub fn committed_spend(&self) -> i64 {
        self.placed + self.waiting
    }

    /// What their monthly limit still allows this month (never below zero); `None`: no limit.
    pub fn remaining(&self) -> Option<i64> {
        self.monthly_limit
            .map(|l| (l - self.committed_spend()).max(0))
    }
}

/// An unpaid invoice of a company's order on account, with what is left to pay of it.
#[derive(Debug, Clone)]
pub struct OpenInvoice {
    pub invoice: Invoice,
    pub owed: i64,
}

/// A company's dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub company_id: CompanyId,
    pub currency: Currency,
    /// When this calendar month began (UTC): spend counts from here.
    pub month_start: DateTime<Utc>,
    pub credit_limit: i64,
    /// What the company owes on account.
    pub open_balance: i64,
    /// What of it is past due.
    pub overdue_balance: i64,
    /// The members shown (all of them, or the caller), the highest committed spend first; a
    /// former member who spent this month is among them.
    pub members: Vec<MemberSpend>,
    pub pending_count: i64,
    /// The oldest [`LISTED`] pending requests shown.
    pub pending: Vec<ApprovalRequest>,
    pub invoice_count: i64,
    /// The [`LISTED`] open invoices shown that fall due first.
    pub invoices: Vec<OpenInvoice>,
}

impl Dashboard {
    /// The credit limit less the open balance, never below zero.
    pub fn credit_available(&self) -> i64 {
        (self.credit_limit - self.open_balance).max(0)
    }
}

/// Who reads a dashboard: the whole company's, or one member's share of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Whole,
    Member(UserId),
}

impl Viewer {
    fn only(self) -> Option<UserId> {
        match self {
            Viewer::Whole => None,
            Viewer::Member(user) => Some(user),
        }
    }
}

/// The dashboard of `company` (staff name it), or of the company the caller acts for (when
/// `company` is not given or names it); `None` for another company or one that does not exist.
/// Anyone else is refused (`UNAUTHENTICATED`, `FORBIDDEN`). Seven statements in one transaction.
#[tracing::instrument(name = "dashboard.company", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn company(
    db: &Database,
    ctx: &RequestContext,
    company: Option<CompanyId>,
) -> Result<Option<Dashboard>, ApiError> {
    let (id, viewer) = match (company, ctx.company) {
        (Some(id), scope) if ctx.is_staff() && scope.is_none_or(|s| s.id != id) => {
            (id, Viewer::Whole)
        }
        (None, None) if ctx.is_staff() => {
            return Err(ApiError::bad_input(
                "name the company: companyId, or act for one with x-company-id",
            ));
        }
        (company, _) => {
            let scope = ctx.require_company(CompanyRole::Buyer)?;
            if company.is_some_and(|c| c != scope.id) {
                return Ok(None);
            }
            let viewer = if scope.role == CompanyRole::Admin || ctx.is_staff() {
                Viewer::Whole
            } else {
                Viewer::Member(ctx.user_id()?)
            };
            (scope.id, viewer)
        }
    };
    let tenant: TenantId = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| read(tx, id, viewer).await)
        .await
}

async fn read(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    viewer: Viewer,
) -> Result<Option<Dashboard>, ApiError> {
    let Some(account) = vendors::api::company_accounts(tx, &[company])
        .await?
        .remove(&company)
    else {
        return Ok(None);
    };
    let balances = balances(tx, company).await?;
    let members = spend_by_member(tx, company, account.currency, viewer).await?;
    let (pending_count, pending) = approvals::pending(tx, company, viewer.only(), LISTED).await?;
    let (invoice_count, invoices) = open_invoices(tx, company, viewer.only()).await?;
    Ok(Some(Dashboard {
        company_id: company,
        currency: account.currency,
        month_start: balances.month_start,
        credit_limit: account.credit_limit,
        open_balance: balances.open,
        overdue_balance: balances.overdue,
        members,
        pending_count,
        pending,
        invoice_count,
        invoices,
    }))
}

#[derive(QueryableByName)]
struct Balances {
    #[diesel(sql_type = Timestamptz)]
    month_start: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    open: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

/// The month's start and what `company` owes, and of that what is past due: one statement.
async fn balances(tx: &mut TenantTx<'_>, company: CompanyId) -> diesel::QueryResult<Balances> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT date_trunc('month', now(), 'UTC') AS month_start,
                coalesce(sum(d.owed), 0)::bigint AS open,
                coalesce(sum(d.owed) FILTER (WHERE d.due_at < now()), 0)::bigint AS overdue
             FROM ({OWED}) d WHERE d.company = $1"
        ))
        .bind::<SqlUuid, _>(company),
    )
    .get_result(tx.conn())
    .await
}

/// Each member's spend this month (or the viewer's only), with their role and limits: two
/// statements.
async fn spend_by_member(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    currency: Currency,
    viewer: Viewer,
) -> Result<Vec<MemberSpend>, ApiError> {
    #[derive(QueryableByName)]
    struct Spent {
        #[diesel(sql_type = SqlUuid)]
        buyer: UserId,
        #[diesel(sql_type = BigInt)]
        placed: i64,
        #[diesel(sql_type = BigInt)]
        orders: i64,
        #[diesel(sql_type = BigInt)]
        waiting: i64,
    }
    let only = viewer.only();
    let spent: Vec<Spent> = Prepared(
        diesel::sql_query(format!(
            "SELECT s.buyer, sum(s.placed)::bigint AS placed,
                count(*) FILTER (WHERE s.request IS NULL) AS orders,
                sum(s.waiting)::bigint AS waiting
             FROM ({MONTH_SPEND}) s
             WHERE $2::uuid IS NULL OR s.buyer = $2
             GROUP BY s.buyer"
        ))
        .bind::<SqlUuid, _>(company)
        .bind::<Nullable<SqlUuid>, _>(only),
    )
    .load(tx.conn())
    .await?;
    let mut spent: HashMap<UserId, Spent> = spent.into_iter().map(|s| (s.buyer, s)).collect();
    let mut shown: Vec<MemberSpend> = vendors::api::company_members(tx, company)
        .await?
        .into_iter()
        .filter(|m| only.is_none_or(|u| u == m.user_id))
        .map(|m| {
            let s = spent.remove(&m.user_id);
            MemberSpend {
                user_id: m.user_id,
                email: Some(m.email),
                role: Some(m.role),
                placed: s.as_ref().map_or(0, |s| s.placed),
                orders: s.as_ref().map_or(0, |s| s.orders),
                waiting: s.as_ref().map_or(0, |s| s.waiting),
                order_limit: m.order_limit,
                monthly_limit: m.monthly_limit,
                currency,
            }
        })
        .collect();
    shown.extend(spent.into_values().map(|s| MemberSpend {
        user_id: s.buyer,
        email: None,
        role: None,
        placed: s.placed,
        orders: s.orders,
        waiting: s.waiting,
        order_limit: None,
        monthly_limit: None,
        currency,
    }));
    shown.sort_by(|a, b| {
        b.committed_spend()
            .cmp(&a.committed_spend())
            .then_with(|| a.email.cmp(&b.email))
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    Ok(shown)
}

/// How many of `company`'s invoices on account are unpaid (of `only`'s orders, when given), and
/// the [`LISTED`] that fall due first with what is left of each: two statements.
async fn open_invoices(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    only: Option<UserId>,
) -> diesel::QueryResult<(i64, Vec<OpenInvoice>)> {
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = SqlUuid)]
        order_id: OrderId,
        #[diesel(sql_type = BigInt)]
        owed: i64,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    let open: Vec<Open> = Prepared(
        diesel::sql_query(format!(
            "SELECT d.order_id, d.owed, count(*) OVER () AS total
             FROM ({OWED}) d
             WHERE d.company = $1 AND d.invoice IS NOT NULL AND ($2::uuid IS NULL OR d.buyer = $2)
             ORDER BY d.due_at, d.invoice
             LIMIT $3"
        ))
        .bind::<SqlUuid, _>(company)
        .bind::<Nullable<SqlUuid>, _>(only)
        .bind::<BigInt, _>(LISTED),
    )
    .load(tx.conn())
    .await?;
    let total = <[Open]>::first(&open).map_or(0, |o| o.total);
    let orders: Vec<OrderId> = open.iter().map(|o| o.order_id).collect();
    let mut documents = invoices::of_orders(tx, &orders).await?;
    let listed = open
        .into_iter()
        .filter_map(|o| {
            let invoice = documents
                .remove(&o.order_id)?
                .into_iter()
                .find(|i| i.kind == InvoiceKind::Invoice)?;
            Some(OpenInvoice {
                invoice,
                owed: o.owed,
            })
        })
        .collect();
    Ok((total, listed))
}

/// A company with invoices past due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub company_id: CompanyId,
    pub currency: Currency,
    /// What is unpaid past due.
    pub overdue_balance: i64,
    /// What the company owes on account in all.
    pub open_balance: i64,
    pub overdue_invoices: i64,
    /// The earliest due date among its unpaid invoices.
    pub oldest_due_at: DateTime<Utc>,
}

/// The most companies [`overdue`] lists at once.
pub const MAX_OVERDUE: i64 = 100;

/// For the tenant's staff: how many companies have invoices past due, and the first `first`
/// (1 to [`MAX_OVERDUE`]) of them, the longest overdue first. One statement.
#[tracing::instrument(name = "dashboard.overdue", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn overdue(
    db: &Database,
    ctx: &RequestContext,
    first: i64,
) -> Result<(i64, Vec<Overdue>), ApiError> {
    ctx.require_staff()?;
    if !(1..=MAX_OVERDUE).contains(&first) {
        return Err(ApiError::bad_input(format!("first is 1 to {MAX_OVERDUE}")));
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        company: CompanyId,
        #[diesel(sql_type = Text)]
        currency: Currency,
        #[diesel(sql_type = BigInt)]
        overdue: i64,
        #[diesel(sql_type = BigInt)]
        open: i64,
        #[diesel(sql_type = BigInt)]
        invoices: i64,
        #[diesel(sql_type = Timestamptz)]
        oldest: DateTime<Utc>,
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    let tenant: TenantId = ctx.tenant()?.id;
    let rows: Vec<Row> = db
        .tenant_tx(tenant, async move |tx| {
            Prepared(
                diesel::sql_query(format!(
                    "SELECT d.company, d.currency,
                        (sum(d.owed) FILTER (WHERE d.due_at < now()))::bigint AS overdue,
                        sum(d.owed)::bigint AS open,
                        count(*) FILTER (WHERE d.due_at < now()) AS invoices,
                        min(d.due_at) AS oldest,
                        count(*) OVER () AS total
                     FROM ({OWED}) d
                     GROUP BY d.company, d.currency
                     HAVING bool_or(d.due_at < now())
                     ORDER BY oldest, d.company
                     LIMIT $1"
                ))
                .bind::<BigInt, _>(first),
            )
            .load(tx.conn())
            .await
            .map_err(ApiError::from)
        })
        .await?;
    let total = <[Row]>::first(&rows).map_or(0, |r| r.total);
    Ok((
        total,
        rows.into_iter()
            .map(|r| Overdue {
                company_id: r.company,
                currency: r.currency,
                overdue_balance: r.overdue,
                open_balance: r.open,
                overdue_invoices: r.invoices,
                oldest_due_at: r.oldest,
            })
            .collect(),
    ))
}
