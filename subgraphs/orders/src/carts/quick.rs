//! Quick order and reorder: many lines at once, each judged on its own.
//!
//! A B2B buyer pastes a list of (SKU, quantity), or asks for a past order again; every line that
//! can be bought now (a known SKU, on sale, priced in the cart's currency, in stock for the line's
//! new quantity, within the cart's 100 lines) is added, and every other line is reported with its
//! own code instead of refusing the whole list. The same SKU twice counts once, with the units
//! added up. Two statements before the writes (the SKUs, the trial pricing), one upsert per line
//! added.

use super::{
    Cart, CartLine, LineProblem, MAX_LINES, MAX_QUANTITY, PricedCart, check_count, lines_of,
    open_cart, price, priced, touch,
};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{CartId, CartLineId, OrderId, VariantId};
use crate::schema::cart_lines;
use chrono::Utc;
use cityos_core::{ApiError, RequestContext};
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// One line of a quick order.
#[derive(Debug, Clone)]
pub struct SkuLine {
    pub sku: String,
    pub quantity: i32,
}

/// A line of a quick order or reorder that was not added to the cart, and why.
#[derive(async_graphql::SimpleObject, Debug, Clone, PartialEq, Eq)]
#[graphql(name = "CartLineRefusal")]
pub struct LineRefusal {
    /// Its position in the list given (0 for the first), or in the past order's lines.
    pub index: i32,
    /// Its SKU, as given.
    pub sku: String,
    /// Why: UNKNOWN_SKU, VARIANT_UNAVAILABLE, NO_PRICE, INSUFFICIENT_STOCK, INVALID_QUANTITY
    /// or INVALID_COUNT (the cart is full).
    pub code: Code,
    /// The reason, for people.
    pub message: String,
}

/// The cart after a quick order or reorder, and the lines it did not take.
pub type QuickOrder = (PricedCart, Vec<LineRefusal>);

/// A line to try: where it came from, its SKU and, once known, its variant.
struct Wanted {
    index: usize,
    sku: String,
    quantity: i32,
    variant: Option<VariantId>,
}

fn refusal(w: &Wanted, code: Code, message: impl Into<String>) -> LineRefusal {
    LineRefusal {
        index: i32::try_from(w.index).unwrap_or(i32::MAX),
        sku: w.sku.clone(),
        code,
        message: message.into(),
    }
}

/// Adds `lines` by SKU to `cart` (see the module documentation). The list holds 1 to 100 lines.
#[tracing::instrument(name = "cart.quick_order", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart))]
pub async fn quick_order(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    lines: Vec<SkuLine>,
) -> Outcome<QuickOrder> {
    check_count(lines.len(), "lines", "lines")?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let open = open_cart(tx, &ctx, cart, "cartId").await?;
        let mut refused = Vec::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        for (index, line) in lines.into_iter().enumerate() {
            let sku = line.sku.trim().to_owned();
            let w = Wanted {
                index,
                sku,
                quantity: line.quantity,
                variant: None,
            };
            if w.sku.is_empty() || w.sku.chars().count() > 64 || w.sku.chars().any(char::is_control)
            {
                refused.push(refusal(
                    &w,
                    Code::UnknownSku,
                    "a SKU has 1 to 64 characters",
                ));
            } else if !(1..=MAX_QUANTITY).contains(&w.quantity) {
                let message = format!("a quantity is 1 to {MAX_QUANTITY}");
                refused.push(refusal(&w, Code::InvalidQuantity, message));
            } else if let Some(first) = wanted.iter_mut().find(|o| o.sku == w.sku) {
                first.quantity = first.quantity.saturating_add(w.quantity);
            } else {
                wanted.push(w);
            }
        }
        let skus: Vec<String> = wanted.iter().map(|w| w.sku.clone()).collect();
        let found = catalog::api::variants_by_sku(tx, &skus).await?;
        for w in &mut wanted {
            w.variant = found.get(&w.sku).copied();
        }
        add_available(tx, open, wanted, &mut refused).await?;
        refused.sort_by_key(|r| r.index);
        let cart = touch(tx, cart).await?;
        Ok((priced(tx, cart).await?, refused))
    })
    .await
}

