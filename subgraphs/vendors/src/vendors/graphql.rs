//! Vendors in GraphQL: the `Vendor` entity the vendors subgraph owns, `vendor`, `vendors` and
//! `myVendors`, the application and the lifecycle mutations.

use crate::analytics::{self, Period as AnalyticsPeriod, Stats};
use crate::documents::Document;
use crate::errors::VendorsUserError;
use crate::ids::VendorId;
use crate::ledger::graphql::{LedgerEntryConnection, VendorSaleConnection};
use crate::ledger::{self, Balance};
use crate::payouts::graphql::VendorPayoutConnection;
use crate::payouts::{self, Terms};
use crate::ratings::{self, Rating};
use crate::scope::{
    BalancesOf, DocumentsOf, InvitationsOf, MembersOf, RatingOf, VendorsLoader, in_tenant,
    no_such_vendor,
};
use crate::teams::Invitation;
use crate::teams::graphql::VendorMember;
use crate::vendors::{self, Profile, Vendor, VendorFilter, VendorSort, VendorStatus, Viewer};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::ApiError;
use cityos_core::address::Address;
use cityos_core::ids::to_id;
use cityos_core::money::Currency;
use cityos_core::paging::{PageRequest, page_cost};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(VendorConnection, VendorEdge, Vendor, "vendor");

impl Loader<VendorId> for VendorsLoader {
    type Value = Vendor;
    type Error = ApiError;

    async fn load(&self, keys: &[VendorId]) -> Result<HashMap<VendorId, Vendor>, ApiError> {
        let keys = keys.to_vec();
        let viewer = self.viewer;
        let found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(vendors::by_ids(tx, &keys).await?)
            })
            .await?;
        Ok(found.into_iter().filter(|(_, v)| viewer.sees(v)).collect())
    }
}

/// The vendor `id` as the request's viewer may see it, or NOT_FOUND.
pub(crate) async fn visible(ctx: &Context<'_>, id: VendorId) -> Result<Vendor> {
    Ok(ctx
        .loader::<VendorsLoader>()?
        .load_one(id)
        .await?
        .ok_or_else(no_such_vendor)?)
}

fn viewer(ctx: &Context<'_>) -> Result<Viewer> {
    Ok(Viewer::of(ctx.request()?))
}

