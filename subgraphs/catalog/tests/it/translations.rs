//! Product translations: the request's locale, then its language, then the tenant's default.

use crate::common::{tenant, test_db};
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, RequestContext, TenantInfo};
use cityos_testkit::{TestDb, context};
use serde_json::{Value, json};
use uuid::Uuid;

fn shopper(info: &TenantInfo, locale: Option<&str>) -> RequestContext {
    let mut ctx = context(
        Some(info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    ctx.locale = locale.map(str::to_owned);
    ctx
}

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

const SET: &str =
    "mutation($input: ProductTranslationSetInput!) { productTranslationSet(input: $input) {
    translation { locale title } userErrors { field code } } }";

#[tokio::test]
async fn titles_follow_the_locale_then_the_language_then_the_default() {
    let t = test_db().await;
    // The test tenant's default locale is `ar`.
    let (info, admin) = tenant(&t, "i18n").await;
    let created = run(
        &t,
        &admin,
        "mutation { productCreate(input: { title: \"عود\", handle: \"oud\", description: \"عود كمبودي\", status: PUBLISHED }) { product { id } } }",
        json!({}),
    )
    .await;
    let id = created["productCreate"]["product"]["id"].clone();
    run(
        &t,
        &admin,
        "mutation($p: ID!) { productVariantCreate(input: { productId: $p, sku: \"OUD-1\", prices: [{ currency: \"SAR\", amountMinor: 100 }] }) { userErrors { code } } }",
        json!({ "p": id }),
    )
    .await;
    for (locale, title) in [("en", "Oud"), ("EN-gb", "Oud (UK)")] {
        let r = run(&t, &admin, SET, json!({ "input": { "productId": id, "locale": locale, "title": title, "description": "Cambodian oud" } })).await;
        assert_eq!(r["productTranslationSet"]["userErrors"], json!([]));
    }

    // Each read path: the listing with details (one statement), the plain listing, by handle,
    // and by reference.
    let queries = [
        "{ products { edges { node { title description variants { sku } } } } }",
        "{ products { edges { node { title description } } } }",
        "{ product(handle: \"oud\") { title description } }",
    ];
    let title_of = |data: &Value| -> String {
        let node = if data.get("products").is_some() {
            &data["products"]["edges"][0]["node"]
        } else {
            &data["product"]
        };
        node["title"].as_str().expect("title").to_owned()
    };
    for (locale, expected) in [
        (Some("en-GB"), "Oud (UK)"),
        (Some("en-US"), "Oud"),
        (Some("en"), "Oud"),
        (Some("fr"), "عود"),
        (Some("ar-SA"), "عود"),
        (None, "عود"),
    ] {
        let ctx = shopper(&info, locale);
        for q in queries {
            assert_eq!(
                title_of(&run(&t, &ctx, q, json!({})).await),
                expected,
                "{locale:?} {q}"
            );
        }
        let entity = run(
            &t,
            &ctx,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { title } } }",
            json!({ "r": [{ "__typename": "Product", "id": id }] }),
        )
        .await;
        assert_eq!(entity["_entities"][0]["title"], expected, "{locale:?}");
    }
    let both = run(
        &t,
        &shopper(&info, None),
        "{ product(handle: \"oud\") { translations { locale title } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        both["product"]["translations"],
        json!([{ "locale": "en", "title": "Oud" }, { "locale": "en-GB", "title": "Oud (UK)" }])
    );

    // The translated listing still costs begin, one statement, commit.
    let before = t.db().round_trips();
    run(&t, &shopper(&info, Some("en-GB")), queries[0], json!({})).await;
    assert_eq!(t.db().round_trips() - before, 3);

    // Removing a translation falls back to the language's.
    let remove = "mutation($p: ID!, $l: String!) { productTranslationRemove(input: { productId: $p, locale: $l }) { removed userErrors { code } } }";
    let r = run(&t, &admin, remove, json!({ "p": id, "l": "en-GB" })).await;
    assert_eq!(r["productTranslationRemove"]["removed"], true);
    assert_eq!(
        title_of(&run(&t, &shopper(&info, Some("en-GB")), queries[2], json!({})).await),
        "Oud"
    );
}

#[tokio::test]
async fn bad_translations_are_refused_and_isolated() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "i18n-a").await;
    let (b, b_admin) = tenant(&t, "i18n-b").await;
    let id = run(
        &t,
        &a_admin,
        "mutation { productCreate(input: { title: \"عود\", handle: \"oud\" }) { product { id } } }",
        json!({}),
    )
    .await["productCreate"]["product"]["id"]
        .clone();
    run(
        &t,
        &a_admin,
        SET,
        json!({ "input": { "productId": id, "locale": "en", "title": "Oud" } }),
    )
    .await;
    let before = t
        .visible_rows("catalog.product_translations", Some(a.id))
        .await;
    for (input, field, code) in [
        (
            json!({ "productId": id, "locale": "ar", "title": "عود" }),
            "locale",
            "INVALID_LOCALE",
        ),
        (
            json!({ "productId": id, "locale": "english", "title": "Oud" }),
            "locale",
            "INVALID_LOCALE",
        ),
        (
            json!({ "productId": id, "locale": "fr", "title": " " }),
            "title",
            "INVALID_TITLE",
        ),
        (
            json!({ "productId": Uuid::now_v7().to_string(), "locale": "fr", "title": "Oud" }),
            "productId",
            "NOT_FOUND",
        ),
    ] {
        let r = run(&t, &a_admin, SET, json!({ "input": input })).await;
        let error = &r["productTranslationSet"]["userErrors"][0];
        assert_eq!(
            (error["field"].clone(), error["code"].clone()),
            (json!(["input", field]), json!(code)),
            "{input}"
        );
    }
    assert_eq!(
        t.visible_rows("catalog.product_translations", Some(a.id))
            .await,
        before
    );
    // Row-level security, and B cannot translate A's product.
    assert_eq!(
        t.visible_rows("catalog.product_translations", None).await,
        0
    );
    assert_eq!(
        t.visible_rows("catalog.product_translations", Some(b.id))
            .await,
        0
    );
    let r = run(
        &t,
        &b_admin,
        SET,
        json!({ "input": { "productId": id, "locale": "fr", "title": "Oud" } }),
    )
    .await;
    assert_eq!(
        r["productTranslationSet"]["userErrors"][0]["code"],
        "NOT_FOUND"
    );
    // Storefronts cannot write.
    let schema = build_schema(Some(&t.platform));
    let denied = t
        .graphql::<Catalog>(
            &schema,
            &shopper(&a, None),
            SET,
            json!({ "input": { "productId": id, "locale": "fr", "title": "x" } }),
        )
        .await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}
