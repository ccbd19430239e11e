//! Customer groups, price lists and volume tiers in GraphQL: staff queries and mutations.

use crate::errors::CatalogUserError;
use crate::federation::User;
use crate::ids::{CustomerGroupId, PriceListId, ProductId, UserId, VariantId};
use crate::price_lists::{
    self, CustomerGroup, ListEntry, ListedVariant, NewPriceList, NewTier, PriceList,
    PriceListChanges,
};
use crate::pricing::graphql::TierView;
use crate::pricing::{PriceListKind, VolumeTier};
use crate::products::graphql::{PriceInput, prices};
use async_graphql::{ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::{parse_id, to_id};
use cityos_core::money::Money;
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;

cityos_core::connection!(
    CustomerGroupConnection,
    CustomerGroupEdge,
    CustomerGroup,
    "customer group"
);
cityos_core::connection!(PriceListConnection, PriceListEdge, PriceList, "price list");
cityos_core::connection!(
    CustomerGroupMemberConnection,
    CustomerGroupMemberEdge,
    User,
    "group member"
);
cityos_core::connection!(
    PriceListEntryConnection,
    PriceListEntryEdge,
    ListedVariant,
    "price list entry"
);

/// A named set of customers (Wholesale, VIP) that price lists and volume tiers can be limited to.
#[Object]
impl CustomerGroup {
    /// The group's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name, unique within the tenant.
    async fn name(&self) -> &str {
        &self.name
    }
    /// What it is for.
    async fn description(&self) -> &str {
        &self.description
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Its customers, in id order.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CustomerGroupMemberConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let page = price_lists::members(ctx.db(), ctx.request()?, self.id, page).await?;
        Ok(page.map(|id| User { id: to_id(id) }).into())
    }
}

/// A set of variant prices that replaces (OVERRIDE) or undercuts (SALE) base prices, within an
/// optional window and optionally for one customer group.
#[Object]
impl PriceList {
    /// The list's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its name, unique within the tenant.
    async fn name(&self) -> &str {
        &self.name
    }
    /// SALE or OVERRIDE.
    async fn kind(&self) -> PriceListKind {
        self.kind
    }
    /// The customer group it is limited to; null for every customer.
    async fn customer_group_id(&self) -> Option<ID> {
        self.customer_group_id.map(to_id)
    }
    /// When it starts applying; null for already.
    async fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.starts_at
    }
    /// When it stops applying (exclusive); null for never.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.ends_at
    }
    /// Whether it applies now.
    async fn active(&self) -> bool {
        crate::pricing::in_window(self.starts_at, self.ends_at, Utc::now())
    }
    /// The variants on the list with their prices, in variant id order.
    async fn prices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PriceListEntryConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(
            price_lists::list_entries(ctx.db(), ctx.request()?, self.id, page)
                .await?
                .into(),
        )
    }
}

/// A variant's prices on a price list.
#[Object(name = "PriceListEntry")]
impl ListedVariant {
    /// The variant's id.
    async fn variant_id(&self) -> ID {
        to_id(self.variant_id)
    }
    /// Its prices on the list, one per currency.
    async fn prices(&self) -> Result<Vec<Money>> {
        Ok(self
            .prices
            .iter()
            .map(|p| Money::from_stored(p.amount, &p.currency))
            .collect::<Result<_, _>>()?)
    }
}

/// Staff queries about customer groups and price lists.
#[derive(Default)]
pub struct PricingQuery;

#[Object]
impl PricingQuery {
    /// The tenant's customer groups, oldest first (staff).
    async fn customer_groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<CustomerGroupConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(price_lists::groups(ctx.db(), ctx.request()?, page)
            .await?
            .into())
    }

    /// The tenant's price lists, oldest first (staff).
    async fn price_lists(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PriceListConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(price_lists::lists(ctx.db(), ctx.request()?, page)
            .await?
            .into())
    }

    /// A price list by id (staff).
    async fn price_list(&self, ctx: &Context<'_>, id: ID) -> Result<Option<PriceList>> {
        Ok(price_lists::list_by_id(ctx.db(), ctx.request()?, parse_id(&id)?).await?)
    }
}

/// A new customer group.
#[derive(InputObject)]
pub struct CustomerGroupCreateInput {
    /// Its name, 1 to 100 characters, unique within the tenant.
    pub name: String,
    /// What it is for, at most 1,000 characters.
    pub description: Option<String>,
}

cityos_core::payload! {
    /// The result of customer group mutations.
    CustomerGroupPayload<CatalogUserError> {
        /// The group; null when refused.
        customer_group: CustomerGroup,
    }
}

