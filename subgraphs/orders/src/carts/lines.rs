//! A cart's lines: adding, changing and removing them within the cart's limits (lines, quantities,
//! gift messages), and booking lines (a bookings hold's seats) put in and taken out.

use super::{MAX_QUANTITY, PricedCart, check_count, open_cart, priced_after_change};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{CartId, CartLineId, HoldId, VariantId};
use crate::schema::cart_lines;
use chrono::Utc;
use cityos_core::{Failure, RequestContext};
use cityos_db::Database;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::RunQueryDsl;
use std::collections::HashSet;

/// A line to add or change.
#[derive(Debug, Clone)]
pub struct LineInput {
    pub variant_id: VariantId,
    /// Units; for an update, `None` keeps the quantity.
    pub quantity: Option<i32>,
    pub gift_wrap: Option<bool>,
    /// `Some("")` removes the message.
    pub gift_message: Option<String>,
}

fn check_lines(lines: &[LineInput]) -> Outcome<()> {
    check_count(lines.len(), "lines", "lines")?;
    let mut seen = HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        if !seen.insert(line.variant_id) {
            return Err(UserError::new(
                &format!("lines.{i}.variantId"),
                Code::DuplicateVariant,
                "this variant is given twice",
            )
            .into());
        }
        if line
            .quantity
            .is_some_and(|q| !(1..=MAX_QUANTITY).contains(&q))
        {
            return Err(UserError::new(
                &format!("lines.{i}.quantity"),
                Code::InvalidQuantity,
                format!("a quantity is 1 to {MAX_QUANTITY}"),
            )
            .into());
        }
        if line
            .gift_message
            .as_ref()
            .is_some_and(|m| m.chars().count() > 300)
        {
            return Err(UserError::new(
                &format!("lines.{i}.giftMessage"),
                Code::InvalidText,
                "a gift message has at most 300 characters",
            )
            .into());
        }
    }
    Ok(())
}

fn gift_message(message: Option<&String>) -> Option<Option<String>> {
    message.map(|m| Some(m.trim().to_owned()).filter(|m| !m.is_empty()))
}

fn quantity_cap(i: usize) -> impl FnOnce() -> UserError {
    move || {
        UserError::new(
            &format!("lines.{i}.quantity"),
            Code::InvalidQuantity,
            format!("a line holds at most {MAX_QUANTITY} units"),
        )
    }
}

/// Adds lines to a cart; a variant already on it gets the units added to its line. Each added
/// line must be on sale, priced in the cart's currency and in stock for the line's new quantity.
#[tracing::instrument(name = "cart.lines_add", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart))]
pub async fn add_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    lines: Vec<LineInput>,
) -> Outcome<PricedCart> {
    check_lines(&lines)?;
    if let Some(i) = lines.iter().position(|l| l.quantity.is_none()) {
        return Err(UserError::new(
            &format!("lines.{i}.quantity"),
            Code::InvalidQuantity,
            "give a quantity",
        )
        .into());
    }
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        for (i, line) in lines.iter().enumerate() {
            let message = gift_message(line.gift_message.as_ref()).flatten();
            diesel::insert_into(cart_lines::table)
                .values((
                    cart_lines::tenant_id.eq(tenant),
                    cart_lines::id.eq(CartLineId::new()),
                    cart_lines::cart_id.eq(cart),
                    cart_lines::variant_id.eq(line.variant_id),
                    cart_lines::quantity.eq(line.quantity.unwrap_or(1)),
                    cart_lines::gift_wrap.eq(line.gift_wrap.unwrap_or(false)),
                    cart_lines::gift_message.eq(&message),
                ))
                .on_conflict((
                    cart_lines::tenant_id,
                    cart_lines::cart_id,
                    cart_lines::variant_id,
                ))
                .do_update()
                .set((
                    cart_lines::quantity.eq(cart_lines::quantity + line.quantity.unwrap_or(1)),
                    cart_lines::gift_wrap.eq(diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "excluded.gift_wrap OR orders.cart_lines.gift_wrap",
                    )),
                    cart_lines::gift_message.eq(diesel::dsl::sql::<Nullable<Text>>(
                        "coalesce(excluded.gift_message, orders.cart_lines.gift_message)",
                    )),
                ))
                .execute(tx.conn())
                .await
                .map_err(|e| {
                    Failure::on_constraint("cart_lines_quantity_check", e, quantity_cap(i))
                })?;
        }
        priced_after_change(tx, cart, &lines).await
    })
    .await
}

