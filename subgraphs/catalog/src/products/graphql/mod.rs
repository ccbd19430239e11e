//! Products in GraphQL: the `Product` type, `product(id|handle)`, product writes, and the
//! product's variants, media, translations and comparison beside it.

mod compare;
mod media;
mod translations;
mod variants;

pub use compare::CompareQuery;
pub use media::MediaMutation;
pub use translations::TranslationMutation;
pub(crate) use variants::prices;
pub use variants::{PriceInput, VariantMutation};

use crate::errors::CatalogUserError;
use crate::federation::Vendor;
use crate::ids::{ProductId, VariantId, VendorId};
use crate::pricing::PriceRequest;
use crate::products::media::Media;
use crate::products::translations::Wanted;
use crate::products::variants::{PricedVariant, ProductDetails, ProductOption};
use crate::products::{self, NewProduct, Product, ProductChanges, ProductStatus, Visibility};
use crate::reviews::graphql::{ReviewConnection, page_of_reviews};
use crate::scope::{CatalogLoader, DetailsOf, currency};
use crate::search::graphql::{
    Asked, ProductConnection, ProductFilter, ProductSort, Within, page_of_products,
};
use crate::taxonomy::graphql::taxonomy;
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::Money;
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;
use std::collections::HashMap;
use std::sync::Arc;

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
    ) -> Result<Vec<products::translations::Translation>> {
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
    async fn categories(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::taxonomy::categories::Category>> {
        Ok(taxonomy(ctx, self).await?.categories)
    }
    /// The collections it is in, by title.
    async fn collections(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::taxonomy::collections::Collection>> {
        Ok(taxonomy(ctx, self).await?.collections)
    }
    /// Units of it in placed orders (cancellations and returns do not subtract), counted from
    /// the orders' events shortly after each order is placed: what the BEST_SELLING sort orders by.
    async fn units_sold(&self) -> i32 {
        i32::try_from(self.units_sold).unwrap_or(i32::MAX)
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
    ) -> Result<ReviewConnection> {
        let filter = crate::reviews::ReviewFilter {
            product: Some(self.id),
            status: None,
        };
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        page_of_reviews(ctx, filter, page).await
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

/// The queries of products.
#[derive(Default)]
pub struct ProductQuery;

#[Object]
impl ProductQuery {
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
        filter: Option<ProductFilter>,
        sort: Option<ProductSort>,
    ) -> Result<ProductConnection> {
        let asked = Asked::new(ctx, Within::default(), filter, sort)?;
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

/// The mutations of products.
#[derive(Default)]
pub struct ProductMutation;

#[Object]
impl ProductMutation {
    /// Creates a product in the current tenant: staff, for the tenant or an approved vendor
    /// (`vendorId`); a vendor's team member acting for it (`x-vendor-id`), always for that vendor.
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

    /// Changes a product of the current tenant (staff, or the team of the vendor selling the product, acting for it); only staff move it to another seller.
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
}

impl Loader<ProductId> for CatalogLoader {
    type Value = Product;
    type Error = ApiError;

    async fn load(&self, keys: &[ProductId]) -> Result<HashMap<ProductId, Product>, ApiError> {
        let rows = products::by_ids(
            &self.db,
            self.caller.tenant,
            self.visibility,
            keys.to_vec(),
            self.wanted.clone(),
        )
        .await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

impl Loader<DetailsOf> for CatalogLoader {
    type Value = Arc<ProductDetails>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[DetailsOf],
    ) -> Result<HashMap<DetailsOf, Arc<ProductDetails>>, ApiError> {
        let c = self.caller;
        let ids = keys.iter().map(|k| k.0).collect();
        let found =
            products::variants::details_by_products(&self.db, c.tenant, ids, c.customer, c.staff)
                .await?;
        Ok(found
            .into_iter()
            .map(|(id, d)| (DetailsOf(id), Arc::new(d)))
            .collect())
    }
}
