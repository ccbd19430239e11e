//! Approval requests: a company buyer's checkout that meets one of the company's approval rules
//! waits for its approvers instead of becoming an order.
//!
//! At checkout, after the company's rules hold ([`super::company`]), the company's active rules
//! (`vendors::api::approval_rules`, in position order) are matched against the priced cart; the
//! first that matches turns the checkout into a request: the cart is frozen (PENDING_APPROVAL,
//! it takes no changes) and recorded as a snapshot (lines, prices, totals, currency) with its
//! SHA-256 hash, and each level of the rule's chain is resolved to the members who approve it
//! (`vendors::api::approvers`; never the buyer). Its total counts toward the buyer's monthly limit
//! while it waits.
//!
//! Approvers acting for the company decide level by level with the request's `version` (a
//! decision on another version is STALE_VERSION): one rejection rejects it; a level passes with
//! ANY one approval, or ALL of its approvers'. Under the request's row lock, the approval that
//! passes the last level re-prices the cart: if it no longer prices to the snapshot's hash the
//! request FAILS with PRICE_CHANGED; if the company's rules no longer hold (its credit, its
//! status) it FAILS with their code; otherwise the order is placed as checkout places it, exactly
//! once (racing final approvals queue on the lock and find it decided). A rejected, failed,
//! expired (the `approval.expire` job, after the company's approval days) or withdrawn request
//! opens the cart again; changing it then needs a new request. Every step writes
//! `approval_request.<status>` (`approval_request.level_approved` between levels).

use super::company::{self, Account};
use super::{check_ready, place};
use crate::carts::{self, Cart, CartStatus, PricedCart};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{
    ApprovalDecisionId, ApprovalRequestId, CartId, CompanyId, OrderId, TenantId, UserId,
};
use crate::payments::PaymentMethod;
use crate::schema::carts as carts_table;
use chrono::{DateTime, Duration, Utc};
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, CompanyRole, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use cityos_db::{Database, Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vendors::api::ApprovalMode;

cityos_core::states! {
    /// Where an approval request stands.
    pub enum ApprovalStatus {
        /// Waiting for the approvers of its current level.
        Pending = "PENDING",
        /// Approved at every level; its order is placed.
        Approved = "APPROVED",
        /// An approver rejected it.
        Rejected = "REJECTED",
        /// Nobody finished deciding within the company's approval days.
        Expired = "EXPIRED",
        /// The buyer took it back.
        Withdrawn = "WITHDRAWN",
        /// Approved, but the order could not be placed as approved (see `failureCode`).
        Failed = "FAILED",
    }
    transitions {
        Pending -> Approved | Rejected | Expired | Withdrawn | Failed,
    }
}

/// One level of a request's chain, with the members who approve it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLevel {
    pub mode: ApprovalMode,
    pub approvers: Vec<UserId>,
}

/// A line of the frozen cart.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotLine {
    /// `None` on a booking line.
    pub variant_id: Option<crate::ids::VariantId>,
    pub sku: String,
    pub title: String,
    pub quantity: i32,
    pub unit_price: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

/// The frozen cart: what the approvers approve.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub currency: Currency,
    pub lines: Vec<SnapshotLine>,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub total: i64,
}

impl Snapshot {
    /// The snapshot of a priced cart.
    pub fn of(priced: &PricedCart) -> Self {
        let totals = &priced.totals;
        Self {
            currency: priced.cart.currency,
            lines: priced
                .lines
                .iter()
                .map(|l| SnapshotLine {
                    variant_id: l.line.variant_id,
                    sku: l
                        .item
                        .as_ref()
                        .map(|i| i.variant.variant.sku.clone())
                        .unwrap_or_default(),
                    title: match &l.booking {
                        Some(held) => held.service_name.clone(),
                        None => l
                            .item
                            .as_ref()
                            .map(|i| i.product_title.clone())
                            .unwrap_or_default(),
                    },
                    quantity: l.line.quantity,
                    unit_price: l.quote.map_or(0, |q| q.unit_price.amount),
                    subtotal: l.amounts.subtotal,
                    discount: l.amounts.discount,
                    tax: l.amounts.tax.amount,
                    total: l.amounts.total,
                })
                .collect(),
            subtotal: totals.subtotal,
            discount_total: totals.discount_total,
            shipping_total: totals.shipping_total,
            tax_total: totals.tax_total,
            total: totals.total,
        }
    }

