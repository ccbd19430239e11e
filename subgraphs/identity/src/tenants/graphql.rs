//! The GraphQL of tenants and their host names.

use crate::errors::IdentityUserError;
use crate::ids::{TenantDomainId, TenantId};
use crate::scope::{IdentityLoader, may_see};
use crate::tenants::{self, Tenant, TenantChanges, TenantDomain};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::paging::PageRequest;
use cityos_core::{ApiError, TenantStatus};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(TenantConnection, TenantEdge, Tenant, "tenant");

impl Loader<TenantId> for IdentityLoader {
    type Value = Tenant;
    type Error = ApiError;

    async fn load(&self, keys: &[TenantId]) -> Result<HashMap<TenantId, Tenant>, ApiError> {
        Ok(tenants::by_ids(&self.db, keys)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect())
    }
}

/// A tenant: a city, brand or organisation with its own catalog, customers and staff.
#[Object]
impl Tenant {
    /// The tenant's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.name
    }
    /// URL-safe unique name; what `x-tenant` selects.
    async fn slug(&self) -> &str {
        &self.slug
    }
    /// ACTIVE, or SUSPENDED (every request for it is refused).
    async fn status(&self) -> TenantStatus {
        self.status
    }
    /// ISO 4217 code of the default currency.
    async fn default_currency(&self) -> &str {
        &self.default_currency
    }
    /// BCP 47 tag of the default locale; content falls back to it.
    async fn default_locale(&self) -> &str {
        &self.default_locale
    }
    /// Locales the tenant publishes content in (always includes the default).
    async fn supported_locales(&self) -> &[String] {
        &self.supported_locales
    }
    /// IANA time zone the tenant's schedules and reports use.
    async fn timezone(&self) -> &str {
        &self.timezone
    }
    /// Host names that select this tenant (staff of the tenant only).
    async fn domains(&self, ctx: &Context<'_>) -> Result<Vec<TenantDomain>> {
        ctx.request()?.require_staff()?;
        Ok(tenants::domains(ctx.db(), self.id).await?)
    }
    /// When the tenant was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A host name that selects a tenant (for storefront domains).
#[Object]
impl TenantDomain {
    /// The domain's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Lower-case host name, e.g. `shop.dakkah.sa`.
    async fn host(&self) -> &str {
        &self.host
    }
    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Changes to a tenant; omitted fields stay as they are.
#[derive(InputObject)]
pub struct TenantUpdateInput {
    /// The tenant to change.
    pub id: TenantId,
    /// New display name.
    pub name: Option<String>,
    /// ACTIVE or SUSPENDED (platform admins only).
    pub status: Option<TenantStatus>,
    /// New default locale (must be supported).
    pub default_locale: Option<String>,
    /// New supported locales.
    pub supported_locales: Option<Vec<String>>,
    /// New IANA time zone.
    pub timezone: Option<String>,
}

cityos_core::payload! {
    /// The result of `tenantUpdate`.
    TenantUpdatePayload<IdentityUserError> {
        /// The tenant as changed; null when refused.
        tenant: Tenant,
    }
}

/// A host name to add to the current tenant.
#[derive(InputObject)]
pub struct TenantDomainAddInput {
    /// Host name, e.g. `shop.dakkah.sa`.
    pub host: String,
}

/// A host name to remove from the current tenant.
#[derive(InputObject)]
pub struct TenantDomainRemoveInput {
    /// The domain's id.
    pub id: TenantDomainId,
}

cityos_core::payload! {
    /// The result of `tenantDomainAdd` and `tenantDomainRemove`.
    TenantDomainPayload<IdentityUserError> {
        /// The domain added or removed; null when refused.
        domain: TenantDomain,
    }
}

/// The queries of tenants and their host names.
#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// A tenant by slug: the selected tenant itself, or any tenant for platform admins.
    async fn tenant(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Tenant>> {
        let rc = ctx.request()?;
        Ok(tenants::by_slug(ctx.db(), &slug)
            .await?
            .filter(|t| may_see(rc, t.id)))
    }

    /// The tenant this request selected (by host, `x-tenant`, publishable key or token).
    async fn current_tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        let id = ctx.request()?.tenant()?.id;
        Ok(ctx.loader::<IdentityLoader>()?.load_one(id).await?)
    }

    /// All tenants (platform admins).
    async fn tenants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<TenantConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(tenants::list(ctx.db(), ctx.request()?, page).await?.into())
    }

    /// Resolves `Tenant` references from other subgraphs.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, ctx: &Context<'_>, id: TenantId) -> Result<Option<Tenant>> {
        if !may_see(ctx.request()?, id) {
            return Ok(None);
        }
        Ok(ctx.loader::<IdentityLoader>()?.load_one(id).await?)
    }
}

/// The mutations of tenants and their host names.
#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Changes a tenant. Suspending or reactivating is for platform admins; the rest is also for
    /// the tenant's own admins.
    async fn tenant_update(
        &self,
        ctx: &Context<'_>,
        input: TenantUpdateInput,
    ) -> Result<TenantUpdatePayload> {
        let id = input.id;
        let changes = TenantChanges {
            name: input.name,
            status: input.status,
            default_locale: input.default_locale,
            supported_locales: input.supported_locales,
            timezone: input.timezone,
        };
        Ok(TenantUpdatePayload::of(
            tenants::update(ctx.db(), ctx.request()?, id, changes).await,
        )?)
    }

    /// Adds a host name that selects the current tenant (tenant admins).
    async fn tenant_domain_add(
        &self,
        ctx: &Context<'_>,
        input: TenantDomainAddInput,
    ) -> Result<TenantDomainPayload> {
        Ok(TenantDomainPayload::of(
            tenants::add_domain(ctx.db(), ctx.request()?, &input.host).await,
        )?)
    }

    /// Removes a host name from the current tenant (tenant admins).
    async fn tenant_domain_remove(
        &self,
        ctx: &Context<'_>,
        input: TenantDomainRemoveInput,
    ) -> Result<TenantDomainPayload> {
        let id = input.id;
        Ok(TenantDomainPayload::of(
            tenants::remove_domain(ctx.db(), ctx.request()?, id).await,
        )?)
    }
}
