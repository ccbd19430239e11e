//! Search: full text with ranking across titles, SKUs, tags, descriptions and translations;
//! filters, sorts and cursors; facet counts; autocomplete with typos; the SQL price rule equal to
//! the pricing function; search rows kept in step with their sources; tenant isolation.

mod facets;
mod sources;

use crate::common::{hold, tenant, test_db};
use catalog::ids::{LocationId, UserId, VariantId};
use catalog::{Catalog, build_schema};
use chrono::{Duration, Utc};
use cityos_core::{Actor, RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, context, user_context};
use serde_json::{Value, json};
use std::collections::HashMap;

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
    let vendors = [
        cityos_fixtures::approved_vendor(t, &info).await.to_string(),
        cityos_fixtures::approved_vendor(t, &info).await.to_string(),
    ];
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
