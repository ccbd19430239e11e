//! Transfers of stock between locations: requested, shipped, received or cancelled, each step
//! moving the units it must (see [`advance_transfer`]).

use super::{Cause, MovementReason, actor_of, apply_delta, ensure_level};
use crate::OUTBOX;
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{LocationId, TransferId, VariantId};
use crate::schema::{product_variants, stock_locations, stock_transfer_lines, stock_transfers};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

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
#[tracing::instrument(name = "stock.transfer_request", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
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
#[tracing::instrument(name = "stock.transfer_advance", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), transfer.id = %id))]
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
