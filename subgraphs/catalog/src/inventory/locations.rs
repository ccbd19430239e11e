//! Locations and their stock as staff see and change them: creating locations, adjusting levels,
//! low-stock thresholds, and listing levels, locations and movements.

use super::{
    Cause, Level, LevelView, Location, Movement, MovementReason, actor_of, alert_low, apply_delta,
    ensure_level, level_view, not_found_on_fk,
};
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{LocationId, MovementId, TenantId, VariantId};
use crate::schema::{stock_levels, stock_locations, stock_movements, stock_reservations};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// Creates a stock location (staff).
pub async fn create_location(
    db: &Database,
    ctx: &RequestContext,
    name: &str,
    address: Option<String>,
) -> Outcome<Location> {
    db.staff(ctx, "stock_location.create", async move |tx| {
        let tenant = tx.tenant();
        let name = crate::price_lists::check_name(name)?;
        let address = address.unwrap_or_default();
        if address.chars().count() > 500 {
            return Err(UserError::new(
                "address",
                Code::InvalidAttribute,
                "an address has at most 500 characters",
            )
            .into());
        }
        let location: Location = diesel::insert_into(stock_locations::table)
            .values((
                stock_locations::tenant_id.eq(tenant),
                stock_locations::id.eq(LocationId::new()),
                stock_locations::name.eq(&name),
                stock_locations::address.eq(&address),
            ))
            .returning(Location::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("stock_locations_name_key", e, || {
                    UserError::new(
                        "name",
                        Code::NameTaken,
                        format!("a location `{name}` exists"),
                    )
                })
            })?;
        let details = serde_json::json!({ "name": location.name });
        let audit = Audit::of(location.id, details);
        Ok((location, audit))
    })
    .await
}

/// A staff stock adjustment: by `delta`, or to an absolute `on_hand` (a recount).
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub delta: Option<i32>,
    pub on_hand: Option<i32>,
    pub reason: MovementReason,
    pub note: String,
}

/// Adjusts a variant's stock at a location with a reason (staff). Creates the level on first use.
#[tracing::instrument(name = "stock.adjust", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn adjust(db: &Database, ctx: &RequestContext, a: Adjustment) -> Outcome<LevelView> {
    let writer = crate::products::sellers::Writer::of(ctx)?;
    db.recorded(ctx, "stock.adjust", async move |tx| {
        writer.variant(tx, a.variant_id, "variantId").await?;
        if !a.reason.is_manual() {
            return Err(UserError::new(
                "reason",
                Code::InvalidQuantity,
                "sales, returns and transfers move stock by themselves",
            )
            .into());
        }
        if a.note.chars().count() > 500 {
            return Err(UserError::new(
                "note",
                Code::InvalidAttribute,
                "a note has at most 500 characters",
            )
            .into());
        }
        match (a.delta, a.on_hand) {
            (Some(0), None) => {
                return Err(UserError::new("delta", Code::InvalidQuantity, "delta cannot be 0").into());
            }
            (None, Some(n)) if n < 0 => {
                return Err(UserError::new(
                    "onHand",
                    Code::InvalidQuantity,
                    "onHand cannot be negative",
                )
                .into());
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(UserError::new(
                    "",
                    Code::InvalidQuantity,
                    "give exactly one of delta and onHand",
                )
                .into());
            }
        }
        ensure_level(tx, a.variant_id, a.location_id)
            .await
            .map_err(not_found_on_fk)?;
        let current: i32 = stock_levels::table
            .filter(stock_levels::variant_id.eq(a.variant_id))
            .filter(stock_levels::location_id.eq(a.location_id))
            .select(stock_levels::on_hand)
            .for_update()
            .first(tx.conn())
            .await?;
        let delta = match (a.delta, a.on_hand) {
            (Some(d), _) => d,
            (None, Some(n)) => n - current,
            (None, None) => 0,
        };
        if delta != 0 {
            let cause = Cause {
                reason: a.reason,
                note: &a.note,
                reference: None,
                actor: actor_of(ctx),
            };
            apply_delta(tx, a.variant_id, a.location_id, delta, false, &cause).await?;
        }
        let details = serde_json::json!({ "variant": a.variant_id, "location": a.location_id, "delta": delta, "reason": a.reason.as_str() });
        let audit = Audit::of(a.variant_id, details);
        Ok((level_view(tx, a.variant_id, a.location_id).await?, audit))
    })
    .await
}