    /// Its SHA-256 over its JSON form (fields in declaration order), in hex.
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&json)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// An approval request as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct ApprovalRequest {
    #[diesel(sql_type = SqlUuid)]
    pub id: ApprovalRequestId,
    #[diesel(sql_type = SqlUuid)]
    pub company_id: CompanyId,
    #[diesel(sql_type = SqlUuid)]
    pub cart_id: CartId,
    #[diesel(sql_type = SqlUuid)]
    pub buyer_id: UserId,
    #[diesel(sql_type = Text)]
    pub rule_name: String,
    #[diesel(sql_type = Text)]
    pub status: ApprovalStatus,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = Jsonb)]
    pub snapshot: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub snapshot_hash: String,
    #[diesel(sql_type = Jsonb)]
    pub levels: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub level: i32,
    #[diesel(sql_type = Text)]
    pub payment_method: PaymentMethod,
    #[diesel(sql_type = Nullable<Text>)]
    pub purchase_order_number: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub order_id: Option<OrderId>,
    #[diesel(sql_type = Nullable<Text>)]
    pub failure_code: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, company_id, cart_id, buyer_id, rule_name, status, version, currency, \
    total, snapshot, snapshot_hash, levels, level, payment_method, purchase_order_number, \
    order_id, failure_code, expires_at, created_at, updated_at";

impl ApprovalRequest {
    /// Its chain, each level with its approvers.
    pub fn chain(&self) -> Vec<ResolvedLevel> {
        serde_json::from_value(self.levels.clone()).unwrap_or_default()
    }

    /// The frozen cart.
    pub fn frozen(&self) -> Option<Snapshot> {
        serde_json::from_value(self.snapshot.clone()).ok()
    }

    /// Whether `user` approves its current level.
    pub fn awaits(&self, user: UserId) -> bool {
        self.status == ApprovalStatus::Pending
            && self
                .chain()
                .get(usize::try_from(self.level).unwrap_or(usize::MAX))
                .is_some_and(|l| l.approvers.contains(&user))
    }
}

/// A decision as stored.
#[derive(QueryableByName, Debug, Clone)]
pub struct Decision {
    #[diesel(sql_type = SqlUuid)]
    pub request_id: ApprovalRequestId,
    #[diesel(sql_type = Integer)]
    pub level: i32,
    #[diesel(sql_type = SqlUuid)]
    pub approver_id: UserId,
    #[diesel(sql_type = Text)]
    pub decision: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub comment: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The decisions on each of `requests`, oldest first.
pub async fn decisions_of(
    tx: &mut TenantTx<'_>,
    requests: &[ApprovalRequestId],
) -> QueryResult<std::collections::HashMap<ApprovalRequestId, Vec<Decision>>> {
    let rows: Vec<Decision> = Prepared(
        diesel::sql_query(
            "SELECT request_id, level, approver_id, decision, comment, created_at
             FROM orders.approval_decisions WHERE request_id = ANY ($1)
             ORDER BY request_id, created_at, id",
        )
        .bind::<Array<SqlUuid>, _>(requests),
    )
    .load(tx.conn())
    .await?;
    Ok(crate::orders::group(rows, |d| d.request_id))
}

/// `approval_request.<status>` (and `approval_request.level_approved`): a request was made or
/// moved on.
#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalChanged<'a> {
    pub request_id: ApprovalRequestId,
    pub company_id: CompanyId,
    pub buyer_id: UserId,
    /// `level_approved` between levels, else the request's status in lower case.
    pub step: &'a str,
    pub status: ApprovalStatus,
    pub level: i32,
    pub version: i32,
    pub total: i64,
    pub currency: Currency,
    pub order_id: Option<OrderId>,
    pub failure_code: Option<&'a str>,
}

impl Topic for ApprovalChanged<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("approval_request", self.step)
    }
}

