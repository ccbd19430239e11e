//! End-to-end: the demo seed loads every subgraph's data file through the router as a client
//! would, a second run leaves the seeded tenant as it is, and every journey of `tests/journeys/`
//! runs on the seeded data (one stack for all: nextest runs each test in its own process).

use cityos_e2e::seed::{self, Account, Credentials};
use cityos_e2e::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack, journey};
use serde_json::json;

fn account(email: &str) -> Account {
    Account {
        email: email.to_owned(),
        password: "demo-password-1".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_seed_loads_once_and_every_journey_runs_on_it() {
    let stripe = cityos_testkit::stripe::StripeDouble::start().await;
    let stack = Stack::start_with(cityos_e2e::StackOptions {
        stripe_api_base: Some(stripe.base.clone()),
        ..cityos_e2e::StackOptions::default()
    })
    .await;
    let connect =
        cityos_server::stripe::Stripe::new(&stripe.base, cityos_testkit::stripe::SECRET_KEY);
    let mut credentials = Credentials {
        platform_admin: Account {
            email: ADMIN_EMAIL.to_owned(),
            password: ADMIN_PASSWORD.to_owned(),
        },
        tenant_admin: account("admin@dakkah.test"),
        customer: account("sara@dakkah.test"),
        vendor_owner: account("faisal@oud-house.test"),
        publishable_key: None,
    };
    assert!(
        seed::seed_with(&stack.url, &mut credentials, Some(&connect))
            .await
            .expect("seed")
    );
    let key = credentials
        .publishable_key
        .clone()
        .expect("a storefront key");

    let storefront = [("x-publishable-key", key.as_str())];
    let counts = "{ products(first: 1) { totalCount } categories { id } shippingMethods { name }
        product(handle: \"oud-perfume\") { variants { sku price(currency: \"USD\") { unitPrice { amountMinor } } }
          rating { count } } }";
    let r = stack.gql(&storefront, counts, json!({})).await;
    let data = r.data();
    assert_eq!(data["products"]["totalCount"], 60, "{}", r.body);
    assert_eq!(
        data["categories"].as_array().map(Vec::len),
        Some(5),
        "the departments"
    );
    assert_eq!(data["shippingMethods"].as_array().map(Vec::len), Some(4));
    let oud = &data["product"];
    assert_eq!(oud["variants"][0]["sku"], "OUD-PERFUME-50ML");
    // SAR 250.00 at 3.75, ending in .99.
    assert_eq!(
        oud["variants"][0]["price"]["unitPrice"]["amountMinor"],
        6_699
    );
    assert!(
        oud["rating"]["count"].as_i64().unwrap_or(0) > 0,
        "{}",
        r.body
    );

    // Four approved vendors sell five products each; the product's vendor resolves through the
    // router to the vendors subgraph.
    let r = stack
        .gql(
            &storefront,
            "{ vendors(first: 10) { totalCount } vendor(handle: \"oud-house\") { name products(first: 1) { totalCount } }
               product(handle: \"ajwa-dates\") { vendor { handle name handlingDays } } }",
            json!({}),
        )
        .await;
    let data = r.data();
    assert_eq!(data["vendors"]["totalCount"], 4, "{}", r.body);
    assert_eq!(data["vendor"]["products"]["totalCount"], 5, "{}", r.body);
    assert_eq!(
        data["product"]["vendor"],
        json!({ "handle": "madina-dates", "name": "Al-Madina Dates", "handlingDays": 3 })
    );

    // A vendor's rating is its products' approved reviews: the reviews were moderated before the
    // products were given to the vendor, and re-announced when they were, so the vendors subgraph
    // counts them once the events arrive.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = stack
            .gql(
                &storefront,
                "{ vendor(handle: \"oud-house\") { rating { count average }
                   products(first: 5) { edges { node { rating { count } } } } } }",
                json!({}),
            )
            .await;
        let vendor = &r.data()["vendor"];
        let of_products: i64 = vendor["products"]["edges"]
            .as_array()
            .expect("products")
            .iter()
            .map(|e| e["node"]["rating"]["count"].as_i64().unwrap_or(0))
            .sum();
        let counted = vendor["rating"]["count"].as_i64().unwrap_or(-1);
        if of_products > 0 && counted == of_products {
            assert!(
                vendor["rating"]["average"]
                    .as_f64()
                    .is_some_and(|a| (1.0..=5.0).contains(&a))
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the vendor's rating counts {counted} reviews, its products {of_products}: {}",
            r.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The Wholesale customer pays the contract price (75%) on bulk goods.
    let sign_in = stack
        .gql(
            &[("x-tenant", "dakkah")],
            cityos_e2e::operations::identity::SIGN_IN.text,
            json!({ "input": { "email": "sara@dakkah.test", "password": "demo-password-1" } }),
        )
        .await;
    let token = sign_in.data()["signIn"]["accessToken"]
        .as_str()
        .expect("the customer signs in")
        .to_owned();
    let bearer = format!("Bearer {token}");
    let r = stack
        .gql(
            &[("x-tenant", "dakkah"), ("authorization", &bearer)],
            "{ product(handle: \"khawlani-coffee\") { variants { price(currency: \"SAR\") { unitPrice { amountMinor } rule } } } }",
            json!({}),
        )
        .await;
    let price = &r.data()["product"]["variants"][0]["price"];
    assert_eq!(
        price["unitPrice"]["amountMinor"],
        6_500 * 75 / 100,
        "{}",
        r.body
    );
    assert_eq!(price["rule"], "OVERRIDE_PRICE_LIST", "{}", r.body);

    // The marketplace's commission rules: a default and two vendors' own.
    let sign_in = stack
        .gql(
            &[("x-tenant", "dakkah")],
            cityos_e2e::operations::identity::SIGN_IN.text,
            json!({ "input": { "email": "admin@dakkah.test", "password": "demo-password-1" } }),
        )
        .await;
    let staff = format!(
        "Bearer {}",
        sign_in.data()["signIn"]["accessToken"]
            .as_str()
            .expect("the tenant admin signs in")
    );
    let r = stack
        .gql(
            &[("x-tenant", "dakkah"), ("authorization", &staff)],
            "{ commissionRules(first: 10) { totalCount edges { node { name scope } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["commissionRules"]["totalCount"], 3, "{}", r.body);
    // Its orders reached the vendors' ledgers, and Oud House was paid out through Stripe Connect.
    let today = chrono::Utc::now().date_naive();
    let r = stack
        .gql(
            &[("x-tenant", "dakkah"), ("authorization", &staff)],
            "query($from: NaiveDate!, $to: NaiveDate!) {
               vendor(handle: \"oud-house\") { sales(first: 1) { totalCount } payouts(first: 1) { edges { node { status } } } }
               topVendors(currency: \"SAR\", from: $from, to: $to) { vendor { handle } } }",
            json!({ "from": today - chrono::Duration::days(1), "to": today }),
        )
        .await;
    let oud = &r.data()["vendor"];
    assert_eq!(oud["sales"]["totalCount"], 2, "{}", r.body);
    assert_eq!(
        oud["payouts"]["edges"][0]["node"]["status"], "PAID",
        "{}",
        r.body
    );
    assert_eq!(
        r.data()["topVendors"].as_array().map(Vec::len),
        Some(4),
        "{}",
        r.body
    );
    assert_eq!(stripe.books().transfers.len(), 1);

    // Bookings: the clinic, the gym's class and the meeting room, and a week of the clinic's
    // slots in Riyadh through the router, each with the practitioners free for it.
    let r = stack
        .gql(
            &storefront,
            cityos_e2e::operations::bookings::BOOKING_SERVICES.text,
            json!({}),
        )
        .await;
    let services = r.data()["bookingServices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        ["General consultation", "Meeting room hire", "Spin class"],
        "{}",
        r.body
    );
    assert_eq!(services[0]["providers"].as_array().map(Vec::len), Some(3));
    assert_eq!(services[2]["resources"][0]["seats"], 20);
    let r = stack
        .gql(
            &storefront,
            cityos_e2e::operations::bookings::AVAILABILITY.text,
            json!({ "serviceId": services[0]["id"], "from": today + chrono::Duration::days(1),
                "to": today + chrono::Duration::days(7), "timeZone": "Asia/Riyadh" }),
        )
        .await;
    let days = r.data()["availability"]["days"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Sunday to Thursday only, but the demo's holidays.
    use chrono::Datelike as _;
    let open = (1..=7)
        .map(|d| today + chrono::Duration::days(d))
        .filter(|d| !matches!(d.weekday(), chrono::Weekday::Fri | chrono::Weekday::Sat))
        .filter(|d| !["2027-02-22", "2027-09-23"].contains(&d.to_string().as_str()))
        .count();
    assert_eq!(days.len(), open, "{}", r.body);
    let first = &days[0]["slots"][0];
    assert!(
        first["localStart"]
            .as_str()
            .is_some_and(|l| l.ends_with("+03:00")),
        "{}",
        r.body
    );
    assert!(
        !first["providers"].as_array().is_none_or(Vec::is_empty),
        "{}",
        r.body
    );

    // A second run finds the tenant and changes nothing.
    assert!(
        !seed::seed(&stack.url, &mut credentials)
            .await
            .expect("reseed")
    );
    let r = stack
        .gql(
            &storefront,
            "{ products(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.data()["products"]["totalCount"], 60);

    let callers = journey::Callers::sign_in(&stack.client(), &credentials, "dakkah").await;
    let dir = cityos_stack::workspace_root().join("tests/journeys");
    let mut failed = Vec::new();
    for path in journey::journeys(&dir) {
        match journey::run(&path, &callers).await {
            Ok(steps) => eprintln!("journey {}: {steps} steps", path.display()),
            Err(e) => failed.push(e),
        }
    }
    assert!(failed.is_empty(), "journeys failed:\n{}", failed.join("\n"));
}
