//! Search: full text with ranking across titles, SKUs, tags, descriptions and translations;
//! filters, sorts and cursors; facet counts; autocomplete with typos; the SQL price rule equal to
//! the pricing function; search rows kept in step with their sources; tenant isolation.

use crate::common::{hold, tenant, test_db};
use catalog::ids::{LocationId, ProductId, UserId, VariantId};
use catalog::{Catalog, build_schema};
use chrono::{Duration, Utc};
use cityos_core::{Actor, RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, context, user_context};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

async fn run(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    assert!(r.get("errors").is_none(), "{query}: {r}");
    r["data"].clone()
}

async fn refused(t: &TestDb, ctx: &RequestContext, query: &str, vars: Value) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t.graphql::<Catalog>(&schema, ctx, query, vars).await;
    r["errors"][0]["extensions"]["code"].clone()
}

fn storefront(info: &TenantInfo) -> RequestContext {
    context(
        Some(info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    )
}

/// A small shop: five products (one a draft) across two vendors, a category tree, a collection,
/// prices in SAR and USD with a sale, stock, reviews and an Arabic translation.
struct Shop {
    info: TenantInfo,
    admin: RequestContext,
    ids: HashMap<&'static str, String>,
    fragrance: String,
    oud_category: String,
    home: String,
    gifts: String,
    vendors: [String; 2],
}

impl Shop {
    fn id(&self, handle: &str) -> &str {
        &self.ids[handle]
    }
}

const CREATE: &str = "mutation($i: ProductCreateInput!) { productCreate(input: $i) { product { id } userErrors { code } } }";
const VARIANT: &str = "mutation($i: ProductVariantCreateInput!) { productVariantCreate(input: $i) { variant { id } userErrors { code message } } }";

/// A product of the shop with its one variant.
struct Item {
    handle: &'static str,
    title: &'static str,
    kind: &'static str,
    tags: &'static [&'static str],
    description: &'static str,
    vendor: usize,
    status: &'static str,
    sku: &'static str,
    sar: i64,
    usd: Option<i64>,
}

