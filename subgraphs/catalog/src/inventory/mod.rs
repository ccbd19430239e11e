//! Stock: locations, levels per variant and location, reservations, movements, transfers and
//! low-stock alerts.
//!
//! `available = on_hand - reserved`, where reserved counts the ACTIVE reservations that have not
//! expired. Every change of `on_hand` goes through [`apply_delta`], which locks the level row,
//! refuses to go below zero, writes the movement log and, when the level falls to its low-stock
//! threshold, writes one `stock.low` outbox event per dip.
//!
//! [`sell`] and [`restock`] are what other subgraphs use (through `crate::api`): they run on the
//! caller's tenant transaction, so a checkout's stock and its order commit or roll back together.
//! Checkout sells outright; no code holds units yet, so `stock_reservations` stays empty until
//! something does (cart holds, bookings): it is read wherever availability is, so a hold made
//! later counts at once. Level rows are locked in (variant, location) order; callers that touch
//! several variants in one transaction should do so in variant id order to avoid deadlocks.

pub mod graphql;
mod locations;
mod transfers;

use crate::OUTBOX;
use crate::errors::{CatalogErrorCode as Code, UserError};
use crate::ids::{LocationId, MovementId, TenantId, UserId, VariantId};
use crate::schema::{stock_levels, stock_locations, stock_movements, stock_reservations};
use chrono::{DateTime, Utc};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::TenantTx;
use cityos_db::outbox::FixedTopic;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
pub use locations::{
    Adjustment, adjust, create_location, levels_by_variants, levels_in, locations,
    locations_by_ids, movements, set_threshold,
};
use serde::Serialize;
use std::collections::HashMap;
pub use transfers::{
    Transfer, TransferMoved, TransferStatus, TransferView, advance_transfer, request_transfer,
    transfers,
};

/// Why a stock operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// Fewer units are available than asked for.
    #[error("only {available} of {requested} units are available")]
    Insufficient {
        variant_id: VariantId,
        requested: i64,
        available: i64,
    },
    /// The variant, location or level does not exist.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// A quantity is out of range.
    #[error("{0}")]
    Invalid(&'static str),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The request failed otherwise (no connection, for one).
    #[error("{}", .0.message)]
    Api(ApiError),
}

impl From<ApiError> for StockError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<StockError> for Failure<Code> {
    fn from(error: StockError) -> Self {
        let user = |field: &str, code, message: String| {
            Failure::User(UserError::new(field, code, message))
        };
        match error {
            StockError::Insufficient { .. } => {
                user("quantity", Code::InsufficientStock, error.to_string())
            }
            StockError::NotFound(what) => user("", Code::NotFound, format!("no such {what}")),
            StockError::Invalid(message) => user("", Code::InvalidQuantity, message.to_owned()),
            StockError::Database(e) => e.into(),
            StockError::Api(e) => e.into(),
        }
    }
}

cityos_core::states! {
    /// Why stock moved.
    pub enum MovementReason {
        /// Goods arrived from a supplier.
        Received = "RECEIVED",
        /// A count found a different number.
        Recount = "RECOUNT",
        /// Units were damaged or lost.
        Damaged = "DAMAGED",
        /// An earlier entry was wrong.
        Correction = "CORRECTION",
        /// Units were sold.
        Sale = "SALE",
        /// Units came back from a customer.
        Return = "RETURN",
        /// Units left on a transfer.
        TransferOut = "TRANSFER_OUT",
        /// Units arrived on a transfer.
        TransferIn = "TRANSFER_IN",
    }
}

impl MovementReason {
    /// Whether staff may record it by hand (the rest come from sales, returns and transfers).
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            Self::Received | Self::Recount | Self::Damaged | Self::Correction
        )
    }
}

/// A place stock is kept.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = stock_locations, check_for_backend(diesel::pg::Pg))]
pub struct Location {
    pub tenant_id: TenantId,
    pub id: LocationId,
    pub name: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
}

/// A variant's stock at one location.
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = stock_levels, check_for_backend(diesel::pg::Pg))]
pub struct Level {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub on_hand: i32,
    pub low_stock_threshold: Option<i32>,
    pub low_stock_alerted: bool,
}

/// A level with its reserved units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelView {
    pub level: Level,
    /// Units held by active, unexpired reservations.
    pub reserved: i64,
}

impl LevelView {
    /// Units that can be reserved now.
    pub fn available_units(&self) -> i64 {
        (i64::from(self.level.on_hand) - self.reserved).max(0)
    }
}

