//! Set-up shared by the orders subgraph's integration tests: a tenant with a stocked catalog.

use catalog::inventory;
use cityos_core::{Actor, CompanyRole, RequestContext, Role, TenantInfo};
use cityos_fixtures::{ProductBuilder, TenantBuilder};
use cityos_testkit::{TestDb, context, user_context};
use orders::carts::{self, Address, CartChanges, LineInput, PricedCart};
use orders::checkout::{self, CheckoutRequest};
use orders::ids::{
    CartId, CompanyId, LocationId, OrderId, ProductId, TenantId, UserId, VariantId, VendorId,
};
use orders::orders::Order;
use orders::payments::PaymentMethod;
use vendors::api::CompanyStatus;

/// A fresh database with the orders schema and those it depends on (identity, catalog, vendors,
/// bookings).
pub async fn test_db() -> TestDb {
    TestDb::for_subgraph::<orders::Orders>().await
}

/// A tenant with a stock location, and the context of its admin.
pub struct Shop {
    pub info: TenantInfo,
    pub admin: RequestContext,
    pub location: LocationId,
}

impl Shop {
    /// A signed-in customer of this shop.
    pub fn customer(&self) -> RequestContext {
        user_context(Some(&self.info), UserId::new(), &[Role::Customer])
    }

    /// A guest: no credentials, the tenant chosen by the storefront.
    pub fn guest(&self) -> RequestContext {
        context(Some(&self.info), Actor::Anonymous)
    }
}

/// A tenant (currency SAR) with one stock location.
pub async fn shop(t: &TestDb, slug: &str) -> Shop {
    let tenant = TenantBuilder::new(slug).create(t).await;
    let location = tenant.location(t, "Main").await;
    Shop {
        info: tenant.info,
        admin: tenant.admin,
        location,
    }
}

/// A published product of `vendor` with one variant at `price` halalas (SAR) and `stock` units;
/// returns the variant's id.
pub async fn item(
    t: &TestDb,
    shop: &Shop,
    sku: &str,
    price: i64,
    stock: i32,
    vendor: Option<VendorId>,
) -> VariantId {
    item_of_product(t, shop, sku, price, stock, vendor).await.1
}

/// Like [`item`], returning (product id, variant id).
pub async fn item_of_product(
    t: &TestDb,
    shop: &Shop,
    sku: &str,
    price: i64,
    stock: i32,
    vendor: Option<VendorId>,
) -> (ProductId, VariantId) {
    let product = ProductBuilder::new(&sku.to_lowercase())
        .title(&format!("Product {sku}"))
        .vendor(vendor)
        .variant(sku, &[("SAR", price)])
        .stock(shop.location, stock)
        .create(t, &shop.admin)
        .await;
    (product.id, product.variants[0])
}

/// Units on hand of a variant across locations.
pub async fn on_hand(t: &TestDb, shop: &Shop, variant: VariantId) -> i64 {
    let id = variant;
    let levels = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            inventory::levels_in(tx, &[id])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("levels");
    levels
        .get(&variant)
        .map_or(0, |ls| ls.iter().map(|l| i64::from(l.level.on_hand)).sum())
}

/// A valid Saudi address.
pub fn address() -> Address {
    Address {
        first_name: "Sara".into(),
        last_name: "Al-Harbi".into(),
        company: None,
        line1: "King Fahd Road 12".into(),
        line2: None,
        city: "Riyadh".into(),
        region: None,
        postal_code: Some("12271".into()),
        country_code: "SA".into(),
        phone: Some("+966501234567".into()),
    }
}

/// `units` of `variant` as a line to add.
pub fn line(variant: VariantId, units: i32) -> LineInput {
    LineInput {
        variant_id: variant,
        quantity: Some(units),
        gift_wrap: None,
        gift_message: None,
    }
}

