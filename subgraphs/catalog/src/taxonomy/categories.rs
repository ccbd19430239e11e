//! Categories: a tree per tenant (at most 10 levels), and which categories a product is in.
//!
//! Each category stores its path (the ids of its ancestors and itself) as an `ltree`, so a subtree
//! or the ancestors are one indexed condition. Changes to the tree's shape (create, move, delete)
//! take the tenant's tree lock, so two concurrent moves cannot build a cycle between them.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CategoryId, ProductId, TenantId};
use crate::price_lists::check_name;
use crate::products::check_handle;
use crate::schema::product_categories;
use chrono::{DateTime, Utc};
use cityos_core::outcome::{is_constraint_violation, is_unique_violation};
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The deepest a category may sit (a root is at depth 1).
pub const MAX_DEPTH: i32 = 10;
/// The most categories one product may be in.
pub const MAX_PER_PRODUCT: usize = 20;

/// A category as read (from a row, or from JSON of the same columns).
#[derive(QueryableByName, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Category {
    #[diesel(sql_type = SqlUuid)]
    pub id: CategoryId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub parent_id: Option<CategoryId>,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub handle: String,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    /// 1 for a root, 2 for its children, ...
    #[diesel(sql_type = Integer)]
    pub depth: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The columns of [`Category`] from `catalog.categories c`.
macro_rules! category_columns {
    () => {
        "c.id, c.parent_id, c.name, c.handle, c.description, c.position,
         public.nlevel(c.path) AS depth, c.created_at, c.updated_at"
    };
}
pub(crate) use category_columns;

/// Serialises changes to the shape of one tenant's tree until the transaction ends.
async fn lock_tree(tx: &mut TenantTx<'_>, tenant: TenantId) -> QueryResult<()> {
    cityos_db::lock_for_transaction(tx, "catalog.categories", tenant).await
}

fn handle_taken(handle: &str) -> UserError {
    UserError::new(
        "handle",
        Code::HandleTaken,
        format!("another category already has the handle `{handle}`"),
    )
}

fn bad_parent(message: &str) -> UserError {
    UserError::new("parentId", Code::InvalidParent, message)
}

fn check_description(description: &str) -> Result<String, UserError> {
    if description.chars().count() > 10_000 {
        return Err(UserError::new(
            "description",
            Code::InvalidDescription,
            "a category description has at most 10,000 characters",
        ));
    }
    Ok(description.to_owned())
}

/// Maps the database's refusals of a category write to user errors.
fn refusal(handle: &str, error: diesel::result::Error) -> Failure<Code> {
    if is_unique_violation(&error, "categories_handle_key") {
        handle_taken(handle).into()
    } else if is_constraint_violation(&error, "categories_depth") {
        bad_parent("the tree would be deeper than 10 levels").into()
    } else if is_constraint_violation(&error, "categories_tenant_id_parent_id_fkey") {
        bad_parent("no such parent category").into()
    } else {
        error.into()
    }
}

/// Finds categories by id on the caller's connection.
pub async fn by_ids_in(tx: &mut TenantTx<'_>, ids: &[CategoryId]) -> QueryResult<Vec<Category>> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c WHERE c.id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await
}

async fn one(tx: &mut TenantTx<'_>, id: CategoryId, field: &str) -> Outcome<Category> {
    by_ids_in(tx, &[id])
        .await?
        .pop()
        .ok_or_else(|| UserError::new(field, Code::NotFound, "no such category").into())
}

/// A category to create.
#[derive(Debug, Clone, Default)]
pub struct NewCategory {
    pub name: String,
    pub handle: String,
    pub description: Option<String>,
    /// Its parent; a root when `None`.
    pub parent_id: Option<CategoryId>,
}

