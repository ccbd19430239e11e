//! After delivery: returns and disputes, how they read and the mutations that move them.

use super::{gateway, order_money};
use crate::disputes::{
    self, DisputeMessage, DisputeReason, DisputeResolution, DisputeSide, DisputeStatus,
    DisputeThread,
};
use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{DisputeId, OrderId, ReturnId};
use crate::refunds::Refund;
use crate::returns::{self, ReturnLine, ReturnLineInput, ReturnStatus, ReturnWithLines};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::Money;
use cityos_core::outcome::into_payload;
use cityos_server::CtxExt as _;

/// A request to send back units of an order's delivered lines, and what became of it.
#[Object(name = "Return")]
impl ReturnWithLines {
    /// The return's id.
    async fn id(&self) -> ID {
        to_id(self.ret.id)
    }
    /// Where it stands.
    async fn status(&self) -> ReturnStatus {
        self.ret.status
    }
    /// Why the customer returns them.
    async fn reason(&self) -> &str {
        &self.ret.reason
    }
    /// Staff's note (e.g. why it was rejected).
    async fn staff_note(&self) -> Option<&str> {
        self.ret.staff_note.as_deref()
    }
    /// What the returned units are worth: their share of each line's total, discount and tax
    /// included. The refund pays this back.
    async fn amount(&self, ctx: &Context<'_>) -> Result<Money> {
        order_money(ctx, self.ret.order_id, self.ret.amount).await
    }
    /// The units returned, per order line.
    async fn lines(&self) -> &[ReturnLine] {
        &self.lines
    }
    /// Whether the units went back into stock when they arrived.
    async fn restocked(&self) -> bool {
        self.ret.restocked
    }
    /// The refund that paid it back, once REFUNDED.
    async fn refund_id(&self) -> Option<ID> {
        self.ret.refund_id.map(to_id)
    }
    /// When it was requested.
    async fn created_at(&self) -> DateTime<Utc> {
        self.ret.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.ret.updated_at
    }
}

/// Units of one order line in a return.
#[Object]
impl ReturnLine {
    /// The order line.
    async fn order_line_id(&self) -> ID {
        to_id(self.order_line_id)
    }
    /// Units returned.
    async fn quantity(&self) -> i32 {
        self.quantity
    }
}

/// A customer's complaint about an order, the messages of both sides, and staff's resolution.
#[Object(name = "Dispute")]
impl DisputeThread {
    /// The dispute's id.
    async fn id(&self) -> ID {
        to_id(self.dispute.id)
    }
    /// What it is about.
    async fn reason(&self) -> DisputeReason {
        self.dispute.reason
    }
    /// Where it stands.
    async fn status(&self) -> DisputeStatus {
        self.dispute.status
    }
    /// How staff settled it, once RESOLVED.
    async fn resolution(&self) -> Option<DisputeResolution> {
        self.dispute.resolution
    }
    /// Staff's note with the resolution.
    async fn resolution_note(&self) -> Option<&str> {
        self.dispute.resolution_note.as_deref()
    }
    /// The refund of a REFUND resolution.
    async fn refund_id(&self) -> Option<ID> {
        self.dispute.refund_id.map(to_id)
    }
    /// The messages of both sides, oldest first.
    async fn messages(&self) -> &[DisputeMessage] {
        &self.messages
    }
    /// When it was opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.dispute.created_at
    }
    /// When it was resolved.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.dispute.resolved_at
    }
}

