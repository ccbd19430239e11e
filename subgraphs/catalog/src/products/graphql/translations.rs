//! Product translations in GraphQL.

use crate::errors::CatalogUserError;
use crate::ids::ProductId;
use crate::products::Product;
use crate::products::translations::{self, Translation};
use crate::scope::{CatalogLoader, TranslationsOf, every};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

pub(super) async fn of(ctx: &Context<'_>, product: &Product) -> Result<Vec<Translation>> {
    Ok(ctx
        .loader::<CatalogLoader>()?
        .load_one(TranslationsOf(product.id))
        .await?
        .unwrap_or_default())
}

/// A product's title and description in one locale other than the tenant's default.
#[Object(name = "ProductTranslation")]
impl Translation {
    /// The language tag (`en`, `en-GB`).
    async fn locale(&self) -> &str {
        &self.locale
    }
    /// The title in that locale.
    async fn title(&self) -> &str {
        &self.title
    }
    /// The description in that locale.
    async fn description(&self) -> &str {
        &self.description
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// A translation to set.
#[derive(InputObject)]
pub struct ProductTranslationSetInput {
    /// The product.
    pub product_id: ProductId,
    /// A language tag like `en` or `en-GB`, not the tenant's default locale.
    pub locale: String,
    /// The title in that locale, 1 to 255 characters.
    pub title: String,
    /// The description in that locale.
    pub description: Option<String>,
}

cityos_core::payload! {
    /// The result of `productTranslationSet`.
    ProductTranslationPayload<CatalogUserError> {
        /// The translation as saved; null when refused.
        translation: Translation,
    }
}

cityos_core::payload! {
    /// The result of `productTranslationRemove`.
    ProductTranslationRemovePayload<CatalogUserError> {
        /// Whether there was a translation to remove; null when refused.
        removed: bool,
    }
}

/// A translation to remove.
#[derive(InputObject)]
pub struct ProductTranslationRemoveInput {
    /// The product.
    pub product_id: ProductId,
    /// The locale of the translation.
    pub locale: String,
}

/// Translation mutations (staff, audited).
#[derive(Default)]
pub struct TranslationMutation;

#[Object]
impl TranslationMutation {
    /// Sets a product's title and description in a locale other than the tenant's default.
    async fn product_translation_set(
        &self,
        ctx: &Context<'_>,
        input: ProductTranslationSetInput,
    ) -> Result<ProductTranslationPayload> {
        let outcome = translations::set(
            ctx.db(),
            ctx.request()?,
            input.product_id,
            &input.locale,
            &input.title,
            input.description.as_deref(),
        )
        .await;
        Ok(ProductTranslationPayload::of(outcome)?)
    }

    /// Removes a product's translation in a locale; requests in it then read the default text.
    async fn product_translation_remove(
        &self,
        ctx: &Context<'_>,
        input: ProductTranslationRemoveInput,
    ) -> Result<ProductTranslationRemovePayload> {
        let outcome =
            translations::remove(ctx.db(), ctx.request()?, input.product_id, &input.locale).await;
        Ok(ProductTranslationRemovePayload::of(outcome)?)
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
