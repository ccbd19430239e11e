//! Wishlists: several named lists per customer, private or shared by an unguessable link token
//! (`wl_<tenant>_<256 random bits>`); staff see which products are wished for most.

pub mod graphql;

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{ProductId, TenantId, UserId, VariantId, WishlistId, WishlistItemId};
use crate::price_lists::check_name;
use crate::schema::{product_variants, products, wishlist_items, wishlists};
use chrono::{DateTime, Utc};
use cityos_auth::secret::{self, SecretKind};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// The most wishlists one customer may keep.
pub const MAX_LISTS: i64 = 20;
/// The most items one wishlist may hold.
pub const MAX_ITEMS: i64 = 500;

/// A wishlist as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = wishlists, check_for_backend(diesel::pg::Pg))]
pub struct Wishlist {
    pub id: WishlistId,
    pub customer_id: UserId,
    pub name: String,
    pub share_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An item of a wishlist: a product, or one variant of it.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = wishlist_items, check_for_backend(diesel::pg::Pg))]
pub struct Item {
    pub id: WishlistItemId,
    pub wishlist_id: WishlistId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub added_at: DateTime<Utc>,
}

fn owner(ctx: &RequestContext) -> Result<(TenantId, UserId), Failure<Code>> {
    ctx.require_any(&[Role::Customer])?;
    Ok((ctx.tenant()?.id, ctx.user_id()?))
}

fn not_found(field: &str) -> UserError {
    UserError::new(field, Code::NotFound, "no such wishlist")
}

/// The caller's wishlist `id`, locked (another customer's is "not found").
async fn own_list(
    tx: &mut TenantTx<'_>,
    id: WishlistId,
    customer: UserId,
    field: &str,
) -> Outcome<Wishlist> {
    wishlists::table
        .filter(wishlists::id.eq(id))
        .filter(wishlists::customer_id.eq(customer))
        .select(Wishlist::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| not_found(field).into())
}

fn name_taken(name: &str) -> impl FnOnce() -> UserError + '_ {
    move || {
        UserError::new(
            "name",
            Code::NameTaken,
            format!("you already have a wishlist named `{name}`"),
        )
    }
}

/// Creates a wishlist for the signed-in customer (private).
pub async fn create(db: &Database, ctx: &RequestContext, name: &str) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    let name = check_name(name)?;
    db.tenant_tx(tenant, async move |tx| {
        // Serialise one customer's creations so the limit holds under racing requests.
        cityos_db::lock_for_transaction(tx, "catalog.wishlists", customer).await?;
        let kept: i64 = wishlists::table
            .filter(wishlists::customer_id.eq(customer))
            .count()
            .get_result(tx.conn())
            .await?;
        if kept >= MAX_LISTS {
            return Err(UserError::new(
                "name",
                Code::InvalidCount,
                format!("a customer keeps at most {MAX_LISTS} wishlists"),
            )
            .into());
        }
        diesel::insert_into(wishlists::table)
            .values((
                wishlists::tenant_id.eq(tenant),
                wishlists::id.eq(WishlistId::new()),
                wishlists::customer_id.eq(customer),
                wishlists::name.eq(&name),
            ))
            .returning(Wishlist::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("wishlists_name_key", e, name_taken(&name)))
    })
    .await
}

/// Renames one of the caller's wishlists.
pub async fn rename(
    db: &Database,
    ctx: &RequestContext,
    id: WishlistId,
    name: &str,
) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    let name = check_name(name)?;
    db.tenant_tx(tenant, async move |tx| {
        own_list(tx, id, customer, "id").await?;
        diesel::update(wishlists::table.filter(wishlists::id.eq(id)))
            .set((
                wishlists::name.eq(&name),
                wishlists::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Wishlist::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("wishlists_name_key", e, name_taken(&name)))
    })
    .await
}

