//! Vendors' analytics from orders' events: orders, units, sales, commission, refunds, net,
//! cancellations and on-time shipments per day and month, for the vendor's team and staff only;
//! the marketplace's top vendors for staff; each event counted once.

use crate::common::{Shop, approved, raw, run, test_db};
use crate::ledger::{captured, part, refunded};
use crate::ratings::apply;
use chrono::{DateTime, Duration, Utc};
use cityos_core::VendorRole;
use cityos_core::ids::{EventId, TenantId, VendorId};
use cityos_db::inbox::Applied;
use cityos_db::outbox::Event;
use serde_json::{Value, json};
use uuid::Uuid;

fn at(tenant: TenantId, topic: &str, when: DateTime<Utc>, payload: Value) -> Event {
    Event {
        id: EventId::new(),
        source: "orders".into(),
        tenant_id: tenant,
        topic: topic.into(),
        aggregate_id: None,
        payload,
        created_at: when,
        attempt: 1,
    }
}

/// `order.placed` as orders writes it: one vendor order per (vendor order, vendor, units).
pub fn placed(
    tenant: TenantId,
    order: Uuid,
    when: DateTime<Utc>,
    parts: &[(Uuid, Option<VendorId>, i32)],
) -> Event {
    at(
        tenant,
        "order.placed",
        when,
        json!({
            "orderId": order, "number": 1, "currency": "SAR", "total": 0,
            "vendorOrders": parts.iter().map(|(id, v, _)| json!({ "id": id, "vendor_id": v, "total": 0 })).collect::<Vec<_>>(),
            "lines": parts.iter().map(|(id, _, units)| json!({ "vendorOrderId": id, "quantity": units, "productId": Uuid::now_v7(), "variantId": Uuid::now_v7(), "total": 0 })).collect::<Vec<_>>(),
        }),
    )
}

const STATS: &str = "query($id: ID!, $p: AnalyticsPeriod!, $from: NaiveDate!, $to: NaiveDate!) {
    vendor(id: $id) { analytics(period: $p, from: $from, to: $to) { start orders units
        grossSales { amountMinor } commission { amountMinor } refunds { amountMinor } netSales { amountMinor }
        cancellationRate onTimeShipmentRate averageRating } } }";

