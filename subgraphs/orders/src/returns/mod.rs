//! Returns: REQUESTED -> APPROVED -> RECEIVED -> REFUNDED, or REJECTED.
//!
//! The customer (or staff for them) asks to return delivered units of an order's lines, with a
//! reason; never more units of a line than were bought less those in other returns that were not
//! rejected. Each returned unit is worth its share of the line's total (after its discount, with
//! its tax), so a full return refunds exactly what the line cost. Staff approve or reject, record
//! the parcel's arrival (putting the units back on the shelves they came from, through the
//! catalog's inventory), and refund: the refund is reserved in the transaction that marks the
//! return REFUNDED and made after it; should the provider refuse, the return is RECEIVED again.
//! Every step holds the order's lock and writes an outbox event.

pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, optional_text, refusal};
use crate::ids::{
    AllocationId, LocationId, OrderId, OrderLineId, RefundId, ReturnId, ReturnLineId, TenantId,
    UserId, VariantId,
};
use crate::orders::{self, Allocation, VendorOrderStatus};
use crate::payments::Gateway;
use crate::refunds::{self, Refund};
use crate::schema::{allocations, return_lines, returns};
use chrono::{DateTime, Utc};
use cityos_core::money::ratio;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::{HashMap, HashSet};

cityos_core::states! {
    /// Where a return stands.
    pub enum ReturnStatus {
        /// Asked for; staff decide.
        Requested = "REQUESTED",
        /// Staff agreed; the customer sends the items.
        Approved = "APPROVED",
        /// The items arrived (and were restocked, unless staff said otherwise).
        Received = "RECEIVED",
        /// Their value was paid back.
        Refunded = "REFUNDED",
        /// Staff refused it.
        Rejected = "REJECTED",
    }
    transitions {
        Requested -> Approved | Rejected,
        Approved -> Received | Rejected,
        Received -> Refunded,
    }
}

/// A return as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = returns, check_for_backend(diesel::pg::Pg))]
pub struct Return {
    pub tenant_id: TenantId,
    pub id: ReturnId,
    pub order_id: OrderId,
    pub status: ReturnStatus,
    pub reason: String,
    pub staff_note: Option<String>,
    pub requested_by: Option<UserId>,
    pub amount: i64,
    pub refund_id: Option<RefundId>,
    pub restocked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A line of a return.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = return_lines, check_for_backend(diesel::pg::Pg))]
pub struct ReturnLine {
    pub id: ReturnLineId,
    pub return_id: ReturnId,
    pub order_line_id: OrderLineId,
    pub quantity: i32,
    pub amount: i64,
}

/// A return with its lines.
#[derive(Debug, Clone)]
pub struct ReturnWithLines {
    pub ret: Return,
    pub lines: Vec<ReturnLine>,
}

/// Units of an order line to return.
#[derive(Debug, Clone, Copy)]
pub struct ReturnLineInput {
    pub order_line_id: OrderLineId,
    pub quantity: i32,
}

