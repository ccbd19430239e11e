//! Stock: holds against availability, sales that take free units only, low-stock alerts, transfers
//! that move stock once, staff adjustments, the storefront's view, and tenant isolation.

use crate::common::{hold, product, tenant, test_db, variant};
use catalog::errors::CatalogErrorCode as Code;
use catalog::ids::{LocationId, TenantId, VariantId};
use catalog::inventory::{self, Adjustment, MovementReason, StockError, TransferStatus};
use catalog::products::variants;
use catalog::{Catalog, build_schema};
use chrono::Duration;
use cityos_core::{Actor, ApiError, RequestContext, TenantInfo};
use cityos_testkit::{TestDb, context, refusal};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::json;

struct Store {
    info: TenantInfo,
    admin: RequestContext,
    variant: VariantId,
    warehouse: LocationId,
    shop: LocationId,
}

/// A variant with 6 units in the warehouse and 4 in the shop.
async fn store(t: &TestDb, slug: &str) -> Store {
    let (info, admin) = tenant(t, slug).await;
    let p = product(t, &admin, "oud").await;
    let variant = variants::create_variant(t.db(), &admin, variant(p, "OUD-1", &[("SAR", 10_000)]))
        .await
        .expect("variant")
        .variant
        .id;
    let mut locations = Vec::new();
    for (name, units) in [("Warehouse", 6), ("Shop", 4)] {
        let id = inventory::create_location(t.db(), &admin, name, None)
            .await
            .expect("location")
            .id;
        adjust(t, &admin, variant, id, units).await.expect("stock");
        locations.push(id);
    }
    Store {
        info,
        admin,
        variant,
        warehouse: locations[0],
        shop: locations[1],
    }
}

async fn adjust(
    t: &TestDb,
    admin: &RequestContext,
    variant_id: VariantId,
    location_id: LocationId,
    delta: i32,
) -> catalog::errors::Outcome<inventory::LevelView> {
    let a = Adjustment {
        variant_id,
        location_id,
        delta: Some(delta),
        on_hand: None,
        reason: if delta > 0 {
            MovementReason::Received
        } else {
            MovementReason::Damaged
        },
        note: "test".into(),
    };
    inventory::adjust(t.db(), admin, a).await
}

/// Ends `owner`'s holds.
async fn release(t: &TestDb, tenant: TenantId, owner: &str) {
    use catalog::schema::stock_reservations as r;
    let owner = owner.to_owned();
    t.db()
        .tenant_tx(tenant, async move |tx| {
            diesel::update(r::table.filter(r::owner.eq(owner)))
                .set(r::status.eq("RELEASED"))
                .execute(tx.conn())
                .await
                .map_err(ApiError::from)
        })
        .await
        .expect("release");
}

/// Sells `quantity` units of a variant, as checkout does.
async fn sell(
    t: &TestDb,
    tenant: TenantId,
    variant: VariantId,
    quantity: i32,
) -> Result<Vec<inventory::Taken>, StockError> {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            inventory::sell(tx, variant, quantity, "order 1", None).await
        })
        .await
}

/// (on hand, reserved, available) summed over locations.
async fn totals(t: &TestDb, tenant: TenantId, variant: VariantId) -> (i64, i64, i64) {
    let levels = inventory::levels_by_variants(t.db(), tenant, vec![variant])
        .await
        .expect("levels")
        .remove(&variant)
        .unwrap_or_default();
    levels.iter().fold((0, 0, 0), |(h, r, a), l| {
        (
            h + i64::from(l.level.on_hand),
            r + l.reserved,
            a + l.available_units(),
        )
    })
}

async fn outbox(t: &TestDb, tenant: TenantId, topic: &str) -> i64 {
    use catalog::schema::outbox;
    let topic = topic.to_owned();
    t.db()
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, ApiError>(
                outbox::table
                    .filter(outbox::topic.eq(topic))
                    .count()
                    .get_result(tx.conn())
                    .await?,
            )
        })
        .await
        .expect("outbox")
}

