//! Stock in GraphQL: locations, levels, movements and transfers (staff).

use crate::errors::CatalogUserError;
use crate::ids::{LocationId, TransferId, VariantId};
use crate::inventory::{
    self, Adjustment, LevelView, Location, Movement, MovementReason, TransferStatus, TransferView,
};
use crate::scope::{CatalogLoader, LevelsOf};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(
    StockLocationConnection,
    StockLocationEdge,
    Location,
    "stock location"
);
cityos_core::connection!(
    StockMovementConnection,
    StockMovementEdge,
    Movement,
    "stock movement"
);
cityos_core::connection!(
    StockTransferConnection,
    StockTransferEdge,
    TransferView,
    "stock transfer"
);

/// A variant's stock levels, for `ProductVariant.stockLevels`.
pub async fn levels_of(ctx: &Context<'_>, variant: VariantId) -> Result<Vec<LevelView>> {
    ctx.request()?.require_staff()?;
    Ok(ctx
        .loader::<CatalogLoader>()?
        .load_one(LevelsOf(variant))
        .await?
        .unwrap_or_default())
}

/// A place stock is kept: a warehouse, a store's back room.
#[Object(name = "StockLocation")]
impl Location {
    /// The location's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name, unique within the tenant.
    async fn name(&self) -> &str {
        &self.name
    }
    /// Its postal address.
    async fn address(&self) -> &str {
        &self.address
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A variant's stock at one location.
#[Object(name = "StockLevel")]
impl LevelView {
    /// The location.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        Ok(ctx
            .loader::<CatalogLoader>()?
            .load_one(self.level.location_id)
            .await?)
    }
    /// Units physically there.
    async fn on_hand(&self) -> i32 {
        self.level.on_hand
    }
    /// Units held by active, unexpired reservations.
    async fn reserved(&self) -> i64 {
        self.reserved
    }
    /// Units that can be reserved now (never below zero).
    async fn available(&self) -> i64 {
        self.available_units()
    }
    /// At or below this many units on hand, a `stock.low` event is written once per dip.
    async fn low_stock_threshold(&self) -> Option<i32> {
        self.level.low_stock_threshold
    }
    /// Whether the level is at or below its threshold now.
    async fn low_stock(&self) -> bool {
        self.level.low_stock_alerted
    }
}

/// One change of a level's units, with why and who.
#[Object(name = "StockMovement")]
impl Movement {
    /// The movement's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The variant.
    async fn variant_id(&self) -> ID {
        to_id(self.variant_id)
    }
    /// The location.
    async fn location_id(&self) -> ID {
        to_id(self.location_id)
    }
    /// Units added (positive) or removed (negative).
    async fn delta(&self) -> i32 {
        self.delta
    }
    /// Units on hand afterwards.
    async fn on_hand_after(&self) -> i32 {
        self.on_hand_after
    }
    /// Why.
    async fn reason(&self) -> Option<MovementReason> {
        Some(self.reason)
    }
    /// Staff's note.
    async fn note(&self) -> &str {
        &self.note
    }
    /// What caused it: an order number, a transfer id.
    async fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }
    /// The user who made it, if a user did.
    async fn actor_id(&self) -> Option<ID> {
        self.actor_id.map(to_id)
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Units of one variant on a transfer.
#[derive(SimpleObject)]
pub struct StockTransferLine {
    /// The variant.
    pub variant_id: ID,
    /// Units moved.
    pub quantity: i32,
}

/// Stock moving between two locations: REQUESTED, SHIPPED (off the source), RECEIVED (on the
/// destination), or CANCELLED before shipping.
#[Object(name = "StockTransfer")]
impl TransferView {
    /// The transfer's id.
    async fn id(&self) -> ID {
        to_id(self.transfer.id)
    }
    /// Where the units come from.
    async fn from_location_id(&self) -> ID {
        to_id(self.transfer.from_location_id)
    }
    /// Where they go.
    async fn to_location_id(&self) -> ID {
        to_id(self.transfer.to_location_id)
    }
    /// Where it is in its lifecycle.
    async fn status(&self) -> TransferStatus {
        self.transfer.status
    }
    /// Staff's note.
    async fn note(&self) -> &str {
        &self.transfer.note
    }
    /// What moves (at most 200 lines).
    async fn lines(&self) -> Vec<StockTransferLine> {
        self.lines
            .iter()
            .map(|(v, q)| StockTransferLine {
                variant_id: to_id(*v),
                quantity: *q,
            })
            .collect()
    }
    /// When it was requested.
    async fn created_at(&self) -> DateTime<Utc> {
        self.transfer.created_at
    }
    /// When it shipped.
    async fn shipped_at(&self) -> Option<DateTime<Utc>> {
        self.transfer.shipped_at
    }
    /// When it arrived.
    async fn received_at(&self) -> Option<DateTime<Utc>> {
        self.transfer.received_at
    }
}

/// Staff queries about stock.
#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// The tenant's stock locations, oldest first (staff).
    async fn stock_locations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<StockLocationConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(inventory::locations(ctx.db(), ctx.request()?, page)
            .await?
            .into())
    }

    /// A variant's stock movements, oldest first (staff).
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        variant_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<StockMovementConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let variant = parse_id(&variant_id)?;
        Ok(
            inventory::movements(ctx.db(), ctx.request()?, variant, page)
                .await?
                .into(),
        )
    }

    /// The tenant's stock transfers, oldest first (staff).
    async fn stock_transfers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<StockTransferConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(inventory::transfers(ctx.db(), ctx.request()?, page)
            .await?
            .into())
    }
}

