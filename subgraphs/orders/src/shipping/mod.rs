//! Shipping methods: how a tenant delivers, and what each vendor's part of a cart costs to ship.
//!
//! A method is priced in one currency and is one of three kinds: a flat rate, a rate that falls
//! away once the vendor group's subtotal after discounts reaches a threshold, or pickup at a named
//! place (which needs no shipping address). Shipping methods may be limited to countries. Each vendor
//! group of a cart ships with the method the shopper chose for it or, until they choose, the
//! cheapest one available; a tenant without methods charges nothing for shipping.

pub mod graphql;

use crate::errors::{OrdersErrorCode as Code, Outcome, refusal};
use crate::ids::ShippingMethodId;
use crate::schema::shipping_methods;
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;

/// The most methods a tenant keeps.
pub const MAX_METHODS: i64 = 50;

cityos_core::states! {
    /// How a method prices a shipment.
    pub enum ShippingKind {
        /// Always the rate.
        FlatRate = "FLAT_RATE",
        /// The rate, or nothing once the vendor group's subtotal after discounts reaches `freeAbove`.
        FreeAbove = "FREE_ABOVE",
        /// Collected by the customer at the pickup location; needs no shipping address.
        Pickup = "PICKUP",
    }
}

/// A shipping method as stored.
#[derive(Queryable, Selectable, Deserialize, Debug, Clone)]
#[diesel(table_name = shipping_methods, check_for_backend(diesel::pg::Pg))]
pub struct ShippingMethod {
    pub id: ShippingMethodId,
    pub name: String,
    pub kind: ShippingKind,
    pub currency: Currency,
    pub rate: i64,
    pub free_above: Option<i64>,
    pub pickup_location: Option<String>,
    pub countries: Vec<String>,
    pub active: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

impl ShippingMethod {
    /// Whether it is collected rather than shipped.
    pub fn is_pickup(&self) -> bool {
        self.kind == ShippingKind::Pickup
    }

    /// What it charges for a vendor group whose lines come to `net` after discounts.
    pub fn cost(&self, net: i64) -> i64 {
        match self.free_above {
            Some(threshold) if net >= threshold => 0,
            _ => self.rate,
        }
    }

    /// Whether it can deliver to `country` (unknown until the cart has an address: any method).
    pub fn serves(&self, country: Option<&str>) -> bool {
        self.is_pickup()
            || self.countries.is_empty()
            || country.is_none_or(|c| self.countries.iter().any(|m| m == c))
    }
}

/// A new method or a change to one; on a change, `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct MethodInput {
    pub name: Option<String>,
    pub kind: Option<ShippingKind>,
    pub currency: Option<String>,
    pub rate: Option<i64>,
    pub free_above: Option<i64>,
    pub pickup_location: Option<String>,
    pub countries: Option<Vec<String>>,
    pub active: Option<bool>,
    pub position: Option<i32>,
}

/// Country codes trimmed, upper-cased, sorted and without repeats, or a refusal.
pub fn country_codes(codes: Vec<String>, field: &str) -> Outcome<Vec<String>> {
    let mut out = Vec::with_capacity(codes.len());
    for (i, code) in codes.into_iter().enumerate() {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(refusal(
                &format!("{field}.{i}"),
                Code::InvalidCountry,
                "a country is an ISO 3166-1 alpha-2 code, e.g. SA",
            ));
        }
        out.push(code);
    }
    out.sort();
    out.dedup();
    if out.len() > 250 {
        return Err(refusal(field, Code::InvalidCount, "at most 250 countries"));
    }
    Ok(out)
}

