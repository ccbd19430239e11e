//! Vendors' ledgers from orders' events, through the vendors inbox: a captured payment's vendor
//! orders are sales with their commissions frozen line by line, refunds debit each vendor its share
//! and give back the commission's, deliveries start the hold; each event takes effect once,
//! however often it comes; staff adjust with a reason; racing appends keep every ledger
//! continuous, and the database refuses an entry changed after the fact.

use crate::common::{Shop, approved, raw, run, test_db};
use crate::ratings::apply;
use catalog::taxonomy::categories::{self, NewCategory};
use chrono::{DateTime, Duration, Utc};
use cityos_core::VendorRole;
use cityos_core::ids::{EventId, TenantId, VendorId};
use cityos_db::inbox::{Applied, Inbox};
use cityos_db::outbox::Event;
use cityos_fixtures::ProductBuilder;
use cityos_server::Subgraph as _;
use cityos_testkit::TestDb;
use serde_json::{Value, json};
use uuid::Uuid;

fn event(tenant: TenantId, topic: &str, payload: Value) -> Event {
    Event {
        id: EventId::new(),
        source: "orders".into(),
        tenant_id: tenant,
        topic: topic.into(),
        aggregate_id: None,
        payload,
        created_at: Utc::now(),
        attempt: 1,
    }
}

/// A vendor order of a `payment.captured` event: lines of (product, quantity, net, tax).
pub fn part(
    vendor_order: Uuid,
    vendor: VendorId,
    shipping: i64,
    lines: &[(Uuid, i32, i64, i64)],
) -> Value {
    let total: i64 = lines.iter().map(|(_, _, net, tax)| net + tax).sum::<i64>() + shipping;
    json!({
        "vendorOrderId": vendor_order, "vendorId": vendor, "total": total,
        "shippingTotal": shipping, "taxTotal": lines.iter().map(|l| l.3).sum::<i64>(),
        "lines": lines.iter().map(|(product, quantity, net, tax)| json!({
            "orderLineId": Uuid::now_v7(), "productId": product, "quantity": quantity,
            "net": net, "tax": tax })).collect::<Vec<_>>(),
    })
}

/// `payment.captured` as orders writes it.
pub fn captured(tenant: TenantId, placed_at: DateTime<Utc>, parts: Vec<Value>) -> Event {
    event(
        tenant,
        "payment.captured",
        json!({ "orderId": Uuid::now_v7(), "paymentId": Uuid::now_v7(), "amount": 0,
            "currency": "SAR", "provider": "MANUAL", "orderCancelled": false,
            "placedAt": placed_at, "vendorOrders": parts }),
    )
}

/// `payment.refunded` as orders writes it: shares of (vendor order, vendor, amount).
pub fn refunded(tenant: TenantId, shares: &[(Uuid, Option<VendorId>, i64)]) -> Event {
    event(
        tenant,
        "payment.refunded",
        json!({ "orderId": Uuid::now_v7(), "paymentId": Uuid::now_v7(), "refundId": null,
            "amount": shares.iter().map(|s| s.2).sum::<i64>(), "currency": "SAR",
            "vendorOrders": shares.iter().map(|(vo, v, amount)| json!({
                "vendorOrderId": vo, "vendorId": v, "amount": amount })).collect::<Vec<_>>() }),
    )
}

/// `fulfillment.delivered` as orders writes it.
pub fn delivered(
    tenant: TenantId,
    vendor_order: Uuid,
    vendor: VendorId,
    at: DateTime<Utc>,
) -> Event {
    event(
        tenant,
        "fulfillment.delivered",
        json!({ "orderId": Uuid::now_v7(), "vendorOrderId": vendor_order, "vendorId": vendor,
            "fulfillmentId": Uuid::now_v7(), "deliveredAt": at }),
    )
}

const MONEY: &str = "vendor(id: $id) {
    balances { currency balance { amountMinor } available { amountMinor } pending { amountMinor } }
    ledger(first: 50) { totalCount edges { node { kind sequence amount { amountMinor } balanceAfter { amountMinor } reason settled } } }
    sales(first: 10) { totalCount edges { node { vendorOrderId total { amountMinor } commission { amountMinor }
        refunded { amountMinor } commissionReversed { amountMinor } net { amountMinor } availableAt
        lines { quantity basis { amountMinor } ruleId amount { amountMinor } } } } } }";

async fn money(t: &TestDb, ctx: &cityos_core::RequestContext, vendor: VendorId) -> Value {
    let r = run(
        t,
        ctx,
        &format!("query($id: ID!) {{ {MONEY} }}"),
        json!({ "id": vendor.to_string() }),
    )
    .await;
    r["vendor"].clone()
}

