//! Product titles and descriptions in other locales. A product's own title and description are in
//! the tenant's default locale; a request in another locale (its `accept-language`) reads the
//! translation for that locale, else for its language (`ar` for `ar-SA`), else the product's own.

use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::ProductId;
use crate::products::{Product, check_title};
use crate::schema::product_translations;
use chrono::{DateTime, Utc};
use cityos_core::RequestContext;
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// A translation as stored.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = product_translations, check_for_backend(diesel::pg::Pg))]
pub struct Translation {
    pub product_id: ProductId,
    pub locale: String,
    pub title: String,
    pub description: String,
    pub updated_at: DateTime<Utc>,
}

/// Normalises a BCP 47 language tag to `ll` or `ll-RR` (`AR-sa` -> `ar-SA`); `None` when it is not
/// of that shape.
pub fn normalize(tag: &str) -> Option<String> {
    let mut parts = tag.trim().split(['-', '_']);
    let language = parts.next()?.to_ascii_lowercase();
    let region = parts.next().map(str::to_ascii_uppercase);
    let ok = (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region
            .as_ref()
            .is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
        && parts.next().is_none();
    ok.then(|| match region {
        Some(region) => format!("{language}-{region}"),
        None => language,
    })
}

/// The translations a request reads, best first: its locale, then that locale's language; neither
/// when it is the tenant's default (whose text is the product's own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub exact: Option<String>,
    pub language: Option<String>,
}

impl Wanted {
    /// What the request's locale asks for.
    pub fn of(ctx: &RequestContext) -> Self {
        let default = ctx
            .tenant
            .as_ref()
            .and_then(|t| normalize(&t.default_locale));
        let Some(exact) = ctx.locale.as_deref().and_then(normalize) else {
            return Self::default();
        };
        let language = exact.split('-').next().map(str::to_owned);
        let keep = |l: Option<String>| l.filter(|l| Some(l) != default.as_ref());
        Self {
            language: keep(language.filter(|l| *l != exact)),
            exact: keep(Some(exact)),
        }
    }

    /// Whether the request reads a translation at all.
    pub fn any(&self) -> bool {
        self.exact.is_some() || self.language.is_some()
    }
}

/// Puts the best translation wanted into `products`' titles and descriptions (one statement).
pub async fn localize(
    tx: &mut TenantTx<'_>,
    products: &mut [Product],
    wanted: &Wanted,
) -> QueryResult<()> {
    if !wanted.any() || products.is_empty() {
        return Ok(());
    }
    let ids: Vec<ProductId> = products.iter().map(|p| p.id).collect();
    let locales: Vec<&String> = wanted.exact.iter().chain(wanted.language.iter()).collect();
    let found: Vec<Translation> = product_translations::table
        .filter(product_translations::product_id.eq_any(&ids))
        .filter(product_translations::locale.eq_any(locales))
        .select(Translation::as_select())
        .load(tx.conn())
        .await?;
    for product in products.iter_mut() {
        let best = found
            .iter()
            .filter(|t| t.product_id == product.id)
            .min_by_key(|t| Some(&t.locale) != wanted.exact.as_ref());
        if let Some(t) = best {
            apply(product, t.title.clone(), t.description.clone());
        }
    }
    Ok(())
}

/// Shows a translation in place of the product's own text.
pub fn apply(product: &mut Product, title: String, description: String) {
    product.title = title;
    product.description = description;
}

/// Every translation of products, by product (locale order).
pub async fn of_products(
    tx: &mut TenantTx<'_>,
    ids: &[ProductId],
) -> QueryResult<HashMap<ProductId, Vec<Translation>>> {
    let rows: Vec<Translation> = product_translations::table
        .filter(product_translations::product_id.eq_any(ids))
        .order((
            product_translations::product_id,
            product_translations::locale,
        ))
        .select(Translation::as_select())
        .load(tx.conn())
        .await?;
    let mut by_product: HashMap<ProductId, Vec<Translation>> = HashMap::new();
    for t in rows {
        by_product.entry(t.product_id).or_default().push(t);
    }
    Ok(by_product)
}

