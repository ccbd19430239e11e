//! Vendors' products and the vendors' lifecycle, as the catalog learns it from `vendor.<status>`
//! events: listed while the vendor is approved, hidden from storefronts, search and carts while it
//! is suspended or closed, back on reinstatement; events applied in version order, once each.

use crate::common::{tenant, test_db};
use catalog::ids::VendorId;
use catalog::{Catalog, build_schema};
use cityos_core::{RequestContext, TenantInfo};
use cityos_fixtures::{ProductBuilder, approved_vendor, vendor_status};
use cityos_testkit::TestDb;
use serde_json::{Value, json};

const SHOP: &str = "query($v: ID!) {
    products(first: 10) { totalCount edges { node { handle } } }
    product(handle: \"oud\") { handle }
    hits: products(filter: { query: \"oud\" }, first: 10) { totalCount }
    _entities(representations: [{ __typename: \"Vendor\", id: $v }]) {
        ... on Vendor { products(first: 10) { totalCount } } } }";

async fn shop(t: &TestDb, ctx: &RequestContext, vendor: VendorId) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t
        .graphql::<Catalog>(&schema, ctx, SHOP, json!({ "v": vendor.to_string() }))
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

/// Whether a cart could take the vendor's product (the catalog's api for orders).
async fn purchasable(t: &TestDb, info: &TenantInfo, variant: catalog::ids::VariantId) -> bool {
    t.db()
        .tenant_tx(info.id, async move |tx| {
            catalog::api::purchasables(tx, &[variant], None)
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("purchasables")
        .len()
        == 1
}

/// What a storefront sees of the vendor's product: (listed products, product by handle, search
/// hits, the vendor's products).
async fn seen(t: &TestDb, info: &TenantInfo, vendor: VendorId) -> (i64, bool, i64, i64) {
    let s = shop(
        t,
        &cityos_testkit::context(Some(info), cityos_core::Actor::Anonymous),
        vendor,
    )
    .await;
    (
        s["products"]["totalCount"].as_i64().expect("count"),
        !s["product"].is_null(),
        s["hits"]["totalCount"].as_i64().expect("hits"),
        s["_entities"][0]["products"]["totalCount"]
            .as_i64()
            .expect("vendor's"),
    )
}

#[tokio::test]
async fn a_suspended_vendors_products_leave_the_storefront_and_come_back() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "bazaar").await;
    let vendor = approved_vendor(&t, &info).await;
    let oud = ProductBuilder::new("oud")
        .vendor(Some(vendor))
        .variant("OUD-1", &[("SAR", 10_000)])
        .create(&t, &admin)
        .await;
    ProductBuilder::new("own-musk").create(&t, &admin).await;
    assert_eq!(seen(&t, &info, vendor).await, (2, true, 1, 1));
    assert!(purchasable(&t, &info, oud.variants[0]).await);

    vendor_status(&t, &info, vendor, "SUSPENDED", 2).await;
    assert_eq!(seen(&t, &info, vendor).await, (1, false, 0, 0), "hidden");
    assert!(
        !purchasable(&t, &info, oud.variants[0]).await,
        "carts refuse it"
    );
    // Staff still see it, to fix whatever got the vendor suspended.
    let staff = shop(&t, &admin, vendor).await;
    assert_eq!(staff["products"]["totalCount"], 2);
    assert_eq!(staff["product"]["handle"], "oud");

    // An approval older than the suspension (delivered late) changes nothing.
    vendor_status(&t, &info, vendor, "APPROVED", 1).await;
    assert_eq!(
        seen(&t, &info, vendor).await,
        (1, false, 0, 0),
        "stale event ignored"
    );

    // Reinstated: back everywhere.
    vendor_status(&t, &info, vendor, "APPROVED", 3).await;
    assert_eq!(seen(&t, &info, vendor).await, (2, true, 1, 1));
    assert!(purchasable(&t, &info, oud.variants[0]).await);

    // Closed for good; a product moved to the tenant itself is listed again.
    vendor_status(&t, &info, vendor, "CLOSED", 4).await;
    assert_eq!(seen(&t, &info, vendor).await, (1, false, 0, 0));
    catalog::products::update(
        t.db(),
        &admin,
        oud.id,
        catalog::products::ProductChanges {
            vendor_id: Some(None),
            ..Default::default()
        },
    )
    .await
    .expect("moved to the tenant");
    assert_eq!(seen(&t, &info, vendor).await.0, 2);
}

#[tokio::test]
async fn only_approved_vendors_get_products_and_malformed_events_are_refused() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "souq").await;
    let (other, _) = tenant(&t, "souq-other").await;
    let theirs = approved_vendor(&t, &other).await;
    let schema = build_schema(Some(&t.platform));
    const CREATE: &str = "mutation($i: ProductCreateInput!) { productCreate(input: $i) {
        product { id } userErrors { field code } } }";
    for vendor in [VendorId::new(), theirs] {
        let r = t
            .graphql::<Catalog>(
                &schema,
                &admin,
                CREATE,
                json!({ "i": { "title": "X", "handle": "x", "vendorId": vendor.to_string() } }),
            )
            .await;
        assert_eq!(
            r["data"]["productCreate"]["userErrors"],
            json!([{ "field": ["input", "vendorId"], "code": "NOT_FOUND" }]),
            "{r}"
        );
    }
    assert_eq!(t.visible_rows("catalog.products", Some(info.id)).await, 0);

    // An event whose topic and status disagree is refused (the publisher retries; nothing applies).
    use cityos_server::Subgraph as _;
    let event = cityos_db::outbox::Event {
        id: catalog::ids::EventId::new(),
        source: "vendors".into(),
        tenant_id: info.id,
        topic: "vendor.approved".into(),
        aggregate_id: None,
        payload: json!({ "vendorId": VendorId::new(), "status": "SUSPENDED", "version": 2 }),
        created_at: chrono::Utc::now(),
        attempt: 1,
    };
    let refused = cityos_db::inbox::Inbox::of("catalog")
        .apply(t.db(), &Catalog::consumers(), &event)
        .await;
    assert!(refused.is_err());
    assert_eq!(t.visible_rows("catalog.vendors", Some(info.id)).await, 0);
    assert_eq!(t.visible_rows("catalog.inbox", Some(info.id)).await, 0);
}

