//! Wishlists in GraphQL.

use crate::errors::CatalogUserError;
use crate::ids::{ProductId, VariantId, WishlistId, WishlistItemId};
use crate::products::Product;
use crate::products::variants::PricedVariant;
use crate::scope::{CatalogLoader, ItemsOf, every};
use crate::wishlists::{self, Item, Wishlist};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

/// A customer's named list of products they want.
#[Object]
impl Wishlist {
    /// The wishlist's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name, unique among the customer's lists.
    async fn name(&self) -> &str {
        &self.name
    }
    /// Whether anyone with the link may read it.
    async fn shared(&self) -> bool {
        self.share_token.is_some()
    }
    /// The link token while shared (its owner only); `wishlistByToken` reads the list with it.
    async fn share_token(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let owner = ctx.request()?.user_id().ok() == Some(self.customer_id);
        Ok(self.share_token.as_deref().filter(|_| owner))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Its items, oldest first (products withdrawn from sale drop out of view).
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<Item>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(ItemsOf(self.id))
            .await?
            .unwrap_or_default())
    }
}

/// A product on a wishlist, or one variant of it.
#[Object(name = "WishlistItem")]
impl Item {
    /// The item's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// When it was added.
    async fn added_at(&self) -> DateTime<Utc> {
        self.added_at
    }
    /// The product.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(self.product_id)
            .await?)
    }
    /// The variant wanted, when one was chosen.
    async fn variant(&self, ctx: &Context<'_>) -> Result<Option<PricedVariant>> {
        match self.variant_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<CatalogLoader>()?.load_one(id).await?),
        }
    }
}

/// A product and how many wishlists hold it.
#[derive(SimpleObject)]
pub struct WishedProduct {
    /// The product.
    pub product: Option<Product>,
    /// Wishlists holding it.
    pub wishlists: i64,
}

/// Wishlist queries.
#[derive(Default)]
pub struct WishlistQuery;

#[Object]
impl WishlistQuery {
    /// The signed-in customer's wishlists, oldest first.
    async fn my_wishlists(&self, ctx: &Context<'_>) -> Result<Vec<Wishlist>> {
        let rc = ctx.request()?;
        let (tenant, customer) = (rc.tenant()?.id, rc.user_id()?);
        Ok(ctx
            .db()
            .tenant_tx(tenant, async move |tx| {
                Ok::<_, ApiError>(wishlists::of_customer(tx, customer).await?)
            })
            .await?)
    }

    /// A shared wishlist, read with its link token; null when the token is unknown or the list
    /// is no longer shared.
    async fn wishlist_by_token(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<Option<Wishlist>> {
        let tenant = ctx.request()?.tenant()?.id;
        Ok(ctx
            .db()
            .tenant_tx(tenant, async move |tx| {
                Ok::<_, ApiError>(wishlists::by_token(tx, &token).await?)
            })
            .await?)
    }

    /// The products on the most wishlists, most first (staff; at most 100).
    async fn most_wished_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: i32,
    ) -> Result<Vec<WishedProduct>> {
        let found = wishlists::most_wished(ctx.db(), ctx.request()?, i64::from(first)).await?;
        let products = ctx
            .loader::<CatalogLoader>()?
            .load_many(found.iter().map(|(id, _)| *id))
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, wishlists)| WishedProduct {
                product: products.get(&id).cloned(),
                wishlists,
            })
            .collect())
    }
}

cityos_core::payload! {
    /// The result of a wishlist mutation.
    WishlistPayload<CatalogUserError> {
        /// The wishlist as it is now; null when refused.
        wishlist: Wishlist,
    }
}

cityos_core::payload! {
    /// The result of `wishlistDelete`.
    WishlistDeletePayload<CatalogUserError> {
        /// The deleted wishlist's id; null when refused.
        deleted_id: ID,
    }
}

/// The payload of a wishlist mutation.
fn payload(outcome: crate::errors::Outcome<Wishlist>) -> Result<WishlistPayload> {
    Ok(WishlistPayload::of(outcome)?)
}

/// A new wishlist.
#[derive(InputObject)]
pub struct WishlistCreateInput {
    /// Its name, 1 to 100 characters, unique among your lists.
    pub name: String,
}