async fn publish(tx: &mut TenantTx<'_>, r: &ApprovalRequest, step: &str) -> QueryResult<()> {
    let event = ApprovalChanged {
        request_id: r.id,
        company_id: r.company_id,
        buyer_id: r.buyer_id,
        step,
        status: r.status,
        level: r.level,
        version: r.version,
        total: r.total,
        currency: r.currency,
        order_id: r.order_id,
        failure_code: r.failure_code.as_deref(),
    };
    crate::OUTBOX.publish(tx, r.id, &event).await
}

/// Turns a company checkout that meets one of the company's approval rules into a request
/// (see the module documentation); `None` when no rule matches.
pub async fn route(
    tx: &mut TenantTx<'_>,
    priced: &PricedCart,
    account: &Account,
    method: PaymentMethod,
) -> Outcome<Option<ApprovalRequest>> {
    let (Some(company), Some(role), Some(buyer)) = (
        account.company_id,
        account.buyer_role,
        priced.cart.customer_id,
    ) else {
        return Ok(None);
    };
    let rules = vendors::api::approval_rules(tx, company).await?;
    let mut categories: Vec<catalog::api::CategoryId> = priced
        .lines
        .iter()
        .filter_map(|l| l.item.as_ref())
        .flat_map(|i| i.categories.iter().copied())
        .collect();
    categories.sort_unstable();
    categories.dedup();
    let checkout = vendors::api::RuleCheckout {
        total: priced.totals.total,
        currency: priced.cart.currency,
        buyer_role: role,
        categories: &categories,
    };
    let Some(rule) = rules.into_iter().find(|r| r.matches(&checkout)) else {
        return Ok(None);
    };
    let mut levels = Vec::new();
    for (i, level) in rule.chain().iter().enumerate() {
        let mut approvers = vendors::api::approvers(tx, company, level).await?;
        approvers.retain(|a| *a != buyer);
        if approvers.is_empty() {
            return Err(UserError::new(
                "cartId",
                Code::NoApprovers,
                format!(
                    "level {} of the approval rule \"{}\" has nobody but you to approve it",
                    i + 1,
                    rule.name
                ),
            )
            .into());
        }
        levels.push(ResolvedLevel {
            mode: level.mode,
            approvers,
        });
    }
    let snapshot = Snapshot::of(priced);
    let hash = snapshot.hash();
    let snapshot = serde_json::to_value(&snapshot).map_err(ApiError::internal)?;
    let levels = serde_json::to_value(&levels).map_err(ApiError::internal)?;
    let expires_at = Utc::now() + Duration::days(i64::from(account.approval_days));
    let request: ApprovalRequest = Prepared(
        diesel::sql_query(format!(
            "INSERT INTO orders.approval_requests (tenant_id, id, company_id, cart_id, buyer_id,
                rule_id, rule_name, currency, total, snapshot, snapshot_hash, levels,
                payment_method, purchase_order_number, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(ApprovalRequestId::new())
        .bind::<SqlUuid, _>(company)
        .bind::<SqlUuid, _>(priced.cart.id)
        .bind::<SqlUuid, _>(buyer)
        .bind::<SqlUuid, _>(rule.id)
        .bind::<Text, _>(&rule.name)
        .bind::<Text, _>(&priced.cart.currency)
        .bind::<BigInt, _>(priced.totals.total)
        .bind::<Jsonb, _>(&snapshot)
        .bind::<Text, _>(&hash)
        .bind::<Jsonb, _>(&levels)
        .bind::<Text, _>(method)
        .bind::<Nullable<Text>, _>(account.purchase_order.as_deref())
        .bind::<Timestamptz, _>(expires_at),
    )
    .get_result(tx.conn())
    .await?;
    set_cart_status(tx, priced.cart.id, CartStatus::PendingApproval).await?;
    crate::JOBS
        .schedule(
            tx,
            &ApprovalExpiry {
                request_id: request.id,
            },
            expires_at,
        )
        .await?;
    publish(tx, &request, "pending").await?;
    Ok(Some(request))
}

async fn set_cart_status(tx: &mut TenantTx<'_>, cart: CartId, to: CartStatus) -> QueryResult<()> {
    let target = carts_table::table.filter(carts_table::id.eq(cart));
    if to != CartStatus::Open {
        diesel::update(target)
            .set((
                carts_table::status.eq(to),
                carts_table::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        return Ok(());
    }
    // Open again: its life starts again, as after any change.
    let expires_at = Utc::now() + carts::LIFETIME;
    diesel::update(target)
        .set((
            carts_table::status.eq(to),
            carts_table::updated_at.eq(diesel::dsl::now),
            carts_table::expires_at.eq(expires_at),
        ))
        .execute(tx.conn())
        .await?;
    carts::expiry::schedule(tx, cart, expires_at).await
}

/// The pending request of `cart`, if it has one (a retried checkout of a cart that became one
/// gets it back).
pub async fn pending_for_cart(
    tx: &mut TenantTx<'_>,
    cart: CartId,
) -> QueryResult<Option<ApprovalRequest>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.approval_requests WHERE cart_id = $1 AND status = 'PENDING'"
        ))
        .bind::<SqlUuid, _>(cart),
    )
    .get_result(tx.conn())
    .await
    .optional()
}

