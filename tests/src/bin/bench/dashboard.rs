//! The vendor dashboard through the router (`VendorDashboard` in subgraphs/vendors/operations.graphql):
//! a vendor's balances, its last 20 ledger entries, this month's analytics and its 20 newest open
//! vendor orders, one request across the vendors and orders subgraphs, sent by the vendor's owner
//! acting for it (`x-vendor-id`, checked against its team). The vendor is onboarded through the
//! router, 20 orders are checked out from its product, and its ledger holds `--entries` entries
//! (sales and commissions, 100 by default) with a month of daily analytics. Reported at a steady
//! `--commerce-rate`: p50, p99 and SQL statements per request.

use crate::Args;
use crate::commerce::carts;
use crate::measure::{
    app_statements, frequent_statements, load_at_rate, percentile, reset_statements,
};
use chrono::Datelike as _;
use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    bearer, create_location, create_stocked_product, create_tenant, headers, platform_token,
    staff_op,
};
use cityos_e2e::operations::{catalog, identity, orders, vendors};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use std::time::{Duration, Instant};

pub(crate) async fn run(args: &Args) {
    let stack = Stack::start_with(crate::production_options(args.cache_mb)).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bench-vendor").await;
    let location = create_location(&stack, &shop, "Souq").await;

    // The owner signs up, applies, and is approved with its documents.
    let storefront = [("x-publishable-key", shop.key.as_str())];
    let owner_email = "owner@bench-vendor.test";
    stack
        .op(
            &storefront,
            identity::CUSTOMER_SIGN_UP,
            json!({ "input": { "email": owner_email, "password": "bench-pass-1" } }),
        )
        .await;
    let r = stack
        .op(
            &[("x-tenant", shop.slug.as_str())],
            identity::SIGN_IN,
            json!({ "input": { "email": owner_email, "password": "bench-pass-1" } }),
        )
        .await;
    let token = r.data()["signIn"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let owner = [
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
    ];
    let r = stack
        .op(&headers(&owner), vendors::VENDOR_APPLY, json!({ "input": { "name": "Bench Oud", "handle": "bench-oud", "email": "hi@bench-oud.test" } }))
        .await;
    let vendor = r.data()["vendorApply"]["vendor"]["id"]
        .as_str()
        .expect("vendor")
        .to_owned();
    let acting = [
        ("authorization", bearer(&token)),
        ("x-tenant", shop.slug.clone()),
        ("x-vendor-id", vendor.clone()),
    ];
    staff_op(
        &stack,
        &shop,
        vendors::VENDOR_REVIEW_START,
        json!({ "input": { "id": vendor } }),
    )
    .await;
    for kind in [
        "COMMERCIAL_REGISTRATION",
        "VAT_CERTIFICATE",
        "OWNER_ID",
        "BANK_LETTER",
    ] {
        let r = stack
            .op(&headers(&acting), vendors::VENDOR_DOCUMENT_SUBMIT, json!({ "input": { "vendorId": vendor, "kind": kind,
                "url": "https://files.test/doc.pdf", "sha256": "e".repeat(64), "expiresOn": "2099-01-01" } }))
            .await;
        let doc = r.data()["vendorDocumentSubmit"]["document"]["id"].clone();
        staff_op(
            &stack,
            &shop,
            vendors::VENDOR_DOCUMENT_REVIEW,
            json!({ "input": { "id": doc, "accept": true } }),
        )
        .await;
    }
    staff_op(
        &stack,
        &shop,
        vendors::VENDOR_APPROVE,
        json!({ "input": { "id": vendor } }),
    )
    .await;

    // Its product, once the catalog has seen the approval, and 20 orders of it.
    let (product, variants) =
        create_stocked_product(&stack, &shop, "bench-oud-oil", &location, 1_000).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = stack
            .op(
                &headers(&shop.staff()),
                catalog::PRODUCT_UPDATE,
                json!({ "input": { "id": product, "vendorId": vendor } }),
            )
            .await;
        if r.data()["productUpdate"]["userErrors"] == json!([]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the catalog never saw the approval"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for cart in carts(&stack, &shop.key, 20, &variants[..1]).await {
        let r = stack
            .op(
                &storefront,
                orders::CHECKOUT_COMPLETE,
                json!({ "input": { "cartId": cart, "idempotencyKey": cart } }),
            )
            .await;
        assert_eq!(
            r.data()["checkoutComplete"]["userErrors"],
            json!([]),
            "{}",
            r.body
        );
    }

    // Its money: `--entries` ledger entries and a month of analytics, written as the ledger's
    // consumers would have.
    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let tenant = &shop.id;
    let pairs = (args.entries / 2).max(1);
    let setup = format!(
        "CREATE TEMP TABLE bench_orders AS SELECT gen_random_uuid() AS vendor_order_id, k FROM generate_series(1, {pairs}) k;
         INSERT INTO vendors.sale_deliveries (tenant_id, vendor_order_id, vendor_id, delivered_at, available_at)
         SELECT '{tenant}', vendor_order_id, '{vendor}', now() - interval '20 days', now() - interval '6 days' FROM bench_orders WHERE k % 2 = 0;
         INSERT INTO vendors.balances (tenant_id, vendor_id, currency, balance, entries) VALUES ('{tenant}', '{vendor}', 'SAR', {pairs} * 900, {pairs} * 2);
         INSERT INTO vendors.ledger_entries (tenant_id, id, vendor_id, currency, seq, kind, amount, balance, vendor_order_id)
         SELECT '{tenant}', gen_random_uuid(), '{vendor}', 'SAR', 2 * k - 1 + s, CASE s WHEN 0 THEN 'SALE' ELSE 'COMMISSION' END,
                CASE s WHEN 0 THEN 1000 ELSE -100 END, (k - 1) * 900 + CASE s WHEN 0 THEN 1000 ELSE 900 END, vendor_order_id
         FROM bench_orders, generate_series(0, 1) s ORDER BY k, s;
         INSERT INTO vendors.vendor_days (tenant_id, vendor_id, currency, day, orders, units, gross, commission)
         SELECT '{tenant}', '{vendor}', 'SAR', d::date, 3, 5, 3000, 300
         FROM generate_series(date_trunc('month', now()), now(), interval '1 day') d ON CONFLICT DO NOTHING;
         ANALYZE vendors.ledger_entries, vendors.vendor_days, vendors.sale_deliveries;"
    );
    for statement in setup.split(";\n") {
        diesel::sql_query(statement)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    let today = chrono::Utc::now().date_naive();
    let from = today.with_day(1).unwrap_or(today);
    let body = cityos_client::body(
        vendors::VENDOR_DASHBOARD,
        json!({ "vendorId": vendor, "from": from, "to": today }),
    );
    let check = stack
        .op(
            &headers(&acting),
            vendors::VENDOR_DASHBOARD,
            json!({ "vendorId": vendor, "from": from, "to": today }),
        )
        .await;
    let seen = check.data();
    assert_eq!(
        seen["vendor"]["ledger"]["edges"].as_array().map(Vec::len),
        Some(20),
        "{}",
        check.body
    );
    assert_eq!(
        seen["vendorOrders"]["edges"].as_array().map(Vec::len),
        Some(20),
        "{}",
        check.body
    );
    let owned: Vec<(String, String)> = acting
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let bodies = vec![body];
    let seconds = Duration::from_secs(args.seconds);
    // Warm-up, then measured.
    load_at_rate(
        &stack.url,
        &owned,
        &bodies,
        args.commerce_rate,
        Duration::from_secs(2),
    )
    .await;
    let stats = crate::measure::statement_stats(&mut db).await;
    reset_statements(&mut db).await;
    let outcome = load_at_rate(&stack.url, &owned, &bodies, args.commerce_rate, seconds).await;
    let statements = if stats {
        app_statements(&mut db).await
    } else {
        None
    };
    let by_statement = if stats {
        frequent_statements(&mut db, 40).await
    } else {
        Vec::new()
    };
    let n = outcome.requests().max(1);
    println!("## Vendor dashboard\n");
    println!(
        "One request through the router: balances, the last 20 of {} ledger entries, this month's analytics, the 20 newest of 20 open vendor orders.\n",
        pairs * 2
    );
    println!("| load | req/s | p50 ms | p99 ms | errors | SQL statements/request |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| {} req/s for {} s | {:.0} | {:.1} | {:.1} | {} | {} |",
        args.commerce_rate,
        args.seconds,
        outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
        percentile(&outcome.latencies_us, 50.0),
        percentile(&outcome.latencies_us, 99.0),
        outcome.errors,
        statements.map_or("n/a".to_owned(), |s| format!("{:.1}", s as f64 / n as f64)),
    );
    println!("\n| statement | per request |\n|---|---:|");
    for s in by_statement {
        println!(
            "| `{}` | {:.2} |",
            s.query.replace('|', "/"),
            s.calls as f64 / n as f64
        );
    }
}
