//! Returns in GraphQL: `Return` with its lines, and the return mutations.

use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{OrderId, ReturnId};
use crate::refunds::Refund;
use crate::returns::{self, ReturnLine, ReturnLineInput, ReturnStatus, ReturnWithLines};
use crate::scope::{gateway, order_money};
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

/// The mutations of returns.
#[derive(Default)]
pub struct ReturnMutation;

#[Object]
impl ReturnMutation {
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
}
