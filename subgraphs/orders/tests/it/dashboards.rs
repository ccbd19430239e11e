//! Dashboards: a company's spend this month by member, pending approvals, open invoices and
//! available credit, each member seeing their own share and admins and staff the whole; and
//! staff's list of companies with overdue balances.

use crate::common::*;
use cityos_core::{ApiError, CompanyRole, ErrorCode, RequestContext};
use cityos_testkit::TestDb;
use orders::checkout::Checkout;
use orders::dashboards::{self, Dashboard};
use orders::ids::{CompanyId, OrderId, UserId};
use orders::payments::{Gateway, PaymentMethod};
use serde_json::json;

async fn dashboard(
    t: &TestDb,
    who: &RequestContext,
    company: Option<CompanyId>,
) -> Result<Option<Dashboard>, ApiError> {
    dashboards::company(t.db(), who, company).await
}

async fn mine(t: &TestDb, who: &RequestContext) -> Dashboard {
    dashboard(t, who, None)
        .await
        .expect("read")
        .expect("a dashboard")
}

/// Moves the due date of `order`'s invoice `days` into the past.
async fn backdate(t: &TestDb, shop: &Shop, order: OrderId, days: i32) {
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "UPDATE orders.invoices SET due_at = now() - make_interval(days => $2)
                 WHERE order_id = $1 AND kind = 'INVOICE'",
            )
            .bind::<diesel::sql_types::Uuid, _>(order)
            .bind::<diesel::sql_types::Integer, _>(days)
            .execute(tx.conn())
            .await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("backdated");
}

struct Fixture {
    souq: Shop,
    company: CompanyId,
    admin: RequestContext,
    approver: (UserId, RequestContext),
    buyer: (UserId, RequestContext),
    /// The buyer's order on account (20.00, 5.00 of it paid).
    buyers_order: OrderId,
    /// The admin's order on account (10.00), its invoice four days overdue.
    admins_order: OrderId,
}

/// A company on NET_30 with 100.00 of credit: its admin, an approver, and a buyer with a monthly
/// limit of 80.00 who placed an order on account of 20.00 (5.00 of it paid) and has a request of
/// 50.00 awaiting the approver; the admin placed one of 10.00 (overdue) and one of 10.00 that was
/// cancelled.
async fn fixture(t: &TestDb) -> Fixture {
    let souq = shop(t, "dash").await;
    let tea = item(t, &souq, "TEA-1", 1000, 100, None).await;
    let (company, _, admin) = company(t, &souq, "acme").await;
    net_30(t, &souq, company, 10_000, 5).await;
    let approver = member(
        t,
        &souq,
        &admin,
        company,
        "approver@acme.test",
        CompanyRole::Approver,
    )
    .await;
    let buyer = member(
        t,
        &souq,
        &admin,
        company,
        "buyer@acme.test",
        CompanyRole::Buyer,
    )
    .await;
    vendors::companies::members::set_limits(t.db(), &admin, company, buyer.0, None, Some(8000))
        .await
        .expect("limits");
    let on_account = PaymentMethod::OnAccount;

    let cart = ready_cart(t, &buyer.1, vec![line(tea, 2)]).await.cart.id;
    let buyers_order = check_out_with(t, &buyer.1, cart, "b-1", on_account, None)
        .await
        .expect("buyer's order")
        .id;
    let cart = ready_cart(t, &admin, vec![line(tea, 1)]).await.cart.id;
    let admins_order = check_out_with(t, &admin, cart, "a-1", on_account, None)
        .await
        .expect("admin's order")
        .id;
    let cart = ready_cart(t, &admin, vec![line(tea, 1)]).await.cart.id;
    let cancelled = check_out_with(t, &admin, cart, "a-2", on_account, None)
        .await
        .expect("admin's second order")
        .id;
    orders::orders::cancel(t.db(), &souq.admin, cancelled, None, &Gateway::default())
        .await
        .expect("cancelled");

    // From 40.00 on, orders wait for an approver.
    let any_approver = vendors::api::ApprovalLevel {
        mode: vendors::api::ApprovalMode::Any,
        roles: vec![CompanyRole::Approver],
        members: Vec::new(),
    };
    approval_rule(t, &souq, company, 4000, vec![any_approver]).await;
    let cart = ready_cart(t, &buyer.1, vec![line(tea, 5)]).await.cart.id;
    let Ok(Checkout::AwaitingApproval(_)) =
        submit_with(t, &buyer.1, cart, "b-2", on_account, None).await
    else {
        panic!("an approval request");
    };

    let tenant = souq.info.id;
    let invoice = invoice_of(t, tenant, buyers_order).await.id;
    orders::orders::record_invoice_payment(t.db(), &souq.admin, invoice, 500, None)
        .await
        .expect("paid in part");
    backdate(t, &souq, admins_order, 4).await;
    Fixture {
        souq,
        company,
        admin,
        approver,
        buyer,
        buyers_order,
        admins_order,
    }
}

