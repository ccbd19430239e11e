//! The payout run, measured in process on the benchmark's PostgreSQL: a tenant with `--vendors`
//! approved vendors (1,000 by default), each with an active connected account and `--entries`
//! available ledger entries (100 by default: sales and their commissions, delivered past the hold),
//! paid out by one run in one transaction; then the run's transfers made against the testkit's
//! Stripe double by one job runner. Reported: the run's time, its round trips to PostgreSQL per
//! vendor (each statement, BEGIN and COMMIT: constant, whatever the entries), and the transfers'
//! time.

use cityos_server::stripe::Stripe;
use cityos_testkit::TestDb;
use cityos_testkit::stripe::{SECRET_KEY, StripeDouble};
use serde_json::json;
use std::time::Instant;
use vendors::payouts::jobs::{PayoutRun, PayoutTransfer};

pub(crate) async fn run(vendor_count: usize, entries: usize) {
    let t = TestDb::for_subgraph::<vendors::Vendors>().await;
    let shop = cityos_fixtures::TenantBuilder::new("bench-payouts")
        .create(&t)
        .await;
    let tenant = shop.info.id;
    let orders = entries / 2;
    let set_up = Instant::now();
    t.owner_sql(&format!(
        "INSERT INTO vendors.vendors (tenant_id, id, handle, name, email, default_currency, handling_days, status, approved_at)
         SELECT '{tenant}', gen_random_uuid(), 'bench-' || i, 'Bench ' || i, 'v' || i || '@bench.test', 'SAR', 2, 'APPROVED', now()
         FROM generate_series(1, {vendor_count}) i;
         INSERT INTO vendors.payout_accounts (tenant_id, vendor_id, stripe_account, account_state)
         SELECT tenant_id, id, 'acct_' || replace(id::text, '-', ''), 'ACTIVE' FROM vendors.vendors WHERE tenant_id = '{tenant}';
         CREATE TEMP TABLE bench_orders AS
             SELECT v.id AS vendor_id, gen_random_uuid() AS vendor_order_id, k
             FROM vendors.vendors v, generate_series(1, {orders}) k WHERE v.tenant_id = '{tenant}';
         INSERT INTO vendors.sale_deliveries (tenant_id, vendor_order_id, vendor_id, delivered_at, available_at)
         SELECT '{tenant}', vendor_order_id, vendor_id, now() - interval '30 days', now() - interval '16 days' FROM bench_orders;
         INSERT INTO vendors.balances (tenant_id, vendor_id, currency, balance, entries)
         SELECT '{tenant}', id, 'SAR', {orders} * 900, {orders} * 2 FROM vendors.vendors WHERE tenant_id = '{tenant}';
         INSERT INTO vendors.ledger_entries (tenant_id, id, vendor_id, currency, seq, kind, amount, balance, vendor_order_id)
         SELECT '{tenant}', gen_random_uuid(), vendor_id, 'SAR', 2 * k - 1 + s,
                CASE s WHEN 0 THEN 'SALE' ELSE 'COMMISSION' END, CASE s WHEN 0 THEN 1000 ELSE -100 END,
                (k - 1) * 900 + CASE s WHEN 0 THEN 1000 ELSE 900 END, vendor_order_id
         FROM bench_orders, generate_series(0, 1) s ORDER BY vendor_id, k, s;
         ANALYZE vendors.ledger_entries, vendors.sale_deliveries, vendors.balances;"
    ))
    .await;
    let set_up = set_up.elapsed();

    let before = t.db().round_trips();
    let started = Instant::now();
    let report = t
        .db()
        .tenant_tx(tenant, async move |tx| {
            vendors::payouts::run(tx, chrono::Utc::now()).await
        })
        .await
        .unwrap_or_else(|e| panic!("the run: {e:?}"));
    let elapsed = started.elapsed();
    let trips = t.db().round_trips() - before;
    assert_eq!(report.created as usize, vendor_count, "{report:?}");

    // The transfers, through the Stripe double, by one runner (two rounds a payout: PROCESSING,
    // then the transfer).
    let double = StripeDouble::start().await;
    let accounts = account_ids(&t, tenant).await;
    {
        let mut books = double.books();
        for row in accounts {
            books.accounts.insert(
                row.clone(),
                json!({ "id": row, "object": "account", "capabilities": { "transfers": "active" } }),
            );
        }
    }
    let runner = cityos_db::jobs::Runner::new(
        t.db().clone(),
        vendors::JOBS,
        cityos_db::jobs::RunnerSettings {
            batch: 100,
            ..cityos_db::jobs::RunnerSettings::default()
        },
    )
    .with::<PayoutRun>()
    .with::<PayoutTransfer>()
    .provide(Stripe::new(&double.base, SECRET_KEY));
    let transfers = Instant::now();
    loop {
        let round = runner.run_once().await.expect("a round");
        if round.done + round.failed + round.dead + round.lost == 0 {
            break;
        }
    }
    let transfers = transfers.elapsed();
    let made = double.books().transfers.len();
    assert_eq!(made, vendor_count);

    println!("## Payout run\n");
    println!(
        "{vendor_count} approved vendors, {entries} available entries each ({} in all; set up in {:.1} s)\n",
        vendor_count * entries,
        set_up.as_secs_f64()
    );
    println!("| step | time | round trips | per vendor |");
    println!("|---|---:|---:|---:|");
    println!(
        "| payout run (one transaction) | {:.2} s | {trips} | {:.2} |",
        elapsed.as_secs_f64(),
        trips as f64 / vendor_count as f64
    );
    println!(
        "| {made} transfers to the Stripe double (one runner) | {:.2} s | | {:.1} ms |",
        transfers.as_secs_f64(),
        transfers.as_secs_f64() * 1000.0 / made as f64
    );
}

#[derive(diesel::QueryableByName)]
struct Account {
    #[diesel(sql_type = diesel::sql_types::Text)]
    stripe_account: String,
}

async fn account_ids(t: &TestDb, tenant: cityos_core::ids::TenantId) -> Vec<String> {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl as _;
            diesel::sql_query("SELECT stripe_account FROM vendors.payout_accounts")
                .load::<Account>(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.stripe_account)
        .collect()
}
