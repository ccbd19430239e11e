//! The catalog's GraphQL API: products, the `Tenant.products` extension, loaders.

use crate::errors::CatalogUserError;
use crate::products::{self, NewProduct, Product, ProductChanges, ProductStatus, Visibility};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, MergedObject, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::outcome::into_payload;
use cityos_core::paging::PageRequest;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;
use std::collections::HashMap;
use uuid::Uuid;

cityos_core::connection!(ProductConnection, ProductEdge, Product, "product");

fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

fn db<'a>(ctx: &Context<'a>) -> &'a Database {
    ctx.data_unchecked::<Database>()
}

/// Loads the products one request may see, by id. Built per request: it carries that request's
/// tenant and visibility, so a batch never mixes tenants.
pub struct ProductLoader {
    pub db: Database,
    pub tenant: Uuid,
    pub visibility: Visibility,
}

impl Loader<Uuid> for ProductLoader {
    type Value = Product;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Product>, ApiError> {
        let rows = products::by_ids(&self.db, self.tenant, self.visibility, keys.to_vec()).await?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// A list field costs its page size times what each item selects.
fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(cityos_core::paging::DEFAULT_PAGE_SIZE)
        .clamp(1, cityos_core::paging::MAX_PAGE_SIZE);
    usize::try_from(size).unwrap_or(1) * child_complexity + 1
}

fn product_loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<ProductLoader>> {
    ctx.data::<DataLoader<ProductLoader>>()
        .map_err(|_| ApiError::tenant_required().into())
}

async fn page_of_products(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<ProductConnection> {
    let rc = request(ctx)?;
    let tenant = rc.tenant()?.id;
    let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
    Ok(products::list(db(ctx), tenant, Visibility::of(rc), page)
        .await?
        .into())
}

/// Something a tenant sells.
#[Object]
impl Product {
    /// The product's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Display title.
    async fn title(&self) -> &str {
        &self.title
    }
    /// URL-safe name, unique within the tenant (`oud-perfume-50ml`).
    async fn handle(&self) -> &str {
        &self.handle
    }
    /// Long description (plain text or Markdown).
    async fn description(&self) -> &str {
        &self.description
    }
    /// DRAFT (staff only) or PUBLISHED (on the storefront).
    async fn status(&self) -> ProductStatus {
        self.parsed_status()
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
        let selected = request(ctx)?.tenant()?.id;
        if parse_id(&self.id)? != selected {
            return Err(ApiError::forbidden("products of another tenant are not visible").into());
        }
        page_of_products(ctx, first, after, last, before).await
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
        id: Option<ID>,
        handle: Option<String>,
    ) -> Result<Option<Product>> {
        let rc = request(ctx)?;
        let tenant = rc.tenant()?.id;
        match (id, handle) {
            (Some(id), None) => Ok(product_loader(ctx)?.load_one(parse_id(&id)?).await?),
            (None, Some(handle)) => {
                Ok(products::by_handle(db(ctx), tenant, Visibility::of(rc), handle).await?)
            }
            _ => Err(ApiError::bad_input("give exactly one of `id` and `handle`").into()),
        }
    }

    /// The selected tenant's products, oldest first. Storefronts see published products only.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductConnection> {
        page_of_products(ctx, first, after, last, before).await
    }

    /// Resolves `Product` references from other subgraphs (within the request's tenant and
    /// visibility).
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        Ok(product_loader(ctx)?.load_one(parse_id(&id)?).await?)
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
}

/// Changes to a product; omitted fields stay as they are.
#[derive(InputObject)]
pub struct ProductUpdateInput {
    /// The product to change.
    pub id: ID,
    /// New title.
    pub title: Option<String>,
    /// New handle.
    pub handle: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status.
    pub status: Option<ProductStatus>,
}

/// The result of `productCreate` and `productUpdate`.
#[derive(SimpleObject)]
pub struct ProductPayload {
    /// The product as saved; null when refused.
    pub product: Option<Product>,
    /// Why it was refused; empty on success.
    pub user_errors: Vec<CatalogUserError>,
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
        };
        let (product, user_errors) =
            into_payload(products::create(db(ctx), request(ctx)?, new).await)?;
        Ok(ProductPayload {
            product,
            user_errors,
        })
    }

    /// Changes a product of the current tenant (staff).
    async fn product_update(
        &self,
        ctx: &Context<'_>,
        input: ProductUpdateInput,
    ) -> Result<ProductPayload> {
        let id = parse_id(&input.id)?;
        let changes = ProductChanges {
            title: input.title,
            handle: input.handle,
            description: input.description,
            status: input.status,
        };
        let (product, user_errors) =
            into_payload(products::update(db(ctx), request(ctx)?, id, changes).await)?;
        Ok(ProductPayload {
            product,
            user_errors,
        })
    }
}

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(CatalogQuery);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(CatalogMutation);