async fn shop(t: &TestDb, slug: &str) -> Shop {
    let (info, admin) = tenant(t, slug).await;
    let vendors = [Uuid::now_v7().to_string(), Uuid::now_v7().to_string()];
    let items = [
        Item {
            handle: "oud",
            title: "Oud Perfume",
            kind: "Perfume",
            tags: &["oud", "gift"],
            description: "A deep woody scent with a touch of rose.",
            vendor: 0,
            status: "PUBLISHED",
            sku: "OUD-50",
            sar: 25_000,
            usd: Some(6_700),
        },
        Item {
            handle: "rose",
            title: "Rose Water Mist",
            kind: "Perfume",
            tags: &["rose", "gift"],
            description: "Fresh petals for hot afternoons.",
            vendor: 0,
            status: "PUBLISHED",
            sku: "ROSE-100",
            sar: 8_000,
            usd: None,
        },
        Item {
            handle: "candle",
            title: "Musk Candle",
            kind: "Candle",
            tags: &["home"],
            description: "Burns for forty hours with oud notes.",
            vendor: 1,
            status: "PUBLISHED",
            sku: "CANDLE-1",
            sar: 4_500,
            usd: None,
        },
        Item {
            handle: "rug",
            title: "Prayer Rug",
            kind: "Rug",
            tags: &["home", "gift"],
            description: "Hand woven wool.",
            vendor: 1,
            status: "PUBLISHED",
            sku: "RUG-1",
            sar: 12_000,
            usd: Some(3_200),
        },
        Item {
            handle: "secret",
            title: "Secret Oud",
            kind: "Perfume",
            tags: &["oud"],
            description: "Not yet for sale.",
            vendor: 0,
            status: "DRAFT",
            sku: "SECRET-1",
            sar: 1_000,
            usd: None,
        },
    ];
    let mut ids = HashMap::new();
    let mut variants = HashMap::new();
    for Item {
        handle,
        title,
        kind,
        tags,
        description,
        vendor,
        status,
        sku,
        sar,
        usd,
    } in items
    {
        let input = json!({ "title": title, "handle": handle, "productType": kind, "tags": tags,
            "description": description, "vendorId": vendors[vendor], "status": status });
        let id =
            run(t, &admin, CREATE, json!({ "i": input })).await["productCreate"]["product"]["id"]
                .as_str()
                .expect("product")
                .to_owned();
        let mut prices = vec![json!({ "currency": "SAR", "amountMinor": sar })];
        if let Some(usd) = usd {
            prices.push(json!({ "currency": "USD", "amountMinor": usd }));
        }
        let variant = run(
            t,
            &admin,
            VARIANT,
            json!({ "i": { "productId": id, "sku": sku, "prices": prices } }),
        )
        .await["productVariantCreate"]["variant"]["id"]
            .as_str()
            .expect("variant")
            .to_owned();
        ids.insert(handle, id);
        variants.insert(handle, variant);
    }
    // Taxonomy: Fragrance > Oud, and Home; a gift collection.
    let category = async |name: &str, parent: Option<&str>| {
        run(
            t,
            &admin,
            "mutation($i: CategoryCreateInput!) { categoryCreate(input: $i) { category { id } } }",
            json!({ "i": { "name": name, "handle": name.to_lowercase(), "parentId": parent } }),
        )
        .await["categoryCreate"]["category"]["id"]
            .as_str()
            .expect("category")
            .to_owned()
    };
    let fragrance = category("Fragrance", None).await;
    let oud_category = category("Oud", Some(&fragrance)).await;
    let home = category("Home", None).await;
    for (handle, cat) in [
        ("oud", &oud_category),
        ("rose", &fragrance),
        ("candle", &home),
        ("rug", &home),
        ("secret", &oud_category),
    ] {
        run(t, &admin, "mutation($i: ProductCategoriesSetInput!) { productCategoriesSet(input: $i) { userErrors { code } } }",
            json!({ "i": { "productId": ids[handle], "categoryIds": [cat] } })).await;
    }
    let gifts = run(t, &admin, "mutation { collectionCreate(input: { title: \"Gifts\", handle: \"gifts\" }) { collection { id } } }", json!({}))
        .await["collectionCreate"]["collection"]["id"].as_str().expect("collection").to_owned();
    run(t, &admin, "mutation($i: CollectionProductsAddInput!) { collectionProductsAdd(input: $i) { userErrors { code } } }",
        json!({ "i": { "collectionId": gifts, "productIds": [ids["rug"], ids["oud"]] } })).await;
    // A running sale takes the candle to 39.00; a sale that starts tomorrow changes nothing yet.
    for (name, starts, handle, amount) in [
        ("Now", Utc::now() - Duration::days(1), "candle", 3_900),
        ("Later", Utc::now() + Duration::days(1), "rose", 100),
    ] {
        let list = run(t, &admin, "mutation($i: PriceListCreateInput!) { priceListCreate(input: $i) { priceList { id } } }",
            json!({ "i": { "name": name, "kind": "SALE", "startsAt": starts } })).await["priceListCreate"]["priceList"]["id"].clone();
        run(t, &admin, "mutation($i: PriceListPricesSetInput!) { priceListPricesSet(input: $i) { userErrors { code } } }",
            json!({ "i": { "priceListId": list, "entries": [{ "variantId": variants[handle], "prices": [{ "currency": "SAR", "amountMinor": amount }] }] } })).await;
    }
    // Stock: the oud and the candle are in stock; the rug's only unit is held by a cart.
    let location = run(
        t,
        &admin,
        "mutation { stockLocationCreate(input: { name: \"Riyadh\" }) { stockLocation { id } } }",
        json!({}),
    )
    .await["stockLocationCreate"]["stockLocation"]["id"]
        .as_str()
        .expect("location")
        .to_owned();
    for (handle, units) in [("oud", 5), ("candle", 2), ("rug", 1)] {
        run(t, &admin, "mutation($i: StockAdjustInput!) { stockAdjust(input: $i) { userErrors { code } } }",
            json!({ "i": { "variantId": variants[handle], "locationId": location, "onHand": units, "reason": "RECEIVED" } })).await;
    }
    let rug: VariantId = variants["rug"].parse().expect("uuid");
    let location: LocationId = location.parse().expect("uuid");
    hold(t, info.id, "cart-1", (rug, location), 1, Duration::hours(1)).await;
    // Reviews: the oud has 5 and 4 stars, the candle 5.
    for (handle, rating) in [("oud", 5), ("oud", 4), ("candle", 5)] {
        let customer = user_context(Some(&info), UserId::new(), &[Role::Customer]);
        let review = run(
            t,
            &customer,
            "mutation($i: ReviewCreateInput!) { reviewCreate(input: $i) { review { id } } }",
            json!({ "i": { "productId": ids[handle], "rating": rating } }),
        )
        .await["reviewCreate"]["review"]["id"]
            .clone();
        run(t, &admin, "mutation($i: ReviewModerateInput!) { reviewModerate(input: $i) { userErrors { code } } }",
            json!({ "i": { "id": review, "status": "APPROVED" } })).await;
    }
    Shop {
        info,
        admin,
        ids,
        fragrance,
        oud_category,
        home,
        gifts,
        vendors,
    }
}

