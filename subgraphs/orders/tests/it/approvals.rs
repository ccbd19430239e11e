//! Approval requests: a company buyer's checkout over a rule's threshold waits, frozen, for the
//! chain of approvers; decisions name a version; the last approval places the order once, at the
//! approved prices or not at all.

use crate::common::*;
use chrono::Utc;
use cityos_core::{ApiError, CompanyRole};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::TestDb;
use futures_util::future::join_all;
use orders::checkout::Checkout;
use orders::checkout::approvals::{self, ApprovalRequest, ApprovalStatus};
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{CartId, TenantId};
use std::time::Duration;
use vendors::api::{ApprovalLevel, ApprovalMode};

fn waiting(checkout: Checkout) -> ApprovalRequest {
    match checkout {
        Checkout::AwaitingApproval(r) => r,
        Checkout::Placed(o) => panic!("expected an approval request, got order {}", o.number),
    }
}

fn level(mode: ApprovalMode, roles: &[CompanyRole]) -> ApprovalLevel {
    ApprovalLevel {
        mode,
        roles: roles.to_vec(),
        members: Vec::new(),
    }
}

async fn decide(
    t: &TestDb,
    who: &cityos_core::RequestContext,
    r: &ApprovalRequest,
    version: i32,
    approve: bool,
) -> orders::errors::Outcome<ApprovalRequest> {
    approvals::decide(
        t.db(),
        who,
        r.id,
        version,
        approve,
        Some("checked".into()),
        &orders::payments::Gateway::default(),
    )
    .await
}

async fn cart_status(t: &TestDb, tenant: TenantId, cart: CartId) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    t.db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("SELECT status FROM orders.carts WHERE id = $1")
                .bind::<diesel::sql_types::Uuid, _>(cart)
                .get_result::<Row>(tx.conn())
                .await
                .map_err(ApiError::from)
        })
        .await
        .expect("cart")
        .status
}

