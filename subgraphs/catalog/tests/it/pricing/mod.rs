//! Customer groups, price lists and volume tiers: the precedence through GraphQL and through the
//! Rust function orders will call, the rules, a race for overlapping tiers, and tenant isolation.

mod admin;

use crate::common::{customer, product, tenant, test_db, variant};
use catalog::ids::{CustomerGroupId, ProductId, UserId, VariantId};
use catalog::price_lists::{self, NewPriceList, NewTier};
use catalog::pricing::{PriceListKind, PriceRequest, PriceRule};
use catalog::products::{cards, variants};
use catalog::{Catalog, build_schema};
use chrono::{Duration, Utc};
use cityos_core::money::Currency;
use cityos_core::paging::PageRequest;
use cityos_core::{Actor, ApiError, RequestContext, Role, TenantInfo};
use cityos_testkit::{TestDb, context, user_context};
use serde_json::{Value, json};

struct Shop {
    info: TenantInfo,
    admin: RequestContext,
    product: ProductId,
    variant: VariantId,
    wholesale: CustomerGroupId,
}

/// A product with one variant at 100.00 SAR / 30.00 USD, a Wholesale group, a SALE list at 90.00
/// for everyone (open now), a Wholesale OVERRIDE at 70.00, product-wide tiers 10-49 at 15 % off and
/// 50+ at 60.00, and a Wholesale-only tier 5+ at 65.00.
async fn shop(t: &TestDb, slug: &str) -> Shop {
    let (info, admin) = tenant(t, slug).await;
    let product = product(t, &admin, "oud").await;
    let variant = variants::create_variant(
        t.db(),
        &admin,
        variant(product, "OUD-1", &[("SAR", 10_000), ("USD", 3_000)]),
    )
    .await
    .expect("variant")
    .variant
    .id;
    let wholesale = price_lists::create_group(t.db(), &admin, "Wholesale", None)
        .await
        .expect("group")
        .id;
    let now = Utc::now();
    let list = |name: &str, kind, group| NewPriceList {
        name: name.into(),
        kind,
        customer_group_id: group,
        starts_at: Some(now - Duration::hours(1)),
        ends_at: Some(now + Duration::hours(1)),
    };
    for (new, amount) in [
        (list("Ramadan sale", PriceListKind::Sale, None), 9_000),
        (
            list(
                "Wholesale contract",
                PriceListKind::Override,
                Some(wholesale),
            ),
            7_000,
        ),
    ] {
        let id = price_lists::create_list(t.db(), &admin, new)
            .await
            .expect("list")
            .id;
        let entry = price_lists::ListEntry {
            variant_id: variant,
            prices: vec![("SAR".into(), amount)],
        };
        price_lists::set_list_prices(t.db(), &admin, id, vec![entry])
            .await
            .expect("list prices");
    }
    for new in [
        tier(product, 10, Some(49), None, Some(15.0), None),
        tier(product, 50, None, Some(6_000), None, None),
        tier(product, 5, None, Some(6_500), None, Some(wholesale)),
    ] {
        price_lists::create_tier(t.db(), &admin, new)
            .await
            .expect("tier");
    }
    Shop {
        info,
        admin,
        product,
        variant,
        wholesale,
    }
}

fn first_page<K: cityos_core::paging::CursorKey>() -> PageRequest<K> {
    PageRequest::new(Some(1), None, None, None).expect("page")
}

fn tier(
    product_id: ProductId,
    min: i32,
    max: Option<i32>,
    unit: Option<i64>,
    percent: Option<f64>,
    group: Option<CustomerGroupId>,
) -> NewTier {
    NewTier {
        product_id,
        variant_id: None,
        currency: "SAR".into(),
        customer_group_id: group,
        min_quantity: min,
        max_quantity: max,
        unit_amount: unit,
        percent_off: percent,
    }
}

