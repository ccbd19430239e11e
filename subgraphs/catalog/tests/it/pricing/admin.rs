//! Price lists, tiers and customer groups as staff manage them: refusals, GraphQL flows, races,
//! tenants.

use super::{first_page, price_at, rule, shop, tier};
use crate::common::{customer, test_db};
use catalog::errors::CatalogErrorCode as Code;
use catalog::ids::{CustomerGroupId, PriceListId, ProductId, UserId, VariantId};
use catalog::price_lists::{self, NewPriceList, NewTier};
use catalog::pricing::PriceListKind;
use catalog::{Catalog, build_schema};
use chrono::{Duration, Utc};
use cityos_core::{Actor, RequestContext, Role};
use cityos_testkit::{context, refusal, user_context};
use serde_json::{Value, json};

#[tokio::test]
async fn rules_refuse_bad_input_and_change_nothing() {
    let t = test_db().await;
    let s = shop(&t, "refusals").await;
    let (db, admin, p) = (t.db(), &s.admin, s.product);
    let tiers_before = t
        .visible_rows("catalog.volume_tiers", Some(s.info.id))
        .await;
    for (new, code) in [
        (
            tier(p, 20, Some(30), Some(1), None, None),
            Code::OverlappingTier,
        ),
        (
            tier(p, 60, None, Some(1), None, None),
            Code::OverlappingTier,
        ),
        (tier(p, 0, None, Some(1), None, None), Code::InvalidTier),
        (tier(p, 5, Some(4), Some(1), None, None), Code::InvalidTier),
        (
            tier(p, 1, Some(4), Some(1), Some(5.0), None),
            Code::InvalidTier,
        ),
        (tier(p, 1, Some(4), None, None, None), Code::InvalidTier),
        (
            tier(p, 1, Some(4), None, Some(120.0), None),
            Code::InvalidTier,
        ),
        (
            tier(p, 1, Some(4), None, Some(1.005), None),
            Code::InvalidTier,
        ),
        (
            tier(p, 1, Some(4), Some(-1), None, None),
            Code::NegativePrice,
        ),
        (
            tier(ProductId::new(), 1, Some(4), Some(1), None, None),
            Code::NotFound,
        ),
        (
            tier(p, 1, Some(4), Some(1), None, Some(CustomerGroupId::new())),
            Code::NotFound,
        ),
        (
            NewTier {
                currency: "XXX".into(),
                ..tier(p, 1, Some(4), Some(1), None, None)
            },
            Code::UnknownCurrency,
        ),
        (
            NewTier {
                variant_id: Some(VariantId::new()),
                ..tier(p, 1, Some(4), Some(1), None, None)
            },
            Code::NotFound,
        ),
    ] {
        assert_eq!(
            refusal(price_lists::create_tier(db, admin, new.clone()).await),
            code,
            "{new:?}"
        );
    }
    assert_eq!(
        t.visible_rows("catalog.volume_tiers", Some(s.info.id))
            .await,
        tiers_before
    );
    // A tier of the same range for another currency, group or variant is a different tier.
    let ok = [
        NewTier {
            currency: "USD".into(),
            ..tier(p, 10, Some(49), Some(2_500), None, None)
        },
        NewTier {
            variant_id: Some(s.variant),
            ..tier(p, 10, Some(49), Some(8_000), None, None)
        },
        tier(p, 1, Some(4), Some(9_500), None, Some(s.wholesale)),
    ];
    for new in ok {
        price_lists::create_tier(db, admin, new)
            .await
            .expect("distinct tier");
    }

    let now = Utc::now();
    let new_list = |name: &str, starts, ends, group| NewPriceList {
        name: name.into(),
        kind: PriceListKind::Sale,
        customer_group_id: group,
        starts_at: starts,
        ends_at: ends,
    };
    let lists_before = t.visible_rows("catalog.price_lists", Some(s.info.id)).await;
    for (new, code) in [
        (new_list("Ramadan sale", None, None, None), Code::NameTaken),
        (new_list(" ", None, None, None), Code::InvalidName),
        (
            new_list("Backwards", Some(now), Some(now - Duration::days(1)), None),
            Code::InvalidWindow,
        ),
        (
            new_list("Ghost group", None, None, Some(CustomerGroupId::new())),
            Code::NotFound,
        ),
    ] {
        assert_eq!(
            refusal(price_lists::create_list(db, admin, new).await),
            code
        );
    }
    assert_eq!(
        t.visible_rows("catalog.price_lists", Some(s.info.id)).await,
        lists_before
    );
    let list = price_lists::create_list(db, admin, new_list("Flash", None, None, None))
        .await
        .expect("list")
        .id;
    let entry = |variant_id, prices: &[(&str, i64)]| price_lists::ListEntry {
        variant_id,
        prices: prices.iter().map(|(c, a)| ((*c).to_owned(), *a)).collect(),
    };
    for (entries, code) in [
        (vec![entry(s.variant, &[("SAR", -5)])], Code::NegativePrice),
        (vec![entry(s.variant, &[("ZZZ", 5)])], Code::UnknownCurrency),
        (vec![entry(VariantId::new(), &[("SAR", 5)])], Code::NotFound),
        (
            vec![
                entry(s.variant, &[("SAR", 5)]),
                entry(s.variant, &[("USD", 5)]),
            ],
            Code::DuplicateVariant,
        ),
        (vec![], Code::InvalidCount),
    ] {
        assert_eq!(
            refusal(price_lists::set_list_prices(db, admin, list, entries).await),
            code
        );
    }
    assert_eq!(
        refusal(
            price_lists::set_list_prices(
                db,
                admin,
                PriceListId::new(),
                vec![entry(s.variant, &[("SAR", 5)])]
            )
            .await
        ),
        Code::NotFound
    );
    assert_eq!(
        t.visible_rows("catalog.price_list_prices", Some(s.info.id))
            .await,
        2
    );
    assert_eq!(
        refusal(price_lists::create_group(db, admin, "Wholesale", None).await),
        Code::NameTaken
    );
}