/// Customers to add to or remove from a group.
#[derive(InputObject)]
pub struct CustomerGroupMembersInput {
    /// The group.
    pub group_id: CustomerGroupId,
    /// The customers' user ids, 1 to 500.
    pub customer_ids: Vec<UserId>,
}

/// A new price list.
#[derive(InputObject)]
pub struct PriceListCreateInput {
    /// Its name, 1 to 100 characters, unique within the tenant.
    pub name: String,
    /// SALE or OVERRIDE.
    pub kind: PriceListKind,
    /// Limit it to one customer group.
    pub customer_group_id: Option<CustomerGroupId>,
    /// When it starts applying.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops applying (exclusive).
    pub ends_at: Option<DateTime<Utc>>,
}

/// Changes to a price list. `startsAt` and `endsAt` given as null remove that end of the window.
#[derive(InputObject)]
pub struct PriceListUpdateInput {
    /// The list.
    pub id: PriceListId,
    /// New name.
    pub name: Option<String>,
    /// New start.
    pub starts_at: MaybeUndefined<DateTime<Utc>>,
    /// New end.
    pub ends_at: MaybeUndefined<DateTime<Utc>>,
}

cityos_core::payload! {
    /// The result of price list mutations.
    PriceListPayload<CatalogUserError> {
        /// The list; null when refused.
        price_list: PriceList,
    }
}

/// A variant's prices on a price list.
#[derive(InputObject)]
pub struct PriceListEntryInput {
    /// The variant.
    pub variant_id: VariantId,
    /// One price per currency, in minor units.
    pub prices: Vec<PriceInput>,
}

/// Prices to put on a price list.
#[derive(InputObject)]
pub struct PriceListPricesSetInput {
    /// The list.
    pub price_list_id: PriceListId,
    /// 1 to 500 variants with their prices; currencies not named keep their price.
    pub entries: Vec<PriceListEntryInput>,
}

/// Variants to take off a price list.
#[derive(InputObject)]
pub struct PriceListPricesRemoveInput {
    /// The list.
    pub price_list_id: PriceListId,
    /// The variants.
    pub variant_ids: Vec<VariantId>,
}

/// A new volume tier.
#[derive(InputObject)]
pub struct VolumeTierCreateInput {
    /// The product.
    pub product_id: ProductId,
    /// One variant of it; omit for a tier that applies to each of its variants.
    pub variant_id: Option<VariantId>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Limit it to one customer group.
    pub customer_group_id: Option<CustomerGroupId>,
    /// The fewest units on a line it applies to, at least 1.
    pub min_quantity: i32,
    /// The most units it applies to; omit for no upper bound.
    pub max_quantity: Option<i32>,
    /// A fixed unit price in minor units (give this or `percentOff`).
    pub unit_amount_minor: Option<i64>,
    /// A percentage off the base price, above 0 and at most 100, two decimals at most.
    pub percent_off: Option<f64>,
}

cityos_core::payload! {
    /// The result of `volumeTierCreate`.
    #[graphql(complex)]
    VolumeTierPayload<CatalogUserError> {
        #[graphql(skip)]
        tier: VolumeTier,
    }
}

#[ComplexObject]
impl VolumeTierPayload {
    /// The new tier (its unit price shown for fixed-price tiers); null when refused.
    async fn volume_tier(&self) -> Result<Option<TierView>> {
        let Some(tier) = self.tier.clone() else {
            return Ok(None);
        };
        let unit_price = tier
            .unit_amount
            .map(|a| Money::from_stored(a, &tier.currency))
            .transpose()?;
        Ok(Some(TierView { tier, unit_price }))
    }
}

/// Something to delete, by id.
#[derive(InputObject)]
pub struct DeleteInput {
    /// Its id.
    pub id: ID,
}

cityos_core::payload! {
    /// The result of a deletion.
    DeletePayload<CatalogUserError> {
        /// The id of what was deleted; null when refused.
        deleted_id: ID,
    }
}

/// Staff mutations of customer groups, price lists and volume tiers.
#[derive(Default)]
pub struct PricingMutation;

#[Object]
impl PricingMutation {
    /// Creates a customer group (staff).
    async fn customer_group_create(
        &self,
        ctx: &Context<'_>,
        input: CustomerGroupCreateInput,
    ) -> Result<CustomerGroupPayload> {
        let outcome =
            price_lists::create_group(ctx.db(), ctx.request()?, &input.name, input.description)
                .await;
        Ok(CustomerGroupPayload::of(outcome)?)
    }

