//! `cargo xtask bench --only memory`: the catalog's memory under a catalog of 100,000 products in
//! 1,000 tenants, when storefronts ask many more distinct questions than its response cache can
//! hold.
//!
//! The tenants are made through the API (storefronts select them by `x-tenant`); their products (100 each,
//! one priced variant, published) are written in bulk as the database owner, so the catalog's
//! triggers build their cards and search rows as for any write. Then every tenant's storefront
//! listing is asked at 20 page sizes, straight to the catalog: 20,000 distinct answers of 4 to
//! 15 KB, several times the cache's budget. The catalog's resident memory is sampled throughout,
//! and the cache's own count of what it holds is read from `/metrics`.

use super::Args;
use cityos_e2e::Stack;
use cityos_e2e::fixtures::platform_token;
use cityos_e2e::operations::{catalog, identity};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use std::time::{Duration, Instant};

const TENANTS: usize = 1_000;
const PRODUCTS_PER_TENANT: usize = 100;
const PAGE_SIZES: std::ops::Range<usize> = 10..30;

fn catalog_kib(stack: &Stack) -> u64 {
    stack
        .resident_kib()
        .into_iter()
        .find(|(name, _)| *name == "catalog")
        .map_or(0, |(_, kib)| kib)
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> serde_json::Value {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

/// Creates tenant `i` (as the platform admin); returns its id and slug.
async fn tenant(client: &reqwest::Client, url: &str, platform: &str, i: usize) -> (String, String) {
    let slug = format!("memory-{i:04}");
    let bearer = format!("Bearer {platform}");
    let created = post(
        client,
        url,
        &[("authorization", &bearer)],
        cityos_client::body(
            identity::TENANT_CREATE,
            json!({ "input": { "name": format!("Tenant {i}"), "slug": slug, "defaultCurrency": "SAR",
                "defaultLocale": "ar", "supportedLocales": ["en"], "timezone": "Asia/Riyadh",
                "admin": { "email": format!("admin@{slug}.test"), "password": "tenant-admin-pass" } } }),
        ),
    )
    .await;
    let id = created["data"]["tenantCreate"]["tenant"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("tenant: {created}"))
        .to_owned();
    (id, slug)
}

pub(crate) async fn run(args: &Args) {
    let budget_mb = args.cache_mb.unwrap_or(64);
    let stack = Stack::start_with(crate::production_options(Some(budget_mb))).await;
    let platform = platform_token(&stack).await;
    let client = reqwest::Client::new();

    let started = Instant::now();
    let mut tenants = Vec::with_capacity(TENANTS);
    for chunk in (0..TENANTS).collect::<Vec<_>>().chunks(4) {
        let mut set = tokio::task::JoinSet::new();
        for &i in chunk {
            let (client, url, platform) = (client.clone(), stack.url.clone(), platform.clone());
            set.spawn(async move { tenant(&client, &url, &platform, i).await });
        }
        while let Some(made) = set.join_next().await {
            tenants.push(made.expect("tenant task"));
        }
    }
    let made_tenants = started.elapsed();

    let started = Instant::now();
    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    for chunk in tenants.chunks(100) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let ids = format!("'{{{}}}'::uuid[]", ids.join(","));
        for sql in [
            format!(
                "INSERT INTO catalog.products (tenant_id, id, title, handle, description, status, published_at)
                 SELECT t, gen_random_uuid(), 'Product ' || n, 'product-' || n,
                        'A product of the memory benchmark, number ' || n || '.', 'PUBLISHED', now()
                 FROM unnest({ids}) t, generate_series(1, {PRODUCTS_PER_TENANT}) n"
            ),
            format!(
                "INSERT INTO catalog.product_variants (tenant_id, id, product_id, sku, title)
                 SELECT p.tenant_id, gen_random_uuid(), p.id, upper(p.handle), 'Default'
                 FROM catalog.products p WHERE p.tenant_id = ANY({ids})"
            ),
            format!(
                "INSERT INTO catalog.variant_prices (tenant_id, variant_id, currency, amount)
                 SELECT v.tenant_id, v.id, 'SAR', 1000 + (random() * 9000)::int
                 FROM catalog.product_variants v WHERE v.tenant_id = ANY({ids})"
            ),
        ] {
            diesel::sql_query(sql)
                .execute(&mut db)
                .await
                .unwrap_or_else(|e| panic!("seeding products: {e}"));
        }
    }
    let seeded = started.elapsed();

    let bodies: Vec<(String, String)> = tenants
        .iter()
        .flat_map(|(_, slug)| {
            PAGE_SIZES.map(move |first| {
                (
                    slug.clone(),
                    cityos_client::body(
                        catalog::STOREFRONT_PRODUCTS,
                        json!({ "first": first, "after": null }),
                    ),
                )
            })
        })
        .collect();
    let before = catalog_kib(&stack);
    let url = stack.subgraph_url("catalog").to_owned();
    let secret = stack.router_secret.clone();
    let workers = 16;
    let shared = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (client, url, secret, bodies, next) = (
            client.clone(),
            url.clone(),
            secret.clone(),
            shared.clone(),
            next.clone(),
        );
        set.spawn(async move {
            let mut bytes = 0usize;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((slug, body)) = bodies.get(i) else {
                    return bytes;
                };
                let answer = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("router-authorization", &secret)
                    .header("x-tenant", slug)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("request")
                    .bytes()
                    .await
                    .expect("answer");
                assert!(
                    !answer.starts_with(b"{\"data\":null"),
                    "{}",
                    String::from_utf8_lossy(&answer)
                );
                bytes += answer.len();
            }
        });
    }
    let mut peak = before;
    let mut offered = 0usize;
    loop {
        tokio::select! {
            done = set.join_next() => match done {
                Some(bytes) => offered += bytes.expect("worker"),
                None => break,
            },
            () = tokio::time::sleep(Duration::from_millis(250)) => {
                peak = peak.max(catalog_kib(&stack));
            }
        }
    }
    let took = started.elapsed();
    let after = catalog_kib(&stack);
    peak = peak.max(after);
    let held = stack
        .metric(
            "catalog",
            "cityos_response_cache_bytes{subgraph=\"catalog\"}",
        )
        .await
        .unwrap_or(f64::NAN);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\nmemory: {TENANTS} tenants (made in {:.0}s), {} products (written in {:.0}s); {} distinct \
         listing answers straight to the catalog in {:.0}s ({:.0} req/s), {:.0} MiB of answers \
         offered to a cache of {budget_mb} MiB",
        made_tenants.as_secs_f64(),
        TENANTS * PRODUCTS_PER_TENANT,
        seeded.as_secs_f64(),
        shared.len(),
        took.as_secs_f64(),
        shared.len() as f64 / took.as_secs_f64(),
        offered as f64 / f64::from(1 << 20),
    );
    println!(
        "- catalog resident memory: {:.1} MiB before, {:.1} MiB at the peak, {:.1} MiB after; the \
         cache holds {:.1} MiB",
        mib(before),
        mib(peak),
        mib(after),
        held / f64::from(1 << 20)
    );
}