#[tokio::test]
async fn holds_count_against_availability_until_they_expire_or_end() {
    let t = test_db().await;
    let s = store(&t, "holds").await;
    let tenant = s.info.id;
    hold(
        &t,
        tenant,
        "cart:a",
        (s.variant, s.warehouse),
        5,
        Duration::minutes(5),
    )
    .await;
    assert_eq!(totals(&t, tenant, s.variant).await, (10, 5, 5));
    // A sale takes only free units.
    assert!(matches!(
        sell(&t, tenant, s.variant, 6).await,
        Err(StockError::Insufficient { available: 5, .. })
    ));
    release(&t, tenant, "cart:a").await;
    assert_eq!(totals(&t, tenant, s.variant).await, (10, 0, 10));
    // A short hold stops counting once it expires.
    hold(
        &t,
        tenant,
        "cart:c",
        (s.variant, s.shop),
        4,
        Duration::milliseconds(300),
    )
    .await;
    assert_eq!(totals(&t, tenant, s.variant).await, (10, 4, 6));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(totals(&t, tenant, s.variant).await, (10, 0, 10));
}

#[tokio::test]
async fn low_stock_alerts_once_per_dip() {
    let t = test_db().await;
    let s = store(&t, "alerts").await;
    let (tenant, v, w) = (s.info.id, s.variant, s.warehouse);
    inventory::set_threshold(t.db(), &s.admin, v, w, Some(3))
        .await
        .expect("threshold");
    assert_eq!(outbox(&t, tenant, "stock.low").await, 0);
    for (delta, alerts) in [(-2, 0), (-1, 1), (-1, 1), (-1, 1), (5, 1), (-4, 2)] {
        adjust(&t, &s.admin, v, w, delta).await.expect("adjust");
        assert_eq!(
            outbox(&t, tenant, "stock.low").await,
            alerts,
            "after {delta}"
        );
    }
    // A sale that crosses the threshold alerts too.
    inventory::set_threshold(t.db(), &s.admin, v, s.shop, Some(1))
        .await
        .expect("threshold");
    sell(&t, tenant, v, 4).await.expect("sold");
    assert_eq!(outbox(&t, tenant, "stock.low").await, 3);
}

#[tokio::test]
async fn transfers_move_stock_exactly_once() {
    let t = test_db().await;
    let s = store(&t, "transfers").await;
    let (tenant, v) = (s.info.id, s.variant);
    let transfer =
        inventory::request_transfer(t.db(), &s.admin, s.warehouse, s.shop, vec![(v, 5)], None)
            .await
            .expect("request")
            .transfer
            .id;
    // Units reserved at the source cannot leave on a transfer.
    hold(
        &t,
        tenant,
        "cart:r",
        (v, s.warehouse),
        6,
        Duration::minutes(5),
    )
    .await;
    assert_eq!(
        refusal(
            inventory::advance_transfer(t.db(), &s.admin, transfer, TransferStatus::Shipped).await
        ),
        Code::InsufficientStock
    );
    release(&t, tenant, "cart:r").await;
    assert_eq!(
        refusal(
            inventory::advance_transfer(t.db(), &s.admin, transfer, TransferStatus::Received).await
        ),
        Code::InvalidTransition
    );
    inventory::advance_transfer(t.db(), &s.admin, transfer, TransferStatus::Shipped)
        .await
        .expect("ship");
    assert_eq!(totals(&t, tenant, v).await.0, 5, "in transit");
    // Eight racing receipts: one wins, the stock arrives once.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (db, admin) = (t.db().clone(), s.admin.clone());
        tasks.push(tokio::spawn(async move {
            inventory::advance_transfer(&db, &admin, transfer, TransferStatus::Received)
                .await
                .is_ok()
        }));
    }
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.expect("task"));
    }
    assert_eq!(won, 1);
    let levels = inventory::levels_by_variants(t.db(), tenant, vec![v])
        .await
        .expect("levels")
        .remove(&v)
        .unwrap_or_default();
    let at = |loc| {
        levels
            .iter()
            .find(|l| l.level.location_id == loc)
            .map(|l| l.level.on_hand)
    };
    assert_eq!((at(s.warehouse), at(s.shop)), (Some(1), Some(9)));
    assert_eq!(
        refusal(
            inventory::advance_transfer(t.db(), &s.admin, transfer, TransferStatus::Cancelled)
                .await
        ),
        Code::InvalidTransition
    );
    assert_eq!(outbox(&t, tenant, "stock.transfer.received").await, 1);
    // Malformed requests.
    for (from, to, lines, code) in [
        (s.shop, s.shop, vec![(v, 1)], Code::InvalidTransfer),
        (s.shop, s.warehouse, vec![], Code::InvalidCount),
        (s.shop, s.warehouse, vec![(v, 0)], Code::InvalidQuantity),
        (
            s.shop,
            s.warehouse,
            vec![(v, 1), (v, 2)],
            Code::DuplicateVariant,
        ),
        (s.shop, LocationId::new(), vec![(v, 1)], Code::NotFound),
        (
            s.shop,
            s.warehouse,
            vec![(VariantId::new(), 1)],
            Code::NotFound,
        ),
    ] {
        assert_eq!(
            refusal(inventory::request_transfer(t.db(), &s.admin, from, to, lines, None).await),
            code
        );
    }
}

