//! `cargo xtask bench`: the storefront product list under load, through the router and straight to
//! the catalog subgraph, on a real stack (release builds, embedded PostgreSQL).
//!
//! The listing is the storefront's: a page of products with price ranges and, per variant, the
//! shopper's price (sale list and tiers applied), compare-at price and stock. The search is a
//! storefront search page: a full-text query with an in-stock filter, by relevance or by price,
//! 20 results with price range and rating, and the facet counts (categories, tags, in stock,
//! price ranges).
//!
//! The commerce scenarios, at a steady `--commerce-rate` (50 requests per second by default): add
//! to cart (one unit to a guest cart, the priced cart back), and checkout of ready guest carts of 4
//! lines, once from one vendor and once from four (shipping and VAT on), each request a distinct
//! cart; statements per checkout show whether the vendor count matters.
//!
//! For each scenario: a closed-loop load of `--concurrency` clients, or an open-loop load of
//! `--rate` requests per second, for `--seconds` after a warm-up, reporting requests per second, p50 and p99 latency, SQL statements per request (from
//! `pg_stat_statements`, counting every statement the application role ran, BEGIN and COMMIT
//! included), processor time per request of each process (router, subgraphs, the database's
//! server processes, the load generator itself) and the resident memory of each process
//! afterwards. The load generator shares the machine's cores with the stack, as it would on a
//! two-core box; the processor times say where those cores went.

#![expect(clippy::print_stdout, reason = "the report is this program's output")]

use cityos_e2e::fixtures::{
    create_location, create_stocked_product, create_tenant, platform_token, staff_op,
};
use cityos_e2e::operations::{catalog, orders};
use cityos_e2e::{Stack, StackOptions, process_cpu_time};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

struct Args {
    seconds: u64,
    concurrency: usize,
    products: usize,
    page: usize,
    rate: u32,
    /// Requests per second of the add-to-cart and checkout scenarios.
    commerce_rate: u32,
}

fn args() -> Args {
    let mut args = Args {
        seconds: 10,
        concurrency: 16,
        products: 100,
        page: 50,
        rate: 300,
        commerce_rate: 50,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
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
            other => {
                panic!(
                    "unknown argument {other}: use --seconds, --concurrency, --products, --page, --rate, --commerce-rate"
                )
            }
        }
    }
    args
}

#[derive(diesel::QueryableByName)]
struct Calls {
    #[diesel(sql_type = BigInt)]
    calls: i64,
}

/// Statements run by the application role in this database since the last reset.
async fn app_statements(conn: &mut AsyncPgConnection) -> Option<i64> {
    diesel::sql_query(
        "SELECT COALESCE(sum(calls), 0)::bigint AS calls FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'cityos_app')",
    )
    .get_result::<Calls>(conn)
    .await
    .ok()
    .map(|c| c.calls)
}

#[derive(diesel::QueryableByName)]
struct Heavy {
    #[diesel(sql_type = diesel::sql_types::Text)]
    query: String,
    #[diesel(sql_type = BigInt)]
    calls: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    mean_ms: f64,
}

/// The application's statements that took the most database time, with their mean time.
async fn heaviest_statements(conn: &mut AsyncPgConnection) -> Vec<Heavy> {
    diesel::sql_query(
        "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query, calls, mean_exec_time AS mean_ms
         FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND userid = (SELECT oid FROM pg_roles WHERE rolname = 'cityos_app')
         ORDER BY total_exec_time DESC LIMIT 3",
    )
    .load(conn)
    .await
    .unwrap_or_default()
}

async fn reset_statements(conn: &mut AsyncPgConnection) {
    let _ = diesel::sql_query("SELECT pg_stat_statements_reset()")
        .execute(conn)
        .await;
}

#[derive(diesel::QueryableByName)]
struct Backend {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// Processor time used so far by each process of the stack, by each server process of the
/// benchmark's database (keyed by pid: pooled connections come and go) and by this program.
struct CpuSnapshot {
    processes: Vec<(String, Duration)>,
    postgres: HashMap<i32, Duration>,
    load_generator: Duration,
}

impl CpuSnapshot {
    async fn take(stack: &Stack, db: &mut AsyncPgConnection) -> Self {
        let backends: Vec<Backend> = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
        )
        .load(db)
        .await
        .unwrap_or_default();
        let postgres = backends
            .into_iter()
            .filter_map(|b| {
                let time = process_cpu_time(u32::try_from(b.pid).ok()?)?;
                Some((b.pid, time))
            })
            .collect();
        Self {
            processes: stack
                .cpu_time()
                .into_iter()
                .map(|(name, time)| (name.to_owned(), time))
                .collect(),
            postgres,
            load_generator: process_cpu_time(std::process::id()).unwrap_or_default(),
        }
    }

