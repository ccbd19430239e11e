//! The search rows and the SQL price follow their sources: the pricing function's price, the
//! products' changes, the tenant, the page size.

use super::facets::{FACETS, suggested};
use super::{CREATE, VARIANT, handles, run, shop, storefront};
use crate::common::{tenant, test_db};
use catalog::ids::ProductId;
use cityos_core::Role;
use cityos_testkit::user_context;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

#[tokio::test]
async fn the_sql_price_is_the_pricing_functions_price() {
    let t = test_db().await;
    let shop = shop(&t, "search-price").await;
    // A wholesale customer: a contract price on the rug (OVERRIDE, above base), 10% off the oud
    // from one unit, and a group sale that undercuts the rose.
    let buyer = crate::common::customer(&t, &shop.info, "buyer@search.test").await;
    let admin = &shop.admin;
    let group = run(
        &t,
        admin,
        "mutation { customerGroupCreate(input: { name: \"Wholesale\" }) { customerGroup { id } } }",
        json!({}),
    )
    .await["customerGroupCreate"]["customerGroup"]["id"]
        .clone();
    run(&t, admin, "mutation($g: ID!, $c: ID!) { customerGroupMembersAdd(input: { groupId: $g, customerIds: [$c] }) { userErrors { code } } }",
        json!({ "g": group, "c": buyer.to_string() })).await;
    let variant_of = async |handle: &str| {
        run(
            &t,
            admin,
            "query($p: ID!) { product(id: $p) { variants { id } } }",
            json!({ "p": shop.id(handle) }),
        )
        .await["product"]["variants"][0]["id"]
            .clone()
    };
    for (name, kind, handle, amount) in [
        ("Contract", "OVERRIDE", "rug", 13_000),
        ("Members", "SALE", "rose", 7_000),
    ] {
        let list = run(&t, admin, "mutation($i: PriceListCreateInput!) { priceListCreate(input: $i) { priceList { id } } }",
            json!({ "i": { "name": name, "kind": kind, "customerGroupId": group } })).await["priceListCreate"]["priceList"]["id"].clone();
        run(&t, admin, "mutation($i: PriceListPricesSetInput!) { priceListPricesSet(input: $i) { userErrors { code } } }",
            json!({ "i": { "priceListId": list, "entries": [{ "variantId": variant_of(handle).await, "prices": [{ "currency": "SAR", "amountMinor": amount }] }] } })).await;
    }
    run(&t, admin, "mutation($i: VolumeTierCreateInput!) { volumeTierCreate(input: $i) { userErrors { code } } }",
        json!({ "i": { "productId": shop.id("oud"), "currency": "SAR", "customerGroupId": group, "minQuantity": 1, "percentOff": 10.0 } })).await;

    let member = user_context(Some(&shop.info), buyer, &[Role::Customer]);
    for ctx in [storefront(&shop.info), member] {
        let r = run(&t, &ctx, "{ products(filter: { currency: \"SAR\" }, sort: { key: PRICE }) { edges { node { handle priceRange(currency: \"SAR\") { min { amountMinor } } } } } }", json!({})).await;
        let listed: Vec<(String, i64)> = r["products"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    e["node"]["handle"].as_str().unwrap().to_owned(),
                    e["node"]["priceRange"]["min"]["amountMinor"]
                        .as_i64()
                        .unwrap(),
                )
            })
            .collect();
        // Sorted by the pricing function's price...
        assert!(listed.windows(2).all(|w| w[0].1 <= w[1].1), "{listed:?}");
        // ...and each product is found by exactly its own price.
        for (handle, price) in &listed {
            let found = handles(
                &t,
                &ctx,
                json!({ "currency": "SAR", "minPrice": price, "maxPrice": price }),
                Value::Null,
            )
            .await;
            assert!(found.contains(handle), "{handle} at {price}: {found:?}");
        }
        if ctx.user_id().is_ok() {
            let prices: HashMap<String, i64> = listed.into_iter().collect();
            assert_eq!(prices["rug"], 13_000);
            assert_eq!(prices["oud"], 22_500);
            assert_eq!(prices["rose"], 7_000);
        }
    }
}