#[tokio::test]
async fn a_companys_admins_and_staff_see_its_whole_month_and_balance() {
    let t = test_db().await;
    let f = fixture(&t).await;

    let whole = mine(&t, &f.admin).await;
    assert_eq!(whole.company_id, f.company);
    assert_eq!(whole.currency.to_string(), "SAR");
    // Owed: 20.00 − 5.00 paid, plus 10.00 (overdue); the cancelled order owes nothing.
    assert_eq!(whole.credit_limit, 10_000);
    assert_eq!(whole.open_balance, 2500);
    assert_eq!(whole.overdue_balance, 1000);
    assert_eq!(whole.credit_available(), 7500);

    // Every member, the highest committed spend first: the buyer's order and request, the
    // admin's order (the cancelled one aside), the approver's nothing.
    let rows: Vec<_> = whole
        .members
        .iter()
        .map(|m| {
            let email = m.email.clone().expect("a member");
            (email, m.placed, m.orders, m.waiting, m.remaining())
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("buyer@acme.test".into(), 2000, 1, 5000, Some(1000)),
            ("admin@acme.test".into(), 1000, 1, 0, None),
            ("approver@acme.test".into(), 0, 0, 0, None),
        ]
    );
    assert_eq!(whole.members[0].role, Some(CompanyRole::Buyer));
    assert_eq!(whole.pending_count, 1);
    assert_eq!(whole.pending[0].buyer_id, f.buyer.0);
    assert_eq!(whole.pending[0].total, 5000);

    // The open invoices, the first due first, with what is left of each.
    assert_eq!(whole.invoice_count, 2);
    let open: Vec<_> = whole
        .invoices
        .iter()
        .map(|i| (i.invoice.order_id, i.owed))
        .collect();
    assert_eq!(open, vec![(f.admins_order, 1000), (f.buyers_order, 1500)]);

    // Staff name the company and see the same.
    let staffs = dashboard(&t, &f.souq.admin, Some(f.company))
        .await
        .expect("read")
        .expect("a dashboard");
    assert_eq!(staffs.members.len(), 3);
    assert_eq!(staffs.invoice_count, 2);
    assert_eq!(staffs.open_balance, 2500);
    let unnamed = dashboard(&t, &f.souq.admin, None).await;
    assert_eq!(
        unnamed.map(|_| ()).unwrap_err().code,
        ErrorCode::BadUserInput
    );

    // A member's spend left with them: a former member's row stays, without a role.
    vendors::membership::remove::<vendors::companies::members::Buyers>(
        t.db(),
        &f.admin,
        f.company,
        f.buyer.0,
    )
    .await
    .expect("removed");
    let after = mine(&t, &f.admin).await;
    let former = after
        .members
        .iter()
        .find(|m| m.user_id == f.buyer.0)
        .expect("the former member's spend");
    assert_eq!((former.role, former.committed_spend()), (None, 7000));
}

