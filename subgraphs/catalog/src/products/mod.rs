//! Products: what a tenant sells. Staff see every product; storefronts and customers see only
//! published ones.

pub mod cards;
pub mod graphql;
pub mod media;
pub mod sales;
pub mod sellers;
pub mod translations;
pub mod variants;

use self::translations::Wanted;
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CategoryId, CollectionId, ProductId, TenantId, VendorId};
use crate::schema::products;
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::Line;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// Where a product is in its lifecycle: DRAFT -> PUBLISHED -> ARCHIVED, with unpublishing and
    /// restoring from the archive to a draft.
    pub enum ProductStatus {
        /// Being prepared; visible to staff only.
        Draft = "DRAFT",
        /// On sale; visible to storefronts.
        Published = "PUBLISHED",
        /// Withdrawn from sale and kept for records (orders, reports); visible to staff only. It goes
        /// back to DRAFT before it can be published again.
        Archived = "ARCHIVED",
    }
    transitions {
        Draft -> Published | Archived,
        Published -> Draft | Archived,
        Archived -> Draft,
    }
}

/// A product as stored.
#[derive(Queryable, QueryableByName, Selectable, Debug, Clone)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Product {
    pub tenant_id: TenantId,
    pub id: ProductId,
    pub title: String,
    pub handle: String,
    pub description: String,
    pub status: ProductStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub vendor_id: Option<VendorId>,
    /// How many approved reviews gave 1, 2, 3, 4 and 5 stars.
    pub rating_counts: Vec<i32>,
    /// Units in placed orders ([`sales`]).
    pub units_sold: i64,
}

/// A product to create.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    pub title: String,
    pub handle: String,
    pub description: Option<String>,
    /// DRAFT or PUBLISHED; DRAFT when not given.
    pub status: Option<ProductStatus>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    /// A JSON object; `{}` when not given.
    pub metadata: Option<serde_json::Value>,
    pub vendor_id: Option<VendorId>,
}

/// Changes to a product; `None` leaves a field as it is, `Some(None)` clears a clearable one.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: Option<ProductStatus>,
    pub product_type: Option<Option<String>>,
    /// The whole new tag list.
    pub tags: Option<Vec<String>>,
    /// The whole new metadata object.
    pub metadata: Option<serde_json::Value>,
    pub vendor_id: Option<Option<VendorId>>,
}

/// Which products a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff: every product.
    All,
    /// A vendor's team acting for it: listed products, and its own in any status (drafts,
    /// archived, while the vendor is suspended).
    Own(VendorId),
    /// Everyone else: listed products only (published, and the tenant's own or an approved
    /// vendor's: `catalog.products.listed`, migration 000016).
    Listed,
}

/// The condition that a product is listed, for diesel queries of `catalog.products` (the column
/// is kept by a trigger and the vendor events' consumer; diesel's table stops at 16 columns).
pub(crate) fn listed() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>("catalog.products.listed")
}

impl Visibility {
    /// The visibility of the request's caller.
    pub fn of(ctx: &RequestContext) -> Self {
        if ctx.is_staff() {
            Self::All
        } else if let Some(scope) = ctx.vendor {
            Self::Own(scope.id)
        } else {
            Self::Listed
        }
    }

    /// The SQL condition a product row (`alias.`, or unqualified) must meet; `None` for all.
    /// A vendor's id is a formatted UUID (hex digits and dashes), so it is safe in the text.
    pub(crate) fn condition(self, alias: Option<&str>) -> Option<String> {
        let a = alias.map(|a| format!("{a}.")).unwrap_or_default();
        match self {
            Self::All => None,
            Self::Listed => Some(format!("{a}listed")),
            Self::Own(vendor) => Some(format!("({a}listed OR {a}vendor_id = '{vendor}'::uuid)")),
        }
    }
}

pub(crate) fn check_title(title: &str) -> Result<String, UserError> {
    Line::<255>::parse(title)
        .map(Line::into_inner)
        .map_err(|e| UserError::new("title", Code::InvalidTitle, e.message("a title")))
}

