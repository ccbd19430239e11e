//! `--only b2b`: B2B buying through the router at a steady `--commerce-rate`, on one company (the
//! worst case: every order on account takes the company's row lock to hold its credit limit).
//!
//! The company buys on NET_30 with a contract price of 80.00 SAR a pack and a credit limit that
//! the run never reaches; orders of 200.00 or more wait for an approver. Four scenarios, each
//! request on a distinct cart, request or quote:
//! - the buyer's checkout on account of one pack (80.00: no approval), with a purchase-order number;
//! - the buyer's checkout of three packs (240.00), which becomes an approval request (a snapshot);
//! - the approver's final approval of one of those requests, which places its order on account;
//! - the approver's acceptance of a quote staff drafted and sent (one line at a negotiated price),
//!   which places its order on account.
//!
//! Then the company admin's dashboard, with every order of the run in this month's figures.
//! Reported: requests per second, p50 and p99, errors, SQL statements per request, processor time
//! per request of each process, and each scenario's most frequent statements.

use crate::Args;
use crate::commerce::{carts_as, mutations};
use crate::measure::{
    CpuSnapshot, app_statements, frequent_statements, heaviest_statements, load_at_rate,
    percentile, reset_statements, sample_waits,
};
use cityos_client::query_body;
use cityos_e2e::Stack;
use cityos_e2e::fixtures::{
    self, Caller, company_address, create_location, create_stocked_product, create_tenant, headers,
    platform_token,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};
use std::time::Duration;

const CHECKOUT: &str = "mutation($i: CheckoutCompleteInput!) { checkoutComplete(input: $i) {
    order { id status total { amount } } approvalRequest { id status } userErrors { code } } }";
const APPROVE: &str = "mutation($i: ApprovalDecisionInput!) { approvalRequestApprove(input: $i) {
    approvalRequest { status order { id status total { amount } } } userErrors { code } } }";
const QUOTE_ACCEPT: &str = "mutation($i: QuoteAcceptInput!) { quoteAccept(input: $i) {
    quote { status } order { id status total { amount } } userErrors { code } } }";
const DASHBOARD: &str = "query { companyDashboard { openBalance { amount } availableCredit { amount }
    spendThisMonth { amount } members { email placed { amount } committed { amount } orderCount }
    pendingApprovalCount openInvoiceCount openInvoices { orderId amountDue { amount } overdue } company { name } } }";

