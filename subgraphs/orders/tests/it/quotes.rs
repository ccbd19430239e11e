//! Quotes: requested from a cart or drafted by the seller, negotiated, sent (then frozen),
//! revised as new versions, and accepted into an order at their prices exactly once, or declined,
//! or expired; each side sees only what is its own.

use crate::common::*;
use chrono::{Duration, Utc};
use cityos_core::{ApiError, CompanyRole, Failure, RequestContext, VendorRole};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_testkit::{TestDb, vendor_context};
use futures_util::future::join_all;
use orders::errors::{OrdersErrorCode as Code, Outcome};
use orders::ids::{CompanyId, UserId, VariantId};
use orders::orders::Order;
use orders::payments::{Gateway, PaymentMethod};
use orders::quotes::{self, Acceptance, Draft, DraftChanges, LineInput, Quote, QuoteStatus};

fn quoted(variant: VariantId, quantity: i32, unit_price: Option<i64>) -> LineInput {
    LineInput {
        variant_id: variant,
        quantity,
        unit_price,
    }
}

fn draft_for(company: CompanyId, lines: Vec<LineInput>) -> Draft {
    Draft {
        company_id: company,
        lines,
        valid_until: Some(Utc::now() + Duration::days(14)),
        note: Some("Delivery within 10 working days".into()),
        message: None,
    }
}

fn acceptance(q: &Quote, version: i32, key: &str) -> Acceptance {
    Acceptance {
        id: q.id,
        version,
        idempotency_key: key.into(),
        payment_method: PaymentMethod::OnAccount,
        purchase_order_number: Some("PO-77".into()),
        shipping_address: Some(address()),
        billing_address: None,
    }
}

async fn accept(t: &TestDb, who: &RequestContext, a: Acceptance) -> Outcome<(Quote, Order)> {
    quotes::accept(t.db(), who, a, &Gateway::default()).await
}

/// A company on NET_30 with `credit` of credit, its admin acting for it, and an approver.
async fn buying_company(
    t: &TestDb,
    shop: &Shop,
    slug: &str,
    credit: i64,
) -> (CompanyId, RequestContext, (UserId, RequestContext)) {
    let (company, _, admin) = company(t, shop, slug).await;
    net_30(t, shop, company, credit, 5).await;
    let approver = member(
        t,
        shop,
        &admin,
        company,
        &format!("approver@{slug}.test"),
        CompanyRole::Approver,
    )
    .await;
    (company, admin, approver)
}

async fn count(t: &TestDb, shop: &Shop, sql: &'static str, id: uuid::Uuid) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Uuid, _>(id)
                .get_result::<Row>(tx.conn())
                .await
                .map_err(ApiError::from)
        })
        .await
        .expect("count")
        .n
}

