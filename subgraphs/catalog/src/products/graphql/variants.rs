//! Options and variants in GraphQL: `ProductOption`, `ProductVariant` and their writes.

use crate::errors::CatalogUserError;
use crate::ids::{ProductId, VariantId};
use crate::pricing::graphql::TierView;
use crate::pricing::{PriceRequest, Quote};
use crate::products::Product;
use crate::products::variants::{self, NewVariant, PricedVariant, ProductOption};
use crate::scope::{CatalogLoader, currency};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::Utc;
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;
use std::collections::HashMap;
/// An option of a product (Size, Colour) and the values a variant may take.
#[Object]
impl ProductOption {
    /// The option's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name, unique within the product.
    async fn name(&self) -> &str {
        &self.name
    }
    /// Its place in the product's option list, from 0.
    async fn position(&self) -> i32 {
        self.position
    }
    /// The values a variant may take, in display order.
    async fn values(&self) -> &[String] {
        &self.option_values
    }
}

/// One option value of a variant.
#[derive(SimpleObject)]
pub struct SelectedOption {
    /// The option's name.
    pub name: String,
    /// The variant's value for it.
    pub value: String,
}

/// Package dimensions in millimetres.
#[derive(SimpleObject)]
pub struct Dimensions {
    /// Length in millimetres.
    pub length_mm: Option<i32>,
    /// Width in millimetres.
    pub width_mm: Option<i32>,
    /// Height in millimetres.
    pub height_mm: Option<i32>,
}

/// What is sold and stocked: one combination of a product's option values, with its own SKU.
#[Object(name = "ProductVariant")]
impl PricedVariant {
    /// The variant's id.
    async fn id(&self) -> ID {
        to_id(self.variant.id)
    }
    /// Stock-keeping unit, unique within the tenant.
    async fn sku(&self) -> &str {
        &self.variant.sku
    }
    /// Display title (its option values when none was given).
    async fn title(&self) -> &str {
        &self.variant.title
    }
    /// Barcode (EAN, UPC, ...), if any.
    async fn barcode(&self) -> Option<&str> {
        self.variant.barcode.as_deref()
    }
    /// Its value for each of the product's options.
    async fn selected_options(&self) -> Vec<SelectedOption> {
        self.variant
            .option_pairs()
            .into_iter()
            .map(|(name, value)| SelectedOption { name, value })
            .collect()
    }
    /// Shipping weight in grams.
    async fn weight_grams(&self) -> Option<i32> {
        self.variant.weight_grams
    }
    /// Package dimensions.
    async fn dimensions(&self) -> Dimensions {
        let v = &self.variant;
        Dimensions {
            length_mm: v.length_mm,
            width_mm: v.width_mm,
            height_mm: v.height_mm,
        }
    }
    /// Its place among the product's variants, from 0.
    async fn position(&self) -> i32 {
        self.variant.position
    }
    /// The product it belongs to.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(self.variant.product_id)
            .await?)
    }
    /// Its base price in each currency it is sold in.
    async fn base_prices(&self) -> Result<Vec<Money>> {
        Ok(self
            .prices
            .iter()
            .map(|p| Money::from_stored(p.amount, &p.currency))
            .collect::<Result<_, _>>()?)
    }
    /// What the caller pays for `quantity` units on one line in `currency` now, and which rule
    /// applied. An active OVERRIDE price list open to the caller (no customer group, or one of
    /// theirs) sets the price; otherwise the lowest of the base price, an active SALE list and a
    /// volume tier covering the quantity. Null when no rule gives a price in that currency (prices
    /// are never converted between currencies).
    async fn price(
        &self,
        currency: String,
        #[graphql(default = 1)] quantity: i32,
    ) -> Result<Option<Quote>> {
        let currency = self::currency(&currency)?;
        let quantity = i64::from(quantity);
        if !(1..=crate::pricing::MAX_QUANTITY).contains(&quantity) {
            return Err(ApiError::bad_input(format!(
                "quantity must be between 1 and {}",
                crate::pricing::MAX_QUANTITY
            ))
            .into());
        }
        let request = PriceRequest {
            variant_id: self.variant.id,
            currency,
            quantity,
            at: Utc::now(),
        };
        Ok(self.quote(&request))
    }
    /// The quantity breaks open to the caller in `currency`, lowest quantity first, with the unit
    /// price each gives: the table a bulk-pricing widget shows. Staff see every tier, including
    /// those of customer groups.
    async fn volume_tiers(&self, currency: String) -> Result<Vec<TierView>> {
        let currency = self::currency(&currency)?;
        let base = self.base_price(currency);
        Ok(self
            .tiers
            .iter()
            .filter(|t| t.currency == currency.code())
            .map(|t| TierView {
                tier: t.clone(),
                unit_price: t.unit_amount(base).map(|a| Money::new(a, currency)),
            })
            .collect())
    }
    /// Units that can be bought now, across all stock locations.
    async fn available_quantity(&self) -> i64 {
        self.stock.available
    }
    /// Whether at least one unit can be bought now.
    async fn in_stock(&self) -> bool {
        self.stock.available > 0
    }
    /// Its stock at each location, with reserved and available units (staff).
    async fn stock_levels(&self, ctx: &Context<'_>) -> Result<Vec<crate::inventory::LevelView>> {
        crate::inventory::graphql::levels_of(ctx, self.variant.id).await
    }
}

