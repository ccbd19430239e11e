//! Variants, options and prices: rules, races, isolation, and the storefront listing's database
//! work, which must not grow with the page size.

use crate::common::{product, tenant, test_db, variant};
use catalog::errors::CatalogErrorCode as Code;
use catalog::ids::ProductId;
use catalog::products::variants::{self, NewVariant};
use catalog::{Catalog, build_schema};
use cityos_core::Actor;
use cityos_testkit::{context, refusal};
use serde_json::json;

#[tokio::test]
async fn variant_rules_refuse_bad_input_and_change_nothing() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "rules").await;
    let oud = product(&t, &admin, "oud").await;
    variants::create_option(
        t.db(),
        &admin,
        oud,
        "Size",
        vec!["50ml".into(), "100ml".into()],
    )
    .await
    .expect("option");
    assert_eq!(
        refusal(variants::create_option(t.db(), &admin, oud, "Size", vec!["x".into()]).await),
        Code::OptionTaken
    );
    assert_eq!(
        refusal(
            variants::create_option(t.db(), &admin, oud, "Colour", vec!["a".into(), "a".into()])
                .await
        ),
        Code::InvalidOption
    );

    let sized = |sku: &str, size: &str, prices: &[(&str, i64)]| NewVariant {
        options: vec![("Size".into(), size.into())],
        ..variant(oud, sku, prices)
    };
    variants::create_variant(
        t.db(),
        &admin,
        sized("OUD-50", "50ml", &[("SAR", 25000), ("USD", 6700)]),
    )
    .await
    .expect("variant");
    let cases = [
        (sized("OUD-50", "100ml", &[]), Code::SkuTaken),
        (sized("OUD-50B", "50ml", &[]), Code::VariantExists),
        (sized("OUD-75", "75ml", &[]), Code::InvalidOptionValues),
        (variant(oud, "OUD-NONE", &[]), Code::InvalidOptionValues),
        (
            sized("OUD-100", "100ml", &[("SAR", -1)]),
            Code::NegativePrice,
        ),
        (
            sized("OUD-100", "100ml", &[("SRA", 1)]),
            Code::UnknownCurrency,
        ),
        (sized("bad sku", "100ml", &[]), Code::InvalidSku),
        (
            NewVariant {
                weight_grams: Some(-5),
                ..sized("OUD-100", "100ml", &[])
            },
            Code::InvalidAttribute,
        ),
        (variant(ProductId::new(), "GHOST", &[]), Code::NotFound),
    ];
    for (input, expected) in cases {
        assert_eq!(
            refusal(variants::create_variant(t.db(), &admin, input).await),
            expected
        );
    }
    // Options cannot be added once variants exist (they would have no value for it).
    assert_eq!(
        refusal(variants::create_option(t.db(), &admin, oud, "Colour", vec!["Gold".into()]).await),
        Code::InvalidOption
    );
    assert_eq!(
        t.visible_rows("catalog.product_variants", Some(info.id))
            .await,
        1
    );
    assert_eq!(
        t.visible_rows("catalog.variant_prices", Some(info.id))
            .await,
        2
    );
}