/// A cart of `who` holding `lines`, with an e-mail and a shipping address: ready to check out.
pub async fn ready_cart(t: &TestDb, who: &RequestContext, lines: Vec<LineInput>) -> PricedCart {
    let cart = carts::create(t.db(), who, None, None).await.expect("cart");
    let id = cart.cart.id;
    carts::add_lines(t.db(), who, id, lines)
        .await
        .expect("lines");
    carts::update(
        t.db(),
        who,
        id,
        CartChanges {
            email: Some("buyer@example.com".into()),
            shipping_address: Some(address()),
            ..CartChanges::default()
        },
    )
    .await
    .expect("details")
}

/// Checks a cart out with cash on delivery.
pub async fn check_out(
    t: &TestDb,
    who: &RequestContext,
    cart: CartId,
    key: &str,
) -> orders::errors::Outcome<Order> {
    check_out_with(t, who, cart, key, PaymentMethod::CashOnDelivery, None).await
}

/// The order of a checkout that placed one.
pub fn placed(checkout: checkout::Checkout) -> Order {
    checkout.order().expect("an order, not an approval request")
}

/// Runs a GraphQL request against the orders schema as `who`.
pub async fn gql(
    t: &TestDb,
    who: &RequestContext,
    query: &str,
    vars: serde_json::Value,
) -> serde_json::Value {
    let schema = orders::build_schema(Some(&t.platform));
    t.graphql::<orders::Orders>(&schema, who, query, vars).await
}