#[tokio::test]
async fn analytics_count_each_event_once_per_day_and_month_for_the_vendor_and_staff_only() {
    let t = test_db().await;
    let shop = Shop::new(&t, "stats").await;
    let tenant = shop.info.id;
    let (a, a_owner) = approved(&t, &shop, "stats-a").await;
    let (b, b_owner) = approved(&t, &shop, "stats-b").await;
    run(&t, &shop.admin, "mutation { commissionRuleCreate(input: { name: \"Default\", method: PERCENTAGE, scope: TENANT, rateBasisPoints: 1000, validFrom: \"2000-01-01T00:00:00Z\" }) { userErrors { code } } }", json!({})).await;
    let team_a = shop.acting(a_owner, a, VendorRole::Staff);
    let placed_at = Utc::now() - Duration::days(5);
    // Three vendor orders of A placed five days ago (one shared with B), one of them cancelled.
    let (o1, o2, o3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (a1, a2, a3, b1) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let first = placed(
        tenant,
        o1,
        placed_at,
        &[
            (a1, Some(a), 2),
            (b1, Some(b), 1),
            (Uuid::now_v7(), None, 4),
        ],
    );
    assert_eq!(apply(&t, &first).await, Applied::Now);
    assert_eq!(apply(&t, &first).await, Applied::Before);
    apply(&t, &placed(tenant, o2, placed_at, &[(a2, Some(a), 1)])).await;
    apply(&t, &placed(tenant, o3, placed_at, &[(a3, Some(a), 3)])).await;
    // a1 and a2 paid (10 000 and 5 000), a1 shipped the next day (on time: 2 handling days), a2
    // four days later (late); o3 cancelled.
    apply(
        &t,
        &captured(
            tenant,
            placed_at,
            vec![
                part(a1, a, 0, &[(Uuid::now_v7(), 2, 10_000, 0)]),
                part(b1, b, 0, &[(Uuid::now_v7(), 1, 30_000, 0)]),
            ],
        ),
    )
    .await;
    apply(
        &t,
        &captured(
            tenant,
            placed_at,
            vec![part(a2, a, 0, &[(Uuid::now_v7(), 1, 5_000, 0)])],
        ),
    )
    .await;
    let shipped = |vo: Uuid, when| {
        at(
            tenant,
            "fulfillment.created",
            when,
            json!({ "orderId": o1, "vendorOrderId": vo, "vendorId": a, "fulfillmentId": Uuid::now_v7(), "carrier": "SMSA", "trackingNumber": "T" }),
        )
    };
    apply(&t, &shipped(a1, placed_at + Duration::days(1))).await;
    apply(&t, &shipped(a2, placed_at + Duration::days(4))).await;
    let cancel = at(
        tenant,
        "order.cancelled",
        Utc::now(),
        json!({ "orderId": o3, "number": 3, "from": "PENDING", "to": "CANCELLED", "reason": null }),
    );
    apply(&t, &cancel).await;
    apply(&t, &cancel).await;
    // A refund today of half of a2.
    apply(&t, &refunded(tenant, &[(a2, Some(a), 2_500)])).await;
    let review = crate::ratings::review_changed(tenant, Uuid::now_v7(), Some(a), 4, true, 1);
    apply(&t, &review).await;

    let vars = |p: &str| json!({ "id": a.to_string(), "p": p, "from": (placed_at - Duration::days(1)).date_naive(), "to": Utc::now().date_naive() });
    let days = run(&t, &team_a, STATS, vars("DAY")).await["vendor"]["analytics"].clone();
    let days = days.as_array().expect("days").clone();
    assert_eq!(
        days.len(),
        2,
        "the day of placement and today's refund: {days:?}"
    );
    let d = &days[0];
    assert_eq!(
        (d["orders"].clone(), d["units"].clone()),
        (json!(3), json!(6))
    );
    assert_eq!(d["grossSales"]["amountMinor"], 15_000);
    assert_eq!(d["commission"]["amountMinor"], 1_500);
    assert_eq!(d["netSales"]["amountMinor"], 13_500);
    assert_eq!(d["cancellationRate"], json!(0.3333));
    assert_eq!(d["onTimeShipmentRate"], json!(0.5));
    assert_eq!(d["averageRating"], json!(4.0));
    // Half of a2 refunded today, with half its commission back.
    assert_eq!(days[1]["refunds"]["amountMinor"], 2_500);
    assert_eq!(days[1]["netSales"]["amountMinor"], -2_500 + 250);
    assert_eq!(days[1]["cancellationRate"], Value::Null);
    // Months sum the days (both fall in one month unless the month turned in between).
    let months = run(&t, &shop.admin, STATS, vars("MONTH")).await["vendor"]["analytics"].clone();
    let net: i64 = months
        .as_array()
        .expect("months")
        .iter()
        .map(|m| m["netSales"]["amountMinor"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(net, 13_500 - 2_250);

    // Another vendor's team, a customer and the storefront see none of it.
    let team_b = shop.acting(b_owner, b, VendorRole::Owner);
    assert_eq!(
        run(&t, &team_b, STATS, vars("DAY")).await["vendor"]["analytics"],
        Value::Null
    );
    assert_eq!(
        run(&t, &shop.guest(), STATS, vars("DAY")).await["vendor"]["analytics"],
        Value::Null
    );
    // A range backwards or too long is refused.
    let r = raw(
        &t,
        &team_a,
        STATS,
        json!({ "id": a.to_string(), "p": "DAY", "from": "2026-02-01", "to": "2026-01-01" }),
    )
    .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{r}"
    );

    // Staff see the marketplace's best sellers by net sales.
    let top = "query($from: NaiveDate!, $to: NaiveDate!) { topVendors(currency: \"SAR\", from: $from, to: $to) {
        vendor { id } stats { netSales { amountMinor } orders } } }";
    let range = json!({ "from": (placed_at - Duration::days(1)).date_naive(), "to": Utc::now().date_naive() });
    let r = run(&t, &shop.admin, top, range.clone()).await;
    assert_eq!(
        r["topVendors"],
        json!([
            { "vendor": { "id": b.to_string() }, "stats": { "netSales": { "amountMinor": 27_000 }, "orders": 1 } },
            { "vendor": { "id": a.to_string() }, "stats": { "netSales": { "amountMinor": 11_250 }, "orders": 3 } },
        ])
    );
    let r = raw(&t, &team_a, top, range).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{r}");
}
