//! Product media: images and videos by URL, with alt text, in display order. The product's card
//! carries them, so listings show them without another statement.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{MediaId, ProductId};
use crate::schema::product_media;
use chrono::{DateTime, Utc};
use cityos_core::{Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;

/// The most media items one product may have.
pub const MAX_MEDIA: i64 = 50;

/// A media item as stored.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = product_media, check_for_backend(diesel::pg::Pg))]
pub struct Media {
    pub id: MediaId,
    pub product_id: ProductId,
    pub url: String,
    pub alt_text: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

fn check_url(url: &str) -> Result<String, UserError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
        && url.len() <= 2048;
    if !ok {
        return Err(UserError::new(
            "url",
            Code::InvalidMedia,
            "url must be an http(s) URL of at most 2,048 characters",
        ));
    }
    Ok(url.to_owned())
}

fn check_alt(alt: &str) -> Result<String, UserError> {
    let alt = alt.trim();
    if alt.chars().count() > 500 {
        return Err(UserError::new(
            "altText",
            Code::InvalidMedia,
            "alt text has at most 500 characters",
        ));
    }
    Ok(alt.to_owned())
}

/// Locks the product (so media positions change one writer at a time) and returns its media ids
/// in display order.
async fn locked_order(tx: &mut TenantTx<'_>, product: ProductId) -> Outcome<Vec<MediaId>> {
    crate::products::lock_in(tx, product, "productId").await?;
    Ok(product_media::table
        .filter(product_media::product_id.eq(product))
        .order((product_media::position, product_media::id))
        .select(product_media::id)
        .load(tx.conn())
        .await?)
}

/// Writes `order` as positions 0, 1, 2, ... (one statement: one card rebuild).
async fn renumber(tx: &mut TenantTx<'_>, order: &[MediaId]) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE catalog.product_media m SET position = o.n - 1
         FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, n)
         WHERE m.id = o.id AND m.position <> o.n - 1",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(order)
    .execute(tx.conn())
    .await?;
    Ok(())
}

async fn media_of(tx: &mut TenantTx<'_>, product: ProductId) -> QueryResult<Vec<Media>> {
    product_media::table
        .filter(product_media::product_id.eq(product))
        .order((product_media::position, product_media::id))
        .select(Media::as_select())
        .load(tx.conn())
        .await
}

/// A media item to add.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub product_id: ProductId,
    pub url: String,
    pub alt_text: Option<String>,
    /// Where to insert it (0 is first); at the end when not given or past the end.
    pub position: Option<i32>,
}

/// Adds a media item to a product (staff); returns the product's media in order.
pub async fn add(db: &Database, ctx: &RequestContext, new: NewMedia) -> Outcome<Vec<Media>> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.media.add", async move |tx| {
        writer.product(tx, new.product_id, "productId").await?;
        let tenant = tx.tenant();
        let url = check_url(&new.url)?;
        let alt = check_alt(new.alt_text.as_deref().unwrap_or_default())?;
        if new.position.is_some_and(|p| p < 0) {
            return Err(UserError::new(
                "position",
                Code::InvalidMedia,
                "position cannot be negative",
            )
            .into());
        }
        let mut order = locked_order(tx, new.product_id).await?;
        if i64::try_from(order.len()).unwrap_or(i64::MAX) >= MAX_MEDIA {
            return Err(UserError::new(
                "productId",
                Code::InvalidMedia,
                format!("a product has at most {MAX_MEDIA} media items"),
            )
            .into());
        }
        let id = MediaId::new();
        let at = new
            .position
            .and_then(|p| usize::try_from(p).ok())
            .map_or(order.len(), |p| p.min(order.len()));
        diesel::insert_into(product_media::table)
            .values((
                product_media::tenant_id.eq(tenant),
                product_media::id.eq(id),
                product_media::product_id.eq(new.product_id),
                product_media::url.eq(&url),
                product_media::alt_text.eq(&alt),
                product_media::position.eq(i32::try_from(order.len()).unwrap_or(i32::MAX)),
            ))
            .execute(tx.conn())
            .await?;
        order.insert(at, id);
        renumber(tx, &order).await?;
        let audit = Audit::of(
            new.product_id,
            serde_json::json!({ "media": id, "url": url }),
        );
        Ok((media_of(tx, new.product_id).await?, audit))
    })
    .await
}

/// Changes a media item's alt text and/or position (staff); returns the product's media in order.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: MediaId,
    alt_text: Option<String>,
    position: Option<i32>,
) -> Outcome<Vec<Media>> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.media.update", async move |tx| {
        writer.media(tx, id).await?;
        let alt = alt_text.as_deref().map(check_alt).transpose()?;
        if position.is_some_and(|p| p < 0) {
            return Err(UserError::new(
                "position",
                Code::InvalidMedia,
                "position cannot be negative",
            )
            .into());
        }
        let product = product_of(tx, id).await?;
        let mut order = locked_order(tx, product).await?;
        if let Some(alt) = &alt {
            diesel::update(product_media::table.filter(product_media::id.eq(id)))
                .set(product_media::alt_text.eq(alt))
                .execute(tx.conn())
                .await?;
        }
        if let Some(p) = position.and_then(|p| usize::try_from(p).ok()) {
            order.retain(|m| *m != id);
            order.insert(p.min(order.len()), id);
            renumber(tx, &order).await?;
        }
        let audit = Audit::of(
            product,
            serde_json::json!({ "media": id, "position": position }),
        );
        Ok((media_of(tx, product).await?, audit))
    })
    .await
}

/// Removes a media item (staff); returns the product's remaining media in order.
pub async fn remove(db: &Database, ctx: &RequestContext, id: MediaId) -> Outcome<Vec<Media>> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.media.remove", async move |tx| {
        writer.media(tx, id).await?;
        let product = product_of(tx, id).await?;
        let mut order = locked_order(tx, product).await?;
        diesel::delete(product_media::table.filter(product_media::id.eq(id)))
            .execute(tx.conn())
            .await?;
        order.retain(|m| *m != id);
        renumber(tx, &order).await?;
        let audit = Audit::of(product, serde_json::json!({ "media": id }));
        Ok((media_of(tx, product).await?, audit))
    })
    .await
}

async fn product_of(tx: &mut TenantTx<'_>, media: MediaId) -> Outcome<ProductId> {
    product_media::table
        .filter(product_media::id.eq(media))
        .select(product_media::product_id)
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| Failure::User(UserError::new("id", Code::NotFound, "no such media item")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_alt_text_are_checked() {
        assert!(check_url(" https://cdn.example.com/oud.jpg ").is_ok());
        assert!(check_url("http://cdn.example.com/a").is_ok());
        for bad in [
            "",
            "ftp://x/y",
            "https://",
            "https://a b",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                check_url(bad).unwrap_err().code,
                Code::InvalidMedia,
                "{bad}"
            );
        }
        assert_eq!(
            check_url(&format!("https://x/{}", "a".repeat(2048)))
                .unwrap_err()
                .code,
            Code::InvalidMedia
        );
        assert!(check_alt(&"a".repeat(500)).is_ok());
        assert_eq!(
            check_alt(&"a".repeat(501)).unwrap_err().code,
            Code::InvalidMedia
        );
    }
}