#[tokio::test]
async fn a_checkout_over_the_threshold_waits_level_by_level_and_the_last_approval_places_it() {
    let t = test_db().await;
    let souq = shop(&t, "appr-chain").await;
    let tenant = souq.info.id;
    let tea = item(&t, &souq, "TEA-1", 3000, 100, None).await;
    let (company, admin_id, admin) = company(&t, &souq, "chain").await;
    let (_, first) = member(
        &t,
        &souq,
        &admin,
        company,
        "a1@chain.test",
        CompanyRole::Approver,
    )
    .await;
    let (_, second) = member(
        &t,
        &souq,
        &admin,
        company,
        "a2@chain.test",
        CompanyRole::Approver,
    )
    .await;
    let (buyer_id, buyer) = member(
        &t,
        &souq,
        &admin,
        company,
        "b@chain.test",
        CompanyRole::Buyer,
    )
    .await;
    vendors::companies::members::set_limits(t.db(), &admin, company, buyer_id, None, Some(10_000))
        .await
        .expect("limit");
    approval_rule(
        &t,
        &souq,
        company,
        5000,
        vec![
            level(ApprovalMode::Any, &[CompanyRole::Approver]),
            level(ApprovalMode::All, &[CompanyRole::Admin]),
        ],
    )
    .await;

    // Under the threshold: an order at once.
    let small = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    submit(&t, &buyer, small, "small")
        .await
        .expect("checkout")
        .order()
        .expect("an order");

    // Over it: a request, the cart frozen.
    let big = ready_cart(&t, &buyer, vec![line(tea, 2)]).await.cart.id;
    let r = waiting(submit(&t, &buyer, big, "big").await.expect("checkout"));
    assert_eq!(
        (r.status, r.version, r.level, r.total),
        (ApprovalStatus::Pending, 1, 0, 6000)
    );
    assert_eq!(r.snapshot_hash.len(), 64);
    assert_eq!(cart_status(&t, tenant, big).await, "PENDING_APPROVAL");
    let again = waiting(submit(&t, &buyer, big, "big").await.expect("retried"));
    assert_eq!(
        (again.id, again.version),
        (r.id, 1),
        "a retry gets the same request"
    );
    assert_eq!(
        code_of(orders::carts::add_lines(t.db(), &buyer, big, vec![line(tea, 1)]).await),
        Code::CartPendingApproval
    );
    // Its 60.00 counts toward the month (3,000 + 6,000 of 10,000): another 60.00 does not fit.
    let more = ready_cart(&t, &buyer, vec![line(tea, 2)]).await.cart.id;
    assert_eq!(
        code_of(submit(&t, &buyer, more, "more").await),
        Code::MonthlyLimitExceeded
    );

    // The buyer does not approve; a stale version is refused; level 1 passes with one approval.
    assert_eq!(
        code_of(decide(&t, &buyer, &r, 1, true).await),
        Code::NotAnApprover
    );
    assert_eq!(
        code_of(decide(&t, &first, &r, 7, true).await),
        Code::StaleVersion
    );
    let r = decide(&t, &first, &r, 1, true).await.expect("level 1");
    assert_eq!(
        (r.status, r.level, r.version),
        (ApprovalStatus::Pending, 1, 2)
    );
    assert_eq!(
        code_of(decide(&t, &second, &r, 2, true).await),
        Code::NotAnApprover
    );

    // Level 2 (the admin) places the order at the approved prices.
    let done = decide(&t, &admin, &r, 2, true).await.expect("approved");
    assert_eq!(done.status, ApprovalStatus::Approved);
    let order = order_of(&t, &souq, done.order_id.expect("an order")).await;
    assert_eq!((order.total, order.customer_id), (6000, Some(buyer_id)));
    assert_eq!(order.company_id, Some(company));
    assert_eq!(cart_status(&t, tenant, big).await, "COMPLETED");
    assert_eq!(
        code_of(decide(&t, &admin, &done, 3, true).await),
        Code::RequestClosed
    );
    let _ = admin_id;

    // Another company's member sees nothing of it.
    let (_, _, stranger) = crate::common::company(&t, &souq, "other").await;
    assert!(
        approvals::get(t.db(), &stranger, done.id)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        code_of(decide(&t, &stranger, &done, 3, true).await),
        Code::NotFound
    );
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn racing_final_approvals_place_one_order() {
    let t = test_db().await;
    let souq = shop(&t, "appr-race").await;
    let tea = item(&t, &souq, "TEA-1", 3000, 100, None).await;
    let (company, _, admin) = company(&t, &souq, "race").await;
    let mut approvers = Vec::new();
    for i in 0..6 {
        let email = format!("a{i}@race.test");
        approvers.push(
            member(&t, &souq, &admin, company, &email, CompanyRole::Approver)
                .await
                .1,
        );
    }
    let (_, buyer) = member(
        &t,
        &souq,
        &admin,
        company,
        "b@race.test",
        CompanyRole::Buyer,
    )
    .await;
    approval_rule(
        &t,
        &souq,
        company,
        1,
        vec![level(ApprovalMode::Any, &[CompanyRole::Approver])],
    )
    .await;
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let r = waiting(submit(&t, &buyer, cart, "race").await.expect("checkout"));
    let outcomes = join_all(approvers.iter().map(|a| decide(&t, a, &r, 1, true))).await;
    let mut approved = 0;
    for outcome in outcomes {
        match outcome {
            Ok(done) => {
                assert_eq!(done.status, ApprovalStatus::Approved);
                approved += 1;
            }
            refused => {
                let code = code_of(refused);
                assert!(
                    matches!(code, Code::StaleVersion | Code::RequestClosed),
                    "{code:?}"
                );
            }
        }
    }
    assert_eq!(approved, 1);
    assert_eq!(t.visible_rows("orders.orders", Some(souq.info.id)).await, 1);
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn a_changed_price_fails_the_request_and_rejected_expired_or_withdrawn_ones_open_the_cart() {
    let t = test_db().await;
    let souq = shop(&t, "appr-fail").await;
    let tenant = souq.info.id;
    let tea = item(&t, &souq, "TEA-1", 3000, 100, None).await;
    let (company, _, admin) = company(&t, &souq, "fail").await;
    let (_, approver) = member(
        &t,
        &souq,
        &admin,
        company,
        "a@fail.test",
        CompanyRole::Approver,
    )
    .await;
    let (_, buyer) = member(
        &t,
        &souq,
        &admin,
        company,
        "b@fail.test",
        CompanyRole::Buyer,
    )
    .await;
    approval_rule(
        &t,
        &souq,
        company,
        1,
        vec![level(ApprovalMode::Any, &[CompanyRole::Approver])],
    )
    .await;

    // The price moves while it waits: the approval fails it with PRICE_CHANGED, nothing placed.
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let r = waiting(submit(&t, &buyer, cart, "p").await.expect("checkout"));
    catalog::products::variants::set_prices(t.db(), &souq.admin, tea, vec![("SAR".into(), 3500)])
        .await
        .expect("new price");
    let failed = decide(&t, &approver, &r, 1, true).await.expect("decided");
    assert_eq!(
        (
            failed.status,
            failed.failure_code.as_deref(),
            failed.order_id
        ),
        (ApprovalStatus::Failed, Some("PRICE_CHANGED"), None)
    );
    assert_eq!(cart_status(&t, tenant, cart).await, "OPEN");
    assert_eq!(t.visible_rows("orders.orders", Some(tenant)).await, 0);

    // A new request for the changed cart; rejected, the cart opens again.
    let r = waiting(submit(&t, &buyer, cart, "p2").await.expect("checkout"));
    assert_eq!(r.total, 3500);
    let rejected = decide(&t, &approver, &r, 1, false).await.expect("rejected");
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    assert_eq!(cart_status(&t, tenant, cart).await, "OPEN");

    // Withdrawn by the buyer (nobody else may).
    let r = waiting(submit(&t, &buyer, cart, "p3").await.expect("checkout"));
    assert_eq!(
        code_of(approvals::withdraw(t.db(), &approver, r.id).await),
        Code::NotFound
    );
    let withdrawn = approvals::withdraw(t.db(), &buyer, r.id)
        .await
        .expect("withdrawn");
    assert_eq!(withdrawn.status, ApprovalStatus::Withdrawn);

    // Left past the company's approval days: the job expires it.
    let r = waiting(submit(&t, &buyer, cart, "p4").await.expect("checkout"));
    assert_eq!((r.expires_at - Utc::now()).num_days(), 6);
    t.db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "UPDATE orders.approval_requests SET expires_at = now() - interval '1 minute'",
            )
            .execute(tx.conn())
            .await?;
            diesel::sql_query(
                "UPDATE orders.jobs SET run_at = now() - interval '1 minute'
                 WHERE name = 'approval.expire'",
            )
            .execute(tx.conn())
            .await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("backdated");
    assert_eq!(
        code_of(decide(&t, &approver, &r, r.version, true).await),
        Code::RequestClosed,
        "past its time, before the job ran"
    );
    let settings = RunnerSettings {
        batch: 10,
        lease: Duration::from_secs(30),
        idle: Duration::from_millis(10),
    };
    let runner =
        Runner::new(t.db().clone(), orders::JOBS, settings).with::<approvals::ApprovalExpiry>();
    runner.run_once().await.expect("round");
    let expired = approvals::get(t.db(), &buyer, r.id)
        .await
        .expect("read")
        .expect("visible to its buyer");
    assert_eq!(expired.status, ApprovalStatus::Expired);
    assert_eq!(cart_status(&t, tenant, cart).await, "OPEN");
    assert_eq!(
        code_of(decide(&t, &approver, &expired, expired.version, true).await),
        Code::RequestClosed
    );

    // Every step was an event.
    let events = t.visible_rows("orders.outbox", Some(tenant)).await;
    assert!(events >= 8, "{events} events");
    assert_commitments_agree(&t, souq.info.id).await;
}
