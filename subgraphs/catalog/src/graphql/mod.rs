//! The catalog's GraphQL API: products, the `Tenant.products` extension, loaders.

/// Runs one read on the request's tenant-scoped connection: `in_tenant!(ctx, |tx| f(tx, ..))`.
/// (A macro: a generic async function over a borrowed connection loses `Send`.)
macro_rules! in_tenant {
    ($ctx:expr, |$tx:ident| $read:expr) => {{
        let tenant = $ctx.request()?.tenant()?.id;
        let found: Result<_> = Ok($ctx
            .db()
            .tenant_tx(tenant, async move |$tx| Ok::<_, ApiError>($read.await?))
            .await?);
        found
    }};
}

mod compare;
mod inventory;
mod loader;

mod media;
mod price_lists;
mod reviews;
mod search;
mod taxonomy;
mod translations;
mod wishlists;

pub use loader::{
    CatalogLoader, ChildrenOf, DetailsOf, ItemsOf, LevelsOf, ResponseTo, TaxonomyOf, TranslationsOf,
};

pub use media::Vendor;

use crate::cards;
use crate::errors::CatalogUserError;
use crate::ids::{CategoryId, CollectionId, ProductId, TenantId, UserId, VariantId, VendorId};
use crate::media::Media;
use crate::pricing::{self, PriceRequest, PriceRule, Quote, VolumeTier};
use crate::products::{self, NewProduct, Product, ProductChanges, ProductStatus, Visibility};
use crate::translations::Wanted;
use crate::variants::{self, NewVariant, PricedVariant, ProductDetails, ProductOption};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, Json, MaybeUndefined, MergedObject, Object, Result,
    SimpleObject,
};
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{Page, PageInfo, PageRequest, page_cost};
use cityos_core::{ApiError, RequestContext};
use cityos_server::CtxExt as _;
use std::collections::HashMap;
use std::sync::Arc;

/// One product in a list, with its cursor.
#[derive(SimpleObject)]
pub struct ProductEdge {
    /// Opaque cursor: pass it as `after` or `before` to page from here.
    pub cursor: String,
    /// The product.
    pub node: Product,
}

/// A page of products (Relay connection), with facet counts on request.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProductConnection {
    /// The products on this page, in order.
    pub edges: Vec<ProductEdge>,
    /// Where this page sits in the whole list.
    pub page_info: PageInfo,
    /// How many products the whole list has, over all pages.
    pub total_count: i64,
    #[graphql(skip)]
    facets: Option<search::ProductFacets>,
}

impl From<Page<Product>> for ProductConnection {
    fn from(page: Page<Product>) -> Self {
        Self {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| ProductEdge { cursor, node })
                .collect(),
            page_info: page.page_info,
            total_count: page.total_count,
            facets: None,
        }
    }
}

#[ComplexObject]
impl ProductConnection {
    /// How many of the listed products fall under each filter value (categories, collections,
    /// vendors, tags, in stock, price ranges), over all pages.
    async fn facets(&self) -> Result<&search::ProductFacets> {
        self.facets
            .as_ref()
            .ok_or_else(|| ApiError::internal("facets were not read with the page").into())
    }
}

/// Who is asking, as far as prices go: the signed-in user (for customer groups) and whether they
/// are staff (who see every price list and tier, and every product).
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub tenant: TenantId,
    pub customer: Option<UserId>,
    pub staff: bool,
}

impl Caller {
    /// The caller of a request with a selected tenant.
    pub fn of(ctx: &RequestContext, tenant: TenantId) -> Self {
        Self {
            tenant,
            customer: ctx.user_id().ok(),
            staff: ctx.is_staff(),
        }
    }
}

fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|e| ApiError::bad_input(e.to_string()).into())
}

/// Narrows a product list to one vendor's, collection's or category's (with its descendants).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Within {
    pub vendor: Option<VendorId>,
    pub collection: Option<CollectionId>,
    pub category: Option<CategoryId>,
}