#[tokio::test]
async fn adjustments_are_checked_logged_and_visible_to_staff_only() {
    let t = test_db().await;
    let s = store(&t, "adjust").await;
    let (tenant, v, w) = (s.info.id, s.variant, s.warehouse);
    let base = Adjustment {
        variant_id: v,
        location_id: w,
        delta: Some(1),
        on_hand: None,
        reason: MovementReason::Received,
        note: String::new(),
    };
    let movements_before = t
        .visible_rows("catalog.stock_movements", Some(tenant))
        .await;
    for (a, code) in [
        (
            Adjustment {
                reason: MovementReason::Sale,
                ..base.clone()
            },
            Code::InvalidQuantity,
        ),
        (
            Adjustment {
                delta: Some(0),
                ..base.clone()
            },
            Code::InvalidQuantity,
        ),
        (
            Adjustment {
                on_hand: Some(3),
                ..base.clone()
            },
            Code::InvalidQuantity,
        ),
        (
            Adjustment {
                delta: None,
                on_hand: Some(-1),
                ..base.clone()
            },
            Code::InvalidQuantity,
        ),
        (
            Adjustment {
                delta: Some(-7),
                ..base.clone()
            },
            Code::InsufficientStock,
        ),
        (
            Adjustment {
                variant_id: VariantId::new(),
                ..base.clone()
            },
            Code::NotFound,
        ),
        (
            Adjustment {
                location_id: LocationId::new(),
                ..base.clone()
            },
            Code::NotFound,
        ),
    ] {
        assert_eq!(
            refusal(inventory::adjust(t.db(), &s.admin, a.clone()).await),
            code,
            "{a:?}"
        );
    }
    assert_eq!(
        t.visible_rows("catalog.stock_movements", Some(tenant))
            .await,
        movements_before
    );
    // A recount sets the number and logs the difference.
    let recount = Adjustment {
        delta: None,
        on_hand: Some(2),
        reason: MovementReason::Recount,
        note: "cycle count".into(),
        ..base
    };
    let level = inventory::adjust(t.db(), &s.admin, recount)
        .await
        .expect("recount");
    assert_eq!(level.level.on_hand, 2);

    // Storefronts see availability; staff see levels per location; storefronts cannot.
    hold(&t, tenant, "cart:s", (v, s.shop), 1, Duration::minutes(5)).await;
    let schema = build_schema(Some(&t.platform));
    let storefront = context(
        Some(&s.info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let q = "{ product(handle: \"oud\") { variants { availableQuantity inStock } } }";
    let r = t
        .graphql::<Catalog>(&schema, &storefront, q, json!({}))
        .await;
    assert_eq!(
        r["data"]["product"]["variants"][0],
        json!({ "availableQuantity": 5, "inStock": true })
    );
    let q = "{ product(handle: \"oud\") { variants { stockLevels { location { name } onHand reserved available lowStockThreshold } } } }";
    let r = t.graphql::<Catalog>(&schema, &s.admin, q, json!({})).await;
    let mut levels = r["data"]["product"]["variants"][0]["stockLevels"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    levels.sort_by_key(|l| l["location"]["name"].as_str().map(str::to_owned));
    assert_eq!(
        levels,
        vec![
            json!({ "location": { "name": "Shop" }, "onHand": 4, "reserved": 1, "available": 3, "lowStockThreshold": null }),
            json!({ "location": { "name": "Warehouse" }, "onHand": 2, "reserved": 0, "available": 2, "lowStockThreshold": null }),
        ],
        "{r}"
    );
    let r = t
        .graphql::<Catalog>(&schema, &storefront, q, json!({}))
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{r}"
    );
    let r = t
        .graphql::<Catalog>(
            &schema,
            &storefront,
            "mutation { stockLocationCreate(input: { name: \"Mine\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{r}"
    );
    // The adjustment mutation through GraphQL.
    let r = t
        .graphql::<Catalog>(
            &schema,
            &s.admin,
            "mutation($v: ID!, $l: ID!) { stockAdjust(input: { variantId: $v, locationId: $l, delta: 10, reason: RECEIVED, note: \"PO-7\" }) {
                stockLevel { onHand available } userErrors { code } } }",
            json!({ "v": v, "l": w }),
        )
        .await;
    assert_eq!(
        r["data"]["stockAdjust"],
        json!({ "stockLevel": { "onHand": 12, "available": 12 }, "userErrors": [] })
    );
}

