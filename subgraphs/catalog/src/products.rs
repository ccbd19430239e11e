//! Products: what a tenant sells. Staff see every product; storefronts and customers see only
//! published ones.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::schema::products;
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::Database;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Whether a product is on sale.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    /// Being prepared; visible to staff only.
    Draft,
    /// On sale; visible to storefronts.
    Published,
}

impl ProductStatus {
    /// The database form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
        }
    }
}

/// A product as stored.
#[derive(Queryable, QueryableByName, Selectable, Debug, Clone)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Product {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub title: String,
    pub handle: String,
    pub description: String,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The lifecycle status.
    pub fn parsed_status(&self) -> ProductStatus {
        if self.status == "PUBLISHED" {
            ProductStatus::Published
        } else {
            ProductStatus::Draft
        }
    }
}

/// A product to create.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub title: String,
    pub handle: String,
    pub description: Option<String>,
    pub status: Option<ProductStatus>,
}

/// Changes to a product; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProductStatus>,
}

/// Which products a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff: every product.
    All,
    /// Everyone else: published products only.
    PublishedOnly,
}

impl Visibility {
    /// The visibility of the request's caller.
    pub fn of(ctx: &RequestContext) -> Self {
        if ctx.is_staff() {
            Self::All
        } else {
            Self::PublishedOnly
        }
    }
}

fn check_title(title: &str) -> Result<String, UserError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(UserError::new(
            "title",
            Code::InvalidTitle,
            "title must have 1 to 255 characters",
        ));
    }
    Ok(title.to_owned())
}

fn check_handle(handle: &str) -> Result<String, UserError> {
    let ok = (1..=255).contains(&handle.len())
        && handle.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !ok {
        return Err(UserError::new(
            "handle",
            Code::InvalidHandle,
            "handle must be lower-case letters and digits joined by single hyphens, e.g. `oud-perfume-50ml`",
        ));
    }
    Ok(handle.to_owned())
}

fn check_description(description: String) -> Result<String, UserError> {
    if description.chars().count() > 100_000 {
        return Err(UserError::new(
            "description",
            Code::InvalidDescription,
            "description must have at most 100,000 characters",
        ));
    }
    Ok(description)
}

fn handle_taken(handle: &str) -> impl FnOnce() -> UserError + '_ {
    move || {
        UserError::new(
            "handle",
            Code::HandleTaken,
            format!("another product already has the handle `{handle}`"),
        )
    }
}

/// Creates a product in the current tenant (staff).
pub async fn create(db: &Database, ctx: &RequestContext, input: NewProduct) -> Outcome<Product> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    let title = check_title(&input.title)?;
    let handle = check_handle(&input.handle)?;
    let description = check_description(input.description.unwrap_or_default())?;
    let status = input.status.unwrap_or(ProductStatus::Draft);
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |conn| {
        let published_at = (status == ProductStatus::Published).then(Utc::now);
        let product: Product = diesel::insert_into(products::table)
            .values((
                products::tenant_id.eq(tenant),
                products::id.eq(cityos_core::ids::new_id()),
                products::title.eq(&title),
                products::handle.eq(&handle),
                products::description.eq(&description),
                products::status.eq(status.as_str()),
                products::published_at.eq(published_at),
            ))
            .returning(Product::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| Failure::on_unique("products_handle_key", e, handle_taken(&handle)))?;
        let details = serde_json::json!({ "handle": product.handle, "status": product.status });
        cityos_db::audit::record(
            conn,
            &ctx,
            "product.create",
            "Product",
            Some(product.id),
            details,
        )
        .await?;
        Ok(product)
    })
    .await
}

/// Changes a product of the current tenant (staff).
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: Uuid,
    changes: ProductChanges,
) -> Outcome<Product> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    let title = changes.title.as_deref().map(check_title).transpose()?;
    let handle = changes.handle.as_deref().map(check_handle).transpose()?;
    let description = changes.description.map(check_description).transpose()?;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |conn| {
        let current: Product = products::table
            .filter(products::id.eq(id))
            .select(Product::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such product"))?;
        let status = changes.status.unwrap_or_else(|| current.parsed_status());
        let published_at = match status {
            ProductStatus::Published => current.published_at.or_else(|| Some(Utc::now())),
            ProductStatus::Draft => None,
        };
        let handle = handle.unwrap_or(current.handle);
        let product: Product = diesel::update(products::table.filter(products::id.eq(id)))
            .set((
                products::title.eq(title.unwrap_or(current.title)),
                products::handle.eq(&handle),
                products::description.eq(description.unwrap_or(current.description)),
                products::status.eq(status.as_str()),
                products::published_at.eq(published_at),
                products::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Product::as_returning())
            .get_result(conn)
            .await
            .map_err(|e| Failure::on_unique("products_handle_key", e, handle_taken(&handle)))?;
        let details = serde_json::json!({ "handle": product.handle, "status": product.status });
        cityos_db::audit::record(conn, &ctx, "product.update", "Product", Some(id), details)
            .await?;
        Ok(product)
    })
    .await
}

