//! Product media in GraphQL, and the `Vendor` entity the catalog extends with its products.

use crate::errors::CatalogUserError;
use crate::ids::{MediaId, ProductId};
use crate::products::media::{self, Media, NewMedia};
use async_graphql::{Context, ID, InputObject, Object, Result};
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

/// An image or video of a product.
#[Object(name = "ProductMedia")]
impl Media {
    /// The media item's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Where the file is (http or https).
    async fn url(&self) -> &str {
        &self.url
    }
    /// Text for screen readers and when the file cannot be shown.
    async fn alt_text(&self) -> &str {
        &self.alt_text
    }
    /// Its place in the product's media, from 0.
    async fn position(&self) -> i32 {
        self.position
    }
}

/// A media item to add to a product.
#[derive(InputObject)]
pub struct ProductMediaAddInput {
    /// The product.
    pub product_id: ProductId,
    /// Where the file is: an http(s) URL of at most 2,048 characters.
    pub url: String,
    /// Text for screen readers, at most 500 characters.
    pub alt_text: Option<String>,
    /// Where to insert it (0 is first); at the end when omitted.
    pub position: Option<i32>,
}

/// Changes to a media item; omitted fields stay as they are.
#[derive(InputObject)]
pub struct ProductMediaUpdateInput {
    /// The media item.
    pub id: MediaId,
    /// New alt text.
    pub alt_text: Option<String>,
    /// New place among the product's media (0 is first; past the end means last).
    pub position: Option<i32>,
}

cityos_core::payload! {
    /// The result of a media mutation: the product's media after it, in order.
    ProductMediaPayload<CatalogUserError> {
        /// The product's media in display order; null when refused.
        media: Vec<Media>,
    }
}

fn payload(outcome: crate::errors::Outcome<Vec<Media>>) -> Result<ProductMediaPayload> {
    Ok(ProductMediaPayload::of(outcome)?)
}

/// A media item to remove.
#[derive(InputObject)]
pub struct ProductMediaRemoveInput {
    /// The media item.
    pub id: MediaId,
}

/// Media mutations (staff, or the team of the vendor selling the product).
#[derive(Default)]
pub struct MediaMutation;

#[Object]
impl MediaMutation {
    /// Adds an image or video to a product (staff, or the team of the vendor selling it; at most
    /// 50 per product).
    async fn product_media_add(
        &self,
        ctx: &Context<'_>,
        input: ProductMediaAddInput,
    ) -> Result<ProductMediaPayload> {
        let new = NewMedia {
            product_id: input.product_id,
            url: input.url,
            alt_text: input.alt_text,
            position: input.position,
        };
        payload(media::add(ctx.db(), ctx.request()?, new).await)
    }

    /// Changes a media item's alt text or place (staff, or the team of the vendor selling the product, acting for it).
    async fn product_media_update(
        &self,
        ctx: &Context<'_>,
        input: ProductMediaUpdateInput,
    ) -> Result<ProductMediaPayload> {
        let id = input.id;
        let outcome =
            media::update(ctx.db(), ctx.request()?, id, input.alt_text, input.position).await;
        payload(outcome)
    }

    /// Removes a media item from its product (staff, or the team of the vendor selling the product, acting for it).
    async fn product_media_remove(
        &self,
        ctx: &Context<'_>,
        input: ProductMediaRemoveInput,
    ) -> Result<ProductMediaPayload> {
        payload(media::remove(ctx.db(), ctx.request()?, input.id).await)
    }
}