/// A new name for a wishlist.
#[derive(InputObject)]
pub struct WishlistRenameInput {
    /// The wishlist.
    pub id: WishlistId,
    /// The new name.
    pub name: String,
}

/// Sharing a wishlist, or not.
#[derive(InputObject)]
pub struct WishlistShareInput {
    /// The wishlist.
    pub id: WishlistId,
    /// true: share under a new link token; false: make it private.
    pub shared: bool,
}

/// A wishlist to delete.
#[derive(InputObject)]
pub struct WishlistDeleteInput {
    /// The wishlist.
    pub id: WishlistId,
}

/// A product to put on a wishlist.
#[derive(InputObject)]
pub struct WishlistItemAddInput {
    /// The wishlist.
    pub wishlist_id: WishlistId,
    /// The product (published).
    pub product_id: ProductId,
    /// One of its variants, when a particular one is wanted.
    pub variant_id: Option<VariantId>,
}

/// An item to take off its wishlist.
#[derive(InputObject)]
pub struct WishlistItemRemoveInput {
    /// The item.
    pub item_id: WishlistItemId,
}

/// An item to move to another wishlist.
#[derive(InputObject)]
pub struct WishlistItemMoveInput {
    /// The item.
    pub item_id: WishlistItemId,
    /// The wishlist to move it to.
    pub to_wishlist_id: WishlistId,
}

/// Wishlist mutations (the signed-in customer's own lists).
#[derive(Default)]
pub struct WishlistMutation;

#[Object]
impl WishlistMutation {
    /// Creates a private wishlist (at most 20 per customer).
    async fn wishlist_create(
        &self,
        ctx: &Context<'_>,
        input: WishlistCreateInput,
    ) -> Result<WishlistPayload> {
        payload(wishlists::create(ctx.db(), ctx.request()?, &input.name).await)
    }

    /// Renames a wishlist.
    async fn wishlist_rename(
        &self,
        ctx: &Context<'_>,
        input: WishlistRenameInput,
    ) -> Result<WishlistPayload> {
        payload(wishlists::rename(ctx.db(), ctx.request()?, input.id, &input.name).await)
    }

    /// Shares a wishlist under a new link token (`shared: true`; an earlier link stops working) or
    /// makes it private again (`shared: false`).
    async fn wishlist_share(
        &self,
        ctx: &Context<'_>,
        input: WishlistShareInput,
    ) -> Result<WishlistPayload> {
        payload(wishlists::share(ctx.db(), ctx.request()?, input.id, input.shared).await)
    }

    /// Deletes a wishlist and its items.
    async fn wishlist_delete(
        &self,
        ctx: &Context<'_>,
        input: WishlistDeleteInput,
    ) -> Result<WishlistDeletePayload> {
        Ok(WishlistDeletePayload::of(
            wishlists::delete(ctx.db(), ctx.request()?, input.id)
                .await
                .map(to_id),
        )?)
    }

    /// Adds a published product, or one of its variants, to a wishlist (at most 500 items; adding
    /// what is there already changes nothing).
    async fn wishlist_item_add(
        &self,
        ctx: &Context<'_>,
        input: WishlistItemAddInput,
    ) -> Result<WishlistPayload> {
        let outcome = wishlists::add_item(
            ctx.db(),
            ctx.request()?,
            input.wishlist_id,
            input.product_id,
            input.variant_id,
        )
        .await;
        payload(outcome)
    }

    /// Removes an item from its wishlist.
    async fn wishlist_item_remove(
        &self,
        ctx: &Context<'_>,
        input: WishlistItemRemoveInput,
    ) -> Result<WishlistPayload> {
        payload(wishlists::remove_item(ctx.db(), ctx.request()?, input.item_id).await)
    }

    /// Moves an item to another of the customer's wishlists.
    async fn wishlist_item_move(
        &self,
        ctx: &Context<'_>,
        input: WishlistItemMoveInput,
    ) -> Result<WishlistPayload> {
        let outcome = wishlists::move_item(
            ctx.db(),
            ctx.request()?,
            input.item_id,
            input.to_wishlist_id,
        )
        .await;
        payload(outcome)
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