/// A new stock location.
#[derive(InputObject)]
pub struct StockLocationCreateInput {
    /// Its name, 1 to 100 characters, unique within the tenant.
    pub name: String,
    /// Its postal address, at most 500 characters.
    pub address: Option<String>,
}

cityos_core::payload! {
    /// The result of `stockLocationCreate`.
    StockLocationPayload<CatalogUserError> {
        /// The location; null when refused.
        stock_location: Location,
    }
}

/// A stock adjustment by staff: give `delta` or `onHand`.
#[derive(InputObject)]
pub struct StockAdjustInput {
    /// The variant.
    pub variant_id: VariantId,
    /// The location.
    pub location_id: LocationId,
    /// Units to add (positive) or remove (negative).
    pub delta: Option<i32>,
    /// The units counted (sets on hand; use with RECOUNT).
    pub on_hand: Option<i32>,
    /// RECEIVED, RECOUNT, DAMAGED or CORRECTION.
    pub reason: MovementReason,
    /// A note for the movement log, at most 500 characters.
    pub note: Option<String>,
}

/// A low-stock threshold for a variant at a location.
#[derive(InputObject)]
pub struct StockThresholdSetInput {
    /// The variant.
    pub variant_id: VariantId,
    /// The location.
    pub location_id: LocationId,
    /// The threshold; null removes it.
    pub threshold: Option<i32>,
}

cityos_core::payload! {
    /// The result of stock level mutations.
    StockLevelPayload<CatalogUserError> {
        /// The level afterwards; null when refused.
        stock_level: LevelView,
    }
}

/// Units of one variant to move.
#[derive(InputObject)]
pub struct StockTransferLineInput {
    /// The variant.
    pub variant_id: VariantId,
    /// Units, at least 1.
    pub quantity: i32,
}

/// A new stock transfer.
#[derive(InputObject)]
pub struct StockTransferRequestInput {
    /// Where the units come from.
    pub from_location_id: LocationId,
    /// Where they go.
    pub to_location_id: LocationId,
    /// 1 to 200 lines, one per variant.
    pub lines: Vec<StockTransferLineInput>,
    /// A note, at most 500 characters.
    pub note: Option<String>,
}

/// A transfer to move along.
#[derive(InputObject)]
pub struct StockTransferInput {
    /// The transfer.
    pub id: TransferId,
}

cityos_core::payload! {
    /// The result of transfer mutations.
    StockTransferPayload<CatalogUserError> {
        /// The transfer afterwards; null when refused.
        stock_transfer: TransferView,
    }
}

/// Staff mutations of stock.
#[derive(Default)]
pub struct InventoryMutation;

