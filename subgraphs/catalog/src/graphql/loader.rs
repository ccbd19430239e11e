//! The catalog's one DataLoader. It is built once per request from the request's scope (tenant,
//! caller, visibility, locale), so a batch never mixes tenants or callers, and it serves every key
//! type the catalog's resolvers look up: an entity's id loads the entity; a wrapper key
//! ([`DetailsOf`], [`ChildrenOf`], ...) loads what hangs off it. A new lookup is one more `Loader`
//! impl here, not one more loader to register.

use super::Caller;
use super::taxonomy::Taxonomy;
use crate::categories::{self, Category};
use crate::collections;
use crate::ids::{CategoryId, LocationId, ProductId, ReviewId, VariantId, WishlistId};
use crate::inventory::{self, LevelView, Location};
use crate::products::{self, Product, Visibility};
use crate::reviews::{self, Response};
use crate::translations::{self, Translation, Wanted};
use crate::variants::{self, PricedVariant, ProductDetails};
use crate::wishlists::{self, Item};
use async_graphql::dataloader::Loader;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// What a product page shows besides the product: options, variants with prices, tiers, stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DetailsOf(pub ProductId);

/// A category's subcategories (a tree read level by level costs one statement per level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildrenOf(pub CategoryId);

/// A product's categories and collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaxonomyOf(pub ProductId);

/// Every translation of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TranslationsOf(pub ProductId);

/// The items of a wishlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemsOf(pub WishlistId);

/// The response to a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseTo(pub ReviewId);

/// A variant's stock per location (staff only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelsOf(pub VariantId);

/// The catalog's loader of one request.
pub struct CatalogLoader {
    db: Database,
    caller: Caller,
    visibility: Visibility,
    wanted: Wanted,
}

impl CatalogLoader {
    /// The loader of a request for `ctx`'s tenant; `None` for a request without one.
    pub fn of(db: &Database, ctx: &RequestContext) -> Option<Self> {
        let tenant = ctx.tenant.as_ref()?.id;
        Some(Self {
            db: db.clone(),
            caller: Caller::of(ctx, tenant),
            visibility: Visibility::of(ctx),
            wanted: Wanted::of(ctx),
        })
    }
}

/// Answers every key from what a batch read found by the keys' ids, those with nothing found with
/// `V::default()` (an empty list: nothing hangs off them).
fn every<K, I, V>(keys: &[K], id: impl Fn(&K) -> I, mut found: HashMap<I, V>) -> HashMap<K, V>
where
    K: Copy + Eq + Hash,
    I: Eq + Hash,
    V: Default,
{
    keys.iter()
        .map(|k| (*k, found.remove(&id(k)).unwrap_or_default()))
        .collect()
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
            variants::details_by_products(&self.db, c.tenant, ids, c.customer, c.staff).await?;
        Ok(found
            .into_iter()
            .map(|(id, d)| (DetailsOf(id), Arc::new(d)))
            .collect())
    }
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

impl Loader<CategoryId> for CatalogLoader {
    type Value = Category;
    type Error = ApiError;

    async fn load(&self, keys: &[CategoryId]) -> Result<HashMap<CategoryId, Category>, ApiError> {
        let keys = keys.to_vec();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(categories::by_ids_in(tx, &keys).await?)
            })
            .await?;
        Ok(found.into_iter().map(|c| (c.id, c)).collect())
    }
}

impl Loader<ChildrenOf> for CatalogLoader {
    type Value = Vec<Category>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[ChildrenOf],
    ) -> Result<HashMap<ChildrenOf, Vec<Category>>, ApiError> {
        let parents: Vec<CategoryId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(categories::children_of(tx, &parents).await?)
            })
            .await?;
        Ok(every(keys, |k| k.0, found))
    }
}

impl Loader<TaxonomyOf> for CatalogLoader {
    type Value = Taxonomy;
    type Error = ApiError;

    async fn load(&self, keys: &[TaxonomyOf]) -> Result<HashMap<TaxonomyOf, Taxonomy>, ApiError> {
        let ids: Vec<ProductId> = keys.iter().map(|k| k.0).collect();
        let (categories, collections) = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                let categories = categories::of_products(tx, &ids).await?;
                let collections = collections::of_products(tx, &ids).await?;
                Ok::<_, ApiError>((categories, collections))
            })
            .await?;
        let (mut categories, mut collections) = (categories, collections);
        Ok(keys
            .iter()
            .map(|k| {
                let taxonomy = Taxonomy {
                    categories: categories.remove(&k.0).unwrap_or_default(),
                    collections: collections.remove(&k.0).unwrap_or_default(),
                };
                (*k, taxonomy)
            })
            .collect())
    }
}

impl Loader<TranslationsOf> for CatalogLoader {
    type Value = Vec<Translation>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[TranslationsOf],
    ) -> Result<HashMap<TranslationsOf, Vec<Translation>>, ApiError> {
        let ids: Vec<ProductId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(translations::of_products(tx, &ids).await?)
            })
            .await?;
        Ok(every(keys, |k| k.0, found))
    }
}

impl Loader<ItemsOf> for CatalogLoader {
    type Value = Vec<Item>;
    type Error = ApiError;

    async fn load(&self, keys: &[ItemsOf]) -> Result<HashMap<ItemsOf, Vec<Item>>, ApiError> {
        let ids: Vec<WishlistId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(wishlists::items_of(tx, &ids).await?)
            })
            .await?;
        Ok(every(keys, |k| k.0, found))
    }
}

impl Loader<ResponseTo> for CatalogLoader {
    type Value = Response;
    type Error = ApiError;

    async fn load(&self, keys: &[ResponseTo]) -> Result<HashMap<ResponseTo, Response>, ApiError> {
        let ids: Vec<ReviewId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.caller.tenant, async move |tx| {
                Ok::<_, ApiError>(reviews::responses_of(tx, &ids).await?)
            })
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, r)| (ResponseTo(id), r))
            .collect())
    }
}

impl Loader<LocationId> for CatalogLoader {
    type Value = Location;
    type Error = ApiError;

    async fn load(&self, keys: &[LocationId]) -> Result<HashMap<LocationId, Location>, ApiError> {
        let rows = inventory::locations_by_ids(&self.db, self.caller.tenant, keys.to_vec()).await?;
        Ok(rows.into_iter().map(|l| (l.id, l)).collect())
    }
}

impl Loader<LevelsOf> for CatalogLoader {
    type Value = Vec<LevelView>;
    type Error = ApiError;

    async fn load(&self, keys: &[LevelsOf]) -> Result<HashMap<LevelsOf, Vec<LevelView>>, ApiError> {
        if !self.caller.staff {
            return Err(ApiError::forbidden("stock levels are for staff"));
        }
        let ids = keys.iter().map(|k| k.0).collect();
        let found = inventory::levels_by_variants(&self.db, self.caller.tenant, ids).await?;
        Ok(found.into_iter().map(|(id, l)| (LevelsOf(id), l)).collect())
    }
}