const SEARCH: &str =
    "query($f: ProductFilter, $s: ProductSort, $n: Int, $a: String, $l: Int, $b: String) {
    products(filter: $f, sort: $s, first: $n, after: $a, last: $l, before: $b) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { handle title } } } }";

/// The handles a search lists, in order.
async fn handles(t: &TestDb, ctx: &RequestContext, filter: Value, sort: Value) -> Vec<String> {
    let r = run(t, ctx, SEARCH, json!({ "f": filter, "s": sort, "n": 50 })).await;
    let list = &r["products"];
    let handles: Vec<String> = list["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["handle"].as_str().expect("handle").to_owned())
        .collect();
    assert_eq!(list["totalCount"], json!(handles.len()), "{list}");
    handles
}

#[tokio::test]
async fn text_search_ranks_and_filters() {
    let t = test_db().await;
    let shop = shop(&t, "search-text").await;
    let guest = storefront(&shop.info);
    let find = async |filter: Value| handles(&t, &guest, filter, Value::Null).await;

    // The title outranks the description; the draft stays hidden; staff see it.
    assert_eq!(find(json!({ "query": "oud" })).await, ["oud", "candle"]);
    assert_eq!(
        handles(&t, &shop.admin, json!({ "query": "oud" }), Value::Null)
            .await
            .len(),
        3
    );
    // Stemming ("perfumes" finds the type Perfume), SKUs, phrases, exclusion, "or".
    assert_eq!(find(json!({ "query": "perfumes" })).await.len(), 2);
    assert_eq!(find(json!({ "query": "CANDLE-1" })).await, ["candle"]);
    assert_eq!(find(json!({ "query": "\"rose water\"" })).await, ["rose"]);
    assert_eq!(find(json!({ "query": "oud -candle" })).await, ["oud"]);
    let mut either = find(json!({ "query": "rug or mist" })).await;
    either.sort();
    assert_eq!(either, ["rose", "rug"]);
    assert_eq!(
        find(json!({ "query": "zebra" })).await,
        Vec::<String>::new()
    );

    // Translations are searched, in any script, and shown in the request's locale.
    run(&t, &shop.admin,
        "mutation($p: ID!) { productTranslationSet(input: { productId: $p, locale: \"fa\", title: \"سجاده نماز\" }) { userErrors { code } } }",
        json!({ "p": shop.id("rug") })).await;
    let mut persian = guest.clone();
    persian.locale = Some("fa-IR".into());
    let r = run(&t, &persian, SEARCH, json!({ "f": { "query": "سجاده" } })).await;
    assert_eq!(r["products"]["totalCount"], 1);
    assert_eq!(r["products"]["edges"][0]["node"]["title"], "سجاده نماز");

    // Filters: the category with its descendants, collection, vendor, tags, price, stock.
    let cat = |c: &str| json!({ "categoryId": c });
    let mut fragrance = find(cat(&shop.fragrance)).await;
    fragrance.sort();
    assert_eq!(fragrance, ["oud", "rose"]);
    assert_eq!(find(cat(&shop.oud_category)).await, ["oud"]);
    // A collection alone lists in the collection's order.
    assert_eq!(
        find(json!({ "collectionId": shop.gifts })).await,
        ["rug", "oud"]
    );
    assert_eq!(
        find(json!({ "collectionId": shop.gifts, "tags": ["oud"] })).await,
        ["oud"]
    );
    assert_eq!(
        find(json!({ "vendorId": shop.vendors[1] })).await,
        ["candle", "rug"]
    );
    assert_eq!(
        find(json!({ "tags": [" GIFT "] })).await,
        ["oud", "rose", "rug"]
    );
    assert_eq!(find(json!({ "tags": ["gift", "home"] })).await, ["rug"]);
    // The candle's running sale (39.00) puts it below 40.00; the rose's future sale does not count.
    assert_eq!(
        find(json!({ "currency": "SAR", "minPrice": 4_000, "maxPrice": 12_000 })).await,
        ["rose", "rug"]
    );
    assert_eq!(
        find(json!({ "currency": "SAR", "maxPrice": 3_900 })).await,
        ["candle"]
    );
    // Only the USD-priced ones have a USD price.
    assert_eq!(
        find(json!({ "currency": "USD", "minPrice": 0 })).await,
        ["oud", "rug"]
    );
    // The rug's one unit is held: not in stock.
    assert_eq!(find(json!({ "inStock": true })).await, ["oud", "candle"]);
    assert_eq!(
        find(json!({ "query": "oud", "inStock": true, "categoryId": shop.home })).await,
        ["candle"]
    );
    // A category page takes the same filter.
    let r = run(&t, &guest, "query($c: ID!) { category(id: $c) { products(filter: { inStock: true }) { edges { node { handle } } } } }",
        json!({ "c": shop.home })).await;
    assert_eq!(
        r["category"]["products"]["edges"][0]["node"]["handle"],
        "candle"
    );
}

#[tokio::test]
async fn sorts_page_both_ways() {
    let t = test_db().await;
    let shop = shop(&t, "search-sort").await;
    let guest = storefront(&shop.info);
    let sorted = async |key: &str, reverse: bool, currency: Option<&str>| {
        handles(
            &t,
            &guest,
            json!({ "currency": currency }),
            json!({ "key": key, "reverse": reverse }),
        )
        .await
    };
    assert_eq!(
        sorted("PRICE", false, Some("SAR")).await,
        ["candle", "rose", "rug", "oud"]
    );
    assert_eq!(
        sorted("PRICE", true, Some("SAR")).await,
        ["oud", "rug", "rose", "candle"]
    );
    // Products without a USD price come last whichever way.
    assert_eq!(
        sorted("PRICE", false, Some("USD")).await[..2],
        ["rug", "oud"]
    );
    assert_eq!(
        sorted("PRICE", true, Some("USD")).await[..2],
        ["oud", "rug"]
    );
    assert_eq!(
        sorted("NEWEST", false, None).await,
        ["rug", "candle", "rose", "oud"]
    );
    assert_eq!(
        sorted("CREATED", false, None).await,
        ["oud", "rose", "candle", "rug"]
    );
    assert_eq!(
        sorted("CREATED", true, None).await,
        ["rug", "candle", "rose", "oud"]
    );
    // 4.5 stars from two reviews beat 5 from one; no reviews rank last.
    assert_eq!(sorted("RATING", false, None).await[..2], ["oud", "candle"]);

    // Paging by price: forwards in twos, then back from the end.
    let page = async |vars: Value| run(&t, &guest, SEARCH, vars).await["products"].clone();
    let (f, s) = (json!({ "currency": "SAR" }), json!({ "key": "PRICE" }));
    let one = page(json!({ "f": f, "s": s, "n": 2 })).await;
    let names = |p: &Value| -> Vec<String> {
        p["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["handle"].as_str().expect("handle").to_owned())
            .collect()
    };
    assert_eq!(names(&one), ["candle", "rose"]);
    assert_eq!(one["pageInfo"]["hasNextPage"], true);
    let two = page(json!({ "f": f, "s": s, "n": 2, "a": one["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&two), ["rug", "oud"]);
    assert_eq!(two["pageInfo"]["hasNextPage"], false);
    assert_eq!(two["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(two["totalCount"], 4);
    let back = page(json!({ "f": f, "s": s, "l": 2, "b": two["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&back), ["rose", "rug"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);
    // Past the end: an empty page that still knows the total.
    let past = page(json!({ "f": f, "s": s, "n": 2, "a": two["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&past), Vec::<String>::new());
    assert_eq!(past["totalCount"], 4);

    // Relevance pages too: with the query's own cursors.
    let (q, r) = (json!({ "query": "oud" }), json!({ "key": "RELEVANCE" }));
    let first = page(json!({ "f": q, "s": r, "n": 1 })).await;
    assert_eq!(names(&first), ["oud"]);
    let next = page(json!({ "f": q, "s": r, "n": 1, "a": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&next), ["candle"]);

    // A cursor of one order is refused in another; so are sorts missing what they need.
    let cursor = one["pageInfo"]["endCursor"].clone();
    let wrong = json!({ "s": { "key": "NEWEST" }, "a": cursor, "n": 2 });
    assert_eq!(refused(&t, &guest, SEARCH, wrong).await, "BAD_USER_INPUT");
    for bad in [
        json!({ "s": { "key": "PRICE" } }),
        json!({ "s": { "key": "RELEVANCE" } }),
        json!({ "f": { "minPrice": 10 } }),
        json!({ "f": { "currency": "SAR", "minPrice": 20, "maxPrice": 10 } }),
        json!({ "f": { "currency": "SAR", "minPrice": -1 } }),
        json!({ "f": { "currency": "XYZ" } }),
        json!({ "f": { "query": "x".repeat(201) } }),
        json!({ "f": { "tags": vec!["t"; 21] } }),
        json!({ "f": { "query": "oud" }, "a": "not-a-cursor" }),
    ] {
        assert_eq!(
            refused(&t, &guest, SEARCH, bad.clone()).await,
            "BAD_USER_INPUT",
            "{bad}"
        );
    }
}

const FACETS: &str = "query($f: ProductFilter) { products(filter: $f, first: 1) { totalCount facets {
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

async fn suggested(t: &TestDb, ctx: &RequestContext, typed: &str) -> Vec<String> {
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