/// Sets (or clears, with `None`) the low-stock threshold of a level (staff). Setting it at or above
/// the current stock alerts at once, once.
pub async fn set_threshold(
    db: &Database,
    ctx: &RequestContext,
    variant: VariantId,
    location: LocationId,
    threshold: Option<i32>,
) -> Outcome<LevelView> {
    db.staff(ctx, "stock.threshold.set", async move |tx| {
        if threshold.is_some_and(|t| t < 0) {
            return Err(UserError::new(
                "threshold",
                Code::InvalidQuantity,
                "a threshold cannot be negative",
            )
            .into());
        }
        ensure_level(tx, variant, location)
            .await
            .map_err(not_found_on_fk)?;
        let level: Level = stock_levels::table
            .filter(stock_levels::variant_id.eq(variant))
            .filter(stock_levels::location_id.eq(location))
            .select(Level::as_select())
            .for_update()
            .first(tx.conn())
            .await?;
        let low = threshold.is_some_and(|t| level.on_hand <= t);
        let updated: Level = diesel::update(
            stock_levels::table
                .filter(stock_levels::variant_id.eq(variant))
                .filter(stock_levels::location_id.eq(location)),
        )
        .set((
            stock_levels::low_stock_threshold.eq(threshold),
            stock_levels::low_stock_alerted.eq(low),
        ))
        .returning(Level::as_returning())
        .get_result(tx.conn())
        .await?;
        if low && !level.low_stock_alerted {
            alert_low(tx, &updated).await?;
        }
        let details =
            serde_json::json!({ "variant": variant, "location": location, "threshold": threshold });
        let audit = Audit::of(variant, details);
        Ok((level_view(tx, variant, location).await?, audit))
    })
    .await
}

/// Levels of variants with their reserved units, by variant, in location order.
pub async fn levels_in(
    tx: &mut TenantTx<'_>,
    variants: &[VariantId],
) -> QueryResult<HashMap<VariantId, Vec<LevelView>>> {
    let levels: Vec<Level> = stock_levels::table
        .filter(stock_levels::variant_id.eq_any(variants))
        .order((stock_levels::variant_id, stock_levels::location_id))
        .select(Level::as_select())
        .load(tx.conn())
        .await?;
    let reserved: Vec<(VariantId, LocationId, Option<i64>)> = stock_reservations::table
        .filter(stock_reservations::variant_id.eq_any(variants))
        .filter(stock_reservations::status.eq("ACTIVE"))
        .filter(stock_reservations::expires_at.gt(diesel::dsl::now))
        .group_by((
            stock_reservations::variant_id,
            stock_reservations::location_id,
        ))
        .select((
            stock_reservations::variant_id,
            stock_reservations::location_id,
            diesel::dsl::sum(stock_reservations::quantity),
        ))
        .load(tx.conn())
        .await?;
    let reserved: HashMap<(VariantId, LocationId), i64> = reserved
        .into_iter()
        .map(|(v, l, n)| ((v, l), n.unwrap_or(0)))
        .collect();
    let mut out: HashMap<VariantId, Vec<LevelView>> = HashMap::new();
    for level in levels {
        let held = reserved
            .get(&(level.variant_id, level.location_id))
            .copied()
            .unwrap_or(0);
        out.entry(level.variant_id).or_default().push(LevelView {
            level,
            reserved: held,
        });
    }
    Ok(out)
}

/// Levels of variants in one transaction (for the staff `stockLevels` loader).
pub async fn levels_by_variants(
    db: &Database,
    tenant: TenantId,
    variants: Vec<VariantId>,
) -> Result<HashMap<VariantId, Vec<LevelView>>, ApiError> {
    db.tenant_tx(tenant, async move |tx| Ok(levels_in(tx, &variants).await?))
        .await
}

/// A page of the tenant's stock locations (staff).
pub async fn locations(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<LocationId>,
) -> Result<Page<Location>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            stock_locations::table,
            stock_locations::id,
            Location,
            page
        )?)
    })
    .await
}

/// Locations by id.
pub async fn locations_by_ids(
    db: &Database,
    tenant: TenantId,
    ids: Vec<LocationId>,
) -> Result<Vec<Location>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        Ok(stock_locations::table
            .filter(stock_locations::id.eq_any(&ids))
            .select(Location::as_select())
            .load(tx.conn())
            .await?)
    })
    .await
}

/// A page of a variant's stock movements, newest last (staff).
pub async fn movements(
    db: &Database,
    ctx: &RequestContext,
    variant: VariantId,
    page: PageRequest<MovementId>,
) -> Result<Page<Movement>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        let query = stock_movements::table
            .filter(stock_movements::variant_id.eq(variant))
            .select(Movement::as_select())
            .into_boxed();
        let rows = cityos_db::keyset_page!(query, stock_movements::id, page)
            .load(tx.conn())
            .await?;
        let total: i64 = stock_movements::table
            .filter(stock_movements::variant_id.eq(variant))
            .count()
            .get_result(tx.conn())
            .await?;
        Ok(page.finish(rows, |m| m.id, total))
    })
    .await
}
