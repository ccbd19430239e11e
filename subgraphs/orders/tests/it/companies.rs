//! B2B checkout: a company's buyers within their limits, orders on account within the credit
//! limit and invoiced on the company's terms, purchase-order numbers, tax exemption certificates,
//! and the hold that an invoice unpaid past its grace period puts on the company.

use crate::common::*;
use chrono::{Duration as Days, Utc};
use cityos_core::{ApiError, CompanyRole};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::TestDb;
use futures_util::future::join_all;
use orders::errors::OrdersErrorCode as Code;
use orders::ids::{CompanyId, InvoiceId, TenantId};
use orders::orders::{OrderStatus, invoices};
use orders::payments::PaymentMethod;
use serde_json::json;
use std::time::Duration;
use vendors::api::CompanyStatus;

async fn status_of(t: &TestDb, tenant: TenantId, company: CompanyId) -> CompanyStatus {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, ApiError>(vendors::companies::by_ids(tx, &[company]).await?)
        })
        .await
        .expect("company")[&company]
        .status
}

#[tokio::test]
async fn a_buyers_limits_hold_under_racing_checkouts_and_a_cancelled_order_frees_its_spend() {
    let t = test_db().await;
    let souq = shop(&t, "b2b-limits").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 1000, None).await;
    let (company, admin, buyer) = company(&t, &souq, "limits").await;
    vendors::companies::members::set_limits(t.db(), &buyer, company, admin, Some(3000), Some(5000))
        .await
        .expect("limits");

    // A company cart is the company's, in its currency; one over the per-order limit is refused.
    let big = ready_cart(&t, &buyer, vec![line(tea, 4)]).await;
    assert_eq!(big.cart.company_id, Some(company));
    assert_eq!(
        code_of(check_out(&t, &buyer, big.cart.id, "big").await),
        Code::OrderLimitExceeded
    );

    // Twenty racing checkouts of 10.00 each against a monthly limit of 50.00: exactly five.
    let mut carts = Vec::new();
    for _ in 0..20 {
        carts.push(ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id);
    }
    let keys: Vec<String> = (0..20).map(|i| format!("race-{i}")).collect();
    let outcomes = join_all(
        carts
            .iter()
            .zip(&keys)
            .map(|(cart, key)| check_out(&t, &buyer, *cart, key)),
    )
    .await;
    let mut placed = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(order) => placed.push(order),
            refused => assert_eq!(code_of(refused), Code::MonthlyLimitExceeded),
        }
    }
    assert_eq!(placed.len(), 5);
    assert!(placed.iter().all(|o| o.company_id == Some(company)));

    // A cancelled order no longer counts: one more fits, then the month is full again.
    orders::orders::cancel(
        t.db(),
        &souq.admin,
        placed[0].id,
        None,
        &orders::payments::Gateway::default(),
    )
    .await
    .expect("cancelled");
    let next = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    check_out(&t, &buyer, next, "after-cancel")
        .await
        .expect("fits again");
    let full = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    assert_eq!(
        code_of(check_out(&t, &buyer, full, "full").await),
        Code::MonthlyLimitExceeded
    );

    // The buyer's personal cart is not the company's and is not held to its limits.
    let own = cityos_testkit::user_context(Some(&souq.info), admin, &[cityos_core::Role::Customer]);
    let personal = ready_cart(&t, &own, vec![line(tea, 6)]).await;
    assert_eq!(personal.cart.company_id, None);
    check_out(&t, &own, personal.cart.id, "personal")
        .await
        .expect("a personal order");

    // Nobody acts for a company they are not a member of.
    let stranger = cityos_testkit::company_context(
        &souq.info,
        orders::ids::UserId::new(),
        company,
        CompanyRole::Buyer,
    );
    assert!(matches!(
        orders::carts::create(t.db(), &stranger, None, None).await,
        Err(cityos_core::Failure::Api(_))
    ));
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn orders_on_account_stay_within_the_credit_limit_under_races_and_payments_free_it() {
    let t = test_db().await;
    let souq = shop(&t, "b2b-credit").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 1000, None).await;
    let (company, _, buyer) = company(&t, &souq, "credit").await;

    // PREPAID terms and personal carts do not pay on account.
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let on_account = PaymentMethod::OnAccount;
    assert_eq!(
        code_of(check_out_with(&t, &buyer, cart, "prepaid", on_account, None).await),
        Code::InvalidPaymentMethod
    );
    let own = souq.customer();
    let personal = ready_cart(&t, &own, vec![line(tea, 1)]).await.cart.id;
    assert_eq!(
        code_of(check_out_with(&t, &own, personal, "own", on_account, None).await),
        Code::InvalidPaymentMethod
    );

    // NET_30 with 50.00 of credit: ten racing orders of 10.00 on account give exactly five.
    net_30(&t, &souq, company, 5000, 3).await;
    let mut carts = vec![cart];
    for _ in 1..10 {
        carts.push(ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id);
    }
    let keys: Vec<String> = (0..10).map(|i| format!("credit-{i}")).collect();
    let outcomes = join_all(
        carts
            .iter()
            .zip(&keys)
            .map(|(cart, key)| check_out_with(&t, &buyer, *cart, key, on_account, None)),
    )
    .await;
    let mut placed = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(order) => placed.push(order),
            refused => assert_eq!(code_of(refused), Code::CreditLimitExceeded),
        }
    }
    assert_eq!(placed.len(), 5);

    // Each is confirmed at once and invoiced, due thirty days out.
    let first = &placed[0];
    assert_eq!(first.status, OrderStatus::Confirmed);
    assert_eq!(first.payment_due_days, Some(30));
    let invoice = invoice_of(&t, souq.info.id, first.id).await;
    let due = invoice.due_at.expect("a due date") - invoice.issued_at;
    assert!((due - Days::days(30)).num_seconds().abs() < 5, "{due}");

    // Part of an invoice paid is not enough for another order; all of it is.
    let record = |invoice: InvoiceId, amount: i64| {
        orders::orders::record_invoice_payment(
            t.db(),
            &souq.admin,
            invoice,
            amount,
            Some("TRX-1".into()),
        )
    };
    let partly = record(invoice.id, 400).await.expect("recorded");
    assert_eq!(
        partly.payment_status,
        orders::orders::OrderPaymentStatus::Unpaid
    );
    let more = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    assert_eq!(
        code_of(check_out_with(&t, &buyer, more, "more", on_account, None).await),
        Code::CreditLimitExceeded
    );
    assert_eq!(
        code_of(record(invoice.id, 601).await),
        Code::PaymentExceedsBalance
    );
    assert_eq!(code_of(record(invoice.id, 0).await), Code::InvalidAmount);
    let paid = record(invoice.id, 600).await.expect("paid in full");
    assert_eq!(
        paid.payment_status,
        orders::orders::OrderPaymentStatus::Paid
    );
    assert_eq!(
        invoice_of(&t, souq.info.id, first.id).await.status,
        invoices::InvoiceStatus::Paid
    );
    assert_eq!(code_of(record(invoice.id, 1).await), Code::AlreadyPaid);
    check_out_with(&t, &buyer, more, "more", on_account, None)
        .await
        .expect("credit freed");

    // A customer may not record payments.
    assert!(matches!(
        orders::orders::record_invoice_payment(t.db(), &buyer, invoice.id, 1, None).await,
        Err(cityos_core::Failure::Api(_))
    ));
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn purchase_orders_and_tax_exemptions_are_recorded_on_the_order() {
    let t = test_db().await;
    let souq = shop(&t, "b2b-po").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 100, None).await;
    let (company, _, buyer) = company(&t, &souq, "po").await;
    let v = gql(&t, &souq.admin, "mutation { taxRuleCreate(input: {name: \"VAT\", countryCode: \"SA\", rateBasisPoints: 1500, inclusive: false}) { userErrors { code } } }", json!({})).await;
    assert_eq!(v["data"]["taxRuleCreate"]["userErrors"], json!([]), "{v}");

    // The company requires a purchase-order number.
    let policy = vendors::companies::Profile {
        po_required: Some(true),
        ..vendors::companies::Profile::default()
    };
    vendors::companies::update(t.db(), &buyer, company, policy)
        .await
        .expect("policy");
    let cash = PaymentMethod::CashOnDelivery;
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    assert_eq!(cart.totals.tax_total, 150);
    let id = cart.cart.id;
    assert_eq!(
        code_of(check_out_with(&t, &buyer, id, "po-0", cash, None).await),
        Code::PurchaseOrderRequired
    );
    assert_eq!(
        code_of(check_out_with(&t, &buyer, id, "po-1", cash, Some("PO\u{7}1")).await),
        Code::InvalidPurchaseOrder
    );
    let long = "P".repeat(65);
    assert_eq!(
        code_of(check_out_with(&t, &buyer, id, "po-2", cash, Some(&long)).await),
        Code::InvalidPurchaseOrder
    );
    let order = check_out_with(&t, &buyer, id, "po-3", cash, Some(" PO-2026-001 "))
        .await
        .expect("order");
    assert_eq!(order.purchase_order_number.as_deref(), Some("PO-2026-001"));
    assert_eq!((order.tax_total, order.tax_exemption_number), (150, None));

    // A verified certificate for Saudi Arabia, valid today: no tax, and the order says which.
    let today = Utc::now().date_naive();
    let submit = |number: &str, from, until| vendors::exemptions::Submission {
        country: "SA".into(),
        region: None,
        number: number.into(),
        valid_from: from,
        valid_until: until,
        document_url: "https://docs.example/exemption.pdf".into(),
    };
    let expired = vendors::exemptions::submit(
        t.db(),
        &buyer,
        company,
        submit("EX-OLD", today - Days::days(30), today),
    )
    .await
    .expect("submitted");
    let verify = |id| {
        vendors::exemptions::review(
            t.db(),
            &souq.admin,
            id,
            vendors::exemptions::ExemptionStatus::Verified,
            None,
        )
    };
    verify(expired.id).await.expect("verified");
    let applies = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    assert_eq!(applies.totals.tax_total, 0, "valid through today");
    // A day later (its validity moved back a day): expired, it no longer applies.
    let old = expired.id;
    t.db()
        .tenant_tx(souq.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "UPDATE vendors.tax_exemptions
                 SET valid_from = valid_from - 1, valid_until = valid_until - 1 WHERE id = $1",
            )
            .bind::<diesel::sql_types::Uuid, _>(old)
            .execute(tx.conn())
            .await
            .map_err(ApiError::from)
        })
        .await
        .expect("a day later");
    let taxed = ready_cart(&t, &buyer, vec![line(tea, 1)]).await;
    assert_eq!(
        (taxed.totals.tax_total, taxed.terms.exemption.is_none()),
        (150, true),
        "an expired certificate no longer applies"
    );
    let valid = vendors::exemptions::submit(
        t.db(),
        &buyer,
        company,
        submit("EX-2026", today - Days::days(1), today + Days::days(300)),
    )
    .await
    .expect("submitted");
    verify(valid.id).await.expect("verified");
    let exempt = ready_cart(&t, &buyer, vec![line(tea, 2)]).await;
    assert_eq!((exempt.totals.tax_total, exempt.totals.total), (0, 2000));
    let order = check_out_with(&t, &buyer, exempt.cart.id, "ex", cash, Some("PO-2"))
        .await
        .expect("order");
    assert_eq!(
        (order.tax_total, order.tax_exemption_number.as_deref()),
        (0, Some("EX-2026"))
    );
    assert_eq!(order.tax_exemption_id, Some(valid.id));

    // A personal cart of the same person is taxed: the certificate is the company's.
    let personal = ready_cart(&t, &souq.customer(), vec![line(tea, 1)]).await;
    assert_eq!(personal.totals.tax_total, 150);
}