    /// Processor time used since `before`, per process name.
    fn since(&self, before: &Self) -> Vec<(String, Duration)> {
        let mut used: Vec<(String, Duration)> = self
            .processes
            .iter()
            .map(|(name, now)| {
                let then = before
                    .processes
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Duration::ZERO, |(_, t)| *t);
                (name.clone(), now.saturating_sub(then))
            })
            .collect();
        let postgres = self
            .postgres
            .iter()
            .map(|(pid, now)| {
                now.saturating_sub(before.postgres.get(pid).copied().unwrap_or_default())
            })
            .sum();
        used.push(("postgres".to_owned(), postgres));
        used.push((
            "load generator".to_owned(),
            self.load_generator.saturating_sub(before.load_generator),
        ));
        used
    }
}

/// What a run measured: the latency of each successful request, sorted, and the failures.
struct Outcome {
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Outcome {
    fn new(mut latencies_us: Vec<u64>, errors: usize, elapsed: Duration) -> Self {
        latencies_us.sort_unstable();
        Self {
            errors,
            elapsed,
            latencies_us,
        }
    }

    /// Successful requests.
    fn requests(&self) -> usize {
        self.latencies_us.len()
    }
}

/// Runs `concurrency` clients against `url` for `duration`. Each client cycles through `bodies`,
/// clients starting at different offsets.
async fn load(
    url: &str,
    headers: &[(String, String)],
    bodies: &[String],
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, url, headers, bodies) = (
                client.clone(),
                url.to_owned(),
                headers.to_vec(),
                bodies.to_vec(),
            );
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                let mut n = worker * 7;
                while Instant::now() < deadline {
                    n += 1;
                    let t = Instant::now();
                    if send(&client, &url, &headers, &bodies[n % bodies.len()]).await {
                        latencies.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for worker in workers {
        let (latencies, errors) = worker.await.expect("worker");
        all.extend(latencies);
        failed += errors;
    }
    Outcome::new(all, failed, started.elapsed())
}

/// Sends one request; true when it succeeded with no GraphQL error.
async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> bool {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        request = request.header(k, v);
    }
    match request.send().await {
        Ok(r) if r.status().is_success() => matches!(r.bytes().await, Ok(b)
            if !b.windows(9).any(|w| w == b"\"errors\":")
                && !b.windows(15).any(|w| w == b"\"userErrors\":[{")),
        _ => false,
    }
}

/// Open loop: starts `rate` requests per second on schedule whatever the answers, and measures each
/// from its scheduled start (so a stall counts against every request it delays).
async fn load_at_rate(
    url: &str,
    headers: &[(String, String)],
    bodies: &[String],
    rate: u32,
    duration: Duration,
) -> Outcome {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let started = Instant::now();
    let total = (duration.as_secs_f64() * f64::from(rate)) as usize;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = started + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(scheduled.into()).await;
        let (client, url, headers, body) = (
            client.clone(),
            url.to_owned(),
            headers.to_vec(),
            bodies[i % bodies.len()].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let ok = send(&client, &url, &headers, &body).await;
            (
                ok,
                u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX),
            )
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for task in tasks {
        match task.await.expect("request task") {
            (true, us) => all.push(us),
            (false, _) => failed += 1,
        }
    }
    Outcome::new(all, failed, started.elapsed())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
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

/// Request bodies of the commerce scenarios.
struct Commerce {
    /// `cartLinesAdd` of one unit to open carts, cycling over carts and variants.
    adds: Vec<String>,
    /// `checkoutComplete` of distinct ready carts: 4 lines of one vendor.
    one_vendor: Vec<String>,
    /// The same with 4 lines of 4 vendors.
    four_vendors: Vec<String>,
    /// How many of each checkout list are for the warm-up.
    warm: usize,
}

const ADDRESS: &str = "{ firstName: \"Bench\", lastName: \"Buyer\", line1: \"Olaya Street 1\", city: \"Riyadh\", postalCode: \"12211\", countryCode: \"SA\" }";

/// Guest carts with `lines` (none for empty carts), an e-mail and an address; returns their ids.
async fn carts(stack: &Stack, key: &str, n: usize, lines: &[String]) -> Vec<String> {
    let storefront = [("x-publishable-key", key)];
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let batch = (n - ids.len()).min(25);
        let document: String = (0..batch)
            .map(|k| format!("c{k}: cartCreate(input: {{ email: \"bench@example.com\" }}) {{ cart {{ id }} }} "))
            .collect();
        let r = stack
            .gql(
                &storefront,
                &format!("mutation {{ {document} }}"),
                json!({}),
            )
            .await;
        for k in 0..batch {
            ids.push(
                r.data()[format!("c{k}")]["cart"]["id"]
                    .as_str()
                    .expect("cart")
                    .to_owned(),
            );
        }
    }
    let items: String = lines
        .iter()
        .map(|v| format!("{{ variantId: \"{v}\", quantity: 1 }}, "))
        .collect();
    for chunk in ids.chunks(10) {
        let document: String = chunk
            .iter()
            .enumerate()
            .map(|(k, cart)| {
                let add = if lines.is_empty() {
                    String::new()
                } else {
                    format!("l{k}: cartLinesAdd(input: {{ cartId: \"{cart}\", lines: [{items}] }}) {{ userErrors {{ code }} }} ")
                };
                format!("{add}u{k}: cartUpdate(input: {{ cartId: \"{cart}\", shippingAddress: {ADDRESS} }}) {{ userErrors {{ code }} }} ")
            })
            .collect();
        let r = stack
            .gql(
                &storefront,
                &format!("mutation {{ {document} }}"),
                json!({}),
            )
            .await;
        assert!(
            !r.body.to_string().contains("\"code\""),
            "preparing carts: {}",
            r.body
        );
    }
    ids
}

/// Seven products for sale (four of one vendor, one each of three others) with plenty of stock,
/// a flat shipping rate and 15% VAT, and the carts the commerce scenarios use.
async fn prepare_commerce(
    stack: &Stack,
    shop: &cityos_e2e::fixtures::Tenant,
    location: &str,
    args: &Args,
) -> Commerce {
    let vendors: Vec<String> = (0..4).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let mut variants = Vec::new();
    for (i, vendor) in [0, 0, 0, 0, 1, 2, 3].into_iter().enumerate() {
        let (product, created) =
            create_stocked_product(stack, shop, &format!("bench-shop-{i}"), location, 100_000)
                .await;
        staff_op(
            stack,
            shop,
            catalog::PRODUCT_UPDATE,
            json!({ "input": { "id": product, "vendorId": vendors[vendor] } }),
        )
        .await;
        variants.push(created[0].clone());
    }
    staff_op(
        stack,
        shop,
        orders::SHIPPING_METHOD_CREATE,
        json!({ "input": { "name": "Courier", "kind": "FLAT_RATE", "rateMinor": 1500 } }),
    )
    .await;
    staff_op(
        stack,
        shop,
        orders::TAX_RULE_CREATE,
        json!({ "input": { "name": "VAT", "countryCode": "SA", "rateBasisPoints": 1500, "inclusive": false } }),
    )
    .await;
    let rate = usize::try_from(args.commerce_rate).unwrap_or(50);
    let warm = 2 * rate;
    let needed = warm + rate * usize::try_from(args.seconds).unwrap_or(10);
    let open = carts(stack, &shop.key, 300, &[]).await;
    let adds = (0..open.len() * 2)
        .map(|i| {
            let (cart, variant) = (&open[i % open.len()], &variants[i % variants.len()]);
            cityos_client::body(
                orders::CART_LINES_ADD,
                json!({ "input": { "cartId": cart, "lines": [{ "variantId": variant, "quantity": 1 }] } }),
            )
        })
        .collect();
    let checkout = |ids: Vec<String>, tag: &str| -> Vec<String> {
        ids.iter()
            .enumerate()
            .map(|(i, cart)| {
                cityos_client::body(
                    orders::CHECKOUT_COMPLETE,
                    json!({ "input": { "cartId": cart, "idempotencyKey": format!("bench-{tag}-{i}") } }),
                )
            })
            .collect()
    };
    let one = carts(stack, &shop.key, needed, &variants[..4]).await;
    let four = carts(
        stack,
        &shop.key,
        needed,
        &[
            variants[0].clone(),
            variants[4].clone(),
            variants[5].clone(),
            variants[6].clone(),
        ],
    )
    .await;
    Commerce {
        adds,
        one_vendor: checkout(one, "one"),
        four_vendors: checkout(four, "four"),
        warm,
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    // The production cache time, and no in-flight deduplication, so every request pays its full
    // cost (the requests are mostly distinct anyway, but concurrent clients would share some).
    let options = StackOptions {
        auth_cache_ttl_ms: 2000,
        log_filter: "warn".into(),
        deduplicate_queries: false,
        events: None,
        stripe_api_base: None,
    };
    let stack = Stack::start_with(options).await;
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
    let stats = diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut db)
        .await
        .is_ok();

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
    let distinct: Vec<String> = cursors
        .iter()
        .take(args.products.saturating_sub(args.page).max(1))
        .cloned()
        .map(body)
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
            "storefront search, through the router",
            stack.url.clone(),
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
        let cpu_before = CpuSnapshot::take(&stack, &mut db).await;
        let outcome = run(measured, args.seconds).await;
        let cpu = CpuSnapshot::take(&stack, &mut db).await.since(&cpu_before);
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
    }
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
}
