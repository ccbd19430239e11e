//! Options, variants and their base prices.
//!
//! A product has options (Size: 50ml, 100ml) and variants, each one combination of option values
//! with its own SKU (unique per tenant), physical attributes and a base price per currency.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CustomerGroupId, OptionId, ProductId, TenantId, UserId, VariantId};
use crate::pricing::{
    ListPrice, PriceRequest, PricingFacts, Quote, VariantPrice, VolumeTier, resolve,
};
use crate::products::{Product, cards};
use crate::schema::{product_options, product_variants, products, variant_prices};
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use cityos_core::outcome::is_unique_violation;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The most variants one product may have.
pub const MAX_VARIANTS: i64 = 100;

/// A product option and its allowed values.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone)]
#[diesel(table_name = product_options, check_for_backend(diesel::pg::Pg))]
pub struct ProductOption {
    pub tenant_id: TenantId,
    pub id: OptionId,
    pub product_id: ProductId,
    pub name: String,
    pub position: i32,
    pub option_values: Vec<String>,
}

/// A variant as stored.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone)]
#[diesel(table_name = product_variants, check_for_backend(diesel::pg::Pg))]
pub struct Variant {
    pub tenant_id: TenantId,
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub title: String,
    pub barcode: Option<String>,
    pub option_values: serde_json::Value,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Variant {
    /// The option values as (name, value) pairs, in name order.
    pub fn option_pairs(&self) -> Vec<(String, String)> {
        self.option_values
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A variant to create.
#[derive(Debug, Clone)]
pub struct NewVariant {
    pub product_id: ProductId,
    pub sku: String,
    pub title: Option<String>,
    pub barcode: Option<String>,
    pub options: Vec<(String, String)>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub prices: Vec<(String, i64)>,
}

impl NewVariant {
    /// A variant of `product_id` with only its SKU: no title, options, measures or prices.
    pub fn new(product_id: ProductId, sku: impl Into<String>) -> Self {
        Self {
            product_id,
            sku: sku.into(),
            title: None,
            barcode: None,
            options: Vec::new(),
            weight_grams: None,
            length_mm: None,
            width_mm: None,
            height_mm: None,
            prices: Vec::new(),
        }
    }
}

fn check_sku(sku: &str) -> Result<String, UserError> {
    let sku = sku.trim();
    let ok = (1..=64).contains(&sku.len())
        && sku.starts_with(|c: char| c.is_ascii_alphanumeric())
        && sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(UserError::new(
            "sku",
            Code::InvalidSku,
            "SKU must be 1-64 letters, digits, dots, dashes or underscores",
        ));
    }
    Ok(sku.to_owned())
}

/// Checks prices: known currencies, each once, no negative amounts.
pub fn check_prices(
    prices: &[(String, i64)],
    field: &str,
) -> Result<Vec<(Currency, i64)>, UserError> {
    let mut seen = HashSet::new();
    prices
        .iter()
        .map(|(code, amount)| {
            let currency = Currency::parse(code)
                .map_err(|e| UserError::new(field, Code::UnknownCurrency, e.to_string()))?;
            if !seen.insert(currency) {
                return Err(UserError::new(
                    field,
                    Code::DuplicateCurrency,
                    format!("{currency} is given twice"),
                ));
            }
            if *amount < 0 {
                return Err(UserError::new(
                    field,
                    Code::NegativePrice,
                    format!("the {currency} price is negative"),
                ));
            }
            Ok((currency, *amount))
        })
        .collect()
}

fn check_attributes(v: &NewVariant) -> Result<(), UserError> {
    for (name, value) in [
        ("weightGrams", v.weight_grams),
        ("lengthMm", v.length_mm),
        ("widthMm", v.width_mm),
        ("heightMm", v.height_mm),
    ] {
        if value.is_some_and(|n| n < 0) {
            return Err(UserError::new(
                name,
                Code::InvalidAttribute,
                format!("{name} cannot be negative"),
            ));
        }
    }
    if let Some(barcode) = &v.barcode
        && !((1..=64).contains(&barcode.len())
            && barcode
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(UserError::new(
            "barcode",
            Code::InvalidAttribute,
            "barcode must be 1-64 letters, digits or dashes",
        ));
    }
    Ok(())
}

/// Matches a variant's option values against the product's options: each option exactly once,
/// with one of its allowed values.
fn match_options(
    options: &[ProductOption],
    given: &[(String, String)],
) -> Result<serde_json::Value, UserError> {
    let bad = |message: String| UserError::new("options", Code::InvalidOptionValues, message);
    let mut chosen = BTreeMap::new();
    for (name, value) in given {
        let option = options
            .iter()
            .find(|o| &o.name == name)
            .ok_or_else(|| bad(format!("the product has no option `{name}`")))?;
        if !option.option_values.contains(value) {
            return Err(bad(format!("`{value}` is not a value of `{name}`")));
        }
        if chosen
            .insert(name.clone(), serde_json::Value::String(value.clone()))
            .is_some()
        {
            return Err(bad(format!("`{name}` is given twice")));
        }
    }
    if let Some(missing) = options.iter().find(|o| !chosen.contains_key(&o.name)) {
        return Err(bad(format!("a value for `{}` is missing", missing.name)));
    }
    Ok(serde_json::Value::Object(chosen.into_iter().collect()))
}

async fn product_exists(tx: &mut TenantTx<'_>, product_id: ProductId) -> Outcome<Product> {
    products::table
        .filter(products::id.eq(product_id))
        .select(Product::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| UserError::new("productId", Code::NotFound, "no such product").into())
}

/// Adds an option with its allowed values to a product (staff).
pub async fn create_option(
    db: &Database,
    ctx: &RequestContext,
    product_id: ProductId,
    name: &str,
    values: Vec<String>,
) -> Outcome<ProductOption> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.option.create", async move |tx| {
        writer.product(tx, product_id, "productId").await?;
        let tenant = tx.tenant();
        let name = name.trim().to_owned();
        let values: Vec<String> = values.iter().map(|v| v.trim().to_owned()).collect();
        let distinct: HashSet<&String> = values.iter().collect();
        if name.is_empty()
            || name.chars().count() > 100
            || values.is_empty()
            || values.len() > 100
            || distinct.len() != values.len()
            || values
                .iter()
                .any(|v| v.is_empty() || v.chars().count() > 100)
        {
            return Err(UserError::new(
                "",
                Code::InvalidOption,
                "an option needs a name and 1-100 distinct, non-empty values",
            )
            .into());
        }
        product_exists(tx, product_id).await?;
        let has_variants: i64 = product_variants::table
            .filter(product_variants::product_id.eq(product_id))
            .count()
            .get_result(tx.conn())
            .await?;
        if has_variants > 0 {
            // New options would leave existing variants without a value for them.
            return Err(UserError::new(
                "productId",
                Code::InvalidOption,
                "options cannot be added once the product has variants",
            )
            .into());
        }
        let position: i64 = product_options::table
            .filter(product_options::product_id.eq(product_id))
            .count()
            .get_result(tx.conn())
            .await?;
        let option: ProductOption = diesel::insert_into(product_options::table)
            .values((
                product_options::tenant_id.eq(tenant),
                product_options::id.eq(OptionId::new()),
                product_options::product_id.eq(product_id),
                product_options::name.eq(&name),
                product_options::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                product_options::option_values.eq(&values),
            ))
            .returning(ProductOption::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("product_options_name_key", e, || {
                    UserError::new(
                        "name",
                        Code::OptionTaken,
                        format!("the product already has an option `{name}`"),
                    )
                })
            })?;
        let details = serde_json::json!({ "product": product_id, "name": option.name });
        let audit = Audit::of(option.id, details);
        Ok((option, audit))
    })
    .await
}