async fn page_of_products(
    ctx: &Context<'_>,
    asked: search::Asked,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ProductConnection> {
    let rc = ctx.request()?;
    let caller = Caller::of(rc, rc.tenant()?.id);
    let (within, search) = (asked.within, asked.search);
    let look = ctx.look_ahead();
    // When the query asks for details, read them with the page in one statement (BEGIN, the
    // listing, COMMIT whatever the page size), and hand them to the request's loader.
    let node = look.field("edges").field("node");
    let with_details = ["options", "variants", "priceRange", "media"]
        .iter()
        .any(|f| node.field(f).exists());
    let with_facets = look.field("facets").exists();
    let visibility = Visibility::of(rc);
    let scope = products::Scope {
        visibility,
        vendor: within.vendor,
        collection: within.collection,
        category: within.category,
    };
    let wanted = Wanted::of(rc);
    let (customer, staff) = (caller.customer, caller.staff);
    let currency = search.currency;
    let (page, details, facets) = if search.is_plain() {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        ctx.db()
            .tenant_tx(caller.tenant, async move |tx| {
                let (page, details) = if with_details || within != Within::default() {
                    cards::page_in(tx, scope, &page, customer, staff, &wanted).await?
                } else {
                    (
                        products::list_in(tx, visibility, &page, &wanted).await?,
                        HashMap::new(),
                    )
                };
                let facets = if with_facets {
                    Some(crate::search::facets(tx, scope, &search, customer, &wanted).await?)
                } else {
                    None
                };
                Ok::<_, ApiError>((page, details, facets))
            })
            .await?
    } else {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        ctx.db()
            .tenant_tx(caller.tenant, async move |tx| {
                let found = crate::search::page(
                    tx,
                    scope,
                    &search,
                    &page,
                    customer,
                    staff,
                    &wanted,
                    with_facets,
                )
                .await?;
                Ok::<_, ApiError>((found.page, found.details, found.facets))
            })
            .await?
    };
    if with_details {
        let shared = details
            .into_iter()
            .map(|(id, d)| (DetailsOf(id), Arc::new(d)));
        ctx.loader::<CatalogLoader>()?.feed_many(shared).await;
    }
    let facets = facets.map(|f| search::ProductFacets::new(f, currency));
    Ok(ProductConnection::from(page).with_facets(facets))
}

/// Something a tenant sells.
#[Object]
impl Product {
    /// The product's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Display title, in the request's locale (`accept-language`) when the product has a
    /// translation for it or its language, else in the tenant's default locale.
    async fn title(&self) -> &str {
        &self.title
    }
    /// URL-safe name, unique within the tenant (`oud-perfume-50ml`).
    async fn handle(&self) -> &str {
        &self.handle
    }
    /// Long description (plain text or Markdown), in the same locale as `title`.
    async fn description(&self) -> &str {
        &self.description
    }
    /// Its title and description in each locale other than the tenant's default.
    async fn translations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::translations::Translation>> {
        translations::of(ctx, self).await
    }
    /// DRAFT and ARCHIVED (staff only), or PUBLISHED (on the storefront).
    async fn status(&self) -> ProductStatus {
        self.status
    }
    /// When it was archived; null unless ARCHIVED.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.archived_at
    }
    /// What kind of product it is (`Perfume`, `Gift card`), for filtering and reports.
    async fn product_type(&self) -> Option<&str> {
        self.product_type.as_deref()
    }
    /// Lower-case tags, in the order given.
    async fn tags(&self) -> &[String] {
        &self.tags
    }
    /// Free-form JSON object for integrations and storefront themes.
    async fn metadata(&self) -> Json<&serde_json::Value> {
        Json(&self.metadata)
    }
    /// The marketplace vendor selling it; null for the tenant's own products.
    async fn vendor(&self) -> Option<Vendor> {
        self.vendor_id.map(|id| Vendor { id: to_id(id) })
    }
    /// The categories it is in, by name.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<crate::categories::Category>> {
        Ok(taxonomy::taxonomy(ctx, self).await?.categories)
    }
    /// The collections it is in, by title.
    async fn collections(&self, ctx: &Context<'_>) -> Result<Vec<crate::collections::Collection>> {
        Ok(taxonomy::taxonomy(ctx, self).await?.collections)
    }
    /// Its rating from approved reviews (always equal to what they say; read with the product).
    async fn rating(&self) -> crate::reviews::RatingSummary {
        crate::reviews::RatingSummary::from_counts(&self.rating_counts)
    }
    /// Its reviews, newest first: approved ones (and the caller's own) for storefronts and
    /// customers, every status for staff.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<reviews::ReviewConnection> {
        let filter = crate::reviews::ReviewFilter {
            product: Some(self.id),
            status: None,
        };
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        reviews::page_of_reviews(ctx, filter, page).await
    }
    /// Images and videos, in display order.
    async fn media(&self, ctx: &Context<'_>) -> Result<Vec<Media>> {
        Ok(details(ctx, self.id).await?.media.clone())
    }
    /// When it was last published; null for drafts.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.published_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
    /// The product's options (Size, Colour) and their allowed values, in display order.
    async fn options(&self, ctx: &Context<'_>) -> Result<Vec<ProductOption>> {
        Ok(details(ctx, self.id).await?.options.clone())
    }
    /// The product's variants (at most 100), in display order.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<Arc<PricedVariant>>> {
        Ok(details(ctx, self.id).await?.variants.clone())
    }
    /// The lowest and highest unit price the caller pays for one unit of the product's variants
    /// in `currency` (sales and price lists applied); null when no variant has a price in it.
    async fn price_range(&self, ctx: &Context<'_>, currency: String) -> Result<Option<PriceRange>> {
        let currency = self::currency(&currency)?;
        let details = details(ctx, self.id).await?;
        let now = Utc::now();
        let mut amounts = details.variants.iter().filter_map(|v| {
            let request = PriceRequest {
                variant_id: v.variant.id,
                currency,
                quantity: 1,
                at: now,
            };
            v.quote(&request).map(|q| q.unit_price.amount)
        });
        let Some(first) = amounts.next() else {
            return Ok(None);
        };
        let (min, max) = amounts.fold((first, first), |(lo, hi), a| (lo.min(a), hi.max(a)));
        Ok(Some(PriceRange {
            min: Money::new(min, currency),
            max: Money::new(max, currency),
        }))
    }
}

