//! Categories and collections in GraphQL.

use crate::errors::CatalogUserError;
use crate::ids::{CategoryId, CollectionId, ProductId};
use crate::products::Product;
use crate::scope::{CatalogLoader, ChildrenOf, TaxonomyOf, every, in_tenant};
use crate::search::graphql::{
    Asked, ProductConnection, ProductFilter, ProductSort, Within, page_of_products,
};
use crate::taxonomy::Taxonomy;
use crate::taxonomy::categories::{self, Category, CategoryChanges, NewCategory};
use crate::taxonomy::collections::{self, Collection};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(
    CollectionConnection,
    CollectionEdge,
    Collection,
    "collection"
);

/// A product's categories and collections, through the request's loader.
pub(crate) async fn taxonomy(ctx: &Context<'_>, product: &Product) -> Result<Taxonomy> {
    Ok(ctx
        .loader::<CatalogLoader>()?
        .load_one(TaxonomyOf(product.id))
        .await?
        .unwrap_or_default())
}

/// A node of the tenant's category tree.
#[Object]
impl Category {
    /// The category's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.name
    }
    /// URL-safe name, unique within the tenant.
    async fn handle(&self) -> &str {
        &self.handle
    }
    /// Long description.
    async fn description(&self) -> &str {
        &self.description
    }
    /// Its place among its siblings, from 0.
    async fn position(&self) -> i32 {
        self.position
    }
    /// 1 for a root category, 2 for its children, and so on (at most 10).
    async fn depth(&self) -> i32 {
        self.depth
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Its parent; null for a root.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        match self.parent_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?),
        }
    }
    /// Its direct subcategories, in position order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(ChildrenOf(self.id))
            .await?
            .unwrap_or_default())
    }
    /// Its ancestors, root first (for breadcrumbs).
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let id = self.id;
        in_tenant!(ctx, |tx| categories::ancestors(tx, id))
    }
    /// Its whole subtree below it, depth first in position order.
    async fn descendants(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let id = self.id;
        in_tenant!(ctx, |tx| { categories::descendants(tx, id) })
    }
    /// The products in it or in any of its descendants that the caller may see, oldest first, or
    /// narrowed by `filter` and ordered by `sort` as in `Query.products`.
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
        let within = Within {
            category: Some(self.id),
            ..Within::default()
        };
        let asked = Asked::new(ctx, within, filter, sort)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }
}

/// A curated, ordered set of products.
#[Object]
impl Collection {
    /// The collection's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Display title.
    async fn title(&self) -> &str {
        &self.title
    }
    /// URL-safe name, unique within the tenant.
    async fn handle(&self) -> &str {
        &self.handle
    }
    /// Long description.
    async fn description(&self) -> &str {
        &self.description
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Its products that the caller may see, in the collection's order; with a `filter` or `sort`
    /// (as in `Query.products`), the matching ones in that sort's order.
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
        let within = Within {
            collection: Some(self.id),
            ..Within::default()
        };
        let asked = Asked::new(ctx, within, filter, sort)?;
        page_of_products(ctx, asked, first, after, last, before).await
    }
}

/// Category and collection queries.
#[derive(Default)]
pub struct TaxonomyQuery;

#[Object]
impl TaxonomyQuery {
    /// The subcategories of `parentId`, or the root categories when it is omitted, in position
    /// order.
    async fn categories(
        &self,
        ctx: &Context<'_>,
        parent_id: Option<CategoryId>,
    ) -> Result<Vec<Category>> {
        in_tenant!(ctx, |tx| { categories::children(tx, parent_id) })
    }

    /// A category by `id` or by `handle` (give exactly one).
    async fn category(
        &self,
        ctx: &Context<'_>,
        id: Option<CategoryId>,
        handle: Option<String>,
    ) -> Result<Option<Category>> {
        match (id, handle) {
            (Some(id), None) => Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?),

            (None, Some(handle)) => {
                in_tenant!(ctx, |tx| { categories::by_handle(tx, &handle) })
            }
            _ => Err(ApiError::bad_input("give exactly one of `id` and `handle`").into()),
        }
    }

    /// The tenant's collections, oldest first.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn collections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CollectionConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let found = in_tenant!(ctx, |tx| collections::page(tx, &page))?;
        Ok(found.into())
    }

    /// A collection by `id` or by `handle` (give exactly one).
    async fn collection(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        handle: Option<String>,
    ) -> Result<Option<Collection>> {
        match (id, handle) {
            (Some(id), None) => {
                let ids = [parse_id(&id)?];
                let mut found = in_tenant!(ctx, |tx| { collections::by_ids_in(tx, &ids) })?;
                Ok(found.pop())
            }
            (None, Some(handle)) => {
                in_tenant!(ctx, |tx| { collections::by_handle(tx, &handle) })
            }
            _ => Err(ApiError::bad_input("give exactly one of `id` and `handle`").into()),
        }
    }
}