/// Writes base prices of one variant in one statement (one card rebuild).
async fn upsert_prices(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    prices: &[(Currency, i64)],
) -> QueryResult<()> {
    let tenant = tx.tenant();
    if prices.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = prices
        .iter()
        .map(|(currency, amount)| {
            (
                variant_prices::tenant_id.eq(tenant),
                variant_prices::variant_id.eq(variant),
                variant_prices::currency.eq(currency.code()),
                variant_prices::amount.eq(*amount),
            )
        })
        .collect();
    diesel::insert_into(variant_prices::table)
        .values(rows)
        .on_conflict((
            variant_prices::tenant_id,
            variant_prices::variant_id,
            variant_prices::currency,
        ))
        .do_update()
        .set((
            variant_prices::amount.eq(excluded(variant_prices::amount)),
            variant_prices::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Creates a variant of a product with its base prices (staff).
pub async fn create_variant(
    db: &Database,
    ctx: &RequestContext,
    input: NewVariant,
) -> Outcome<PricedVariant> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.variant.create", async move |tx| {
        writer.product(tx, input.product_id, "productId").await?;
        let tenant = tx.tenant();
        let sku = check_sku(&input.sku)?;
        check_attributes(&input)?;
        let prices = check_prices(&input.prices, "prices")?;
        let product = product_exists(tx, input.product_id).await?;
        let options: Vec<ProductOption> = product_options::table
            .filter(product_options::product_id.eq(product.id))
            .order(product_options::position)
            .select(ProductOption::as_select())
            .load(tx.conn())
            .await?;
        let option_values = match_options(&options, &input.options)?;
        let count: i64 = product_variants::table
            .filter(product_variants::product_id.eq(product.id))
            .count()
            .get_result(tx.conn())
            .await?;
        if count >= MAX_VARIANTS {
            return Err(UserError::new(
                "productId",
                Code::TooManyVariants,
                "a product has at most 100 variants",
            )
            .into());
        }
        let title = input
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map_or_else(
                || {
                    let values: Vec<&str> = input.options.iter().map(|(_, v)| v.as_str()).collect();
                    if values.is_empty() {
                        product.title.clone()
                    } else {
                        values.join(" / ")
                    }
                },
                str::to_owned,
            );
        let variant: Variant = diesel::insert_into(product_variants::table)
            .values((
                product_variants::tenant_id.eq(tenant),
                product_variants::id.eq(VariantId::new()),
                product_variants::product_id.eq(product.id),
                product_variants::sku.eq(&sku),
                product_variants::title.eq(title.chars().take(255).collect::<String>()),
                product_variants::barcode.eq(&input.barcode),
                product_variants::option_values.eq(&option_values),
                product_variants::weight_grams.eq(input.weight_grams),
                product_variants::length_mm.eq(input.length_mm),
                product_variants::width_mm.eq(input.width_mm),
                product_variants::height_mm.eq(input.height_mm),
                product_variants::position.eq(i32::try_from(count).unwrap_or(i32::MAX)),
            ))
            .returning(Variant::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e, "product_variants_options_key") {
                    UserError::new(
                        "options",
                        Code::VariantExists,
                        "another variant of this product has the same option values",
                    )
                    .into()
                } else {
                    Failure::on_unique("product_variants_sku_key", e, || {
                        UserError::new(
                            "sku",
                            Code::SkuTaken,
                            format!("another variant already has the SKU `{sku}`"),
                        )
                    })
                }
            })?;
        upsert_prices(tx, variant.id, &prices).await?;
        let details = serde_json::json!({ "product": product.id, "sku": variant.sku });
        let audit = Audit::of(variant.id, details);
        Ok((staff_view(tx, variant.id).await?, audit))
    })
    .await
}