async fn details(ctx: &Context<'_>, product: ProductId) -> Result<Arc<ProductDetails>> {
    Ok(ctx
        .loader::<CatalogLoader>()?
        .load_one(DetailsOf(product))
        .await?
        .unwrap_or_default())
}

/// The lowest and highest unit price of a product's variants in one currency.
#[derive(SimpleObject)]
pub struct PriceRange {
    /// The lowest unit price.
    pub min: Money,
    /// The highest unit price.
    pub max: Money,
}

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
        if !(1..=pricing::MAX_QUANTITY).contains(&quantity) {
            return Err(ApiError::bad_input(format!(
                "quantity must be between 1 and {}",
                pricing::MAX_QUANTITY
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
        inventory::levels_of(ctx, self.variant.id).await
    }
}

/// A quantity break and the unit price it gives.
pub struct TierView {
    pub tier: VolumeTier,
    pub unit_price: Option<Money>,
}

/// A quantity break: buying between `minQuantity` and `maxQuantity` units of a variant on one line
/// costs `unitPrice` each.
#[Object(name = "VolumeTier")]
impl TierView {
    /// The tier's id.
    async fn id(&self) -> ID {
        to_id(self.tier.id)
    }
    /// The fewest units the tier applies to.
    async fn min_quantity(&self) -> i32 {
        self.tier.min_quantity
    }
    /// The most units it applies to; null for no upper bound.
    async fn max_quantity(&self) -> Option<i32> {
        self.tier.max_quantity
    }
    /// The unit price it gives; null for a percentage tier of a variant without a base price.
    async fn unit_price(&self) -> Option<Money> {
        self.unit_price
    }
    /// The percentage off the base price, for percentage tiers (12.5 means 12.5 %).
    async fn percent_off(&self) -> Option<f64> {
        self.tier.percent_off_bp.map(|bp| f64::from(bp) / 100.0)
    }
    /// Whether it applies to every variant of the product rather than to this one only.
    async fn product_wide(&self) -> bool {
        self.tier.variant_id.is_none()
    }
    /// The customer group it is limited to, if any.
    async fn customer_group_id(&self) -> Option<ID> {
        self.tier.customer_group_id.map(to_id)
    }
}

/// A price for a quantity of a variant, and the rule it came from.
#[Object(name = "Price")]
impl Quote {
    /// Price of one unit.
    async fn unit_price(&self) -> Money {
        self.unit_price
    }
    /// Units priced.
    async fn quantity(&self) -> i64 {
        self.quantity
    }
    /// Unit price times quantity.
    async fn line_total(&self) -> Money {
        self.line_total
    }
    /// Which pricing rule produced the unit price.
    async fn rule(&self) -> PriceRule {
        self.rule
    }
    /// The base unit price, when the caller pays less than it (for a struck-through price).
    async fn compare_at_unit_price(&self) -> Option<Money> {
        self.compare_at
    }
    /// The price list or volume tier that produced the price; null for the base price.
    async fn rule_source_id(&self) -> Option<ID> {
        self.source.map(ID::from)
    }
}

// Owned by the identity subgraph; the catalog only adds `products`. The description matches the
// owner's, so composition keeps one text.
/// A tenant: a city, brand or organisation with its own catalog, customers and staff.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Tenant {
    /// The tenant's id.
    pub id: ID,
}

#[ComplexObject]
impl Tenant {
    /// The tenant's products that the caller may see (published ones for storefronts).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductConnection> {
        let selected = ctx.request()?.tenant()?.id;
        if parse_id::<TenantId>(&self.id)? != selected {
            return Err(ApiError::forbidden("products of another tenant are not visible").into());
        }
        let asked = search::Asked::new(ctx, Within::default(), None, None)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }
}