/// A new option of a product.
#[derive(InputObject)]
pub struct ProductOptionCreateInput {
    /// The product.
    pub product_id: ProductId,
    /// The option's name, unique within the product (`Size`).
    pub name: String,
    /// The values a variant may take, 1 to 100, distinct (`["50ml", "100ml"]`).
    pub values: Vec<String>,
}

/// One option value of a new variant.
#[derive(InputObject)]
pub struct SelectedOptionInput {
    /// The option's name.
    pub name: String,
    /// One of its values.
    pub value: String,
}

/// A price in one currency.
#[derive(InputObject)]
pub struct PriceInput {
    /// ISO 4217 currency code.
    pub currency: String,
    /// Amount in minor units (halalas, cents), not negative.
    pub amount_minor: i64,
}

/// A new variant of a product.
#[derive(InputObject)]
pub struct ProductVariantCreateInput {
    /// The product.
    pub product_id: ProductId,
    /// Stock-keeping unit, unique within the tenant.
    pub sku: String,
    /// Display title; defaults to its option values.
    pub title: Option<String>,
    /// Barcode.
    pub barcode: Option<String>,
    /// A value for each of the product's options.
    pub options: Option<Vec<SelectedOptionInput>>,
    /// Shipping weight in grams.
    pub weight_grams: Option<i32>,
    /// Package length in millimetres.
    pub length_mm: Option<i32>,
    /// Package width in millimetres.
    pub width_mm: Option<i32>,
    /// Package height in millimetres.
    pub height_mm: Option<i32>,
    /// Base prices, one per currency.
    pub prices: Option<Vec<PriceInput>>,
}

/// Base prices to set on a variant; currencies not named keep their price.
#[derive(InputObject)]
pub struct ProductVariantPricesSetInput {
    /// The variant.
    pub variant_id: VariantId,
    /// One price per currency.
    pub prices: Vec<PriceInput>,
}

pub(crate) fn prices(input: Option<Vec<PriceInput>>) -> Vec<(String, i64)> {
    input
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.currency, p.amount_minor))
        .collect()
}

impl Loader<VariantId> for CatalogLoader {
    type Value = PricedVariant;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[VariantId],
    ) -> Result<HashMap<VariantId, PricedVariant>, ApiError> {
        let c = self.caller;
        let rows = variants::by_ids(&self.db, c.tenant, keys.to_vec(), c.customer, c.staff).await?;
        Ok(rows.into_iter().map(|v| (v.variant.id, v)).collect())
    }
}

cityos_core::payload! {
    /// The result of `productOptionCreate`.
    ProductOptionPayload<CatalogUserError> {
        /// The new option; null when refused.
        option: ProductOption,
    }
}

cityos_core::payload! {
    /// The result of `productVariantCreate` and `productVariantPricesSet`.
    ProductVariantPayload<CatalogUserError> {
        /// The variant as saved; null when refused.
        variant: PricedVariant,
    }
}

/// The mutations of options and variants.
#[derive(Default)]
pub struct VariantMutation;

#[Object]
impl VariantMutation {
    /// Adds an option to a product that has no variants yet (staff, or the team of the vendor selling the product, acting for it).
    async fn product_option_create(
        &self,
        ctx: &Context<'_>,
        input: ProductOptionCreateInput,
    ) -> Result<ProductOptionPayload> {
        let product = input.product_id;
        let outcome =
            variants::create_option(ctx.db(), ctx.request()?, product, &input.name, input.values)
                .await;
        Ok(ProductOptionPayload::of(outcome)?)
    }

    /// Creates a variant of a product with its base prices (staff, or the team of the vendor selling the product, acting for it).
    async fn product_variant_create(
        &self,
        ctx: &Context<'_>,
        input: ProductVariantCreateInput,
    ) -> Result<ProductVariantPayload> {
        let new = NewVariant {
            product_id: input.product_id,
            sku: input.sku,
            title: input.title,
            barcode: input.barcode,
            options: input
                .options
                .unwrap_or_default()
                .into_iter()
                .map(|o| (o.name, o.value))
                .collect(),
            weight_grams: input.weight_grams,
            length_mm: input.length_mm,
            width_mm: input.width_mm,
            height_mm: input.height_mm,
            prices: prices(input.prices),
        };
        Ok(ProductVariantPayload::of(
            variants::create_variant(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Sets base prices of a variant (staff, or the team of the vendor selling the product, acting for it).
    async fn product_variant_prices_set(
        &self,
        ctx: &Context<'_>,
        input: ProductVariantPricesSetInput,
    ) -> Result<ProductVariantPayload> {
        let id = input.variant_id;
        let outcome =
            variants::set_prices(ctx.db(), ctx.request()?, id, prices(Some(input.prices))).await;
        Ok(ProductVariantPayload::of(outcome)?)
    }
}