/// A message in a dispute, with its evidence.
#[Object]
impl DisputeMessage {
    /// Which side wrote it.
    async fn side(&self) -> DisputeSide {
        if self.side == DisputeSide::Staff {
            DisputeSide::Staff
        } else {
            DisputeSide::Customer
        }
    }
    /// What it says.
    async fn body(&self) -> &str {
        &self.body
    }
    /// Links to photos or documents.
    async fn evidence(&self) -> &[String] {
        &self.evidence
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Units of an order line to send back.
#[derive(InputObject)]
pub struct ReturnLineRequest {
    /// The order line.
    pub order_line_id: ID,
    /// Units, at least 1 and at most those bought and not yet in another return.
    pub quantity: i32,
}

/// A return to ask for.
#[derive(InputObject)]
pub struct ReturnRequestInput {
    /// The order (its lines must be delivered).
    pub order_id: OrderId,
    /// 1 to 100 lines, each once.
    pub lines: Vec<ReturnLineRequest>,
    /// Why, 1 to 500 characters.
    pub reason: String,
}

/// A return to act on.
#[derive(InputObject)]
pub struct ReturnInput {
    /// The return.
    pub return_id: ReturnId,
}

/// A return to reject.
#[derive(InputObject)]
pub struct ReturnRejectInput {
    /// The return.
    pub return_id: ReturnId,
    /// Why, for the customer; at most 500 characters.
    pub note: Option<String>,
}

/// A return whose parcel arrived.
#[derive(InputObject)]
pub struct ReturnReceiveInput {
    /// The return.
    pub return_id: ReturnId,
    /// Put the units back into stock where they were sold from (default true; false for
    /// damaged goods).
    pub restock: Option<bool>,
}

// Written out rather than declared with `cityos_core::payload!`: its refund is null on success
// too (every mutation but `returnRefund`).
/// The result of a return mutation.
#[derive(SimpleObject)]

pub struct ReturnPayload {
    /// The return as it is now; null when refused.
    #[graphql(name = "return")]
    pub ret: Option<ReturnWithLines>,
    /// The refund made, for `returnRefund`.
    pub refund: Option<Refund>,
    /// Why it was refused; empty on success.
    pub user_errors: Vec<OrdersUserError>,
}

fn return_payload(outcome: Outcome<ReturnWithLines>) -> Result<ReturnPayload> {
    let (ret, user_errors) = into_payload(outcome)?;
    Ok(ReturnPayload {
        ret,
        refund: None,
        user_errors,
    })
}

/// A dispute to open.
#[derive(InputObject)]
pub struct DisputeOpenInput {
    /// The order.
    pub order_id: OrderId,
    /// What it is about.
    pub reason: DisputeReason,
    /// The first message, 1 to 5,000 characters.
    pub message: String,
    /// Up to 10 `https://` links to photos or documents.
    pub evidence: Option<Vec<String>>,
}

/// A message to add to a dispute.
#[derive(InputObject)]
pub struct DisputeMessageAddInput {
    /// The dispute.
    pub dispute_id: DisputeId,
    /// 1 to 5,000 characters.
    pub message: String,
    /// Up to 10 `https://` links to photos or documents.
    pub evidence: Option<Vec<String>>,
}

/// A dispute to act on.
#[derive(InputObject)]
pub struct DisputeInput {
    /// The dispute.
    pub dispute_id: DisputeId,
}

/// How staff settle a dispute.
#[derive(InputObject)]
pub struct DisputeResolveInput {
    /// The dispute.
    pub dispute_id: DisputeId,
    /// Refund, replace or reject.
    pub resolution: DisputeResolution,
    /// For REFUND (required there): how much to pay back, in minor units.
    pub refund_amount_minor: Option<i64>,
    /// For the customer, at most 1,000 characters.
    pub note: Option<String>,
}

cityos_core::payload! {
    /// The result of a dispute mutation.
    DisputePayload<OrdersUserError> {
        /// The dispute as it is now; null when refused.
        dispute: DisputeThread,
    }
}

fn dispute_payload(outcome: Outcome<DisputeThread>) -> Result<DisputePayload> {
    Ok(DisputePayload::of(outcome)?)
}

/// Returns and disputes.
#[derive(Default)]
pub struct AftercareMutation;

#[Object]
impl AftercareMutation {
    /// Asks to return delivered units (the order's customer, or staff for them).
    async fn return_request(
        &self,
        ctx: &Context<'_>,
        input: ReturnRequestInput,
    ) -> Result<ReturnPayload> {
        let order = input.order_id;
        let lines = input
            .lines
            .iter()
            .map(|l| {
                Ok(ReturnLineInput {
                    order_line_id: parse_id(&l.order_line_id)?,
                    quantity: l.quantity,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return_payload(returns::request(ctx.db(), ctx.request()?, order, lines, input.reason).await)
    }

    /// Approves a requested return (staff).
    async fn return_approve(&self, ctx: &Context<'_>, input: ReturnInput) -> Result<ReturnPayload> {
        let id = input.return_id;
        return_payload(returns::approve(ctx.db(), ctx.request()?, id).await)
    }

    /// Rejects a requested or approved return (staff).
    async fn return_reject(
        &self,
        ctx: &Context<'_>,
        input: ReturnRejectInput,
    ) -> Result<ReturnPayload> {
        let id = input.return_id;
        return_payload(returns::reject(ctx.db(), ctx.request()?, id, input.note).await)
    }

    /// Records that an approved return arrived (staff), restocking its units unless told not to.
    async fn return_receive(
        &self,
        ctx: &Context<'_>,
        input: ReturnReceiveInput,
    ) -> Result<ReturnPayload> {
        let id = input.return_id;
        let restock = input.restock.unwrap_or(true);
        return_payload(returns::receive(ctx.db(), ctx.request()?, id, restock).await)
    }

    /// Pays a received return's value back through the order's payment provider (staff); a
    /// credit note is issued.
    async fn return_refund(&self, ctx: &Context<'_>, input: ReturnInput) -> Result<ReturnPayload> {
        let id = input.return_id;
        let outcome = returns::refund(ctx.db(), ctx.request()?, gateway(ctx), id).await;
        let (done, user_errors) = into_payload(outcome)?;
        let (ret, refund) = done.map_or((None, None), |(r, f)| (Some(r), Some(f)));
        Ok(ReturnPayload {
            ret,
            refund,
            user_errors,
        })
    }

    /// Opens a dispute on an order (its customer, or staff for them); one in progress per order.
    async fn dispute_open(
        &self,
        ctx: &Context<'_>,
        input: DisputeOpenInput,
    ) -> Result<DisputePayload> {
        let order = input.order_id;
        let evidence = input.evidence.unwrap_or_default();
        dispute_payload(
            disputes::open(
                ctx.db(),
                ctx.request()?,
                order,
                input.reason,
                input.message,
                evidence,
            )
            .await,
        )
    }

    /// Adds a message with evidence to a dispute in progress (the customer or staff).
    async fn dispute_message_add(
        &self,
        ctx: &Context<'_>,
        input: DisputeMessageAddInput,
    ) -> Result<DisputePayload> {
        let id = input.dispute_id;
        let evidence = input.evidence.unwrap_or_default();
        dispute_payload(
            disputes::message(ctx.db(), ctx.request()?, id, input.message, evidence).await,
        )
    }

    /// Takes an open dispute under review (staff).
    async fn dispute_review(
        &self,
        ctx: &Context<'_>,
        input: DisputeInput,
    ) -> Result<DisputePayload> {
        let id = input.dispute_id;
        dispute_payload(disputes::review(ctx.db(), ctx.request()?, id).await)
    }

    /// Resolves a dispute (staff): refund an amount, replace, or reject.
    async fn dispute_resolve(
        &self,
        ctx: &Context<'_>,
        input: DisputeResolveInput,
    ) -> Result<DisputePayload> {
        let id = input.dispute_id;
        let outcome = disputes::resolve(
            ctx.db(),
            ctx.request()?,
            gateway(ctx),
            id,
            input.resolution,
            input.note,
            input.refund_amount_minor,
        )
        .await;
        dispute_payload(outcome)
    }

    /// Withdraws a dispute in progress (its customer).
    async fn dispute_withdraw(
        &self,
        ctx: &Context<'_>,
        input: DisputeInput,
    ) -> Result<DisputePayload> {
        let id = input.dispute_id;
        dispute_payload(disputes::withdraw(ctx.db(), ctx.request()?, id).await)
    }
}
