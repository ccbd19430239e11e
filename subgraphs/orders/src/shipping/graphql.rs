//! Shipping methods in GraphQL (staff writes; anyone may list them).

use crate::errors::{OrdersUserError, Outcome};
use crate::ids::ShippingMethodId;
use crate::scope::money;
use crate::shipping::{self, MethodInput, ShippingKind, ShippingMethod};
use async_graphql::{Context, ID, InputObject, Object, Result};
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

cityos_core::payload! {
    /// The result of a shipping method mutation.
    ShippingMethodPayload<OrdersUserError> {
        /// The method as it is now; null when refused.
        shipping_method: ShippingMethod,
    }
}

/// A way the tenant delivers: a flat rate, a rate that is free above a threshold, or pickup.
#[Object]
impl ShippingMethod {
    /// The method's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What shoppers see, e.g. `Standard delivery`.
    async fn name(&self) -> &str {
        &self.name
    }
    /// How it prices a shipment.
    async fn kind(&self) -> ShippingKind {
        self.kind
    }
    /// What it charges per vendor group (below the threshold, for FREE_ABOVE).
    async fn rate(&self) -> Money {
        money(self.rate, self.currency)
    }
    /// For FREE_ABOVE: the vendor group subtotal, after discounts, from which it is free.
    async fn free_above(&self) -> Option<Money> {
        self.free_above.map(|a| money(a, self.currency))
    }
    /// For PICKUP: where the customer collects the order.
    async fn pickup_location(&self) -> Option<&str> {
        self.pickup_location.as_deref()
    }
    /// The countries it delivers to (ISO 3166-1 alpha-2); empty: anywhere.
    async fn countries(&self) -> &[String] {
        &self.countries
    }
    /// Whether carts may use it.
    async fn active(&self) -> bool {
        self.active
    }
    /// Its place in lists, from 0.
    async fn position(&self) -> i32 {
        self.position
    }
}

/// A new shipping method.
#[derive(InputObject)]
pub struct ShippingMethodCreateInput {
    /// What shoppers see, 1 to 100 characters.
    pub name: String,
    /// How it prices a shipment.
    pub kind: ShippingKind,
    /// ISO 4217 currency of its amounts; the tenant's default when omitted. Carts in other
    /// currencies do not see it.
    pub currency: Option<String>,
    /// What it charges per vendor group, in minor units (0 or more); 0 when omitted.
    pub rate_minor: Option<i64>,
    /// For FREE_ABOVE (required there): the vendor group subtotal after discounts, in minor
    /// units, from which shipping is free.
    pub free_above_minor: Option<i64>,
    /// For PICKUP (required there): where the customer collects, 1 to 300 characters.
    pub pickup_location: Option<String>,
    /// ISO 3166-1 alpha-2 countries it delivers to; omitted or empty: anywhere.
    pub countries: Option<Vec<String>>,
    /// Its place in lists; 0 when omitted.
    pub position: Option<i32>,
}

/// A change to a shipping method; omitted fields stay as they are.
#[derive(InputObject)]
pub struct ShippingMethodUpdateInput {
    /// The method.
    pub id: ShippingMethodId,
    /// What shoppers see.
    pub name: Option<String>,
    /// How it prices a shipment.
    pub kind: Option<ShippingKind>,
    /// What it charges per vendor group, in minor units.
    pub rate_minor: Option<i64>,
    /// The FREE_ABOVE threshold, in minor units.
    pub free_above_minor: Option<i64>,
    /// Where a PICKUP is collected.
    pub pickup_location: Option<String>,
    /// The countries it delivers to; empty: anywhere.
    pub countries: Option<Vec<String>>,
    /// Whether carts may use it.
    pub active: Option<bool>,
    /// Its place in lists.
    pub position: Option<i32>,
}

/// The queries of shipping methods.
#[derive(Default)]
pub struct ShippingQuery;

#[Object]
impl ShippingQuery {
    /// The tenant's shipping methods in list order. Staff also see inactive ones, after the
    /// active ones.
    async fn shipping_methods(&self, ctx: &Context<'_>) -> Result<Vec<ShippingMethod>> {
        Ok(shipping::list(ctx.db(), ctx.request()?).await?)
    }
}

/// The mutations of shipping methods.
#[derive(Default)]
pub struct ShippingMutation;

#[Object]
impl ShippingMutation {
    /// Creates a shipping method (staff).
    async fn shipping_method_create(
        &self,
        ctx: &Context<'_>,
        input: ShippingMethodCreateInput,
    ) -> Result<ShippingMethodPayload> {
        let method = MethodInput {
            name: Some(input.name),
            kind: Some(input.kind),
            currency: input.currency,
            rate: input.rate_minor,
            free_above: input.free_above_minor,
            pickup_location: input.pickup_location,
            countries: input.countries,
            active: None,
            position: input.position,
        };
        method_payload(shipping::create(ctx.db(), ctx.request()?, method).await)
    }
    /// Changes a shipping method (staff). Carts that chose a method that no longer serves them
    /// fall back to the cheapest one; placed orders keep theirs.
    async fn shipping_method_update(
        &self,
        ctx: &Context<'_>,
        input: ShippingMethodUpdateInput,
    ) -> Result<ShippingMethodPayload> {
        let id = input.id;
        let method = MethodInput {
            name: input.name,
            kind: input.kind,
            currency: None,
            rate: input.rate_minor,
            free_above: input.free_above_minor,
            pickup_location: input.pickup_location,
            countries: input.countries,
            active: input.active,
            position: input.position,
        };
        method_payload(shipping::update(ctx.db(), ctx.request()?, id, method).await)
    }
}

fn method_payload(outcome: Outcome<ShippingMethod>) -> Result<ShippingMethodPayload> {
    Ok(ShippingMethodPayload::of(outcome)?)
}