/// A new category.
#[derive(InputObject)]
pub struct CategoryCreateInput {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// URL-safe name, unique within the tenant.
    pub handle: String,
    /// Long description, at most 10,000 characters.
    pub description: Option<String>,
    /// Its parent; a root category when omitted.
    pub parent_id: Option<CategoryId>,
}

/// Changes to a category; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CategoryUpdateInput {
    /// The category.
    pub id: CategoryId,
    /// New name.
    pub name: Option<String>,
    /// New handle.
    pub handle: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New place among its siblings (siblings are ordered by position, then id).
    pub position: Option<i32>,
}

cityos_core::payload! {
    /// The result of a category mutation.
    CategoryPayload<CatalogUserError> {
        /// The category as saved; null when refused.
        category: Category,
    }
}

cityos_core::payload! {
    /// The result of `categoryDelete`.
    CategoryDeletePayload<CatalogUserError> {
        /// The deleted category's id; null when refused.
        deleted_id: ID,
    }
}

cityos_core::payload! {
    /// The result of `productCategoriesSet`.
    ProductCategoriesPayload<CatalogUserError> {
        /// The product's categories now; null when refused.
        categories: Vec<Category>,
    }
}

/// A new collection.
#[derive(InputObject)]
pub struct CollectionCreateInput {
    /// Display title, 1 to 255 characters.
    pub title: String,
    /// URL-safe name, unique within the tenant.
    pub handle: String,
    /// Long description, at most 10,000 characters.
    pub description: Option<String>,
}