#[tokio::test]
async fn a_requested_quote_is_negotiated_sent_and_accepted_into_one_order_at_its_prices() {
    let t = test_db().await;
    let souq = shop(&t, "quote-flow").await;
    let tea = item(&t, &souq, "TEA-Q", 3000, 100, None).await;
    let (company, admin, (_, approver)) = buying_company(&t, &souq, "qflow", 1_000_000).await;
    let (_, buyer) = member(
        &t,
        &souq,
        &admin,
        company,
        "buyer@qflow.test",
        CompanyRole::Buyer,
    )
    .await;
    let cart = ready_cart(&t, &buyer, vec![line(tea, 10)]).await;

    // The buyer asks; the quote is a draft at today's prices, the seller's to work on.
    let asked = quotes::request(
        t.db(),
        &buyer,
        cart.cart.id,
        Some("Can you do better for 10?".into()),
    )
    .await
    .expect("requested");
    assert_eq!(
        (asked.status, asked.version, asked.vendor_id),
        (QuoteStatus::Draft, 1, None)
    );
    assert!(asked.number >= 1);

    // Nothing sent yet: accepting is refused; the buyer cannot edit it.
    let early = accept(&t, &approver, acceptance(&asked, 1, "early")).await;
    assert_eq!(code_of(early), Code::InvalidTransition);
    let by_buyer = quotes::update(
        t.db(),
        &buyer,
        DraftChanges {
            id: asked.id,
            lines: Some(vec![quoted(tea, 10, Some(1))]),
            valid_until: None,
            note: None,
        },
    )
    .await;
    assert!(matches!(by_buyer, Err(Failure::Api(_))), "{by_buyer:?}");

    // Staff negotiates 2,500 a unit and sends it.
    quotes::update(
        t.db(),
        &souq.admin,
        DraftChanges {
            id: asked.id,
            lines: Some(vec![quoted(tea, 10, Some(2500))]),
            valid_until: Some(Utc::now() + Duration::days(7)),
            note: Some("Net 30, delivery in a week".into()),
        },
    )
    .await
    .expect("negotiated");
    let sent = quotes::send(t.db(), &souq.admin, asked.id)
        .await
        .expect("sent");
    assert_eq!((sent.status, sent.version), (QuoteStatus::Sent, 1));

    // The sent version is frozen, by the database too.
    let again = quotes::update(
        t.db(),
        &souq.admin,
        DraftChanges {
            id: asked.id,
            lines: Some(vec![quoted(tea, 10, Some(100))]),
            valid_until: None,
            note: None,
        },
    )
    .await;
    assert_eq!(code_of(again), Code::InvalidTransition);
    let id = asked.id;
    let tampered = t
        .db()
        .tenant_tx(souq.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("UPDATE orders.quote_versions SET subtotal = 1 WHERE quote_id = $1")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .execute(tx.conn())
                .await
                .map_err(ApiError::from)
        })
        .await;
    assert!(tampered.is_err(), "a sent version must not change");

    // A buyer may not accept; an approver accepts the version they read, and only that one.
    let by_buyer = accept(&t, &buyer, acceptance(&sent, 1, "buyer")).await;
    assert!(matches!(by_buyer, Err(Failure::Api(_))), "{by_buyer:?}");
    let stale = accept(&t, &approver, acceptance(&sent, 2, "stale")).await;
    assert_eq!(code_of(stale), Code::StaleVersion);
    let before = on_hand(&t, &souq, tea).await;
    let (accepted, order) = accept(&t, &approver, acceptance(&sent, 1, "accept-1"))
        .await
        .expect("accepted");
    assert_eq!(accepted.status, QuoteStatus::Accepted);
    assert_eq!(accepted.order_id, Some(order.id));
    assert_eq!(
        order.subtotal, 25_000,
        "the negotiated price, not the list's"
    );
    assert_eq!(order.company_id, Some(company));
    assert_eq!(order.purchase_order_number.as_deref(), Some("PO-77"));
    assert_eq!(on_hand(&t, &souq, tea).await, before - 10);
    let payment = payment_of(&t, &souq, order.id).await;
    assert_eq!(payment.method, PaymentMethod::OnAccount);
    let rule = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.order_lines
         WHERE order_id = $1 AND unit_price = 2500 AND price_rule = 'NEGOTIATED'",
        order.id.into(),
    )
    .await;
    assert_eq!(rule, 1);

    // A retry returns the same order; another acceptance is refused.
    let (_, replay) = accept(&t, &approver, acceptance(&sent, 1, "accept-1"))
        .await
        .expect("replayed");
    assert_eq!(replay.id, order.id);
    let twice = accept(&t, &approver, acceptance(&sent, 1, "accept-2")).await;
    assert_eq!(code_of(twice), Code::RequestClosed);
    let posted = quotes::post_message(t.db(), &buyer, sent.id, "thanks".into()).await;
    assert_eq!(code_of(posted), Code::RequestClosed);

    // Both sides' messages are on it; the buyer sees the sent version only.
    let seen = quotes::get(t.db(), &buyer, sent.id)
        .await
        .expect("read")
        .expect("visible to the company");
    assert_eq!(seen.order_id, Some(order.id));
    let audit = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM identity.audit_log WHERE entity_id = $1",
        sent.id.into(),
    )
    .await;
    assert!(
        audit >= 4,
        "request, update, send, accept are audited: {audit}"
    );
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn racing_acceptances_of_one_quote_place_exactly_one_order() {
    let t = test_db().await;
    let souq = shop(&t, "quote-race").await;
    let tea = item(&t, &souq, "TEA-R", 3000, 100, None).await;
    let (company, admin, _) = buying_company(&t, &souq, "qrace", 10_000_000).await;
    let q = quotes::draft(
        t.db(),
        &souq.admin,
        draft_for(company, vec![quoted(tea, 5, Some(2000))]),
    )
    .await
    .expect("drafted");
    let q = quotes::send(t.db(), &souq.admin, q.id).await.expect("sent");
    let attempts = (0..10).map(|i| {
        let (t, admin, q) = (&t, &admin, &q);
        async move { accept(t, admin, acceptance(q, 1, &format!("race-{i}"))).await }
    });
    let results = join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in results.into_iter().filter(Result::is_err) {
        assert!(
            matches!(code_of(r), Code::RequestClosed | Code::InvalidTransition),
            "a losing acceptance finds the quote accepted"
        );
    }
    let orders = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.orders WHERE quote_id = $1",
        q.id.into(),
    )
    .await;
    assert_eq!(orders, 1);
    assert_eq!(on_hand(&t, &souq, tea).await, 95);
    assert_commitments_agree(&t, souq.info.id).await;
}