pub(crate) fn check_handle(handle: &str) -> Result<String, UserError> {
    if !cityos_core::text::is_handle(handle, 255) {
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

fn check_product_type(product_type: &str) -> Result<Option<String>, UserError> {
    let product_type = product_type.trim();
    if product_type.chars().count() > 100 {
        return Err(UserError::new(
            "productType",
            Code::InvalidProductType,
            "a product type has at most 100 characters",
        ));
    }
    Ok((!product_type.is_empty()).then(|| product_type.to_owned()))
}

/// The most tags one product may carry.
pub const MAX_TAGS: usize = 50;

/// Tags are case-insensitive: trimmed, lower-cased, each kept once in the order given.
fn check_tags(tags: &[String]) -> Result<Vec<String>, UserError> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 {
            return Err(UserError::new(
                "tags",
                Code::InvalidTags,
                "a tag has 1 to 50 characters",
            ));
        }
        if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    if kept.len() > MAX_TAGS {
        return Err(UserError::new(
            "tags",
            Code::InvalidTags,
            format!("a product has at most {MAX_TAGS} tags"),
        ));
    }
    Ok(kept)
}

/// The largest metadata object, serialised.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

fn check_metadata(metadata: serde_json::Value) -> Result<serde_json::Value, UserError> {
    let bad = |message: &str| UserError::new("metadata", Code::InvalidMetadata, message);
    if !metadata.is_object() {
        return Err(bad("metadata must be a JSON object"));
    }
    if metadata.to_string().len() > MAX_METADATA_BYTES {
        return Err(bad("metadata must be at most 16 KiB of JSON"));
    }
    Ok(metadata)
}

fn invalid_transition(from: ProductStatus, to: ProductStatus) -> UserError {
    let hint = if from == ProductStatus::Archived {
        "; restore it to DRAFT first"
    } else {
        ""
    };
    UserError::new(
        "status",
        Code::InvalidTransition,
        format!(
            "a {} product cannot become {}{hint}",
            from.as_str(),
            to.as_str()
        ),
    )
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

/// Creates a product in the current tenant: staff, for the tenant or an approved vendor; a
/// vendor's team member acting for it, for that vendor.
#[tracing::instrument(name = "product.create", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn create(db: &Database, ctx: &RequestContext, input: NewProduct) -> Outcome<Product> {
    let writer = sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.create", async move |tx| {
        let tenant = tx.tenant();
        let title = check_title(&input.title)?;
        let handle = check_handle(&input.handle)?;
        let description = check_description(input.description.unwrap_or_default())?;
        let status = input.status.unwrap_or(ProductStatus::Draft);
        if status == ProductStatus::Archived {
            return Err(UserError::new(
                "status",
                Code::InvalidTransition,
                "a new product is DRAFT or PUBLISHED",
            )
            .into());
        }
        let product_type = input
            .product_type
            .as_deref()
            .map(check_product_type)
            .transpose()?
            .flatten();
        let tags = check_tags(&input.tags)?;
        let metadata = check_metadata(input.metadata.unwrap_or_else(|| serde_json::json!({})))?;
        let published_at = (status == ProductStatus::Published).then(Utc::now);
        let vendor_id = writer.new_product_vendor(tx, input.vendor_id).await?;
        let product: Product = diesel::insert_into(products::table)
            .values((
                products::tenant_id.eq(tenant),
                products::id.eq(ProductId::new()),
                products::title.eq(&title),
                products::handle.eq(&handle),
                products::description.eq(&description),
                products::status.eq(status),
                products::published_at.eq(published_at),
                products::product_type.eq(&product_type),
                products::tags.eq(&tags),
                products::metadata.eq(&metadata),
                products::vendor_id.eq(vendor_id),
            ))
            .returning(Product::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("products_handle_key", e, handle_taken(&handle)))?;
        let details =
            serde_json::json!({ "handle": product.handle, "status": product.status.as_str() });
        let audit = Audit::of(product.id, details);
        Ok((product, audit))
    })
    .await
}

/// Changes a product of the current tenant (staff, or the team of the vendor that sells it).
#[tracing::instrument(name = "product.update", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), product.id = %id))]
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: ProductId,
    changes: ProductChanges,
) -> Outcome<Product> {
    let writer = sellers::Writer::of(ctx)?;
    db.recorded(ctx, "product.update", async move |tx| {
        writer.product(tx, id, "id").await?;
        let title = changes.title.as_deref().map(check_title).transpose()?;
        let handle = changes.handle.as_deref().map(check_handle).transpose()?;
        let description = changes.description.map(check_description).transpose()?;
        let product_type = changes
            .product_type
            .map(|t| t.as_deref().map(check_product_type).transpose())
            .transpose()?
            .map(Option::flatten);
        let tags = changes.tags.as_deref().map(check_tags).transpose()?;
        let metadata = changes.metadata.map(check_metadata).transpose()?;
        let current: Product = products::table
            .filter(products::id.eq(id))
            .select(Product::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such product"))?;
        let from = current.status;
        let status = changes.status.unwrap_or(from);
        // Keeping the status is not a change, so it is always allowed.
        if from != status && !from.can_become(status) {
            return Err(invalid_transition(from, status).into());
        }
        let published_at = match status {
            ProductStatus::Published => current.published_at.or_else(|| Some(Utc::now())),
            ProductStatus::Draft | ProductStatus::Archived => None,
        };
        let archived_at = match status {
            ProductStatus::Archived => current.archived_at.or_else(|| Some(Utc::now())),
            ProductStatus::Draft | ProductStatus::Published => None,
        };
        let handle = handle.unwrap_or(current.handle);
        let moved = changes
            .vendor_id
            .is_some_and(|asked| asked != current.vendor_id);
        let vendor_id = match changes.vendor_id {
            Some(asked) if asked != current.vendor_id => {
                if !writer.is_staff() {
                    return Err(ApiError::forbidden(
                        "a vendor's team cannot give its products to another seller",
                    )
                    .into());
                }
                writer.new_product_vendor(tx, asked).await?
            }
            _ => current.vendor_id,
        };
        let product: Product = diesel::update(products::table.filter(products::id.eq(id)))
            .set((
                products::title.eq(title.unwrap_or(current.title)),
                products::handle.eq(&handle),
                products::description.eq(description.unwrap_or(current.description)),
                products::status.eq(status),
                products::published_at.eq(published_at),
                products::archived_at.eq(archived_at),
                products::product_type.eq(product_type.unwrap_or(current.product_type)),
                products::tags.eq(tags.unwrap_or(current.tags)),
                products::metadata.eq(metadata.unwrap_or(current.metadata)),
                products::vendor_id.eq(vendor_id),
                products::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Product::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("products_handle_key", e, handle_taken(&handle)))?;
        if moved {
            sellers::reviews_changed_hands(tx, id).await?;
        }
        let details = serde_json::json!({
            "handle": product.handle,
            "status": product.status.as_str(),
            "from": from.as_str(),
        });
        let audit = Audit::of(id, details);
        Ok((product, audit))
    })
    .await
}

/// Locks a product of the caller's tenant for the rest of the transaction (one writer of its
/// media, categories or translations at a time); `NOT_FOUND` on `field` when there is none.
pub(crate) async fn lock_in(tx: &mut TenantTx<'_>, id: ProductId, field: &str) -> Outcome<()> {
    let found: Option<ProductId> = products::table
        .filter(products::id.eq(id))
        .select(products::id)
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    found
        .map(drop)
        .ok_or_else(|| UserError::new(field, Code::NotFound, "no such product").into())
}

/// Loads visible products of `tenant` by id (the DataLoader's query), in the wanted locale.
pub async fn by_ids(
    db: &Database,
    tenant: TenantId,
    visibility: Visibility,
    ids: Vec<ProductId>,
    wanted: Wanted,
) -> Result<Vec<Product>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        let mut query = products::table
            .filter(products::id.eq_any(ids))
            .select(Product::as_select())
            .into_boxed();
        if let Some(condition) = visibility.condition(Some("catalog.products")) {
            query = query.filter(sql::<Bool>(&condition));
        }
        let mut found: Vec<Product> = query.load(tx.conn()).await?;
        translations::localize(tx, &mut found, &wanted).await?;
        Ok(found)
    })
    .await
}