#[tokio::test]
async fn an_invoice_unpaid_past_its_grace_period_puts_the_company_on_hold() {
    let t = test_db().await;
    let souq = shop(&t, "b2b-hold").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 100, None).await;
    let (company, _, buyer) = company(&t, &souq, "hold").await;
    net_30(&t, &souq, company, 100_000, 2).await;
    let on_account = PaymentMethod::OnAccount;
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let order = check_out_with(&t, &buyer, cart, "late", on_account, None)
        .await
        .expect("order");
    let paid_cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let paid = check_out_with(&t, &buyer, paid_cart, "paid", on_account, None)
        .await
        .expect("order");
    let paid_invoice = invoice_of(&t, souq.info.id, paid.id).await;
    orders::orders::record_invoice_payment(t.db(), &souq.admin, paid_invoice.id, 1000, None)
        .await
        .expect("paid");

    // Both invoices fell due three days ago (one day past the grace period); only the unpaid one
    // holds the company.
    let tenant = souq.info.id;
    t.db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "UPDATE orders.invoices SET due_at = now() - interval '3 days' WHERE kind = 'INVOICE'",
            )
            .execute(tx.conn())
            .await?;
            diesel::sql_query(
                "UPDATE orders.jobs SET run_at = now() - interval '3 days' WHERE name = 'invoice.overdue'",
            )
            .execute(tx.conn())
            .await?;
            Ok::<_, ApiError>(())
        })
        .await
        .expect("backdated");
    let settings = RunnerSettings {
        batch: 10,
        lease: Duration::from_secs(30),
        idle: Duration::from_millis(10),
    };
    let runner = Runner::new(t.db().clone(), orders::JOBS, settings)
        .with::<invoices::InvoiceOverdue>()
        .with::<invoices::InvoiceHold>();
    for _ in 0..3 {
        runner.run_once().await.expect("round");
    }
    assert_eq!(
        invoice_of(&t, tenant, order.id).await.status,
        invoices::InvoiceStatus::Overdue
    );
    assert_eq!(status_of(&t, tenant, company).await, CompanyStatus::OnHold);

    // On hold: no more orders on account; paying at checkout still works.
    let next = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    assert_eq!(
        code_of(check_out_with(&t, &buyer, next, "held", on_account, None).await),
        Code::CompanyOnHold
    );
    check_out_with(&t, &buyer, next, "cash", PaymentMethod::BankTransfer, None)
        .await
        .expect("prepaid");

    // Running again changes nothing (the jobs are done).
    assert_eq!(runner.run_once().await.expect("round").done, 0);
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn quick_order_adds_what_can_be_bought_and_reports_each_other_line_and_reorder_repeats_an_order()
 {
    let t = test_db().await;
    let souq = shop(&t, "b2b-quick").await;
    let tea = item(&t, &souq, "TEA-1", 1000, 100, None).await;
    item(&t, &souq, "RARE-1", 5000, 5, None).await;
    cityos_fixtures::ProductBuilder::new("usd-only")
        .variant("USD-1", &[("USD", 900)])
        .stock(souq.location, 10)
        .create(&t, &souq.admin)
        .await;
    cityos_fixtures::ProductBuilder::new("draft")
        .status(catalog::products::ProductStatus::Draft)
        .variant("DRAFT-1", &[("SAR", 900)])
        .stock(souq.location, 10)
        .create(&t, &souq.admin)
        .await;
    let (_, _, buyer) = company(&t, &souq, "quick").await;
    let cart = ready_cart(&t, &buyer, vec![line(tea, 1)]).await.cart.id;
    let sku = |sku: &str, quantity| orders::carts::quick::SkuLine {
        sku: sku.into(),
        quantity,
    };

    // Nothing to add is refused whole.
    assert_eq!(
        code_of(orders::carts::quick::quick_order(t.db(), &buyer, cart, vec![]).await),
        Code::InvalidCount
    );

    let (priced, refused) = orders::carts::quick::quick_order(
        t.db(),
        &buyer,
        cart,
        vec![
            sku(" TEA-1 ", 2),
            sku("NOPE-1", 1),
            sku("USD-1", 1),
            sku("RARE-1", 6),
            sku("TEA-1", 1),
            sku("DRAFT-1", 1),
            sku("", 1),
            sku("TEA-1", 0),
            sku("RARE\u{0}", 1),
        ],
    )
    .await
    .expect("quick order");
    let lines: Vec<_> = priced
        .lines
        .iter()
        .map(|l| (l.line.variant_id, l.line.quantity))
        .collect();
    assert_eq!(
        lines,
        vec![(Some(tea), 4)],
        "added to the line, the same SKU twice once"
    );
    let codes: Vec<_> = refused.iter().map(|r| (r.index, r.code)).collect();
    assert_eq!(
        codes,
        vec![
            (1, Code::UnknownSku),
            (2, Code::NoPrice),
            (3, Code::InsufficientStock),
            (5, Code::VariantUnavailable),
            (6, Code::UnknownSku),
            (7, Code::InvalidQuantity),
            (8, Code::UnknownSku),
        ]
    );

    // Checked out, the order can be put into a cart again; nobody else's order can.
    let order = check_out(&t, &buyer, cart, "quick").await.expect("order");
    let (again, refused) = orders::carts::quick::reorder(t.db(), &buyer, order.id)
        .await
        .expect("reordered");
    assert_ne!(again.cart.id, cart);
    assert_eq!(again.cart.company_id, order.company_id);
    assert_eq!(
        again
            .lines
            .iter()
            .map(|l| (l.line.variant_id, l.line.quantity))
            .collect::<Vec<_>>(),
        vec![(Some(tea), 4)]
    );
    assert!(refused.is_empty());
    assert_eq!(
        code_of(orders::carts::quick::reorder(t.db(), &souq.customer(), order.id).await),
        Code::NotFound
    );
}