fn balance(v: &Value) -> (i64, i64, i64) {
    let b = &v["balances"][0];
    (
        b["balance"]["amountMinor"].as_i64().unwrap_or(i64::MIN),
        b["available"]["amountMinor"].as_i64().unwrap_or(i64::MIN),
        b["pending"]["amountMinor"].as_i64().unwrap_or(i64::MIN),
    )
}

fn kinds(v: &Value) -> Vec<(String, i64, i64)> {
    v["ledger"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| {
                    let n = &e["node"];
                    (
                        n["kind"].as_str().unwrap_or_default().to_owned(),
                        n["amount"]["amountMinor"].as_i64().unwrap_or_default(),
                        n["balanceAfter"]["amountMinor"]
                            .as_i64()
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn rule(t: &TestDb, shop: &Shop, input: Value) -> String {
    let r = run(
        t,
        &shop.admin,
        "mutation($i: CommissionRuleCreateInput!) { commissionRuleCreate(input: $i) { rule { id } userErrors { code message } } }",
        json!({ "i": input }),
    )
    .await;
    assert_eq!(r["commissionRuleCreate"]["userErrors"], json!([]), "{r}");
    r["commissionRuleCreate"]["rule"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub async fn mismatches(t: &TestDb, tenant: TenantId) -> usize {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, cityos_core::ApiError>(vendors::ledger::verify(tx).await?)
        })
        .await
        .expect("verified")
        .len()
}

#[tokio::test]
async fn a_sale_is_recorded_once_with_frozen_commissions_and_refunds_give_them_back_in_proportion()
{
    let t = test_db().await;
    let shop = Shop::new(&t, "ledger").await;
    let tenant = shop.info.id;
    let (a, a_owner) = approved(&t, &shop, "ledger-a").await;
    let (b, b_owner) = approved(&t, &shop, "ledger-b").await;
    let (team_a, team_b) = (
        shop.acting(a_owner, a, VendorRole::Staff),
        shop.acting(b_owner, b, VendorRole::Staff),
    );
    // Rules: 10% by default, 5% for vendor B, 8% for the "Oud" category (under "Perfume"),
    // 3.00 a unit for one product.
    let perfume = categories::create(
        t.db(),
        &shop.admin,
        NewCategory {
            name: "Perfume".into(),
            handle: "perfume".into(),
            description: None,
            parent_id: None,
        },
    )
    .await
    .expect("category")
    .id;
    let oud = categories::create(
        t.db(),
        &shop.admin,
        NewCategory {
            name: "Oud".into(),
            handle: "oud".into(),
            description: None,
            parent_id: Some(perfume),
        },
    )
    .await
    .expect("category")
    .id;
    let (fixed, in_oud, plain) = (
        ProductBuilder::new("amber")
            .create(&t, &shop.admin)
            .await
            .id,
        ProductBuilder::new("oud-oil")
            .create(&t, &shop.admin)
            .await
            .id,
        ProductBuilder::new("dates")
            .create(&t, &shop.admin)
            .await
            .id,
    );
    categories::set_for_product(t.db(), &shop.admin, in_oud, vec![oud])
        .await
        .expect("categorised");
    let default = rule(&t, &shop, json!({ "name": "Default", "method": "PERCENTAGE", "scope": "TENANT", "rateBasisPoints": 1000 })).await;
    let vendor_b = rule(&t, &shop, json!({ "name": "B", "method": "PERCENTAGE", "scope": "VENDOR", "targetId": b.to_string(), "rateBasisPoints": 500 })).await;
    let category = rule(&t, &shop, json!({ "name": "Perfume", "method": "PERCENTAGE", "scope": "CATEGORY", "targetId": perfume.to_string(), "rateBasisPoints": 800 })).await;
    let per_unit = rule(&t, &shop, json!({ "name": "Amber", "method": "FIXED", "scope": "PRODUCT", "targetId": fixed.to_string(), "perUnitMinor": 300, "currency": "SAR" })).await;

    // A: 2 x amber (100.00 net, 15.00 tax), 1 x oud oil (50.00, 7.50), 1 x dates (40.00), 10.00
    // shipping: 222.50 in all; commission 6.00 + 4.00 (8% of the category) + 4.00 (10%) = 14.00.
    // B: 3 x dates for 99.99: 5% is 4.99950, rounded half away from zero to 5.00.
    let (a_order, b_order) = (Uuid::now_v7(), Uuid::now_v7());
    // Placed after the rules were made: the rules in force at placement apply.
    let placed = Utc::now();
    let capture = captured(
        tenant,
        placed,
        vec![
            part(
                a_order,
                a,
                1_000,
                &[
                    (fixed.into(), 2, 10_000, 1_500),
                    (in_oud.into(), 1, 5_000, 750),
                    (plain.into(), 1, 4_000, 0),
                ],
            ),
            part(b_order, b, 0, &[(plain.into(), 3, 9_999, 0)]),
        ],
    );
    assert_eq!(apply(&t, &capture).await, Applied::Now);
    let seen = money(&t, &team_a, a).await;
    assert_eq!(
        balance(&seen),
        (22_250 - 1_400, 0, 22_250 - 1_400),
        "{seen}"
    );
    assert_eq!(
        kinds(&seen),
        [
            ("COMMISSION".into(), -1_400, 20_850),
            ("SALE".into(), 22_250, 22_250)
        ]
    );
    let sale = &seen["sales"]["edges"][0]["node"];
    assert_eq!(sale["commission"]["amountMinor"], 1_400);
    assert_eq!(sale["net"]["amountMinor"], 20_850);
    assert_eq!(sale["availableAt"], Value::Null, "not delivered yet");
    let lines: Vec<(i64, Value, i64)> = sale["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["basis"]["amountMinor"].as_i64().unwrap_or(-1),
                l["ruleId"].clone(),
                l["amount"]["amountMinor"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (10_000, json!(per_unit), 600),
            (5_000, json!(category), 400),
            (4_000, json!(default), 400)
        ]
    );
    let seen_b = money(&t, &team_b, b).await;
    assert_eq!(balance(&seen_b), (9_999 - 500, 0, 9_499));
    assert_eq!(
        seen_b["sales"]["edges"][0]["node"]["lines"][0]["ruleId"],
        json!(vendor_b)
    );

    // The same event again, and another payment of the same order captured: nothing more.
    assert_eq!(apply(&t, &capture).await, Applied::Before);
    let again = captured(
        tenant,
        placed,
        vec![part(a_order, a, 0, &[(plain.into(), 1, 100, 0)])],
    );
    assert_eq!(apply(&t, &again).await, Applied::Now);
    assert_eq!(balance(&money(&t, &team_a, a).await), (20_850, 0, 20_850));

    // Changing the rules later rewrites nothing recorded.
    run(
        &t,
        &shop.admin,
        "mutation($id: ID!) { commissionRuleDeactivate(id: $id) { userErrors { code } } }",
        json!({ "id": default }),
    )
    .await;
    assert_eq!(
        money(&t, &team_a, a).await["sales"]["edges"][0]["node"]["commission"]["amountMinor"],
        1_400
    );

    // Each vendor sees its own money only; customers and the storefront see none.
    assert_eq!(money(&t, &team_b, a).await["balances"], Value::Null);
    assert_eq!(money(&t, &team_b, a).await["ledger"], Value::Null);
    assert_eq!(money(&t, &shop.guest(), a).await["sales"], Value::Null);
    let (_, customer) = shop.customer(&t, "shopper@ledger.test").await;
    assert_eq!(money(&t, &customer, a).await["balances"], Value::Null);
    // Nor through the router's entity lookup.
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Vendor { id
        balances { currency } ledger(first: 1) { totalCount } sales(first: 1) { totalCount }
        payouts(first: 1) { totalCount } payoutTerms { schedule }
        analytics(period: DAY, from: \"2026-01-01\", to: \"2026-12-31\") { orders } } } }";
    let r = run(
        &t,
        &team_b,
        entities,
        json!({ "r": [{ "__typename": "Vendor", "id": a.to_string() }] }),
    )
    .await;
    let seen = &r["_entities"][0];
    assert_eq!(seen["id"], a.to_string(), "{r}");
    for field in [
        "balances",
        "ledger",
        "sales",
        "payouts",
        "payoutTerms",
        "analytics",
    ] {
        assert!(seen[field].is_null(), "{field}: {r}");
    }
    let r = run(
        &t,
        &team_a,
        entities,
        json!({ "r": [{ "__typename": "Vendor", "id": a.to_string() }] }),
    )
    .await;
    assert_eq!(r["_entities"][0]["ledger"]["totalCount"], 2, "{r}");

    // A refund of a quarter of A's order: 55.63 back, and a quarter of the commission (3.50).
    let quarter = refunded(
        tenant,
        &[(a_order, Some(a), 5_563), (Uuid::now_v7(), None, 100)],
    );
    assert_eq!(apply(&t, &quarter).await, Applied::Now);
    assert_eq!(apply(&t, &quarter).await, Applied::Before);
    let seen = money(&t, &team_a, a).await;
    // round(1 400 x 5 563 / 22 250) = round(350.02) = 350.
    assert_eq!(
        kinds(&seen)[..2],
        [
            ("COMMISSION_REVERSAL".into(), 350, 15_637),
            ("REFUND".into(), -5_563, 15_287)
        ]
    );
    // The rest: what is left of the commission comes back whole, and the order is at zero.
    apply(&t, &refunded(tenant, &[(a_order, Some(a), 22_250 - 5_563)])).await;
    let seen = money(&t, &team_a, a).await;
    assert_eq!(balance(&seen).0, 0);
    let sale = &seen["sales"]["edges"][0]["node"];
    assert_eq!(
        (
            sale["refunded"]["amountMinor"].clone(),
            sale["commissionReversed"]["amountMinor"].clone(),
            sale["net"]["amountMinor"].clone()
        ),
        (json!(22_250), json!(1_400), json!(0))
    );
    // Refunding beyond the sale is refused (the event is malformed) and changes nothing.
    let beyond = refunded(tenant, &[(a_order, Some(a), 1)]);
    assert!(
        Inbox::of("vendors")
            .apply(t.db(), &vendors::Vendors::consumers(), &beyond)
            .await
            .is_err()
    );
    assert_eq!(balance(&money(&t, &team_a, a).await).0, 0);

    // A refund whose capture has not arrived yet waits for it: refused now, applied later.
    let late = Uuid::now_v7();
    let early = refunded(tenant, &[(late, Some(b), 1_000)]);
    assert!(
        Inbox::of("vendors")
            .apply(t.db(), &vendors::Vendors::consumers(), &early)
            .await
            .is_err()
    );
    apply(
        &t,
        &captured(
            tenant,
            placed,
            vec![part(late, b, 0, &[(plain.into(), 1, 2_000, 0)])],
        ),
    )
    .await;
    assert_eq!(apply(&t, &early).await, Applied::Now);
    // 2 000 - 5% (100) - 1 000 refunded + 50 given back.
    assert_eq!(
        balance(&money(&t, &team_b, b).await).0,
        9_499 + 2_000 - 100 - 1_000 + 50
    );

    // Delivery starts the hold: B's first order delivered 15 days ago is available (14 days'
    // hold), the later one delivered now is still pending.
    apply(
        &t,
        &delivered(tenant, b_order, b, Utc::now() - Duration::days(15)),
    )
    .await;
    apply(&t, &delivered(tenant, late, b, Utc::now())).await;
    let seen_b = money(&t, &team_b, b).await;
    assert_eq!(balance(&seen_b), (10_449, 9_499, 950), "{seen_b}");
    assert!(
        seen_b["sales"]["edges"]
            .as_array()
            .expect("sales")
            .iter()
            .all(|s| s["node"]["availableAt"].is_string())
    );
    assert_eq!(mismatches(&t, tenant).await, 0);
}

const ADJUST: &str = "mutation($i: VendorLedgerAdjustInput!) { vendorLedgerAdjust(input: $i) {
    entry { kind amount { amountMinor } balanceAfter { amountMinor } reason } userErrors { field code message } } }";

#[tokio::test]
async fn staff_adjust_a_balance_with_a_reason_and_a_refused_adjustment_changes_nothing() {
    let t = test_db().await;
    let shop = Shop::new(&t, "adjust").await;
    let other = Shop::new(&t, "adjust-other").await;
    let (vendor, owner) = approved(&t, &shop, "adjust-v").await;
    let (foreign, _) = approved(&t, &other, "adjust-x").await;
    let input = |amount: i64, reason: &str| json!({ "i": { "vendorId": vendor.to_string(), "currency": "SAR", "amountMinor": amount, "reason": reason } });

    let r = run(
        &t,
        &shop.admin,
        ADJUST,
        input(2_500, "Goodwill for a late payout"),
    )
    .await;
    assert_eq!(
        r["vendorLedgerAdjust"]["entry"],
        json!({ "kind": "ADJUSTMENT", "amount": { "amountMinor": 2_500 }, "balanceAfter": { "amountMinor": 2_500 }, "reason": "Goodwill for a late payout" })
    );
    let r = run(
        &t,
        &shop.admin,
        ADJUST,
        input(-500, "Damaged listing photos"),
    )
    .await;
    assert_eq!(
        r["vendorLedgerAdjust"]["entry"]["balanceAfter"]["amountMinor"],
        2_000
    );

    for (vars, code) in [
        (input(0, "Nothing"), "INVALID_AMOUNT"),
        (input(1_000_000_000_001, "Too much"), "INVALID_AMOUNT"),
        (input(100, "  "), "INVALID_TEXT"),
        (input(100, &"x".repeat(501)), "INVALID_TEXT"),
        (
            json!({ "i": { "vendorId": vendor.to_string(), "currency": "XXQ", "amountMinor": 100, "reason": "x" } }),
            "UNKNOWN_CURRENCY",
        ),
        (
            json!({ "i": { "vendorId": foreign.to_string(), "currency": "SAR", "amountMinor": 100, "reason": "x" } }),
            "NOT_FOUND",
        ),
    ] {
        let r = run(&t, &shop.admin, ADJUST, vars).await;
        assert_eq!(
            r["vendorLedgerAdjust"]["userErrors"][0]["code"], code,
            "{r}"
        );
    }
    // Only staff adjust: not the vendor's own owner.
    let r = raw(
        &t,
        &shop.acting(owner, vendor, VendorRole::Owner),
        ADJUST,
        input(100_000, "Mine"),
    )
    .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
    let seen = money(&t, &shop.admin, vendor).await;
    assert_eq!(balance(&seen), (2_000, 2_000, 0));
    assert_eq!(seen["ledger"]["totalCount"], 2);
}

#[tokio::test]
async fn racing_events_keep_every_ledger_continuous_and_entries_cannot_be_rewritten() {
    let t = test_db().await;
    let shop = Shop::new(&t, "race-ledger").await;
    let tenant = shop.info.id;
    let (vendor, _) = approved(&t, &shop, "race-ledger-v").await;
    let product = ProductBuilder::new("tea").create(&t, &shop.admin).await.id;
    rule(&t, &shop, json!({ "name": "Default", "method": "PERCENTAGE", "scope": "TENANT", "rateBasisPoints": 1000 })).await;
    let orders: Vec<Uuid> = (0..16).map(|_| Uuid::now_v7()).collect();
    let events: Vec<Event> = orders
        .iter()
        .map(|o| {
            captured(
                tenant,
                Utc::now(),
                vec![part(*o, vendor, 0, &[(product.into(), 1, 1_000, 0)])],
            )
        })
        .collect();
    let consumers = vendors::Vendors::consumers();
    let inbox = Inbox::of("vendors");
    let tasks = events.iter().map(|e| async {
        // Each event delivered twice at once: once takes effect.
        let (x, y) = tokio::join!(
            inbox.apply(t.db(), &consumers, e),
            inbox.apply(t.db(), &consumers, e)
        );
        [x, y]
    });
    let outcomes = futures_util::future::join_all(tasks).await;
    let now = outcomes
        .iter()
        .flatten()
        .filter(|o| matches!(o, Ok(Applied::Now)))
        .count();
    assert_eq!(now, 16, "{outcomes:?}");
    // Then refunds of half of them race with each other.
    let refunds: Vec<Event> = orders
        .iter()
        .take(8)
        .map(|o| refunded(tenant, &[(*o, Some(vendor), 400)]))
        .collect();
    let done =
        futures_util::future::join_all(refunds.iter().map(|e| inbox.apply(t.db(), &consumers, e)))
            .await;
    assert!(
        done.iter().all(|d| matches!(d, Ok(Applied::Now))),
        "{done:?}"
    );
    let seen = money(&t, &shop.admin, vendor).await;
    // 16 x (1 000 - 100) - 8 x (400 - 40).
    assert_eq!(balance(&seen).0, 16 * 900 - 8 * 360);
    assert_eq!(seen["ledger"]["totalCount"], 16 * 2 + 8 * 2);
    assert_eq!(mismatches(&t, tenant).await, 0);

    // The ledger is append-only for the application role too.
    let rewrite = t
        .db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl as _;
            diesel::sql_query(
                "UPDATE vendors.ledger_entries SET amount = amount + 1 WHERE kind = 'SALE'",
            )
            .execute(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await;
    assert!(rewrite.is_err(), "an entry was rewritten");
    let forged = t
        .db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl as _;
            diesel::sql_query(
                "INSERT INTO vendors.ledger_entries (tenant_id, id, vendor_id, currency, seq, kind, amount, balance, reason)
                 SELECT tenant_id, gen_random_uuid(), vendor_id, currency, entries + 1, 'ADJUSTMENT', 100, balance + 999, 'forged'
                 FROM vendors.balances",
            )
            .execute(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await;
    assert!(
        forged.is_err(),
        "an entry that does not continue its ledger was written"
    );
    assert_eq!(mismatches(&t, tenant).await, 0);
}