const PRICES: &str = "query($q: Int!) { product(handle: \"oud\") { priceRange(currency: \"SAR\") { min { amountMinor } }
    variants { price(currency: \"SAR\", quantity: $q) { unitPrice { amountMinor } lineTotal { amountMinor }
    compareAtUnitPrice { amountMinor } rule }
    volumeTiers(currency: \"SAR\") { minQuantity maxQuantity unitPrice { amountMinor } percentOff productWide customerGroupId } } } }";

async fn price_at(t: &TestDb, ctx: &RequestContext, quantity: i32) -> Value {
    let schema = build_schema(Some(&t.platform));
    let r = t
        .graphql::<Catalog>(&schema, ctx, PRICES, json!({ "q": quantity }))
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["product"].clone()
}

fn rule(product: &Value) -> (i64, String) {
    let price = &product["variants"][0]["price"];
    (
        price["unitPrice"]["amountMinor"].as_i64().unwrap_or(-1),
        price["rule"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn precedence_through_graphql_for_guests_customers_and_members() {
    let t = test_db().await;
    let s = shop(&t, "pricing").await;
    let storefront = context(
        Some(&s.info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let member = customer(&t, &s.info, "member@shop.test").await;
    let customer = |id| user_context(Some(&s.info), id, &[Role::Customer]);
    price_lists::change_members(t.db(), &s.admin, s.wholesale, vec![member], true)
        .await
        .expect("members");

    for ctx in [&storefront, &customer(UserId::new())] {
        let one = price_at(&t, ctx, 1).await;
        assert_eq!(rule(&one), (9_000, "SALE_PRICE_LIST".into()));
        assert_eq!(
            one["variants"][0]["price"]["compareAtUnitPrice"]["amountMinor"],
            10_000
        );
        assert_eq!(one["priceRange"]["min"]["amountMinor"], 9_000);
        assert_eq!(
            rule(&price_at(&t, ctx, 10).await),
            (8_500, "VOLUME_TIER".into())
        );
        let fifty = price_at(&t, ctx, 50).await;
        assert_eq!(rule(&fifty), (6_000, "VOLUME_TIER".into()));
        assert_eq!(
            fifty["variants"][0]["price"]["lineTotal"]["amountMinor"],
            300_000
        );
        // Guests see the two public tiers, not the Wholesale one.
        assert_eq!(
            fifty["variants"][0]["volumeTiers"],
            json!([
                { "minQuantity": 10, "maxQuantity": 49, "unitPrice": { "amountMinor": 8_500 }, "percentOff": 15.0, "productWide": true, "customerGroupId": null },
                { "minQuantity": 50, "maxQuantity": null, "unitPrice": { "amountMinor": 6_000 }, "percentOff": null, "productWide": true, "customerGroupId": null },
            ])
        );
    }
    // The Wholesale member's contract price wins at every quantity, even over a cheaper tier.
    let member_ctx = customer(member);
    for q in [1, 5, 50] {
        assert_eq!(
            rule(&price_at(&t, &member_ctx, q).await),
            (7_000, "OVERRIDE_PRICE_LIST".into())
        );
    }
    let tiers = price_at(&t, &member_ctx, 1).await["variants"][0]["volumeTiers"].clone();
    assert_eq!(tiers.as_array().map(Vec::len), Some(3));
    // Staff see every tier but are not members: they pay what guests pay.
    assert_eq!(
        rule(&price_at(&t, &s.admin, 5).await),
        (9_000, "SALE_PRICE_LIST".into())
    );
    assert_eq!(
        price_at(&t, &s.admin, 1).await["variants"][0]["volumeTiers"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // Removing the member takes the contract price away at once.
    price_lists::change_members(t.db(), &s.admin, s.wholesale, vec![member], false)
        .await
        .expect("remove");
    assert_eq!(
        rule(&price_at(&t, &member_ctx, 1).await),
        (9_000, "SALE_PRICE_LIST".into())
    );
}

#[tokio::test]
async fn the_pricing_function_answers_inside_the_callers_transaction() {
    let t = test_db().await;
    let s = shop(&t, "quote").await;
    let member = customer(&t, &s.info, "member@shop.test").await;
    price_lists::change_members(t.db(), &s.admin, s.wholesale, vec![member], true)
        .await
        .expect("members");
    let sar = Currency::parse("SAR").expect("SAR");
    let ask = |quantity, at, customer| {
        let request = PriceRequest {
            variant_id: s.variant,
            currency: sar,
            quantity,
            at,
        };
        let db = t.db().clone();
        let tenant = s.info.id;
        async move {
            db.tenant_tx(tenant, async move |tx| {
                Ok::<_, ApiError>(cards::quote(tx, &request, customer).await?)
            })
            .await
            .expect("quote")
            .map(|q| (q.unit_price.amount, q.line_total.amount, q.rule))
        }
    };
    let now = Utc::now();
    assert_eq!(
        ask(2, now, None).await,
        Some((9_000, 18_000, PriceRule::SalePriceList))
    );
    assert_eq!(
        ask(2, now, Some(member)).await,
        Some((7_000, 14_000, PriceRule::OverridePriceList))
    );
    // After the lists' window: tiers and base only.
    let later = now + Duration::hours(2);
    assert_eq!(
        ask(2, later, Some(member)).await,
        Some((10_000, 20_000, PriceRule::BasePrice))
    );
    assert_eq!(
        ask(5, later, Some(member)).await,
        Some((6_500, 32_500, PriceRule::VolumeTier))
    );
    assert_eq!(
        ask(12, later, None).await,
        Some((8_500, 102_000, PriceRule::VolumeTier))
    );
    // No price in a currency, and an unknown variant, give no quote.
    let usd_less = PriceRequest {
        variant_id: VariantId::new(),
        currency: sar,
        quantity: 1,
        at: now,
    };
    let none = t
        .db()
        .tenant_tx(s.info.id, async move |tx| {
            Ok::<_, ApiError>(cards::quote(tx, &usd_less, None).await?)
        })
        .await
        .expect("quote");
    assert_eq!(none, None);
}
