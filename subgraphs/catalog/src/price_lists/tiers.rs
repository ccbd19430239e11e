//! Volume tiers: quantity breaks of a product or one variant, at a fixed unit price or a percentage
//! off the base price, optionally for one customer group.

use super::groups::group_exists;
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CustomerGroupId, ProductId, VariantId, VolumeTierId};
use crate::pricing::VolumeTier;
use crate::products::variants::check_prices;
use crate::schema::{product_variants, products, volume_tiers};
use cityos_core::{Failure, RequestContext};
use cityos_db::Database;
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A volume tier to create.
#[derive(Debug, Clone)]
pub struct NewTier {
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub currency: String,
    pub customer_group_id: Option<CustomerGroupId>,
    pub min_quantity: i32,
    pub max_quantity: Option<i32>,
    pub unit_amount: Option<i64>,
    /// Percent off the base price, to two decimals (12.5).
    pub percent_off: Option<f64>,
}

/// Percent (to two decimals, above 0, at most 100) as basis points.
pub(super) fn basis_points(percent: f64) -> Result<i32, UserError> {
    let bp = (percent * 100.0).round();
    if !(percent > 0.0 && percent <= 100.0) || (percent * 100.0 - bp).abs() > 1e-6 {
        return Err(UserError::new(
            "percentOff",
            Code::InvalidTier,
            "percentOff is above 0 and at most 100, with at most two decimals",
        ));
    }
    // In 1..=10_000 after the check above.
    Ok(bp as i32)
}

/// Creates a volume tier (staff). A tier that covers quantities another tier of the same product or
/// variant, currency and customer group covers is refused.
pub async fn create_tier(db: &Database, ctx: &RequestContext, new: NewTier) -> Outcome<VolumeTier> {
    db.staff(ctx, "volume_tier.create", async move |tx| {
        let tenant = tx.tenant();
        let currency = check_prices(&[(new.currency.clone(), 0)], "currency")?[0].0;
        let invalid = |field: &str, message: &str| UserError::new(field, Code::InvalidTier, message);
        if new.min_quantity < 1 {
            return Err(invalid("minQuantity", "minQuantity is at least 1").into());
        }
        if new.max_quantity.is_some_and(|m| m < new.min_quantity) {
            return Err(invalid("maxQuantity", "maxQuantity is at least minQuantity").into());
        }
        let percent_off_bp = new.percent_off.map(basis_points).transpose()?;
        match (new.unit_amount, percent_off_bp) {
            (Some(a), None) if a < 0 => {
                return Err(UserError::new(
                    "unitAmountMinor",
                    Code::NegativePrice,
                    "the unit price is negative",
                )
                .into());
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(invalid("", "give exactly one of unitAmountMinor and percentOff").into());
            }
        }
        let product_found: i64 = products::table
            .filter(products::id.eq(new.product_id))
            .count()
            .get_result(tx.conn())
            .await?;
        if product_found == 0 {
            return Err(UserError::new("productId", Code::NotFound, "no such product").into());
        }
        if let Some(variant) = new.variant_id {
            let of_product: i64 = product_variants::table
                .filter(product_variants::id.eq(variant))
                .filter(product_variants::product_id.eq(new.product_id))
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
        if let Some(group) = new.customer_group_id {
            group_exists(tx, group, "customerGroupId").await?;
        }
        let tier: VolumeTier = diesel::insert_into(volume_tiers::table)
            .values((
                volume_tiers::tenant_id.eq(tenant),
                volume_tiers::id.eq(VolumeTierId::new()),
                volume_tiers::product_id.eq(new.product_id),
                volume_tiers::variant_id.eq(new.variant_id),
                volume_tiers::currency.eq(currency.code()),
                volume_tiers::customer_group_id.eq(new.customer_group_id),
                volume_tiers::min_quantity.eq(new.min_quantity),
                volume_tiers::max_quantity.eq(new.max_quantity),
                volume_tiers::unit_amount.eq(new.unit_amount),
                volume_tiers::percent_off_bp.eq(percent_off_bp),
            ))
            .returning(VolumeTier::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_constraint("volume_tiers_no_overlap", e, || {
                    UserError::new(
                        "minQuantity",
                        Code::OverlappingTier,
                        "another tier of this product or variant, currency and customer group covers some of these quantities",
                    )
                })
            })?;
        let details = serde_json::json!({
            "product": tier.product_id, "variant": tier.variant_id, "currency": tier.currency,
            "min": tier.min_quantity, "max": tier.max_quantity,
        });
        let audit = Audit::of(tier.id, details);
        Ok((tier, audit))
    })
    .await
}

/// Deletes a volume tier (staff).
pub async fn delete_tier(
    db: &Database,
    ctx: &RequestContext,
    id: VolumeTierId,
) -> Outcome<VolumeTierId> {
    db.staff(ctx, "volume_tier.delete", async move |tx| {
        let deleted = diesel::delete(volume_tiers::table.filter(volume_tiers::id.eq(id)))
            .execute(tx.conn())
            .await?;
        if deleted == 0 {
            return Err(UserError::new("id", Code::NotFound, "no such volume tier").into());
        }
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((id, audit))
    })
    .await
}
