//! What the catalog offers the other subgraphs: the only module they may use (`cargo xtask test`
//! checks it). Every function runs on the caller's open tenant transaction, so the caller's
//! writes and the catalog's commit or roll back together.
//!
//! - Selling and restocking: [`sell`] takes units now under the level locks, most free location
//!   first; [`restock`] puts returned units back; both log stock movements.
//! - Pricing: [`purchasables`] reads what a cart needs of its variants (product, vendor, category,
//!   the price facts) in one statement, and [`Purchasable`]'s variant quotes a line with the one
//!   pricing rule the storefront shows ([`PriceRequest`] in, [`Quote`] and its [`PriceRule`] out).
//! - Ids: the typed ids of what other subgraphs refer to (products, variants, categories,
//!   stock locations).
//! - Categories: [`category_exists`]; in SQL, `catalog.category_depth(id)` (how deep a category
//!   sits; 0 for none), which orders' terms statement calls instead of reading the tree.
//! - Customer groups (a B2B company's buyers get its group's price lists and volume tiers):
//!   [`customer_group_exists`], [`customer_group_join`], [`customer_group_leave`].
//! - SKUs: [`variants_by_sku`] (orders' quick order takes a list of SKUs).
//! - Products: [`product_exists`] (the vendors subgraph's commission rules name products),
//!   [`product_categories`] (the categories a commission rule on a category covers) and
//!   [`first_variants`] (a bookable service linked to a product is priced as its first variant).
//!
//! A narrower pricing contract (prices of lines rather than the variant's price facts) is the
//! next step for this module.

pub use crate::ids::{CategoryId, CustomerGroupId, LocationId, ProductId, VariantId};
pub use crate::inventory::{StockError, Taken, restock, sell};
pub use crate::price_lists::{
    group_found as customer_group_exists, join as customer_group_join,
    leave as customer_group_leave,
};
pub use crate::pricing::{PriceRequest, PriceRule, PriceSource, Quote};
pub use crate::products::cards::{Purchasable, purchasables};

use cityos_db::TenantTx;
use diesel::sql_types::{Array, Bool, Integer, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// Whether `id` is one of the transaction's tenant's categories (`catalog.category_exists`).
pub async fn category_exists(tx: &mut TenantTx<'_>, id: CategoryId) -> diesel::QueryResult<bool> {
    exists(tx, "SELECT catalog.category_exists($1) AS found", id.into()).await
}

/// Whether `id` is one of the transaction's tenant's products, in any status
/// (`catalog.product_exists`).
pub async fn product_exists(tx: &mut TenantTx<'_>, id: ProductId) -> diesel::QueryResult<bool> {
    exists(tx, "SELECT catalog.product_exists($1) AS found", id.into()).await
}

/// The categories of each of `products`, with all their ancestors, each with its depth (1 for a
/// root), deepest first (`catalog.product_category_depths`). A product in no category is absent.
pub async fn product_categories(
    tx: &mut TenantTx<'_>,
    products: &[ProductId],
) -> diesel::QueryResult<HashMap<ProductId, Vec<(CategoryId, i32)>>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        product_id: ProductId,
        #[diesel(sql_type = SqlUuid)]
        category_id: CategoryId,
        #[diesel(sql_type = Integer)]
        depth: i32,
    }
    let rows: Vec<Row> = cityos_db::Prepared(
        diesel::sql_query(
            "SELECT product_id, category_id, depth FROM catalog.product_category_depths($1)
             ORDER BY product_id, depth DESC, category_id",
        )
        .bind::<Array<SqlUuid>, _>(products),
    )
    .load(tx.conn())
    .await?;
    let mut of: HashMap<ProductId, Vec<(CategoryId, i32)>> = HashMap::new();
    for row in rows {
        of.entry(row.product_id)
            .or_default()
            .push((row.category_id, row.depth));
    }
    Ok(of)
}

/// The variants of the transaction's tenant with these SKUs (as stored: SKUs are compared
/// exactly), in any status: one statement. An unknown SKU is absent.
pub async fn variants_by_sku(
    tx: &mut TenantTx<'_>,
    skus: &[String],
) -> diesel::QueryResult<HashMap<String, VariantId>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sku: String,
        #[diesel(sql_type = SqlUuid)]
        id: VariantId,
    }
    let rows: Vec<Row> = cityos_db::Prepared(
        diesel::sql_query("SELECT sku, id FROM catalog.product_variants WHERE sku = ANY ($1)")
            .bind::<Array<diesel::sql_types::Text>, _>(skus),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.sku, r.id)).collect())
}

async fn exists(
    tx: &mut TenantTx<'_>,
    sql: &'static str,
    id: uuid::Uuid,
) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    let found: Found = cityos_db::Prepared(diesel::sql_query(sql).bind::<SqlUuid, _>(id))
        .get_result(tx.conn())
        .await?;
    Ok(found.found)
}

/// The first variant (by position) of each of `products` that has one.
pub async fn first_variants(
    tx: &mut TenantTx<'_>,
    products: &[ProductId],
) -> diesel::QueryResult<HashMap<ProductId, VariantId>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        product_id: ProductId,
        #[diesel(sql_type = SqlUuid)]
        id: VariantId,
    }
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Row> = cityos_db::Prepared(
        diesel::sql_query(
            "SELECT DISTINCT ON (product_id) product_id, id FROM catalog.product_variants
             WHERE product_id = ANY ($1) ORDER BY product_id, position, id",
        )
        .bind::<Array<SqlUuid>, _>(products),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.product_id, r.id)).collect())
}