/// A marketplace vendor: a seller on the tenant's marketplace.
#[Object]
impl Vendor {
    /// The vendor's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Its handle: unique in the tenant, used in storefront URLs.
    async fn handle(&self) -> &str {
        &self.handle
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.name
    }
    /// What it sells, in its own words.
    async fn description(&self) -> &str {
        &self.description
    }
    /// Its logo (https).
    async fn logo_url(&self) -> Option<&str> {
        self.logo_url.as_deref()
    }
    /// Its contact e-mail address.
    async fn email(&self) -> &str {
        &self.email
    }
    /// Its contact phone number.
    async fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }
    /// The currency it prices and is paid out in by default (ISO 4217).
    async fn default_currency(&self) -> &str {
        self.default_currency.code()
    }
    /// How many days it takes to hand an order to the carrier.
    async fn handling_days(&self) -> i32 {
        self.handling_days
    }
    /// Where it is in its lifecycle: only APPROVED vendors sell.
    async fn status(&self) -> VendorStatus {
        self.status
    }
    /// When it was first approved; null while it never was.
    async fn approved_at(&self) -> Option<DateTime<Utc>> {
        self.approved_at
    }
    /// When it applied.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// Its business address; null unless the caller is staff or on its team.
    async fn address(&self, ctx: &Context<'_>) -> Result<Option<Address>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        Ok(Address::from_stored(&self.address))
    }
    /// Why it was rejected or suspended; null unless the caller is staff or on its team.
    async fn status_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(viewer(ctx)?
            .sees_private(self.id)
            .then_some(self.status_reason.as_deref())
            .flatten())
    }
    /// Its current know-your-customer documents, one per kind at most; null unless the caller
    /// is staff or on its team.
    async fn documents(&self, ctx: &Context<'_>) -> Result<Option<Vec<Document>>> {
        private(ctx, self.id, DocumentsOf(self.id)).await
    }
    /// Its team; null unless the caller is staff or on its team.
    async fn members(&self, ctx: &Context<'_>) -> Result<Option<Vec<VendorMember>>> {
        let found = private(ctx, self.id, MembersOf(self.id)).await?;
        Ok(found.map(|m| m.into_iter().map(VendorMember::from).collect()))
    }
    /// Its rating from the approved reviews of the products it sells.
    async fn rating(&self, ctx: &Context<'_>) -> Result<VendorRating> {
        let found = ctx
            .loader::<VendorsLoader>()?
            .load_one(RatingOf(self.id))
            .await?;
        Ok(VendorRating::of(found))
    }
    /// Its pending team invitations; null unless the caller is staff or on its team.
    async fn invitations(&self, ctx: &Context<'_>) -> Result<Option<Vec<Invitation>>> {
        private(ctx, self.id, InvitationsOf(self.id)).await
    }
    /// Its money, one balance per currency it has a ledger in; null unless the caller is staff
    /// or on its team.
    async fn balances(&self, ctx: &Context<'_>) -> Result<Option<Vec<Balance>>> {
        private(ctx, self.id, BalancesOf(self.id)).await
    }
    /// Its ledger, newest first, in one currency or all; null unless the caller is staff or on
    /// its team.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        currency: Option<String>,
    ) -> Result<Option<LedgerEntryConnection>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        let currency = currency
            .map(|c| {
                Currency::parse(&c)
                    .map_err(|_| ApiError::bad_input(format!("`{c}` is not an ISO 4217 currency")))
            })
            .transpose()?;
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let id = self.id;
        Ok(Some(
            in_tenant!(ctx, |tx| ledger::entries(tx, id, currency, page))?.into(),
        ))
    }
    /// Its figures per day or month from `from` to `to` (UTC days, inclusive, at most 731), one
    /// per period and currency with activity, oldest first; null unless the caller is staff or on
    /// its team.
    async fn analytics(
        &self,
        ctx: &Context<'_>,
        period: AnalyticsPeriod,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<Vec<Stats>>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        Ok(Some(
            analytics::graphql::of_vendor(ctx, self.id, period, from, to).await?,
        ))
    }
    /// How it is paid out; null unless the caller is staff or on its team.
    async fn payout_terms(&self, ctx: &Context<'_>) -> Result<Option<Terms>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        let id = self.id;
        Ok(in_tenant!(ctx, |tx| payouts::terms(tx, id))?)
    }
    /// Its payouts, newest first; null unless the caller is staff or on its team.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<VendorPayoutConnection>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let id = self.id;
        Ok(Some(
            in_tenant!(ctx, |tx| payouts::page(tx, id, page))?.into(),
        ))
    }
    /// Its sales (vendor orders whose payment was captured), newest first, each with its
    /// commission lines; null unless the caller is staff or on its team.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn sales(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<VendorSaleConnection>> {
        if !viewer(ctx)?.sees_private(self.id) {
            return Ok(None);
        }
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        let id = self.id;
        Ok(Some(
            in_tenant!(ctx, |tx| ledger::sales(tx, id, page))?.into(),
        ))
    }
}

/// A vendor's rating: its products' approved reviews.
#[derive(async_graphql::SimpleObject, Debug, Clone, Copy, PartialEq)]
pub struct VendorRating {
    /// The mean of their stars (1 to 5), to two decimals; null without reviews.
    pub average: Option<f64>,
    /// How many there are.
    pub count: i32,
}