#[tokio::test]
async fn approvers_and_buyers_see_the_companys_credit_and_only_their_own_share() {
    let t = test_db().await;
    let f = fixture(&t).await;

    let buyers = mine(&t, &f.buyer.1).await;
    assert_eq!(buyers.credit_available(), 7500);
    let ids: Vec<_> = buyers.members.iter().map(|m| m.user_id).collect();
    assert_eq!(ids, vec![f.buyer.0]);
    assert_eq!(buyers.pending_count, 1);
    assert_eq!(buyers.invoice_count, 1);
    assert_eq!(buyers.invoices[0].invoice.order_id, f.buyers_order);

    // The approver sees the request they approve, and no invoice of anyone else's order.
    let approvers = mine(&t, &f.approver.1).await;
    let ids: Vec<_> = approvers.members.iter().map(|m| m.user_id).collect();
    assert_eq!(ids, vec![f.approver.0]);
    assert_eq!(approvers.pending_count, 1);
    assert_eq!((approvers.invoice_count, approvers.invoices.len()), (0, 0));
}

#[tokio::test]
async fn nobody_outside_a_company_or_its_tenant_reads_its_dashboard() {
    let t = test_db().await;
    let f = fixture(&t).await;

    // Another company's admin naming this one: null; their own: empty.
    let (theirs, _, other_admin) = company(&t, &f.souq, "other").await;
    assert!(
        dashboard(&t, &other_admin, Some(f.company))
            .await
            .expect("read")
            .is_none()
    );
    let own = mine(&t, &other_admin).await;
    assert_eq!(own.company_id, theirs);
    assert_eq!(
        (own.open_balance, own.pending_count, own.invoice_count),
        (0, 0, 0)
    );
    assert!(own.members.iter().all(|m| m.committed_spend() == 0));

    // A customer acting for no company, and a guest: refused.
    let customer = f.souq.customer();
    let refused = dashboard(&t, &customer, Some(f.company)).await;
    assert_eq!(refused.map(|_| ()).unwrap_err().code, ErrorCode::Forbidden);
    let guest = dashboard(&t, &f.souq.guest(), None).await;
    assert_eq!(
        guest.map(|_| ()).unwrap_err().code,
        ErrorCode::Unauthenticated
    );

    // Another tenant's staff: no such company there, and no overdue one.
    let elsewhere = shop(&t, "elsewhere").await;
    assert!(
        dashboard(&t, &elsewhere.admin, Some(f.company))
            .await
            .expect("read")
            .is_none()
    );
    let (total, listed) = dashboards::overdue(t.db(), &elsewhere.admin, 50)
        .await
        .expect("listed");
    assert_eq!((total, listed.len()), (0, 0));
}

#[tokio::test]
async fn staff_list_the_companies_with_overdue_balances_longest_overdue_first() {
    let t = test_db().await;
    let f = fixture(&t).await;
    let (total, listed) = dashboards::overdue(t.db(), &f.souq.admin, 50)
        .await
        .expect("listed");
    assert_eq!(total, 1);
    let first = &listed[0];
    assert_eq!(first.company_id, f.company);
    assert_eq!(
        (
            first.overdue_balance,
            first.open_balance,
            first.overdue_invoices
        ),
        (1000, 2500, 1)
    );

    // A second company, overdue longer, comes first; one with nothing due is not listed.
    let tea = item(&t, &f.souq, "TEA-2", 700, 10, None).await;
    let (late, _, late_admin) = company(&t, &f.souq, "late").await;
    net_30(&t, &f.souq, late, 10_000, 30).await;
    let cart = ready_cart(&t, &late_admin, vec![line(tea, 1)])
        .await
        .cart
        .id;
    let order = check_out_with(&t, &late_admin, cart, "l-1", PaymentMethod::OnAccount, None)
        .await
        .expect("order")
        .id;
    backdate(&t, &f.souq, order, 20).await;
    company(&t, &f.souq, "current").await;
    let (total, listed) = dashboards::overdue(t.db(), &f.souq.admin, 50)
        .await
        .expect("listed");
    assert_eq!(total, 2);
    let order: Vec<_> = listed
        .iter()
        .map(|o| (o.company_id, o.overdue_balance))
        .collect();
    assert_eq!(order, vec![(late, 700), (f.company, 1000)]);
    let (total, one) = dashboards::overdue(t.db(), &f.souq.admin, 1)
        .await
        .expect("listed");
    assert_eq!((total, one.len()), (2, 1));

    // Paid in full, the first company leaves the list.
    let invoice = invoice_of(&t, f.souq.info.id, f.admins_order).await.id;
    orders::orders::record_invoice_payment(t.db(), &f.souq.admin, invoice, 1000, None)
        .await
        .expect("paid");
    let (total, listed) = dashboards::overdue(t.db(), &f.souq.admin, 50)
        .await
        .expect("listed");
    assert_eq!((total, listed[0].company_id), (1, late));

    // Staff only, 1 to 100 at once.
    for (who, first, code) in [
        (&f.admin, 50, ErrorCode::Forbidden),
        (&f.souq.admin, 0, ErrorCode::BadUserInput),
        (&f.souq.admin, 101, ErrorCode::BadUserInput),
    ] {
        let refused = dashboards::overdue(t.db(), who, first).await;
        assert_eq!(refused.map(|_| ()).unwrap_err().code, code);
    }
}

