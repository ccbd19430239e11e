//! The GraphQL of onboarding: `tenantCreate`.

use super::NewTenant;
use crate::errors::IdentityUserError;
use crate::tenants::Tenant;
use crate::users::{NewUser, User};
use async_graphql::{Context, InputObject, Object, Result};
use cityos_server::CtxExt as _;

/// The first tenant admin, created with the tenant.
#[derive(InputObject)]
pub struct TenantAdminInput {
    /// Email address to sign in with.
    pub email: String,
    /// Password, 8 to 128 characters.
    pub password: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// A new tenant.
#[derive(InputObject)]
pub struct TenantCreateInput {
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Unique URL-safe name: lower-case letters, digits, inner hyphens, 1 to 63 characters.
    pub slug: String,
    /// ISO 4217 code of the default currency, e.g. `SAR`.
    pub default_currency: String,
    /// BCP 47 tag of the default locale, e.g. `ar`.
    pub default_locale: String,
    /// Other locales the tenant publishes content in.
    pub supported_locales: Option<Vec<String>>,
    /// IANA time zone, e.g. `Asia/Riyadh`.
    pub timezone: String,
    /// The first tenant admin.
    pub admin: TenantAdminInput,
}

cityos_core::payload! {
    /// The result of `tenantCreate`.
    TenantCreatePayload<IdentityUserError> {
        /// The new tenant; null when refused.
        tenant: Tenant,
        /// The tenant's first admin; null when refused.
        admin: User,
    }
}

/// The mutations of onboarding.
#[derive(Default)]
pub struct OnboardingMutation;

#[Object]
impl OnboardingMutation {
    /// Creates a tenant and its first tenant admin (platform admins).
    async fn tenant_create(
        &self,
        ctx: &Context<'_>,
        input: TenantCreateInput,
    ) -> Result<TenantCreatePayload> {
        let new = NewTenant {
            name: input.name,
            slug: input.slug,
            default_currency: input.default_currency,
            default_locale: input.default_locale,
            supported_locales: input.supported_locales,
            timezone: input.timezone,
            admin: NewUser {
                email: input.admin.email,
                password: input.admin.password,
                first_name: input.admin.first_name,
                last_name: input.admin.last_name,
            },
        };
        Ok(TenantCreatePayload::of(
            super::create(ctx.db(), ctx.request()?, new).await,
        )?)
    }
}
