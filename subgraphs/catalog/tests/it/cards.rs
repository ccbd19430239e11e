//! Product cards: the stored listing document always equals a fresh build from its source rows,
//! whatever writes, in whatever interleaving.

use crate::common::{product, tenant, test_db, variant};
use catalog::ids::VariantId;
use catalog::price_lists::{self, ListEntry, NewPriceList, NewTier, PriceListChanges};
use catalog::pricing::PriceListKind;
use catalog::products::variants::{self, NewVariant};
use chrono::{Duration, Utc};
use cityos_core::TenantInfo;
use cityos_db::TenantTx;
use cityos_testkit::TestDb;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use std::sync::Arc;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Cards of `tenant` that differ from a build of their products' current rows, and products
/// without a card.
async fn stale_cards(t: &TestDb, tenant: &TenantInfo) -> (i64, i64) {
    t.db()
        .tenant_tx(tenant.id, async |tx| {
            let stale: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM catalog.product_cards c
                 JOIN catalog.build_cards(ARRAY(SELECT id FROM catalog.products)) b
                   ON b.tenant_id = c.tenant_id AND b.product_id = c.product_id
                 WHERE c.card::jsonb <> b.card",
            )
            .get_result(tx.conn())
            .await?;
            let missing: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM catalog.products p
                 WHERE NOT EXISTS (SELECT 1 FROM catalog.product_cards c WHERE c.product_id = p.id)",
            )
            .get_result(tx.conn())
            .await?;
            Ok::<_, cityos_core::ApiError>((stale.n, missing.n))
        })
        .await
        .expect("card check")
}

/// Sets a variant's SAR base price with a plain UPDATE on the caller's connection.
async fn set_sar(tx: &mut TenantTx<'_>, variant: VariantId, amount: i64) {
    diesel::sql_query(
        "UPDATE catalog.variant_prices SET amount = $2 WHERE variant_id = $1 AND currency = 'SAR'",
    )
    .bind::<diesel::sql_types::Uuid, _>(variant)
    .bind::<BigInt, _>(amount)
    .execute(tx.conn())
    .await
    .expect("price update");
}

#[tokio::test]
async fn a_rebuild_waiting_for_another_writer_sees_its_change() {
    let t = Arc::new(test_db().await);
    let (info, admin) = tenant(&t, "cards-wait").await;
    let oud = product(&t, &admin, "oud").await;
    variants::create_option(t.db(), &admin, oud, "Size", vec!["S".into(), "L".into()])
        .await
        .expect("option");
    let mut ids = Vec::new();
    for size in ["S", "L"] {
        let new = NewVariant {
            options: vec![("Size".into(), size.into())],
            ..variant(oud, &format!("OUD-{size}"), &[("SAR", 10_000)])
        };
        ids.push(
            variants::create_variant(t.db(), &admin, new)
                .await
                .expect("variant")
                .variant
                .id,
        );
    }
    // The first writer changes variant S and holds its transaction open; the second changes
    // variant L meanwhile, and its rebuild must wait and then include the first writer's price.
    let (wrote, written) = tokio::sync::oneshot::channel();
    let first = {
        let (t, s) = (t.clone(), ids[0]);
        tokio::spawn(async move {
            t.db()
                .tenant_tx(info.id, async move |tx| {
                    set_sar(tx, s, 1_111).await;
                    wrote.send(()).expect("signal");
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Ok::<_, cityos_core::ApiError>(())
                })
                .await
        })
    };
    written.await.expect("first writer");
    t.db()
        .tenant_tx(info.id, async |tx| {
            set_sar(tx, ids[1], 2_222).await;
            Ok::<_, cityos_core::ApiError>(())
        })
        .await
        .expect("second writer");
    first.await.expect("task").expect("first writer");
    assert_eq!(stale_cards(&t, &info).await, (0, 0));
    let details = variants::details_by_products(t.db(), info.id, vec![oud], None, true)
        .await
        .expect("details");
    let sar: Vec<i64> = details[&oud]
        .variants
        .iter()
        .map(|v| v.prices[0].amount)
        .collect();
    assert_eq!(sar, [1_111, 2_222]);
}