/// The catalog's queries.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// A product of the selected tenant, by `id` or by `handle` (give exactly one). Storefronts
    /// see published products only.
    async fn product(
        &self,
        ctx: &Context<'_>,
        id: Option<ProductId>,
        handle: Option<String>,
    ) -> Result<Option<Product>> {
        let rc = ctx.request()?;
        let tenant = rc.tenant()?.id;
        match (id, handle) {
            (Some(id), None) => Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?),
            (None, Some(handle)) => {
                let wanted = Wanted::of(rc);
                Ok(
                    products::by_handle(ctx.db(), tenant, Visibility::of(rc), handle, wanted)
                        .await?,
                )
            }
            _ => Err(ApiError::bad_input("give exactly one of `id` and `handle`").into()),
        }
    }

    /// The selected tenant's products: all of them oldest first, or those a `filter` (full-text
    /// `query`, category, collection, vendor, tags, price range, in stock) matches, in the order
    /// of `sort` (best match first for a query). Storefronts see published products only.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    #[allow(
        clippy::too_many_arguments,
        reason = "the connection arguments plus filter and sort"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<search::ProductFilter>,
        sort: Option<search::ProductSort>,
    ) -> Result<ProductConnection> {
        let asked = search::Asked::new(ctx, Within::default(), filter, sort)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }

    /// Resolves `Product` references from other subgraphs (within the request's tenant and
    /// visibility).
    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        id: ProductId,
    ) -> Result<Option<Product>> {
        Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?)
    }

    /// Resolves `ProductVariant` references from other subgraphs (within the request's tenant and
    /// visibility).
    #[graphql(entity)]
    async fn find_product_variant_by_id(
        &self,
        ctx: &Context<'_>,
        id: VariantId,
    ) -> Result<Option<PricedVariant>> {
        Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?)
    }

    /// Resolves `Tenant` references, to add their products.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, id: ID) -> Tenant {
        Tenant { id }
    }
}

