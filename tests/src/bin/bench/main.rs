//! `cargo xtask bench`: the storefront product list under load, through the router and straight to
//! the catalog subgraph, on a real stack (release builds, embedded PostgreSQL).
//!
//! The listing is the storefront's: a page of products with price ranges and, per variant, the
//! shopper's price (sale list and tiers applied), compare-at price and stock. The search is a
//! storefront search page: a full-text query with an in-stock filter, by relevance or by price,
//! 20 results with price range and rating, and the facet counts (categories, tags, in stock,
//! price ranges).
//!
//! The variant listing is the listing issue 14 measured (ids, titles, handles, each variant's SKU,
//! price and stock); the product page is a product by handle with its description, options,
//! media, categories, price range, rating and each variant's price and stock. Every read scenario
//! repeats its distinct requests, as storefront traffic does, so after the first round the
//! catalog answers them from its response cache (`--cache-mb 0` measures it without one).
//!
//! `--only memory` (`memory.rs`): the catalog's memory under 100,000 products in 1,000 tenants.
//!
//! `--only payouts` (`payouts.rs`): one payout run over `--vendors` vendors (1,000) with
//! `--entries` available ledger entries each (100), and its transfers. `--only dashboard`
//! (`dashboard.rs`): the vendor dashboard through the router at `--commerce-rate`. `--only b2b`
//! (`b2b.rs`): a company's checkout on account, checkout into an approval request, final approval
//! and quote acceptance, and its dashboard, through the router at `--commerce-rate`. `--only
//! bookings` (`bookings.rs`): a month of availability with 500 and 2,000 bookings, and holds.
//!
//! The commerce scenarios, at a steady `--commerce-rate` (50 requests per second by default): add
//! to cart (one unit to a guest cart, the priced cart back), and checkout of ready guest carts of 4
//! lines, once from one vendor and once from four (shipping and VAT on), each request a distinct
//! cart; statements per checkout show whether the vendor count matters.
//!
//! The router's ceiling (`ceiling.rs`): a second router of the same binary and config in front of a
//! static catalog that replays the real catalog's recorded answers, under each read scenario, so
//! each run reports the router alone beside our figure and the ratio.
//!
//! For each scenario: a closed-loop load of `--concurrency` clients, or an open-loop load of
//! `--rate` requests per second, for `--seconds` after a warm-up, reporting requests per second, p50 and p99 latency, SQL statements per request (from
//! `pg_stat_statements`, counting every statement the application role ran, BEGIN and COMMIT
//! included), processor time per request of each process (router, subgraphs, the database's
//! server processes, the load generator itself) and the resident memory of each process
//! afterwards. The load generator shares the machine's cores with the stack, as it would on a
//! two-core box; the processor times say where those cores went.

#![expect(clippy::print_stdout, reason = "the report is this program's output")]

mod b2b;
mod bookings;
mod ceiling;
mod commerce;
mod dashboard;
mod events;
mod measure;
mod memory;
mod payouts;

use commerce::prepare_commerce;
use measure::{
    CpuSnapshot, app_statements, heaviest_statements, load, load_at_rate, percentile,
    reset_statements,
};

use cityos_e2e::fixtures::{
    create_location, create_stocked_product, create_tenant, platform_token, staff_op,
};
use cityos_e2e::operations::catalog;
use cityos_e2e::{Stack, StackOptions};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use std::time::Duration;

pub(crate) struct Args {
    /// Only this part: `events` (events and jobs, in process), or everything when `None`.
    only: Option<String>,
    seconds: u64,
    concurrency: usize,
    products: usize,
    page: usize,
    rate: u32,
    /// Requests per second of the add-to-cart and checkout scenarios.
    commerce_rate: u32,
    /// The catalog's response-cache budget in MiB (0: off); the production default when absent.
    cache_mb: Option<u64>,
    /// `--only payouts`: vendors paid out by one run, and available entries each.
    vendors: usize,
    entries: usize,
}