/// Creates a category, last among its siblings (staff).
pub async fn create(db: &Database, ctx: &RequestContext, new: NewCategory) -> Outcome<Category> {
    db.staff(ctx, "category.create", async move |tx| {
        let tenant = tx.tenant();
        let name = check_name(&new.name)?;
        let handle = check_handle(&new.handle)?;
        let description = check_description(new.description.as_deref().unwrap_or_default())?;
        lock_tree(tx, tenant).await?;
        if let Some(parent) = new.parent_id {
            one(tx, parent, "parentId").await.map_err(|_| bad_parent("no such parent category"))?;
        }
        let id = CategoryId::new();
        Prepared(
            diesel::sql_query(
                "INSERT INTO catalog.categories (tenant_id, id, parent_id, path, name, handle, description, position)
                 SELECT $1, $2, $3,
                        coalesce((SELECT p.path FROM catalog.categories p WHERE p.id = $3), ''::public.ltree)
                            || replace($2::text, '-', '')::public.ltree,
                        $4, $5, $6,
                        (SELECT coalesce(max(s.position) + 1, 0) FROM catalog.categories s
                         WHERE s.parent_id IS NOT DISTINCT FROM $3)",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<SqlUuid>, _>(new.parent_id)
            .bind::<Text, _>(&name)
            .bind::<Text, _>(&handle)
            .bind::<Text, _>(&description),
        )
        .execute(tx.conn())
        .await
        .map_err(|e| refusal(&handle, e))?;
        let details = serde_json::json!({ "handle": handle, "parent": new.parent_id });
        let audit = Audit::of(id, details);
        Ok((one(tx, id, "id").await?, audit))
    })
    .await
}

/// Changes to a category's name, handle, description or place among its siblings.
#[derive(Debug, Clone, Default)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub position: Option<i32>,
}