#[tokio::test]
async fn racing_creates_with_one_sku_make_one_variant() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "sku-race").await;
    let ids = [
        product(&t, &admin, "one").await,
        product(&t, &admin, "two").await,
    ];
    let attempts = (0..12).map(|i| {
        variants::create_variant(
            t.db(),
            &admin,
            variant(ids[i % 2], "SAME-SKU", &[("SAR", 100)]),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .into_iter()
            .filter(|r| r.is_err())
            .all(|r| refusal(r) == Code::SkuTaken)
    );
    assert_eq!(
        t.visible_rows("catalog.product_variants", Some(info.id))
            .await,
        1
    );
}

#[tokio::test]
async fn variants_and_prices_are_invisible_across_tenants() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "var-a").await;
    let (b, b_admin) = tenant(&t, "var-b").await;
    let a_product = product(&t, &a_admin, "a-oud").await;
    variants::create_option(t.db(), &a_admin, a_product, "Size", vec!["50ml".into()])
        .await
        .expect("option");
    let new = NewVariant {
        options: vec![("Size".into(), "50ml".into())],
        ..variant(a_product, "A-1", &[("SAR", 100)])
    };
    let a_variant = variants::create_variant(t.db(), &a_admin, new)
        .await
        .expect("variant");
    for table in [
        "catalog.product_options",
        "catalog.product_variants",
        "catalog.variant_prices",
    ] {
        assert_eq!(
            t.visible_rows(table, None).await,
            0,
            "{table} without a tenant"
        );
        assert_eq!(t.visible_rows(table, Some(a.id)).await, 1, "{table} in a");
        assert_eq!(t.visible_rows(table, Some(b.id)).await, 0, "{table} in b");
    }
    // B's admin can neither price A's variant nor attach a variant to A's product.
    assert_eq!(
        refusal(
            variants::set_prices(
                t.db(),
                &b_admin,
                a_variant.variant.id,
                vec![("SAR".into(), 1)]
            )
            .await
        ),
        Code::NotFound
    );
    assert_eq!(
        refusal(variants::create_variant(t.db(), &b_admin, variant(a_product, "B-1", &[])).await),
        Code::NotFound
    );
    // Nor resolve it as an entity.
    let schema = build_schema(Some(&t.platform));
    let storefront_b = context(
        Some(&b),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let q =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on ProductVariant { sku } } }";
    let r = t
        .graphql::<Catalog>(
            &schema,
            &storefront_b,
            q,
            json!({ "r": [{ "__typename": "ProductVariant", "id": a_variant.variant.id }] }),
        )
        .await;
    assert_eq!(r["data"]["_entities"], json!([null]));
    let storefront_a = context(
        Some(&a),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let r = t
        .graphql::<Catalog>(
            &schema,
            &storefront_a,
            q,
            json!({ "r": [{ "__typename": "ProductVariant", "id": a_variant.variant.id }] }),
        )
        .await;
    assert_eq!(r["data"]["_entities"], json!([{ "sku": "A-1" }]));
}