fn args() -> Args {
    let mut args = Args {
        only: None,
        seconds: 10,
        concurrency: 16,
        products: 100,
        page: 50,
        rate: 300,
        commerce_rate: 50,
        cache_mb: None,
        vendors: 1_000,
        entries: 100,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        if pair[0] == "--only" {
            args.only = pair.get(1).cloned();
            continue;
        }
        let value = pair
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--seconds" => args.seconds = value,
            "--concurrency" => args.concurrency = usize::try_from(value).unwrap_or(16),
            "--products" => args.products = usize::try_from(value).unwrap_or(100),
            "--page" => args.page = usize::try_from(value).unwrap_or(50),
            "--rate" => args.rate = u32::try_from(value).unwrap_or(300),
            "--commerce-rate" => args.commerce_rate = u32::try_from(value).unwrap_or(50),
            "--cache-mb" => args.cache_mb = Some(value),
            "--vendors" => args.vendors = usize::try_from(value).unwrap_or(1_000),
            "--entries" => args.entries = usize::try_from(value).unwrap_or(100),
            other => {
                panic!(
                    "unknown argument {other}: use --only events|memory|payouts|dashboard|b2b|bookings, --seconds, --concurrency, --products, --page, --rate, --commerce-rate, --cache-mb"
                )
            }
        }
    }
    args
}

/// The stack as production runs it: the auth cache time, and no in-flight deduplication, so every
/// request reaches its subgraph; `cache_mb` is the catalog's response-cache budget (the default
/// when `None`).
pub(crate) fn production_options(cache_mb: Option<u64>) -> StackOptions {
    StackOptions {
        auth_cache_ttl_ms: 2000,
        log_filter: "warn".into(),
        deduplicate_queries: false,
        stripe_api_base: None,
        response_cache_mb: cache_mb,
    }
}

/// A scenario: its name, URL, headers, warm-up and measured bodies, and its rate (`None`: closed
/// loop).
type Scenario<'a> = (
    &'a str,
    String,
    Vec<(String, String)>,
    &'a [String],
    &'a [String],
    Option<u32>,
);