    /// Adds customers to a group (staff); customers already in it stay. Every id must be a customer
    /// of the tenant (`UNKNOWN_CUSTOMER` otherwise, and nobody is added).
    async fn customer_group_members_add(
        &self,
        ctx: &Context<'_>,
        input: CustomerGroupMembersInput,
    ) -> Result<CustomerGroupPayload> {
        self.members(ctx, input, true).await
    }

    /// Removes customers from a group (staff).
    async fn customer_group_members_remove(
        &self,
        ctx: &Context<'_>,
        input: CustomerGroupMembersInput,
    ) -> Result<CustomerGroupPayload> {
        self.members(ctx, input, false).await
    }

    /// Creates a price list (staff); put prices on it with `priceListPricesSet`.
    async fn price_list_create(
        &self,
        ctx: &Context<'_>,
        input: PriceListCreateInput,
    ) -> Result<PriceListPayload> {
        let new = NewPriceList {
            name: input.name,
            kind: input.kind,
            customer_group_id: input.customer_group_id,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
        };
        Ok(PriceListPayload::of(
            price_lists::create_list(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Renames a price list or moves its window (staff).
    async fn price_list_update(
        &self,
        ctx: &Context<'_>,
        input: PriceListUpdateInput,
    ) -> Result<PriceListPayload> {
        let id = input.id;
        let changes = PriceListChanges {
            name: input.name,
            starts_at: input.starts_at.into(),
            ends_at: input.ends_at.into(),
        };
        Ok(PriceListPayload::of(
            price_lists::update_list(ctx.db(), ctx.request()?, id, changes).await,
        )?)
    }

    /// Deletes a price list and its prices (staff).
    async fn price_list_delete(
        &self,
        ctx: &Context<'_>,
        input: DeleteInput,
    ) -> Result<DeletePayload> {
        let outcome =
            price_lists::delete_list(ctx.db(), ctx.request()?, parse_id(&input.id)?).await;
        Ok(DeletePayload::of(outcome.map(to_id))?)
    }

    /// Puts variants' prices on a price list (staff).
    async fn price_list_prices_set(
        &self,
        ctx: &Context<'_>,
        input: PriceListPricesSetInput,
    ) -> Result<PriceListPayload> {
        let entries = input
            .entries
            .into_iter()
            .map(|e| {
                Ok(ListEntry {
                    variant_id: e.variant_id,
                    prices: prices(Some(e.prices)),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let list = input.price_list_id;
        let outcome = price_lists::set_list_prices(ctx.db(), ctx.request()?, list, entries).await;
        Ok(PriceListPayload::of(outcome)?)
    }

    /// Takes variants off a price list (staff).
    async fn price_list_prices_remove(
        &self,
        ctx: &Context<'_>,
        input: PriceListPricesRemoveInput,
    ) -> Result<PriceListPayload> {
        let list = input.price_list_id;
        let variants = input.variant_ids;
        let outcome =
            price_lists::remove_list_prices(ctx.db(), ctx.request()?, list, variants).await;
        Ok(PriceListPayload::of(outcome)?)
    }

    /// Creates a volume tier for a product or one of its variants (staff). Tiers of the same
    /// product or variant, currency and customer group may not overlap.
    async fn volume_tier_create(
        &self,
        ctx: &Context<'_>,
        input: VolumeTierCreateInput,
    ) -> Result<VolumeTierPayload> {
        let new = NewTier {
            product_id: input.product_id,
            variant_id: input.variant_id,
            currency: input.currency,
            customer_group_id: input.customer_group_id,
            min_quantity: input.min_quantity,
            max_quantity: input.max_quantity,
            unit_amount: input.unit_amount_minor,
            percent_off: input.percent_off,
        };
        Ok(VolumeTierPayload::of(
            price_lists::create_tier(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Deletes a volume tier (staff).
    async fn volume_tier_delete(
        &self,
        ctx: &Context<'_>,
        input: DeleteInput,
    ) -> Result<DeletePayload> {
        let outcome =
            price_lists::delete_tier(ctx.db(), ctx.request()?, parse_id(&input.id)?).await;
        Ok(DeletePayload::of(outcome.map(to_id))?)
    }
}

impl PricingMutation {
    async fn members(
        &self,
        ctx: &Context<'_>,
        input: CustomerGroupMembersInput,
        add: bool,
    ) -> Result<CustomerGroupPayload> {
        let group = input.group_id;
        let users = input.customer_ids;
        let outcome =
            price_lists::change_members(ctx.db(), ctx.request()?, group, users, add).await;
        Ok(CustomerGroupPayload::of(outcome)?)
    }
}