/// Finds a visible product of `tenant` by handle (its own handle, whatever the locale), in the
/// wanted locale.
pub async fn by_handle(
    db: &Database,
    tenant: TenantId,
    visibility: Visibility,
    handle: String,
    wanted: Wanted,
) -> Result<Option<Product>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        let mut query = products::table
            .filter(products::handle.eq(handle))
            .select(Product::as_select())
            .into_boxed();
        if let Some(condition) = visibility.condition(Some("catalog.products")) {
            query = query.filter(sql::<Bool>(&condition));
        }
        let mut found: Vec<Product> = query
            .first(tx.conn())
            .await
            .optional()?
            .into_iter()
            .collect();
        translations::localize(tx, &mut found, &wanted).await?;
        Ok(found.pop())
    })
    .await
}

/// A page of the visible products of `tenant`, in creation order.
pub async fn list(
    db: &Database,
    tenant: TenantId,
    visibility: Visibility,
    page: PageRequest<ProductId>,
) -> Result<Page<Product>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        Ok(list_in(tx, visibility, &page, &Wanted::default()).await?)
    })
    .await
}

/// Which products a list covers: those the caller may see, optionally only one vendor's, one
/// collection's (in its order) or one category's (with its descendants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub visibility: Visibility,
    pub vendor: Option<VendorId>,
    pub collection: Option<CollectionId>,
    pub category: Option<CategoryId>,
}

impl Scope {
    /// Every product the caller may see.
    pub fn all(visibility: Visibility) -> Self {
        Self {
            visibility,
            vendor: None,
            collection: None,
            category: None,
        }
    }
}

/// A page of the products `visibility` allows, oldest first, with their total count (one
/// statement; one more for translations when a locale other than the default is wanted), on the
/// caller's tenant-scoped connection.
pub async fn list_in(
    tx: &mut TenantTx<'_>,
    visibility: Visibility,
    page: &PageRequest<ProductId>,
    wanted: &Wanted,
) -> QueryResult<Page<Product>> {
    // The count is an uncorrelated subquery: evaluated once, in the same statement as the page.
    let visible = visibility
        .condition(None)
        .unwrap_or_else(|| "true".to_owned());
    let count = format!("(SELECT count(*) FROM catalog.products WHERE {visible})");
    let query = products::table
        .select((Product::as_select(), sql::<BigInt>(&count)))
        .filter(sql::<Bool>(&visible))
        .into_boxed();
    let rows: Vec<(Product, i64)> = cityos_db::keyset_page!(query, products::id, *page)
        .load(tx.conn())
        .await?;
    let total = match <[_]>::first(&rows) {
        Some((_, total)) => *total,
        // An empty page past a cursor has no row to carry the count.
        None if page.after.is_some() || page.before.is_some() => {
            cards::count_in(tx, Scope::all(visibility)).await?
        }
        None => 0,
    };
    let mut products: Vec<Product> = rows.into_iter().map(|(product, _)| product).collect();
    translations::localize(tx, &mut products, wanted).await?;
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