#[tokio::main]
async fn main() {
    let args = args();
    match args.only.as_deref() {
        Some("events") => return events::run(args.seconds).await,
        Some("memory") => return memory::run(&args).await,
        Some("payouts") => return payouts::run(args.vendors, args.entries).await,
        Some("dashboard") => return dashboard::run(&args).await,
        Some("b2b") => return b2b::run(&args).await,
        Some("bookings") => return bookings::run(&args).await,
        _ => {}
    }
    let mut stack = Stack::start_with(production_options(args.cache_mb)).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bench").await;
    // Every product: two variants priced in SAR and USD, stock at one location, a volume tier;
    // every other product on a running SALE list.
    let location = create_location(&stack, &shop, "Riyadh warehouse").await;
    let sale = staff_op(
        &stack,
        &shop,
        catalog::PRICE_LIST_CREATE,
        json!({ "input": { "name": "White Friday", "kind": "SALE" } }),
    )
    .await["priceList"]["id"]
        .clone();
    // Titles, types and tags from a small vocabulary, so searches match a few to a few dozen.
    let scents = [
        "Oud", "Rose", "Musk", "Amber", "Saffron", "Cedar", "Jasmine",
    ];
    let kinds = ["Perfume", "Candle", "Soap", "Oil", "Incense"];
    let category = staff_op(
        &stack,
        &shop,
        catalog::CATEGORY_CREATE,
        json!({ "input": { "name": "Fragrance", "handle": "fragrance" } }),
    )
    .await["category"]["id"]
        .clone();
    for i in 0..args.products {
        let units = i32::try_from(i % 7).unwrap_or(0) * 5;
        let (product, variants) = create_stocked_product(
            &stack,
            &shop,
            &format!("bench-product-{i:03}"),
            &location,
            units,
        )
        .await;
        staff_op(
            &stack,
            &shop,
            catalog::VOLUME_TIER_CREATE,
            json!({ "input": { "productId": product, "currency": "SAR", "minQuantity": 10, "percentOff": 10 } }),
        )
        .await;
        let (scent, kind) = (scents[i % scents.len()], kinds[i % kinds.len()]);
        staff_op(
            &stack,
            &shop,
            catalog::PRODUCT_UPDATE,
            json!({ "input": { "id": product, "title": format!("{scent} {kind} No. {i}"), "productType": kind,
                "tags": [scent.to_lowercase(), "gift"],
                "description": format!("A {} {} for everyday use.", scent.to_lowercase(), kind.to_lowercase()) } }),
        )
        .await;
        staff_op(
            &stack,
            &shop,
            catalog::PRODUCT_MEDIA_ADD,
            json!({ "input": { "productId": product, "url": format!("https://cdn.example.com/bench/{i}.jpg"),
                "altText": format!("{scent} {kind}") } }),
        )
        .await;
        staff_op(
            &stack,
            &shop,
            catalog::PRODUCT_CATEGORIES_SET,
            json!({ "input": { "productId": product, "categoryIds": [category] } }),
        )
        .await;
        if i % 2 == 0 {
            staff_op(
                &stack,
                &shop,
                catalog::PRICE_LIST_PRICES_SET,
                json!({ "input": { "priceListId": sale, "entries": [{ "variantId": variants[0],
                    "prices": [{ "currency": "SAR", "amountMinor": 7900 }] }] } }),
            )
            .await;
        }
    }
    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let stats = measure::statement_stats(&mut db).await;

    // The storefront listing (`StorefrontProducts` in subgraphs/catalog/operations.graphql): each
    // product with its price range and rating, and each variant's price for the shopper (sale and
    // tiers applied), compare-at price and stock.
    let listed = stack
        .op(
            &[("x-publishable-key", &shop.key)],
            catalog::PRODUCT_IDS,
            json!({ "first": 100 }),
        )
        .await;
    let cursors: Vec<serde_json::Value> = listed.data()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();
    let body = |after: serde_json::Value| {
        cityos_client::body(
            catalog::STOREFRONT_PRODUCTS,
            json!({ "first": args.page, "after": after }),
        )
    };
    // Distinct requests: each starts the page at another product, as browsing shoppers do.
    let starts = || {
        cursors
            .iter()
            .take(args.products.saturating_sub(args.page).max(1))
            .cloned()
    };
    let distinct: Vec<String> = starts().map(body).collect();
    // The listing as issue 14 measured it (`StorefrontVariantListing`), from the same starts.
    let plain: Vec<String> = starts()
        .map(|after| {
            cityos_client::body(
                catalog::STOREFRONT_VARIANT_LISTING,
                json!({ "first": args.page, "after": after }),
            )
        })
        .collect();
    // The product page by handle (`StorefrontProductPage`), each request another product.
    let pages: Vec<String> = (0..args.products)
        .map(|i| {
            cityos_client::body(
                catalog::STOREFRONT_PRODUCT_PAGE,
                json!({ "handle": format!("bench-product-{i:03}") }),
            )
        })
        .collect();
    // The search page (`StorefrontSearch`): each request another query (one or two words), by
    // relevance or by price.
    let mut searches = Vec::new();
    for (i, scent) in scents.iter().enumerate() {
        for q in [
            scent.to_string(),
            format!("{scent} {}", kinds[i % kinds.len()]),
            format!("{} or {scent}", kinds[(i + 1) % kinds.len()]),
        ] {
            for sort in [serde_json::Value::Null, json!({ "key": "PRICE" })] {
                searches.push(cityos_client::body(
                    catalog::STOREFRONT_SEARCH,
                    json!({ "q": q, "sort": sort }),
                ));
            }
        }
    }
    let key = ("x-publishable-key".to_owned(), shop.key.clone());
    let secret = (
        "router-authorization".to_owned(),
        stack.router_secret.clone(),
    );
    let commerce = prepare_commerce(&stack, &shop, &location, &args).await;
    // The ceiling: a second router of the same binary and config, in front of a catalog that
    // replays the real one's answers to the very same requests (recorded through it first).
    let recorded = ceiling::StaticCatalog::start(stack.subgraph_url("catalog")).await;
    let ceiling_url = stack.start_router_with("router-ceiling", &[("catalog", recorded.url())]);
    let http = reqwest::Client::new();
    for body in distinct.iter().chain(&plain).chain(&pages).chain(&searches) {
        let sent = http
            .post(&ceiling_url)
            .header("content-type", "application/json")
            .header("x-publishable-key", &shop.key)
            .body(body.clone())
            .send()
            .await
            .expect("recording");
        assert!(sent.status().is_success(), "recording failed");
    }
    recorded.replay();
    // `None`: closed loop with `--concurrency` clients; `Some(rate)`: open loop at that rate.
    // Each scenario warms up on its first bodies and is measured on the rest (the same ones for
    // reads; fresh carts for checkout, which closes each cart it is given).
    let scenarios: Vec<Scenario<'_>> = vec![
        (
            "storefront listing, through the router",
            stack.url.clone(),
            vec![key.clone()],
            &distinct,
            &distinct,
            None,
        ),
        (
            "storefront listing, straight to catalog",
            stack.subgraph_url("catalog").to_owned(),
            vec![key.clone(), secret.clone()],
            &distinct,
            &distinct,
            None,
        ),
        (
            "storefront listing, through the router, steady rate",
            stack.url.clone(),
            vec![key.clone()],
            &distinct,
            &distinct,
            Some(args.rate),
        ),
        (
            "storefront listing, router ceiling (catalog replayed)",
            ceiling_url.clone(),
            vec![key.clone()],
            &distinct,
            &distinct,
            None,
        ),
        (
            "storefront variant listing, through the router",
            stack.url.clone(),
            vec![key.clone()],
            &plain,
            &plain,
            None,
        ),
        (
            "storefront variant listing, router ceiling (catalog replayed)",
            ceiling_url.clone(),
            vec![key.clone()],
            &plain,
            &plain,
            None,
        ),
        (
            "storefront product page, through the router",
            stack.url.clone(),
            vec![key.clone()],
            &pages,
            &pages,
            None,
        ),
        (
            "storefront product page, router ceiling (catalog replayed)",
            ceiling_url.clone(),
            vec![key.clone()],
            &pages,
            &pages,
            None,
        ),
        (
            "storefront product page, straight to catalog",
            stack.subgraph_url("catalog").to_owned(),
            vec![key.clone(), secret.clone()],
            &pages,
            &pages,
            None,
        ),
        (
            "storefront search, through the router",
            stack.url.clone(),
            vec![key.clone()],
            &searches,
            &searches,
            None,
        ),
        (
            "storefront search, router ceiling (catalog replayed)",
            ceiling_url.clone(),
            vec![key.clone()],
            &searches,
            &searches,
            None,
        ),
        (
            "storefront search, straight to catalog",
            stack.subgraph_url("catalog").to_owned(),
            vec![key.clone(), secret],
            &searches,
            &searches,
            None,
        ),
        (
            "add to cart (priced cart back), through the router, steady rate",
            stack.url.clone(),
            vec![key.clone()],
            &commerce.adds,
            &commerce.adds,
            Some(args.commerce_rate),
        ),
        (
            "checkout, 4 lines of 1 vendor, through the router, steady rate",
            stack.url.clone(),
            vec![key.clone()],
            &commerce.one_vendor[..commerce.warm],
            &commerce.one_vendor[commerce.warm..],
            Some(args.commerce_rate),
        ),
        (
            "checkout, 4 lines of 4 vendors, through the router, steady rate",
            stack.url.clone(),
            vec![key.clone()],
            &commerce.four_vendors[..commerce.warm],
            &commerce.four_vendors[commerce.warm..],
            Some(args.commerce_rate),
        ),
    ];

    println!(
        "\n{} published products (2 variants each), listing pages of {}, search pages of 20 with \
         facets ({} distinct searches), {}s per scenario after a 2s warm-up; closed loop with {} \
         clients, or open loop at a fixed rate\n",
        args.products,
        args.page,
        searches.len(),
        args.seconds,
        args.concurrency
    );
    println!("| scenario | load | req/s | p50 ms | p99 ms | errors | SQL statements/request |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut heaviest = Vec::new();
    let mut cpu_rows = Vec::new();
    let mut cache_rows = Vec::new();
    let mut throughput: Vec<(&str, f64)> = Vec::new();
    for (name, url, headers, warm, measured, rate) in scenarios {
        let run = async |bodies: &[String], seconds| match rate {
            None => {
                load(
                    &url,
                    &headers,
                    bodies,
                    args.concurrency,
                    Duration::from_secs(seconds),
                )
                .await
            }
            Some(rate) => {
                load_at_rate(&url, &headers, bodies, rate, Duration::from_secs(seconds)).await
            }
        };
        run(warm, 2).await;
        if stats {
            reset_statements(&mut db).await;
        }
        let cache_before = cache_counters(&stack).await;
        let cpu_before = CpuSnapshot::take(&stack, &mut db).await;
        let outcome = run(measured, args.seconds).await;
        let cpu = CpuSnapshot::take(&stack, &mut db).await.since(&cpu_before);
        let cache_after = cache_counters(&stack).await;
        cache_rows.push((
            name,
            cache_after.0 - cache_before.0,
            cache_after.1 - cache_before.1,
        ));
        let statements = if stats {
            app_statements(&mut db).await
        } else {
            None
        };
        let heavy = if stats {
            heaviest_statements(&mut db).await
        } else {
            Vec::new()
        };
        let per_request = statements.filter(|_| outcome.requests() > 0).map_or_else(
            || "n/a".to_owned(),
            |s| format!("{:.2}", s as f64 / outcome.requests() as f64),
        );
        let load = rate.map_or_else(
            || format!("{} clients", args.concurrency),
            |r| format!("{r} req/s offered"),
        );
        println!(
            "| {name} | {load} | {:.0} | {:.2} | {:.2} | {} | {per_request} |",
            outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
            percentile(&outcome.latencies_us, 50.0),
            percentile(&outcome.latencies_us, 99.0),
            outcome.errors,
        );
        heaviest.push((name, heavy));
        cpu_rows.push((name, outcome.requests(), cpu));
        throughput.push((
            name,
            outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
        ));
    }
    // Ours against the ceiling, each pair from this run.
    let rate_of = |name: &str| {
        throughput
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(f64::NAN, |(_, r)| *r)
    };
    println!(
        "\nagainst the router's ceiling ({} answers recorded, {} requests missed them):",
        recorded.recorded(),
        recorded.misses()
    );
    for what in ["listing", "variant listing", "product page", "search"] {
        let ours = rate_of(&format!("storefront {what}, through the router"));
        let ceiling = rate_of(&format!(
            "storefront {what}, router ceiling (catalog replayed)"
        ));
        println!(
            "- {what}: {ours:.0} of {ceiling:.0} req/s, {:.0}% of the ceiling",
            100.0 * ours / ceiling
        );
    }
    // The peer issue 14 names: a well-known Node GraphQL commerce server on this kind of machine
    // answers a 50-product listing at 6-8 requests per second and a product by slug at 115-165.
    let (listing, page) = (
        rate_of("storefront variant listing, through the router"),
        rate_of("storefront product page, through the router"),
    );
    println!(
        "- against the Node peer: the {}-product listing {:.0} to {:.0} times its 6-8 req/s, the \
         product page {:.1} to {:.1} times its 115-165",
        args.page,
        listing / 8.0,
        listing / 6.0,
        page / 165.0,
        page / 115.0
    );
    println!(
        "\nprocessor time per request, ms (all processes together can use 2,000 ms per second):"
    );
    for (name, requests, cpu) in &cpu_rows {
        let per_request: Vec<String> = cpu
            .iter()
            .map(|(process, used)| {
                let ms = used.as_secs_f64() * 1000.0 / (*requests).max(1) as f64;
                format!("{process} {ms:.2}")
            })
            .collect();
        println!("- {name}: {}", per_request.join(", "));
    }
    println!("\nthe catalog's response cache (hits, and the fences they waited for):");
    for (name, hits, fences) in cache_rows.iter().filter(|(_, hits, _)| *hits > 0) {
        println!(
            "- {name}: {hits} hits, {fences} fences, {:.2} hits per fence",
            *hits as f64 / (*fences).max(1) as f64
        );
    }
    println!("\nstatements with the most database time (mean ms, calls):");
    for (name, heavy) in heaviest {
        println!("- {name}:");
        for h in heavy {
            println!("  - {:.3} ms x {}: {}", h.mean_ms, h.calls, h.query);
        }
    }
    println!("\nresident memory after the runs:");
    for (name, kib) in stack.resident_kib() {
        println!("- {name}: {:.1} MiB", kib as f64 / 1024.0);
    }
    drop(stack);
    events::run(args.seconds).await;
}

/// The catalog's response-cache hits and fences so far, from its `/metrics`.
async fn cache_counters(stack: &Stack) -> (u64, u64) {
    let count = async |series: &str| stack.metric("catalog", series).await.unwrap_or(0.0) as u64;
    (
        count("cityos_response_cache_lookups_total{outcome=\"hit\",subgraph=\"catalog\"}").await,
        count("cityos_response_cache_fences_total{subgraph=\"catalog\"}").await,
    )
}