/// A new product.
#[derive(InputObject)]
pub struct ProductCreateInput {
    /// Display title, 1 to 255 characters.
    pub title: String,
    /// URL-safe name, unique within the tenant: lower-case letters and digits joined by hyphens.
    pub handle: String,
    /// Long description.
    pub description: Option<String>,
    /// DRAFT (the default) or PUBLISHED.
    pub status: Option<ProductStatus>,
    /// Product type, at most 100 characters.
    pub product_type: Option<String>,
    /// Tags, each 1 to 50 characters, at most 50; stored lower-case, each once.
    pub tags: Option<Vec<String>>,
    /// A JSON object of at most 16 KiB.
    pub metadata: Option<Json<serde_json::Value>>,
    /// The marketplace vendor selling it.
    pub vendor_id: Option<VendorId>,
}

/// Changes to a product; omitted fields stay as they are.
#[derive(InputObject)]
pub struct ProductUpdateInput {
    /// The product to change.
    pub id: ProductId,
    /// New title.
    pub title: Option<String>,
    /// New handle.
    pub handle: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status: DRAFT <-> PUBLISHED, either -> ARCHIVED, ARCHIVED -> DRAFT.
    pub status: Option<ProductStatus>,
    /// New product type; null clears it.
    pub product_type: MaybeUndefined<String>,
    /// The whole new tag list.
    pub tags: Option<Vec<String>>,
    /// The whole new metadata object.
    pub metadata: Option<Json<serde_json::Value>>,
    /// New vendor; null makes it the tenant's own product.
    pub vendor_id: MaybeUndefined<ID>,
}

cityos_core::payload! {
    /// The result of `productCreate` and `productUpdate`.
    ProductPayload<CatalogUserError> {
        /// The product as saved; null when refused.
        product: Product,
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

cityos_core::payload! {
    /// The result of `productOptionCreate`.
    ProductOptionPayload<CatalogUserError> {
        /// The new option; null when refused.
        option: ProductOption,
    }
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

cityos_core::payload! {
    /// The result of `productVariantCreate` and `productVariantPricesSet`.
    ProductVariantPayload<CatalogUserError> {
        /// The variant as saved; null when refused.
        variant: PricedVariant,
    }
}

fn prices(input: Option<Vec<PriceInput>>) -> Vec<(String, i64)> {
    input
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.currency, p.amount_minor))
        .collect()
}

/// The catalog's mutations.
#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates a product in the current tenant (staff).
    async fn product_create(
        &self,
        ctx: &Context<'_>,
        input: ProductCreateInput,
    ) -> Result<ProductPayload> {
        let new = NewProduct {
            title: input.title,
            handle: input.handle,
            description: input.description,
            status: input.status,
            product_type: input.product_type,
            tags: input.tags.unwrap_or_default(),
            metadata: input.metadata.map(|m| m.0),
            vendor_id: input.vendor_id,
        };
        Ok(ProductPayload::of(
            products::create(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Changes a product of the current tenant (staff).
    async fn product_update(
        &self,
        ctx: &Context<'_>,
        input: ProductUpdateInput,
    ) -> Result<ProductPayload> {
        let id = input.id;
        let vendor_id = match input.vendor_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(parse_id(&id)?)),
        };
        let changes = ProductChanges {
            title: input.title,
            handle: input.handle,
            description: input.description,
            status: input.status,
            product_type: input.product_type.as_opt_ref().map(|t| t.cloned()),
            tags: input.tags,
            metadata: input.metadata.map(|m| m.0),
            vendor_id,
        };
        Ok(ProductPayload::of(
            products::update(ctx.db(), ctx.request()?, id, changes).await,
        )?)
    }
    /// Adds an option to a product that has no variants yet (staff).
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

    /// Creates a variant of a product with its base prices (staff).
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

    /// Sets base prices of a variant (staff).
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

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    CatalogQuery,
    price_lists::PricingQuery,
    inventory::InventoryQuery,
    media::VendorQuery,
    taxonomy::TaxonomyQuery,
    reviews::ReviewQuery,
    wishlists::WishlistQuery,
    compare::CompareQuery,
    search::SearchQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    CatalogMutation,
    price_lists::PricingMutation,
    inventory::InventoryMutation,
    media::MediaMutation,
    taxonomy::TaxonomyMutation,
    translations::TranslationMutation,
    reviews::ReviewMutation,
    wishlists::WishlistMutation,
);
