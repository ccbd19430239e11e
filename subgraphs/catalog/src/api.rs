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
//! - Products: [`product_exists`] (the vendors subgraph's commission rules name products).
//!
//! A narrower pricing contract (prices of lines rather than the variant's price facts) is the
//! next step for this module.

pub use crate::ids::{CategoryId, LocationId, ProductId, VariantId};
pub use crate::inventory::{StockError, Taken, restock, sell};
pub use crate::pricing::{PriceRequest, PriceRule, PriceSource, Quote};
pub use crate::products::cards::{Purchasable, purchasables};

use cityos_db::TenantTx;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// Whether `id` is one of the transaction's tenant's categories (`catalog.category_exists`).
pub async fn category_exists(tx: &mut TenantTx<'_>, id: CategoryId) -> diesel::QueryResult<bool> {
    exists(tx, "SELECT catalog.category_exists($1) AS found", id.into()).await
}

/// Whether `id` is one of the transaction's tenant's products, in any status
/// (`catalog.product_exists`).
pub async fn product_exists(tx: &mut TenantTx<'_>, id: ProductId) -> diesel::QueryResult<bool> {
    exists(tx, "SELECT catalog.product_exists($1) AS found", id.into()).await
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
