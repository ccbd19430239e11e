//! Checkout in GraphQL: `checkoutComplete`, which turns a cart into an order or, for a company
//! whose approval rule applies, into an approval request; the requests and their decisions.

use crate::checkout::approvals::{
    self, ApprovalRequest, ApprovalStatus, Decision, SnapshotLine, decisions_of,
};
use crate::checkout::{self, Checkout, CheckoutRequest};
use crate::errors::OrdersUserError;
use crate::federation::Company;
use crate::ids::{ApprovalRequestId, CartId};
use crate::orders::Order;
use crate::payments::PaymentMethod;
use crate::scope::{OrdersLoader, children, gateway, money};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;

/// Checking out a cart.
#[derive(InputObject)]
pub struct CheckoutCompleteInput {
    /// The cart.
    pub cart_id: CartId,
    /// A key the client makes for this attempt (1 to 100 characters) and repeats on retry: the
    /// same key returns the same order; used with another cart it is refused.
    pub idempotency_key: String,
    /// How the customer pays; cash on delivery when omitted.
    pub payment_method: Option<PaymentMethod>,
    /// The total the shopper was shown, in minor units: checkout refuses with PRICE_CHANGED if the
    /// cart costs something else now.
    pub expected_total_minor: Option<i64>,
    /// The buyer's purchase-order number (1 to 64 characters), recorded on the order; a company
    /// may require one (PURCHASE_ORDER_REQUIRED).
    pub purchase_order_number: Option<String>,
}

/// The result of `checkoutComplete`: an order, or an approval request the cart waits on.
#[derive(SimpleObject)]
pub struct CheckoutPayload {
    /// The order placed; null when refused, or when the checkout waits for approval.
    pub order: Option<Order>,
    /// The approval request the checkout became (a company's approval rule applies): the order
    /// is placed when its last level approves.
    pub approval_request: Option<ApprovalRequest>,
    /// Why it was refused; empty on success.
    pub user_errors: Vec<OrdersUserError>,
}

cityos_core::payload! {
    /// The result of an approval request mutation.
    ApprovalRequestPayload<OrdersUserError> {
        /// The request as it now is; null when refused.
        approval_request: ApprovalRequest,
    }
}

/// A decision on an approval request.
#[derive(InputObject)]
pub struct ApprovalDecisionInput {
    /// The request.
    pub id: ApprovalRequestId,
    /// The version decided on, as last read: another is STALE_VERSION.
    pub version: i32,
    /// Why, at most 1,000 characters.
    pub comment: Option<String>,
}

/// An approval request to withdraw.
#[derive(InputObject)]
pub struct ApprovalWithdrawInput {
    /// The request.
    pub id: ApprovalRequestId,
}

/// The mutations of checkout and approvals.
#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places the order for a cart in one transaction: re-prices it, takes the stock, writes the
    /// order split by vendor, starts the payment and closes the cart. Retrying with the same
    /// idempotency key returns the same order. A company cart is held to its company's rules:
    /// membership, the buyer's per-order and monthly limits, a required purchase-order number,
    /// and for ON_ACCOUNT its NET terms and credit limit (the order is then confirmed and
    /// invoiced at once); when one of the company's approval rules applies, the cart is frozen
    /// and the payload carries the approval request instead of an order.
    async fn checkout_complete(
        &self,
        ctx: &Context<'_>,
        input: CheckoutCompleteInput,
    ) -> Result<CheckoutPayload> {
        let asked = CheckoutRequest {
            cart_id: input.cart_id,
            idempotency_key: input.idempotency_key,
            payment_method: input
                .payment_method
                .unwrap_or(PaymentMethod::CashOnDelivery),
            expected_total: input.expected_total_minor,
            purchase_order_number: input.purchase_order_number,
        };
        let done = checkout::complete(ctx.db(), ctx.request()?, asked, gateway(ctx)).await;
        let empty = CheckoutPayload {
            order: None,
            approval_request: None,
            user_errors: Vec::new(),
        };
        match done {
            Ok(Checkout::Placed(order)) => Ok(CheckoutPayload {
                order: Some(order),
                ..empty
            }),
            Ok(Checkout::AwaitingApproval(request)) => Ok(CheckoutPayload {
                approval_request: Some(request),
                ..empty
            }),
            Err(cityos_core::Failure::User(e)) => Ok(CheckoutPayload {
                user_errors: vec![e.into()],
                ..empty
            }),
            Err(cityos_core::Failure::Api(e)) => Err(e.into()),
        }
    }

    /// Approves the current level of an approval request (one of its approvers, acting for the
    /// company): the next level waits, or the last places the order from the frozen cart, once
    /// (FAILED with PRICE_CHANGED if it no longer prices as approved).
    async fn approval_request_approve(
        &self,
        ctx: &Context<'_>,
        input: ApprovalDecisionInput,
    ) -> Result<ApprovalRequestPayload> {
        let done = approvals::decide(
            ctx.db(),
            ctx.request()?,
            input.id,
            input.version,
            true,
            input.comment,
            gateway(ctx),
        )
        .await;
        Ok(ApprovalRequestPayload::of(done)?)
    }

    /// Rejects an approval request (one of its current level's approvers, acting for the
    /// company): its cart opens again.
    async fn approval_request_reject(
        &self,
        ctx: &Context<'_>,
        input: ApprovalDecisionInput,
    ) -> Result<ApprovalRequestPayload> {
        let done = approvals::decide(
            ctx.db(),
            ctx.request()?,
            input.id,
            input.version,
            false,
            input.comment,
            gateway(ctx),
        )
        .await;
        Ok(ApprovalRequestPayload::of(done)?)
    }

    /// Takes a pending approval request back (its buyer): the cart opens again for changes.
    async fn approval_request_withdraw(
        &self,
        ctx: &Context<'_>,
        input: ApprovalWithdrawInput,
    ) -> Result<ApprovalRequestPayload> {
        let done = approvals::withdraw(ctx.db(), ctx.request()?, input.id).await;
        Ok(ApprovalRequestPayload::of(done)?)
    }
}

