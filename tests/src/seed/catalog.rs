//! The catalog's demo data: stock locations, the Wholesale group and its contract prices, a running
//! sale, the category tree and a gift collection, the verticals' products (an option, a variant per
//! value priced in SAR and USD, media, stock, volume tiers on bulk goods), and reviews.
//!
//! The data file says what exists; the few rules here say how it varies: stock is uneven and
//! deterministic (some variants sold out in one or both places), every `everyNthProduct`-th
//! product's first variant is on sale, bulk verticals get the tiers and the contract price, the
//! first product of each gift vertical goes into the collection, and USD prices are the SAR price
//! at 3.75 ending in .99.

use super::{Result, Tenant, identity, run};
use cityos_client::Client;
use cityos_client::operations::catalog;
use serde::Deserialize;
use serde_json::{Value, json};

/// `subgraphs/catalog/seed.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Data {
    locations: Vec<String>,
    customer_group: Group,
    sale: Sale,
    contract: Contract,
    bulk_tiers: Vec<Tier>,
    departments: Vec<Department>,
    gift_collection: Value,
    reviews: Reviews,
    verticals: Vec<Vertical>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Group {
    name: String,
    description: String,
    with_demo_customer: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Sale {
    name: String,
    starts_days_ago: u64,
    ends_in_days: u64,
    every_nth_product: usize,
    percent_of_base: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Contract {
    name: String,
    starts_days_ago: u64,
    percent_of_base: i64,
}

#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Tier {
    min_quantity: i32,
    max_quantity: Option<i32>,
    percent_off: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Department {
    name: String,
    verticals: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Reviews {
    reviewers: Vec<String>,
    per_reviewer: usize,
    templates: Vec<Template>,
    answer_at_or_below: i32,
    answer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    rating: i32,
    title: String,
    body: String,
}

/// One vertical: the product type of its products (and their first tag), the option they vary by
/// (each value priced as a percentage of the product's base price), and whether they are bulk
/// goods (volume tiers and the contract price) or gifts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vertical {
    kind: String,
    option: Choice,
    bulk: bool,
    products: Vec<Product>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Choice {
    name: String,
    values: Vec<ChoiceValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChoiceValue {
    value: String,
    percent_of_base: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Product {
    title: String,
    handle: String,
    description: String,
    base_minor: i64,
}

/// The USD price shown for a SAR price: converted at 3.75 and ending in .99.
fn usd(sar_minor: i64) -> i64 {
    (sar_minor * 4 / 15) / 100 * 100 + 99
}

/// `Food & Drink` -> `food-drink`.
fn handle_of(name: &str) -> String {
    name.to_lowercase().replace(" & ", "-").replace(' ', "-")
}

pub(super) async fn load(router: &Client, tenant: &Tenant, data: &Data) -> Result<()> {
    let staff = &tenant.staff;
    let mut locations = Vec::new();
    for name in &data.locations {
        let created = run(
            staff,
            catalog::STOCK_LOCATION_CREATE,
            json!({ "input": { "name": name } }),
        )
        .await?;
        locations.push(created["stockLocation"]["id"].clone());
    }
    let group = run(
        staff,
        catalog::CUSTOMER_GROUP_CREATE,
        json!({ "input": { "name": data.customer_group.name, "description": data.customer_group.description } }),
    )
    .await?["customerGroup"]["id"]
        .clone();
    if data.customer_group.with_demo_customer {
        run(
            staff,
            catalog::CUSTOMER_GROUP_MEMBERS_ADD,
            json!({ "input": { "groupId": group, "customerIds": [tenant.customer] } }),
        )
        .await?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let day = 86_400;
    let list =
        async |name: &str, kind: &str, group: Option<&Value>, starts: u64, ends: Option<u64>| {
            run(
                staff,
                catalog::PRICE_LIST_CREATE,
                json!({ "input": { "name": name, "kind": kind, "customerGroupId": group,
                "startsAt": rfc3339(starts), "endsAt": ends.map(rfc3339) } }),
            )
            .await
            .map(|d| d["priceList"]["id"].clone())
        };
    let sale = list(
        &data.sale.name,
        "SALE",
        None,
        now - data.sale.starts_days_ago * day,
        Some(now + data.sale.ends_in_days * day),
    )
    .await?;
    let contract = list(
        &data.contract.name,
        "OVERRIDE",
        Some(&group),
        now - data.contract.starts_days_ago * day,
        None,
    )
    .await?;

    // Departments, a category per vertical under its department, and the gift collection.
    let mut categories: Vec<(&str, Value)> = Vec::new();
    for department in &data.departments {
        let parent = run(
            staff,
            catalog::CATEGORY_CREATE,
            json!({ "input": { "name": department.name, "handle": handle_of(&department.name) } }),
        )
        .await?["category"]["id"]
            .clone();
        for kind in &department.verticals {
            let id = run(
                staff,
                catalog::CATEGORY_CREATE,
                json!({ "input": { "name": kind, "handle": handle_of(kind), "parentId": parent } }),
            )
            .await?["category"]["id"]
                .clone();
            categories.push((kind, id));
        }
    }
    let gifts = run(
        staff,
        catalog::COLLECTION_CREATE,
        json!({ "input": data.gift_collection }),
    )
    .await?["collection"]["id"]
        .clone();

    let mut n: i64 = 0;
    for vertical in &data.verticals {
        let category = categories
            .iter()
            .find(|(kind, _)| *kind == vertical.kind)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| format!("vertical {} has no department", vertical.kind))?;
        for (index, p) in vertical.products.iter().enumerate() {
            n += 1;
            let product = run(
                staff,
                catalog::PRODUCT_CREATE,
                json!({ "input": { "title": p.title, "handle": p.handle, "description": p.description,
                    "status": "PUBLISHED", "productType": vertical.kind,
                    "tags": [vertical.kind, if vertical.bulk { "bulk" } else { "gift" }],
                    "metadata": { "demo": true } } }),
            )
            .await?["product"]["id"]
                .clone();
            run(
                staff,
                catalog::PRODUCT_MEDIA_ADD,
                json!({ "input": { "productId": product,
                    "url": format!("https://cdn.cityos.example/demo/{}.jpg", p.handle), "altText": p.title } }),
            )
            .await?;
            run(
                staff,
                catalog::PRODUCT_CATEGORIES_SET,
                json!({ "input": { "productId": product, "categoryIds": [category] } }),
            )
            .await?;
            if !vertical.bulk && index == 0 {
                run(
                    staff,
                    catalog::COLLECTION_PRODUCTS_ADD,
                    json!({ "input": { "collectionId": gifts, "productIds": [product] } }),
                )
                .await?;
            }
            let option = &vertical.option;
            run(
                staff,
                catalog::PRODUCT_OPTION_CREATE,
                json!({ "input": { "productId": product, "name": option.name,
                    "values": option.values.iter().map(|v| v.value.as_str()).collect::<Vec<_>>() } }),
            )
            .await?;
            for (position, choice) in option.values.iter().enumerate() {
                let sar = p.base_minor * choice.percent_of_base / 100;
                let sku = format!("{}-{}", p.handle, choice.value.replace(' ', "")).to_uppercase();
                let variant = run(
                    staff,
                    catalog::PRODUCT_VARIANT_CREATE,
                    json!({ "input": { "productId": product, "sku": sku,
                        "options": [{ "name": option.name, "value": choice.value }],
                        "weightGrams": 250 * (position + 1),
                        "prices": [{ "currency": "SAR", "amountMinor": sar },
                                   { "currency": "USD", "amountMinor": usd(sar) }] } }),
                )
                .await?["variant"]["id"]
                    .clone();
                // Deterministic, uneven stock; a few variants sold out in one or both places.
                let at = i64::try_from(position).unwrap_or(0);
                for (location, units) in locations
                    .iter()
                    .zip([(n * 7 + at * 3) % 25, (n * 5 + at) % 12])
                {
                    if units > 0 {
                        run(
                            staff,
                            catalog::STOCK_ADJUST,
                            json!({ "input": { "variantId": variant, "locationId": location, "delta": units,
                                "reason": "RECEIVED", "note": "opening stock" } }),
                        )
                        .await?;
                    }
                }
                let every = i64::try_from(data.sale.every_nth_product).unwrap_or(i64::MAX);
                if n % every == 0 && position == 0 {
                    list_price(
                        staff,
                        &sale,
                        &variant,
                        sar * data.sale.percent_of_base / 100,
                    )
                    .await?;
                }
                if vertical.bulk {
                    list_price(
                        staff,
                        &contract,
                        &variant,
                        sar * data.contract.percent_of_base / 100,
                    )
                    .await?;
                }
            }
            if vertical.bulk {
                for tier in &data.bulk_tiers {
                    let mut input = serde_json::to_value(tier)?;
                    input["productId"] = product.clone();
                    input["currency"] = json!("SAR");
                    run(
                        staff,
                        catalog::VOLUME_TIER_CREATE,
                        json!({ "input": input }),
                    )
                    .await?;
                }
            }
        }
    }
    reviews(router, tenant, &data.reviews).await
}

async fn list_price(staff: &Client, list: &Value, variant: &Value, amount: i64) -> Result<()> {
    run(
        staff,
        catalog::PRICE_LIST_PRICES_SET,
        json!({ "input": { "priceListId": list, "entries": [{ "variantId": variant,
            "prices": [{ "currency": "SAR", "amountMinor": amount }] }] } }),
    )
    .await?;
    Ok(())
}

/// Reviewers (random passwords, not kept) each review `perReviewer` products; staff approve them
/// all and answer those at or below `answerAtOrBelow` stars.
async fn reviews(router: &Client, tenant: &Tenant, data: &Reviews) -> Result<()> {
    let listed = tenant
        .storefront
        .run(catalog::PRODUCT_IDS, json!({ "first": 100 }))
        .await?
        .ok()?;
    let products: Vec<Value> = listed["edges"]
        .as_array()
        .ok_or("no products")?
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    let domain = format!("reviewers.{}.sa", tenant.slug);
    for (r, name) in data.reviewers.iter().enumerate() {
        let email = format!("{}@{domain}", name.to_lowercase());
        let password = uuid::Uuid::new_v4().simple().to_string();
        let reviewer = identity::customer(router, tenant, &email, &password, name).await?;
        let chosen = products
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + r) % 5 != 0)
            .take(data.per_reviewer);
        for (i, product) in chosen {
            let template = &data.templates[(i + r) % data.templates.len()];
            let review = run(
                &reviewer,
                catalog::REVIEW_CREATE,
                json!({ "input": { "productId": product, "rating": template.rating,
                    "title": template.title, "body": template.body } }),
            )
            .await?["review"]["id"]
                .clone();
            run(
                &tenant.staff,
                catalog::REVIEW_MODERATE,
                json!({ "input": { "id": review, "status": "APPROVED" } }),
            )
            .await?;
            if template.rating <= data.answer_at_or_below {
                run(
                    &tenant.staff,
                    catalog::REVIEW_RESPOND,
                    json!({ "input": { "id": review, "body": data.answer } }),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp.
fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Data {
        super::super::data("catalog").expect("catalog seed data")
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_219_200), "2026-11-21T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn the_catalog_has_sixty_products_with_unique_handles() {
        let data = data();
        let handles: std::collections::HashSet<&str> = data
            .verticals
            .iter()
            .flat_map(|v| v.products.iter().map(|p| p.handle.as_str()))
            .collect();
        assert_eq!(handles.len(), 60);
        assert_eq!(usd(9_900), 2_699);
    }

    #[test]
    fn every_vertical_has_one_department() {
        let data = data();
        for vertical in &data.verticals {
            let homes = data
                .departments
                .iter()
                .filter(|d| d.verticals.contains(&vertical.kind))
                .count();
            assert_eq!(homes, 1, "{}", vertical.kind);
        }
    }
}
