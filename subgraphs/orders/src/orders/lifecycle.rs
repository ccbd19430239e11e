//! An order's lifecycle: locking it, moving its status by the transition table (with its
//! `order.<status>` event), confirming it, and cancelling it (stock back, payments voided or
//! refunded).

use super::{
    Allocation, Order, OrderPaymentStatus, OrderStatus, VendorOrderStatus, by_ids, invoices,
    order_columns, payments_of,
};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, optional_text};
use crate::ids::{OrderId, UserId};
use crate::payments::{
    Gateway, Manual, PaymentMethod, PaymentProvider, PaymentStatus, ProviderKind,
};
use crate::schema::{allocations, orders, payments, vendor_orders};
use cityos_core::{ApiError, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::RunQueryDsl;

/// The order `id`, locked for the transaction.
pub(crate) async fn locked(tx: &mut TenantTx<'_>, id: OrderId, field: &str) -> Outcome<Order> {
    Prepared(
        diesel::sql_query(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders.orders o WHERE o.id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .get_result(tx.conn())
    .await
    .optional()?
    .ok_or_else(|| UserError::new(field, Code::NotFound, "no such order").into())
}

pub(super) fn transition_refused(from: OrderStatus, to: OrderStatus) -> UserError {
    UserError::new(
        "",
        Code::InvalidTransition,
        format!(
            "an order that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        ),
    )
}

/// Moves a locked order to `to` (checked against the transition table) and writes
/// `order.<to>` to the outbox.
pub(crate) async fn set_status(
    tx: &mut TenantTx<'_>,
    order: &Order,
    to: OrderStatus,
    cancel_reason: Option<&str>,
) -> Outcome<()> {
    let from = order.status;
    if !from.can_become(to) {
        return Err(transition_refused(from, to).into());
    }
    diesel::update(orders::table.filter(orders::id.eq(order.id)))
        .set((
            orders::status.eq(to),
            orders::cancel_reason.eq(cancel_reason),
            orders::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    let event = OrderMoved {
        order_id: order.id,
        number: order.number,
        from,
        to,
        reason: cancel_reason,
    };
    crate::OUTBOX.publish(tx, order.id, &event).await?;
    if to == OrderStatus::Confirmed {
        invoices::issue(tx, order).await?;
    }
    Ok(())
}

pub(crate) async fn reread(tx: &mut TenantTx<'_>, id: OrderId) -> Outcome<Order> {
    by_ids(tx, &[id])
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("an order vanished in its own transaction").into())
}

/// Confirms a PENDING order (staff): it must be paid or authorized, or be paid cash on delivery.
#[tracing::instrument(name = "order.confirm", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), order.id = %id))]
pub async fn confirm(db: &Database, ctx: &RequestContext, id: OrderId) -> Outcome<Order> {
    db.staff(ctx, "order.confirm", async move |tx| {
        let order = locked(tx, id, "orderId").await?;
        let paid = matches!(order.payment_status.as_str(), "AUTHORIZED" | "PAID");
        let cod = payments_of(tx, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default()
            .iter()
            .any(|p| p.method == PaymentMethod::CashOnDelivery);
        if order.status == OrderStatus::Pending && !paid && !cod {
            return Err(UserError::new(
                "orderId",
                Code::InvalidTransition,
                "the order is not paid yet",
            )
            .into());
        }
        set_status(tx, &order, OrderStatus::Confirmed, None).await?;
        let value = reread(tx, id).await?;
        let audit = Audit::of(id, serde_json::json!({ "number": value.number }));
        Ok((value, audit))
    })
    .await
}

/// Cancels an order that has not shipped: staff any, a customer their own while PENDING. Its
/// stock goes back to the locations it came from, its bookings are cancelled (their seats
/// freed) and an uncaptured payment is released; an order with captured money must be refunded
/// first.
#[tracing::instrument(name = "order.cancel", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), order.id = %id))]
pub async fn cancel(
    db: &Database,
    ctx: &RequestContext,
    id: OrderId,
    reason: Option<String>,
    gateway: &Gateway,
) -> Outcome<Order> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff {
        ctx.user_id()?;
    }
    let reason = optional_text::<500>(reason, "reason", "a reason has at most 500 characters")?;
    let (order, card_intents) = db
        .tenant_tx(tenant, async move |tx| {
            let order = locked(tx, id, "orderId").await?;
            if !staff {
                if order.customer_id != caller {
                    return Err(UserError::new("orderId", Code::NotFound, "no such order").into());
                }
                if order.status != OrderStatus::Pending {
                    return Err(UserError::new(
                        "orderId",
                        Code::InvalidTransition,
                        "only a pending order can be cancelled by its customer; ask the shop",
                    )
                    .into());
                }
            }
            let payments = payments_of(tx, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            if payments.iter().any(|p| p.captured_amount > 0) {
                return Err(UserError::new(
                    "orderId",
                    Code::PaymentCaptured,
                    "money was taken for this order: refund it before cancelling",
                )
                .into());
            }
            set_status(tx, &order, OrderStatus::Cancelled, reason.as_deref()).await?;
            let mut card_intents = Vec::new();
            for payment in payments {
                if matches!(
                    payment.status,
                    PaymentStatus::Pending | PaymentStatus::Authorized
                ) {
                    if payment.provider == ProviderKind::Manual {
                        Manual.cancel(&payment).await.map_err(ApiError::internal)?;
                    } else {
                        card_intents.push(payment.clone());
                    }
                    diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                        .set((
                            payments::status.eq(PaymentStatus::Cancelled.as_str()),
                            payments::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(tx.conn())
                        .await?;
                }
            }
            diesel::update(orders::table.filter(orders::id.eq(id)))
                .set(orders::payment_status.eq(OrderPaymentStatus::Voided))
                .execute(tx.conn())
                .await?;
            diesel::update(vendor_orders::table.filter(vendor_orders::order_id.eq(id)))
                .set(vendor_orders::status.eq(VendorOrderStatus::Cancelled))
                .execute(tx.conn())
                .await?;
            // The code's row before stock rows: checkout's lock order.
            crate::discounts::release(tx, id).await?;
            invoices::void(tx, id).await?;
            restock_all(tx, &order, caller).await?;
            // Its bookings go too, their seats freed; nothing was paid, so nothing is owed.
            let who = if staff {
                bookings::api::CancelledBy::Staff
            } else {
                bookings::api::CancelledBy::Customer
            };
            bookings::api::order_cancelled(tx, id.uuid(), who, reason.as_deref())
                .await
                .map_err(cityos_core::Failure::into_api)?;
            Ok::<_, cityos_core::Failure<Code>>((reread(tx, id).await?, card_intents))
        })
        .await?;
    // Card intents are released at Stripe after the commit. Should the customer have paid in the
    // meantime, Stripe's `payment_intent.succeeded` still records the capture on the cancelled
    // order, for staff to refund.
    if let Some(stripe) = &gateway.stripe {
        for payment in card_intents {
            if let Err(error) = stripe.cancel(&payment).await {
                tracing::warn!(%error, payment = %payment.id, "releasing a card payment at Stripe failed");
            }
        }
    }
    Ok(order)
}

/// Puts every unit of a cancelled order back where it was taken from.
async fn restock_all(tx: &mut TenantTx<'_>, order: &Order, actor: Option<UserId>) -> Outcome<()> {
    let mut taken: Vec<Allocation> = allocations::table
        .filter(allocations::order_id.eq(order.id))
        .select(Allocation::as_select())
        .for_update()
        .load(tx.conn())
        .await?;
    // The catalog's lock order: variant, then location.
    taken.sort_by_key(|a| (a.variant_id, a.location_id));
    let reference = format!("order {} cancelled", order.number);
    for a in &taken {
        let left = a.quantity - a.restocked;
        if left > 0 {
            catalog::api::restock(tx, a.variant_id, a.location_id, left, &reference, actor)
                .await
                .map_err(ApiError::internal)?;
        }
    }
    diesel::update(allocations::table.filter(allocations::order_id.eq(order.id)))
        .set(allocations::restocked.eq(allocations::quantity))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// `order.<status>` (`order.confirmed`, `order.cancelled`, ...): an order moved on.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderMoved<'a> {
    pub order_id: OrderId,
    pub number: i64,
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub reason: Option<&'a str>,
}

impl Topic for OrderMoved<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("order", self.to.as_str())
    }
}