pub(crate) async fn run(args: &Args) {
    let stack = Stack::start_with(crate::production_options(args.cache_mb)).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bench-b2b").await;
    let location = create_location(&stack, &shop, "Warehouse").await;
    let (_, variants) =
        create_stocked_product(&stack, &shop, "bench-paper", &location, 1_000_000).await;
    let pack = &variants[0];
    let group = fixtures::contract_price(&stack, &shop, "Bench", pack, 8000).await;
    let company = fixtures::company(
        &stack,
        &shop,
        "Bench",
        json!({ "paymentTerms": "NET_30", "creditLimit": 2_000_000_000, "customerGroupId": group }),
    )
    .await;
    company
        .admin
        .ok(&stack,
            "mutation($i: CompanyApprovalRuleCreateInput!) { companyApprovalRuleCreate(input: $i) { approvalRule { id } userErrors { code } } }",
            json!({ "i": { "companyId": company.id, "name": "Over 200", "minTotal": { "amountMinor": 20000, "currency": "SAR" },
                "levels": [{ "mode": "ANY", "roles": ["APPROVER"] }] } }))
        .await;

    // Each scenario's requests: a 2 s warm-up and `--seconds` measured, at the rate.
    let rate = args.commerce_rate;
    let warm = usize::try_from(2 * rate).unwrap_or(100);
    let per = warm + usize::try_from(u64::from(rate) * args.seconds).unwrap_or(500);
    let buyer = company.buyer.headers();
    let buyer = headers(&buyer);
    let checkouts = |carts: Vec<String>| -> Vec<String> {
        carts
            .into_iter()
            .enumerate()
            .map(|(k, cart)| {
                query_body(
                    CHECKOUT,
                    json!({ "i": { "cartId": cart, "idempotencyKey": cart,
                    "paymentMethod": "ON_ACCOUNT", "purchaseOrderNumber": format!("PO-{k}") } }),
                )
            })
            .collect()
    };
    let on_account = checkouts(carts_as(&stack, &buyer, per, std::slice::from_ref(pack), 1).await);
    let for_approval =
        checkouts(carts_as(&stack, &buyer, per, std::slice::from_ref(pack), 3).await);
    let accepts: Vec<String> = sent_quotes(&stack, &shop, &company.id, pack, per)
        .await
        .into_iter()
        .enumerate()
        .map(|(k, quote)| {
            query_body(QUOTE_ACCEPT, json!({ "i": { "id": quote, "version": 1, "idempotencyKey": quote,
                "purchaseOrderNumber": format!("PO-Q{k}"), "shippingAddress": company_address() } }))
        })
        .collect();

    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let stats = crate::measure::statement_stats(&mut db).await;
    let mut bench = Bench {
        stack: &stack,
        db,
        stats,
        args,
        rows: Vec::new(),
    };
    println!("## B2B buying\n");
    println!(
        "One company on NET_30, contract prices, an approval rule at 200.00 SAR; {} req/s offered for {} s after a 2 s warm-up, each request on its own cart, request or quote.\n",
        rate, args.seconds
    );
    bench
        .scenario(
            "checkout on account, 1 line, no approval (buyer)",
            &company.buyer,
            &on_account[..warm],
            &on_account[warm..],
        )
        .await;
    bench
        .scenario(
            "checkout into an approval request, 1 line (buyer)",
            &company.buyer,
            &for_approval[..warm],
            &for_approval[warm..],
        )
        .await;
    let approvals: Vec<String> = pending_requests(&stack, &company.approver)
        .await
        .into_iter()
        .map(|(id, version)| {
            query_body(
                APPROVE,
                json!({ "i": { "id": id, "version": version, "comment": "ok" } }),
            )
        })
        .collect();
    assert!(
        approvals.len() > warm,
        "only {} requests are pending",
        approvals.len()
    );
    bench
        .scenario(
            "final approval placing the order on account (approver)",
            &company.approver,
            &approvals[..warm],
            &approvals[warm..],
        )
        .await;
    bench
        .scenario(
            "quote acceptance placing the order on account (approver)",
            &company.approver,
            &accepts[..warm],
            &accepts[warm..],
        )
        .await;
    let dashboard = vec![query_body(DASHBOARD, json!({})); per];
    let check = company.admin.send(&stack, DASHBOARD, json!({})).await;
    let orders: i64 = check["companyDashboard"]["members"]
        .as_array()
        .map_or(0, |m| {
            m.iter().filter_map(|m| m["orderCount"].as_i64()).sum()
        });
    bench
        .scenario(
            &format!("company dashboard, {orders} orders this month (admin)"),
            &company.admin,
            &dashboard[..warm],
            &dashboard[warm..],
        )
        .await;
    bench.report();
    println!("\nresident memory after the runs:");
    for (name, kib) in stack.resident_kib() {
        println!("- {name}: {:.1} MiB", kib as f64 / 1024.0);
    }
}

/// `n` quotes staff drafted for `company` (one line of 3 of `variant` at 70.00) and sent, valid
/// for a week; their ids.
async fn sent_quotes(
    stack: &Stack,
    shop: &fixtures::Tenant,
    company: &str,
    variant: &str,
    n: usize,
) -> Vec<String> {
    let valid_until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let batch = (n - ids.len()).min(10);
        let document: String = (0..batch)
            .map(|k| format!("q{k}: quoteDraft(input: {{ companyId: \"{company}\", validUntil: \"{valid_until}\",
                lines: [{{ variantId: \"{variant}\", quantity: 3, unitPriceMinor: 7000 }}] }}) {{ quote {{ id }} userErrors {{ code }} }} "))
            .collect();
        let drafted = mutations(stack, &headers(&shop.staff()), &document, "drafting quotes").await;
        let drafted: Vec<String> = (0..batch)
            .map(|k| {
                drafted[format!("q{k}")]["quote"]["id"]
                    .as_str()
                    .expect("quote")
                    .to_owned()
            })
            .collect();
        let document: String = drafted
            .iter()
            .enumerate()
            .map(|(k, id)| {
                format!("s{k}: quoteSend(input: {{ id: \"{id}\" }}) {{ userErrors {{ code }} }} ")
            })
            .collect();
        mutations(stack, &headers(&shop.staff()), &document, "sending quotes").await;
        ids.extend(drafted);
    }
    ids
}

/// Every PENDING approval request `approver` decides on: ids and versions, oldest first.
async fn pending_requests(stack: &Stack, approver: &Caller) -> Vec<(String, i64)> {
    let mut requests = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = approver
            .send(stack,
                "query($after: String) { approvalRequests(first: 100, after: $after, status: PENDING) {
                    edges { node { id version } } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }))
            .await;
        let list = &page["approvalRequests"];
        for edge in list["edges"].as_array().into_iter().flatten() {
            requests.push((
                edge["node"]["id"].as_str().expect("id").to_owned(),
                edge["node"]["version"].as_i64().expect("version"),
            ));
        }
        if list["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    requests
}

/// One measured scenario's figures.
struct Row {
    name: String,
    rate: f64,
    p50: f64,
    p99: f64,
    errors: usize,
    first_error: Option<String>,
    statements: Option<f64>,
    heaviest: Vec<crate::measure::Heavy>,
    cpu: Vec<(String, f64)>,
    frequent: Vec<(String, f64)>,
    /// Samples of what the database's active sessions were doing.
    waits: Vec<(String, usize)>,
}

struct Bench<'a> {
    stack: &'a Stack,
    db: AsyncPgConnection,
    stats: bool,
    args: &'a Args,
    rows: Vec<Row>,
}

