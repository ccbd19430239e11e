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

use crate::OUTBOX;
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{LocationId, MovementId, TenantId, TransferId, UserId, VariantId};
use crate::schema::{
    product_variants, stock_levels, stock_locations, stock_movements, stock_reservations,
    stock_transfer_lines, stock_transfers,
};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::Database;
use cityos_db::TenantTx;
use cityos_db::audit::Audit;
use cityos_db::outbox::{FixedTopic, Topic, lifecycle_topic};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// `stock.transfer.<status>` (`shipped`, `received`, `cancelled`): a transfer moved on.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransferMoved {
    pub transfer_id: TransferId,
    #[serde(skip)]
    pub status: TransferStatus,
}

impl Topic for TransferMoved {
    fn topic(&self) -> Cow<'static, str> {
        lifecycle_topic("stock.transfer", self.status.as_str())
    }
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
pub async fn adjust(db: &Database, ctx: &RequestContext, a: Adjustment) -> Outcome<LevelView> {
    db.staff(ctx, "stock.adjust", async move |tx| {
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

cityos_core::states! {
    /// Where a transfer is.
    pub enum TransferStatus {
        /// Asked for; nothing has moved.
        Requested = "REQUESTED",
        /// Left the source: its units are off the source's stock.
        Shipped = "SHIPPED",
        /// Arrived: its units are on the destination's stock.
        Received = "RECEIVED",
        /// Called off before shipping.
        Cancelled = "CANCELLED",
    }
    transitions {
        Requested -> Shipped | Cancelled,
        Shipped -> Received,
    }
}

/// A transfer as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = stock_transfers, check_for_backend(diesel::pg::Pg))]
pub struct Transfer {
    pub id: TransferId,
    pub from_location_id: LocationId,
    pub to_location_id: LocationId,
    pub status: TransferStatus,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
}

/// A transfer with its lines (variant, units).
#[derive(Debug, Clone)]
pub struct TransferView {
    pub transfer: Transfer,
    pub lines: Vec<(VariantId, i32)>,
}

async fn transfer_view(tx: &mut TenantTx<'_>, transfer: Transfer) -> QueryResult<TransferView> {
    let lines = stock_transfer_lines::table
        .filter(stock_transfer_lines::transfer_id.eq(transfer.id))
        .order(stock_transfer_lines::variant_id)
        .select((
            stock_transfer_lines::variant_id,
            stock_transfer_lines::quantity,
        ))
        .load(tx.conn())
        .await?;
    Ok(TransferView { transfer, lines })
}

/// Asks for units of variants to move from one location to another (staff).
pub async fn request_transfer(
    db: &Database,
    ctx: &RequestContext,
    from: LocationId,
    to: LocationId,
    lines: Vec<(VariantId, i32)>,
    note: Option<String>,
) -> Outcome<TransferView> {
    db.staff(ctx, "stock_transfer.request", async move |tx| {
        let tenant = tx.tenant();
        if from == to {
            return Err(UserError::new(
                "toLocationId",
                Code::InvalidTransfer,
                "a transfer goes between two different locations",
            )
            .into());
        }
        if lines.is_empty() || lines.len() > 200 {
            return Err(UserError::new(
                "lines",
                Code::InvalidCount,
                "a transfer has 1 to 200 lines",
            )
            .into());
        }
        if lines.iter().any(|(_, q)| *q < 1) {
            return Err(UserError::new(
                "lines",
                Code::InvalidQuantity,
                "each line moves at least 1 unit",
            )
            .into());
        }
        let variants: HashSet<VariantId> = lines.iter().map(|(v, _)| *v).collect();
        if variants.len() != lines.len() {
            return Err(UserError::new(
                "lines",
                Code::DuplicateVariant,
                "a variant is given twice",
            )
            .into());
        }
        let note = note.unwrap_or_default();
        if note.chars().count() > 500 {
            return Err(UserError::new(
                "note",
                Code::InvalidAttribute,
                "a note has at most 500 characters",
            )
            .into());
        }
        let known: i64 = stock_locations::table
            .filter(stock_locations::id.eq_any([from, to]))
            .count()
            .get_result(tx.conn())
            .await?;
        if known != 2 {
            return Err(
                UserError::new("fromLocationId", Code::NotFound, "no such location").into(),
            );
        }
        let ids: Vec<VariantId> = variants.into_iter().collect();
        let found: i64 = product_variants::table
            .filter(product_variants::id.eq_any(&ids))
            .count()
            .get_result(tx.conn())
            .await?;
        if usize::try_from(found).ok() != Some(ids.len()) {
            return Err(UserError::new("lines", Code::NotFound, "no such variant").into());
        }
        let id = TransferId::new();
        let transfer: Transfer = diesel::insert_into(stock_transfers::table)
            .values((
                stock_transfers::tenant_id.eq(tenant),
                stock_transfers::id.eq(id),
                stock_transfers::from_location_id.eq(from),
                stock_transfers::to_location_id.eq(to),
                stock_transfers::note.eq(&note),
            ))
            .returning(Transfer::as_returning())
            .get_result(tx.conn())
            .await?;
        let rows: Vec<_> = lines
            .iter()
            .map(|(variant, quantity)| {
                (
                    stock_transfer_lines::tenant_id.eq(tenant),
                    stock_transfer_lines::transfer_id.eq(id),
                    stock_transfer_lines::variant_id.eq(*variant),
                    stock_transfer_lines::quantity.eq(*quantity),
                )
            })
            .collect();
        diesel::insert_into(stock_transfer_lines::table)
            .values(rows)
            .execute(tx.conn())
            .await?;
        let details = serde_json::json!({ "from": from, "to": to, "lines": lines.len() });
        let audit = Audit::of(id, details);
        Ok((transfer_view(tx, transfer).await?, audit))
    })
    .await
}

/// Moves a transfer along its lifecycle (staff). Shipping takes the units off the source (never
/// units reserved there); receiving puts them on the destination. The transfer row is locked, so
/// each step happens once however many callers race.
pub async fn advance_transfer(
    db: &Database,
    ctx: &RequestContext,
    id: TransferId,
    to: TransferStatus,
) -> Outcome<TransferView> {
    db.staff(ctx, "stock_transfer.advance", async move |tx| {
        let transfer: Transfer = stock_transfers::table
            .filter(stock_transfers::id.eq(id))
            .select(Transfer::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such transfer"))?;
        let from = transfer.status;
        if !from.can_become(to) {
            return Err(UserError::new(
                "id",
                Code::InvalidTransition,
                format!("a {} transfer cannot become {}", from.as_str(), to.as_str()),
            )
            .into());
        }
        let view = transfer_view(tx, transfer).await?;
        let reference = id.to_string();
        let actor = actor_of(ctx);
        match to {
            TransferStatus::Shipped => {
                let cause = Cause {
                    reason: MovementReason::TransferOut,
                    note: "",
                    reference: Some(&reference),
                    actor,
                };
                for (variant, quantity) in &view.lines {
                    let source = view.transfer.from_location_id;
                    ensure_level(tx, *variant, source).await?;
                    apply_delta(tx, *variant, source, -quantity, true, &cause).await?;
                }
            }
            TransferStatus::Received => {
                let cause = Cause {
                    reason: MovementReason::TransferIn,
                    note: "",
                    reference: Some(&reference),
                    actor,
                };
                for (variant, quantity) in &view.lines {
                    let target = view.transfer.to_location_id;
                    ensure_level(tx, *variant, target).await?;
                    apply_delta(tx, *variant, target, *quantity, false, &cause).await?;
                }
            }
            TransferStatus::Requested | TransferStatus::Cancelled => {}
        }
        let transfer: Transfer =
            diesel::update(stock_transfers::table.filter(stock_transfers::id.eq(id)))
                .set((
                    stock_transfers::status.eq(to),
                    stock_transfers::shipped_at.eq(if to == TransferStatus::Shipped {
                        Some(Utc::now())
                    } else {
                        view.transfer.shipped_at
                    }),
                    stock_transfers::received_at.eq(if to == TransferStatus::Received {
                        Some(Utc::now())
                    } else {
                        view.transfer.received_at
                    }),
                ))
                .returning(Transfer::as_returning())
                .get_result(tx.conn())
                .await?;
        let event = TransferMoved {
            transfer_id: id,
            status: to,
        };
        OUTBOX.publish(tx, id, &event).await?;
        let details = serde_json::json!({ "from": from.as_str(), "to": to.as_str() });
        let audit = Audit::of(id, details);
        Ok((
            TransferView {
                transfer,
                lines: view.lines,
            },
            audit,
        ))
    })
    .await
}

/// A page of the tenant's transfers, oldest first (staff).
pub async fn transfers(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<TransferId>,
) -> Result<Page<TransferView>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        let transfers = cityos_db::table_page!(
            tx,
            stock_transfers::table,
            stock_transfers::id,
            Transfer,
            page
        )?;
        let ids: Vec<TransferId> = transfers.items.iter().map(|(_, t)| t.id).collect();
        let lines: Vec<(TransferId, VariantId, i32)> = stock_transfer_lines::table
            .filter(stock_transfer_lines::transfer_id.eq_any(&ids))
            .order((
                stock_transfer_lines::transfer_id,
                stock_transfer_lines::variant_id,
            ))
            .select((
                stock_transfer_lines::transfer_id,
                stock_transfer_lines::variant_id,
                stock_transfer_lines::quantity,
            ))
            .load(tx.conn())
            .await?;
        let mut by_transfer: BTreeMap<TransferId, Vec<(VariantId, i32)>> = BTreeMap::new();
        for (t, v, q) in lines {
            by_transfer.entry(t).or_default().push((v, q));
        }
        Ok(transfers.map(|transfer| TransferView {
            lines: by_transfer.get(&transfer.id).cloned().unwrap_or_default(),
            transfer,
        }))
    })
    .await
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
