//! Onboarding: a new tenant and its first tenant admin, created together in the new tenant's
//! transaction (platform admins only). Apart from `tenants` because it is the one rule that needs
//! both tenants and users.

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use crate::ids::TenantId;
use crate::schema::tenants;
use crate::tenants::{Tenant, check_locales, check_name, check_slug, check_timezone};
use crate::users::{self, NewUser, UserKind};
use cityos_core::money::Currency;
use cityos_core::{Failure, RequestContext, Role};
use cityos_db::Database;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// What `tenantCreate` asks for.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub default_currency: String,
    pub default_locale: String,
    pub supported_locales: Option<Vec<String>>,
    pub timezone: String,
    pub admin: NewUser,
}

/// Creates a tenant and its first tenant admin (platform admins only).
#[tracing::instrument(name = "tenant.create", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    input: NewTenant,
) -> Outcome<(Tenant, users::User)> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    let name = check_name(&input.name)?;
    let slug = check_slug(&input.slug)?;
    let currency = Currency::parse(&input.default_currency)
        .map_err(|e| UserError::new("defaultCurrency", Code::UnknownCurrency, e.to_string()))?;
    let (default_locale, supported_locales) =
        check_locales(&input.default_locale, input.supported_locales)?;
    let admin = users::prepare(input.admin, "admin").await?;
    let id = TenantId::new();
    let ctx = ctx.clone();
    db.tenant_tx(id, async move |tx| {
        let timezone = check_timezone(tx, &input.timezone).await?;
        let tenant: Tenant = diesel::insert_into(tenants::table)
            .values((
                tenants::id.eq(id),
                tenants::name.eq(&name),
                tenants::slug.eq(&slug),
                tenants::default_currency.eq(currency.code()),
                tenants::default_locale.eq(&default_locale),
                tenants::supported_locales.eq(&supported_locales),
                tenants::timezone.eq(&timezone),
            ))
            .returning(Tenant::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("tenants_slug_key", e, || {
                    UserError::new(
                        "slug",
                        Code::SlugTaken,
                        format!("the slug `{slug}` is taken"),
                    )
                })
            })?;
        let admin =
            users::insert(tx, UserKind::Staff, &[Role::TenantAdmin], admin, "admin").await?;
        let details = serde_json::json!({ "slug": tenant.slug, "admin": admin.id });
        cityos_db::audit::record(tx, &ctx, "tenant.create", id, details).await?;
        Ok((tenant, admin))
    })
    .await
}
