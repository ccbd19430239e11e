//! `--only bookings`: availability and holds through the router. A clinic of 10 providers (open
//! Sunday to Thursday, 08:00 to 20:00 in Riyadh) and a 30-minute consultation any of them
//! performs on a 15-minute grid; the providers' existing bookings are written as checkout would
//! leave them (sessions, their claims and bookings). A month of availability is asked at
//! `--commerce-rate`, with 500 bookings and again with 2,000, to show what grows with them;
//! then holds of distinct slots for "any provider" at the same rate; then, at the same rate,
//! customers each hold a slot and check it out as a booking line (hold, cart, booking line,
//! billing address, checkout: five requests a flow). Reported: p50, p99, SQL statements per
//! request (per flow), the statements with the most calls, and the response's size.

use crate::Args;
use crate::measure::{
    app_statements, frequent_statements, load_at_rate, load_at_rate_as, percentile,
    reset_statements, statement_stats,
};
use cityos_e2e::Stack;
use cityos_e2e::fixtures::{bearer, create_tenant, customer, platform_token, staff_op};
use cityos_e2e::operations::{bookings, orders};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PROVIDERS: usize = 10;

pub(crate) async fn run(args: &Args) {
    let stack = Stack::start_with(crate::production_options(args.cache_mb)).await;
    let platform = platform_token(&stack).await;
    let shop = create_tenant(&stack, &platform, "bench-clinic").await;
    let mut providers = Vec::new();
    for i in 0..PROVIDERS {
        let r = staff_op(
            &stack,
            &shop,
            bookings::BOOKING_PROVIDER_CREATE,
            json!({ "input": { "name": format!("Dr. {i:02}"), "timeZone": "Asia/Riyadh" } }),
        )
        .await;
        let id = r["provider"]["id"].as_str().expect("a provider").to_owned();
        let days: Vec<Value> = [7, 1, 2, 3, 4]
            .iter()
            .map(|d| json!({ "weekday": d, "spans": [{ "opens": "08:00", "closes": "20:00" }] }))
            .collect();
        staff_op(
            &stack,
            &shop,
            bookings::BOOKING_HOURS_SET,
            json!({ "input": { "calendarId": id, "days": days } }),
        )
        .await;
        providers.push(id);
    }
    let r = staff_op(&stack, &shop, bookings::BOOKING_SERVICE_CREATE, json!({ "input": { "name": "Consultation",
        "rules": { "durationMinutes": 30, "slotIntervalMinutes": 15, "bufferAfterMinutes": 5, "maxDaysAhead": 60 },
        "prices": [{ "amountMinor": 25000, "currency": "SAR" }], "calendarIds": providers } })).await;
    let service = r["service"]["id"].as_str().expect("a service").to_owned();

    let mut db = AsyncPgConnection::establish(&stack.database_url)
        .await
        .expect("owner connection");
    let stats = statement_stats(&mut db).await;
    let (token, _) = customer(&stack, &shop, "patient@bench-clinic.test").await;
    let caller = vec![
        ("authorization".to_owned(), bearer(&token)),
        ("x-tenant".to_owned(), shop.slug.clone()),
    ];
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        today + chrono::Duration::days(1),
        today + chrono::Duration::days(30),
    );
    let ask = json!({ "serviceId": service, "from": from, "to": to, "timeZone": "Asia/Riyadh" });
    let body = cityos_client::body(bookings::AVAILABILITY, ask.clone());

    println!("## Bookings\n");
    println!(
        "A month of availability ({from} to {to}) of a 30-minute service any of {PROVIDERS} providers performs, \
         through the router at {} req/s for {} s; then holds of distinct slots.\n",
        args.commerce_rate, args.seconds
    );
    println!(
        "| scenario | existing bookings | slots returned | response KiB | req/s | p50 ms | p99 ms | errors | SQL statements/request |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut written = 0;
    let mut starts = Vec::new();
    let mut last_n = 1;
    for bookings_wanted in [500, 2_000] {
        book(
            &mut db,
            &shop.id,
            &service,
            &providers,
            written,
            bookings_wanted,
        )
        .await;
        written = bookings_wanted;
        let h: Vec<(&str, &str)> = caller
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let check = stack
            .gql(&h, bookings::AVAILABILITY.text, ask.clone())
            .await;
        let days = check.data()["availability"]["days"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        starts = days
            .iter()
            .flat_map(|d| d["slots"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s["start"].as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        let bytes = check.body.to_string().len();
        let bodies = vec![body.clone()];
        load_at_rate(
            &stack.url,
            &caller,
            &bodies,
            args.commerce_rate,
            Duration::from_secs(2),
        )
        .await;
        reset_statements(&mut db).await;
        let outcome = load_at_rate(
            &stack.url,
            &caller,
            &bodies,
            args.commerce_rate,
            Duration::from_secs(args.seconds),
        )
        .await;
        let statements = if stats {
            app_statements(&mut db).await
        } else {
            None
        };
        let n = outcome.requests().max(1);
        last_n = n;
        println!(
            "| month of availability | {bookings_wanted} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {} | {} |",
            starts.len(),
            bytes as f64 / 1024.0,
            outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
            percentile(&outcome.latencies_us, 50.0),
            percentile(&outcome.latencies_us, 99.0),
            outcome.errors,
            statements.map_or("n/a".to_owned(), |s| format!("{:.1}", s as f64 / n as f64)),
        );
        if let Some(e) = &outcome.first_error {
            println!("\nfirst error: {e}\n");
        }
    }
    let by_statement = if stats {
        frequent_statements(&mut db, 12).await
    } else {
        Vec::new()
    };

    // Holds: each request a distinct free slot, "any provider".
    let total =
        usize::try_from(u64::from(args.commerce_rate) * (args.seconds + 2)).unwrap_or(usize::MAX);
    let holds: Vec<String> = starts
        .iter()
        .take(total)
        .map(|s| {
            cityos_client::body(
                bookings::BOOKING_HOLD,
                json!({ "input": { "serviceId": service, "start": s } }),
            )
        })
        .collect();
    let (warm, measured) =
        holds.split_at((usize::try_from(args.commerce_rate).unwrap_or(0) * 2).min(holds.len()));
    // A customer keeps at most 60 live holds: the holds are spread over enough of them.
    let mut holders = Vec::new();
    for i in 0..total.div_ceil(50).max(1) {
        let (token, _) = customer(&stack, &shop, &format!("holder{i}@bench-clinic.test")).await;
        holders.push(vec![
            ("authorization".to_owned(), bearer(&token)),
            ("x-tenant".to_owned(), shop.slug.clone()),
        ]);
    }
    load_at_rate_as(
        &stack.url,
        &holders,
        warm,
        args.commerce_rate,
        Duration::from_secs(2),
    )
    .await;
    reset_statements(&mut db).await;
    let seconds = (measured.len() as f64 / f64::from(args.commerce_rate))
        .floor()
        .max(1.0);
    let outcome = load_at_rate_as(
        &stack.url,
        &holders,
        measured,
        args.commerce_rate,
        Duration::from_secs_f64(seconds),
    )
    .await;
    let statements = if stats {
        app_statements(&mut db).await
    } else {
        None
    };
    let n = outcome.requests().max(1);
    println!(
        "| hold, any provider | {written} | n/a | n/a | {:.0} | {:.1} | {:.1} | {} | {} |",
        outcome.requests() as f64 / outcome.elapsed.as_secs_f64(),
        percentile(&outcome.latencies_us, 50.0),
        percentile(&outcome.latencies_us, 99.0),
        outcome.errors,
        statements.map_or("n/a".to_owned(), |s| format!("{:.1}", s as f64 / n as f64)),
    );
    if let Some(e) = &outcome.first_error {
        println!("\nfirst error: {e}\n");
    }

    // Hold and checkout: each flow a distinct customer (one open cart each) and slot.
    let flows = usize::try_from(u64::from(args.commerce_rate) * args.seconds)
        .unwrap_or(0)
        .min(starts.len().saturating_sub(total));
    let mut buyers = Vec::with_capacity(flows);
    for i in 0..flows {
        let (token, _) = customer(&stack, &shop, &format!("buyer{i}@bench-clinic.test")).await;
        buyers.push(vec![
            ("authorization".to_owned(), bearer(&token)),
            ("x-tenant".to_owned(), shop.slug.clone()),
        ]);
    }
    reset_statements(&mut db).await;
    let client = reqwest::Client::new();
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (buyer, start)) in buyers.into_iter().zip(starts.iter().rev()).enumerate() {
        let at = began + Duration::from_secs_f64(i as f64 / f64::from(args.commerce_rate));
        tokio::time::sleep_until(at.into()).await;
        let (client, url, service, start) = (
            client.clone(),
            stack.url.clone(),
            service.clone(),
            start.clone(),
        );
        tasks.spawn(
            async move { hold_and_check_out(&client, &url, &buyer, &service, &start).await },
        );
    }
    let (mut whole, mut checkout, mut failed, mut first_error) = (Vec::new(), Vec::new(), 0, None);
    while let Some(done) = tasks.join_next().await {
        match done.expect("a flow") {
            Ok((flow, last)) => {
                whole.push(flow);
                checkout.push(last);
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    let statements = if stats {
        app_statements(&mut db).await
    } else {
        None
    };
    whole.sort_unstable();
    checkout.sort_unstable();
    let per_flow = statements.map_or("n/a".to_owned(), |s| {
        format!("{:.1}", s as f64 / whole.len().max(1) as f64)
    });
    println!(
        "| hold + checkout of a booking line (whole flow, 5 requests) | {written} | n/a | n/a | {:.0} | {:.1} | {:.1} | {failed} | {per_flow} |",
        whole.len() as f64 / elapsed,
        percentile(&whole, 50.0),
        percentile(&whole, 99.0),
    );
    println!(
        "| its checkoutComplete alone | {written} | n/a | n/a | {:.0} | {:.1} | {:.1} | {failed} | n/a |",
        checkout.len() as f64 / elapsed,
        percentile(&checkout, 50.0),
        percentile(&checkout, 99.0),
    );
    if let Some(e) = &first_error {
        println!("\nfirst error: {e}\n");
    }
    println!(
        "\nAvailability's statements (with 2,000 bookings):\n\n| statement | per request |\n|---|---:|"
    );
    for s in by_statement {
        println!(
            "| `{}` | {:.2} |",
            s.query.replace('|', "/"),
            s.calls as f64 / last_n as f64
        );
    }
    println!(
        "\nResident memory afterwards (KiB): {:?}",
        stack.resident_kib()
    );
}

/// One customer's hold of `start` and its checkout as a booking line, as the storefront sends
/// them: the whole flow's latency and the checkout's alone, in microseconds, or the first
/// refusal or failure.
async fn hold_and_check_out(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    service: &str,
    start: &str,
) -> Result<(u64, u64), String> {
    let call = async |op: cityos_e2e::Operation, vars: Value| -> Result<Value, String> {
        let mut request = client.post(url).header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(k, v);
        }
        let r = request
            .body(cityos_client::body(op, vars))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        if let Some(errors) = v.get("errors") {
            return Err(format!("{}: {errors}", op.name));
        }
        let payload = v["data"]
            .as_object()
            .and_then(|o| o.values().next().cloned())
            .unwrap_or_default();
        if payload["userErrors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
        {
            return Err(format!("{}: {}", op.name, payload["userErrors"]));
        }
        Ok(payload)
    };
    let micros = |since: Instant| u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
    let began = Instant::now();
    let hold = call(
        bookings::BOOKING_HOLD,
        json!({ "input": { "serviceId": service, "start": start } }),
    )
    .await?;
    let cart = call(orders::CART_CREATE, json!({ "input": {} })).await?["cart"]["id"].clone();
    call(
        orders::CART_BOOKING_ADD,
        json!({ "input": { "cartId": cart, "holdId": hold["hold"]["id"] } }),
    )
    .await?;
    let address = json!({ "firstName": "Bench", "lastName": "Buyer", "line1": "Olaya Street 1",
        "city": "Riyadh", "postalCode": "12211", "countryCode": "SA" });
    call(
        orders::CART_UPDATE,
        json!({ "input": { "cartId": cart, "billingAddress": address } }),
    )
    .await?;
    let checkout = Instant::now();
    call(
        orders::CHECKOUT_COMPLETE,
        json!({ "input": { "cartId": cart, "idempotencyKey": cart } }),
    )
    .await?;
    Ok((micros(began), micros(checkout)))
}

/// Writes bookings `done..wanted` of the providers as checkout leaves them: a session each with
/// its seat taken, its claim with the service's 5 minutes after, and the booking; spread over the
/// next 30 days, each provider's 40 minutes apart from 08:00 Riyadh (on closed days too: they
/// still cost a read).
async fn book(
    db: &mut AsyncPgConnection,
    tenant: &str,
    service: &str,
    providers: &[String],
    done: usize,
    wanted: usize,
) {
    let list = providers
        .iter()
        .map(|p| format!("'{p}'::uuid"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH wanted AS (
             SELECT k, (ARRAY[{list}])[1 + k % {n}] AS provider, k / {n} AS nth FROM generate_series({done}, {last}) k
         ), timed AS (
             SELECT k, provider,
                    date_trunc('day', now()) + interval '1 day' * (1 + nth % 30) + interval '5 hours' + interval '40 minutes' * (nth / 30) AS start
             FROM wanted
         ), sessions AS (
             INSERT INTO bookings.sessions (tenant_id, id, service_id, provider_id, starts_at, ends_at, capacity, seats_taken)
             SELECT '{tenant}', gen_random_uuid(), '{service}', provider, start, start + interval '30 minutes', 1, 1 FROM timed
             ON CONFLICT DO NOTHING
             RETURNING id, provider_id, starts_at, ends_at
         ), claims AS (
             INSERT INTO bookings.claims (tenant_id, id, calendar_id, during, session_id)
             SELECT '{tenant}', gen_random_uuid(), provider_id, tstzrange(starts_at, ends_at + interval '5 minutes'), id FROM sessions
         )
         INSERT INTO bookings.bookings (tenant_id, id, number, session_id, service_id, customer_id, seats, starts_at, ends_at,
             provider_id, status, currency, amount_minor, paid_at, confirmed_at)
         SELECT '{tenant}', x.bid, 'BK-' || upper(right(replace(x.bid::text, '-', ''), 12)), x.id, '{service}', gen_random_uuid(), 1,
             x.starts_at, x.ends_at, x.provider_id, 'CONFIRMED', 'SAR', 25000, now(), now()
         FROM (SELECT s.*, gen_random_uuid() AS bid FROM sessions s) x",
        n = providers.len(),
        last = wanted - 1,
    );
    diesel::sql_query(sql)
        .execute(db)
        .await
        .unwrap_or_else(|e| panic!("bookings: {e}"));
    diesel::sql_query("ANALYZE bookings.sessions, bookings.claims, bookings.bookings")
        .execute(db)
        .await
        .expect("analyze");
}