/// A mutation's refusal code (its first user error's), or its error's `extensions.code`.
fn refusal(r: &Value, field: &str) -> String {
    let user = &r["data"][field]["userErrors"][0]["code"];
    let code = if user.is_string() {
        user
    } else {
        &r["errors"][0]["extensions"]["code"]
    };
    code.as_str()
        .unwrap_or_else(|| panic!("no refusal: {r}"))
        .to_owned()
}

#[tokio::test]
async fn a_vendors_team_writes_its_own_products_only() {
    use catalog::reviews::{self, NewReview, ReviewStatus};
    use cityos_core::VendorRole;
    let t = test_db().await;
    let (info, admin) = tenant(&t, "portal").await;
    let (a, b) = (
        approved_vendor(&t, &info).await,
        approved_vendor(&t, &info).await,
    );
    let location = cityos_fixtures::TestTenant {
        info: info.clone(),
        admin: admin.clone(),
    }
    .location(&t, "Main")
    .await;
    let theirs = ProductBuilder::new("theirs")
        .vendor(Some(b))
        .variant("B-1", &[("SAR", 100)])
        .create(&t, &admin)
        .await;
    let own_shop = ProductBuilder::new("tenants")
        .variant("T-1", &[("SAR", 100)])
        .create(&t, &admin)
        .await;
    let member =
        cityos_testkit::vendor_context(&info, catalog::ids::UserId::new(), a, VendorRole::Staff);
    let schema = build_schema(Some(&t.platform));
    let gql = async |ctx: &RequestContext, q: &str, vars: Value| {
        t.graphql::<Catalog>(&schema, ctx, q, vars).await
    };

    // A new product is the acting vendor's, whatever the input says; naming another is refused.
    const CREATE: &str = "mutation($i: ProductCreateInput!) { productCreate(input: $i) {
        product { id status vendor { id } } userErrors { field code } } }";
    let r = gql(
        &member,
        CREATE,
        json!({ "i": { "title": "Mine", "handle": "mine", "status": "PUBLISHED" } }),
    )
    .await;
    let mine = &r["data"]["productCreate"]["product"];
    assert_eq!(mine["vendor"]["id"], a.to_string(), "{r}");
    let mine = mine["id"].as_str().expect("id").to_owned();
    let r = gql(
        &member,
        CREATE,
        json!({ "i": { "title": "X", "handle": "x", "vendorId": b.to_string() } }),
    )
    .await;
    assert_eq!(refusal(&r, "productCreate"), "FORBIDDEN");

    // Its own product takes changes, variants, stock and media; another seller's is NOT_FOUND.
    const UPDATE: &str = "mutation($i: ProductUpdateInput!) { productUpdate(input: $i) { product { title } userErrors { field code } } }";
    const VARIANT: &str = "mutation($i: ProductVariantCreateInput!) { productVariantCreate(input: $i) { variant { id } userErrors { field code } } }";
    const STOCK: &str =
        "mutation($i: StockAdjustInput!) { stockAdjust(input: $i) { userErrors { field code } } }";
    const MEDIA: &str = "mutation($i: ProductMediaAddInput!) { productMediaAdd(input: $i) { userErrors { field code } } }";
    const RESPOND: &str = "mutation($i: ReviewRespondInput!) { reviewRespond(input: $i) { userErrors { field code } } }";
    const CATEGORIES: &str = "mutation($i: ProductCategoriesSetInput!) { productCategoriesSet(input: $i) { userErrors { field code } } }";
    let r = gql(
        &member,
        UPDATE,
        json!({ "i": { "id": mine, "title": "Mine, renamed" } }),
    )
    .await;
    assert_eq!(
        r["data"]["productUpdate"]["product"]["title"], "Mine, renamed",
        "{r}"
    );
    let r = gql(&member, VARIANT, json!({ "i": { "productId": mine, "sku": "MINE-1", "prices": [{ "currency": "SAR", "amountMinor": 500 }] } })).await;
    let variant = r["data"]["productVariantCreate"]["variant"]["id"].clone();
    assert!(variant.is_string(), "{r}");
    let r = gql(&member, STOCK, json!({ "i": { "variantId": variant, "locationId": location.to_string(), "delta": 7, "reason": "RECEIVED" } })).await;
    assert_eq!(r["data"]["stockAdjust"]["userErrors"], json!([]), "{r}");
    let r = gql(
        &member,
        MEDIA,
        json!({ "i": { "productId": mine, "url": "https://cdn.test/mine.jpg" } }),
    )
    .await;
    assert_eq!(r["data"]["productMediaAdd"]["userErrors"], json!([]), "{r}");

    let sara = cityos_fixtures::customer(&t, &info, "sara@portal.test").await;
    let review = reviews::create(
        t.db(),
        &cityos_testkit::user_context(Some(&info), sara, &[cityos_core::Role::Customer]),
        NewReview {
            product_id: theirs.id,
            rating: 4,
            title: None,
            body: None,
        },
    )
    .await
    .expect("review")
    .id;
    reviews::moderate(t.db(), &admin, review, ReviewStatus::Approved)
        .await
        .expect("approved");
    let before = t.visible_rows("identity.audit_log", Some(info.id)).await;
    for product in [theirs.id.to_string(), own_shop.id.to_string()] {
        let cases = [
            (
                UPDATE,
                "productUpdate",
                json!({ "i": { "id": product, "title": "Taken" } }),
            ),
            (
                VARIANT,
                "productVariantCreate",
                json!({ "i": { "productId": product, "sku": format!("S-{}", &product[..8]), "prices": [] } }),
            ),
            (
                MEDIA,
                "productMediaAdd",
                json!({ "i": { "productId": product, "url": "https://cdn.test/x.jpg" } }),
            ),
            (
                CATEGORIES,
                "productCategoriesSet",
                json!({ "i": { "productId": product, "categoryIds": [] } }),
            ),
        ];
        for (q, field, vars) in cases {
            let r = gql(&member, q, vars).await;
            assert_eq!(refusal(&r, field), "NOT_FOUND", "{field}: {r}");
        }
    }
    let their_variant = theirs.variants[0].to_string();
    let r = gql(&member, STOCK, json!({ "i": { "variantId": their_variant, "locationId": location.to_string(), "delta": 1, "reason": "RECEIVED" } })).await;
    assert_eq!(refusal(&r, "stockAdjust"), "NOT_FOUND");
    let r = gql(
        &member,
        RESPOND,
        json!({ "i": { "id": review.to_string(), "body": "Not yours" } }),
    )
    .await;
    assert_eq!(refusal(&r, "reviewRespond"), "NOT_FOUND");
    let r = gql(
        &member,
        UPDATE,
        json!({ "i": { "id": mine, "vendorId": null } }),
    )
    .await;
    assert_eq!(
        refusal(&r, "productUpdate"),
        "FORBIDDEN",
        "cannot give it away"
    );
    assert_eq!(
        t.visible_rows("identity.audit_log", Some(info.id)).await,
        before,
        "refusals change nothing"
    );

    // Customers and anonymous callers write nothing; another tenant's member naming the same
    // vendor finds nothing.
    let customer = cityos_testkit::user_context(Some(&info), sara, &[cityos_core::Role::Customer]);
    let r = gql(
        &customer,
        UPDATE,
        json!({ "i": { "id": mine, "title": "Hi" } }),
    )
    .await;
    assert_eq!(refusal(&r, "productUpdate"), "FORBIDDEN");
    let r = gql(
        &cityos_testkit::context(Some(&info), cityos_core::Actor::Anonymous),
        UPDATE,
        json!({ "i": { "id": mine, "title": "Hi" } }),
    )
    .await;
    assert_eq!(refusal(&r, "productUpdate"), "UNAUTHENTICATED");
    let (other, _) = tenant(&t, "portal-other").await;
    let stranger =
        cityos_testkit::vendor_context(&other, catalog::ids::UserId::new(), a, VendorRole::Owner);
    let r = gql(
        &stranger,
        UPDATE,
        json!({ "i": { "id": mine, "title": "Hi" } }),
    )
    .await;
    assert_eq!(refusal(&r, "productUpdate"), "NOT_FOUND");
}

