//! Dashboards in GraphQL: `companyDashboard` for a company's members and the tenant's staff, and
//! `overdueCompanies` for staff.

use crate::checkout::approvals::ApprovalRequest;
use crate::dashboards::{self, Dashboard, MemberSpend, OpenInvoice, Overdue};
use crate::federation::{Company, User};
use crate::ids::CompanyId;
use crate::orders::invoices::Invoice;
use crate::scope::money;
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::CompanyRole;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

/// The dashboard queries.
#[derive(Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// A company's dashboard: its spend this month by member, pending approvals, open invoices
    /// and available credit. Members get the company they act for (`x-company-id`; a
    /// `companyId` naming another gives null): its admins all of it, its approvers and buyers
    /// its credit, their own spend, the requests they made or approve and their own orders'
    /// invoices. Staff name any company of the tenant (null when there is none).
    async fn company_dashboard(
        &self,
        ctx: &Context<'_>,
        company_id: Option<CompanyId>,
    ) -> Result<Option<Dashboard>> {
        Ok(dashboards::company(ctx.db(), ctx.request()?, company_id).await?)
    }

    /// Staff: the companies with invoices unpaid past their due date, the longest overdue first;
    /// at most `first` (1 to 100) of them.
    async fn overdue_companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<OverdueCompanies> {
        let (total, companies) =
            dashboards::overdue(ctx.db(), ctx.request()?, i64::from(first)).await?;
        Ok(OverdueCompanies { total, companies })
    }
}

/// What a company has spent this month and owes, in its currency.
#[Object(name = "CompanyDashboard")]
impl Dashboard {
    /// The company.
    async fn company(&self) -> Company {
        Company {
            id: to_id(self.company_id),
        }
    }
    /// When this calendar month began (UTC): spend counts from here.
    async fn month_start(&self) -> DateTime<Utc> {
        self.month_start
    }
    /// What may be owed on account at once.
    async fn credit_limit(&self) -> Money {
        money(self.credit_limit, self.currency)
    }
    /// What the company owes on account: what is unpaid of its orders on account, invoiced or
    /// not yet.
    async fn open_balance(&self) -> Money {
        money(self.open_balance, self.currency)
    }
    /// What of the open balance is past its invoices' due dates.
    async fn overdue_balance(&self) -> Money {
        money(self.overdue_balance, self.currency)
    }
    /// What an order on account may still cost: the credit limit less the open balance, never
    /// below zero.
    async fn available_credit(&self) -> Money {
        money(self.credit_available(), self.currency)
    }
    /// The spend of the members shown this month, the highest first (every member, and any
    /// former member who spent this month; an approver or buyer sees only themself).
    async fn members(&self) -> &[MemberSpend] {
        &self.members
    }
    /// What the members shown committed this month in all.
    async fn spend_this_month(&self) -> Money {
        let total = self.members.iter().map(MemberSpend::committed_spend).sum();
        money(total, self.currency)
    }
    /// How many of the requests shown await approval.
    async fn pending_approval_count(&self) -> i64 {
        self.pending_count
    }
    /// The oldest 50 of the requests shown that await approval.
    async fn pending_approvals(&self) -> &[ApprovalRequest] {
        &self.pending
    }
    /// How many of the invoices shown are unpaid.
    async fn open_invoice_count(&self) -> i64 {
        self.invoice_count
    }
    /// The 50 of the unpaid invoices shown that fall due first.
    async fn open_invoices(&self) -> &[OpenInvoice] {
        &self.invoices
    }
}

/// A member's spend this month, and their limits.
#[Object(name = "CompanyMemberSpend")]
impl MemberSpend {
    /// The member.
    async fn user(&self) -> User {
        User {
            id: to_id(self.user_id),
        }
    }
    /// The address they joined with; null once they have left the company.
    async fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
    /// Their role; null once they have left the company.
    async fn role(&self) -> Option<CompanyRole> {
        self.role
    }
    /// What their orders placed this month cost (cancelled ones aside).
    async fn placed(&self) -> Money {
        money(self.placed, self.currency)
    }
    /// How many orders they placed this month (cancelled ones aside).
    async fn order_count(&self) -> i64 {
        self.orders
    }
    /// What their requests awaiting approval cost.
    async fn awaiting_approval(&self) -> Money {
        money(self.waiting, self.currency)
    }
    /// What their monthly limit counts: placed plus awaiting approval.
    async fn committed(&self) -> Money {
        money(self.committed_spend(), self.currency)
    }
    /// The most one of their orders may cost; null: no limit.
    async fn order_limit(&self) -> Option<Money> {
        self.order_limit.map(|l| money(l, self.currency))
    }
    /// The most their orders may commit in a calendar month; null: no limit.
    async fn monthly_limit(&self) -> Option<Money> {
        self.monthly_limit.map(|l| money(l, self.currency))
    }
    /// What their monthly limit still allows this month (never below zero); null: no limit.
    async fn remaining_this_month(&self) -> Option<Money> {
        self.remaining().map(|l| money(l, self.currency))
    }
}

/// An unpaid invoice of an order on account, and what is left to pay of it.
#[Object(name = "CompanyOpenInvoice")]
impl OpenInvoice {
    /// The invoice.
    async fn invoice(&self) -> &Invoice {
        &self.invoice
    }
    /// The order it bills.
    async fn order_id(&self) -> ID {
        to_id(self.invoice.order_id)
    }
    /// What is left to pay of it (payments recorded against it lower it).
    async fn amount_due(&self) -> Money {
        money(self.owed, self.invoice.currency)
    }
    /// Whether it is unpaid past its due date.
    async fn overdue(&self) -> bool {
        self.invoice.due_at.is_some_and(|due| due < Utc::now())
    }
}

/// The companies with invoices past due.
pub struct OverdueCompanies {
    total: i64,
    companies: Vec<Overdue>,
}

/// Staff's list of companies with invoices unpaid past their due date.
#[Object]
impl OverdueCompanies {
    /// How many companies have invoices past due.
    async fn total_count(&self) -> i64 {
        self.total
    }
    /// The first of them, the longest overdue first.
    async fn companies(&self) -> &[Overdue] {
        &self.companies
    }
}

/// A company with invoices unpaid past their due date, in its currency.
#[Object(name = "OverdueCompany")]
impl Overdue {
    /// The company.
    async fn company(&self) -> Company {
        Company {
            id: to_id(self.company_id),
        }
    }
    /// What is unpaid past due.
    async fn overdue_balance(&self) -> Money {
        money(self.overdue_balance, self.currency)
    }
    /// What the company owes on account in all, due or not.
    async fn open_balance(&self) -> Money {
        money(self.open_balance, self.currency)
    }
    /// How many of its invoices are past due.
    async fn overdue_invoice_count(&self) -> i64 {
        self.overdue_invoices
    }
    /// The earliest due date among its unpaid invoices.
    async fn oldest_due_at(&self) -> DateTime<Utc> {
        self.oldest_due_at
    }
}
