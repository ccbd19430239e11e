//! What a cart costs in all: its lines less the discount, plus shipping per vendor group, plus
//! tax per line.
//!
//! The cart's terms (the tenant's shipping methods in the cart's currency, the shopper's choices,
//! the tax rules of the address's country, and the applied discount code with its usage) are read
//! in one statement; everything else is arithmetic on the priced lines. The same computation
//! prices a cart for display and for checkout, so what the shopper sees is what the order
//! records. Every sum is exact: line parts add up to their vendor group's, vendor groups' to the
//! cart's.
//!
//! Per line: `net = subtotal - discount`, the tax rule of the line's category and the address
//! (shipping address, else billing address) gives the tax in `net` (inclusive) or on top of it
//! (exclusive), and `total = net + exclusive tax`. A company cart whose company holds a verified,
//! unexpired tax exemption certificate for the address's jurisdiction (asked of the vendors
//! subgraph's api) pays no tax at all: no rule applies, so `total = net` (a tax-inclusive price is
//! charged as listed, without its tax part), and the order records the certificate. Per vendor
//! group: `total = lines' totals + shipping`. Shipping is not taxed. Booking lines are not
//! delivered: a group of bookings alone has no shipping, and a group's shipping is reckoned on
//! its product lines only.

use crate::carts::{Address, Cart, PricedLine};
use crate::discounts::{self, DiscountState, Eligible};
use crate::errors::{OrdersErrorCode as Code, UserError};
use crate::ids::{ShippingMethodId, VendorId};
use crate::shipping::ShippingMethod;
use crate::taxes::{self, LineTax, ScopedRule};
use chrono::{DateTime, Utc};
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Deserialize;

/// The shipping method a shopper chose for one vendor group.
#[derive(Deserialize, Debug, Clone)]
pub struct ShipmentChoice {
    pub vendor_id: Option<VendorId>,
    pub method_id: ShippingMethodId,
    pub delivery_instructions: String,
}

/// Everything besides its lines that decides what a cart costs.
#[derive(Deserialize, Debug, Clone, Default)]
pub struct Terms {
    /// Active methods in the cart's currency, in position order.
    pub methods: Vec<ShippingMethod>,
    pub choices: Vec<ShipmentChoice>,
    /// Tax rules of the address's country.
    pub taxes: Vec<ScopedRule>,
    /// The cart's discount code, when it has one and it exists.
    pub discount: Option<DiscountState>,
    /// The company's tax exemption certificate that applies to the tax address today, if any.
    #[serde(skip)]
    pub exemption: Option<vendors::api::AppliedExemption>,
}

/// The address taxes are reckoned at: the shipping address, else the billing address.
pub fn tax_address(cart: &Cart) -> Option<Address> {
    Address::from_stored(&cart.shipping_address)
        .or_else(|| Address::from_stored(&cart.billing_address))
}

#[derive(QueryableByName)]
struct TermsRow {
    #[diesel(sql_type = Jsonb)]
    terms: serde_json::Value,
}

/// Reads a cart's terms: one statement, and one more for a company cart's tax exemption.
pub async fn load(tx: &mut TenantTx<'_>, cart: &Cart) -> QueryResult<Terms> {
    let address = tax_address(cart);
    let exemption = match (cart.company_id, &address) {
        (Some(company), Some(a)) => {
            let today = Utc::now().date_naive();
            let region = a.region.as_deref();
            vendors::api::tax_exemption(tx, company, &a.country_code, region, today).await?
        }
        _ => None,
    };
    let row: TermsRow = Prepared(
        diesel::sql_query(
            "SELECT jsonb_build_object(
                'methods', coalesce((SELECT jsonb_agg(m ORDER BY m.position, m.id)
                    FROM orders.shipping_methods m WHERE m.active AND m.currency = $2), '[]'),
                'choices', coalesce((SELECT jsonb_agg(s)
                    FROM orders.cart_shipments s WHERE s.cart_id = $1), '[]'),
                'taxes', coalesce((SELECT jsonb_agg(to_jsonb(r)
                        || jsonb_build_object('depth', catalog.category_depth(r.category_id)))
                    FROM orders.tax_rules r
                    WHERE r.country_code = $3), '[]'),
                'discount', (SELECT to_jsonb(d) || jsonb_build_object('customer_uses',
                        (SELECT count(*) FROM orders.discount_redemptions x
                         WHERE x.discount_id = d.id AND (x.customer_id = $5 OR x.email = $6)))
                    FROM orders.discount_codes d WHERE d.code = $4)
            ) AS terms",
        )
        .bind::<SqlUuid, _>(cart.id)
        .bind::<Text, _>(&cart.currency)
        .bind::<Nullable<Text>, _>(address.as_ref().map(|a| a.country_code.as_str()))
        .bind::<Nullable<Text>, _>(cart.discount_code.as_deref())
        .bind::<Nullable<SqlUuid>, _>(cart.customer_id)
        .bind::<Nullable<Text>, _>(cart.email.as_deref()),
    )
    .get_result(tx.conn())
    .await?;
    let terms: Terms = serde_json::from_value(row.terms)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Terms { exemption, ..terms })
}

/// What one line comes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineAmounts {
    /// Unit price times quantity (0 when the line has no price).
    pub subtotal: i64,
    /// Its part of the discount.
    pub discount: i64,
    pub tax: LineTax,
    /// `subtotal - discount + exclusive tax`.
    pub total: i64,
}