/// Sets base prices of a variant, currency by currency (staff). Currencies not given are kept.
pub async fn set_prices(
    db: &Database,
    ctx: &RequestContext,
    variant_id: VariantId,
    prices: Vec<(String, i64)>,
) -> Outcome<PricedVariant> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.variant.prices.set", async move |tx| {
        writer.variant(tx, variant_id, "variantId").await?;
        let prices = check_prices(&prices, "prices")?;
        let found: Option<Variant> = product_variants::table
            .filter(product_variants::id.eq(variant_id))
            .select(Variant::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?;
        if found.is_none() {
            return Err(UserError::new("variantId", Code::NotFound, "no such variant").into());
        }
        upsert_prices(tx, variant_id, &prices).await?;
        let details = serde_json::json!({ "prices": prices.iter().map(|(c, a)| (c.code(), a)).collect::<BTreeMap<_, _>>() });
        let audit = Audit::of(variant_id, details);
        Ok((staff_view(tx, variant_id).await?, audit))
    })
    .await
}

/// Units of a variant across all locations.
#[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockSummary {
    /// Units physically held.
    pub on_hand: i64,
    /// Units not held by an active reservation (never below zero per location).
    pub available: i64,
}

/// A variant with everything the storefront shows and the pricing rule reads, for one caller.
#[derive(Deserialize, Debug, Clone)]
pub struct PricedVariant {
    pub variant: Variant,
    /// Base prices, by currency.
    pub prices: Vec<VariantPrice>,
    /// Its entries on price lists the caller may get (all of them for staff).
    pub list_prices: Vec<ListPrice>,
    /// Volume tiers of it or its product that the caller may get (all of them for staff).
    pub tiers: Vec<VolumeTier>,
    /// Stock across locations.
    pub stock: StockSummary,
    /// The caller's customer groups (filled after loading).
    #[serde(skip)]
    pub groups: Vec<CustomerGroupId>,
}