impl VendorRating {
    fn of(found: Option<Rating>) -> Self {
        match found {
            Some(r) if r.reviews > 0 => Self {
                average: Some((r.stars as f64 / f64::from(r.reviews) * 100.0).round() / 100.0),
                count: r.reviews,
            },
            _ => Self {
                average: None,
                count: 0,
            },
        }
    }
}

impl Loader<RatingOf> for VendorsLoader {
    type Value = Rating;
    type Error = ApiError;

    async fn load(&self, keys: &[RatingOf]) -> Result<HashMap<RatingOf, Rating>, ApiError> {
        let vendors: Vec<VendorId> = keys.iter().map(|k| k.0).collect();
        let found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(ratings::of(tx, &vendors).await?)
            })
            .await?;
        Ok(found.into_iter().map(|(v, r)| (RatingOf(v), r)).collect())
    }
}

/// What hangs off `vendor` under `key`, for staff and its team only (`None` for anyone else).
async fn private<K, T>(ctx: &Context<'_>, vendor: VendorId, key: K) -> Result<Option<Vec<T>>>
where
    VendorsLoader: Loader<K, Value = Vec<T>, Error = ApiError>,
    K: Copy + Eq + std::hash::Hash + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    if !viewer(ctx)?.sees_private(vendor) {
        return Ok(None);
    }
    Ok(Some(
        ctx.loader::<VendorsLoader>()?
            .load_one(key)
            .await?
            .unwrap_or_default(),
    ))
}

/// Which vendors a list holds.
#[derive(InputObject, Default)]
pub struct VendorFilterInput {
    /// Only these statuses (staff; everyone else sees APPROVED vendors only).
    pub status: Option<Vec<VendorStatus>>,
    /// Only vendors whose name contains this (case-insensitive, at most 100 characters).
    pub query: Option<String>,
}

/// A vendor's profile, to apply with.
#[derive(InputObject)]
pub struct VendorApplyInput {
    /// Its name, 1 to 120 characters.
    pub name: String,
    /// Its handle: lower-case letters and digits joined by single hyphens, 1 to 63 characters.
    pub handle: String,
    /// What it sells, at most 5,000 characters.
    pub description: Option<String>,
    /// Its logo, an https URL.
    pub logo_url: Option<String>,
    /// Its contact e-mail address.
    pub email: String,
    /// Its contact phone number: an optional + and 6 to 15 digits.
    pub phone: Option<String>,
    /// Its business address.
    pub address: Option<Address>,
    /// ISO 4217 currency it is paid out in; the tenant's by default.
    pub default_currency: Option<String>,
    /// Days to hand an order to the carrier, 0 to 60; 2 by default.
    pub handling_days: Option<i32>,
}

impl From<VendorApplyInput> for Profile {
    fn from(i: VendorApplyInput) -> Self {
        Self {
            name: Some(i.name),
            handle: Some(i.handle),
            description: i.description,
            logo_url: Some(i.logo_url),
            email: Some(i.email),
            phone: Some(i.phone),
            address: Some(i.address),
            default_currency: i.default_currency,
            handling_days: i.handling_days,
        }
    }
}

/// Changes to a vendor's profile: fields left out stay, fields set to null are cleared.
#[derive(InputObject)]
pub struct VendorUpdateInput {
    /// The vendor.
    pub id: VendorId,
    /// New name.
    pub name: Option<String>,
    /// New handle.
    pub handle: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New logo; null removes it.
    pub logo_url: MaybeUndefined<String>,
    /// New contact e-mail address.
    pub email: Option<String>,
    /// New phone number; null removes it.
    pub phone: MaybeUndefined<String>,
    /// New address; null removes it.
    pub address: MaybeUndefined<Address>,
    /// New payout currency.
    pub default_currency: Option<String>,
    /// New handling time in days.
    pub handling_days: Option<i32>,
}