/// The request `id`, locked.
async fn locked(tx: &mut TenantTx<'_>, id: ApprovalRequestId) -> Outcome<ApprovalRequest> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.approval_requests WHERE id = $1 FOR UPDATE"
        ))
        .bind::<SqlUuid, _>(id),
    )
    .get_result(tx.conn())
    .await
    .optional()?
    .ok_or_else(|| UserError::new("id", Code::NotFound, "no such approval request").into())
}

/// Moves a locked request on: its status, level and failure, one more version.
async fn save(
    tx: &mut TenantTx<'_>,
    r: &ApprovalRequest,
    status: ApprovalStatus,
    level: i32,
    order: Option<OrderId>,
    failure: Option<&str>,
) -> QueryResult<ApprovalRequest> {
    Prepared(
        diesel::sql_query(format!(
            "UPDATE orders.approval_requests SET status = $2, level = $3, order_id = $4,
                failure_code = $5, version = version + 1, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(r.id)
        .bind::<Text, _>(status)
        .bind::<Integer, _>(level)
        .bind::<Nullable<SqlUuid>, _>(order)
        .bind::<Nullable<Text>, _>(failure),
    )
    .get_result(tx.conn())
    .await
}

/// Closes a locked pending request as `status` (REJECTED, EXPIRED, WITHDRAWN, FAILED), opening
/// its cart again and writing its event.
async fn close(
    tx: &mut TenantTx<'_>,
    r: &ApprovalRequest,
    status: ApprovalStatus,
    failure: Option<&str>,
) -> Outcome<ApprovalRequest> {
    let closed = save(tx, r, status, r.level, None, failure).await?;
    set_cart_status(tx, r.cart_id, CartStatus::Open).await?;
    let step = status.as_str().to_ascii_lowercase();
    publish(tx, &closed, &step).await?;
    Ok(closed)
}

fn open_or_refuse(r: &ApprovalRequest, version: Option<i32>) -> Outcome<()> {
    if r.status == ApprovalStatus::Pending && r.expires_at <= Utc::now() {
        // Past its time, before the expiry job has closed it: decided by nobody any more.
        return Err(UserError::new("id", Code::RequestClosed, "the request has expired").into());
    }
    if r.status != ApprovalStatus::Pending {
        return Err(UserError::new(
            "id",
            Code::RequestClosed,
            format!(
                "the request is {} already",
                r.status.as_str().to_ascii_lowercase()
            ),
        )
        .into());
    }
    if let Some(v) = version
        && v != r.version
    {
        return Err(UserError::new(
            "version",
            Code::StaleVersion,
            format!("the request is at version {} now; read it again", r.version),
        )
        .into());
    }
    Ok(())
}

/// The company whose member the caller acts for, and their user id.
fn acting(ctx: &RequestContext) -> Result<(CompanyId, UserId), ApiError> {
    let scope = ctx.require_company(CompanyRole::Buyer)?;
    Ok((scope.id, ctx.user_id()?))
}

/// An approver's decision on request `id` at `version`, with an optional comment (at most 1,000
/// characters): see the module documentation.
#[tracing::instrument(name = "approval.decide", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), approval.id = %id))]
pub async fn decide(
    db: &Database,
    ctx: &RequestContext,
    id: ApprovalRequestId,
    version: i32,
    approve: bool,
    comment: Option<String>,
    gateway: &crate::payments::Gateway,
) -> Outcome<ApprovalRequest> {
    let comment = crate::errors::optional_text::<1000>(
        comment,
        "comment",
        "a comment has at most 1,000 characters",
    )?;
    let (company, user) = acting(ctx)?;
    let action = if approve {
        "approval.approve"
    } else {
        "approval.reject"
    };
    let tenant = ctx.tenant()?.id;
    let decided: ApprovalRequest = db
        .recorded(ctx, action, async move |tx| {
            let r = locked(tx, id).await?;
            if r.company_id != company {
                return Err(
                    UserError::new("id", Code::NotFound, "no such approval request").into(),
                );
            }
            open_or_refuse(&r, Some(version))?;
            let still_member = vendors::api::member_role(tx, company, user)
                .await?
                .is_some();
            if !still_member || !r.awaits(user) {
                return Err(UserError::new(
                    "id",
                    Code::NotAnApprover,
                    "you do not approve this level of the request",
                )
                .into());
            }
            let inserted = Prepared(
                diesel::sql_query(
                    "INSERT INTO orders.approval_decisions (tenant_id, id, request_id, level,
                    approver_id, decision, comment)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT ON CONSTRAINT approval_decisions_once DO NOTHING",
                )
                .bind::<SqlUuid, _>(tx.tenant())
                .bind::<SqlUuid, _>(ApprovalDecisionId::new())
                .bind::<SqlUuid, _>(r.id)
                .bind::<Integer, _>(r.level)
                .bind::<SqlUuid, _>(user)
                .bind::<Text, _>(if approve { "APPROVED" } else { "REJECTED" })
                .bind::<Nullable<Text>, _>(comment.as_deref()),
            )
            .execute(tx.conn())
            .await?;
            if inserted == 0 {
                return Err(UserError::new(
                    "id",
                    Code::NotAnApprover,
                    "you decided on this level already",
                )
                .into());
            }
            let moved = if approve {
                approved(tx, &r).await?
            } else {
                close(tx, &r, ApprovalStatus::Rejected, None).await?
            };
            let audit = Audit::of(
                id,
                serde_json::json!({
                    "level": r.level, "approve": approve, "version": version,
                    "status": moved.status, "order": moved.order_id,
                }),
            );
            Ok::<_, crate::errors::Failure>((moved, audit))
        })
        .await?;
    // A card order's PaymentIntent is created after the commit, as at checkout.
    if let (Some(order), Some(stripe)) = (decided.order_id, &gateway.stripe)
        && decided.payment_method == PaymentMethod::Card
    {
        super::start_card_payments(db, tenant, stripe, order).await?;
    }
    Ok(decided)
}

/// After an approval is recorded on the locked pending `r`: the level passes (ANY, or ALL have
/// approved), the next level waits, or the last places the order.
async fn approved(tx: &mut TenantTx<'_>, r: &ApprovalRequest) -> Outcome<ApprovalRequest> {
    let chain = r.chain();
    let Some(level) = chain.get(usize::try_from(r.level).unwrap_or(usize::MAX)) else {
        return Err(ApiError::internal("an approval request past its chain").into());
    };
    if level.mode == ApprovalMode::All {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let done: Count = Prepared(
            diesel::sql_query(
                "SELECT count(*) AS n FROM orders.approval_decisions
                 WHERE request_id = $1 AND level = $2 AND decision = 'APPROVED'",
            )
            .bind::<SqlUuid, _>(r.id)
            .bind::<Integer, _>(r.level),
        )
        .get_result(tx.conn())
        .await?;
        if done.n < i64::try_from(level.approvers.len()).unwrap_or(i64::MAX) {
            // Still waiting for others of this level: a new version all the same.
            return Ok(save(tx, r, ApprovalStatus::Pending, r.level, None, None).await?);
        }
    }
    let next = r.level + 1;
    if usize::try_from(next).unwrap_or(usize::MAX) < chain.len() {
        let moved = save(tx, r, ApprovalStatus::Pending, next, None, None).await?;
        publish(tx, &moved, "level_approved").await?;
        return Ok(moved);
    }
    place_approved(tx, r).await
}

/// The last approval: the order from the frozen cart, if it still prices to the snapshot and the
/// company's rules still hold; else the request FAILS with why.
async fn place_approved(tx: &mut TenantTx<'_>, r: &ApprovalRequest) -> Outcome<ApprovalRequest> {
    let cart: Cart = carts_table::table
        .filter(carts_table::id.eq(r.cart_id))
        .select(Cart::as_select())
        .for_update()
        .first(tx.conn())
        .await?;
    if let Some(code) = &cart.discount_code {
        crate::discounts::lock(tx, code).await?;
    }
    let priced = carts::priced(tx, cart).await?;
    if Snapshot::of(&priced).hash() != r.snapshot_hash {
        return close(tx, r, ApprovalStatus::Failed, Some("PRICE_CHANGED")).await;
    }
    let po = r.purchase_order_number.clone();
    let checked = match check_ready(&priced, None) {
        Ok(()) => company::check(tx, &priced, r.payment_method, po, Some(r.id)).await,
        Err(e) => Err(e),
    };
    let account = match checked {
        Ok(account) => account,
        Err(cityos_core::Failure::User(e)) => {
            let code = match async_graphql::InputType::to_value(&e.code) {
                async_graphql::Value::Enum(name) => name.to_string(),
                other => other.to_string(),
            };
            return close(tx, r, ApprovalStatus::Failed, Some(&code)).await;
        }
        Err(other) => return Err(other),
    };
    let key = format!("approval-{}", r.id);
    let order = place(
        tx,
        &priced,
        &account,
        &key,
        r.payment_method,
        Some(r.buyer_id),
    )
    .await?;
    let done = save(
        tx,
        r,
        ApprovalStatus::Approved,
        r.level,
        Some(order.id),
        None,
    )
    .await?;
    publish(tx, &done, "approved").await?;
    Ok(done)
}

/// The buyer takes their pending request back: its cart opens again.
pub async fn withdraw(
    db: &Database,
    ctx: &RequestContext,
    id: ApprovalRequestId,
) -> Outcome<ApprovalRequest> {
    let user = ctx.user_id()?;
    db.recorded(ctx, "approval.withdraw", async move |tx| {
        let r = locked(tx, id).await?;
        if r.buyer_id != user {
            return Err(UserError::new("id", Code::NotFound, "no such approval request").into());
        }
        open_or_refuse(&r, None)?;
        let closed = close(tx, &r, ApprovalStatus::Withdrawn, None).await?;
        let audit = Audit::of(id, serde_json::json!({ "cart": r.cart_id }));
        Ok((closed, audit))
    })
    .await
}

/// Who may see request `r`: its buyer, its company's admins, its approvers (acting for it).
fn visible_to(r: &ApprovalRequest, ctx: &RequestContext) -> bool {
    let Some(scope) = ctx.company else {
        return false;
    };
    let Ok(user) = ctx.user_id() else {
        return false;
    };
    scope.id == r.company_id
        && (r.buyer_id == user
            || scope.role == CompanyRole::Admin
            || r.chain().iter().any(|l| l.approvers.contains(&user)))
}

/// Request `id` if the caller may see it.
pub async fn get(
    db: &Database,
    ctx: &RequestContext,
    id: ApprovalRequestId,
) -> Result<Option<ApprovalRequest>, ApiError> {
    let tenant: TenantId = ctx.tenant()?.id;
    let found: Option<ApprovalRequest> = db
        .tenant_tx(tenant, async move |tx| {
            Prepared(
                diesel::sql_query(format!(
                    "SELECT {COLUMNS} FROM orders.approval_requests WHERE id = $1"
                ))
                .bind::<SqlUuid, _>(id),
            )
            .get_result(tx.conn())
            .await
            .optional()
            .map_err(ApiError::from)
        })
        .await?;
    Ok(found.filter(|r| visible_to(r, ctx)))
}

/// The requests of company `$1`, in status `$2` (any when NULL), that user `$4` made or approves
/// (every one when `$3`).
const LISTED: &str = "company_id = $1 AND ($2::text IS NULL OR status = $2)
    AND ($3 OR buyer_id = $4 OR levels @> jsonb_build_array(jsonb_build_object(
        'approvers', jsonb_build_array($4::text))))";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many requests of `company` are PENDING, and the `limit` oldest of them: every one, or
/// (with `only`) those that user made or approves. Two statements.
pub async fn pending(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
    only: Option<UserId>,
    limit: i64,
) -> QueryResult<(i64, Vec<ApprovalRequest>)> {
    let status = Some(ApprovalStatus::Pending.as_str());
    let user = only.map_or_else(uuid::Uuid::nil, Into::into);
    let total: Count = Prepared(
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM orders.approval_requests WHERE {LISTED}"
        ))
        .bind::<SqlUuid, _>(company)
        .bind::<Nullable<Text>, _>(status)
        .bind::<diesel::sql_types::Bool, _>(only.is_none())
        .bind::<SqlUuid, _>(user),
    )
    .get_result(tx.conn())
    .await?;
    let oldest: Vec<ApprovalRequest> = Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS} FROM orders.approval_requests WHERE {LISTED}
             ORDER BY created_at, id LIMIT $5"
        ))
        .bind::<SqlUuid, _>(company)
        .bind::<Nullable<Text>, _>(status)
        .bind::<diesel::sql_types::Bool, _>(only.is_none())
        .bind::<SqlUuid, _>(user)
        .bind::<BigInt, _>(limit),
    )
    .load(tx.conn())
    .await?;
    Ok((total.n, oldest))
}