/// Loads visible products of `tenant` by id (the DataLoader's query).
pub async fn by_ids(
    db: &Database,
    tenant: Uuid,
    visibility: Visibility,
    ids: Vec<Uuid>,
) -> Result<Vec<Product>, ApiError> {
    db.tenant_tx(tenant, async move |conn| {
        let mut query = products::table
            .filter(products::id.eq_any(ids))
            .select(Product::as_select())
            .into_boxed();
        if visibility == Visibility::PublishedOnly {
            query = query.filter(products::status.eq("PUBLISHED"));
        }
        query.load(conn).await.map_err(ApiError::from)
    })
    .await
}

/// Finds a visible product of `tenant` by handle.
pub async fn by_handle(
    db: &Database,
    tenant: Uuid,
    visibility: Visibility,
    handle: String,
) -> Result<Option<Product>, ApiError> {
    db.tenant_tx(tenant, async move |conn| {
        let mut query = products::table
            .filter(products::handle.eq(handle))
            .select(Product::as_select())
            .into_boxed();
        if visibility == Visibility::PublishedOnly {
            query = query.filter(products::status.eq("PUBLISHED"));
        }
        query.first(conn).await.optional().map_err(ApiError::from)
    })
    .await
}

/// A page of the visible products of `tenant`, in creation order.
pub async fn list(
    db: &Database,
    tenant: Uuid,
    visibility: Visibility,
    page: PageRequest,
) -> Result<Page<Product>, ApiError> {
    db.tenant_tx(tenant, async move |conn| {
        Ok(list_in(conn, visibility, &page).await?)
    })
    .await
}

/// How many products `visibility` allows.
pub async fn count_in(conn: &mut AsyncPgConnection, visibility: Visibility) -> QueryResult<i64> {
    let mut query = products::table.count().into_boxed();
    if visibility == Visibility::PublishedOnly {
        query = query.filter(products::status.eq("PUBLISHED"));
    }
    query.get_result(conn).await
}

/// A page of the products `visibility` allows, oldest first, with their total count: one
/// statement on the caller's tenant-scoped connection.
pub async fn list_in(
    conn: &mut AsyncPgConnection,
    visibility: Visibility,
    page: &PageRequest,
) -> QueryResult<Page<Product>> {
    // The count is an uncorrelated subquery: evaluated once, in the same statement as the page.
    let (visible, count) = match visibility {
        Visibility::All => ("true", "(SELECT count(*) FROM catalog.products)"),
        Visibility::PublishedOnly => (
            "status = 'PUBLISHED'",
            "(SELECT count(*) FROM catalog.products WHERE status = 'PUBLISHED')",
        ),
    };
    let query = products::table
        .select((Product::as_select(), sql::<BigInt>(count)))
        .filter(sql::<Bool>(visible))
        .into_boxed();
    let rows: Vec<(Product, i64)> = cityos_db::keyset_page!(query, products::id, *page)
        .load(conn)
        .await?;
    let total = match <[_]>::first(&rows) {
        Some((_, total)) => *total,
        // An empty page past a cursor has no row to carry the count.
        None if page.after.is_some() || page.before.is_some() => count_in(conn, visibility).await?,
        None => 0,
    };
    let products = rows.into_iter().map(|(product, _)| product).collect();
    Ok(page.finish(products, |p| p.id, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_handles_are_checked() {
        assert_eq!(check_title("  Oud  ").unwrap(), "Oud");
        assert_eq!(check_title(" ").unwrap_err().code, Code::InvalidTitle);
        assert!(check_handle("oud-perfume-50ml").is_ok());
        for bad in [
            "",
            "Oud",
            "oud--perfume",
            "-oud",
            "oud-",
            "oud perfume",
            "عود",
        ] {
            assert_eq!(
                check_handle(bad).unwrap_err().code,
                Code::InvalidHandle,
                "{bad}"
            );
        }
    }
}