/// Changes a category (staff). Moving it elsewhere in the tree is [`move_to`].
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: CategoryId,
    changes: CategoryChanges,
) -> Outcome<Category> {
    db.staff(ctx, "category.update", async move |tx| {
        let name = changes.name.as_deref().map(check_name).transpose()?;
        let handle = changes.handle.as_deref().map(check_handle).transpose()?;
        let description = changes
            .description
            .as_deref()
            .map(check_description)
            .transpose()?;
        if changes.position.is_some_and(|p| p < 0) {
            return Err(UserError::new(
                "position",
                Code::InvalidCount,
                "position cannot be negative",
            )
            .into());
        }
        let current = one(tx, id, "id").await?;
        let handle = handle.unwrap_or(current.handle);
        Prepared(
            diesel::sql_query(
                "UPDATE catalog.categories SET name = $2, handle = $3, description = $4, position = $5,
                     updated_at = now()
                 WHERE id = $1",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(name.unwrap_or(current.name))
            .bind::<Text, _>(&handle)
            .bind::<Text, _>(description.unwrap_or(current.description))
            .bind::<Integer, _>(changes.position.unwrap_or(current.position)),
        )
        .execute(tx.conn())
        .await
        .map_err(|e| refusal(&handle, e))?;
        let audit = Audit::of(id, serde_json::json!({ "handle": handle }));
        Ok((one(tx, id, "id").await?, audit))
    })
    .await
}

#[derive(QueryableByName)]
struct PathRow {
    #[diesel(sql_type = Text)]
    path: String,
}

async fn path_of(tx: &mut TenantTx<'_>, id: CategoryId) -> QueryResult<Option<String>> {
    let rows: Vec<PathRow> = Prepared(
        diesel::sql_query("SELECT path::text AS path FROM catalog.categories WHERE id = $1")
            .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().next().map(|r| r.path))
}

/// Moves a category and its whole subtree under `parent` (a root when `None`), last among its new
/// siblings (staff). A category cannot move under itself or its descendants.
pub async fn move_to(
    db: &Database,
    ctx: &RequestContext,
    id: CategoryId,
    parent: Option<CategoryId>,
) -> Outcome<Category> {
    db.staff(ctx, "category.move", async move |tx| {
        let tenant = tx.tenant();
        lock_tree(tx, tenant).await?;
        let old = path_of(tx, id)
            .await?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such category"))?;
        let prefix = match parent {
            None => String::new(),
            Some(parent) => {
                let path = path_of(tx, parent)
                    .await?
                    .ok_or_else(|| bad_parent("no such parent category"))?;
                // The subtree of `old` contains `old` itself: that rules out both cycles.
                if path == old || path.starts_with(&format!("{old}.")) {
                    return Err(bad_parent("a category cannot move under itself or its descendants").into());
                }
                path
            }
        };
        let moved = Prepared(
            diesel::sql_query(
                "UPDATE catalog.categories c
                 SET path = $3::public.ltree || public.subpath(c.path, public.nlevel($2::public.ltree) - 1),
                     parent_id = CASE WHEN c.id = $1 THEN $4 ELSE c.parent_id END,
                     position = CASE WHEN c.id = $1
                         THEN (SELECT coalesce(max(s.position) + 1, 0) FROM catalog.categories s
                               WHERE s.parent_id IS NOT DISTINCT FROM $4 AND s.id <> $1)
                         ELSE c.position END,
                     updated_at = now()
                 WHERE c.path <@ $2::public.ltree",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(&old)
            .bind::<Text, _>(&prefix)
            .bind::<Nullable<SqlUuid>, _>(parent),
        )
        .execute(tx.conn())
        .await
        .map_err(|e| refusal("", e))?;
        let details = serde_json::json!({ "parent": parent, "moved": moved });
        let audit = Audit::of(id, details);
        Ok((one(tx, id, "id").await?, audit))
    })
    .await
}

/// Deletes a category without subcategories (staff); its products leave it.
pub async fn delete(db: &Database, ctx: &RequestContext, id: CategoryId) -> Outcome<CategoryId> {
    db.staff(ctx, "category.delete", async move |tx| {
        let tenant = tx.tenant();
        lock_tree(tx, tenant).await?;
        let category = one(tx, id, "id").await?;
        if !children(tx, Some(id)).await?.is_empty() {
            return Err(UserError::new(
                "id",
                Code::CategoryNotEmpty,
                "move or delete its subcategories first",
            )
            .into());
        }
        Prepared(
            diesel::sql_query("DELETE FROM catalog.categories WHERE id = $1")
                .bind::<SqlUuid, _>(id),
        )
        .execute(tx.conn())
        .await?;
        let audit = Audit::of(id, serde_json::json!({ "handle": category.handle }));
        Ok((id, audit))
    })
    .await
}

/// The children of `parent` (the roots when `None`), in position order.
pub async fn children(
    tx: &mut TenantTx<'_>,
    parent: Option<CategoryId>,
) -> QueryResult<Vec<Category>> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c WHERE c.parent_id IS NOT DISTINCT FROM $1
              ORDER BY c.position, c.id"
        ))
        .bind::<Nullable<SqlUuid>, _>(parent),
    )
    .load(tx.conn())
    .await
}

/// The children of several categories, by parent, each in position order.
pub async fn children_of(
    tx: &mut TenantTx<'_>,
    parents: &[CategoryId],
) -> QueryResult<HashMap<CategoryId, Vec<Category>>> {
    let rows: Vec<Category> = Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c WHERE c.parent_id = ANY ($1) ORDER BY c.position, c.id"
        ))
        .bind::<Array<SqlUuid>, _>(parents),
    )
    .load(tx.conn())
    .await?;
    let mut by_parent: HashMap<CategoryId, Vec<Category>> = HashMap::new();
    for c in rows {
        if let Some(parent) = c.parent_id {
            by_parent.entry(parent).or_default().push(c);
        }
    }
    Ok(by_parent)
}

/// The ancestors of a category, root first (without the category).
pub async fn ancestors(tx: &mut TenantTx<'_>, id: CategoryId) -> QueryResult<Vec<Category>> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c, catalog.categories me
              WHERE me.id = $1 AND c.path @> me.path AND c.id <> me.id
              ORDER BY public.nlevel(c.path)"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await
}

