//! Facet counts and autocomplete.

use super::{refused, run, shop, storefront};
use crate::common::test_db;
use cityos_core::RequestContext;
use cityos_testkit::TestDb;
use serde_json::{Value, json};

pub(super) const FACETS: &str = "query($f: ProductFilter) { products(filter: $f, first: 1) { totalCount facets {
    categories { category { handle } count } collections { collection { handle } count }
    vendors { vendor { id } count } tags { tag count } inStock
    price { min { amountMinor } max { amountMinor } ranges { from { amountMinor } to { amountMinor } count } } } } }";

fn pairs(list: &Value, name: &str, key: &str) -> Vec<(String, i64)> {
    list.as_array()
        .expect("facet")
        .iter()
        .map(|v| {
            let id = if key.is_empty() {
                v[name].clone()
            } else {
                v[name][key].clone()
            };
            (
                id.as_str().expect("id").to_owned(),
                v["count"].as_i64().expect("count"),
            )
        })
        .collect()
}

#[tokio::test]
async fn facets_count_what_the_filters_would_give() {
    let t = test_db().await;
    let shop = shop(&t, "search-facets").await;
    let guest = storefront(&shop.info);
    let facets = async |filter: Value| {
        run(&t, &guest, FACETS, json!({ "f": filter })).await["products"].clone()
    };

    let all = facets(json!({ "currency": "SAR" })).await;
    assert_eq!(all["totalCount"], 4);
    let f = &all["facets"];
    assert_eq!(
        pairs(&f["categories"], "category", "handle"),
        [
            ("fragrance".into(), 2),
            ("home".into(), 2),
            ("oud".into(), 1)
        ]
    );
    assert_eq!(
        pairs(&f["collections"], "collection", "handle"),
        [("gifts".into(), 2)]
    );
    let vendors = pairs(&f["vendors"], "vendor", "id");
    assert_eq!(vendors.len(), 2);
    assert!(vendors.iter().all(|(_, n)| *n == 2));
    assert_eq!(
        pairs(&f["tags"], "tag", "")[..2],
        [("gift".into(), 3), ("home".into(), 2)]
    );
    assert_eq!(f["inStock"], 2);
    // 39.00 to 250.00 in steps of 50.00: ranges from 0, 50, 100 and 250 (empty ones left out).
    assert_eq!(f["price"]["min"]["amountMinor"], 3_900);
    assert_eq!(f["price"]["max"]["amountMinor"], 25_000);
    let ranges: Vec<(i64, i64, i64)> = f["price"]["ranges"]
        .as_array()
        .expect("ranges")
        .iter()
        .map(|r| {
            (
                r["from"]["amountMinor"].as_i64().unwrap(),
                r["to"]["amountMinor"].as_i64().unwrap(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        [
            (0, 5_000, 1),
            (5_000, 10_000, 1),
            (10_000, 15_000, 1),
            (25_000, 30_000, 1)
        ]
    );

    // Under a filter the counts narrow: within Fragrance, its subcategory shows.
    let within = facets(json!({ "categoryId": shop.fragrance })).await;
    assert_eq!(
        pairs(&within["facets"]["categories"], "category", "handle"),
        [("fragrance".into(), 2), ("oud".into(), 1)]
    );
    assert_eq!(within["facets"]["price"], Value::Null);
    // Nothing matched: every count empty.
    let none = facets(json!({ "query": "zebra", "currency": "SAR" })).await;
    assert_eq!(none["totalCount"], 0);
    assert_eq!(none["facets"]["categories"], json!([]));
    assert_eq!(none["facets"]["inStock"], 0);
    assert_eq!(none["facets"]["price"], Value::Null);
    // A collection keeps its own order and still counts.
    let r = run(&t, &guest, "query($c: ID!) { collection(id: $c) { products { edges { node { handle } } facets { inStock tags { tag count } } } } }",
        json!({ "c": shop.gifts })).await;
    let list = &r["collection"]["products"];
    assert_eq!(list["edges"][0]["node"]["handle"], "rug");
    assert_eq!(list["facets"]["inStock"], 1);
    assert_eq!(
        pairs(&list["facets"]["tags"], "tag", "")[0],
        ("gift".into(), 2)
    );
}

const SUGGEST: &str = "query($q: String!, $n: Int) { productSuggestions(query: $q, first: $n) { score product { handle title } } }";

pub(super) async fn suggested(t: &TestDb, ctx: &RequestContext, typed: &str) -> Vec<String> {
    run(t, ctx, SUGGEST, json!({ "q": typed })).await["productSuggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|s| s["product"]["handle"].as_str().expect("handle").to_owned())
        .collect()
}

#[tokio::test]
async fn autocomplete_takes_prefixes_and_forgives_typos() {
    let t = test_db().await;
    let shop = shop(&t, "search-suggest").await;
    let guest = storefront(&shop.info);
    // Unfinished words: the product with both words first (a perfume without oud may follow).
    assert_eq!(suggested(&t, &guest, "oud perf").await[0], "oud");
    let mut pe = suggested(&t, &guest, "pe").await;
    pe.sort();
    assert_eq!(pe, ["oud", "rose"]);
    assert_eq!(suggested(&t, &guest, "cand").await[0], "candle");
    // Typos: close words still find the product.
    assert_eq!(suggested(&t, &guest, "parfume").await[..1], ["oud"]);
    assert!(
        suggested(&t, &guest, "candel")
            .await
            .contains(&"candle".to_owned())
    );
    assert!(
        suggested(&t, &guest, "prayr rug")
            .await
            .contains(&"rug".to_owned())
    );
    // Prefix matches score above typo matches.
    let r = run(&t, &guest, SUGGEST, json!({ "q": "musk" })).await;
    assert_eq!(r["productSuggestions"][0]["product"]["handle"], "candle");
    assert!(r["productSuggestions"][0]["score"].as_f64().unwrap() > 1.0);
    // Drafts are for staff; nothing typed, nothing suggested; limits hold.
    assert!(
        !suggested(&t, &guest, "secret")
            .await
            .contains(&"secret".to_owned())
    );
    assert_eq!(suggested(&t, &shop.admin, "secret").await[0], "secret");
    assert_eq!(suggested(&t, &guest, " ?! ").await, Vec::<String>::new());
    let r = run(&t, &guest, SUGGEST, json!({ "q": "o", "n": 1 })).await;
    assert_eq!(r["productSuggestions"].as_array().map(Vec::len), Some(1));
    for n in [0, 21] {
        assert_eq!(
            refused(&t, &guest, SUGGEST, json!({ "q": "oud", "n": n })).await,
            "BAD_USER_INPUT"
        );
    }
}
