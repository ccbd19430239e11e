//! Shipping methods, tax rules and discount codes: how staff set them up, and how they read.

use super::{Vendor, money};
use crate::discounts::{self, CodeChanges, CodeInput, DiscountCode, DiscountKind};
use crate::errors::{OrdersUserError, Outcome};
use crate::ids::{CategoryId, DiscountCodeId, ShippingMethodId, TaxRuleId, VendorId};
use crate::shipping::{self, MethodInput, ShippingKind, ShippingMethod};
use crate::taxes::{self, RuleInput, TaxRule};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;

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

/// A tax rate for a country, optionally narrowed to a region and a product category.
#[Object]
impl TaxRule {
    /// The rule's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What invoices call it, e.g. `VAT`.
    async fn name(&self) -> &str {
        &self.name
    }
    /// The country it applies in (ISO 3166-1 alpha-2).
    async fn country_code(&self) -> &str {
        &self.country_code
    }
    /// The region it is narrowed to (compared with the address's region, ignoring case).
    async fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The catalog category it is narrowed to (with its subcategories).
    async fn category_id(&self) -> Option<ID> {
        self.category_id.map(to_id)
    }
    /// The rate in basis points: 1500 is 15%.
    async fn rate_basis_points(&self) -> i32 {
        self.rate
    }
    /// Whether prices include it (true) or it is added to them (false).
    async fn inclusive(&self) -> bool {
        self.inclusive
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A code shoppers enter for a percentage or a fixed amount off the lines in its scope.
#[Object]
impl DiscountCode {
    /// The code's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What shoppers type, upper-case.
    async fn code(&self) -> &str {
        &self.code
    }
    /// How it takes money off.
    async fn kind(&self) -> DiscountKind {
        self.kind
    }
    /// For PERCENTAGE: the percent off the lines in scope.
    async fn percent(&self) -> Option<i32> {
        self.percent
    }
    /// For FIXED_AMOUNT: the amount off the lines in scope.
    async fn amount(&self) -> Option<Money> {
        let currency = self.currency?;
        self.amount.map(|a| money(a, currency))
    }
    /// The only cart currency it applies to; null: any.
    async fn currency(&self) -> Option<&str> {
        self.currency.map(Currency::code)
    }
    /// What the lines in scope must cost at least.
    async fn min_subtotal(&self) -> Option<Money> {
        let currency = self.currency?;
        self.min_subtotal.map(|a| money(a, currency))
    }
    /// When it starts to apply.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }
    /// When it stops applying; null: never.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.ends_at
    }
    /// How many orders may use it in all; null: no limit.
    async fn usage_limit(&self) -> Option<i32> {
        self.usage_limit
    }
    /// How many orders one customer (account or e-mail address) may use it for; null: no limit.
    async fn per_customer_limit(&self) -> Option<i32> {
        self.per_customer_limit
    }
    /// How many standing orders used it (cancelled orders give their use back).
    async fn times_used(&self) -> i32 {
        self.times_used
    }
    /// The vendor whose lines it is limited to.
    async fn vendor(&self) -> Option<Vendor> {
        self.vendor_id.map(|id| Vendor { id: to_id(id) })
    }
    /// The catalog category (with its subcategories) it is limited to.
    async fn category_id(&self) -> Option<ID> {
        self.category_id.map(to_id)
    }
    /// Whether it can be used (staff can deactivate it).
    async fn active(&self) -> bool {
        self.active
    }
}

cityos_core::connection!(
    DiscountCodeConnection,
    DiscountCodeEdge,
    DiscountCode,
    "discount code"
);

/// Shipping, tax and discount queries.
#[derive(Default)]
pub struct TermsQuery;

#[Object]
impl TermsQuery {
    /// The tenant's shipping methods in list order. Staff also see inactive ones, after the
    /// active ones.
    async fn shipping_methods(&self, ctx: &Context<'_>) -> Result<Vec<ShippingMethod>> {
        Ok(shipping::list(ctx.db(), ctx.request()?).await?)
    }

    /// The tenant's tax rules by country and region (staff).
    async fn tax_rules(&self, ctx: &Context<'_>) -> Result<Vec<TaxRule>> {
        Ok(taxes::list(ctx.db(), ctx.request()?).await?)
    }