/// The descendants of a category, depth first in position order (without the category).
pub async fn descendants(tx: &mut TenantTx<'_>, id: CategoryId) -> QueryResult<Vec<Category>> {
    let mut found: Vec<Category> = Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c, catalog.categories me
              WHERE me.id = $1 AND c.path <@ me.path AND c.id <> me.id"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .load(tx.conn())
    .await?;
    // Depth first: each child right after its parent, siblings by position.
    let mut by_parent: HashMap<Option<CategoryId>, Vec<Category>> = HashMap::new();
    for c in found.drain(..) {
        by_parent.entry(c.parent_id).or_default().push(c);
    }
    for siblings in by_parent.values_mut() {
        siblings.sort_by_key(|c| (c.position, c.id));
    }
    let mut ordered = Vec::new();
    let mut stack: Vec<Category> = by_parent.remove(&Some(id)).unwrap_or_default();
    stack.reverse();
    while let Some(c) = stack.pop() {
        let mut kids = by_parent.remove(&Some(c.id)).unwrap_or_default();
        kids.reverse();
        ordered.push(c);
        stack.extend(kids);
    }
    Ok(ordered)
}

/// Finds a category by handle.
pub async fn by_handle(tx: &mut TenantTx<'_>, handle: &str) -> QueryResult<Option<Category>> {
    let rows: Vec<Category> = Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM catalog.categories c WHERE c.handle = $1"
        ))
        .bind::<Text, _>(handle),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().next())
}

/// Puts a product in exactly `categories` (staff): the product leaves the others.
pub async fn set_for_product(
    db: &Database,
    ctx: &RequestContext,
    product: ProductId,
    categories: Vec<CategoryId>,
) -> Outcome<Vec<Category>> {
    let writer = crate::products::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.categories.set", async move |tx| {
        writer.product(tx, product, "productId").await?;
        let tenant = tx.tenant();
        let mut wanted: Vec<CategoryId> = Vec::with_capacity(categories.len());
        for c in categories {
            if !wanted.contains(&c) {
                wanted.push(c);
            }
        }
        if wanted.len() > MAX_PER_PRODUCT {
            return Err(UserError::new(
                "categoryIds",
                Code::InvalidCount,
                format!("a product is in at most {MAX_PER_PRODUCT} categories"),
            )
            .into());
        }
        crate::products::lock_in(tx, product, "productId").await?;
        if by_ids_in(tx, &wanted).await?.len() != wanted.len() {
            return Err(UserError::new("categoryIds", Code::NotFound, "no such category").into());
        }
        diesel::delete(
            product_categories::table.filter(product_categories::product_id.eq(product)),
        )
        .execute(tx.conn())
        .await?;
        let rows: Vec<_> = wanted
            .iter()
            .map(|c| {
                (
                    product_categories::tenant_id.eq(tenant),
                    product_categories::product_id.eq(product),
                    product_categories::category_id.eq(*c),
                )
            })
            .collect();
        diesel::insert_into(product_categories::table)
            .values(rows)
            .execute(tx.conn())
            .await?;
        let details = serde_json::json!({ "categories": wanted });
        let audit = Audit::of(product, details);
        Ok((
            of_products(tx, &[product])
                .await?
                .remove(&product)
                .unwrap_or_default(),
            audit,
        ))
    })
    .await
}

#[derive(QueryableByName)]
struct Membership {
    #[diesel(sql_type = SqlUuid)]
    product_id: ProductId,
    #[diesel(embed)]
    category: Category,
}

/// The categories of products, by product (name order).
pub async fn of_products(
    tx: &mut TenantTx<'_>,
    products: &[ProductId],
) -> QueryResult<HashMap<ProductId, Vec<Category>>> {
    let rows: Vec<Membership> = Prepared(
        diesel::sql_query(concat!(
            "SELECT pc.product_id, ",
            category_columns!(),
            " FROM catalog.product_categories pc
              JOIN catalog.categories c ON c.tenant_id = pc.tenant_id AND c.id = pc.category_id
              WHERE pc.product_id = ANY ($1) ORDER BY c.name, c.id"
        ))
        .bind::<Array<SqlUuid>, _>(products),
    )
    .load(tx.conn())
    .await?;
    let mut by_product: HashMap<ProductId, Vec<Category>> = HashMap::new();
    for row in rows {
        by_product
            .entry(row.product_id)
            .or_default()
            .push(row.category);
    }
    Ok(by_product)
}