/// Changes to a collection; omitted fields stay as they are.
#[derive(InputObject)]
pub struct CollectionUpdateInput {
    /// The collection.
    pub id: CollectionId,
    /// New title.
    pub title: Option<String>,
    /// New handle.
    pub handle: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Products to put into a collection.
#[derive(InputObject)]
pub struct CollectionProductsAddInput {
    /// The collection.
    pub collection_id: CollectionId,
    /// The products, in the order they should appear; products already in the collection move.
    pub product_ids: Vec<ProductId>,
    /// Where to put them (0 is first); at the end when omitted.
    pub position: Option<i32>,
}

cityos_core::payload! {
    /// The result of a collection mutation.
    CollectionPayload<CatalogUserError> {
        /// The collection as saved; null when refused.
        collection: Collection,
    }
}

cityos_core::payload! {
    /// The result of `collectionDelete`.
    CollectionDeletePayload<CatalogUserError> {
        /// The deleted collection's id; null when refused.
        deleted_id: ID,
    }
}

/// Where to move a category.
#[derive(InputObject)]
pub struct CategoryMoveInput {
    /// The category.
    pub id: CategoryId,
    /// Its new parent; null or omitted makes it a root.
    pub parent_id: Option<CategoryId>,
}

/// A category to delete.
#[derive(InputObject)]
pub struct CategoryDeleteInput {
    /// The category (without subcategories).
    pub id: CategoryId,
}

/// A product's categories.
#[derive(InputObject)]
pub struct ProductCategoriesSetInput {
    /// The product.
    pub product_id: ProductId,
    /// Exactly the categories it is in from now on (at most 20).
    pub category_ids: Vec<CategoryId>,
}

/// A collection to delete.
#[derive(InputObject)]
pub struct CollectionDeleteInput {
    /// The collection.
    pub id: CollectionId,
}

/// Products to take out of a collection.
#[derive(InputObject)]
pub struct CollectionProductsRemoveInput {
    /// The collection.
    pub collection_id: CollectionId,
    /// The products.
    pub product_ids: Vec<ProductId>,
}

/// Category and collection mutations (staff, audited).
#[derive(Default)]
pub struct TaxonomyMutation;

#[Object]
impl TaxonomyMutation {
    /// Creates a category, last among its siblings.
    async fn category_create(
        &self,
        ctx: &Context<'_>,
        input: CategoryCreateInput,
    ) -> Result<CategoryPayload> {
        let new = NewCategory {
            name: input.name,
            handle: input.handle,
            description: input.description,
            parent_id: input.parent_id,
        };
        Ok(CategoryPayload::of(
            categories::create(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Renames a category, changes its handle or description, or reorders it among its siblings.
    async fn category_update(
        &self,
        ctx: &Context<'_>,
        input: CategoryUpdateInput,
    ) -> Result<CategoryPayload> {
        let changes = CategoryChanges {
            name: input.name,
            handle: input.handle,
            description: input.description,
            position: input.position,
        };
        let outcome = categories::update(ctx.db(), ctx.request()?, input.id, changes).await;
        Ok(CategoryPayload::of(outcome)?)
    }

    /// Moves a category with its whole subtree under `parentId` (to the roots when null).
    async fn category_move(
        &self,
        ctx: &Context<'_>,
        input: CategoryMoveInput,
    ) -> Result<CategoryPayload> {
        let parent = input.parent_id;
        let outcome = categories::move_to(ctx.db(), ctx.request()?, input.id, parent).await;
        Ok(CategoryPayload::of(outcome)?)
    }

    /// Deletes a category that has no subcategories; its products leave it.
    async fn category_delete(
        &self,
        ctx: &Context<'_>,
        input: CategoryDeleteInput,
    ) -> Result<CategoryDeletePayload> {
        let outcome = categories::delete(ctx.db(), ctx.request()?, input.id).await;
        Ok(CategoryDeletePayload::of(outcome.map(to_id))?)
    }

    /// Puts a product in exactly these categories (at most 20); it leaves the others (staff, or
    /// the team of the vendor selling it).
    async fn product_categories_set(
        &self,
        ctx: &Context<'_>,
        input: ProductCategoriesSetInput,
    ) -> Result<ProductCategoriesPayload> {
        let outcome = categories::set_for_product(
            ctx.db(),
            ctx.request()?,
            input.product_id,
            input.category_ids,
        )
        .await;
        Ok(ProductCategoriesPayload::of(outcome)?)
    }

    /// Creates a collection.
    async fn collection_create(
        &self,
        ctx: &Context<'_>,
        input: CollectionCreateInput,
    ) -> Result<CollectionPayload> {
        let outcome = collections::create(
            ctx.db(),
            ctx.request()?,
            &input.title,
            &input.handle,
            input.description.as_deref(),
        )
        .await;
        Ok(CollectionPayload::of(outcome)?)
    }

    /// Changes a collection's title, handle or description.
    async fn collection_update(
        &self,
        ctx: &Context<'_>,
        input: CollectionUpdateInput,
    ) -> Result<CollectionPayload> {
        let outcome = collections::update(
            ctx.db(),
            ctx.request()?,
            input.id,
            input.title,
            input.handle,
            input.description,
        )
        .await;
        Ok(CollectionPayload::of(outcome)?)
    }

    /// Deletes a collection; its products stay.
    async fn collection_delete(
        &self,
        ctx: &Context<'_>,
        input: CollectionDeleteInput,
    ) -> Result<CollectionDeletePayload> {
        let outcome = collections::delete(ctx.db(), ctx.request()?, input.id).await;
        Ok(CollectionDeletePayload::of(outcome.map(to_id))?)
    }

    /// Puts products into a collection at a position (or moves them there), at most 1,000 in all.
    async fn collection_products_add(
        &self,
        ctx: &Context<'_>,
        input: CollectionProductsAddInput,
    ) -> Result<CollectionPayload> {
        let outcome = collections::add_products(
            ctx.db(),
            ctx.request()?,
            input.collection_id,
            input.product_ids,
            input.position,
        )
        .await;
        Ok(CollectionPayload::of(outcome)?)
    }

    /// Takes products out of a collection.
    async fn collection_products_remove(
        &self,
        ctx: &Context<'_>,
        input: CollectionProductsRemoveInput,
    ) -> Result<CollectionPayload> {
        let outcome = collections::remove_products(
            ctx.db(),
            ctx.request()?,
            input.collection_id,
            input.product_ids,
        )
        .await;
        Ok(CollectionPayload::of(outcome)?)
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