/// Shares one of the caller's wishlists under a new link token (an earlier link stops working),
/// or makes it private again (`shared: false`: the link stops working).
pub async fn share(
    db: &Database,
    ctx: &RequestContext,
    id: WishlistId,
    shared: bool,
) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    db.tenant_tx(tenant, async move |tx| {
        own_list(tx, id, customer, "id").await?;
        let token = shared.then(|| secret::generate(SecretKind::WishlistShare, tenant).token);
        Ok(
            diesel::update(wishlists::table.filter(wishlists::id.eq(id)))
                .set((
                    wishlists::share_token.eq(token),
                    wishlists::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Wishlist::as_returning())
                .get_result(tx.conn())
                .await?,
        )
    })
    .await
}

/// Deletes one of the caller's wishlists with its items.
pub async fn delete(db: &Database, ctx: &RequestContext, id: WishlistId) -> Outcome<WishlistId> {
    let (tenant, customer) = owner(ctx)?;
    db.tenant_tx(tenant, async move |tx| {
        own_list(tx, id, customer, "id").await?;
        diesel::delete(wishlists::table.filter(wishlists::id.eq(id)))
            .execute(tx.conn())
            .await?;
        Ok(id)
    })
    .await
}

/// Checks that the product is published and, when given, that the variant belongs to it.
async fn check_item(
    tx: &mut TenantTx<'_>,
    product: ProductId,
    variant: Option<VariantId>,
) -> Outcome<()> {
    let published: i64 = products::table
        .filter(products::id.eq(product))
        .filter(crate::products::listed())
        .count()
        .get_result(tx.conn())
        .await?;
    if published == 0 {
        return Err(UserError::new("productId", Code::NotFound, "no such product").into());
    }
    if let Some(variant) = variant {
        let of_product: i64 = product_variants::table
            .filter(product_variants::id.eq(variant))
            .filter(product_variants::product_id.eq(product))
            .count()
            .get_result(tx.conn())
            .await?;
        if of_product == 0 {
            return Err(UserError::new(
                "variantId",
                Code::NotFound,
                "no such variant of this product",
            )
            .into());
        }
    }
    Ok(())
}

async fn insert_item(
    tx: &mut TenantTx<'_>,
    list: WishlistId,
    product: ProductId,
    variant: Option<VariantId>,
) -> Outcome<()> {
    let tenant = tx.tenant();
    let held: i64 = wishlist_items::table
        .filter(wishlist_items::wishlist_id.eq(list))
        .count()
        .get_result(tx.conn())
        .await?;
    if held >= MAX_ITEMS {
        return Err(UserError::new(
            "wishlistId",
            Code::InvalidCount,
            format!("a wishlist holds at most {MAX_ITEMS} items"),
        )
        .into());
    }
    // Adding what is already there is not an error: the list already says so.
    diesel::insert_into(wishlist_items::table)
        .values((
            wishlist_items::tenant_id.eq(tenant),
            wishlist_items::id.eq(WishlistItemId::new()),
            wishlist_items::wishlist_id.eq(list),
            wishlist_items::product_id.eq(product),
            wishlist_items::variant_id.eq(variant),
        ))
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Adds a published product (or one of its variants) to one of the caller's wishlists.
pub async fn add_item(
    db: &Database,
    ctx: &RequestContext,
    list: WishlistId,
    product: ProductId,
    variant: Option<VariantId>,
) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    db.tenant_tx(tenant, async move |tx| {
        let wishlist = own_list(tx, list, customer, "wishlistId").await?;
        check_item(tx, product, variant).await?;
        insert_item(tx, list, product, variant).await?;
        Ok(wishlist)
    })
    .await
}

/// Removes an item from the caller's wishlist.
pub async fn remove_item(
    db: &Database,
    ctx: &RequestContext,
    item: WishlistItemId,
) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    db.tenant_tx(tenant, async move |tx| {
        let found = item_of(tx, item).await?;
        let wishlist = own_list(tx, found.wishlist_id, customer, "itemId").await?;
        diesel::delete(wishlist_items::table.filter(wishlist_items::id.eq(item)))
            .execute(tx.conn())
            .await?;
        Ok(wishlist)
    })
    .await
}