#[tokio::test]
async fn a_vendors_team_reads_its_own_drafts_and_no_one_else_does() {
    use cityos_core::VendorRole;
    let t = test_db().await;
    let (info, admin) = tenant(&t, "drafts").await;
    let (a, b) = (
        approved_vendor(&t, &info).await,
        approved_vendor(&t, &info).await,
    );
    let draft = ProductBuilder::new("a-draft")
        .vendor(Some(a))
        .status(catalog::products::ProductStatus::Draft)
        .variant("A-1", &[("SAR", 100)])
        .create(&t, &admin)
        .await;
    ProductBuilder::new("b-draft")
        .vendor(Some(b))
        .status(catalog::products::ProductStatus::Draft)
        .variant("B-1", &[("SAR", 100)])
        .create(&t, &admin)
        .await;
    ProductBuilder::new("listed")
        .variant("T-1", &[("SAR", 100)])
        .create(&t, &admin)
        .await;
    let schema = build_schema(Some(&t.platform));
    let team_a =
        cityos_testkit::vendor_context(&info, catalog::ids::UserId::new(), a, VendorRole::Staff);
    let team_b =
        cityos_testkit::vendor_context(&info, catalog::ids::UserId::new(), b, VendorRole::Staff);
    let guest = cityos_testkit::context(Some(&info), cityos_core::Actor::Anonymous);
    let read = "query($h: String!) { products(first: 10) { totalCount edges { node { handle } } }
        product(handle: $h) { handle status } }";
    let vars = json!({ "h": "a-draft" });
    let seen = |r: &Value| {
        (
            r["data"]["products"]["totalCount"].clone(),
            r["data"]["product"]["status"].clone(),
        )
    };
    // Its team: the listed product and its own draft, in lists and by handle.
    let r = t
        .graphql::<Catalog>(&schema, &team_a, read, vars.clone())
        .await;
    assert_eq!(seen(&r), (json!(2), json!("DRAFT")), "{r}");
    // Another vendor's team sees its own draft, not this one; a storefront visitor neither.
    let r = t
        .graphql::<Catalog>(&schema, &team_b, read, vars.clone())
        .await;
    assert_eq!(seen(&r), (json!(2), Value::Null), "{r}");
    assert_eq!(
        r["data"]["products"]["edges"][0]["node"]["handle"],
        "b-draft"
    );
    let r = t
        .graphql::<Catalog>(&schema, &guest, read, vars.clone())
        .await;
    assert_eq!(seen(&r), (json!(1), Value::Null), "{r}");
    // Staff see everything.
    let r = t.graphql::<Catalog>(&schema, &admin, read, vars).await;
    assert_eq!(seen(&r).0, json!(3), "{r}");
    let _ = draft;
}

