//! Discount codes in GraphQL (staff).

use crate::discounts::{self, CodeChanges, CodeInput, DiscountCode, DiscountKind};
use crate::errors::{OrdersUserError, Outcome};
use crate::federation::Vendor;
use crate::ids::{CategoryId, DiscountCodeId, VendorId};
use crate::scope::money;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::money::{Currency, Money};
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;

cityos_core::connection!(
    DiscountCodeConnection,
    DiscountCodeEdge,
    DiscountCode,
    "discount code"
);

cityos_core::payload! {
    /// The result of a discount code mutation.
    DiscountCodePayload<OrdersUserError> {
        /// The code as it is now; null when refused.
        discount_code: DiscountCode,
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

/// The queries of discount codes.
#[derive(Default)]
pub struct DiscountQuery;

#[Object]
impl DiscountQuery {
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

/// The mutations of discount codes.
#[derive(Default)]
pub struct DiscountMutation;

#[Object]
impl DiscountMutation {
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

fn code_payload(outcome: Outcome<DiscountCode>) -> Result<DiscountCodePayload> {
    Ok(DiscountCodePayload::of(outcome)?)
}
