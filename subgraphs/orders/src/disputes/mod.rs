//! Disputes: OPEN -> UNDER_REVIEW -> RESOLVED, or WITHDRAWN by the customer.
//!
//! A customer (or staff for them) opens a dispute on an order with a reason and a first message;
//! an order has at most one dispute in progress. Both sides add messages with evidence (links to
//! photos or documents) while it is in progress. Staff take it under review and resolve it: REFUND
//! (an amount, paid back through the order's payment provider; should the provider refuse, the
//! dispute is UNDER_REVIEW again), REPLACE (the shop sends the items again) or REJECT. Every step
//! writes an outbox event.

pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, UserError, optional_text, refusal};
use crate::ids::{DisputeId, DisputeMessageId, OrderId, RefundId, TenantId, UserId};
use crate::orders;
use crate::payments::Gateway;
use crate::refunds::{self, Refund};
use crate::schema::{dispute_messages, disputes};
use chrono::{DateTime, Utc};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// Where a dispute stands.
    pub enum DisputeStatus {
        /// Opened; waiting for staff.
        Open = "OPEN",
        /// Staff are looking into it.
        UnderReview = "UNDER_REVIEW",
        /// Staff decided (see `resolution`).
        Resolved = "RESOLVED",
        /// The customer took it back.
        Withdrawn = "WITHDRAWN",
    }
    transitions {
        Open -> UnderReview | Resolved | Withdrawn,
        UnderReview -> Resolved | Withdrawn,
    }
}

impl DisputeStatus {
    /// Whether messages may still be added.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Open | Self::UnderReview)
    }
}

cityos_core::states! {
    /// What the dispute is about.
    pub enum DisputeReason {
        /// The order did not arrive.
        NotReceived = "NOT_RECEIVED",
        /// What arrived is not what was described.
        NotAsDescribed = "NOT_AS_DESCRIBED",
        /// It arrived damaged.
        Damaged = "DAMAGED",
        /// The customer did not place or pay for it.
        Unauthorized = "UNAUTHORIZED",
        /// Something else (say what in the message).
        Other = "OTHER",
    }
}

cityos_core::states! {
    /// How staff settled a dispute.
    pub enum DisputeResolution {
        /// Money paid back (`refundAmountMinor`).
        Refund = "REFUND",
        /// The items are sent again.
        Replace = "REPLACE",
        /// The claim is refused.
        Reject = "REJECT",
    }
}

cityos_core::states! {
    /// Which side wrote a message.
    pub enum DisputeSide {
        /// The customer.
        Customer = "CUSTOMER",
        /// The shop's staff.
        Staff = "STAFF",
    }
}

/// A dispute as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = disputes, check_for_backend(diesel::pg::Pg))]
pub struct Dispute {
    pub tenant_id: TenantId,
    pub id: DisputeId,
    pub order_id: OrderId,
    pub reason: DisputeReason,
    pub status: DisputeStatus,
    pub resolution: Option<DisputeResolution>,
    pub resolution_note: Option<String>,
    pub refund_id: Option<RefundId>,
    pub opened_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A message in a dispute.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = dispute_messages, check_for_backend(diesel::pg::Pg))]