#[tokio::test]
async fn review_changes_and_a_product_changing_hands_announce_the_reviews_in_version_order() {
    use catalog::reviews::{self, NewReview, ReviewStatus};
    let t = test_db().await;
    let (info, admin) = tenant(&t, "announce").await;
    let (a, b) = (
        approved_vendor(&t, &info).await,
        approved_vendor(&t, &info).await,
    );
    let oud = ProductBuilder::new("oud")
        .vendor(Some(a))
        .create(&t, &admin)
        .await
        .id;
    let sara = cityos_fixtures::customer(&t, &info, "sara@announce.test").await;
    let sara = cityos_testkit::user_context(Some(&info), sara, &[cityos_core::Role::Customer]);
    let review = reviews::create(
        t.db(),
        &sara,
        NewReview {
            product_id: oud,
            rating: 4,
            title: None,
            body: None,
        },
    )
    .await
    .expect("review")
    .id;
    reviews::moderate(t.db(), &admin, review, ReviewStatus::Approved)
        .await
        .expect("approved");
    reviews::update(t.db(), &sara, review, Some(5), None, None)
        .await
        .expect("edited");
    reviews::moderate(t.db(), &admin, review, ReviewStatus::Approved)
        .await
        .expect("approved again");
    catalog::products::update(
        t.db(),
        &admin,
        oud,
        catalog::products::ProductChanges {
            vendor_id: Some(Some(b)),
            ..Default::default()
        },
    )
    .await
    .expect("moved");
    reviews::delete(t.db(), &sara, review)
        .await
        .expect("deleted");
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Seen {
        #[diesel(sql_type = diesel::sql_types::Text)]
        summary: String,
    }
    let seen: Vec<Seen> = t
        .db()
        .tenant_tx(info.id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "SELECT concat_ws(' ', payload->>'version', payload->>'rating', payload->>'counted',
                        CASE WHEN payload->>'vendorId' = $1 THEN 'a' WHEN payload->>'vendorId' = $2 THEN 'b' END) AS summary
                 FROM catalog.outbox WHERE topic = 'review.changed' ORDER BY id",
            )
            .bind::<diesel::sql_types::Text, _>(a.to_string())
            .bind::<diesel::sql_types::Text, _>(b.to_string())
            .load(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("events");
    let seen: Vec<&str> = seen.iter().map(|s| s.summary.as_str()).collect();
    assert_eq!(
        seen,
        [
            "2 4 true a",
            "3 5 false a",
            "4 5 true a",
            "5 5 true b",
            "6 5 false b"
        ]
    );
}