/// The method `input` describes on top of `base`, checked as a whole.
fn merged(base: ShippingMethod, input: MethodInput) -> Outcome<ShippingMethod> {
    let name = input.name.map_or(base.name, |n| n.trim().to_owned());
    if !(1..=100).contains(&name.chars().count()) {
        return Err(refusal(
            "name",
            Code::InvalidText,
            "a name has 1 to 100 characters",
        ));
    }
    let currency = match input.currency {
        Some(c) => Currency::parse(c.trim())
            .map_err(|e| refusal("currency", Code::UnknownCurrency, e.to_string()))?,
        None => base.currency,
    };
    let kind = input.kind.unwrap_or(base.kind);
    let rate = input.rate.unwrap_or(base.rate);
    if rate < 0 {
        return Err(refusal(
            "rateMinor",
            Code::InvalidAmount,
            "a rate is not negative",
        ));
    }
    let free_above = match kind {
        ShippingKind::FreeAbove => match input.free_above.or(base.free_above) {
            Some(t) if t > 0 => Some(t),
            _ => {
                return Err(refusal(
                    "freeAboveMinor",
                    Code::InvalidAmount,
                    "a FREE_ABOVE method needs a threshold above zero",
                ));
            }
        },
        _ => None,
    };
    let pickup_location = match kind {
        ShippingKind::Pickup => {
            let place = input
                .pickup_location
                .or(base.pickup_location)
                .map(|p| p.trim().to_owned())
                .unwrap_or_default();
            if !(1..=300).contains(&place.chars().count()) {
                return Err(refusal(
                    "pickupLocation",
                    Code::InvalidText,
                    "a PICKUP method needs a pickup location of 1 to 300 characters",
                ));
            }
            Some(place)
        }
        _ => None,
    };
    let countries = match (kind, input.countries) {
        (ShippingKind::Pickup, _) => Vec::new(),
        (_, Some(codes)) => country_codes(codes, "countries")?,
        (_, None) => base.countries,
    };
    Ok(ShippingMethod {
        name,
        kind,
        currency,
        rate,
        free_above,
        pickup_location,
        countries,
        active: input.active.unwrap_or(base.active),
        position: input.position.unwrap_or(base.position),
        ..base
    })
}

/// The tenant's methods in position order: staff see inactive ones too, after the active ones.
pub async fn list(db: &Database, ctx: &RequestContext) -> Result<Vec<ShippingMethod>, ApiError> {
    let tenant = ctx.tenant()?.id;
    let staff = ctx.is_staff();
    db.tenant_tx(tenant, async move |tx| {
        let mut query = shipping_methods::table
            .order((
                shipping_methods::active.desc(),
                shipping_methods::position,
                shipping_methods::id,
            ))
            .select(ShippingMethod::as_select())
            .into_boxed();
        if !staff {
            query = query.filter(shipping_methods::active);
        }
        Ok(query.load(tx.conn()).await?)
    })
    .await
}