fn check_locale(locale: &str, ctx: &RequestContext) -> Result<String, UserError> {
    let bad = |message: String| UserError::new("locale", Code::InvalidLocale, message);
    let locale = normalize(locale).ok_or_else(|| {
        bad(format!(
            "`{locale}` is not a language tag like `en` or `en-GB`"
        ))
    })?;
    let default = ctx.tenant().ok().and_then(|t| normalize(&t.default_locale));
    if default.as_ref() == Some(&locale) {
        return Err(bad(format!(
            "`{locale}` is the tenant's default locale: change the product's own title and description"
        )));
    }
    Ok(locale)
}

/// Sets a product's title and description in `locale` (staff).
pub async fn set(
    db: &Database,
    ctx: &RequestContext,
    product: ProductId,
    locale: &str,
    title: &str,
    description: Option<&str>,
) -> Outcome<Translation> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.translation.set", async move |tx| {
        writer.product(tx, product, "productId").await?;
        let tenant = tx.tenant();
        let locale = check_locale(locale, ctx)?;
        let title = check_title(title)?;
        let description = description.unwrap_or_default().to_owned();
        if description.chars().count() > 100_000 {
            return Err(UserError::new(
                "description",
                Code::InvalidDescription,
                "description must have at most 100,000 characters",
            )
            .into());
        }
        crate::products::lock_in(tx, product, "productId").await?;
        let saved: Translation = diesel::insert_into(product_translations::table)
            .values((
                product_translations::tenant_id.eq(tenant),
                product_translations::product_id.eq(product),
                product_translations::locale.eq(&locale),
                product_translations::title.eq(&title),
                product_translations::description.eq(&description),
            ))
            .on_conflict((
                product_translations::tenant_id,
                product_translations::product_id,
                product_translations::locale,
            ))
            .do_update()
            .set((
                product_translations::title.eq(excluded(product_translations::title)),
                product_translations::description.eq(excluded(product_translations::description)),
                product_translations::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Translation::as_returning())
            .get_result(tx.conn())
            .await?;
        let details = serde_json::json!({ "locale": locale });
        let audit = Audit::of(product, details);
        Ok((saved, audit))
    })
    .await
}

/// Removes a product's translation in `locale` (staff); returns whether there was one.
pub async fn remove(
    db: &Database,
    ctx: &RequestContext,
    product: ProductId,
    locale: &str,
) -> Outcome<bool> {
    let writer = super::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.translation.remove", async move |tx| {
        writer.product(tx, product, "productId").await?;
        let locale = check_locale(locale, ctx)?;
        crate::products::lock_in(tx, product, "productId").await?;
        let removed = diesel::delete(
            product_translations::table
                .filter(product_translations::product_id.eq(product))
                .filter(product_translations::locale.eq(&locale)),
        )
        .execute(tx.conn())
        .await?;
        let details = serde_json::json!({ "locale": locale });
        let audit = Audit::of(product, details);
        Ok((removed > 0, audit))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityos_core::{Actor, TenantInfo, TenantStatus};

    #[test]
    fn tags_are_normalised() {
        assert_eq!(normalize("AR-sa").as_deref(), Some("ar-SA"));
        assert_eq!(normalize("en_gb").as_deref(), Some("en-GB"));
        assert_eq!(normalize("fil").as_deref(), Some("fil"));
        for bad in ["", "e", "english", "en-GBR", "en-GB-x", "e1", "ar-1"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    fn ctx(default: &str, locale: Option<&str>) -> RequestContext {
        let mut ctx = RequestContext::anonymous("t");
        ctx.actor = Actor::Anonymous;
        ctx.locale = locale.map(str::to_owned);
        ctx.tenant = Some(TenantInfo {
            id: crate::ids::TenantId::from_uuid(uuid::Uuid::nil()),
            slug: "t".into(),
            status: TenantStatus::Active,
            default_currency: "SAR".into(),
            default_locale: default.into(),
        });
        ctx
    }

    #[test]
    fn the_default_locale_wants_no_translation() {
        let wanted = |d, l| Wanted::of(&ctx(d, l));
        assert_eq!(wanted("ar", None), Wanted::default());
        assert_eq!(wanted("ar", Some("ar")), Wanted::default());
        assert_eq!(
            wanted("ar", Some("ar-SA")),
            Wanted {
                exact: Some("ar-SA".into()),
                language: None
            }
        );
        assert_eq!(
            wanted("ar", Some("en-GB")),
            Wanted {
                exact: Some("en-GB".into()),
                language: Some("en".into())
            }
        );
        assert_eq!(
            wanted("ar", Some("en")),
            Wanted {
                exact: Some("en".into()),
                language: None
            }
        );
    }
}
