//! Collections: curated, ordered sets of products ("Ramadan gifts", "New arrivals").

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CollectionId, ProductId};
use crate::products::{check_handle, check_title};
use crate::schema::{collection_products, collections, products};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The most products one collection may hold.
pub const MAX_PRODUCTS: usize = 1000;

/// A collection as stored (read from a row, or from JSON of the row).
#[derive(Queryable, Selectable, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = collections, check_for_backend(diesel::pg::Pg))]
pub struct Collection {
    pub id: CollectionId,
    pub title: String,
    pub handle: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn handle_taken(handle: &str) -> impl FnOnce() -> UserError + '_ {
    move || {
        UserError::new(
            "handle",
            Code::HandleTaken,
            format!("another collection already has the handle `{handle}`"),
        )
    }
}

fn check_description(description: &str) -> Result<String, UserError> {
    if description.chars().count() > 10_000 {
        return Err(UserError::new(
            "description",
            Code::InvalidDescription,
            "a collection description has at most 10,000 characters",
        ));
    }
    Ok(description.to_owned())
}

/// Creates a collection (staff).
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    title: &str,
    handle: &str,
    description: Option<&str>,
) -> Outcome<Collection> {
    db.staff(ctx, "collection.create", async move |tx| {
        let title = check_title(title)?;
        let handle = check_handle(handle)?;
        let description = check_description(description.unwrap_or_default())?;
        let collection: Collection = diesel::insert_into(collections::table)
            .values((
                collections::tenant_id.eq(tx.tenant()),
                collections::id.eq(CollectionId::new()),
                collections::title.eq(&title),
                collections::handle.eq(&handle),
                collections::description.eq(&description),
            ))
            .returning(Collection::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("collections_handle_key", e, handle_taken(&handle)))?;
        let audit = Audit::of(collection.id, serde_json::json!({ "handle": handle }));
        Ok((collection, audit))
    })
    .await
}

/// Changes a collection's title, handle or description (staff); `None` keeps a field.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: CollectionId,
    title: Option<String>,
    handle: Option<String>,
    description: Option<String>,
) -> Outcome<Collection> {
    db.staff(ctx, "collection.update", async move |tx| {
        let title = title.as_deref().map(check_title).transpose()?;
        let handle = handle.as_deref().map(check_handle).transpose()?;
        let description = description.as_deref().map(check_description).transpose()?;
        let current = locked(tx, id).await?;
        let handle = handle.unwrap_or(current.handle);
        let collection: Collection =
            diesel::update(collections::table.filter(collections::id.eq(id)))
                .set((
                    collections::title.eq(title.unwrap_or(current.title)),
                    collections::handle.eq(&handle),
                    collections::description.eq(description.unwrap_or(current.description)),
                    collections::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Collection::as_returning())
                .get_result(tx.conn())
                .await
                .map_err(|e| {
                    Failure::on_unique("collections_handle_key", e, handle_taken(&handle))
                })?;
        Ok((
            collection,
            Audit::of(id, serde_json::json!({ "handle": handle })),
        ))
    })
    .await
}

/// Deletes a collection (staff); its products stay.
pub async fn delete(
    db: &Database,
    ctx: &RequestContext,
    id: CollectionId,
) -> Outcome<CollectionId> {
    db.staff(ctx, "collection.delete", async move |tx| {
        let current = locked(tx, id).await?;
        diesel::delete(collections::table.filter(collections::id.eq(id)))
            .execute(tx.conn())
            .await?;
        Ok((
            id,
            Audit::of(id, serde_json::json!({ "handle": current.handle })),
        ))
    })
    .await
}

async fn locked(tx: &mut TenantTx<'_>, id: CollectionId) -> Outcome<Collection> {
    collections::table
        .filter(collections::id.eq(id))
        .select(Collection::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| UserError::new("collectionId", Code::NotFound, "no such collection").into())
}

async fn members(tx: &mut TenantTx<'_>, id: CollectionId) -> QueryResult<Vec<ProductId>> {
    collection_products::table
        .filter(collection_products::collection_id.eq(id))
        .order((
            collection_products::position,
            collection_products::product_id,
        ))
        .select(collection_products::product_id)
        .load(tx.conn())
        .await
}

/// Writes the collection's order (positions 0, 1, 2, ...).
async fn write_order(
    tx: &mut TenantTx<'_>,
    id: CollectionId,
    order: &[ProductId],
) -> QueryResult<()> {
    let tenant = tx.tenant();
    diesel::delete(collection_products::table.filter(collection_products::collection_id.eq(id)))
        .execute(tx.conn())
        .await?;
    let rows: Vec<_> = order
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                collection_products::tenant_id.eq(tenant),
                collection_products::collection_id.eq(id),
                collection_products::product_id.eq(*p),
                collection_products::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(collection_products::table)
            .values(rows)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Puts products into a collection at `position` (0 is first; the end when `None`), in the order
/// given; products already in it move there (staff).
pub async fn add_products(
    db: &Database,
    ctx: &RequestContext,
    id: CollectionId,
    products_to_add: Vec<ProductId>,
    position: Option<i32>,
) -> Outcome<Collection> {
    db.staff(ctx, "collection.products.add", async move |tx| {
        if products_to_add.is_empty() || products_to_add.len() > MAX_PRODUCTS {
            return Err(UserError::new(
                "productIds",
                Code::InvalidCount,
                "give 1 to 1,000 products",
            )
            .into());
        }
        if position.is_some_and(|p| p < 0) {
            return Err(UserError::new(
                "position",
                Code::InvalidCount,
                "position cannot be negative",
            )
            .into());
        }
        let collection = locked(tx, id).await?;
        let mut adding: Vec<ProductId> = Vec::with_capacity(products_to_add.len());
        for p in &products_to_add {
            if !adding.contains(p) {
                adding.push(*p);
            }
        }
        let known: i64 = products::table
            .filter(products::id.eq_any(&adding))
            .count()
            .get_result(tx.conn())
            .await?;
        if usize::try_from(known).ok() != Some(adding.len()) {
            return Err(UserError::new("productIds", Code::NotFound, "no such product").into());
        }
        let mut order = members(tx, id).await?;
        order.retain(|p| !adding.contains(p));
        if order.len() + adding.len() > MAX_PRODUCTS {
            return Err(UserError::new(
                "productIds",
                Code::InvalidCount,
                "a collection holds at most 1,000 products",
            )
            .into());
        }
        let at = position
            .and_then(|p| usize::try_from(p).ok())
            .map_or(order.len(), |p| p.min(order.len()));
        order.splice(at..at, adding.iter().copied());
        write_order(tx, id, &order).await?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "products": adding, "position": at }),
        );
        Ok((collection, audit))
    })
    .await
}