#[tokio::test]
async fn a_revision_is_a_new_version_and_the_sent_one_stays_as_it_was() {
    let t = test_db().await;
    let souq = shop(&t, "quote-rev").await;
    let tea = item(&t, &souq, "TEA-V", 3000, 100, None).await;
    let (company, admin, _) = buying_company(&t, &souq, "qrev", 10_000_000).await;
    let q = quotes::draft(
        t.db(),
        &souq.admin,
        draft_for(company, vec![quoted(tea, 4, None)]),
    )
    .await
    .expect("drafted");
    let q = quotes::send(t.db(), &souq.admin, q.id).await.expect("sent");
    let revised = quotes::revise(t.db(), &souq.admin, q.id)
        .await
        .expect("revised");
    assert_eq!((revised.status, revised.version), (QuoteStatus::Draft, 2));
    // While version 2 is drafted, version 1 cannot be accepted.
    let old = accept(&t, &admin, acceptance(&q, 1, "old")).await;
    assert_eq!(code_of(old), Code::InvalidTransition);
    quotes::update(
        t.db(),
        &souq.admin,
        DraftChanges {
            id: q.id,
            lines: Some(vec![quoted(tea, 4, Some(2800))]),
            valid_until: None,
            note: None,
        },
    )
    .await
    .expect("changed");
    let resent = quotes::send(t.db(), &souq.admin, q.id)
        .await
        .expect("resent");
    let stale = accept(&t, &admin, acceptance(&q, 1, "v1")).await;
    assert_eq!(code_of(stale), Code::StaleVersion);

    let versions = t
        .db()
        .tenant_tx(souq.info.id, async move |tx| {
            quotes::versions_of(tx, &[q.id])
                .await
                .map_err(ApiError::from)
        })
        .await
        .expect("versions")
        .remove(&q.id)
        .expect("some");
    let prices: Vec<i64> = versions.iter().map(|v| v.lines()[0].unit_price).collect();
    assert_eq!(
        prices,
        vec![3000, 2800],
        "version 1 kept the list price it was sent with"
    );
    assert!(versions.iter().all(|v| v.sent_at.is_some()));

    let (_, order) = accept(&t, &admin, acceptance(&resent, 2, "v2"))
        .await
        .expect("accepted");
    assert_eq!(order.subtotal, 4 * 2800);
}

