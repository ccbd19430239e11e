//! `cargo xtask bench`: the storefront product list under load, through the router and straight to
//! the catalog subgraph, on a real stack (release builds, embedded PostgreSQL).
//!
//! For each scenario: a closed-loop load of `--concurrency` clients for `--seconds` after a warm-up,
//! reporting requests per second, p50 and p99 latency, SQL statements per request (from
//! `pg_stat_statements`, counting every statement the application role ran, BEGIN and COMMIT
//! included) and the resident memory of each process afterwards. The load generator shares the
//! machine's cores with the stack, as it would on a two-core box; read the figures as such.

#![expect(clippy::print_stdout, reason = "the report is this program's output")]

use cityos_e2e::fixtures::{create_product, create_tenant, platform_token};
use cityos_e2e::{Stack, StackOptions};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use std::time::{Duration, Instant};

struct Args {
    seconds: u64,
    concurrency: usize,
    products: usize,
    page: usize,
}

fn args() -> Args {
    let mut args = Args {
        seconds: 10,
        concurrency: 16,
        products: 50,
        page: 20,
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
            "--products" => args.products = usize::try_from(value).unwrap_or(50),
            "--page" => args.page = usize::try_from(value).unwrap_or(20),
            other => {
                panic!("unknown argument {other}: use --seconds, --concurrency, --products, --page")
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

async fn reset_statements(conn: &mut AsyncPgConnection) {
    let _ = diesel::sql_query("SELECT pg_stat_statements_reset()")
        .execute(conn)
        .await;
}

struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u64>,
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
                    let mut request = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(bodies[n % bodies.len()].clone());
                    for (k, v) in &headers {
                        request = request.header(k, v);
                    }
                    let t = Instant::now();
                    match request.send().await {
                        Ok(r) if r.status().is_success() => match r.bytes().await {
                            Ok(b) if !b.windows(9).any(|w| w == b"\"errors\":") => {
                                latencies.push(
                                    u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX),
                                );
                            }
                            _ => errors += 1,
                        },
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for worker in workers {
        let (latencies, errors) = worker.await.expect("worker");
        outcome.latencies_us.extend(latencies);
        outcome.errors += errors;
    }
    outcome.elapsed = started.elapsed();
    outcome.requests = outcome.latencies_us.len();
    outcome.latencies_us.sort_unstable();
    outcome
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
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
    };
    let stack = Stack::start_with(options).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bench").await;
    for i in 0..args.products {
        create_product(&stack, &shop, &format!("bench-product-{i:03}"), "PUBLISHED").await;
    }
    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let stats = diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut db)
        .await
        .is_ok();

    let query = "query($first: Int!, $after: String) { products(first: $first, after: $after) { totalCount \
                 pageInfo { hasNextPage endCursor } edges { cursor node { id title handle description status publishedAt } } } }";
    let listed = stack
        .gql(
            &[("x-publishable-key", &shop.key)],
            "{ products(first: 100) { edges { cursor } } }",
            json!({}),
        )
        .await;
    let cursors: Vec<serde_json::Value> = listed.data()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();
    let body = |after: serde_json::Value| {
        json!({ "query": query, "variables": { "first": args.page, "after": after } }).to_string()
    };
    // Distinct requests: each starts the page at another product, as browsing shoppers do.
    let distinct: Vec<String> = cursors
        .iter()
        .take(args.products.saturating_sub(args.page).max(1))
        .cloned()
        .map(body)
        .collect();
    let key = ("x-publishable-key".to_owned(), shop.key.clone());
    let secret = (
        "router-authorization".to_owned(),
        stack.router_secret.clone(),
    );
    let scenarios = [
        (
            "storefront list, through the router",
            stack.url.clone(),
            vec![key.clone()],
            &distinct,
        ),
        (
            "storefront list, straight to catalog",
            stack.catalog_url.clone(),
            vec![key, secret],
            &distinct,
        ),
    ];

    println!(
        "\n{} published products, page of {}, {} clients, {}s per scenario (after a 2s warm-up)\n",
        args.products, args.page, args.concurrency, args.seconds
    );
    println!("| scenario | req/s | p50 ms | p99 ms | errors | SQL statements/request |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, url, headers, bodies) in scenarios {
        load(
            &url,
            &headers,
            bodies,
            args.concurrency,
            Duration::from_secs(2),
        )
        .await;
        if stats {
            reset_statements(&mut db).await;
        }
        let outcome = load(
            &url,
            &headers,
            bodies,
            args.concurrency,
            Duration::from_secs(args.seconds),
        )
        .await;
        let statements = if stats {
            app_statements(&mut db).await
        } else {
            None
        };
        let per_request = statements.filter(|_| outcome.requests > 0).map_or_else(
            || "n/a".to_owned(),
            |s| format!("{:.2}", s as f64 / outcome.requests as f64),
        );
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {} | {per_request} |",
            outcome.requests as f64 / outcome.elapsed.as_secs_f64(),
            percentile(&outcome.latencies_us, 50.0),
            percentile(&outcome.latencies_us, 99.0),
            outcome.errors,
        );
    }
    println!("\nresident memory after the runs:");
    for (name, kib) in stack.resident_kib() {
        println!("- {name}: {:.1} MiB", kib as f64 / 1024.0);
    }
}