/// A page of the requests of the company the caller acts for, newest first, in `status` when
/// given: all of them for its admins, else those the caller made or approves.
pub async fn page(
    db: &Database,
    ctx: &RequestContext,
    status: Option<ApprovalStatus>,
    page: PageRequest<ApprovalRequestId>,
) -> Result<Page<ApprovalRequest>, ApiError> {
    let (company, user) = acting(ctx)?;
    let all = ctx.company.is_some_and(|c| c.role == CompanyRole::Admin);
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        let filter = LISTED;
        let status = status.map(|s| s.as_str());
        let total: Count = Prepared(
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM orders.approval_requests WHERE {filter}"
            ))
            .bind::<SqlUuid, _>(company)
            .bind::<Nullable<Text>, _>(status)
            .bind::<diesel::sql_types::Bool, _>(all)
            .bind::<SqlUuid, _>(user),
        )
        .get_result(tx.conn())
        .await?;
        let (direction, older, newer) = page.newest_first();
        let rows: Vec<ApprovalRequest> = Prepared(
            diesel::sql_query(format!(
                "SELECT {COLUMNS} FROM orders.approval_requests WHERE {filter}
                   AND ($5::uuid IS NULL OR id < $5) AND ($6::uuid IS NULL OR id > $6)
                 ORDER BY id {direction} LIMIT $7"
            ))
            .bind::<SqlUuid, _>(company)
            .bind::<Nullable<Text>, _>(status)
            .bind::<diesel::sql_types::Bool, _>(all)
            .bind::<SqlUuid, _>(user)
            .bind::<Nullable<SqlUuid>, _>(older)
            .bind::<Nullable<SqlUuid>, _>(newer)
            .bind::<BigInt, _>(page.fetch_limit()),
        )
        .load(tx.conn())
        .await?;
        Ok(page.finish(rows, |r| r.id, total.n))
    })
    .await
}

/// The `approval.expire` job of a request, due at its `expires_at`: a request still pending then
/// EXPIRES and its cart opens again.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalExpiry {
    pub request_id: ApprovalRequestId,
}

impl cityos_db::jobs::Job for ApprovalExpiry {
    const NAME: &'static str = "approval.expire";

    fn key(&self) -> String {
        self.request_id.to_string()
    }

    async fn run(
        self,
        tx: &mut TenantTx<'_>,
        _: &cityos_db::jobs::Provided,
    ) -> Result<cityos_db::jobs::Next, ApiError> {
        let r = match locked(tx, self.request_id).await {
            Ok(r) => r,
            Err(cityos_core::Failure::User(_)) => return Ok(cityos_db::jobs::Next::Done),
            Err(cityos_core::Failure::Api(e)) => return Err(e),
        };
        if r.status == ApprovalStatus::Pending && r.expires_at <= Utc::now() {
            close(tx, &r, ApprovalStatus::Expired, None)
                .await
                .map_err(cityos_core::Failure::into_api)?;
        }
        Ok(cityos_db::jobs::Next::Done)
    }
}
