//! A company's rules at checkout: who may buy for it, how much, and on what terms.
//!
//! For a company cart, in checkout's transaction after the cart is priced: the vendors
//! subgraph's api locks the company's row (`vendors::api::lock_buyer`: every checkout of one
//! company queues there, so its credit limit and its buyers' monthly limits hold under races) and
//! gives the buyer's standing; one statement then reads, from orders' own tables, the buyer's
//! committed spend this calendar month (UTC; every order placed for the company that is not
//! cancelled) and the company's open balance (what is unpaid of its ON_ACCOUNT payments). In
//! order, the checkout is refused when the buyer is no longer a member (NOT_COMPANY_MEMBER), the
//! company is not verified or is closed (COMPANY_INACTIVE), the cart is in another currency
//! (CURRENCY_MISMATCH), a purchase-order number is required and missing
//! (PURCHASE_ORDER_REQUIRED), the order costs more than the buyer's per-order limit
//! (ORDER_LIMIT_EXCEEDED) or takes the month past the monthly limit (MONTHLY_LIMIT_EXCEEDED).
//! Paying ON_ACCOUNT further needs NET terms (INVALID_PAYMENT_METHOD), a company that is not on
//! hold (COMPANY_ON_HOLD), and the open balance plus the order within the credit limit
//! (CREDIT_LIMIT_EXCEEDED). An ON_HOLD company's buyers may still pay at checkout. Requests
//! awaiting approval count toward the month's spend ([`super::approvals`]).

use crate::carts::PricedCart;
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{ApprovalRequestId, CompanyId};
use crate::payments::PaymentMethod;
use cityos_core::money::Money;
use cityos_core::text::Line;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use vendors::api::{BuyerStanding, CompanyStatus};

/// What an order records of the company it was bought for, and the terms it was placed on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The company, for a company cart.
    pub company_id: Option<CompanyId>,
    /// The buyer's purchase-order number.
    pub purchase_order: Option<String>,
    /// Days the invoice gives to pay (the company's NET terms, for an order on account).
    pub due_days: Option<i32>,
    /// The buyer's role in the company.
    pub buyer_role: Option<cityos_core::CompanyRole>,
    /// Days an approval request of the company waits.
    pub approval_days: i32,
}

/// A purchase-order number as given: trimmed, 1 to 64 printable characters; `None` for none.
pub fn purchase_order(text: Option<&str>) -> Outcome<Option<String>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    Line::<64>::parse(text)
        .map(|l| Some(l.into_inner()))
        .map_err(|e| {
            UserError::new(
                "purchaseOrderNumber",
                Code::InvalidPurchaseOrder,
                e.message("a purchase-order number"),
            )
            .into()
        })
}

/// A company's committed spend this calendar month (UTC), `$1` naming the company, as rows of
/// `buyer`, `placed` (an order placed for it that is not cancelled), `waiting` (a request awaiting
/// approval made this month) and `request` (that request's id). What a buyer's monthly limit
/// counts, and what the company's dashboard shows by member. Checkout reads the same sums from
/// `orders.company_month_spend`, which triggers keep (see [`committed`]).
pub(crate) const MONTH_SPEND: &str = "
    SELECT o.customer_id AS buyer, o.total AS placed, 0::bigint AS waiting, NULL::uuid AS request
    FROM orders.orders o
    WHERE o.company_id = $1 AND o.status <> 'CANCELLED'
      AND o.placed_at >= date_trunc('month', now(), 'UTC')
    UNION ALL
    SELECT r.buyer_id, 0::bigint, r.total, r.id
    FROM orders.approval_requests r
    WHERE r.company_id = $1 AND r.status = 'PENDING'
      AND r.created_at >= date_trunc('month', now(), 'UTC')";

/// What companies owe on account, as rows of `company`, `buyer`, `order_id`, `currency`, `owed`
/// (what is left to pay of an ON_ACCOUNT payment still open), `invoice` and `due_at` (its order's
/// unpaid invoice, NULL until the order is confirmed and invoiced). The credit limit counts them
/// (their sum, kept by a trigger in `orders.company_owed`), the company's dashboard and staff's
/// list of overdue companies show them.
pub(crate) const OWED: &str = "
    SELECT o.company_id AS company, o.customer_id AS buyer, o.id AS order_id, p.currency,
        p.amount - p.captured_amount AS owed, i.id AS invoice, i.due_at
    FROM orders.payments p
    JOIN orders.orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
    LEFT JOIN orders.invoices i ON i.tenant_id = o.tenant_id AND i.order_id = o.id
        AND i.kind = 'INVOICE' AND i.status IN ('ISSUED', 'OVERDUE')
    WHERE p.method = 'ON_ACCOUNT' AND p.status IN ('PENDING', 'AUTHORIZED')
      AND o.company_id IS NOT NULL";

#[derive(QueryableByName, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The buyer's share of the company's [`MONTH_SPEND`].
    #[diesel(sql_type = BigInt)]
    pub month_spend: i64,
    /// What the company [`OWED`].
    #[diesel(sql_type = BigInt)]
    pub open_balance: i64,
}