#[tokio::test]
async fn the_dashboard_reads_the_same_through_graphql() {
    let t = test_db().await;
    let f = fixture(&t).await;
    let query = "query { companyDashboard {
        availableCredit { amount currency } openBalance { amountMinor } overdueBalance { amountMinor }
        spendThisMonth { amountMinor } pendingApprovalCount
        pendingApprovals { status total { amountMinor } }
        members { email role placed { amountMinor } awaitingApproval { amountMinor }
            committed { amountMinor } monthlyLimit { amountMinor } remainingThisMonth { amountMinor } }
        openInvoiceCount openInvoices { orderId amountDue { amountMinor } overdue invoice { displayNumber status } }
    } }";
    let v = gql(&t, &f.admin, query, json!({})).await;
    let d = &v["data"]["companyDashboard"];
    assert_eq!(
        d["availableCredit"],
        json!({"amount": "75.00", "currency": "SAR"})
    );
    assert_eq!(d["openBalance"]["amountMinor"], 2500);
    assert_eq!(d["overdueBalance"]["amountMinor"], 1000);
    assert_eq!(d["spendThisMonth"]["amountMinor"], 8000);
    assert_eq!(d["pendingApprovalCount"], 1);
    assert_eq!(d["pendingApprovals"][0]["status"], "PENDING");
    let buyer = &d["members"][0];
    assert_eq!(buyer["email"], "buyer@acme.test");
    assert_eq!(buyer["role"], "BUYER");
    assert_eq!(buyer["committed"]["amountMinor"], 7000);
    assert_eq!(buyer["monthlyLimit"]["amountMinor"], 8000);
    assert_eq!(buyer["remainingThisMonth"]["amountMinor"], 1000);
    assert_eq!(d["members"][1]["remainingThisMonth"], json!(null));
    assert_eq!(d["openInvoiceCount"], 2);
    let first = &d["openInvoices"][0];
    assert_eq!(first["orderId"], f.admins_order.to_string());
    assert_eq!(first["amountDue"]["amountMinor"], 1000);
    assert_eq!(first["overdue"], true);
    assert_eq!(first["invoice"]["status"], "OVERDUE");
    assert_eq!(d["openInvoices"][1]["overdue"], false);

    let v = gql(
        &t,
        &f.souq.admin,
        "query { overdueCompanies(first: 10) { totalCount companies { company { id } overdueBalance { amountMinor } overdueInvoiceCount } } }",
        json!({}),
    )
    .await;
    let listed = &v["data"]["overdueCompanies"];
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(
        listed["companies"][0]["company"]["id"],
        f.company.to_string()
    );
    assert_eq!(listed["companies"][0]["overdueInvoiceCount"], 1);
    let v = gql(
        &t,
        &f.buyer.1,
        "query { overdueCompanies { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "FORBIDDEN");
}
