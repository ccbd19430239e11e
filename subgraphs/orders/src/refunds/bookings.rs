//! What a cancelled booking is owed back. The bookings subgraph applies the service's
//! cancellation policy and says, in `booking.cancelled`, how much of which order line to refund
//! (`refundMinor` of `orderLineId`; the fee it kept is the rest). Orders consumes it once: under
//! the order's lock it reserves that amount on the order's captured payment as a PENDING refund
//! naming the booking (at most what is left to refund), records it in `orders.booking_refunds`
//! (so the refund is the line's vendor order's money), and schedules `refund.booking`, which
//! asks the provider and records the outcome like any refund. Nothing is owed for a booking
//! that was never paid (an order cancelled before payment) or cancelled free of charge with
//! nothing paid.

use super::{Refund, RefundStatus, ask, refundable_payment, reserve, settle};
use crate::errors::Failure;
use crate::ids::{BookingId, OrderId, OrderLineId, RefundId};
use crate::orders;
use crate::payments::{Gateway, Payment};
use crate::schema::{payments, refunds};
use chrono::Utc;
use cityos_core::ApiError;
use cityos_db::TenantTx;
use cityos_db::inbox::Consume;
use cityos_db::jobs::{Job, Next, Provided};
use cityos_db::outbox::Event;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// The orders subgraph's reading of bookings' `booking.cancelled`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct BookingCancelled {
    pub booking_id: BookingId,
    pub number: String,
    pub order_id: Option<OrderId>,
    pub order_line_id: Option<OrderLineId>,
    /// What is owed back, in minor units of the order's currency.
    pub refund_minor: i64,
}

impl Consume for BookingCancelled {
    const TOPIC: &'static str = "booking.cancelled";

    async fn apply(self, tx: &mut TenantTx<'_>, _: &Event) -> Result<(), ApiError> {
        let (Some(order), Some(line)) = (self.order_id, self.order_line_id) else {
            return Ok(());
        };
        if self.refund_minor <= 0 {
            return Ok(());
        }
        let order = orders::locked(tx, order, "orderId")
            .await
            .map_err(Failure::into_api)?;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let on_line: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM orders.order_lines
             WHERE id = $1 AND order_id = $2 AND booking_id = $3",
        )
        .bind::<SqlUuid, _>(line)
        .bind::<SqlUuid, _>(order.id)
        .bind::<SqlUuid, _>(self.booking_id)
        .get_result(tx.conn())
        .await?;
        if on_line.n == 0 {
            return Err(ApiError::bad_input(format!(
                "booking {} is not on line {line} of order {}",
                self.booking_id, order.id
            )));
        }
        let Some(payment) = refundable_payment(tx, order.id).await? else {
            tracing::warn!(booking = %self.booking_id, order = %order.id, "a cancelled booking is owed a refund, but nothing of its order was captured");
            return Ok(());
        };
        let amount = self
            .refund_minor
            .min(payment.captured_amount - payment.refunded_amount);
        if amount <= 0 {
            return Ok(());
        }
        let reason = format!("booking {} cancelled", self.number);
        let (_, refund) = reserve(tx, payment, amount, &reason, "refundMinor")
            .await
            .map_err(Failure::into_api)?;
        diesel::sql_query(
            "INSERT INTO orders.booking_refunds (tenant_id, booking_id, order_line_id, refund_id, amount)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(self.booking_id)
        .bind::<SqlUuid, _>(line)
        .bind::<SqlUuid, _>(refund.id)
        .bind::<BigInt, _>(amount)
        .execute(tx.conn())
        .await?;
        let job = BookingRefund { refund: refund.id };
        crate::JOBS.schedule(tx, &job, Utc::now()).await?;
        Ok(())
    }
}

/// `refund.booking`: pays a cancelled booking's reserved refund through its payment's provider
/// (the refund's id is the idempotency key, so a retry refunds once) and records the outcome.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
pub struct BookingRefund {
    pub refund: RefundId,
}

impl Job for BookingRefund {
    const NAME: &'static str = "refund.booking";

    fn key(&self) -> String {
        self.refund.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, provided: &Provided) -> Result<Next, ApiError> {
        let refund: Refund = refunds::table
            .filter(refunds::id.eq(self.refund))
            .select(Refund::as_select())
            .first(tx.conn())
            .await?;
        if refund.status != RefundStatus::Pending {
            return Ok(Next::Done);
        }
        let payment: Payment = payments::table
            .filter(payments::id.eq(refund.payment_id))
            .select(Payment::as_select())
            .first(tx.conn())
            .await?;
        let fallback = Gateway::default();
        let gateway = provided.get::<Gateway>().unwrap_or(&fallback);
        let answer = ask(gateway, &payment, &refund).await;
        match settle(tx, payment.id, refund.id, answer, None).await {
            Ok(Ok(_)) => {}
            Ok(Err(refused)) => {
                tracing::warn!(refund = %refund.id, failure = %refused.message, "a booking's refund was refused");
            }
            Err(e) => return Err(e.into_api()),
        }
        Ok(Next::Done)
    }
}