/// Moves an item to another of the caller's wishlists (merging with the same item there).
pub async fn move_item(
    db: &Database,
    ctx: &RequestContext,
    item: WishlistItemId,
    to: WishlistId,
) -> Outcome<Wishlist> {
    let (tenant, customer) = owner(ctx)?;
    db.tenant_tx(tenant, async move |tx| {
        let found = item_of(tx, item).await?;
        own_list(tx, found.wishlist_id, customer, "itemId").await?;
        let target = own_list(tx, to, customer, "toWishlistId").await?;
        if found.wishlist_id != to {
            diesel::delete(wishlist_items::table.filter(wishlist_items::id.eq(item)))
                .execute(tx.conn())
                .await?;
            insert_item(tx, to, found.product_id, found.variant_id).await?;
        }
        Ok(target)
    })
    .await
}

async fn item_of(tx: &mut TenantTx<'_>, item: WishlistItemId) -> Outcome<Item> {
    wishlist_items::table
        .filter(wishlist_items::id.eq(item))
        .select(Item::as_select())
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| UserError::new("itemId", Code::NotFound, "no such wishlist item").into())
}

/// The caller's wishlists, oldest first.
pub async fn of_customer(tx: &mut TenantTx<'_>, customer: UserId) -> QueryResult<Vec<Wishlist>> {
    wishlists::table
        .filter(wishlists::customer_id.eq(customer))
        .order(wishlists::id)
        .select(Wishlist::as_select())
        .load(tx.conn())
        .await
}

/// A shared wishlist by its link token (within the request's tenant).
pub async fn by_token(tx: &mut TenantTx<'_>, token: &str) -> QueryResult<Option<Wishlist>> {
    wishlists::table
        .filter(wishlists::share_token.eq(token))
        .select(Wishlist::as_select())
        .first(tx.conn())
        .await
        .optional()
}

/// The items of wishlists, by list, oldest first; only published products (a product withdrawn
/// since drops out of view without being removed).
pub async fn items_of(
    tx: &mut TenantTx<'_>,
    lists: &[WishlistId],
) -> QueryResult<HashMap<WishlistId, Vec<Item>>> {
    let rows: Vec<Item> = wishlist_items::table
        .inner_join(
            products::table.on(products::tenant_id
                .eq(wishlist_items::tenant_id)
                .and(products::id.eq(wishlist_items::product_id))),
        )
        .filter(wishlist_items::wishlist_id.eq_any(lists))
        .filter(crate::products::listed())
        .order(wishlist_items::id)
        .select(Item::as_select())
        .load(tx.conn())
        .await?;
    let mut by_list: HashMap<WishlistId, Vec<Item>> = HashMap::new();
    for item in rows {
        by_list.entry(item.wishlist_id).or_default().push(item);
    }
    Ok(by_list)
}

/// The products on the most wishlists (staff), with how many lists hold each, most first.
pub async fn most_wished(
    db: &Database,
    ctx: &RequestContext,
    limit: i64,
) -> Result<Vec<(ProductId, i64)>, ApiError> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    let limit = limit.clamp(1, 100);
    db.tenant_tx(tenant, async move |tx| {
        Ok(wishlist_items::table
            .group_by(wishlist_items::product_id)
            .select((
                wishlist_items::product_id,
                diesel::dsl::count(wishlist_items::wishlist_id).aggregate_distinct(),
            ))
            .order((
                diesel::dsl::count(wishlist_items::wishlist_id)
                    .aggregate_distinct()
                    .desc(),
                wishlist_items::product_id,
            ))
            .limit(limit)
            .load(tx.conn())
            .await?)
    })
    .await
}