cityos_core::connection!(
    ApprovalRequestConnection,
    ApprovalRequestEdge,
    ApprovalRequest,
    "approval request"
);

/// The queries of approvals.
#[derive(Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// An approval request of the company the caller acts for: its buyer, its approvers and the
    /// company's admins see it; null for anyone else.
    async fn approval_request(
        &self,
        ctx: &Context<'_>,
        id: ApprovalRequestId,
    ) -> Result<Option<ApprovalRequest>> {
        Ok(approvals::get(ctx.db(), ctx.request()?, id).await?)
    }

    /// The approval requests of the company the caller acts for, newest first: every one for its
    /// admins, else those the caller made or approves; optionally in one status.
    #[graphql(complexity = "cityos_core::paging::page_cost(first, last, child_complexity)")]
    async fn approval_requests(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<ApprovalStatus>,
    ) -> Result<ApprovalRequestConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(approvals::page(ctx.db(), ctx.request()?, status, page)
            .await?
            .into())
    }
}

crate::scope::children_of!(
    DecisionsOf(ApprovalRequestId) => Decision,
    decisions_of,
    "decisions on an approval request"
);

/// A company buyer's checkout waiting for (or decided by) the company's approvers.
#[Object]
impl ApprovalRequest {
    /// The request's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Where it stands.
    async fn status(&self) -> ApprovalStatus {
        self.status
    }
    /// Its version: every decision makes a new one, and a decision names the version it saw.
    async fn version(&self) -> i32 {
        self.version
    }
    /// The company.
    async fn company(&self) -> Company {
        Company {
            id: to_id(self.company_id),
        }
    }
    /// The buyer's user id.
    async fn buyer_id(&self) -> ID {
        to_id(self.buyer_id)
    }
    /// The cart it froze.
    async fn cart_id(&self) -> ID {
        to_id(self.cart_id)
    }
    /// The name of the approval rule that applied.
    async fn rule_name(&self) -> &str {
        &self.rule_name
    }
    /// What the frozen cart costs in all.
    async fn total(&self) -> Money {
        money(self.total, self.currency)
    }
    /// The frozen cart's lines, as approved.
    async fn lines(&self) -> Vec<ApprovalLine> {
        self.frozen()
            .map(|s| {
                s.lines
                    .into_iter()
                    .map(|l| ApprovalLine {
                        currency: s.currency,
                        line: l,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The SHA-256 of the snapshot approved (hex).
    async fn snapshot_hash(&self) -> &str {
        &self.snapshot_hash
    }
    /// The chain, level by level, with who approves each.
    async fn levels(&self) -> Vec<ApprovalRequestLevel> {
        self.chain()
            .into_iter()
            .map(|l| ApprovalRequestLevel {
                mode: l.mode,
                approver_ids: l.approvers.into_iter().map(to_id).collect(),
            })
            .collect()
    }
    /// The level waiting (0 for the first).
    async fn current_level(&self) -> i32 {
        self.level
    }
    /// Every decision so far, oldest first.
    async fn decisions(&self, ctx: &Context<'_>) -> Result<Vec<Decision>> {
        children(ctx, DecisionsOf(self.id)).await
    }
    /// How the buyer pays.
    async fn payment_method(&self) -> PaymentMethod {
        self.payment_method
    }
    /// The buyer's purchase-order number.
    async fn purchase_order_number(&self) -> Option<&str> {
        self.purchase_order_number.as_deref()
    }
    /// The order placed on the last approval.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        match self.order_id {
            None => Ok(None),
            Some(id) => Ok(ctx.loader::<OrdersLoader>()?.load_one(id).await?),
        }
    }
    /// Why it failed when approved (PRICE_CHANGED, CREDIT_LIMIT_EXCEEDED, ...).
    async fn failure_code(&self) -> Option<&str> {
        self.failure_code.as_deref()
    }
    /// When it expires unless decided.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A line of an approval request's frozen cart.
pub struct ApprovalLine {
    currency: cityos_core::money::Currency,
    line: SnapshotLine,
}

#[Object]
impl ApprovalLine {
    /// The variant's id; null on a booking line.
    async fn variant_id(&self) -> Option<ID> {
        self.line.variant_id.map(to_id)
    }
    /// Its SKU.
    async fn sku(&self) -> &str {
        &self.line.sku
    }
    /// The product's title.
    async fn title(&self) -> &str {
        &self.line.title
    }
    /// Units.
    async fn quantity(&self) -> i32 {
        self.line.quantity
    }
    /// The unit price approved.
    async fn unit_price(&self) -> Money {
        money(self.line.unit_price, self.currency)
    }
    /// The line's total approved (after its discount, with tax added where prices exclude it).
    async fn total(&self) -> Money {
        money(self.line.total, self.currency)
    }
}

/// A level of an approval request's chain.
#[derive(SimpleObject)]
pub struct ApprovalRequestLevel {
    /// ANY one of its approvers, or ALL of them.
    pub mode: vendors::api::ApprovalMode,
    /// The members who approve it.
    pub approver_ids: Vec<ID>,
}

/// An approver's decision.
#[Object(name = "ApprovalDecision")]
impl Decision {
    /// The level decided (0 for the first).
    async fn level(&self) -> i32 {
        self.level
    }
    /// Who decided.
    async fn approver_id(&self) -> ID {
        to_id(self.approver_id)
    }
    /// APPROVED or REJECTED.
    async fn decision(&self) -> &str {
        &self.decision
    }
    /// Their comment.
    async fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}
