//! Refunds: money paid back on a captured payment, never more than was captured in all.
//!
//! A refund runs in three steps. First, under the order's and the payment's locks, its amount is
//! reserved on the payment (`refunded_amount`, which a table check keeps at most the captured
//! amount, so racing refunds cannot together exceed it) and the refund is recorded PENDING. Then
//! the provider is asked, outside any transaction, with the refund's id as idempotency key. Last,
//! the refund becomes SUCCEEDED (the order PARTIALLY_REFUNDED or REFUNDED, a `payment.refunded`
//! event written), or FAILED with its amount given back. A cancelled booking's refund
//! ([`bookings`]) takes the same steps, the second and third in a durable job.

pub mod bookings;
pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, optional_text};
use crate::ids::{OrderId, PaymentId, RefundId, TenantId, VendorId, VendorOrderId};
use crate::orders::{self, OrderPaymentStatus};
use crate::payments::{Gateway, Manual, Payment, PaymentProvider, PaymentStatus, ProviderKind};
use crate::schema::{orders as orders_table, payments, refunds};
use chrono::{DateTime, Utc};
use cityos_core::RequestContext;
use cityos_core::money::allocate;
use cityos_db::audit::Audit;
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

cityos_core::states! {
    /// Where a refund stands.
    pub enum RefundStatus {
        /// Reserved and sent to the provider.
        Pending = "PENDING",
        /// Paid back.
        Succeeded = "SUCCEEDED",
        /// The provider refused it; its amount is free to refund again.
        Failed = "FAILED",
    }
}