/// A shipping method offered for a vendor group, with what it would cost.
#[derive(Debug, Clone)]
pub struct ShippingOption {
    pub method: ShippingMethod,
    pub cost: i64,
}

/// One vendor's part of a cart, as it would ship.
#[derive(Debug, Clone)]
pub struct Shipment {
    /// `None`: the tenant's own products.
    pub vendor: Option<VendorId>,
    /// Indexes of its lines in the cart.
    pub lines: Vec<usize>,
    /// Whether any of its lines is delivered (a group of bookings alone is not).
    pub ships: bool,
    /// Methods that can deliver it, cheapest first.
    pub options: Vec<ShippingOption>,
    /// The option it ships with: the chosen one while available, else the cheapest.
    pub chosen: Option<usize>,
    pub instructions: String,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

impl Shipment {
    /// The option it ships with.
    pub fn method(&self) -> Option<&ShippingOption> {
        self.chosen.map(|i| &self.options[i])
    }
}

/// A cart's amounts.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub shipments: Vec<Shipment>,
    /// The discount code's amount, or why it does not apply; `None` without a code.
    pub discount: Option<Result<i64, UserError>>,
    /// Whether the tenant ships in the cart's currency at all (it has active methods).
    pub shipping_offered: bool,
    pub subtotal: i64,
    pub discount_total: i64,
    pub shipping_total: i64,
    pub tax_total: i64,
    pub total: i64,
}

/// Prices `lines` of `cart` under `terms` at `now`: sets each line's amounts and returns the
/// cart's.
pub fn compute(cart: &Cart, lines: &mut [PricedLine], terms: &Terms, now: DateTime<Utc>) -> Totals {
    for line in lines.iter_mut() {
        let subtotal = line.quote.map_or(0, |q| q.line_total.amount);
        line.amounts = LineAmounts {
            subtotal,
            total: subtotal,
            ..LineAmounts::default()
        };
    }

    // The discount, spread over the lines in its scope.
    let discount = cart.discount_code.as_ref().map(|code| {
        let Some(state) = &terms.discount else {
            return Err(UserError::new(
                "code",
                Code::DiscountNotFound,
                format!("there is no discount code {code}"),
            ));
        };
        let eligible: Vec<Eligible<'_>> = lines
            .iter()
            .map(|l| Eligible {
                subtotal: l.amounts.subtotal,
                vendor: l.vendor(),
                categories: l.item.as_ref().map_or(&[], |i| i.categories.as_slice()),
            })
            .collect();
        let parts = discounts::evaluate(state, cart.currency(), now, &eligible)?;
        for (line, part) in lines.iter_mut().zip(&parts) {
            line.amounts.discount = *part;
        }
        Ok(parts.iter().sum())
    });

    // Tax per line.
    let address = tax_address(cart);
    let region = address.as_ref().and_then(|a| a.region.as_deref());
    for line in lines.iter_mut() {
        let net = line.amounts.subtotal - line.amounts.discount;
        let categories = line.item.as_ref().map_or(&[][..], |i| &i.categories);
        let rule = match terms.exemption {
            Some(_) => None,
            None => taxes::resolve(&terms.taxes, region, categories),
        };
        if let Some(rule) = rule {
            line.amounts.tax = LineTax::of(net, rule);
        }
        line.amounts.total = net + line.amounts.tax.added();
    }

    // Vendor groups, in the order each vendor first appears, with their shipping.
    let country = address.as_ref().map(|a| a.country_code.as_str());
    let mut shipments: Vec<Shipment> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let vendor = line.vendor();
        match shipments.iter_mut().find(|s| s.vendor == vendor) {
            Some(s) => s.lines.push(i),
            None => shipments.push(Shipment {
                vendor,
                lines: vec![i],
                ships: false,
                options: Vec::new(),
                chosen: None,
                instructions: String::new(),
                subtotal: 0,
                discount: 0,
                shipping: 0,
                tax: 0,
                total: 0,
            }),
        }
    }
    for s in &mut shipments {
        for &i in &s.lines {
            let a = &lines[i].amounts;
            s.subtotal += a.subtotal;
            s.discount += a.discount;
            s.tax += a.tax.amount;
            s.total += a.total;
        }
        s.ships = s.lines.iter().any(|&i| lines[i].ships());
        let net: i64 = s
            .lines
            .iter()
            .filter(|&&i| lines[i].ships())
            .map(|&i| lines[i].amounts.subtotal - lines[i].amounts.discount)
            .sum();
        s.options = terms
            .methods
            .iter()
            .filter(|m| s.ships && m.serves(country))
            .map(|m| ShippingOption {
                method: m.clone(),
                cost: m.cost(net),
            })
            .collect();
        s.options.sort_by_key(|o| o.cost);
        let choice = terms.choices.iter().find(|c| c.vendor_id == s.vendor);
        s.instructions = choice
            .map(|c| c.delivery_instructions.clone())
            .unwrap_or_default();
        s.chosen = choice
            .and_then(|c| s.options.iter().position(|o| o.method.id == c.method_id))
            .or((!s.options.is_empty()).then_some(0));
        s.shipping = s.method().map_or(0, |o| o.cost);
        s.total += s.shipping;
    }

    let sum = |f: fn(&Shipment) -> i64| shipments.iter().map(f).sum();
    Totals {
        subtotal: sum(|s| s.subtotal),
        discount_total: sum(|s| s.discount),
        shipping_total: sum(|s| s.shipping),
        tax_total: sum(|s| s.tax),
        total: sum(|s| s.total),
        shipments,
        discount,
        shipping_offered: !terms.methods.is_empty(),
    }
}
