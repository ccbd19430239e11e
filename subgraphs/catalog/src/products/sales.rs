//! What products sold: orders' `order.placed` events, consumed once each, add each line's units
//! to its product's `units_sold`, which the BEST_SELLING sort orders by and `Product.unitsSold`
//! shows. Cancellations and returns do not subtract: the figure is units ordered.

use crate::ids::ProductId;
use cityos_core::ApiError;
use cityos_db::inbox::Consume;
use cityos_db::outbox::Event;
use cityos_db::{Prepared, TenantTx};
use diesel::sql_types::{Array, BigInt};
use diesel_async::RunQueryDsl;
use std::collections::BTreeMap;

/// The catalog's reading of orders' `order.placed`: only the lines' products and quantities
/// (the event carries more; a reader takes what it needs, so the publisher may add fields).
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    pub lines: Vec<PlacedLine>,
}

/// A line of [`OrderPlaced`]: a product's units, or a booking's seats (with the product its
/// service is linked to, if any).
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PlacedLine {
    pub product_id: Option<ProductId>,
    pub quantity: i32,
}

impl Consume for OrderPlaced {
    const TOPIC: &'static str = "order.placed";

    async fn apply(self, tx: &mut TenantTx<'_>, _: &Event) -> Result<(), ApiError> {
        let mut units: BTreeMap<ProductId, i64> = BTreeMap::new();
        for line in &self.lines {
            let Some(product) = line.product_id else {
                continue;
            };
            if line.quantity <= 0 {
                return Err(ApiError::bad_input(format!(
                    "a line of {} units of product {product}",
                    line.quantity
                )));
            }
            *units.entry(product).or_default() += i64::from(line.quantity);
        }
        let (products, quantities): (Vec<ProductId>, Vec<i64>) = units.into_iter().unzip();
        // Products in key order, so concurrent orders lock them in one order. A product deleted
        // since the order was placed is simply not there.
        Prepared(
            diesel::sql_query(
                "UPDATE catalog.products p SET units_sold = p.units_sold + s.units
                 FROM unnest($1::uuid[], $2::bigint[]) AS s (product_id, units)
                 WHERE p.tenant_id = $3 AND p.id = s.product_id",
            )
            .bind::<Array<diesel::sql_types::Uuid>, _>(products)
            .bind::<Array<BigInt>, _>(quantities)
            .bind::<diesel::sql_types::Uuid, _>(tx.tenant()),
        )
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}