/// A refund as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = refunds, check_for_backend(diesel::pg::Pg))]
pub struct Refund {
    pub tenant_id: TenantId,
    pub id: RefundId,
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub amount: i64,
    pub reason: String,
    pub status: RefundStatus,
    pub provider_reference: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The refunds of orders, by order, oldest first.
pub async fn of_orders(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<Refund>>> {
    let rows: Vec<Refund> = refunds::table
        .filter(refunds::order_id.eq_any(orders))
        .order(refunds::id)
        .select(Refund::as_select())
        .load(tx.conn())
        .await?;
    Ok(orders::group(rows, |r| r.order_id))
}

/// The order's money status once `payment` has `refunded` of its capture paid back.
pub fn refunded_status(payment: &Payment, refunded: i64) -> OrderPaymentStatus {
    if refunded == 0 {
        OrderPaymentStatus::Paid
    } else if refunded >= payment.captured_amount {
        OrderPaymentStatus::Refunded
    } else {
        OrderPaymentStatus::PartiallyRefunded
    }
}

/// Records that `payment` (locked, with its order) now has `refunded` paid back in all, of which
/// `credited` is new: the payment's and the order's status, a credit note for `credited`, and a
/// `payment.refunded` event.
pub async fn record_refunded(
    tx: &mut TenantTx<'_>,
    payment: &Payment,
    refunded: i64,
    credited: i64,
    refund: Option<RefundId>,
    reason: Option<String>,
) -> QueryResult<()> {
    diesel::update(payments::table.filter(payments::id.eq(payment.id)))
        .set((
            payments::refunded_amount.eq(refunded),
            payments::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    diesel::update(orders_table::table.filter(orders_table::id.eq(payment.order_id)))
        .set((
            orders_table::payment_status.eq(refunded_status(payment, refunded).as_str()),
            orders_table::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    if credited > 0 {
        orders::invoices::credit(tx, payment.order_id, credited, refund, reason).await?;
    }
    let vendor_orders = vendor_shares(tx, payment.order_id, refund, credited).await?;
    let event = PaymentRefunded {
        order_id: payment.order_id,
        payment_id: payment.id,
        refund_id: refund,
        amount: credited,
        refunded_total: refunded,
        captured_amount: payment.captured_amount,
        currency: payment.currency,
        vendor_orders,
    };
    crate::OUTBOX.publish(tx, payment.id, &event).await
}

/// One vendor order's part of a refund.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RefundShare {
    pub vendor_order_id: VendorOrderId,
    /// `None`: the tenant's own products.
    pub vendor_id: Option<VendorId>,
    pub amount: i64,
}

/// Splits a refund of `amount` over an order's vendor orders, each given as `(asked, room)`: what
/// the refund's originator says is theirs (a return's lines) and what is left to refund of them.
/// Each first gets what it asks, up to its room; the rest goes in proportion to the room left, by
/// largest remainder. The parts sum to `amount`, and none exceeds its room while `amount` does not
/// exceed the rooms' sum (it cannot: a payment refunds at most its capture, at most the order's
/// total, and the table's check refuses a vendor order refunded beyond its total).
pub fn split(amount: i64, parts: &[(i64, i64)]) -> Vec<i64> {
    let mut left = amount;
    let mut given: Vec<i64> = parts
        .iter()
        .map(|(asked, room)| {
            let part = (*asked).clamp(0, (*room).max(0)).min(left);
            left -= part;
            part
        })
        .collect();
    let rooms: Vec<i64> = parts
        .iter()
        .zip(&given)
        .map(|((_, room), part)| room - part)
        .collect();
    for (part, more) in given.iter_mut().zip(allocate(left, &rooms)) {
        *part += more;
    }
    given
}

#[derive(QueryableByName)]
struct Part {
    #[diesel(sql_type = SqlUuid)]
    id: VendorOrderId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    vendor_id: Option<VendorId>,
    #[diesel(sql_type = BigInt)]
    room: i64,
    #[diesel(sql_type = BigInt)]
    asked: i64,
}

/// Whose money `amount` of `order`'s refund was ([`split`]; a return asks for its lines' vendor
/// orders, a cancelled booking for its line's), counted on the vendor orders.
async fn vendor_shares(
    tx: &mut TenantTx<'_>,
    order: OrderId,
    refund: Option<RefundId>,
    amount: i64,
) -> QueryResult<Vec<RefundShare>> {
    if amount <= 0 {
        return Ok(Vec::new());
    }
    let parts: Vec<Part> = Prepared(
        diesel::sql_query(
            "SELECT vo.id, vo.vendor_id, vo.total - vo.refunded_total AS room,
                    coalesce((SELECT sum(rl.amount)
                              FROM orders.returns r
                              JOIN orders.return_lines rl ON rl.tenant_id = r.tenant_id AND rl.return_id = r.id
                              JOIN orders.order_lines l ON l.tenant_id = rl.tenant_id AND l.id = rl.order_line_id
                              WHERE r.refund_id = $2 AND l.vendor_order_id = vo.id), 0)::bigint
                    + coalesce((SELECT sum(b.amount)
                              FROM orders.booking_refunds b
                              JOIN orders.order_lines l ON l.tenant_id = b.tenant_id AND l.id = b.order_line_id
                              WHERE b.refund_id = $2 AND l.vendor_order_id = vo.id), 0)::bigint AS asked
             FROM orders.vendor_orders vo WHERE vo.order_id = $1
             ORDER BY vo.id FOR UPDATE OF vo",
        )
        .bind::<SqlUuid, _>(order)
        .bind::<Nullable<SqlUuid>, _>(refund),
    )
    .load(tx.conn())
    .await?;
    let asked: Vec<(i64, i64)> = parts.iter().map(|p| (p.asked, p.room)).collect();
    let shares: Vec<RefundShare> = parts
        .iter()
        .zip(split(amount, &asked))
        .filter(|(_, amount)| *amount > 0)
        .map(|(p, amount)| RefundShare {
            vendor_order_id: p.id,
            vendor_id: p.vendor_id,
            amount,
        })
        .collect();
    let (ids, amounts): (Vec<VendorOrderId>, Vec<i64>) =
        shares.iter().map(|s| (s.vendor_order_id, s.amount)).unzip();
    Prepared(
        diesel::sql_query(
            "UPDATE orders.vendor_orders vo SET refunded_total = vo.refunded_total + s.amount
             FROM unnest($1::uuid[], $2::bigint[]) AS s (id, amount) WHERE vo.id = s.id",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<BigInt>, _>(amounts),
    )
    .execute(tx.conn())
    .await?;
    Ok(shares)
}

/// Pays `amount` of a captured payment back (staff), through the payment's provider.
#[tracing::instrument(name = "refund.create", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), payment.id = %payment_id, amount = amount))]
pub async fn refund(
    db: &Database,
    ctx: &RequestContext,
    gateway: &Gateway,
    payment_id: PaymentId,
    amount: i64,
    reason: Option<String>,
) -> Outcome<Refund> {
    let (payment, refund) = db
        .staff(ctx, "payment.refund", async move |tx| {
            let reason =
                optional_text::<500>(reason, "reason", "a reason has at most 500 characters")?
                    .unwrap_or_default();
            let (_, payment) = orders::locked_payment(tx, payment_id).await?;
            let reserved = reserve(tx, payment, amount, &reason, "amountMinor").await?;
            let audit = Audit::of(payment_id, serde_json::json!({ "amount": amount }));
            Ok::<_, cityos_core::Failure<Code>>((reserved, audit))
        })
        .await?;
    execute(db, gateway, payment, refund, None).await
}

/// Step 1, in the caller's transaction with the order and `payment` locked: reserves `amount` on
/// the payment and records the refund PENDING. `field` names the amount's input field.
pub async fn reserve(
    tx: &mut TenantTx<'_>,
    payment: Payment,
    amount: i64,
    reason: &str,
    field: &str,
) -> Outcome<(Payment, Refund)> {
    if amount <= 0 {
        return Err(UserError::new(field, Code::InvalidAmount, "a refund is above zero").into());
    }
    let left = payment.captured_amount - payment.refunded_amount;
    if payment.status != PaymentStatus::Captured || amount > left {
        return Err(UserError::new(
            field,
            Code::RefundExceedsCaptured,
            format!(
                "{left} of the {} captured is left to refund",
                payment.captured_amount
            ),
        )
        .into());
    }
    diesel::update(payments::table.filter(payments::id.eq(payment.id)))
        .set(payments::refunded_amount.eq(payments::refunded_amount + amount))
        .execute(tx.conn())
        .await?;
    let refund: Refund = diesel::insert_into(refunds::table)
        .values((
            refunds::tenant_id.eq(payment.tenant_id),
            refunds::id.eq(RefundId::new()),
            refunds::order_id.eq(payment.order_id),
            refunds::payment_id.eq(payment.id),
            refunds::amount.eq(amount),
            refunds::reason.eq(reason),
        ))
        .returning(Refund::as_returning())
        .get_result(tx.conn())
        .await?;
    Ok((payment, refund))
}

/// What the originator of a refund (a return, a dispute; later a commission clawback) does to
/// its own state when the provider refuses the refund: it runs in the same transaction that
/// records the failure, given the refund's id. Refunds know no originator. (A cancelled
/// booking's refund has nothing to undo: the booking stays cancelled and staff refund by hand.)
pub type OnFailure = for<'t, 'c> fn(
    &'t mut TenantTx<'c>,
    RefundId,
) -> Pin<Box<dyn Future<Output = QueryResult<()>> + Send + 't>>;

/// Steps 2 and 3, after the reservation committed: asks the provider, outside any transaction,
/// then records the refund SUCCEEDED (with its credit note and event) or FAILED (its amount given
/// back, the originator's `on_failure` run, `refund.failed` written), all in one transaction.
#[tracing::instrument(name = "refund.execute", skip_all, fields(payment.id = %payment.id, refund.id = %refund.id))]
pub async fn execute(
    db: &Database,
    gateway: &Gateway,
    payment: Payment,
    refund: Refund,
    on_failure: Option<OnFailure>,
) -> Outcome<Refund> {
    let answer = ask(gateway, &payment, &refund).await;
    let (refund_id, payment_id) = (refund.id, payment.id);
    let settled = db
        .tenant_tx(payment.tenant_id, async move |tx| {
            settle(tx, payment_id, refund_id, answer, on_failure).await
        })
        .await?;
    Ok(settled?)
}

/// Step 2: asks `payment`'s provider to pay `refund` back, with the refund's id as idempotency
/// key (asking twice refunds once): the provider's reference, or why it refused.
pub async fn ask(
    gateway: &Gateway,
    payment: &Payment,
    refund: &Refund,
) -> Result<Option<String>, crate::payments::ProviderError> {
    let key = format!("refund-{}", refund.id);
    match (payment.provider, &gateway.stripe) {
        (ProviderKind::Manual, _) => Manual.refund(payment, refund.amount, &key).await,
        (ProviderKind::Stripe, Some(stripe)) => stripe.refund(payment, refund.amount, &key).await,
        (ProviderKind::Stripe, None) => Err(crate::payments::ProviderError(
            "card refunds need Stripe, which is not configured here".into(),
        )),
    }
}

/// Step 3, in the caller's transaction: records the provider's `answer` for PENDING refund
/// `refund_id` of `payment_id` (SUCCEEDED, or FAILED with its amount given back and
/// `on_failure` run): the refund, or the user error saying the provider refused it.
pub async fn settle(
    tx: &mut TenantTx<'_>,
    payment_id: PaymentId,
    refund_id: RefundId,
    answer: Result<Option<String>, crate::payments::ProviderError>,
    on_failure: Option<OnFailure>,
) -> Outcome<Result<Refund, UserError>> {
    let (_, payment) = orders::locked_payment(tx, payment_id).await?;
    let (status, reference, failure) = match &answer {
        Ok(reference) => (RefundStatus::Succeeded, reference.clone(), None),
        Err(e) => (RefundStatus::Failed, None, Some(e.0.clone())),
    };
    let refund: Refund = diesel::update(refunds::table.filter(refunds::id.eq(refund_id)))
        .set((
            refunds::status.eq(status),
            refunds::provider_reference.eq(reference),
            refunds::failure.eq(failure),
            refunds::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Refund::as_returning())
        .get_result(tx.conn())
        .await?;
    let amount = refund.amount;
    match answer {
        Ok(_) => {
            let (total, why) = (payment.refunded_amount, Some(refund.reason.clone()));
            record_refunded(tx, &payment, total, amount, Some(refund_id), why).await?;
            Ok(Ok(refund))
        }
        Err(e) => {
            diesel::update(payments::table.filter(payments::id.eq(payment.id)))
                .set(payments::refunded_amount.eq(payments::refunded_amount - amount))
                .execute(tx.conn())
                .await?;
            if let Some(revert) = on_failure {
                revert(tx, refund_id).await?;
            }
            let event = RefundFailed {
                order_id: payment.order_id,
                payment_id: payment.id,
                refund_id,
                amount,
                failure: e.0.clone(),
            };
            crate::OUTBOX.publish(tx, refund_id, &event).await?;
            Ok(Err(UserError::new(
                "paymentId",
                Code::PaymentProviderError,
                format!("the refund was not made: {}", e.0),
            )))
        }
    }
}

/// The captured payment of an order with the most left to refund, locked (the order must be
/// locked already).
pub async fn refundable_payment(
    tx: &mut TenantTx<'_>,
    order: OrderId,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::order_id.eq(order))
        .filter(payments::status.eq(PaymentStatus::Captured.as_str()))
        .order((payments::captured_amount - payments::refunded_amount).desc())
        .select(Payment::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// `payment.refunded`: a refund of a payment succeeded.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub refund_id: Option<RefundId>,
    pub amount: i64,
    pub refunded_total: i64,
    pub captured_amount: i64,
    pub currency: cityos_core::money::Currency,
    /// Whose money it was: the vendor orders' parts of `amount`, which sum to it.
    pub vendor_orders: Vec<RefundShare>,
}

impl FixedTopic for PaymentRefunded {
    const TOPIC: &'static str = "payment.refunded";
}

/// `refund.failed`: the provider refused a refund; its amount is refundable again.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RefundFailed {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub refund_id: RefundId,
    pub amount: i64,
    pub failure: String,
}

impl FixedTopic for RefundFailed {
    const TOPIC: &'static str = "refund.failed";
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_refund_goes_to_whose_lines_it_names_then_in_proportion_to_what_is_left() {
        // No originator's say: in proportion to what is left of each.
        assert_eq!(split(100, &[(0, 300), (0, 100)]), [75, 25]);
        // A return of one vendor's lines is that vendor's alone.
        assert_eq!(split(80, &[(0, 300), (80, 100)]), [0, 80]);
        // What a vendor order no longer holds spills over to the others in proportion.
        assert_eq!(split(100, &[(0, 200), (100, 40)]), [60, 40]);
        // Exact and bounded over many shapes.
        for amount in 0..=500 {
            let rooms = [(amount % 7, 123), (0, 250), (amount % 3, 127)];
            let parts = split(amount, &rooms);
            assert_eq!(parts.iter().sum::<i64>(), amount);
            assert!(
                parts
                    .iter()
                    .zip(rooms)
                    .all(|(p, (_, room))| (0..=room).contains(p))
            );
        }
    }
}