impl Bench<'_> {
    /// Warms up on `warm`, then offers `measured` at the rate as `caller`.
    async fn scenario(
        &mut self,
        name: &str,
        caller: &Caller,
        warm: &[String],
        measured: &[String],
    ) {
        let owned: Vec<(String, String)> = caller
            .headers()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        // Fresh planner statistics, as autovacuum keeps them in a database that grows at a
        // production pace (here the tables grew by hundreds of rows a second, and a plan made
        // for the empty tables would be measured instead).
        diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE"), &mut self.db)
            .await
            .expect("analyze");
        let rate = self.args.commerce_rate;
        let url = &self.stack.url;
        load_at_rate(url, &owned, warm, rate, Duration::from_secs(2)).await;
        reset_statements(&mut self.db).await;
        let before = CpuSnapshot::take(self.stack, &mut self.db).await;
        // Each body once: fewer bodies than the rate asks for (requests lost to time-outs while
        // preparing) shorten the run.
        let seconds = Duration::from_secs_f64(
            (self.args.seconds as f64).min(measured.len() as f64 / f64::from(rate)),
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = tokio::spawn(sample_waits(self.stack.database_url.clone(), stop.clone()));
        let outcome = load_at_rate(url, &owned, measured, rate, seconds).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let waits = sampler.await.unwrap_or_default();
        let cpu = CpuSnapshot::take(self.stack, &mut self.db)
            .await
            .since(&before);
        let n = outcome.requests().max(1) as f64;
        let (statements, heaviest, frequent) = if self.stats {
            (
                app_statements(&mut self.db).await.map(|s| s as f64 / n),
                heaviest_statements(&mut self.db).await,
                frequent_statements(&mut self.db, 12)
                    .await
                    .into_iter()
                    .map(|s| (s.query, s.calls as f64 / n))
                    .collect(),
            )
        } else {
            (None, Vec::new(), Vec::new())
        };
        self.rows.push(Row {
            name: name.to_owned(),
            rate: outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
            p50: percentile(&outcome.latencies_us, 50.0),
            p99: percentile(&outcome.latencies_us, 99.0),
            errors: outcome.errors,
            first_error: outcome.first_error.clone(),
            statements,
            heaviest,
            cpu: cpu
                .into_iter()
                .map(|(process, used)| (process, used.as_secs_f64() * 1000.0 / n))
                .collect(),
            frequent,
            waits,
        });
    }

    fn report(&self) {
        println!("| scenario | req/s | p50 ms | p99 ms | errors | SQL statements/request |");
        println!("|---|---:|---:|---:|---:|---:|");
        for r in &self.rows {
            println!(
                "| {} | {:.0} | {:.1} | {:.1} | {} | {} |",
                r.name,
                r.rate,
                r.p50,
                r.p99,
                r.errors,
                r.statements.map_or("n/a".to_owned(), |s| format!("{s:.1}")),
            );
        }
        println!("\nprocessor time per request, ms:");
        for r in &self.rows {
            let cpu: Vec<String> = r
                .cpu
                .iter()
                .map(|(process, ms)| format!("{process} {ms:.2}"))
                .collect();
            println!("- {}: {}", r.name, cpu.join(", "));
        }
        for r in self.rows.iter().filter(|r| r.first_error.is_some()) {
            println!(
                "\nthe first error of {}: {}",
                r.name,
                r.first_error.as_deref().unwrap_or_default()
            );
        }
        println!("\nwhat the database's active sessions were doing (samples every 20 ms):");
        for r in &self.rows {
            println!("- {}:", r.name);
            for (what, n) in &r.waits {
                println!("  - {n} x {what}");
            }
        }
        println!("\nstatements with the most database time (mean ms, calls):");
        for r in &self.rows {
            println!("- {}:", r.name);
            for h in &r.heaviest {
                println!("  - {:.3} ms x {}: {}", h.mean_ms, h.calls, h.query);
            }
        }
        for r in &self.rows {
            println!("\n{}, most frequent statements per request:\n", r.name);
            println!("| statement | per request |\n|---|---:|");
            for (query, calls) in &r.frequent {
                println!("| `{}` | {calls:.2} |", query.replace('|', "/"));
            }
        }
    }
}