pub(crate) fn maybe<T>(m: MaybeUndefined<T>) -> Option<Option<T>> {
    match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

cityos_core::payload! {
    /// The result of a vendor mutation.
    VendorPayload<VendorsUserError> {
        /// The vendor as it now is; null when refused.
        vendor: Vendor,
    }
}

/// The queries of vendors.
#[derive(Default)]
pub struct VendorQuery;

#[Object]
impl VendorQuery {
    /// A vendor by id or handle (give one). Storefronts see approved vendors by handle and any
    /// vendor that was ever approved by id; staff and the vendor's team see it in any status.
    async fn vendor(
        &self,
        ctx: &Context<'_>,
        id: Option<VendorId>,
        handle: Option<String>,
    ) -> Result<Option<Vendor>> {
        match (id, handle) {
            (Some(id), None) => Ok(ctx.loader::<VendorsLoader>()?.load_one(id).await?),
            (None, Some(handle)) => {
                let viewer = viewer(ctx)?;
                let found = in_tenant!(ctx, |tx| vendors::by_handle(tx, &handle))?;
                Ok(found
                    .filter(|v| viewer.sees_private(v.id) || v.status == VendorStatus::Approved))
            }
            _ => Err(ApiError::bad_input("give `id` or `handle`").into()),
        }
    }

    /// The tenant's vendors: approved ones for storefronts, any status `filter` names for staff.
    #[graphql(complexity = "cityos_core::paging::page_cost(first, None, child_complexity)")]
    async fn vendors(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<VendorFilterInput>,
        sort: Option<VendorSort>,
    ) -> Result<VendorConnection> {
        let viewer = viewer(ctx)?;
        let filter = filter.unwrap_or_default();
        let query = match filter.query {
            Some(q) => cityos_core::text::Text::<100>::parse_optional(Some(&q))
                .map_err(|e| ApiError::bad_input(e.message("`query`")))?
                .map(cityos_core::text::Text::into_inner),
            None => None,
        };
        let filter = VendorFilter {
            statuses: filter.status,
            query,
        };
        let sort = sort.unwrap_or_default();
        let tenant = ctx.request()?.tenant()?.id;
        let page = ctx
            .db()
            .tenant_tx(tenant, async move |tx| {
                vendors::list(tx, viewer, filter, sort, first, after.as_deref()).await
            })
            .await?;
        Ok(page.into())
    }

    /// The vendor teams the signed-in user is on: the vendors they may act for (send one's id as
    /// `x-vendor-id`).
    async fn my_vendors(&self, ctx: &Context<'_>) -> Result<Vec<VendorMember>> {
        let user = ctx.request()?.user_id()?;
        let found = in_tenant!(ctx, |tx| crate::membership::memberships_of::<
            crate::teams::Team,
        >(tx, user))?;
        Ok(found.into_iter().map(VendorMember::from).collect())
    }
}

/// The mutations of vendors.
#[derive(Default)]
pub struct VendorMutation;

#[Object]
impl VendorMutation {
    /// Applies to sell on the marketplace, as the signed-in customer, who becomes the vendor's
    /// owner. The vendor starts APPLIED; staff review it.
    async fn vendor_apply(
        &self,
        ctx: &Context<'_>,
        input: VendorApplyInput,
    ) -> Result<VendorPayload> {
        Ok(VendorPayload::of(
            vendors::apply(ctx.db(), ctx.request()?, input.into()).await,
        )?)
    }

    /// Changes a vendor's profile (staff, or its owners and managers acting for it).
    async fn vendor_update(
        &self,
        ctx: &Context<'_>,
        input: VendorUpdateInput,
    ) -> Result<VendorPayload> {
        let profile = Profile {
            name: input.name,
            handle: input.handle,
            description: input.description,
            logo_url: maybe(input.logo_url),
            email: input.email,
            phone: maybe(input.phone),
            address: maybe(input.address),
            default_currency: input.default_currency,
            handling_days: input.handling_days,
        };
        Ok(VendorPayload::of(
            vendors::update(ctx.db(), ctx.request()?, input.id, profile).await,
        )?)
    }
}
