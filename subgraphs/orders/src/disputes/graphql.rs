//! Disputes in GraphQL: `Dispute` with its messages, and the dispute mutations.

use crate::disputes::{
    self, DisputeMessage, DisputeReason, DisputeResolution, DisputeSide, DisputeStatus,
    DisputeThread,
};
use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{DisputeId, OrderId};
use crate::scope::gateway;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

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

fn dispute_payload(outcome: Outcome<DisputeThread>) -> Result<DisputePayload> {
    Ok(DisputePayload::of(outcome)?)
}

cityos_core::payload! {
    /// The result of a dispute mutation.
    DisputePayload<OrdersUserError> {
        /// The dispute as it is now; null when refused.
        dispute: DisputeThread,
    }
}

/// The mutations of disputes.
#[derive(Default)]
pub struct DisputeMutation;

#[Object]
impl DisputeMutation {
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