    /// The tenant's discount codes, newest first (staff).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn discount_codes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<DiscountCodeConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(discounts::page(ctx.db(), ctx.request()?, page)
            .await?
            .into())
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

cityos_core::payload! {
    /// The result of a shipping method mutation.
    ShippingMethodPayload<OrdersUserError> {
        /// The method as it is now; null when refused.
        shipping_method: ShippingMethod,
    }
}

fn method_payload(outcome: Outcome<ShippingMethod>) -> Result<ShippingMethodPayload> {
    Ok(ShippingMethodPayload::of(outcome)?)
}

/// A new tax rule.
#[derive(InputObject)]
pub struct TaxRuleCreateInput {
    /// What invoices call it, 1 to 100 characters, e.g. `VAT`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country_code: String,
    /// Narrows it to addresses in this region (matched ignoring case).
    pub region: Option<String>,
    /// Narrows it to a catalog category and its subcategories.
    pub category_id: Option<CategoryId>,
    /// The rate in basis points, 0 to 10,000: 1500 is 15%.
    pub rate_basis_points: i32,
    /// Whether prices include it (true) or it is added to them (false).
    pub inclusive: bool,
}

/// A tax rule to delete.
#[derive(InputObject)]
pub struct TaxRuleDeleteInput {
    /// The rule.
    pub id: TaxRuleId,
}

cityos_core::payload! {
    /// The result of a tax rule mutation.
    TaxRulePayload<OrdersUserError> {
        /// The rule (as it was, for a deletion); null when refused.
        tax_rule: TaxRule,
    }
}

fn rule_payload(outcome: Outcome<TaxRule>) -> Result<TaxRulePayload> {
    Ok(TaxRulePayload::of(outcome)?)
}

/// A new discount code.
#[derive(InputObject)]
pub struct DiscountCodeCreateInput {
    /// What shoppers type: 3 to 32 letters, digits, hyphens or underscores (stored upper-case).
    pub code: String,
    /// How it takes money off.
    pub kind: DiscountKind,
    /// For PERCENTAGE: 1 to 100.
    pub percent: Option<i32>,
    /// For FIXED_AMOUNT: the amount off, in minor units of `currency`.
    pub amount_minor: Option<i64>,
    /// Limits it to carts in this ISO 4217 currency; required with an amount or a minimum.
    pub currency: Option<String>,
    /// What the lines in scope must cost at least, in minor units.
    pub min_subtotal_minor: Option<i64>,
    /// When it starts to apply; now when omitted.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops applying; never when omitted.
    pub ends_at: Option<DateTime<Utc>>,
    /// How many orders may use it in all.
    pub usage_limit: Option<i32>,
    /// How many orders one customer may use it for.
    pub per_customer_limit: Option<i32>,
    /// Limits it to one vendor's lines.
    pub vendor_id: Option<VendorId>,
    /// Limits it to lines in a catalog category or below it.
    pub category_id: Option<CategoryId>,
}

/// A change to a discount code; omitted fields stay as they are.
#[derive(InputObject)]
pub struct DiscountCodeUpdateInput {
    /// The code's id.
    pub id: DiscountCodeId,
    /// Deactivate (false) or reactivate (true) it.
    pub active: Option<bool>,
    /// A new end.
    pub ends_at: Option<DateTime<Utc>>,
    /// A new total limit (not below the uses so far).
    pub usage_limit: Option<i32>,
    /// A new per-customer limit.
    pub per_customer_limit: Option<i32>,
}

cityos_core::payload! {
    /// The result of a discount code mutation.
    DiscountCodePayload<OrdersUserError> {
        /// The code as it is now; null when refused.
        discount_code: DiscountCode,
    }
}

fn code_payload(outcome: Outcome<DiscountCode>) -> Result<DiscountCodePayload> {
    Ok(DiscountCodePayload::of(outcome)?)
}

/// Staff set-up of shipping, taxes and discounts.
#[derive(Default)]
pub struct TermsMutation;

#[Object]
impl TermsMutation {
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

    /// Creates a tax rule (staff); one per country, region and category.
    async fn tax_rule_create(
        &self,
        ctx: &Context<'_>,
        input: TaxRuleCreateInput,
    ) -> Result<TaxRulePayload> {
        let rule = RuleInput {
            name: input.name,
            country_code: input.country_code,
            region: input.region,
            category_id: input.category_id,
            rate: input.rate_basis_points,
            inclusive: input.inclusive,
        };
        rule_payload(taxes::create(ctx.db(), ctx.request()?, rule).await)
    }

    /// Deletes a tax rule (staff); placed orders keep the tax they were charged.
    async fn tax_rule_delete(
        &self,
        ctx: &Context<'_>,
        input: TaxRuleDeleteInput,
    ) -> Result<TaxRulePayload> {
        let id = input.id;
        rule_payload(taxes::delete(ctx.db(), ctx.request()?, id).await)
    }

    /// Creates a discount code (staff).
    async fn discount_code_create(
        &self,
        ctx: &Context<'_>,
        input: DiscountCodeCreateInput,
    ) -> Result<DiscountCodePayload> {
        let code = CodeInput {
            code: input.code,
            kind: input.kind,
            percent: input.percent,
            amount: input.amount_minor,
            currency: input.currency,
            min_subtotal: input.min_subtotal_minor,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            usage_limit: input.usage_limit,
            per_customer_limit: input.per_customer_limit,
            vendor_id: input.vendor_id,
            category_id: input.category_id,
        };
        code_payload(discounts::create(ctx.db(), ctx.request()?, code).await)
    }

    /// Changes a discount code (staff): deactivate it, move its end, change its limits.
    async fn discount_code_update(
        &self,
        ctx: &Context<'_>,
        input: DiscountCodeUpdateInput,
    ) -> Result<DiscountCodePayload> {
        let id = input.id;
        let changes = CodeChanges {
            active: input.active,
            ends_at: input.ends_at,
            usage_limit: input.usage_limit,
            per_customer_limit: input.per_customer_limit,
        };
        code_payload(discounts::update(ctx.db(), ctx.request()?, id, changes).await)
    }
}