/// A vendor's team may write its products before the catalog has seen its approval; the product's
/// listing is computed on that write and again when the approval arrives. Raced against each
/// other (twenty new vendors, each one's first product created while its approval is applied),
/// every published product ends up listed.
#[tokio::test]
async fn a_product_written_while_its_vendors_approval_arrives_is_listed() {
    use catalog::products::ProductStatus;
    use cityos_core::VendorRole;
    let t = test_db().await;
    let (info, _) = tenant(&t, "listing-race").await;
    let vendors: Vec<VendorId> = (0..20).map(|_| VendorId::new()).collect();
    let races = vendors.iter().enumerate().map(|(i, vendor)| {
        let team = cityos_testkit::vendor_context(
            &info,
            catalog::ids::UserId::new(),
            *vendor,
            VendorRole::Staff,
        );
        let (t, info) = (&t, &info);
        async move {
            let create = async {
                ProductBuilder::new(&format!("race-{i}"))
                    .status(ProductStatus::Published)
                    .create(t, &team)
                    .await
            };
            tokio::join!(create, vendor_status(t, info, *vendor, "APPROVED", 1));
        }
    });
    futures_util::future::join_all(races).await;
    let tenant_id = info.id;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let unlisted: Count = t
        .db()
        .tenant_tx(tenant_id, async move |tx| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query(
                "SELECT count(*) AS n FROM catalog.products WHERE status = 'PUBLISHED' AND NOT listed",
            )
            .get_result(tx.conn())
            .await
            .map_err(cityos_core::ApiError::from)
        })
        .await
        .expect("count");
    assert_eq!(unlisted.n, 0);
}