#[tokio::test]
async fn admin_flows_through_graphql_and_storefronts_cannot_use_them() {
    let t = test_db().await;
    let s = shop(&t, "admin").await;
    let schema = build_schema(Some(&t.platform));
    let gql = async |ctx: &RequestContext, q: &str, v: Value| {
        t.graphql::<Catalog>(&schema, ctx, q, v).await
    };
    let r = gql(
        &s.admin,
        "mutation($g: ID!, $c: [ID!]!) { customerGroupMembersAdd(input: { groupId: $g, customerIds: $c }) {
            customerGroup { name members(first: 10) { totalCount edges { node { id } } } } userErrors { code } } }",
        json!({ "g": s.wholesale, "c": [
            customer(&t, &s.info, "one@shop.test").await,
            customer(&t, &s.info, "two@shop.test").await,
        ] }),
    )
    .await;
    assert_eq!(
        r["data"]["customerGroupMembersAdd"]["customerGroup"]["members"]["totalCount"], 2,
        "{r}"
    );
    let r = gql(
        &s.admin,
        "{ priceLists(first: 10) { totalCount edges { node { name kind active
            prices(first: 10) { edges { node { variantId prices { amountMinor currency } } } } } } } }",
        json!({}),
    )
    .await;
    assert_eq!(r["data"]["priceLists"]["totalCount"], 2, "{r}");
    assert_eq!(
        r["data"]["priceLists"]["edges"][0]["node"],
        json!({ "name": "Ramadan sale", "kind": "SALE", "active": true,
            "prices": { "edges": [{ "node": { "variantId": s.variant.to_string(), "prices": [{ "amountMinor": 9000, "currency": "SAR" }] } }] } })
    );
    // Ending the sale (window moved into the past) takes it off the storefront at once.
    let sale = price_lists::lists(t.db(), &s.admin, first_page())
        .await
        .expect("lists")
        .items[0]
        .1
        .id;
    let r = gql(
        &s.admin,
        "mutation($id: ID!, $end: DateTime) { priceListUpdate(input: { id: $id, endsAt: $end, startsAt: null }) {
            priceList { active startsAt } userErrors { code } } }",
        json!({ "id": sale, "end": Utc::now() - Duration::minutes(1) }),
    )
    .await;
    assert_eq!(
        r["data"]["priceListUpdate"]["priceList"],
        json!({ "active": false, "startsAt": null }),
        "{r}"
    );
    let storefront = context(
        Some(&s.info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    assert_eq!(
        rule(&price_at(&t, &storefront, 1).await),
        (10_000, "BASE_PRICE".into())
    );
    // A tier through GraphQL: overlap is a user error.
    let r = gql(
        &s.admin,
        "mutation($p: ID!) { volumeTierCreate(input: { productId: $p, currency: \"SAR\", minQuantity: 40, unitAmountMinor: 100 }) {
            volumeTier { minQuantity } userErrors { field code } } }",
        json!({ "p": s.product }),
    )
    .await;
    assert_eq!(
        r["data"]["volumeTierCreate"],
        json!({ "volumeTier": null, "userErrors": [{ "field": ["input", "minQuantity"], "code": "OVERLAPPING_TIER" }] })
    );
    // Storefronts and customers get none of it.
    let customer = user_context(Some(&s.info), UserId::new(), &[Role::Customer]);
    for ctx in [&storefront, &customer] {
        for q in [
            "{ customerGroups(first: 5) { totalCount } }",
            "{ priceLists(first: 5) { totalCount } }",
        ] {
            let r = gql(ctx, q, json!({})).await;
            assert!(
                matches!(
                    r["errors"][0]["extensions"]["code"].as_str(),
                    Some("UNAUTHENTICATED" | "FORBIDDEN")
                ),
                "{r}"
            );
        }
        let r = gql(
            ctx,
            "mutation { customerGroupCreate(input: { name: \"Mine\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
        assert!(r["errors"][0]["extensions"]["code"].is_string(), "{r}");
    }
}