#[tokio::test]
async fn search_rows_follow_their_sources_and_stay_in_their_tenant() {
    let t = Arc::new(test_db().await);
    let shop = shop(&t, "search-follow").await;
    let guest = storefront(&shop.info);
    let find = async |q: &str| handles(&t, &guest, json!({ "query": q }), Value::Null).await;
    // Rename, retag, a new SKU, a removed translation: each shows at once.
    run(&t, &shop.admin, "mutation($p: ID!) { productUpdate(input: { id: $p, title: \"Amber Candle\", tags: [\"amber\"] }) { userErrors { code } } }",
        json!({ "p": shop.id("candle") })).await;
    assert_eq!(find("musk").await, Vec::<String>::new());
    assert_eq!(find("amber").await, ["candle"]);
    // A new variant's SKU: on a lamp with sizes.
    let input = json!({ "title": "Brass Lamp", "handle": "lamp", "status": "PUBLISHED" });
    let lamp =
        run(&t, &shop.admin, CREATE, json!({ "i": input })).await["productCreate"]["product"]["id"]
            .as_str()
            .expect("lamp")
            .to_owned();
    run(&t, &shop.admin, "mutation($p: ID!) { productOptionCreate(input: { productId: $p, name: \"Size\", values: [\"S\", \"L\"] }) { userErrors { code } } }",
        json!({ "p": lamp })).await;
    let sized = |size: &str| json!({ "i": { "productId": lamp, "sku": format!("LAMP-{size}"), "options": [{ "name": "Size", "value": size }] } });
    let r = run(&t, &shop.admin, VARIANT, sized("S")).await;
    assert_eq!(r["productVariantCreate"]["userErrors"], json!([]));
    assert_eq!(find("LAMP-S").await, ["lamp"]);
    run(&t, &shop.admin, "mutation($p: ID!) { productTranslationSet(input: { productId: $p, locale: \"fr\", title: \"Tapis de prière\" }) { userErrors { code } } }",
        json!({ "p": shop.id("rug") })).await;
    assert_eq!(find("tapis").await, ["rug"]);
    run(&t, &shop.admin, "mutation($p: ID!) { productTranslationRemove(input: { productId: $p, locale: \"fr\" }) { userErrors { code } } }",
        json!({ "p": shop.id("rug") })).await;
    assert_eq!(find("tapis").await, Vec::<String>::new());

    // Two writers of one product at once: a rename held open while a SKU is added; the search
    // row ends with both.
    let lamp_id: ProductId = lamp.parse().expect("uuid");
    let (wrote, written) = tokio::sync::oneshot::channel();
    let first = {
        let (t, tenant) = (t.clone(), shop.info.id);
        tokio::spawn(async move {
            t.db()
                .tenant_tx(tenant, async move |tx| {
                    use diesel_async::RunQueryDsl;
                    diesel::sql_query(
                        "UPDATE catalog.products SET title = 'Velvet Lamp' WHERE id = $1",
                    )
                    .bind::<diesel::sql_types::Uuid, _>(lamp_id)
                    .execute(tx.conn())
                    .await?;
                    wrote.send(()).expect("signal");
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Ok::<_, cityos_core::ApiError>(())
                })
                .await
        })
    };
    written.await.expect("first writer");
    // (Straight to the table: the API's variant create would wait on the product's row first.)
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "INSERT INTO catalog.product_variants (tenant_id, id, product_id, sku, title, option_values)
                 VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'LAMP-L', 'L', '{\"Size\": \"L\"}')",
            )
            .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
            .bind::<diesel::sql_types::Uuid, _>(lamp_id)
            .execute(tx.conn())
            .await?;
            Ok::<_, cityos_core::ApiError>(())
        })
        .await
        .expect("second writer");
    first.await.expect("task").expect("first writer");
    assert_eq!(find("velvet").await, ["lamp"]);
    assert_eq!(find("LAMP-L").await, ["lamp"]);

    // Isolation: no search rows without a tenant, none of another tenant's, no results there.
    assert_eq!(t.visible_rows("catalog.product_search", None).await, 0);
    assert_eq!(
        t.visible_rows("catalog.product_search", Some(shop.info.id))
            .await,
        6
    );
    let (other, _) = tenant(&t, "search-other").await;
    assert_eq!(
        t.visible_rows("catalog.product_search", Some(other.id))
            .await,
        0
    );
    let stranger = storefront(&other);
    assert_eq!(
        handles(&t, &stranger, json!({ "query": "oud" }), Value::Null).await,
        Vec::<String>::new()
    );
    assert_eq!(suggested(&t, &stranger, "oud").await, Vec::<String>::new());
    let r = run(&t, &stranger, FACETS, json!({ "f": {} })).await;
    assert_eq!(r["products"]["facets"]["tags"], json!([]));
    // The other tenant's filter by this tenant's category finds nothing either.
    assert_eq!(
        handles(
            &t,
            &stranger,
            json!({ "categoryId": shop.home }),
            Value::Null
        )
        .await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn search_work_does_not_grow_with_the_page() {
    let t = test_db().await;
    let shop = shop(&t, "search-trips").await;
    for i in 0..30 {
        let input = json!({ "title": format!("Gift box {i}"), "handle": format!("box-{i}"), "tags": ["gift"], "status": "PUBLISHED" });
        let id = run(&t, &shop.admin, CREATE, json!({ "i": input })).await["productCreate"]["product"]["id"].clone();
        run(&t, &shop.admin, VARIANT, json!({ "i": { "productId": id, "sku": format!("BOX-{i}"), "prices": [{ "currency": "SAR", "amountMinor": 1000 + i }] } })).await;
    }
    let guest = storefront(&shop.info);
    let q = "query($n: Int!) { products(first: $n, filter: { query: \"gift\", currency: \"SAR\", inStock: false }, sort: { key: PRICE }) {
        totalCount edges { node { handle priceRange(currency: \"SAR\") { min { amount } } variants { sku inStock } } }
        facets { categories { category { name } count } collections { collection { title } count }
            tags { tag count } inStock vendors { count } price { min { amount } } } } }";
    let mut trips = Vec::new();
    for n in [3, 30] {
        let before = t.db().round_trips();
        let r = run(&t, &guest, q, json!({ "n": n })).await;
        assert_eq!(r["products"]["edges"].as_array().map(Vec::len), Some(n));
        assert_eq!(r["products"]["totalCount"], 33);
        trips.push(t.db().round_trips() - before);
    }
    // BEGIN with the tenant, the page with its count, cards, stock and facets (with the categories
    // and collections counted), COMMIT.
    assert_eq!(trips, [3, 3]);
}