#[tokio::test]
async fn racing_writers_of_one_product_leave_a_true_card() {
    let t = Arc::new(test_db().await);
    let (info, admin) = tenant(&t, "cards").await;
    let oud = product(&t, &admin, "oud").await;
    variants::create_option(
        t.db(),
        &admin,
        oud,
        "Size",
        vec!["S".into(), "M".into(), "L".into()],
    )
    .await
    .expect("option");
    let mut ids = Vec::new();
    for size in ["S", "M", "L"] {
        let new = NewVariant {
            options: vec![("Size".into(), size.into())],
            ..variant(oud, &format!("OUD-{size}"), &[("SAR", 10_000)])
        };
        let v = variants::create_variant(t.db(), &admin, new)
            .await
            .expect("variant");
        ids.push(v.variant.id);
    }
    let new_list = |name: &str| NewPriceList {
        name: name.into(),
        kind: PriceListKind::Sale,
        customer_group_id: None,
        starts_at: None,
        ends_at: None,
    };
    let sale = price_lists::create_list(t.db(), &admin, new_list("Sale"))
        .await
        .expect("list")
        .id;
    assert_eq!(stale_cards(&t, &info).await, (0, 0));

    // 24 writers at once, each changing a different source row of the same product: base prices,
    // price-list entries, tiers and the list's window. Each rebuild that ran on a snapshot without
    // another writer's change must be followed by one with it.
    let mut tasks = Vec::new();
    for i in 0..24_i64 {
        let (t, admin, variant) = (t.clone(), admin.clone(), ids[(i % 3) as usize]);
        tasks.push(tokio::spawn(async move {
            match i % 4 {
                0 => variants::set_prices(t.db(), &admin, variant, vec![("SAR".into(), 9_000 + i)])
                    .await
                    .map(drop),
                1 => {
                    let entry = ListEntry {
                        variant_id: variant,
                        prices: vec![("SAR".into(), 8_000 + i), ("USD".into(), 2_000 + i)],
                    };
                    price_lists::set_list_prices(t.db(), &admin, sale, vec![entry])
                        .await
                        .map(drop)
                }
                2 => {
                    let tier = NewTier {
                        product_id: oud,
                        variant_id: Some(variant),
                        currency: "SAR".into(),
                        customer_group_id: None,
                        min_quantity: i32::try_from(10 * (i + 1)).expect("small"),
                        max_quantity: Some(i32::try_from(10 * (i + 1) + 5).expect("small")),
                        unit_amount: Some(5_000),
                        percent_off: None,
                    };
                    price_lists::create_tier(t.db(), &admin, tier)
                        .await
                        .map(drop)
                }
                _ => {
                    let changes = PriceListChanges {
                        ends_at: Some(Some(Utc::now() + Duration::days(i))),
                        ..PriceListChanges::default()
                    };
                    price_lists::update_list(t.db(), &admin, sale, changes)
                        .await
                        .map(drop)
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("write");
    }
    assert_eq!(stale_cards(&t, &info).await, (0, 0));

    // Deleting rows, and rows deleted by cascade, rebuild too.
    let tiers = variants::details_by_products(t.db(), info.id, vec![oud], None, true)
        .await
        .expect("details")[&oud]
        .variants[0]
        .tiers
        .clone();
    assert!(!tiers.is_empty());
    price_lists::delete_tier(t.db(), &admin, tiers[0].id)
        .await
        .expect("delete tier");
    price_lists::remove_list_prices(t.db(), &admin, sale, vec![ids[0]])
        .await
        .expect("remove entry");
    assert_eq!(stale_cards(&t, &info).await, (0, 0));
    price_lists::delete_list(t.db(), &admin, sale)
        .await
        .expect("delete list");
    let details = variants::details_by_products(t.db(), info.id, vec![oud], None, true)
        .await
        .expect("details");
    assert!(
        details[&oud]
            .variants
            .iter()
            .all(|v| v.list_prices.is_empty())
    );
    assert_eq!(stale_cards(&t, &info).await, (0, 0));

    // Another tenant's products get their own cards; neither tenant sees the other's, and no
    // card is visible without a tenant.
    let (other, other_admin) = tenant(&t, "cards-b").await;
    product(&t, &other_admin, "oud").await;
    assert_eq!(stale_cards(&t, &other).await, (0, 0));
    assert_eq!(t.visible_rows("catalog.product_cards", None).await, 0);
    assert_eq!(
        t.visible_rows("catalog.product_cards", Some(info.id)).await,
        1
    );
    assert_eq!(
        t.visible_rows("catalog.product_cards", Some(other.id))
            .await,
        1
    );
    let seen = variants::details_by_products(t.db(), other.id, vec![oud], None, true)
        .await
        .expect("details");
    assert!(seen.is_empty());
}
