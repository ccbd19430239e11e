//! What a cart's buyer chooses besides lines: a discount code, shipping per vendor group,
//! addresses, e-mail and instructions.

use super::{Address, PricedCart, check_email, open_cart, priced_after_change};
use crate::discounts;
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{CartId, CartShipmentId, ShippingMethodId, VendorId};
use crate::schema::carts;
use cityos_core::address::trimmed;
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::{Database, Prepared};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// Applies a discount code to a cart, replacing any it had. The code must apply now; when it
/// does not, the refusal says why and the cart keeps what it had.
pub async fn apply_discount(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    code: String,
) -> Outcome<PricedCart> {
    let code = discounts::normalize(&code);
    if !discounts::well_formed(&code) {
        return Err(UserError::new(
            "code",
            Code::DiscountNotFound,
            format!("there is no discount code {code}"),
        )
        .into());
    }
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set(carts::discount_code.eq(&code))
            .execute(tx.conn())
            .await?;
        let priced = priced_after_change(tx, cart, &[]).await?;
        if let Some(Err(refusal)) = &priced.totals.discount {
            return Err(refusal.clone().into());
        }
        Ok(priced)
    })
    .await
}

/// Takes the discount code off a cart.
pub async fn remove_discount(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
) -> Outcome<PricedCart> {
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set(carts::discount_code.eq(None::<String>))
            .execute(tx.conn())
            .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}

/// Delivery instructions trimmed, or a refusal when longer than 500 characters.
fn checked_instructions(text: Option<String>) -> Outcome<Option<String>> {
    text.map(|t| {
        trimmed(&t, 0, 500).ok_or_else(|| {
            UserError::new(
                "deliveryInstructions",
                Code::InvalidText,
                "delivery instructions have at most 500 characters",
            )
            .into()
        })
    })
    .transpose()
}

/// How one vendor's part of a cart ships.
#[derive(Debug, Clone)]
pub struct ShippingChoice {
    /// The vendor; `None` for the tenant's own products.
    pub vendor: Option<VendorId>,
    pub method: ShippingMethodId,
    /// Instructions for this shipment; `None` keeps them.
    pub instructions: Option<String>,
}

/// Chooses the shipping method of one vendor's part of a cart. The method must be able to
/// deliver that part now (active, in the cart's currency, serving the address's country).
pub async fn choose_shipping(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    choice: ShippingChoice,
) -> Outcome<PricedCart> {
    let instructions = checked_instructions(choice.instructions)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        Prepared(
            diesel::sql_query(
                "INSERT INTO orders.cart_shipments
                    (tenant_id, id, cart_id, vendor_id, method_id, delivery_instructions)
                 SELECT $1, $2, $3, $4, m.id, coalesce($6, '')
                 FROM orders.shipping_methods m WHERE m.id = $5
                 ON CONFLICT (tenant_id, cart_id, vendor_id) DO UPDATE
                 SET method_id = excluded.method_id,
                     delivery_instructions = coalesce($6, orders.cart_shipments.delivery_instructions)",
            )
            .bind::<SqlUuid, _>(tenant)
            .bind::<SqlUuid, _>(CartShipmentId::new())
            .bind::<SqlUuid, _>(cart)
            .bind::<Nullable<SqlUuid>, _>(choice.vendor)
            .bind::<SqlUuid, _>(choice.method)
            .bind::<Nullable<Text>, _>(instructions.as_deref()),
        )
        .execute(tx.conn())
        .await?;
        let priced = priced_after_change(tx, cart, &[]).await?;
        let Some(shipment) = priced
            .totals
            .shipments
            .iter()
            .find(|s| s.vendor == choice.vendor)
        else {
            return Err(UserError::new(
                "vendorId",
                Code::NotFound,
                "the cart has no lines of this vendor",
            )
            .into());
        };
        if shipment.method().is_none_or(|o| o.method.id != choice.method) {
            return Err(UserError::new(
                "methodId",
                Code::ShippingMethodUnavailable,
                "this shipping method cannot deliver this part of the cart",
            )
            .into());
        }
        Ok(priced)
    })
    .await
}

/// Changes to a cart's contact and delivery details; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct CartChanges {
    pub email: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub delivery_instructions: Option<String>,
}

/// A checked address as a cart stores it (`field` names it in a refusal).
pub(crate) fn address_json(
    address: Option<Address>,
    field: &str,
) -> Outcome<Option<serde_json::Value>> {
    let Some(address) = address else {
        return Ok(None);
    };
    let checked = address.checked().map_err(|part| {
        Failure::from(UserError::new(
            &format!("{field}.{part}"),
            Code::InvalidAddress,
            format!("the address's {part} is missing or malformed"),
        ))
    })?;
    serde_json::to_value(checked)
        .map(Some)
        .map_err(|e| ApiError::internal(e).into())
}

/// Sets a cart's e-mail, addresses and delivery instructions.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    cart: CartId,
    changes: CartChanges,
) -> Outcome<PricedCart> {
    let email = check_email(changes.email)?;
    let shipping = address_json(changes.shipping_address, "shippingAddress")?;
    let billing = address_json(changes.billing_address, "billingAddress")?;
    let instructions = checked_instructions(changes.delivery_instructions)?;
    let tenant = ctx.tenant()?.id;
    let ctx = ctx.clone();
    db.tenant_tx(tenant, async move |tx| {
        open_cart(tx, &ctx, cart, "cartId").await?;
        diesel::update(carts::table.filter(carts::id.eq(cart)))
            .set((
                email.map(|e| carts::email.eq(Some(e))),
                shipping.map(|a| carts::shipping_address.eq(Some(a))),
                billing.map(|a| carts::billing_address.eq(Some(a))),
                instructions.map(|t| carts::delivery_instructions.eq(t)),
                carts::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        priced_after_change(tx, cart, &[]).await
    })
    .await
}