/// Changes lines of a cart: quantity, gift wrap, gift message. Every variant named must be on
/// the cart; a raised quantity must be in stock.
#[tracing::instrument(name = "cart.lines_update", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart))]
pub async fn update_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    lines: Vec<LineInput>,
) -> Outcome<PricedCart> {
    check_lines(&lines)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        for (i, line) in lines.iter().enumerate() {
            let target = cart_lines::table
                .filter(cart_lines::cart_id.eq(cart))
                .filter(cart_lines::variant_id.eq(line.variant_id));
            let changed = diesel::update(target)
                .set((
                    line.quantity.map(|q| cart_lines::quantity.eq(q)),
                    line.gift_wrap.map(|w| cart_lines::gift_wrap.eq(w)),
                    gift_message(line.gift_message.as_ref())
                        .map(|m| cart_lines::gift_message.eq(m)),
                    // Always set something, so an input that changes nothing is still valid SQL.
                    cart_lines::cart_id.eq(cart),
                ))
                .execute(tx.conn())
                .await?;
            if changed == 0 {
                return Err(UserError::new(
                    &format!("lines.{i}.variantId"),
                    Code::NotFound,
                    "this variant is not in the cart",
                )
                .into());
            }
        }
        priced_after_change(tx, cart, &lines).await
    })
    .await
}

/// Removes the lines of `variants` from a cart (variants not on it are ignored).
#[tracing::instrument(name = "cart.lines_remove", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart))]
pub async fn remove_lines(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    variants: Vec<VariantId>,
) -> Outcome<PricedCart> {
    check_count(variants.len(), "variantIds", "variants")?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::delete(
            cart_lines::table
                .filter(cart_lines::cart_id.eq(cart))
                .filter(cart_lines::variant_id.eq_any(&variants)),
        )
        .execute(tx.conn())
        .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}

/// Puts a bookings hold into a cart as a booking line of its seats: the signed-in customer's own
/// live hold, into their own cart, on one cart at most (HOLD_IN_CART), priced in the cart's
/// currency (NO_PRICE without a price there). The hold keeps its own time: once it ends the line
/// says HOLD_EXPIRED and checkout refuses it.
#[tracing::instrument(name = "cart.booking_add", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart, hold.id = %hold))]
pub async fn add_booking(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    hold: HoldId,
) -> Outcome<PricedCart> {
    let (tenant, customer) = (ctx.tenant()?.id, ctx.user_id()?);
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let open = open_cart(tx, &ctx, cart, "cartId").await?;
        let held = bookings::api::held(tx, &[hold], open.currency())
            .await?
            .into_iter()
            .find(|h| h.hold.customer_id == customer && open.customer_id == Some(customer))
            .ok_or_else(|| UserError::new("holdId", Code::NotFound, "you hold no such slot"))?;
        if !held.hold.live(Utc::now()) {
            return Err(super::LineProblem::HoldExpired.refusal("holdId").into());
        }
        diesel::insert_into(cart_lines::table)
            .values((
                cart_lines::tenant_id.eq(tenant),
                cart_lines::id.eq(CartLineId::new()),
                cart_lines::cart_id.eq(cart),
                cart_lines::hold_id.eq(hold),
                cart_lines::quantity.eq(held.hold.seats),
            ))
            .execute(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("cart_lines_hold_key", e, || {
                    UserError::new("holdId", Code::HoldInCart, "this hold is in a cart already")
                })
            })?;
        let priced = priced_after_change(tx, cart, &[]).await?;
        let problem = priced
            .lines
            .iter()
            .find(|l| l.line.hold_id == Some(hold))
            .and_then(|l| l.problem);
        match problem {
            Some(problem) => Err(problem.refusal("holdId").into()),
            None => Ok(priced),
        }
    })
    .await
}

/// Takes the booking line of `hold` out of a cart (nothing happens when it is not there), and
/// releases the hold, so its slot is free for others at once.
#[tracing::instrument(name = "cart.booking_remove", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), cart.id = %cart, hold.id = %hold))]
pub async fn remove_booking(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    hold: HoldId,
) -> Outcome<PricedCart> {
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        let open = open_cart(tx, &ctx, cart, "cartId").await?;
        let removed = diesel::delete(
            cart_lines::table
                .filter(cart_lines::cart_id.eq(cart))
                .filter(cart_lines::hold_id.eq(hold)),
        )
        .execute(tx.conn())
        .await?;
        if let (1, Some(customer)) = (removed, open.customer_id) {
            bookings::api::release_for(tx, hold, customer).await?;
        }
        priced_after_change(tx, cart, &[]).await
    })
    .await
}