#[tokio::test]
async fn stock_is_invisible_across_tenants() {
    let t = test_db().await;
    let a = store(&t, "stock-a").await;
    let b = store(&t, "stock-b").await;
    hold(
        &t,
        a.info.id,
        "cart:1",
        (a.variant, a.warehouse),
        2,
        Duration::minutes(5),
    )
    .await;
    let transfer = inventory::request_transfer(
        t.db(),
        &a.admin,
        a.warehouse,
        a.shop,
        vec![(a.variant, 1)],
        None,
    )
    .await
    .expect("transfer")
    .transfer
    .id;
    inventory::set_threshold(t.db(), &a.admin, a.variant, a.shop, Some(10))
        .await
        .expect("threshold");
    for table in [
        "catalog.stock_locations",
        "catalog.stock_levels",
        "catalog.stock_reservations",
        "catalog.stock_movements",
        "catalog.stock_transfers",
        "catalog.stock_transfer_lines",
        "catalog.outbox",
    ] {
        assert_eq!(t.visible_rows(table, None).await, 0, "{table}");
        assert!(t.visible_rows(table, Some(a.info.id)).await > 0, "{table}");
    }
    assert_eq!(
        t.visible_rows("catalog.stock_transfers", Some(b.info.id))
            .await,
        0
    );
    assert_eq!(
        t.visible_rows("catalog.stock_reservations", Some(b.info.id))
            .await,
        0
    );
    // B cannot stock, move, reserve or see A's variant, or advance A's transfer.
    assert_eq!(
        refusal(adjust(&t, &b.admin, a.variant, b.warehouse, 5).await),
        Code::NotFound
    );
    assert_eq!(
        refusal(adjust(&t, &b.admin, b.variant, a.warehouse, 5).await),
        Code::NotFound
    );
    assert_eq!(
        refusal(
            inventory::advance_transfer(t.db(), &b.admin, transfer, TransferStatus::Shipped).await
        ),
        Code::NotFound
    );
    assert!(matches!(
        sell(&t, b.info.id, a.variant, 1).await,
        Err(StockError::Insufficient { available: 0, .. })
    ));
    assert!(
        inventory::levels_by_variants(t.db(), b.info.id, vec![a.variant])
            .await
            .expect("levels")
            .is_empty()
    );
    assert_eq!(totals(&t, a.info.id, a.variant).await, (10, 2, 8));
}

#[tokio::test]
async fn a_sale_takes_free_units_most_available_location_first_and_never_reserved_ones() {
    let t = test_db().await;
    let s = store(&t, "sale").await;
    let tenant = s.info.id;
    // Another cart holds 3 of the warehouse's 6: 3 free there, 4 in the shop.
    hold(
        &t,
        tenant,
        "cart:a",
        (s.variant, s.warehouse),
        3,
        Duration::minutes(5),
    )
    .await;
    let sell = |quantity: i32| {
        let (db, variant) = (t.db().clone(), s.variant);
        async move {
            db.tenant_tx(tenant, async move |tx| {
                inventory::sell(tx, variant, quantity, "order 1", None).await
            })
            .await
        }
    };
    assert!(matches!(
        sell(8).await,
        Err(StockError::Insufficient { available: 7, .. })
    ));
    assert!(matches!(sell(0).await, Err(StockError::Invalid(_))));
    let taken = sell(5).await.expect("sold");
    let split: Vec<(LocationId, i32)> = taken.iter().map(|t| (t.location_id, t.quantity)).collect();
    assert_eq!(split, vec![(s.shop, 4), (s.warehouse, 1)]);
    // On hand 10 - 5; the reservation still holds its 3; 2 left to sell.
    assert_eq!(totals(&t, tenant, s.variant).await, (5, 3, 2));
}