/// Creates a method (staff).
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    input: MethodInput,
) -> Outcome<ShippingMethod> {
    db.staff(ctx, "shipping_method.create", async move |tx| {
        let tenant = ctx.tenant()?;

        let blank = ShippingMethod {
            id: ShippingMethodId::new(),
            name: String::new(),
            kind: ShippingKind::FlatRate,
            currency: Currency::parse(&tenant.default_currency).map_err(ApiError::internal)?,
            rate: 0,
            free_above: None,
            pickup_location: None,
            countries: Vec::new(),
            active: true,
            position: 0,
            created_at: Utc::now(),
        };
        if input.kind.is_none() {
            return Err(refusal("kind", Code::InvalidText, "give the method's kind"));
        }
        let method = merged(blank, input)?;
        let tenant = tenant.id;
        let count: i64 = shipping_methods::table
            .count()
            .get_result(tx.conn())
            .await?;
        if count >= MAX_METHODS {
            return Err(refusal(
                "name",
                Code::InvalidCount,
                format!("a tenant keeps at most {MAX_METHODS} shipping methods"),
            ));
        }
        let value = diesel::insert_into(shipping_methods::table)
            .values((
                shipping_methods::tenant_id.eq(tenant),
                shipping_methods::id.eq(method.id),
                shipping_methods::name.eq(&method.name),
                shipping_methods::kind.eq(&method.kind),
                shipping_methods::currency.eq(&method.currency),
                shipping_methods::rate.eq(method.rate),
                shipping_methods::free_above.eq(method.free_above),
                shipping_methods::pickup_location.eq(&method.pickup_location),
                shipping_methods::countries.eq(&method.countries),
                shipping_methods::active.eq(method.active),
                shipping_methods::position.eq(method.position),
            ))
            .returning(ShippingMethod::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(value.id, serde_json::json!({ "name": value.name }));
        Ok((value, audit))
    })
    .await
}

/// Changes a method (staff). Carts that chose a deactivated method fall back to the cheapest
/// available one; orders keep the method they were placed with.
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: ShippingMethodId,
    input: MethodInput,
) -> Outcome<ShippingMethod> {
    db.staff(ctx, "shipping_method.update", async move |tx| {
        let base = shipping_methods::table
            .filter(shipping_methods::id.eq(id))
            .select(ShippingMethod::as_select())
            .for_update()
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| refusal("id", Code::NotFound, "no such shipping method"))?;
        let method = merged(base, input)?;
        let value = diesel::update(shipping_methods::table.filter(shipping_methods::id.eq(id)))
            .set((
                shipping_methods::name.eq(&method.name),
                shipping_methods::kind.eq(&method.kind),
                shipping_methods::currency.eq(&method.currency),
                shipping_methods::rate.eq(method.rate),
                shipping_methods::free_above.eq(method.free_above),
                shipping_methods::pickup_location.eq(&method.pickup_location),
                shipping_methods::countries.eq(&method.countries),
                shipping_methods::active.eq(method.active),
                shipping_methods::position.eq(method.position),
            ))
            .returning(ShippingMethod::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(id, serde_json::json!({ "name": value.name }));
        Ok((value, audit))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(kind: ShippingKind) -> ShippingMethod {
        ShippingMethod {
            id: ShippingMethodId::from_uuid(uuid::Uuid::nil()),
            name: "Standard".into(),
            kind,
            currency: Currency::SAR,
            rate: 2500,
            free_above: (kind == ShippingKind::FreeAbove).then_some(20000),
            pickup_location: (kind == ShippingKind::Pickup).then(|| "Olaya store".into()),
            countries: vec!["AE".into(), "SA".into()],
            active: true,
            position: 0,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn costs_follow_the_kind() {
        assert_eq!(method(ShippingKind::FlatRate).cost(1_000_000), 2500);
        let free = method(ShippingKind::FreeAbove);
        assert_eq!((free.cost(19_999), free.cost(20_000)), (2500, 0));
        assert!(method(ShippingKind::Pickup).serves(Some("FR")));
        let flat = method(ShippingKind::FlatRate);
        assert!(flat.serves(Some("SA")) && flat.serves(None) && !flat.serves(Some("FR")));
    }

    #[test]
    fn inputs_are_checked_as_a_whole() {
        let base = method(ShippingKind::FlatRate);
        let to_free = |t| MethodInput {
            kind: Some(ShippingKind::FreeAbove),
            free_above: t,
            ..MethodInput::default()
        };
        assert!(merged(base.clone(), to_free(None)).is_err());
        let m = merged(base.clone(), to_free(Some(100))).expect("valid");
        assert_eq!((m.kind.as_str(), m.free_above), ("FREE_ABOVE", Some(100)));
        let pickup = merged(
            base.clone(),
            MethodInput {
                kind: Some(ShippingKind::Pickup),
                pickup_location: Some("  Olaya store ".into()),
                ..MethodInput::default()
            },
        )
        .expect("valid");
        assert_eq!(
            (pickup.pickup_location.as_deref(), pickup.countries.len()),
            (Some("Olaya store"), 0)
        );
        let bad = [
            MethodInput {
                rate: Some(-1),
                ..MethodInput::default()
            },
            MethodInput {
                countries: Some(vec!["KSA".into()]),
                ..MethodInput::default()
            },
            MethodInput {
                currency: Some("XYZ".into()),
                ..MethodInput::default()
            },
            MethodInput {
                kind: Some(ShippingKind::Pickup),
                ..MethodInput::default()
            },
        ];
        for input in bad {
            assert!(merged(base.clone(), input).is_err());
        }
        let codes = country_codes(vec!["sa".into(), "AE".into(), "SA".into()], "c").expect("ok");
        assert_eq!(codes, ["AE", "SA"]);
    }
}