/// The buyer's committed spend this month and the company's open balance: one statement that
/// reads two rows, whatever the company's history. Triggers keep those rows in the transaction of
/// every change to orders, approval requests and payments
/// (migrations/orders/2026-12-03-000011_company_commitments), equal to the sums of
/// [`MONTH_SPEND`] and [`OWED`]. `placing` is a request being placed now: its own amount is not
/// counted twice.
pub async fn committed(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    buyer: crate::ids::UserId,
    placing: Option<ApprovalRequestId>,
) -> diesel::QueryResult<Committed> {
    Prepared(
        diesel::sql_query(
            "SELECT
                (coalesce((SELECT s.placed + s.waiting FROM orders.company_month_spend s
                   WHERE s.company_id = $1 AND s.buyer_id = $2
                     AND s.month = date_trunc('month', now(), 'UTC')::date), 0)
                 - coalesce((SELECT r.total FROM orders.approval_requests r
                   WHERE r.id = $3 AND r.company_id = $1 AND r.buyer_id = $2 AND r.status = 'PENDING'
                     AND r.created_at >= date_trunc('month', now(), 'UTC')), 0))::bigint AS month_spend,
                coalesce((SELECT o.owed FROM orders.company_owed o WHERE o.company_id = $1), 0)::bigint
                    AS open_balance",
        )
        .bind::<SqlUuid, _>(company)
        .bind::<SqlUuid, _>(buyer)
        .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(placing),
    )
    .get_result(tx.conn())
    .await
}

/// Applies the company's rules to a priced cart (see the module documentation) and returns what
/// the order records; a personal cart only may not pay ON_ACCOUNT. `placing` is the approval
/// request being placed, if any (its amount is already committed).
pub async fn check(
    tx: &mut TenantTx<'_>,
    priced: &PricedCart,
    method: PaymentMethod,
    purchase_order: Option<String>,
    placing: Option<ApprovalRequestId>,
) -> Outcome<Account> {
    let cart = &priced.cart;
    let (Some(company), Some(buyer)) = (cart.company_id, cart.customer_id) else {
        if method == PaymentMethod::OnAccount {
            return Err(UserError::new(
                "paymentMethod",
                Code::InvalidPaymentMethod,
                "only a company's buyers pay on account: check out a company cart",
            )
            .into());
        }
        return Ok(Account {
            purchase_order,
            ..Account::default()
        });
    };
    let Some(standing) = vendors::api::lock_buyer(tx, company, buyer).await? else {
        return Err(UserError::new(
            "cartId",
            Code::NotCompanyMember,
            "you are no longer a member of this cart's company",
        )
        .into());
    };
    let committed = committed(tx, company, buyer, placing).await?;
    let due_days = rules(
        &standing,
        priced,
        method,
        purchase_order.is_some(),
        committed,
    )?;
    Ok(Account {
        company_id: Some(company),
        purchase_order,
        due_days,
        buyer_role: Some(standing.role),
        approval_days: standing.approval_days,
    })
}

/// The rules themselves, on facts read under the company's lock; for an order on account, the
/// days its invoice gives to pay.
pub fn rules(
    standing: &BuyerStanding,
    priced: &PricedCart,
    method: PaymentMethod,
    has_purchase_order: bool,
    committed: Committed,
) -> Outcome<Option<i32>> {
    let name = &standing.company_name;
    let total = priced.totals.total;
    let money = |amount: i64| Money::new(amount, standing.currency);
    match standing.status {
        CompanyStatus::Active | CompanyStatus::OnHold => {}
        CompanyStatus::PendingVerification | CompanyStatus::Closed => {
            return Err(UserError::new(
                "cartId",
                Code::CompanyInactive,
                format!(
                    "{name} cannot order: it is {}",
                    standing
                        .status
                        .as_str()
                        .to_ascii_lowercase()
                        .replace('_', " ")
                ),
            )
            .into());
        }
    }
    if priced.cart.currency != standing.currency {
        return Err(UserError::new(
            "cartId",
            Code::CurrencyMismatch,
            format!("{name} buys in {}", standing.currency),
        )
        .into());
    }
    if standing.po_required && !has_purchase_order {
        return Err(UserError::new(
            "purchaseOrderNumber",
            Code::PurchaseOrderRequired,
            format!("{name} requires a purchase-order number on every order"),
        )
        .into());
    }
    if let Some(limit) = standing.order_limit
        && total > limit
    {
        return Err(UserError::new(
            "cartId",
            Code::OrderLimitExceeded,
            format!(
                "the order costs {}; your limit per order is {}",
                money(total),
                money(limit)
            ),
        )
        .into());
    }
    if let Some(limit) = standing.monthly_limit
        && committed.month_spend.saturating_add(total) > limit
    {
        let left = (limit - committed.month_spend).max(0);
        return Err(UserError::new(
            "cartId",
            Code::MonthlyLimitExceeded,
            format!(
                "the order costs {}; {} is left of your monthly limit of {}",
                money(total),
                money(left),
                money(limit)
            ),
        )
        .into());
    }
    if method != PaymentMethod::OnAccount {
        return Ok(None);
    }
    let Some(days) = standing.payment_terms.net_days() else {
        return Err(UserError::new(
            "paymentMethod",
            Code::InvalidPaymentMethod,
            format!("{name} pays at checkout (PREPAID terms), not on account"),
        )
        .into());
    };
    if standing.status == CompanyStatus::OnHold {
        return Err(UserError::new(
            "paymentMethod",
            Code::CompanyOnHold,
            format!("{name} is on hold and cannot order on account; pay at checkout"),
        )
        .into());
    }
    if committed.open_balance.saturating_add(total) > standing.credit_limit {
        let available = (standing.credit_limit - committed.open_balance).max(0);
        return Err(UserError::new(
            "paymentMethod",
            Code::CreditLimitExceeded,
            format!(
                "the order costs {}; {name} has {} of credit available",
                money(total),
                money(available)
            ),
        )
        .into());
    }
    Ok(Some(i32::try_from(days).unwrap_or(i32::MAX)))
}