#[tokio::test]
async fn storefront_prices_variants_through_graphql() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "prices").await;
    let schema = build_schema(Some(&t.platform));
    let create = "mutation($p: ID!) {
      o: productOptionCreate(input: { productId: $p, name: \"Size\", values: [\"50ml\", \"100ml\"] }) { option { name values } userErrors { code } }
    }";
    let oud = product(&t, &admin, "oud").await;
    let r = t
        .graphql::<Catalog>(&schema, &admin, create, json!({ "p": oud }))
        .await;
    assert_eq!(
        r["data"]["o"]["option"],
        json!({ "name": "Size", "values": ["50ml", "100ml"] })
    );
    let add = "mutation($input: ProductVariantCreateInput!) { productVariantCreate(input: $input) { variant { sku title } userErrors { field code } } }";
    for (sku, size, sar) in [("OUD-50", "50ml", 25000), ("OUD-100", "100ml", 42000)] {
        let input = json!({ "productId": oud, "sku": sku, "options": [{ "name": "Size", "value": size }],
                            "prices": [{ "currency": "SAR", "amountMinor": sar }, { "currency": "USD", "amountMinor": sar / 4 }] });
        let r = t
            .graphql::<Catalog>(&schema, &admin, add, json!({ "input": input }))
            .await;
        assert_eq!(
            r["data"]["productVariantCreate"]["variant"],
            json!({ "sku": sku, "title": size }),
            "{r}"
        );
    }
    let bad = json!({ "productId": oud, "sku": "OUD-X", "options": [{ "name": "Size", "value": "50ml" }], "prices": [{ "currency": "SAR", "amountMinor": -5 }] });
    let r = t
        .graphql::<Catalog>(&schema, &admin, add, json!({ "input": bad }))
        .await;
    assert_eq!(
        r["data"]["productVariantCreate"]["userErrors"],
        json!([{ "field": ["input", "prices"], "code": "NEGATIVE_PRICE" }])
    );

    let storefront = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let q = "{ product(handle: \"oud\") {
        priceRange(currency: \"SAR\") { min { amount amountMinor currency } max { amount } }
        usd: priceRange(currency: \"USD\") { min { amount } }
        eur: priceRange(currency: \"EUR\") { min { amount } }
        variants { sku selectedOptions { name value } price(currency: \"SAR\", quantity: 3) { unitPrice { amount } lineTotal { amount } quantity rule } } } }";
    let r = t
        .graphql::<Catalog>(&schema, &storefront, q, json!({}))
        .await;
    let p = &r["data"]["product"];
    assert_eq!(
        p["priceRange"],
        json!({ "min": { "amount": "250.00", "amountMinor": 25000, "currency": "SAR" }, "max": { "amount": "420.00" } })
    );
    assert_eq!(p["usd"]["min"]["amount"], "62.50");
    assert_eq!(p["eur"], json!(null));
    assert_eq!(
        p["variants"][0],
        json!({ "sku": "OUD-50", "selectedOptions": [{ "name": "Size", "value": "50ml" }],
        "price": { "unitPrice": { "amount": "250.00" }, "lineTotal": { "amount": "750.00" }, "quantity": 3, "rule": "BASE_PRICE" } })
    );

    // Changing a price shows at once; unknown currencies and silly quantities are refused.
    let set = "mutation($v: ID!) { productVariantPricesSet(input: { variantId: $v, prices: [{ currency: \"SAR\", amountMinor: 19900 }] }) {
        variant { basePrices { amount currency } } userErrors { code } } }";
    let details = variants::details_by_products(t.db(), info.id, vec![oud], None, true)
        .await
        .expect("details");
    let variant_id = details[&oud].variants[0].variant.id;
    let r = t
        .graphql::<Catalog>(&schema, &admin, set, json!({ "v": variant_id }))
        .await;
    assert_eq!(
        r["data"]["productVariantPricesSet"]["variant"]["basePrices"],
        json!([{ "amount": "199.00", "currency": "SAR" }, { "amount": "62.50", "currency": "USD" }])
    );
    let r = t
        .graphql::<Catalog>(
            &schema,
            &storefront,
            "{ product(handle: \"oud\") { priceRange(currency: \"XYZ\") { min { amount } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let r = t.graphql::<Catalog>(&schema, &storefront, "{ product(handle: \"oud\") { variants { price(currency: \"SAR\", quantity: 0) { rule } } } }", json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // Storefronts cannot write.
    let r = t
        .graphql::<Catalog>(&schema, &storefront, set, json!({ "v": variant_id }))
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn listing_work_does_not_grow_with_the_page() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "listing").await;
    for i in 0..100 {
        let id = product(&t, &admin, &format!("p-{i:03}")).await;
        variants::create_option(t.db(), &admin, id, "Size", vec!["S".into(), "L".into()])
            .await
            .expect("option");
        for size in ["S", "L"] {
            let new = NewVariant {
                options: vec![("Size".into(), size.into())],
                ..variant(
                    id,
                    &format!("P{i:03}-{size}"),
                    &[("SAR", 1000 + i64::from(i)), ("USD", 300)],
                )
            };
            variants::create_variant(t.db(), &admin, new)
                .await
                .expect("variant");
        }
    }
    let schema = build_schema(Some(&t.platform));
    let storefront = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let q = "query($n: Int!) { products(first: $n) { totalCount edges { node { id title handle
        options { name values }
        priceRange(currency: \"SAR\") { min { amount } max { amount } }
        variants { sku selectedOptions { name value } basePrices { amount currency } price(currency: \"SAR\", quantity: 2) { lineTotal { amount } rule }
        availableQuantity inStock volumeTiers(currency: \"SAR\") { minQuantity unitPrice { amount } } } } } } }";
    let mut trips = Vec::new();
    for n in [10, 100] {
        let before = t.db().round_trips();
        let r = t
            .graphql::<Catalog>(&schema, &storefront, q, json!({ "n": n }))
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        assert_eq!(
            r["data"]["products"]["edges"].as_array().map(Vec::len),
            Some(n)
        );
        assert_eq!(
            r["data"]["products"]["edges"][n - 1]["node"]["variants"][1]["price"]["rule"],
            "BASE_PRICE"
        );
        trips.push(t.db().round_trips() - before);
    }
    assert_eq!(
        trips[0], trips[1],
        "database round trips for 10 and for 100 products: {trips:?}"
    );
    // Begin (with the tenant setting), the page with its count, cards and stock, commit: nothing
    // per product.
    assert_eq!(trips[0], 3, "{trips:?}");
}