#[tokio::test]
async fn racing_overlapping_tiers_leave_exactly_one() {
    let t = test_db().await;
    let s = shop(&t, "tier-race").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (db, admin) = (t.db().clone(), s.admin.clone());
        let new = NewTier {
            currency: "USD".into(),
            ..tier(s.product, 10 + i, Some(100 + i), Some(1_000), None, None)
        };
        tasks.push(tokio::spawn(async move {
            price_lists::create_tier(&db, &admin, new).await.is_ok()
        }));
    }
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.expect("task"));
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn groups_lists_and_tiers_are_invisible_across_tenants() {
    let t = test_db().await;
    let a = shop(&t, "tenant-a").await;
    let b = shop(&t, "tenant-b").await;
    let member = customer(&t, &a.info, "member@a.test").await;
    price_lists::change_members(t.db(), &a.admin, a.wholesale, vec![member], true)
        .await
        .expect("members");
    // Only the tenant's own customers can be members: not B's, not a staff account, not made up.
    let b_customer = customer(&t, &b.info, "member@b.test").await;
    let a_staff = a.admin.user_id().expect("admin id");
    for stranger in [b_customer, a_staff, UserId::new()] {
        assert_eq!(
            refusal(
                price_lists::change_members(
                    t.db(),
                    &a.admin,
                    a.wholesale,
                    vec![member, stranger],
                    true
                )
                .await
            ),
            Code::UnknownCustomer
        );
    }
    for table in [
        "catalog.customer_groups",
        "catalog.customer_group_members",
        "catalog.price_lists",
        "catalog.price_list_prices",
        "catalog.volume_tiers",
    ] {
        assert_eq!(
            t.visible_rows(table, None).await,
            0,
            "{table} without a tenant"
        );
        let in_a = t.visible_rows(table, Some(a.info.id)).await;
        let in_b = t.visible_rows(table, Some(b.info.id)).await;
        assert!(in_a > 0, "{table}");
        assert_eq!(
            in_a - in_b,
            i64::from(table.ends_with("members")),
            "{table}"
        );
    }
    // B's admin cannot touch A's group, lists or product by id.
    assert_eq!(
        refusal(
            price_lists::change_members(t.db(), &b.admin, a.wholesale, vec![member], true).await
        ),
        Code::NotFound
    );
    assert_eq!(
        refusal(
            price_lists::create_tier(
                t.db(),
                &b.admin,
                tier(a.product, 200, None, Some(1), None, None)
            )
            .await
        ),
        Code::NotFound
    );
    assert_eq!(
        refusal(
            price_lists::create_tier(
                t.db(),
                &b.admin,
                tier(b.product, 200, None, Some(1), None, Some(a.wholesale))
            )
            .await
        ),
        Code::NotFound
    );
    let a_list = price_lists::lists(t.db(), &a.admin, first_page())
        .await
        .expect("lists")
        .items[0]
        .1
        .id;
    let entry = price_lists::ListEntry {
        variant_id: b.variant,
        prices: vec![("SAR".into(), 1)],
    };
    assert_eq!(
        refusal(price_lists::set_list_prices(t.db(), &b.admin, a_list, vec![entry]).await),
        Code::NotFound
    );
    let entry = price_lists::ListEntry {
        variant_id: a.variant,
        prices: vec![("SAR".into(), 1)],
    };
    let b_list = price_lists::lists(t.db(), &b.admin, first_page())
        .await
        .expect("lists")
        .items[0]
        .1
        .id;
    assert_eq!(
        refusal(price_lists::set_list_prices(t.db(), &b.admin, b_list, vec![entry]).await),
        Code::NotFound
    );
    assert!(
        price_lists::list_by_id(t.db(), &b.admin, a_list)
            .await
            .expect("lookup")
            .is_none()
    );
}