/// Takes products out of a collection (staff).
pub async fn remove_products(
    db: &Database,
    ctx: &RequestContext,
    id: CollectionId,
    removing: Vec<ProductId>,
) -> Outcome<Collection> {
    db.staff(ctx, "collection.products.remove", async move |tx| {
        let collection = locked(tx, id).await?;
        let mut order = members(tx, id).await?;
        order.retain(|p| !removing.contains(p));
        write_order(tx, id, &order).await?;
        let audit = Audit::of(id, serde_json::json!({ "products": removing }));
        Ok((collection, audit))
    })
    .await
}

/// Collections by id.
pub async fn by_ids_in(
    tx: &mut TenantTx<'_>,
    ids: &[CollectionId],
) -> QueryResult<Vec<Collection>> {
    collections::table
        .filter(collections::id.eq_any(ids))
        .select(Collection::as_select())
        .load(tx.conn())
        .await
}

/// A collection by handle.
pub async fn by_handle(tx: &mut TenantTx<'_>, handle: &str) -> QueryResult<Option<Collection>> {
    collections::table
        .filter(collections::handle.eq(handle))
        .select(Collection::as_select())
        .first(tx.conn())
        .await
        .optional()
}

/// A page of the tenant's collections, oldest first.
pub async fn page(
    tx: &mut TenantTx<'_>,
    page: &PageRequest<CollectionId>,
) -> QueryResult<Page<Collection>> {
    cityos_db::table_page!(tx, collections::table, collections::id, Collection, *page)
}

/// The collections of products, by product (title order).
pub async fn of_products(
    tx: &mut TenantTx<'_>,
    ids: &[ProductId],
) -> QueryResult<HashMap<ProductId, Vec<Collection>>> {
    let rows: Vec<(ProductId, Collection)> = collection_products::table
        .inner_join(
            collections::table.on(collections::tenant_id
                .eq(collection_products::tenant_id)
                .and(collections::id.eq(collection_products::collection_id))),
        )
        .filter(collection_products::product_id.eq_any(ids))
        .order((collections::title, collections::id))
        .select((collection_products::product_id, Collection::as_select()))
        .load(tx.conn())
        .await?;
    let mut by_product: HashMap<ProductId, Vec<Collection>> = HashMap::new();
    for (product, collection) in rows {
        by_product.entry(product).or_default().push(collection);
    }
    Ok(by_product)
}