impl PricedVariant {
    /// The base price in `currency`, if the variant has one.
    pub fn base_price(&self, currency: Currency) -> Option<i64> {
        self.prices
            .iter()
            .find(|p| p.currency == currency.code())
            .map(|p| p.amount)
    }
}

/// What a product page shows besides the product itself. Variants are shared, so the several
/// fields of a page that read them (variants, price range) do not copy them.
#[derive(Debug, Clone, Default)]
pub struct ProductDetails {
    pub options: Vec<ProductOption>,
    pub variants: Vec<Arc<PricedVariant>>,
    /// Images and videos, in display order.
    pub media: Vec<crate::products::media::Media>,
}

/// A variant as staff see it, after a change in the same transaction.
async fn staff_view(tx: &mut TenantTx<'_>, id: VariantId) -> Outcome<PricedVariant> {
    cards::facts_of(tx, &[id], None, true)
        .await?
        .variants
        .pop()
        .ok_or_else(|| ApiError::internal("a variant vanished inside its own transaction").into())
}

/// Loads the details of products in one transaction (see [`cards::details_of`]).
pub async fn details_by_products(
    db: &Database,
    tenant: TenantId,
    products: Vec<ProductId>,
    customer: Option<UserId>,
    staff: bool,
) -> Result<HashMap<ProductId, ProductDetails>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        Ok(cards::details_of(tx, &products, customer, staff).await?)
    })
    .await
}

/// Variants by id in one transaction (see [`cards::facts_of`]).
pub async fn by_ids(
    db: &Database,
    tenant: TenantId,
    ids: Vec<VariantId>,
    customer: Option<UserId>,
    staff: bool,
) -> Result<Vec<PricedVariant>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        Ok(cards::facts_of(tx, &ids, customer, staff).await?.variants)
    })
    .await
}

impl PricedVariant {
    /// Prices `request` from this variant's facts, for the caller they were loaded for.
    pub fn quote(&self, request: &PriceRequest) -> Option<Quote> {
        resolve(
            request,
            PricingFacts {
                base: &self.prices,
                lists: &self.list_prices,
                tiers: &self.tiers,
                groups: &self.groups,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(name: &str, values: &[&str]) -> ProductOption {
        ProductOption {
            tenant_id: TenantId::from_uuid(uuid::Uuid::nil()),
            id: OptionId::from_uuid(uuid::Uuid::nil()),
            product_id: ProductId::from_uuid(uuid::Uuid::nil()),
            name: name.into(),
            position: 0,
            option_values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    fn pair(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn option_values_must_cover_each_option_once() {
        let options = [
            option("Size", &["50ml", "100ml"]),
            option("Colour", &["Gold"]),
        ];
        let ok = match_options(&options, &[pair("Colour", "Gold"), pair("Size", "50ml")]).unwrap();
        assert_eq!(ok, serde_json::json!({ "Colour": "Gold", "Size": "50ml" }));
        for bad in [
            vec![pair("Size", "50ml")],
            vec![pair("Size", "75ml"), pair("Colour", "Gold")],
            vec![
                pair("Size", "50ml"),
                pair("Size", "100ml"),
                pair("Colour", "Gold"),
            ],
            vec![
                pair("Weight", "1kg"),
                pair("Size", "50ml"),
                pair("Colour", "Gold"),
            ],
        ] {
            assert_eq!(
                match_options(&options, &bad).unwrap_err().code,
                Code::InvalidOptionValues,
                "{bad:?}"
            );
        }
        assert_eq!(match_options(&[], &[]).unwrap(), serde_json::json!({}));
    }

    #[test]
    fn prices_and_skus_are_checked() {
        let ok = check_prices(&[("sar".into(), 1250), ("USD".into(), 0)], "prices").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            check_prices(&[("SAR".into(), -1)], "prices")
                .unwrap_err()
                .code,
            Code::NegativePrice
        );
        assert_eq!(
            check_prices(&[("XXX".into(), 1)], "prices")
                .unwrap_err()
                .code,
            Code::UnknownCurrency
        );
        assert_eq!(
            check_prices(&[("SAR".into(), 1), ("sar".into(), 2)], "prices")
                .unwrap_err()
                .code,
            Code::DuplicateCurrency
        );
        assert!(check_sku("OUD-50.ML_1").is_ok());
        for bad in ["", "-OUD", "OUD 50", "عود", &"A".repeat(65)] {
            assert_eq!(check_sku(bad).unwrap_err().code, Code::InvalidSku, "{bad}");
        }
    }
}