/// One change of `on_hand`.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = stock_movements, check_for_backend(diesel::pg::Pg))]
pub struct Movement {
    pub id: MovementId,
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub delta: i32,
    pub on_hand_after: i32,
    pub reason: MovementReason,
    pub note: String,
    pub reference: Option<String>,
    pub actor_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// Who caused a movement, and why, for the log.
#[derive(Debug, Clone)]
pub struct Cause<'a> {
    pub reason: MovementReason,
    pub note: &'a str,
    pub reference: Option<&'a str>,
    pub actor: Option<UserId>,
}

/// `stock.low`: a stock level fell to its low-stock threshold (once per dip).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StockLow {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub on_hand: i32,
    pub threshold: Option<i32>,
}

impl FixedTopic for StockLow {
    const TOPIC: &'static str = "stock.low";
}

async fn ensure_level(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    location: LocationId,
) -> QueryResult<()> {
    let tenant = tx.tenant();
    diesel::insert_into(stock_levels::table)
        .values((
            stock_levels::tenant_id.eq(tenant),
            stock_levels::variant_id.eq(variant),
            stock_levels::location_id.eq(location),
        ))
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await
        .map(drop)
}

async fn reserved_at(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    locations: &[LocationId],
) -> QueryResult<HashMap<LocationId, i64>> {
    let rows: Vec<(LocationId, Option<i64>)> = stock_reservations::table
        .filter(stock_reservations::variant_id.eq(variant))
        .filter(stock_reservations::location_id.eq_any(locations))
        .filter(stock_reservations::status.eq("ACTIVE"))
        .filter(stock_reservations::expires_at.gt(diesel::dsl::now))
        .group_by(stock_reservations::location_id)
        .select((
            stock_reservations::location_id,
            diesel::dsl::sum(stock_reservations::quantity),
        ))
        .load(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(location, sum)| (location, sum.unwrap_or(0)))
        .collect())
}