/// Adds the lines of `wanted` that can be bought now to the locked, open `cart`; the others go
/// to `refused`.
async fn add_available(
    tx: &mut TenantTx<'_>,
    cart: Cart,
    wanted: Vec<Wanted>,
    refused: &mut Vec<LineRefusal>,
) -> Outcome<()> {
    let cart_id = cart.id;
    let existing = lines_of(tx, cart_id).await?;
    let mut trial = existing.clone();
    let mut known = Vec::new();
    for w in wanted {
        let Some(variant) = w.variant else {
            let message = format!("there is no product with SKU {}", w.sku);
            refused.push(refusal(&w, Code::UnknownSku, message));
            continue;
        };
        match trial.iter_mut().find(|l| l.variant_id == Some(variant)) {
            Some(line) => line.quantity = line.quantity.saturating_add(w.quantity),
            None => trial.push(CartLine {
                id: CartLineId::new(),
                cart_id,
                variant_id: Some(variant),
                quantity: w.quantity,
                gift_wrap: false,
                gift_message: None,
                created_at: Utc::now(),
                hold_id: None,
            }),
        }
        known.push((w, variant));
    }
    if known.is_empty() {
        return Ok(());
    }
    let judged = price(tx, cart, trial).await?;
    let mut lines = existing.len();
    for (w, variant) in known {
        let Some(line) = judged
            .lines
            .iter()
            .find(|l| l.line.variant_id == Some(variant))
        else {
            return Err(ApiError::internal("a trial line vanished").into());
        };
        let before = existing.iter().find(|l| l.variant_id == Some(variant));
        if line.line.quantity > MAX_QUANTITY {
            let message = format!("a line holds at most {MAX_QUANTITY} units");
            refused.push(refusal(&w, Code::InvalidQuantity, message));
            continue;
        }
        if let Some(problem) = line.problem {
            let code = match problem {
                LineProblem::Unavailable => Code::VariantUnavailable,
                LineProblem::NoPrice => Code::NoPrice,
                LineProblem::InsufficientStock => Code::InsufficientStock,
                LineProblem::HoldExpired => Code::HoldExpired,
            };
            let message = match problem {
                LineProblem::InsufficientStock => {
                    format!("only {} units are available", line.available().max(0))
                }
                other => other.refusal("").message,
            };
            refused.push(refusal(&w, code, message));
            continue;
        }
        if before.is_none() {
            if lines >= MAX_LINES {
                let message = format!("a cart holds at most {MAX_LINES} lines");
                refused.push(refusal(&w, Code::InvalidCount, message));
                continue;
            }
            lines += 1;
        }
        diesel::insert_into(cart_lines::table)
            .values((
                cart_lines::tenant_id.eq(tx.tenant()),
                cart_lines::id.eq(CartLineId::new()),
                cart_lines::cart_id.eq(cart_id),
                cart_lines::variant_id.eq(variant),
                cart_lines::quantity.eq(line.line.quantity),
            ))
            .on_conflict((
                cart_lines::tenant_id,
                cart_lines::cart_id,
                cart_lines::variant_id,
            ))
            .do_update()
            .set(cart_lines::quantity.eq(line.line.quantity))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Puts the lines of the caller's past order `order` into a cart again: their open personal
/// cart (made if they have none), or a new company cart when they act for a company. Lines that
/// cannot be bought now are reported, not added. Only the customer who placed the order may.
#[tracing::instrument(name = "cart.reorder", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), order.id = %order))]
pub async fn reorder(db: &Database, ctx: &RequestContext, order: OrderId) -> Outcome<QuickOrder> {
    let (tenant, customer) = (ctx.tenant()?.id, ctx.user_id()?);
    #[derive(diesel::QueryableByName)]
    struct Past {
        #[diesel(sql_type = diesel::sql_types::Text)]
        currency: String,
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        lines: serde_json::Value,
    }
    let past: Option<Past> = db
        .tenant_tx(tenant, async move |tx| {
            cityos_db::Prepared(
                diesel::sql_query(
                    "SELECT o.currency, coalesce((SELECT jsonb_agg(jsonb_build_object(
                            'sku', l.sku, 'variant', l.variant_id, 'quantity', l.quantity)
                            ORDER BY l.position)
                         FROM orders.order_lines l
                         WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id
                           AND l.variant_id IS NOT NULL), '[]') AS lines
                     FROM orders.orders o WHERE o.id = $1 AND o.customer_id = $2",
                )
                .bind::<diesel::sql_types::Uuid, _>(order)
                .bind::<diesel::sql_types::Uuid, _>(customer),
            )
            .get_result(tx.conn())
            .await
            .optional()
            .map_err(ApiError::from)
        })
        .await?;
    let Some(past) = past else {
        return Err(UserError::new("orderId", Code::NotFound, "no such order").into());
    };
    #[derive(serde::Deserialize)]
    struct PastLine {
        sku: String,
        variant: VariantId,
        quantity: i32,
    }
    let lines: Vec<PastLine> = serde_json::from_value(past.lines).map_err(ApiError::internal)?;
    let cart = super::create(db, ctx, Some(past.currency), None).await?;
    let id = cart.cart.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let open = open_cart(tx, &ctx, id, "cartId").await?;
        let wanted = lines
            .into_iter()
            .enumerate()
            .map(|(index, l)| Wanted {
                index,
                sku: l.sku,
                quantity: l.quantity,
                variant: Some(l.variant),
            })
            .collect();
        let mut refused = Vec::new();
        add_available(tx, open, wanted, &mut refused).await?;
        refused.sort_by_key(|r| r.index);
        let cart = touch(tx, id).await?;
        Ok((priced(tx, cart).await?, refused))
    })
    .await
}
