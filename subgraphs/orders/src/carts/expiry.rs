//! A cart's expiry, as a durable job: scheduled with the cart at its `expires_at`, it closes an
//! open cart that nobody touched since as EXPIRED and writes `cart.expired` (what abandoned-cart
//! reminders start from). A cart touched since has a later `expires_at`: the job moves itself
//! there. One checked out or merged meanwhile needs nothing.
//!
//! Reads do not wait for it: a cart past its `expires_at` refuses changes and checkout already
//! (`check_open`), and a customer opening a new cart expires their old one on the spot.

use super::{Cart, CartStatus};
use crate::ids::{CartId, UserId};
use crate::schema::carts;
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_db::TenantTx;
use cityos_db::jobs::{Job, Next, Provided};
use cityos_db::outbox::FixedTopic;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// The `cart.expire` job of one cart.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CartExpiry {
    pub cart_id: CartId,
}

impl Job for CartExpiry {
    const NAME: &'static str = "cart.expire";

    /// A digest of the cart's id, not the id: a guest cart's id is all it takes to use the cart,
    /// and job keys are shown to platform admins.
    fn key(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(format!("cart.expire:{}", self.cart_id));
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        if expire_if_due(tx, self.cart_id).await?.is_some() {
            return Ok(Next::Done);
        }
        let cart: Option<Cart> = carts::table
            .filter(carts::id.eq(self.cart_id))
            .select(Cart::as_select())
            .first(tx.conn())
            .await
            .optional()?;
        Ok(match cart {
            Some(cart) if cart.status == CartStatus::Open => Next::At(cart.expires_at),
            _ => Next::Done,
        })
    }
}

/// Schedules the expiry of a cart made now, due at `expires_at`.
pub async fn schedule(
    tx: &mut TenantTx<'_>,
    cart: CartId,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    crate::JOBS
        .schedule(tx, &CartExpiry { cart_id: cart }, expires_at)
        .await
}

/// Closes the cart as EXPIRED if it is open and past its `expires_at`, writing `cart.expired`;
/// the cart if it did.
pub async fn expire_if_due(tx: &mut TenantTx<'_>, id: CartId) -> QueryResult<Option<Cart>> {
    let expired: Option<Cart> = diesel::update(
        carts::table
            .filter(carts::id.eq(id))
            .filter(carts::status.eq(CartStatus::Open))
            .filter(carts::expires_at.le(diesel::dsl::now)),
    )
    .set((
        carts::status.eq(CartStatus::Expired),
        carts::updated_at.eq(diesel::dsl::now),
    ))
    .returning(Cart::as_returning())
    .get_result(tx.conn())
    .await
    .optional()?;
    if let Some(cart) = &expired {
        let event = CartExpired {
            cart_id: cart.id,
            customer_id: cart.customer_id,
            email: cart.email.as_deref(),
        };
        crate::OUTBOX.publish(tx, cart.id, &event).await?;
    }
    Ok(expired)
}

/// `cart.expired`: an open cart was left until it expired.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CartExpired<'a> {
    pub cart_id: CartId,
    pub customer_id: Option<UserId>,
    pub email: Option<&'a str>,
}

impl FixedTopic for CartExpired<'_> {
    const TOPIC: &'static str = "cart.expired";
}