#[tokio::test]
async fn a_vendors_quote_holds_its_own_products_and_becomes_its_vendor_order() {
    let t = test_db().await;
    let souq = shop(&t, "quote-vendor").await;
    let atelier = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let weaver = cityos_fixtures::approved_vendor(&t, &souq.info).await;
    let rug = item(&t, &souq, "RUG-1", 50_000, 10, Some(atelier)).await;
    let loom = item(&t, &souq, "LOOM-1", 90_000, 10, Some(weaver)).await;
    let (company, admin, _) = buying_company(&t, &souq, "qvendor", 10_000_000).await;
    let manager = vendor_context(&souq.info, UserId::new(), atelier, VendorRole::Manager);
    let other = vendor_context(&souq.info, UserId::new(), weaver, VendorRole::Manager);

    // Not another vendor's product.
    let foreign = quotes::draft(
        t.db(),
        &manager,
        draft_for(
            company,
            vec![quoted(rug, 2, Some(45_000)), quoted(loom, 1, None)],
        ),
    )
    .await;
    assert_eq!(code_of(foreign), Code::VariantUnavailable);
    let q = quotes::draft(
        t.db(),
        &manager,
        draft_for(company, vec![quoted(rug, 2, Some(45_000))]),
    )
    .await
    .expect("drafted");
    assert_eq!(q.vendor_id, Some(atelier));

    // The other vendor neither sees nor sends it; the company does not see the draft's lines.
    assert!(
        quotes::get(t.db(), &other, q.id)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        code_of(quotes::send(t.db(), &other, q.id).await),
        Code::NotFound
    );
    let q = quotes::send(t.db(), &manager, q.id).await.expect("sent");
    quotes::post_message(t.db(), &admin, q.id, "Can it ship Sunday?".into())
        .await
        .expect("buyer writes");
    quotes::post_message(t.db(), &manager, q.id, "Yes.".into())
        .await
        .expect("seller answers");
    let messages = t
        .db()
        .tenant_tx(souq.info.id, async move |tx| {
            quotes::messages_of(tx, &[q.id])
                .await
                .map_err(ApiError::from)
        })
        .await
        .expect("messages")
        .remove(&q.id)
        .expect("some");
    let sides: Vec<&str> = messages.iter().map(|m| m.side.as_str()).collect();
    assert_eq!(sides, vec!["BUYER", "SELLER"]);

    let (_, order) = accept(&t, &admin, acceptance(&q, 1, "vendor-quote"))
        .await
        .expect("accepted");
    let parts = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.vendor_orders WHERE order_id = $1",
        order.id.into(),
    )
    .await;
    assert_eq!(parts, 1);
    let mine = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.vendor_orders WHERE vendor_id = $1 AND total = 90000",
        atelier.into(),
    )
    .await;
    assert_eq!(mine, 1, "the vendor order carries the negotiated total");
}

#[tokio::test]
async fn another_company_sees_and_touches_nothing_of_a_quote() {
    let t = test_db().await;
    let souq = shop(&t, "quote-iso").await;
    let tea = item(&t, &souq, "TEA-I", 3000, 100, None).await;
    let (company, _, _) = buying_company(&t, &souq, "qmine", 10_000_000).await;
    let (_, _, (_, stranger)) = buying_company(&t, &souq, "qtheirs", 10_000_000).await;
    let q = quotes::draft(
        t.db(),
        &souq.admin,
        draft_for(company, vec![quoted(tea, 1, None)]),
    )
    .await
    .expect("drafted");
    let q = quotes::send(t.db(), &souq.admin, q.id).await.expect("sent");
    assert!(
        quotes::get(t.db(), &stranger, q.id)
            .await
            .expect("read")
            .is_none()
    );
    let page = quotes::page(
        t.db(),
        &stranger,
        None,
        None,
        cityos_core::paging::PageRequest::new(Some(10), None, None, None).expect("page"),
    )
    .await
    .expect("list");
    assert_eq!(page.total_count, 0);
    let taken = accept(&t, &stranger, acceptance(&q, 1, "stranger")).await;
    assert_eq!(code_of(taken), Code::NotFound);
    let declined = quotes::decline(t.db(), &stranger, q.id, 1, None).await;
    assert_eq!(code_of(declined), Code::NotFound);
    let written = quotes::post_message(t.db(), &stranger, q.id, "hi".into()).await;
    assert_eq!(code_of(written), Code::NotFound);
    let orders = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.orders WHERE quote_id = $1",
        q.id.into(),
    )
    .await;
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn a_quote_past_its_date_expires_and_a_declined_one_is_closed() {
    let t = test_db().await;
    let souq = shop(&t, "quote-exp").await;
    let tea = item(&t, &souq, "TEA-E", 3000, 100, None).await;
    let (company, admin, (_, approver)) = buying_company(&t, &souq, "qexp", 5_000).await;

    // Over the credit limit: refused, and the quote stays sent.
    let big = quotes::draft(
        t.db(),
        &souq.admin,
        draft_for(company, vec![quoted(tea, 10, None)]),
    )
    .await
    .expect("drafted");
    let big = quotes::send(t.db(), &souq.admin, big.id)
        .await
        .expect("sent");
    let over = accept(&t, &approver, acceptance(&big, 1, "over")).await;
    assert_eq!(code_of(over), Code::CreditLimitExceeded);
    let declined = quotes::decline(t.db(), &approver, big.id, 1, Some("over our budget".into()))
        .await
        .expect("declined");
    assert_eq!(declined.status, QuoteStatus::Declined);
    assert_eq!(declined.decline_reason.as_deref(), Some("over our budget"));

    // Valid for a moment only.
    let mut short = draft_for(company, vec![quoted(tea, 1, None)]);
    short.valid_until = Some(Utc::now() + Duration::milliseconds(600));
    let brief = quotes::draft(t.db(), &souq.admin, short)
        .await
        .expect("drafted");
    let brief = quotes::send(t.db(), &souq.admin, brief.id)
        .await
        .expect("sent");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let late = accept(&t, &admin, acceptance(&brief, 1, "late")).await;
    assert_eq!(code_of(late), Code::QuoteExpired);
    let settings = RunnerSettings {
        batch: 10,
        lease: std::time::Duration::from_secs(30),
        idle: std::time::Duration::from_millis(10),
    };
    let runner = Runner::new(t.db().clone(), orders::JOBS, settings).with::<quotes::QuoteExpiry>();
    runner.run_once().await.expect("round");
    let expired = quotes::get(t.db(), &admin, brief.id)
        .await
        .expect("read")
        .expect("visible");
    assert_eq!(expired.status, QuoteStatus::Expired);
}

