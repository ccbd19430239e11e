//! Tenant isolation of every catalog table at once: one fixture writes rows to each table for one
//! tenant (and some for another), and the testkit probes every table the catalogue lists, so a
//! table added without fixture rows here fails by name.

use crate::common::{customer, hold, product, tenant, test_db, variant};
use catalog::inventory::{self, Adjustment, MovementReason};
use catalog::price_lists::{self, ListEntry, NewPriceList, NewTier};
use catalog::pricing::PriceListKind;
use catalog::products::media::{self, NewMedia};
use catalog::products::{translations, variants};
use catalog::reviews::{self, NewReview, ReviewStatus};
use catalog::taxonomy::categories::{self, NewCategory};
use catalog::taxonomy::collections;
use catalog::wishlists;
use cityos_core::Role;
use cityos_testkit::user_context;

#[tokio::test]
async fn every_catalog_table_is_isolated_by_tenant() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "iso-own").await;
    let (other, other_admin) = tenant(&t, "iso-other").await;
    product(&t, &other_admin, "theirs").await;
    // Events out get a delivery per subscriber of their topic (the low-stock alert below).
    catalog::OUTBOX
        .subscribe(t.db(), &[("analytics".into(), "stock.low".into())])
        .await
        .expect("subscribed");

    // Products, media, options, variants and their prices.
    let oud = product(&t, &admin, "oud").await;
    media::add(
        t.db(),
        &admin,
        NewMedia {
            product_id: oud,
            url: "https://cdn.test/oud.jpg".into(),
            alt_text: None,
            position: None,
        },
    )
    .await
    .expect("media");
    variants::create_option(t.db(), &admin, oud, "Size", vec!["50ml".into()])
        .await
        .expect("option");
    let v = variants::NewVariant {
        options: vec![("Size".into(), "50ml".into())],
        ..variant(oud, "OUD-50", &[("SAR", 10_000)])
    };
    let v = variants::create_variant(t.db(), &admin, v)
        .await
        .expect("variant")
        .variant
        .id;

    // Customer groups, price lists and volume tiers.
    let sara = customer(&t, &info, "sara@iso.test").await;
    let group = price_lists::create_group(t.db(), &admin, "Wholesale", None)
        .await
        .expect("group")
        .id;
    price_lists::change_members(t.db(), &admin, group, vec![sara], true)
        .await
        .expect("member");
    let list = NewPriceList {
        name: "Eid".into(),
        kind: PriceListKind::Sale,
        customer_group_id: None,
        starts_at: None,
        ends_at: None,
    };
    let list = price_lists::create_list(t.db(), &admin, list)
        .await
        .expect("list")
        .id;
    let entry = ListEntry {
        variant_id: v,
        prices: vec![("SAR".into(), 9_000)],
    };
    price_lists::set_list_prices(t.db(), &admin, list, vec![entry])
        .await
        .expect("entries");
    let tier = NewTier {
        product_id: oud,
        variant_id: None,
        currency: "SAR".into(),
        customer_group_id: Some(group),
        min_quantity: 10,
        max_quantity: None,
        unit_amount: Some(8_000),
        percent_off: None,
    };
    price_lists::create_tier(t.db(), &admin, tier)
        .await
        .expect("tier");

    // Stock: locations, levels, movements, a hold, a transfer, a low-stock alert (the outbox).
    let mut locations = Vec::new();
    for name in ["Warehouse", "Shop"] {
        let location = inventory::create_location(t.db(), &admin, name, None)
            .await
            .expect("location")
            .id;
        let received = Adjustment {
            variant_id: v,
            location_id: location,
            delta: Some(5),
            on_hand: None,
            reason: MovementReason::Received,
            note: String::new(),
        };
        inventory::adjust(t.db(), &admin, received)
            .await
            .expect("stock");
        locations.push(location);
    }
    hold(
        &t,
        info.id,
        "cart:iso",
        (v, locations[0]),
        1,
        chrono::Duration::hours(1),
    )
    .await;
    inventory::request_transfer(
        t.db(),
        &admin,
        locations[0],
        locations[1],
        vec![(v, 1)],
        None,
    )
    .await
    .expect("transfer");
    inventory::set_threshold(t.db(), &admin, v, locations[1], Some(10))
        .await
        .expect("threshold: the level is below it, so stock.low is written");

    // Taxonomy and translations.
    let category = NewCategory {
        name: "Perfume".into(),
        handle: "perfume".into(),
        description: None,
        parent_id: None,
    };
    let category = categories::create(t.db(), &admin, category)
        .await
        .expect("category")
        .id;
    categories::set_for_product(t.db(), &admin, oud, vec![category])
        .await
        .expect("categorised");
    let collection = collections::create(t.db(), &admin, "Gifts", "gifts", None)
        .await
        .expect("collection")
        .id;
    collections::add_products(t.db(), &admin, collection, vec![oud], None)
        .await
        .expect("collected");
    translations::set(t.db(), &admin, oud, "en", "Oud", None)
        .await
        .expect("translation");

    // Reviews with a response and a vote; a wishlist with an item.
    let sara_ctx = user_context(Some(&info), sara, &[Role::Customer]);
    let review = NewReview {
        product_id: oud,
        rating: 5,
        title: None,
        body: None,
    };
    let review = reviews::create(t.db(), &sara_ctx, review)
        .await
        .expect("review")
        .id;
    reviews::moderate(t.db(), &admin, review, ReviewStatus::Approved)
        .await
        .expect("approved");
    reviews::respond(t.db(), &admin, review, "Thank you")
        .await
        .expect("response");
    let omar = customer(&t, &info, "omar@iso.test").await;
    let omar_ctx = user_context(Some(&info), omar, &[Role::Customer]);
    reviews::vote(t.db(), &omar_ctx, review, true)
        .await
        .expect("vote");
    let wishlist = wishlists::create(t.db(), &sara_ctx, "Later")
        .await
        .expect("wishlist")
        .id;
    wishlists::add_item(t.db(), &sara_ctx, wishlist, oud, None)
        .await
        .expect("item");

    // A vendor the catalog knows of (from its event), and one of the other tenant's.
    cityos_fixtures::approved_vendor(&t, &info).await;
    cityos_fixtures::approved_vendor(&t, &other).await;

    // An event in (the inbox) and a job.
    let placed = cityos_db::outbox::Event {
        id: catalog::ids::EventId::new(),
        source: "orders".into(),
        tenant_id: info.id,
        topic: "order.placed".into(),
        aggregate_id: None,
        payload: serde_json::json!({ "lines": [{ "productId": oud, "quantity": 1 }] }),
        created_at: chrono::Utc::now(),
        attempt: 1,
    };
    use cityos_server::Subgraph as _;
    cityos_db::inbox::Inbox::of("catalog")
        .apply(t.db(), &catalog::Catalog::consumers(), &placed)
        .await
        .expect("applied");
    t.owner_sql(&format!(
        "INSERT INTO catalog.jobs (tenant_id, id, name, key, run_at)
         VALUES ('{}', gen_random_uuid(), 'test.job', 'k', now() + interval '1 day')",
        info.id
    ))
    .await;

    t.assert_every_table_isolated("catalog", info.id, other.id)
        .await;
}
