//! Payouts through Stripe Connect (the testkit's double): terms with a connected account read
//! from Stripe, a payout of exactly the available entries, its transfer made once after commit
//! (PENDING -> PROCESSING -> PAID, or FAILED with the money credited back), a refund after a
//! payout leaving a negative balance the next sales repay first, racing runs and requests making
//! one payout per vendor and period, and every refusal.

use crate::common::{Shop, approved, test_db, transition};
use crate::ledger::{captured, delivered, part, refunded};
use crate::ratings::apply;
use chrono::{Duration, Utc};
use cityos_core::ids::VendorId;
use cityos_core::{RequestContext, VendorRole};
use cityos_db::jobs::{Runner, RunnerSettings};
use cityos_server::stripe::Stripe;
use cityos_testkit::TestDb;
use cityos_testkit::stripe::{SECRET_KEY, StripeDouble};
use serde_json::{Value, json};
use uuid::Uuid;
use vendors::Vendors;
use vendors::payouts::jobs::{PayoutRun, PayoutTransfer};

fn stripe(double: &StripeDouble) -> Stripe {
    Stripe::new(&double.base, SECRET_KEY)
}

/// Runs `query` as `ctx` through a vendors schema that talks to `double`: the whole response.
async fn raw(
    t: &TestDb,
    double: &StripeDouble,
    ctx: &RequestContext,
    query: &str,
    vars: Value,
) -> Value {
    let schema = vendors::build_schema_with(Some(&t.platform), Some(stripe(double)));
    t.graphql::<Vendors>(&schema, ctx, query, vars).await
}

pub async fn run(
    t: &TestDb,
    double: &StripeDouble,
    ctx: &RequestContext,
    query: &str,
    vars: Value,
) -> Value {
    let r = raw(t, double, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// Runs the vendors' due jobs until none is left, as the process's runner would.
pub async fn drain(t: &TestDb, double: &StripeDouble) -> usize {
    let runner = Runner::new(t.db().clone(), vendors::JOBS, RunnerSettings::default())
        .with::<PayoutRun>()
        .with::<PayoutTransfer>()
        .provide(stripe(double));
    let mut done = 0;
    loop {
        let round = runner.run_once().await.expect("a round");
        done += round.done;
        if round.done + round.failed + round.dead + round.lost == 0 {
            return done;
        }
    }
}

const TERMS: &str = "mutation($i: VendorPayoutTermsInput!) { vendorPayoutTermsUpdate(input: $i) {
    terms { schedule minimumMinor stripeAccountId accountState } userErrors { field code message } } }";
pub const REQUEST: &str = "mutation($i: VendorPayoutRequestInput!) { vendorPayoutRequest(input: $i) {
    payout { id amount { amountMinor } status period entryCount } userErrors { field code message } } }";
const PAYOUTS: &str = "query($id: ID!) { vendor(id: $id) {
    balances { balance { amountMinor } available { amountMinor } pending { amountMinor } }
    payouts(first: 10) { totalCount edges { node { id amount { amountMinor } status period entryCount
        transferId failure entries { kind amount { amountMinor } } } } }
    ledger(first: 3) { edges { node { kind amount { amountMinor } } } } } }";

fn code(r: &Value, field: &str) -> String {
    r[field]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or("none")
        .to_owned()
}

/// A sale of `net` by `vendor` (10% commission), delivered `days_ago` (past the 14 days' hold
/// when more than 14).
pub async fn sale(
    t: &TestDb,
    shop: &Shop,
    vendor: VendorId,
    net: i64,
    days_ago: Option<i64>,
) -> Uuid {
    let order = Uuid::now_v7();
    let event = captured(
        shop.info.id,
        Utc::now(),
        vec![part(order, vendor, 0, &[(Uuid::now_v7(), 1, net, 0)])],
    );
    apply(t, &event).await;
    if let Some(days) = days_ago {
        apply(
            t,
            &delivered(
                shop.info.id,
                order,
                vendor,
                Utc::now() - Duration::days(days),
            ),
        )
        .await;
    }
    order
}

pub async fn default_rule(t: &TestDb, double: &StripeDouble, shop: &Shop) {
    let r = run(t, double, &shop.admin, "mutation { commissionRuleCreate(input: { name: \"Default\", method: PERCENTAGE, scope: TENANT, rateBasisPoints: 1000 }) { userErrors { code } } }", json!({})).await;
    assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]));
}