/// The returns of orders with their lines, by order: two statements.
pub async fn of_orders(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<ReturnWithLines>>> {
    let found: Vec<Return> = returns::table
        .filter(returns::order_id.eq_any(orders))
        .order(returns::id)
        .select(Return::as_select())
        .load(tx.conn())
        .await?;
    let ids: Vec<ReturnId> = found.iter().map(|r| r.id).collect();
    let lines: Vec<ReturnLine> = return_lines::table
        .filter(return_lines::return_id.eq_any(&ids))
        .order(return_lines::id)
        .select(ReturnLine::as_select())
        .load(tx.conn())
        .await?;
    let mut lines = orders::group(lines, |c| c.return_id);
    let found = found.into_iter().map(|ret| ReturnWithLines {
        lines: lines.remove(&ret.id).unwrap_or_default(),
        ret,
    });
    Ok(orders::group(found.collect(), |x| x.ret.order_id))
}

/// Asks to return units of an order's delivered lines: the order's customer, or staff.
#[tracing::instrument(name = "return.request", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), order.id = %order_id))]
pub async fn request(
    db: &Database,
    ctx: &RequestContext,
    order_id: OrderId,
    wanted: Vec<ReturnLineInput>,
    reason: String,
) -> Outcome<ReturnWithLines> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff {
        ctx.user_id()?;
    }
    let reason = reason.trim().to_owned();
    if !(1..=500).contains(&reason.chars().count()) {
        return Err(refusal(
            "reason",
            Code::InvalidText,
            "a reason has 1 to 500 characters",
        ));
    }
    if wanted.is_empty() || wanted.len() > 100 {
        return Err(refusal("lines", Code::InvalidCount, "give 1 to 100 lines"));
    }
    let mut seen = HashSet::new();
    for (i, line) in wanted.iter().enumerate() {
        if !seen.insert(line.order_line_id) {
            return Err(refusal(
                &format!("lines.{i}.orderLineId"),
                Code::InvalidCount,
                "this line is given twice",
            ));
        }
        if line.quantity < 1 {
            return Err(refusal(
                &format!("lines.{i}.quantity"),
                Code::InvalidQuantity,
                "return at least one unit",
            ));
        }
    }
    db.tenant_tx(tenant, async move |tx| {
        let order = orders::locked(tx, order_id, "orderId").await?;
        if !staff && order.customer_id != caller {
            return Err(refusal("orderId", Code::NotFound, "no such order"));
        }
        let bought = orders::lines_of(tx, &[order_id])
            .await?
            .remove(&order_id)
            .unwrap_or_default();
        let parts = orders::vendor_orders_of(tx, &[order_id])
            .await?
            .remove(&order_id)
            .unwrap_or_default();
        let earlier: Vec<(OrderLineId, i32)> = return_lines::table
            .inner_join(
                returns::table.on(returns::id
                    .eq(return_lines::return_id)
                    .and(returns::tenant_id.eq(return_lines::tenant_id))),
            )
            .filter(returns::order_id.eq(order_id))
            .filter(returns::status.ne(ReturnStatus::Rejected.as_str()))
            .select((return_lines::order_line_id, return_lines::quantity))
            .load(tx.conn())
            .await?;
        let mut rows = Vec::new();
        for (i, want) in wanted.iter().enumerate() {
            let Some(line) = bought.iter().find(|l| l.id == want.order_line_id) else {
                return Err(refusal(
                    &format!("lines.{i}.orderLineId"),
                    Code::NotFound,
                    "no such line on this order",
                ));
            };
            if line.booking_id.is_some() {
                return Err(refusal(
                    &format!("lines.{i}.orderLineId"),
                    Code::NotReturnable,
                    "a booking is cancelled (bookingCancel, under its policy), not returned",
                ));
            }
            let delivered = parts
                .iter()
                .any(|p| p.id == line.vendor_order_id && p.status == VendorOrderStatus::Delivered);
            if !delivered {
                return Err(refusal(
                    &format!("lines.{i}.orderLineId"),
                    Code::NotDelivered,
                    "this line has not been delivered yet",
                ));
            }
            let returned: i32 = earlier
                .iter()
                .filter(|(l, _)| *l == line.id)
                .map(|(_, q)| q)
                .sum();
            if want.quantity > line.quantity - returned {
                return Err(refusal(
                    &format!("lines.{i}.quantity"),
                    Code::InvalidQuantity,
                    format!(
                        "{} of the {} units bought can still be returned",
                        line.quantity - returned,
                        line.quantity
                    ),
                ));
            }
            let amount = ratio(
                line.total,
                i64::from(want.quantity),
                i64::from(line.quantity),
            );
            rows.push((line.id, want.quantity, amount));
        }
        let amount: i64 = rows.iter().map(|r| r.2).sum();
        let ret: Return = diesel::insert_into(returns::table)
            .values((
                returns::tenant_id.eq(tenant),
                returns::id.eq(ReturnId::new()),
                returns::order_id.eq(order_id),
                returns::reason.eq(&reason),
                returns::requested_by.eq(caller),
                returns::amount.eq(amount),
            ))
            .returning(Return::as_returning())
            .get_result(tx.conn())
            .await?;
        let lines: Vec<ReturnLine> = diesel::insert_into(return_lines::table)
            .values(
                rows.iter()
                    .map(|(line, quantity, amount)| {
                        (
                            return_lines::tenant_id.eq(tenant),
                            return_lines::id.eq(ReturnLineId::new()),
                            return_lines::return_id.eq(ret.id),
                            return_lines::order_line_id.eq(*line),
                            return_lines::quantity.eq(*quantity),
                            return_lines::amount.eq(*amount),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
            .returning(ReturnLine::as_returning())
            .get_results(tx.conn())
            .await?;
        publish(tx, &ret).await?;
        Ok(ReturnWithLines { ret, lines })
    })
    .await
}

/// Writes `return.<status>` for a return as it now is.
async fn publish(tx: &mut TenantTx<'_>, ret: &Return) -> QueryResult<()> {
    let event = ReturnMoved {
        return_id: ret.id,
        order_id: ret.order_id,
        status: ret.status,
        amount: ret.amount,
        refund_id: ret.refund_id,
    };
    crate::OUTBOX.publish(tx, ret.id, &event).await
}

/// The return `id` with its order locked (order first), refused unless it may become `to`.
async fn locked(tx: &mut TenantTx<'_>, id: ReturnId, to: ReturnStatus) -> Outcome<Return> {
    let order: Option<OrderId> = returns::table
        .filter(returns::id.eq(id))
        .select(returns::order_id)
        .first(tx.conn())
        .await
        .optional()?;
    let order = order.ok_or_else(|| refusal("returnId", Code::NotFound, "no such return"))?;
    orders::locked(tx, order, "returnId").await?;
    let ret: Return = returns::table
        .filter(returns::id.eq(id))
        .select(Return::as_select())
        .for_update()
        .first(tx.conn())
        .await?;
    let from = ret.status;
    if !from.can_become(to) {
        return Err(refusal(
            "returnId",
            Code::InvalidTransition,
            format!("a {} return cannot become {}", from.as_str(), to.as_str()),
        ));
    }
    Ok(ret)
}

async fn set(
    tx: &mut TenantTx<'_>,
    ret: &Return,
    to: ReturnStatus,
    note: Option<&str>,
) -> Outcome<ReturnWithLines> {
    let ret: Return = diesel::update(returns::table.filter(returns::id.eq(ret.id)))
        .set((
            returns::status.eq(to),
            returns::staff_note.eq(note.or(ret.staff_note.as_deref())),
            returns::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Return::as_returning())
        .get_result(tx.conn())
        .await?;
    publish(tx, &ret).await?;
    reread(tx, ret.id).await
}

async fn reread(tx: &mut TenantTx<'_>, id: ReturnId) -> Outcome<ReturnWithLines> {
    let order: OrderId = returns::table
        .filter(returns::id.eq(id))
        .select(returns::order_id)
        .first(tx.conn())
        .await?;
    of_orders(tx, &[order])
        .await?
        .remove(&order)
        .and_then(|all| all.into_iter().find(|r| r.ret.id == id))
        .ok_or_else(|| ApiError::internal("a return vanished in its own transaction").into())
}

/// Approves a requested return (staff).
#[tracing::instrument(name = "return.approve", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), return.id = %id))]
pub async fn approve(
    db: &Database,
    ctx: &RequestContext,
    id: ReturnId,
) -> Outcome<ReturnWithLines> {
    db.staff(ctx, "return.approve", async move |tx| {
        let ret = locked(tx, id, ReturnStatus::Approved).await?;
        let value = set(tx, &ret, ReturnStatus::Approved, None).await?;
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((value, audit))
    })
    .await
}

/// Rejects a requested or approved return (staff), with a note for the customer.
#[tracing::instrument(name = "return.reject", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), return.id = %id))]
pub async fn reject(
    db: &Database,
    ctx: &RequestContext,
    id: ReturnId,
    note: Option<String>,
) -> Outcome<ReturnWithLines> {
    db.staff(ctx, "return.reject", async move |tx| {
        let note = optional_text::<500>(note, "note", "a note has at most 500 characters")?;
        let ret = locked(tx, id, ReturnStatus::Rejected).await?;
        let value = set(tx, &ret, ReturnStatus::Rejected, note.as_deref()).await?;
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((value, audit))
    })
    .await
}

/// Records that an approved return's parcel arrived (staff); unless `restock` is false, its units
/// go back to the locations they were sold from.
#[tracing::instrument(name = "return.receive", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), return.id = %id))]
pub async fn receive(
    db: &Database,
    ctx: &RequestContext,
    id: ReturnId,
    restock: bool,
) -> Outcome<ReturnWithLines> {
    db.staff(ctx, "return.receive", async move |tx| {
        let actor = ctx.user_id().ok();
        let ret = locked(tx, id, ReturnStatus::Received).await?;
        if restock {
            let lines: Vec<ReturnLine> = return_lines::table
                .filter(return_lines::return_id.eq(id))
                .select(ReturnLine::as_select())
                .load(tx.conn())
                .await?;
            put_back(tx, &ret, &lines, actor).await?;
            diesel::update(returns::table.filter(returns::id.eq(id)))
                .set(returns::restocked.eq(true))
                .execute(tx.conn())
                .await?;
        }
        let value = set(tx, &ret, ReturnStatus::Received, None).await?;
        let audit = Audit::of(id, serde_json::json!({ "restock": restock }));
        Ok((value, audit))
    })
    .await
}

/// Puts returned units back where they were taken from, allocation by allocation.
async fn put_back(
    tx: &mut TenantTx<'_>,
    ret: &Return,
    lines: &[ReturnLine],
    actor: Option<UserId>,
) -> Outcome<()> {
    let line_ids: Vec<OrderLineId> = lines.iter().map(|l| l.order_line_id).collect();
    let mut taken: Vec<Allocation> = allocations::table
        .filter(allocations::order_line_id.eq_any(&line_ids))
        .order(allocations::id)
        .select(Allocation::as_select())
        .for_update()
        .load(tx.conn())
        .await?;
    let mut moves: Vec<(AllocationId, VariantId, LocationId, i32)> = Vec::new();
    for line in lines {
        let mut left = line.quantity;
        for a in taken
            .iter_mut()
            .filter(|a| a.order_line_id == line.order_line_id)
        {
            let n = left.min(a.quantity - a.restocked);
            if n > 0 {
                moves.push((a.id, a.variant_id, a.location_id, n));
                a.restocked += n;
                left -= n;
            }
        }
    }
    // The catalog's lock order: variant, then location.
    moves.sort_by_key(|m| (m.1, m.2));
    let reference = format!("return {}", ret.id);
    for (allocation, variant, location, n) in moves {
        catalog::api::restock(tx, variant, location, n, &reference, actor)
            .await
            .map_err(ApiError::internal)?;
        diesel::update(allocations::table.filter(allocations::id.eq(allocation)))
            .set(allocations::restocked.eq(allocations::restocked + n))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Pays a received return's value back (staff), through the order's payment provider.
#[tracing::instrument(name = "return.refund", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), return.id = %id))]
pub async fn refund(
    db: &Database,
    ctx: &RequestContext,
    gateway: &Gateway,
    id: ReturnId,
) -> Outcome<(ReturnWithLines, Refund)> {
    let (payment, refund) = db
        .staff(ctx, "return.refund", async move |tx| {
            let ret = locked(tx, id, ReturnStatus::Refunded).await?;
            let payment = refunds::refundable_payment(tx, ret.order_id)
                .await?
                .ok_or_else(|| {
                    refusal(
                        "returnId",
                        Code::RefundExceedsCaptured,
                        "nothing was captured",
                    )
                })?;
            let reason = format!("return {}: {}", ret.id, ret.reason);
            let (payment, refund) =
                refunds::reserve(tx, payment, ret.amount, &reason, "returnId").await?;
            diesel::update(returns::table.filter(returns::id.eq(id)))
                .set(returns::refund_id.eq(refund.id))
                .execute(tx.conn())
                .await?;
            set(tx, &ret, ReturnStatus::Refunded, None).await?;
            let audit = Audit::of(id, serde_json::json!({ "amount": ret.amount }));
            Ok::<_, Failure<Code>>(((payment, refund), audit))
        })
        .await?;
    let refund = refunds::execute(
        db,
        gateway,
        payment,
        refund,
        Some(|tx, refund| Box::pin(refund_failed(tx, refund))),
    )
    .await?;
    let ret = db
        .tenant_tx(ctx.tenant()?.id, async move |tx| reread(tx, id).await)
        .await?;
    Ok((ret, refund))
}

/// A refund for a return failed at the provider: the return is RECEIVED again (the return's
/// [`refunds::OnFailure`]).
async fn refund_failed(tx: &mut TenantTx<'_>, refund: RefundId) -> QueryResult<()> {
    diesel::update(returns::table.filter(returns::refund_id.eq(refund)))
        .set((
            returns::status.eq(ReturnStatus::Received.as_str()),
            returns::refund_id.eq(None::<RefundId>),
            returns::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// `return.<status>` (`return.requested`, `return.approved`, ...): a return moved on.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReturnMoved {
    pub return_id: ReturnId,
    pub order_id: OrderId,
    pub status: ReturnStatus,
    pub amount: i64,
    pub refund_id: Option<RefundId>,
}

impl Topic for ReturnMoved {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("return", self.status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ReturnStatus::{self, *};

    #[test]
    fn the_return_lifecycle_is_its_transition_table() {
        let all = [Requested, Approved, Received, Refunded, Rejected];
        let allowed = [
            (Requested, Approved),
            (Approved, Received),
            (Received, Refunded),
            (Requested, Rejected),
            (Approved, Rejected),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
            assert_eq!(ReturnStatus::parse(from.as_str()), Ok(from));
        }
    }
}