/// Changes `on_hand` of one level by `delta` under a row lock, logs the movement and raises the
/// low-stock alert when the level falls to its threshold. With `keep_reserved`, a decrease may not
/// eat into reserved units. The level must exist (see `ensure_level`).
pub async fn apply_delta(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    location: LocationId,
    delta: i32,
    keep_reserved: bool,
    cause: &Cause<'_>,
) -> Result<Level, StockError> {
    let tenant = tx.tenant();
    let level: Level = stock_levels::table
        .filter(stock_levels::variant_id.eq(variant))
        .filter(stock_levels::location_id.eq(location))
        .select(Level::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or(StockError::NotFound("stock level"))?;
    let on_hand = i64::from(level.on_hand) + i64::from(delta);
    let reserved = if keep_reserved && delta < 0 {
        reserved_at(tx, variant, &[location])
            .await?
            .get(&location)
            .copied()
            .unwrap_or(0)
    } else {
        0
    };
    if on_hand < reserved {
        return Err(StockError::Insufficient {
            variant_id: variant,
            requested: -i64::from(delta),
            available: (i64::from(level.on_hand) - reserved).max(0),
        });
    }
    let on_hand = i32::try_from(on_hand).map_err(|_| StockError::Invalid("too many units"))?;
    let low = level.low_stock_threshold.is_some_and(|t| on_hand <= t);
    let was_alerted = level.low_stock_alerted;
    let level: Level = diesel::update(
        stock_levels::table
            .filter(stock_levels::variant_id.eq(variant))
            .filter(stock_levels::location_id.eq(location)),
    )
    .set((
        stock_levels::on_hand.eq(on_hand),
        stock_levels::low_stock_alerted.eq(low),
        stock_levels::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Level::as_returning())
    .get_result(tx.conn())
    .await?;
    diesel::insert_into(stock_movements::table)
        .values((
            stock_movements::tenant_id.eq(tenant),
            stock_movements::id.eq(MovementId::new()),
            stock_movements::variant_id.eq(variant),
            stock_movements::location_id.eq(location),
            stock_movements::delta.eq(delta),
            stock_movements::on_hand_after.eq(on_hand),
            stock_movements::reason.eq(cause.reason),
            stock_movements::note.eq(cause.note),
            stock_movements::reference.eq(cause.reference),
            stock_movements::actor_id.eq(cause.actor),
        ))
        .execute(tx.conn())
        .await?;
    if low && !was_alerted {
        alert_low(tx, &level).await?;
    }
    Ok(level)
}

/// Writes the `stock.low` event for a level that has just fallen to its threshold.
async fn alert_low(tx: &mut TenantTx<'_>, level: &Level) -> QueryResult<()> {
    let event = StockLow {
        variant_id: level.variant_id,
        location_id: level.location_id,
        on_hand: level.on_hand,
        threshold: level.low_stock_threshold,
    };
    OUTBOX.publish(tx, level.variant_id, &event).await
}

/// One level with its reserved units, read on the caller's connection.
async fn level_view(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    location: LocationId,
) -> Result<LevelView, StockError> {
    levels_in(tx, &[variant])
        .await?
        .remove(&variant)
        .unwrap_or_default()
        .into_iter()
        .find(|l| l.level.location_id == location)
        .ok_or(StockError::NotFound("stock level"))
}

/// Locks every level row of `variant` (in location order, even with a location given: one lock
/// order for all) and returns the units free at each location (on hand less active reservations;
/// only `location` when given), most available first, or `Insufficient` when fewer than
/// `quantity` are free in all.
async fn lock_free(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    location: Option<LocationId>,
    quantity: i32,
) -> Result<Vec<(LocationId, i64)>, StockError> {
    let levels: Vec<Level> = stock_levels::table
        .filter(stock_levels::variant_id.eq(variant))
        .select(Level::as_select())
        .order(stock_levels::location_id)
        .for_update()
        .load(tx.conn())
        .await?;
    let levels: Vec<Level> = levels
        .into_iter()
        .filter(|l| location.is_none_or(|at| at == l.location_id))
        .collect();
    let locations: Vec<LocationId> = levels.iter().map(|l| l.location_id).collect();
    let reserved = reserved_at(tx, variant, &locations).await?;
    let mut free: Vec<(LocationId, i64)> = levels
        .iter()
        .map(|l| {
            let held = reserved.get(&l.location_id).copied().unwrap_or(0);
            (l.location_id, (i64::from(l.on_hand) - held).max(0))
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let available: i64 = free.iter().map(|(_, n)| n).sum();
    if available < i64::from(quantity) {
        return Err(StockError::Insufficient {
            variant_id: variant,
            requested: i64::from(quantity),
            available,
        });
    }
    // Most available first, then location id: as few rows as possible, deterministically.
    free.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(free)
}

/// Units a sale took from one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub quantity: i32,
}

/// Sells `quantity` units of a variant now, in the caller's transaction. The variant's level rows
/// are locked (location order); the units come from the locations with the most free first (on
/// hand less active reservations), each location's `on_hand` dropping with a SALE movement
/// (`reference`, for example the order number). A caller selling several variants sells them in
/// variant order, the lock order of every stock change.
pub async fn sell(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    quantity: i32,
    reference: &str,
    actor: Option<UserId>,
) -> Result<Vec<Taken>, StockError> {
    if quantity < 1 {
        return Err(StockError::Invalid("a sale is of at least 1 unit"));
    }
    let free = lock_free(tx, variant, None, quantity).await?;
    let cause = Cause {
        reason: MovementReason::Sale,
        note: "",
        reference: Some(reference),
        actor,
    };
    let mut left = i64::from(quantity);
    let mut taken = Vec::new();
    for (location, n) in free {
        if left == 0 {
            break;
        }
        // At most `quantity`, an i32.
        let take = i32::try_from(n.min(left)).unwrap_or(i32::MAX);
        left -= i64::from(take);
        apply_delta(tx, variant, location, -take, false, &cause).await?;
        taken.push(Taken {
            variant_id: variant,
            location_id: location,
            quantity: take,
        });
    }
    Ok(taken)
}

/// Puts returned units back on the shelf at a location (for the orders domain's returns).
pub async fn restock(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
    reference: &str,
    actor: Option<UserId>,
) -> Result<Level, StockError> {
    if quantity < 1 {
        return Err(StockError::Invalid("restock at least 1 unit"));
    }
    ensure_level(tx, variant, location)
        .await
        .map_err(not_found_on_fk)?;
    let cause = Cause {
        reason: MovementReason::Return,
        note: "",
        reference: Some(reference),
        actor,
    };
    apply_delta(tx, variant, location, quantity, false, &cause).await
}

/// A foreign-key violation means the variant or location named does not exist.
fn not_found_on_fk(error: diesel::result::Error) -> StockError {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StockError::NotFound("variant or location")
        }
        other => other.into(),
    }
}

fn actor_of(ctx: &RequestContext) -> Option<UserId> {
    ctx.user_id().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_only_move_forward() {
        use TransferStatus::*;
        assert!(Requested.can_become(Shipped));
        assert!(Shipped.can_become(Received));
        assert!(Requested.can_become(Cancelled));
        for (from, to) in [
            (Shipped, Cancelled),
            (Received, Shipped),
            (Received, Received),
            (Cancelled, Shipped),
            (Requested, Received),
            (Shipped, Shipped),
        ] {
            assert!(!from.can_become(to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn reasons_round_trip_and_only_some_are_manual() {
        for r in [
            MovementReason::Received,
            MovementReason::Sale,
            MovementReason::TransferIn,
        ] {
            assert_eq!(MovementReason::parse(r.as_str()), Ok(r));
        }
        assert!(MovementReason::Damaged.is_manual());
        assert!(!MovementReason::Sale.is_manual());
    }
}