#[tokio::test]
async fn bad_quote_input_is_refused_with_a_code_and_writes_nothing() {
    let t = test_db().await;
    let souq = shop(&t, "quote-bad").await;
    let tea = item(&t, &souq, "TEA-B", 3000, 100, None).await;
    let (company, admin, _) = buying_company(&t, &souq, "qbad", 10_000_000).await;
    let cases = [
        (draft_for(company, vec![]), Code::InvalidCount),
        (
            draft_for(company, vec![quoted(tea, 0, None)]),
            Code::InvalidQuantity,
        ),
        (
            draft_for(company, vec![quoted(tea, 1, Some(-5))]),
            Code::InvalidAmount,
        ),
        (
            draft_for(company, vec![quoted(tea, 1, None), quoted(tea, 2, None)]),
            Code::DuplicateVariant,
        ),
        (
            draft_for(CompanyId::new(), vec![quoted(tea, 1, None)]),
            Code::NotFound,
        ),
        (
            draft_for(company, vec![quoted(VariantId::new(), 1, None)]),
            Code::VariantUnavailable,
        ),
        (
            Draft {
                valid_until: Some(Utc::now() - Duration::hours(1)),
                ..draft_for(company, vec![quoted(tea, 1, None)])
            },
            Code::InvalidValidity,
        ),
        (
            Draft {
                note: Some("bad\u{0007}note".into()),
                ..draft_for(company, vec![quoted(tea, 1, None)])
            },
            Code::InvalidText,
        ),
    ];
    for (draft, code) in cases {
        assert_eq!(
            code_of(quotes::draft(t.db(), &souq.admin, draft).await),
            code
        );
    }
    // Without a validity date it cannot be sent.
    let undated = quotes::draft(
        t.db(),
        &souq.admin,
        Draft {
            valid_until: None,
            ..draft_for(company, vec![quoted(tea, 1, None)])
        },
    )
    .await
    .expect("drafted");
    assert_eq!(
        code_of(quotes::send(t.db(), &souq.admin, undated.id).await),
        Code::InvalidValidity
    );
    // A company member cannot draft for the seller.
    let by_member = quotes::draft(
        t.db(),
        &admin,
        draft_for(company, vec![quoted(tea, 1, None)]),
    )
    .await;
    assert!(matches!(by_member, Err(Failure::Api(_))));
    let quotes_written = count(
        &t,
        &souq,
        "SELECT count(*) AS n FROM orders.quotes WHERE company_id = $1",
        company.into(),
    )
    .await;
    assert_eq!(quotes_written, 1, "only the undated draft");
}