#[Object]
impl InventoryMutation {
    /// Creates a stock location (staff).
    async fn stock_location_create(
        &self,
        ctx: &Context<'_>,
        input: StockLocationCreateInput,
    ) -> Result<StockLocationPayload> {
        let outcome =
            inventory::create_location(ctx.db(), ctx.request()?, &input.name, input.address).await;
        Ok(StockLocationPayload::of(outcome)?)
    }

    /// Adjusts a variant's stock at a location, logged with a reason (staff, or the team of the vendor selling the product, acting for it).
    async fn stock_adjust(
        &self,
        ctx: &Context<'_>,
        input: StockAdjustInput,
    ) -> Result<StockLevelPayload> {
        let adjustment = Adjustment {
            variant_id: input.variant_id,
            location_id: input.location_id,
            delta: input.delta,
            on_hand: input.on_hand,
            reason: input.reason,
            note: input.note.unwrap_or_default(),
        };
        Ok(StockLevelPayload::of(
            inventory::adjust(ctx.db(), ctx.request()?, adjustment).await,
        )?)
    }

    /// Sets or clears a low-stock threshold (staff).
    async fn stock_threshold_set(
        &self,
        ctx: &Context<'_>,
        input: StockThresholdSetInput,
    ) -> Result<StockLevelPayload> {
        let (variant, location) = (input.variant_id, input.location_id);
        let outcome =
            inventory::set_threshold(ctx.db(), ctx.request()?, variant, location, input.threshold)
                .await;
        Ok(StockLevelPayload::of(outcome)?)
    }

    /// Requests a transfer between two locations (staff).
    async fn stock_transfer_request(
        &self,
        ctx: &Context<'_>,
        input: StockTransferRequestInput,
    ) -> Result<StockTransferPayload> {
        let lines = input
            .lines
            .iter()
            .map(|l| Ok((l.variant_id, l.quantity)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        let (from, to) = (input.from_location_id, input.to_location_id);
        let outcome =
            inventory::request_transfer(ctx.db(), ctx.request()?, from, to, lines, input.note)
                .await;
        Ok(StockTransferPayload::of(outcome)?)
    }

    /// Ships a requested transfer: its units leave the source (staff).
    async fn stock_transfer_ship(
        &self,
        ctx: &Context<'_>,
        input: StockTransferInput,
    ) -> Result<StockTransferPayload> {
        advance(ctx, input, TransferStatus::Shipped).await
    }

    /// Receives a shipped transfer: its units arrive at the destination (staff).
    async fn stock_transfer_receive(
        &self,
        ctx: &Context<'_>,
        input: StockTransferInput,
    ) -> Result<StockTransferPayload> {
        advance(ctx, input, TransferStatus::Received).await
    }

    /// Cancels a transfer that has not shipped (staff).
    async fn stock_transfer_cancel(
        &self,
        ctx: &Context<'_>,
        input: StockTransferInput,
    ) -> Result<StockTransferPayload> {
        advance(ctx, input, TransferStatus::Cancelled).await
    }
}

async fn advance(
    ctx: &Context<'_>,
    input: StockTransferInput,
    to: TransferStatus,
) -> Result<StockTransferPayload> {
    let id = input.id;
    let outcome = inventory::advance_transfer(ctx.db(), ctx.request()?, id, to).await;
    Ok(StockTransferPayload::of(outcome)?)
}

impl Loader<LocationId> for CatalogLoader {
    type Value = Location;
    type Error = ApiError;

    async fn load(&self, keys: &[LocationId]) -> Result<HashMap<LocationId, Location>, ApiError> {
        let rows = inventory::locations_by_ids(&self.db, self.caller.tenant, keys.to_vec()).await?;
        Ok(rows.into_iter().map(|l| (l.id, l)).collect())
    }
}

impl Loader<LevelsOf> for CatalogLoader {
    type Value = Vec<LevelView>;
    type Error = ApiError;

    async fn load(&self, keys: &[LevelsOf]) -> Result<HashMap<LevelsOf, Vec<LevelView>>, ApiError> {
        if !self.caller.staff {
            return Err(ApiError::forbidden("stock levels are for staff"));
        }
        let ids = keys.iter().map(|k| k.0).collect();
        let found = inventory::levels_by_variants(&self.db, self.caller.tenant, ids).await?;
        Ok(found.into_iter().map(|(id, l)| (LevelsOf(id), l)).collect())
    }
}