/// An approved vendor with an onboarded connected account; its owner acting for it.
pub async fn paid_vendor(
    t: &TestDb,
    double: &StripeDouble,
    shop: &Shop,
    handle: &str,
) -> (VendorId, RequestContext, String) {
    let (vendor, owner) = approved(t, shop, handle).await;
    let acting = shop.acting(owner, vendor, VendorRole::Owner);
    let account = double.connect_account(true);
    let r = run(
        t,
        double,
        &acting,
        TERMS,
        json!({ "i": { "vendorId": vendor.to_string(), "stripeAccountId": account } }),
    )
    .await;
    assert_eq!(
        r["vendorPayoutTermsUpdate"]["terms"]["accountState"], "ACTIVE",
        "{r}"
    );
    (vendor, acting, account)
}

pub fn request(vendor: VendorId) -> Value {
    json!({ "i": { "vendorId": vendor.to_string(), "currency": "SAR" } })
}

#[tokio::test]
async fn a_payout_pays_the_available_entries_once_and_a_refund_after_it_is_repaid_first() {
    let t = test_db().await;
    let double = StripeDouble::start().await;
    let shop = Shop::new(&t, "payouts").await;
    default_rule(&t, &double, &shop).await;
    let (vendor, owner, account) = paid_vendor(&t, &double, &shop, "payouts-v").await;
    let first = sale(&t, &shop, vendor, 1_000, Some(20)).await;
    sale(&t, &shop, vendor, 3_000, Some(1)).await;

    // A manual payout of what is available: the first sale less its commission.
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    let payout = &r["vendorPayoutRequest"]["payout"];
    assert_eq!(
        (
            payout["amount"]["amountMinor"].clone(),
            payout["status"].clone(),
            payout["entryCount"].clone()
        ),
        (json!(900), json!("PENDING"), json!(2)),
        "{r}"
    );
    let id = payout["id"].as_str().expect("id").to_owned();
    // Nothing is left to ask for.
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "NOTHING_TO_PAY_OUT");

    // The transfer is made after the payout committed, once, however often the job runs.
    drain(&t, &double).await;
    drain(&t, &double).await;
    {
        let books = double.books();
        assert_eq!(books.transfers.len(), 1);
        let transfer = &books.transfers[0];
        assert_eq!(
            (
                transfer["amount"].clone(),
                transfer["destination"].clone(),
                transfer["transfer_group"].clone()
            ),
            (json!(900), json!(account), json!(id))
        );
    }
    let seen = run(
        &t,
        &double,
        &owner,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    let node = &seen["payouts"]["edges"][0]["node"];
    assert_eq!(node["status"], "PAID");
    assert_eq!(node["transferId"], "tr_1");
    assert_eq!(
        node["entries"],
        json!([{ "kind": "SALE", "amount": { "amountMinor": 1_000 } }, { "kind": "COMMISSION", "amount": { "amountMinor": -100 } }])
    );
    assert_eq!(
        seen["balances"][0],
        json!({ "balance": { "amountMinor": 2_700 }, "available": { "amountMinor": 0 }, "pending": { "amountMinor": 2_700 } })
    );

    // A refund of the paid-out sale: the balance available goes negative, and nothing is paid.
    apply(&t, &refunded(shop.info.id, &[(first, Some(vendor), 1_000)])).await;
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "NEGATIVE_BALANCE", "{r}");
    let r = run(
        &t,
        &double,
        &shop.admin,
        "mutation { vendorPayoutRun { result { created skipped } } }",
        json!({}),
    )
    .await;
    assert_eq!(r["vendorPayoutRun"]["result"]["created"], 0);
    // The next available sale repays it first: the scheduled run pays the rest.
    sale(&t, &shop, vendor, 2_000, Some(30)).await;
    let r = run(
        &t,
        &double,
        &shop.admin,
        "mutation { vendorPayoutRun { result { created skipped } } }",
        json!({}),
    )
    .await;
    assert_eq!(r["vendorPayoutRun"]["result"]["created"], 1, "{r}");
    let seen = run(
        &t,
        &double,
        &owner,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    let node = &seen["payouts"]["edges"][0]["node"];
    // 1 800 of the new sale less the 900 the refund took back.
    assert_eq!(node["amount"]["amountMinor"], 900);
    assert!(
        node["period"]
            .as_str()
            .is_some_and(|p| p.starts_with("WEEK ")),
        "{node}"
    );
    // The week is paid: another run makes nothing.
    let r = run(
        &t,
        &double,
        &shop.admin,
        "mutation { vendorPayoutRun { result { created skipped } } }",
        json!({}),
    )
    .await;
    assert_eq!(r["vendorPayoutRun"]["result"]["created"], 0);

    // Stripe down: the payout is PROCESSING, no transfer is made; back up, it is made once.
    drain(&t, &double).await;
    sale(&t, &shop, vendor, 500, Some(30)).await;
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    assert_eq!(
        r["vendorPayoutRequest"]["payout"]["amount"]["amountMinor"], 450,
        "{r}"
    );
    double.books().down = true;
    drain(&t, &double).await;
    let seen = run(
        &t,
        &double,
        &owner,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    assert_eq!(seen["payouts"]["edges"][0]["node"]["status"], "PROCESSING");
    assert_eq!(double.books().transfers.len(), 2);
    double.books().down = false;
    t.owner_sql("UPDATE vendors.jobs SET run_at = now() WHERE name = 'payout.transfer' AND state = 'scheduled'").await;
    drain(&t, &double).await;
    let seen = run(
        &t,
        &double,
        &owner,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    assert_eq!(seen["payouts"]["edges"][0]["node"]["status"], "PAID");
    assert_eq!(double.books().transfers.len(), 3);

    // Stripe restricts the account: the next transfer is refused, the payout FAILED and its
    // amount credited back, available again.
    double.restrict(&account);
    sale(&t, &shop, vendor, 1_000, Some(30)).await;
    run(&t, &double, &owner, REQUEST, request(vendor)).await;
    drain(&t, &double).await;
    let seen = run(
        &t,
        &double,
        &owner,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    let node = &seen["payouts"]["edges"][0]["node"];
    assert_eq!(node["status"], "FAILED");
    assert!(
        node["failure"]
            .as_str()
            .is_some_and(|f| f.contains("capabilities")),
        "{node}"
    );
    assert_eq!(
        seen["ledger"]["edges"][0]["node"],
        json!({ "kind": "PAYOUT_FAILED", "amount": { "amountMinor": 900 } })
    );
    assert_eq!(seen["balances"][0]["available"]["amountMinor"], 900);
    // Set again, the account is read as RESTRICTED and payouts wait for it.
    let r = run(
        &t,
        &double,
        &owner,
        TERMS,
        json!({ "i": { "vendorId": vendor.to_string(), "stripeAccountId": account } }),
    )
    .await;
    assert_eq!(
        r["vendorPayoutTermsUpdate"]["terms"]["accountState"],
        "RESTRICTED"
    );
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "PAYOUT_ACCOUNT_NOT_READY");
    assert_eq!(crate::ledger::mismatches(&t, shop.info.id).await, 0);
}

#[tokio::test]
async fn racing_runs_and_requests_make_one_payout_per_vendor_and_period() {
    let t = test_db().await;
    let double = StripeDouble::start().await;
    let shop = Shop::new(&t, "payout-race").await;
    default_rule(&t, &double, &shop).await;
    let mut vendors = Vec::new();
    for i in 0..4 {
        let (vendor, owner, _) = paid_vendor(&t, &double, &shop, &format!("race-{i}")).await;
        for _ in 0..3 {
            sale(&t, &shop, vendor, 1_000, Some(20)).await;
        }
        vendors.push((vendor, owner));
    }
    let tenant = shop.info.id;
    let runs = (0..2).map(|_| {
        t.db().tenant_tx(tenant, async move |tx| {
            vendors::payouts::run(tx, Utc::now()).await
        })
    });
    let (owner_vendor, owner) = vendors[0].clone();
    let requests = (0..3).map(|_| raw(&t, &double, &owner, REQUEST, request(owner_vendor)));
    let (runs, requests) = tokio::join!(
        futures_util::future::join_all(runs),
        futures_util::future::join_all(requests)
    );
    let created: i32 = runs.iter().map(|r| r.as_ref().expect("ran").created).sum();
    let asked = requests
        .iter()
        .filter(|r| r["data"]["vendorPayoutRequest"]["payout"].is_object())
        .count();
    // Each vendor once: the first vendor by a run or by one request, whichever locked first.
    assert_eq!(created as usize + asked, 4, "{runs:?} {requests:?}");
    for (vendor, owner) in &vendors {
        let seen = run(
            &t,
            &double,
            owner,
            PAYOUTS,
            json!({ "id": vendor.to_string() }),
        )
        .await["vendor"]
            .clone();
        assert_eq!(seen["payouts"]["totalCount"], 1, "{seen}");
        assert_eq!(
            seen["payouts"]["edges"][0]["node"]["amount"]["amountMinor"],
            2_700
        );
        assert_eq!(seen["balances"][0]["balance"]["amountMinor"], 0);
    }
    assert_eq!(crate::ledger::mismatches(&t, tenant).await, 0);
}

#[tokio::test]
async fn payout_terms_and_requests_refuse_what_they_must_and_change_nothing() {
    let t = test_db().await;
    let double = StripeDouble::start().await;
    let shop = Shop::new(&t, "payout-rules").await;
    default_rule(&t, &double, &shop).await;
    let (vendor, owner, _) = paid_vendor(&t, &double, &shop, "rules-a").await;
    let (other, other_owner, _) = paid_vendor(&t, &double, &shop, "rules-b").await;
    sale(&t, &shop, vendor, 1_000, Some(20)).await;
    let terms = |fields: Value| {
        let mut i = json!({ "vendorId": vendor.to_string() });
        i.as_object_mut()
            .expect("object")
            .extend(fields.as_object().expect("object").clone());
        json!({ "i": i })
    };
    for (fields, want) in [
        (
            json!({ "stripeAccountId": "acct_x y" }),
            "INVALID_PAYOUT_ACCOUNT",
        ),
        (
            json!({ "stripeAccountId": "acct_unknown1" }),
            "INVALID_PAYOUT_ACCOUNT",
        ),
        (json!({ "minimumMinor": -1 }), "INVALID_AMOUNT"),
    ] {
        let r = run(&t, &double, &owner, TERMS, terms(fields)).await;
        assert_eq!(code(&r, "vendorPayoutTermsUpdate"), want, "{r}");
    }
    // Another vendor's team cannot touch these terms or ask for this vendor's money.
    let r = run(
        &t,
        &double,
        &other_owner,
        TERMS,
        terms(json!({ "schedule": "MANUAL" })),
    )
    .await;
    assert_eq!(code(&r, "vendorPayoutTermsUpdate"), "NOT_FOUND");
    let r = run(&t, &double, &other_owner, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "NOT_FOUND");
    // A STAFF member of the team may not; a customer may not.
    let (staff_member, _) = shop.customer(&t, "staff@rules-a.test").await;
    let r = raw(
        &t,
        &double,
        &shop.acting(staff_member, vendor, VendorRole::Staff),
        REQUEST,
        request(vendor),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    let (_, customer) = shop.customer(&t, "shopper@rules.test").await;
    let r = raw(&t, &double, &customer, REQUEST, request(vendor)).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    // Below the minimum; an unknown currency; another vendor with nothing.
    let r = run(
        &t,
        &double,
        &owner,
        TERMS,
        terms(json!({ "minimumMinor": 5_000, "schedule": "MONTHLY" })),
    )
    .await;
    assert_eq!(r["vendorPayoutTermsUpdate"]["terms"]["schedule"], "MONTHLY");
    let r = run(&t, &double, &owner, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "BELOW_MINIMUM");
    let r = run(
        &t,
        &double,
        &owner,
        REQUEST,
        json!({ "i": { "vendorId": vendor.to_string(), "currency": "ZZZ" } }),
    )
    .await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "UNKNOWN_CURRENCY");
    let r = run(&t, &double, &other_owner, REQUEST, request(other)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "NOTHING_TO_PAY_OUT");
    // A suspended vendor is not paid out.
    run(
        &t,
        &double,
        &owner,
        TERMS,
        terms(json!({ "minimumMinor": 0 })),
    )
    .await;
    let r = run(
        &t,
        &double,
        &shop.admin,
        &transition("vendorSuspend"),
        json!({ "i": { "id": vendor.to_string(), "reason": "Audit" } }),
    )
    .await;
    assert_eq!(r["vendorSuspend"]["userErrors"], json!([]));
    let r = run(&t, &double, &shop.admin, REQUEST, request(vendor)).await;
    assert_eq!(code(&r, "vendorPayoutRequest"), "VENDOR_INACTIVE");
    let seen = run(
        &t,
        &double,
        &shop.admin,
        PAYOUTS,
        json!({ "id": vendor.to_string() }),
    )
    .await["vendor"]
        .clone();
    assert_eq!(seen["payouts"]["totalCount"], 0);
    assert_eq!(seen["balances"][0]["available"]["amountMinor"], 900);
    assert!(double.books().transfers.is_empty());
}