pub struct DisputeMessage {
    pub id: DisputeMessageId,
    pub dispute_id: DisputeId,
    pub author_id: Option<UserId>,
    pub side: DisputeSide,
    pub body: String,
    pub evidence: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A dispute with its messages, oldest first.
#[derive(Debug, Clone)]
pub struct DisputeThread {
    pub dispute: Dispute,
    pub messages: Vec<DisputeMessage>,
}

/// The disputes of orders with their messages, by order: two statements.
pub async fn of_orders(
    tx: &mut TenantTx<'_>,
    orders: &[OrderId],
) -> QueryResult<HashMap<OrderId, Vec<DisputeThread>>> {
    let found: Vec<Dispute> = disputes::table
        .filter(disputes::order_id.eq_any(orders))
        .order(disputes::id)
        .select(Dispute::as_select())
        .load(tx.conn())
        .await?;
    let ids: Vec<DisputeId> = found.iter().map(|d| d.id).collect();
    let messages: Vec<DisputeMessage> = dispute_messages::table
        .filter(dispute_messages::dispute_id.eq_any(&ids))
        .order(dispute_messages::id)
        .select(DisputeMessage::as_select())
        .load(tx.conn())
        .await?;
    let mut messages = orders::group(messages, |c| c.dispute_id);
    let found = found.into_iter().map(|dispute| DisputeThread {
        messages: messages.remove(&dispute.id).unwrap_or_default(),
        dispute,
    });
    Ok(orders::group(found.collect(), |x| x.dispute.order_id))
}

/// A message's body and evidence links, checked: 1 to 5,000 characters; at most 10 `https://`
/// links of at most 500 characters.
fn checked_message(body: String, evidence: Vec<String>) -> Outcome<(String, Vec<String>)> {
    let body = body.trim().to_owned();
    if !(1..=5000).contains(&body.chars().count()) {
        return Err(refusal(
            "message",
            Code::InvalidText,
            "a message has 1 to 5,000 characters",
        ));
    }
    if evidence.len() > 10 {
        return Err(refusal(
            "evidence",
            Code::InvalidCount,
            "at most 10 pieces of evidence",
        ));
    }
    let mut links = Vec::with_capacity(evidence.len());
    for (i, link) in evidence.into_iter().enumerate() {
        let link = link.trim().to_owned();
        if !link.starts_with("https://") || link.len() > 500 || link.contains(char::is_whitespace) {
            return Err(refusal(
                &format!("evidence.{i}"),
                Code::InvalidText,
                "evidence is an https:// link of at most 500 characters",
            ));
        }
        links.push(link);
    }
    Ok((body, links))
}

/// The dispute `id` with its order locked (order first); a customer only reaches their own.
async fn locked(
    tx: &mut TenantTx<'_>,
    id: DisputeId,
    staff: bool,
    caller: Option<UserId>,
) -> Outcome<Dispute> {
    let not_found = || refusal("disputeId", Code::NotFound, "no such dispute");
    let order: OrderId = disputes::table
        .filter(disputes::id.eq(id))
        .select(disputes::order_id)
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(not_found)?;
    let order = orders::locked(tx, order, "disputeId").await?;
    if !staff && order.customer_id != caller {
        return Err(not_found());
    }
    Ok(disputes::table
        .filter(disputes::id.eq(id))
        .select(Dispute::as_select())
        .for_update()
        .first(tx.conn())
        .await?)
}

fn refuse_transition(from: DisputeStatus, to: DisputeStatus) -> Failure<Code> {
    refusal(
        "disputeId",
        Code::InvalidTransition,
        format!("a {} dispute cannot become {}", from.as_str(), to.as_str()),
    )
}

async fn add_message(
    tx: &mut TenantTx<'_>,
    dispute: &Dispute,
    author: Option<UserId>,
    side: DisputeSide,
    body: &str,
    evidence: &[String],
) -> QueryResult<()> {
    diesel::insert_into(dispute_messages::table)
        .values((
            dispute_messages::tenant_id.eq(dispute.tenant_id),
            dispute_messages::id.eq(DisputeMessageId::new()),
            dispute_messages::dispute_id.eq(dispute.id),
            dispute_messages::author_id.eq(author),
            dispute_messages::side.eq(match side {
                DisputeSide::Customer => "CUSTOMER",
                DisputeSide::Staff => "STAFF",
            }),
            dispute_messages::body.eq(body),
            dispute_messages::evidence.eq(evidence),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Writes the event of `change` for a dispute as it now is.
async fn publish(
    tx: &mut TenantTx<'_>,
    dispute: &Dispute,
    change: DisputeChange,
) -> QueryResult<()> {
    let event = DisputeChanged {
        dispute_id: dispute.id,
        order_id: dispute.order_id,
        status: dispute.status,
        reason: dispute.reason,
        resolution: dispute.resolution,
        refund_id: dispute.refund_id,
        change,
    };
    crate::OUTBOX.publish(tx, dispute.id, &event).await
}

async fn reread(tx: &mut TenantTx<'_>, id: DisputeId) -> Outcome<DisputeThread> {
    let order: OrderId = disputes::table
        .filter(disputes::id.eq(id))
        .select(disputes::order_id)
        .first(tx.conn())
        .await?;
    of_orders(tx, &[order])
        .await?
        .remove(&order)
        .and_then(|all| all.into_iter().find(|d| d.dispute.id == id))
        .ok_or_else(|| ApiError::internal("a dispute vanished in its own transaction").into())
}

fn side_of(staff: bool) -> DisputeSide {
    if staff {
        DisputeSide::Staff
    } else {
        DisputeSide::Customer
    }
}

/// Opens a dispute on an order: its customer, or staff for them.
#[tracing::instrument(name = "dispute.open", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), order.id = %order_id))]
pub async fn open(
    db: &Database,
    ctx: &RequestContext,
    order_id: OrderId,
    reason: DisputeReason,
    message: String,
    evidence: Vec<String>,
) -> Outcome<DisputeThread> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff {
        ctx.user_id()?;
    }
    let (body, evidence) = checked_message(message, evidence)?;
    db.tenant_tx(tenant, async move |tx| {
        let order = orders::locked(tx, order_id, "orderId").await?;
        if !staff && order.customer_id != caller {
            return Err(refusal("orderId", Code::NotFound, "no such order"));
        }
        let dispute: Dispute = diesel::insert_into(disputes::table)
            .values((
                disputes::tenant_id.eq(tenant),
                disputes::id.eq(DisputeId::new()),
                disputes::order_id.eq(order_id),
                disputes::reason.eq(reason),
                disputes::opened_by.eq(caller),
            ))
            .returning(Dispute::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("disputes_open_per_order", e, || {
                    UserError::new(
                        "orderId",
                        Code::DisputeInProgress,
                        "this order already has a dispute in progress",
                    )
                })
            })?;
        add_message(tx, &dispute, caller, side_of(staff), &body, &evidence).await?;
        publish(tx, &dispute, DisputeChange::Opened).await?;
        reread(tx, dispute.id).await
    })
    .await
}

/// Adds a message with evidence to a dispute in progress: the order's customer, or staff.
#[tracing::instrument(name = "dispute.message", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), dispute.id = %id))]
pub async fn message(
    db: &Database,
    ctx: &RequestContext,
    id: DisputeId,
    body: String,
    evidence: Vec<String>,
) -> Outcome<DisputeThread> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    let caller = ctx.user_id().ok();
    if !staff {
        ctx.user_id()?;
    }
    let (body, evidence) = checked_message(body, evidence)?;
    db.tenant_tx(tenant, async move |tx| {
        let dispute = locked(tx, id, staff, caller).await?;
        let status = dispute.status;
        if !status.in_progress() {
            return Err(refusal(
                "disputeId",
                Code::InvalidTransition,
                format!("a {} dispute takes no more messages", status.as_str()),
            ));
        }
        add_message(tx, &dispute, caller, side_of(staff), &body, &evidence).await?;
        diesel::update(disputes::table.filter(disputes::id.eq(id)))
            .set(disputes::updated_at.eq(diesel::dsl::now))
            .execute(tx.conn())
            .await?;
        publish(tx, &dispute, DisputeChange::Message).await?;
        reread(tx, id).await
    })
    .await
}

async fn transition(
    tx: &mut TenantTx<'_>,
    dispute: &Dispute,
    to: DisputeStatus,
    resolution: Option<(DisputeResolution, Option<&str>, Option<RefundId>)>,
) -> Outcome<()> {
    let from = dispute.status;
    if !from.can_become(to) {
        return Err(refuse_transition(from, to));
    }
    let resolved = to == DisputeStatus::Resolved;
    let updated: Dispute = diesel::update(disputes::table.filter(disputes::id.eq(dispute.id)))
        .set((
            disputes::status.eq(to),
            disputes::resolution.eq(resolution.map(|r| r.0.as_str())),
            disputes::resolution_note.eq(resolution.and_then(|r| r.1)),
            disputes::refund_id.eq(resolution.and_then(|r| r.2)),
            disputes::resolved_at.eq(resolved.then(Utc::now)),
            disputes::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Dispute::as_returning())
        .get_result(tx.conn())
        .await?;
    publish(tx, &updated, DisputeChange::Moved).await?;
    Ok(())
}

/// Takes an open dispute under review (staff).
#[tracing::instrument(name = "dispute.review", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), dispute.id = %id))]
pub async fn review(db: &Database, ctx: &RequestContext, id: DisputeId) -> Outcome<DisputeThread> {
    db.staff(ctx, "dispute.review", async move |tx| {
        let dispute = locked(tx, id, true, None).await?;
        transition(tx, &dispute, DisputeStatus::UnderReview, None).await?;
        let value = reread(tx, id).await?;
        let audit = Audit::of(id, serde_json::json!({}));
        Ok((value, audit))
    })
    .await
}

/// Withdraws a dispute in progress (its customer).
#[tracing::instrument(name = "dispute.withdraw", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), dispute.id = %id))]
pub async fn withdraw(
    db: &Database,
    ctx: &RequestContext,
    id: DisputeId,
) -> Outcome<DisputeThread> {
    let tenant = ctx.tenant()?.id;
    let caller = Some(ctx.user_id()?);
    db.tenant_tx(tenant, async move |tx| {
        let dispute = locked(tx, id, false, caller).await?;
        transition(tx, &dispute, DisputeStatus::Withdrawn, None).await?;
        reread(tx, id).await
    })
    .await
}

/// Resolves a dispute in progress (staff): a refund of `refund_amount` through the order's
/// payment provider, a replacement, or a rejection, with a note for the customer.
#[tracing::instrument(name = "dispute.resolve", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), dispute.id = %id))]
pub async fn resolve(
    db: &Database,
    ctx: &RequestContext,
    gateway: &Gateway,
    id: DisputeId,
    resolution: DisputeResolution,
    note: Option<String>,
    refund_amount: Option<i64>,
) -> Outcome<DisputeThread> {
    let reserved = db
        .staff(ctx, "dispute.resolve", async move |tx| {
            let note = optional_text::<1000>(note, "note", "a note has at most 1,000 characters")?;
            let amount = match (resolution, refund_amount) {
                (DisputeResolution::Refund, Some(a)) => Some(a),
                (DisputeResolution::Refund, None) => {
                    return Err(refusal(
                        "refundAmountMinor",
                        Code::InvalidAmount,
                        "a REFUND resolution needs the amount to pay back",
                    ));
                }
                (_, Some(_)) => {
                    return Err(refusal(
                        "refundAmountMinor",
                        Code::InvalidAmount,
                        "only a REFUND resolution pays money back",
                    ));
                }
                (_, None) => None,
            };

            let dispute = locked(tx, id, true, None).await?;
            let from = dispute.status;
            if !from.can_become(DisputeStatus::Resolved) {
                return Err(refuse_transition(from, DisputeStatus::Resolved));
            }
            let reserved = match amount {
                Some(amount) => {
                    let payment = refunds::refundable_payment(tx, dispute.order_id)
                        .await?
                        .ok_or_else(|| {
                            refusal(
                                "refundAmountMinor",
                                Code::RefundExceedsCaptured,
                                "nothing was captured on this order",
                            )
                        })?;
                    let reason = format!("dispute {}", dispute.id);
                    Some(refunds::reserve(tx, payment, amount, &reason, "refundAmountMinor").await?)
                }
                None => None,
            };
            let refund = reserved.as_ref().map(|(_, r)| r.id);
            let settled = (resolution, note.as_deref(), refund);
            transition(tx, &dispute, DisputeStatus::Resolved, Some(settled)).await?;
            let audit = Audit::of(
                id,
                serde_json::json!({ "resolution": resolution, "refund": amount }),
            );
            Ok::<_, Failure<Code>>((reserved, audit))
        })
        .await?;
    if let Some((payment, refund)) = reserved {
        let _: Refund = refunds::execute(
            db,
            gateway,
            payment,
            refund,
            Some(|tx, refund| Box::pin(refund_failed(tx, refund))),
        )
        .await?;
    }
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| reread(tx, id).await)
        .await
}

/// A refund resolving a dispute failed at the provider: the dispute is UNDER_REVIEW again.
async fn refund_failed(tx: &mut TenantTx<'_>, refund: RefundId) -> QueryResult<()> {
    diesel::update(disputes::table.filter(disputes::refund_id.eq(refund)))
        .set((
            disputes::status.eq(DisputeStatus::UnderReview.as_str()),
            disputes::resolution.eq(None::<String>),
            disputes::resolution_note.eq(None::<String>),
            disputes::refund_id.eq(None::<RefundId>),
            disputes::resolved_at.eq(None::<DateTime<Utc>>),
            disputes::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// `dispute.opened`, `dispute.message` or `dispute.<status>`: a dispute was opened, written on,
/// or moved on.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DisputeChanged {
    pub dispute_id: DisputeId,
    pub order_id: OrderId,
    pub status: DisputeStatus,
    pub reason: DisputeReason,
    pub resolution: Option<DisputeResolution>,
    pub refund_id: Option<RefundId>,
    #[serde(skip)]
    pub change: DisputeChange,
}

/// What happened to a dispute, naming [`DisputeChanged`]'s topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeChange {
    /// `dispute.opened`.
    Opened,
    /// `dispute.message`.
    Message,
    /// `dispute.<status>`.
    Moved,
}

impl Topic for DisputeChanged {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        match self.change {
            DisputeChange::Opened => std::borrow::Cow::Borrowed("dispute.opened"),
            DisputeChange::Message => std::borrow::Cow::Borrowed("dispute.message"),
            DisputeChange::Moved => lifecycle_topic("dispute", self.status.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DisputeStatus::{self, *};
    use super::checked_message;

    #[test]
    fn the_dispute_lifecycle_is_its_transition_table() {
        let all = [Open, UnderReview, Resolved, Withdrawn];
        let allowed = [
            (Open, UnderReview),
            (Open, Resolved),
            (Open, Withdrawn),
            (UnderReview, Resolved),
            (UnderReview, Withdrawn),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
            assert_eq!(DisputeStatus::parse(from.as_str()), Ok(from));
        }
    }

    #[test]
    fn messages_and_evidence_are_checked() {
        assert!(checked_message("  ".into(), vec![]).is_err());
        assert!(checked_message("x".repeat(5001), vec![]).is_err());
        assert!(checked_message("ok".into(), vec!["http://photo".into()]).is_err());
        assert!(checked_message("ok".into(), vec!["https://a b".into()]).is_err());
        assert!(checked_message("ok".into(), vec!["https://x".into(); 11]).is_err());
        let (body, links) = checked_message(
            " The box was crushed ".into(),
            vec![" https://img.test/1.jpg ".into()],
        )
        .expect("valid");
        assert_eq!(
            (body.as_str(), links[0].as_str()),
            ("The box was crushed", "https://img.test/1.jpg")
        );
    }
}