/// The codes of a mutation payload's `userErrors`.
pub fn user_errors(v: &serde_json::Value, field: &str) -> Vec<String> {
    v["data"][field]["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no payload in {v}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The platform's view of a Stripe double's account.
pub fn gateway_of(double: &cityos_testkit::stripe::StripeDouble) -> orders::payments::Gateway {
    orders::payments::Gateway {
        stripe: Some(orders::payments::stripe::Stripe::new(
            &double.base,
            cityos_testkit::stripe::SECRET_KEY,
        )),
        webhook_secret: Some(cityos_testkit::stripe::WEBHOOK_SECRET.into()),
    }
}

/// Asserts that each of `tables` (in the orders schema) has rows for `own`, and none that another
/// tenant or no tenant can see (row-level security).
pub async fn assert_isolated(t: &TestDb, tables: &[&str], own: TenantId, other: TenantId) {
    for table in tables {
        let table = format!("orders.{table}");
        assert!(
            t.visible_rows(&table, Some(own)).await > 0,
            "{table} has rows"
        );
        assert_eq!(
            t.visible_rows(&table, Some(other)).await,
            0,
            "{table} leaks to another tenant"
        );
        assert_eq!(
            t.visible_rows(&table, None).await,
            0,
            "{table} leaks without a tenant"
        );
    }
}

/// The first payment of an order.
pub async fn payment_of(t: &TestDb, shop: &Shop, order: OrderId) -> orders::payments::Payment {
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::payments_of(tx, &[order])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("payments")
        .remove(&order)
        .and_then(|mut p| (!p.is_empty()).then(|| p.remove(0)))
        .expect("a payment")
}

/// An order as stored now.
pub async fn order_of(t: &TestDb, shop: &Shop, order: OrderId) -> Order {
    t.db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::by_ids(tx, &[order])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("order")
        .pop()
        .expect("the order")
}

/// Captures a manual payment (which confirms the order) when asked, then ships and delivers
/// every part of the order.
pub async fn deliver_all(t: &TestDb, shop: &Shop, order: &Order, capture: bool) {
    let staff = &shop.admin;
    if capture {
        let payment = payment_of(t, shop, order.id).await.id;
        orders::orders::capture_payment(t.db(), staff, payment)
            .await
            .expect("captured");
    }
    let id = order.id;
    let parts = t
        .db()
        .tenant_tx(shop.info.id, async move |tx| {
            orders::orders::vendor_orders_of(tx, &[id])
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("parts")
        .remove(&order.id)
        .unwrap_or_default();
    for part in parts {
        let shipped = orders::orders::ship(
            t.db(),
            staff,
            part.id,
            "SMSA".into(),
            format!("T-{}", part.id),
        )
        .await
        .expect("shipped");
        orders::orders::deliver(t.db(), staff, shipped.id)
            .await
            .expect("delivered");
    }
}

/// A verified B2B company of `shop`, registered by a new customer who is its ADMIN (and buys for
/// it): the company, the admin's id and their context acting for it (`x-company-id`).
pub async fn company(t: &TestDb, shop: &Shop, slug: &str) -> (CompanyId, UserId, RequestContext) {
    let admin = cityos_fixtures::customer(t, &shop.info, &format!("admin@{slug}.test")).await;
    let signed_in = user_context(Some(&shop.info), admin, &[Role::Customer]);
    let profile = vendors::companies::Profile {
        name: Some(format!("{slug} Trading")),
        email: Some(format!("ap@{slug}.test")),
        billing_address: Some(address()),
        ..vendors::companies::Profile::default()
    };
    let id = vendors::companies::register(t.db(), &signed_in, profile)
        .await
        .expect("registered")
        .id;
    vendors::companies::transition(t.db(), &shop.admin, id, CompanyStatus::Active, None)
        .await
        .expect("verified");
    let acting = cityos_testkit::company_context(&shop.info, admin, id, CompanyRole::Admin);
    (id, admin, acting)
}

/// Grants `company` NET_30 terms with `credit_limit` and `grace_days` (staff).
pub async fn net_30(t: &TestDb, shop: &Shop, company: CompanyId, credit_limit: i64, grace: i32) {
    let terms = vendors::companies::Terms {
        payment_terms: Some(vendors::api::PaymentTerms::Net30),
        credit_limit: Some(credit_limit),
        grace_days: Some(grace),
        ..vendors::companies::Terms::default()
    };
    vendors::companies::set_terms(t.db(), &shop.admin, company, terms)
        .await
        .expect("terms");
}

/// Checks a cart out with `method` and an optional purchase-order number; the order.
pub async fn check_out_with(
    t: &TestDb,
    who: &RequestContext,
    cart: CartId,
    key: &str,
    method: PaymentMethod,
    purchase_order: Option<&str>,
) -> orders::errors::Outcome<Order> {
    submit_with(t, who, cart, key, method, purchase_order)
        .await
        .map(placed)
}

/// Checks a cart out with `method` and an optional purchase-order number, as it comes out (an
/// order or an approval request).
pub async fn submit_with(
    t: &TestDb,
    who: &RequestContext,
    cart: CartId,
    key: &str,
    method: PaymentMethod,
    purchase_order: Option<&str>,
) -> orders::errors::Outcome<checkout::Checkout> {
    checkout::complete(
        t.db(),
        who,
        CheckoutRequest {
            cart_id: cart,
            idempotency_key: key.into(),
            payment_method: method,
            expected_total: None,
            purchase_order_number: purchase_order.map(str::to_owned),
        },
        &orders::payments::Gateway::default(),
    )
    .await
}

/// The code of a refused outcome.
pub fn code_of<T: std::fmt::Debug>(
    outcome: orders::errors::Outcome<T>,
) -> orders::errors::OrdersErrorCode {
    match outcome {
        Err(cityos_core::Failure::User(e)) => e.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Invites `email` into `company` with `role` (as its admin `inviter`) and accepts as a new
/// customer with that address: the member's id and their context acting for the company.
pub async fn member(
    t: &TestDb,
    shop: &Shop,
    inviter: &RequestContext,
    company: CompanyId,
    email: &str,
    role: CompanyRole,
) -> (UserId, RequestContext) {
    use vendors::companies::members::Buyers;
    let (_, token) = vendors::membership::invite::<Buyers>(t.db(), inviter, company, email, role)
        .await
        .expect("invited");
    let user = cityos_fixtures::customer(t, &shop.info, email).await;
    let signed_in = user_context(Some(&shop.info), user, &[Role::Customer]);
    vendors::membership::accept::<Buyers>(t.db(), &signed_in, &token)
        .await
        .expect("joined");
    (
        user,
        cityos_testkit::company_context(&shop.info, user, company, role),
    )
}

/// An approval rule for `company` from `min_total` SAR (minor units) with `levels` (staff).
pub async fn approval_rule(
    t: &TestDb,
    shop: &Shop,
    company: CompanyId,
    min_total: i64,
    levels: Vec<vendors::api::ApprovalLevel>,
) {
    let rule = vendors::companies::rules::NewRule {
        name: "Large orders".into(),
        min_total: Some((min_total, "SAR".into())),
        buyer_role: None,
        category_id: None,
        levels,
        position: 0,
    };
    vendors::companies::rules::create(t.db(), &shop.admin, company, rule)
        .await
        .expect("rule");
}

/// Checks a cart out with cash on delivery, as it comes out (an order or an approval request).
pub async fn submit(
    t: &TestDb,
    who: &RequestContext,
    cart: CartId,
    key: &str,
) -> orders::errors::Outcome<checkout::Checkout> {
    submit_with(t, who, cart, key, PaymentMethod::CashOnDelivery, None).await
}

/// The invoice of `order` (its first document), read as the tenant.
pub async fn invoice_of(
    t: &TestDb,
    tenant: TenantId,
    order: OrderId,
) -> orders::orders::invoices::Invoice {
    t.db()
        .tenant_tx(tenant, async move |tx| {
            Ok::<_, cityos_core::ApiError>(orders::orders::invoices::of_orders(tx, &[order]).await?)
        })
        .await
        .expect("invoices")
        .remove(&order)
        .and_then(|mut docs| (!docs.is_empty()).then(|| docs.remove(0)))
        .expect("an invoice")
}

/// Checks that the running sums checkout reads (`orders.company_month_spend`, `orders.company_owed`,
/// kept by triggers) equal what the tenant's orders, approval requests and payments add up to,
/// summed here from scratch; and that there is something to compare.
pub async fn assert_commitments_agree(t: &TestDb, tenant: TenantId) {
    #[derive(diesel::QueryableByName, Debug)]
    struct Agreement {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        kept: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        wrong: i64,
    }
    let found: Agreement = t
        .db()
        .tenant_tx(tenant, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "WITH spend AS (
                    SELECT company_id, buyer, month, sum(placed)::bigint AS placed, sum(waiting)::bigint AS waiting
                    FROM (SELECT company_id, customer_id AS buyer, date_trunc('month', placed_at, 'UTC')::date AS month,
                                 total AS placed, 0 AS waiting
                          FROM orders.orders WHERE company_id IS NOT NULL AND status <> 'CANCELLED'
                          UNION ALL
                          SELECT company_id, buyer_id, date_trunc('month', created_at, 'UTC')::date, 0, total
                          FROM orders.approval_requests WHERE status = 'PENDING') s
                    GROUP BY 1, 2, 3),
                 kept_spend AS (
                    SELECT company_id, buyer_id AS buyer, month, placed, waiting FROM orders.company_month_spend
                    WHERE placed <> 0 OR waiting <> 0),
                 owed AS (
                    SELECT o.company_id, sum(p.amount - p.captured_amount)::bigint AS owed
                    FROM orders.payments p JOIN orders.orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
                    WHERE p.method = 'ON_ACCOUNT' AND p.status IN ('PENDING', 'AUTHORIZED') AND o.company_id IS NOT NULL
                    GROUP BY 1 HAVING sum(p.amount - p.captured_amount) <> 0),
                 kept_owed AS (SELECT company_id, owed FROM orders.company_owed WHERE owed <> 0)
                 SELECT (SELECT count(*) FROM orders.company_month_spend)
                            + (SELECT count(*) FROM orders.company_owed) AS kept,
                        (SELECT count(*) FROM ((TABLE spend EXCEPT TABLE kept_spend)
                                               UNION ALL (TABLE kept_spend EXCEPT TABLE spend)) d)
                            + (SELECT count(*) FROM ((TABLE owed EXCEPT TABLE kept_owed)
                                                     UNION ALL (TABLE kept_owed EXCEPT TABLE owed)) d) AS wrong",
            )
            .get_result(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("sums");
    assert!(found.kept > 0, "nothing kept to compare: {found:?}");
    assert_eq!(
        found.wrong, 0,
        "the kept sums differ from the rows: {found:?}"
    );
}
