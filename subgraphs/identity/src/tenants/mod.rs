//! Tenants: the cities and brands the platform serves, and the host names that select them.

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use crate::ids::{TenantDomainId, TenantId};
use crate::schema::{tenant_domains, tenants};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::text::Line;
use cityos_core::{ApiError, Failure, RequestContext, Role, TenantStatus};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// What a row of the tenant directory is.
    pub enum TenantKind {
        /// The pseudo-tenant platform admins belong to; never selectable.
        Platform = "PLATFORM",
        /// A tenant: a city or a brand.
        Tenant = "TENANT",
    }
}

/// A tenant as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct Tenant {
    pub id: TenantId,
    pub kind: TenantKind,
    pub name: String,
    pub slug: String,
    pub status: TenantStatus,
    pub default_currency: String,
    pub default_locale: String,
    pub supported_locales: Vec<String>,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A host name that selects a tenant.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = tenant_domains, check_for_backend(diesel::pg::Pg))]
pub struct TenantDomain {
    pub tenant_id: TenantId,
    pub id: TenantDomainId,
    pub host: String,
    pub created_at: DateTime<Utc>,
}

/// Changes to a tenant; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub status: Option<TenantStatus>,
    pub default_locale: Option<String>,
    pub supported_locales: Option<Vec<String>>,
    pub timezone: Option<String>,
}

pub(crate) fn check_name(name: &str) -> Result<String, UserError> {
    Line::<200>::parse(name)
        .map(Line::into_inner)
        .map_err(|e| UserError::new("name", Code::InvalidName, e.message("a name")))
}

pub(crate) fn check_slug(slug: &str) -> Result<String, UserError> {
    let ok = (1..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !ok {
        return Err(UserError::new(
            "slug",
            Code::InvalidSlug,
            "slug must be 1 to 63 lower-case letters, digits or inner hyphens",
        ));
    }
    Ok(slug.to_owned())
}

/// A BCP 47-shaped tag: a 2-3 letter language and optional subtags (`ar`, `ar-SA`, `zh-Hant-TW`).
pub fn is_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub(crate) fn check_locales(
    default: &str,
    supported: Option<Vec<String>>,
) -> Result<(String, Vec<String>), UserError> {
    let bad = |field: &str, tag: &str| {
        UserError::new(
            field,
            Code::InvalidLocale,
            format!("`{tag}` is not a language tag such as `ar` or `en-US`"),
        )
    };
    if !is_locale(default) {
        return Err(bad("defaultLocale", default));
    }
    let mut supported = supported.unwrap_or_default();
    if let Some(tag) = supported.iter().find(|t| !is_locale(t)) {
        return Err(bad("supportedLocales", tag));
    }
    if !supported.iter().any(|t| t == default) {
        supported.insert(0, default.to_owned());
    }
    supported.dedup();
    Ok((default.to_owned(), supported))
}

pub(crate) async fn check_timezone(tx: &mut TenantTx<'_>, tz: &str) -> Outcome<String> {
    // PostgreSQL's own zone table is the authority (and the one timestamps are converted with).
    #[derive(QueryableByName)]
    struct Known {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        known: bool,
    }
    let found: Known = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS known",
    )
    .bind::<diesel::sql_types::Text, _>(tz)
    .get_result(tx.conn())
    .await?;
    if !found.known {
        return Err(UserError::new(
            "timezone",
            Code::InvalidTimezone,
            format!("`{tz}` is not an IANA time zone"),
        )
        .into());
    }
    Ok(tz.to_owned())
}

/// Changes a tenant. Status (suspend, reactivate) is for platform admins; the rest also for the
/// tenant's own admins.
#[tracing::instrument(name = "tenant.update", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), target.id = %id))]
pub async fn update(
    db: &Database,
    ctx: &RequestContext,
    id: TenantId,
    changes: TenantChanges,
) -> Outcome<Tenant> {
    if changes.status.is_some() {
        ctx.require_any(&[Role::PlatformAdmin])?;
    } else {
        ctx.require_any(&[Role::TenantAdmin])?;
        if !ctx.has_role(Role::PlatformAdmin) && ctx.tenant.as_ref().map(|t| t.id) != Some(id) {
            return Err(ApiError::forbidden("you may change only your own tenant").into());
        }
    }
    let name = changes.name.as_deref().map(check_name).transpose()?;
    let ctx = ctx.clone();
    db.tenant_tx(id, async move |tx| {
        let current: Tenant = tenants::table
            .find(id)
            .filter(tenants::kind.eq(TenantKind::Tenant))
            .select(Tenant::as_select())
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| UserError::new("id", Code::NotFound, "no such tenant"))?;
        let default = changes
            .default_locale
            .clone()
            .unwrap_or_else(|| current.default_locale.clone());
        let supported = changes
            .supported_locales
            .clone()
            .or_else(|| Some(current.supported_locales.clone()));
        let (default_locale, supported_locales) = check_locales(&default, supported)?;
        let timezone = match &changes.timezone {
            Some(tz) => check_timezone(tx, tz).await?,
            None => current.timezone.clone(),
        };
        let status = changes.status.unwrap_or(current.status);
        let updated: Tenant = diesel::update(tenants::table.find(id))
            .set((
                tenants::name.eq(name.unwrap_or(current.name)),
                tenants::status.eq(status),
                tenants::default_locale.eq(default_locale),
                tenants::supported_locales.eq(supported_locales),
                tenants::timezone.eq(timezone),
                tenants::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Tenant::as_returning())
            .get_result(tx.conn())
            .await?;
        let action = match changes.status {
            Some(TenantStatus::Suspended) if current.status != status => "tenant.suspend",
            Some(TenantStatus::Active) if current.status != status => "tenant.reactivate",
            _ => "tenant.update",
        };
        cityos_db::audit::record(
            tx,
            &ctx,
            action,
            id,
            serde_json::json!({ "status": status }),
        )
        .await?;
        Ok(updated)
    })
    .await
}

/// Finds a tenant (not the platform pseudo-tenant) by slug.
pub async fn by_slug(db: &Database, slug: &str) -> Result<Option<Tenant>, ApiError> {
    let mut conn = db.conn().await?;
    Ok(tenants::table
        .filter(tenants::slug.eq(slug.to_ascii_lowercase()))
        .filter(tenants::kind.eq(TenantKind::Tenant))
        .select(Tenant::as_select())
        .first(&mut conn)
        .await
        .optional()?)
}

/// Loads tenants by id (the DataLoader's query).
pub async fn by_ids(db: &Database, ids: &[TenantId]) -> Result<Vec<Tenant>, ApiError> {
    let mut conn = db.conn().await?;
    Ok(tenants::table
        .filter(tenants::id.eq_any(ids))
        .filter(tenants::kind.eq(TenantKind::Tenant))
        .select(Tenant::as_select())
        .load(&mut conn)
        .await?)
}

/// Lists tenants (platform admins only).
pub async fn list(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<TenantId>,
) -> Result<Page<Tenant>, ApiError> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    let mut conn = db.conn().await?;
    let query = tenants::table
        .filter(tenants::kind.eq(TenantKind::Tenant))
        .select(Tenant::as_select())
        .into_boxed();
    let rows = cityos_db::keyset_page!(query, tenants::id, page)
        .load(&mut conn)
        .await?;
    let total: i64 = tenants::table
        .filter(tenants::kind.eq(TenantKind::Tenant))
        .count()
        .get_result(&mut conn)
        .await?;
    Ok(page.finish(rows, |t| t.id, total))
}

/// The host names of a tenant.
pub async fn domains(db: &Database, tenant: TenantId) -> Result<Vec<TenantDomain>, ApiError> {
    let mut conn = db.conn().await?;
    Ok(tenant_domains::table
        .filter(tenant_domains::tenant_id.eq(tenant))
        .order(tenant_domains::host)
        .select(TenantDomain::as_select())
        .load(&mut conn)
        .await?)
}

fn check_host(host: &str) -> Result<String, UserError> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = host.split('.').all(|l| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    if host.len() > 253 || !host.contains('.') || !labels_ok {
        return Err(UserError::new(
            "host",
            Code::InvalidHost,
            format!("`{host}` is not a domain name"),
        ));
    }
    Ok(host)
}

/// Adds a host name to the current tenant (tenant admins).
pub async fn add_domain(db: &Database, ctx: &RequestContext, host: &str) -> Outcome<TenantDomain> {
    db.audited(
        ctx,
        &[Role::TenantAdmin],
        "tenant.domain.add",
        async move |tx| {
            let tenant = tx.tenant();
            let host = check_host(host)?;
            let domain: TenantDomain = diesel::insert_into(tenant_domains::table)
                .values((
                    tenant_domains::tenant_id.eq(tenant),
                    tenant_domains::id.eq(TenantDomainId::new()),
                    tenant_domains::host.eq(&host),
                ))
                .returning(TenantDomain::as_returning())
                .get_result(tx.conn())
                .await
                .map_err(|e| {
                    Failure::on_unique("tenant_domains_host_key", e, || {
                        UserError::new(
                            "host",
                            Code::HostTaken,
                            format!("`{host}` is already in use"),
                        )
                    })
                })?;
            let details = serde_json::json!({ "host": domain.host });
            let audit = Audit::of(domain.id, details);
            Ok((domain, audit))
        },
    )
    .await
}

/// Removes a host name from the current tenant (tenant admins).
pub async fn remove_domain(
    db: &Database,
    ctx: &RequestContext,
    id: TenantDomainId,
) -> Outcome<TenantDomain> {
    db.audited(
        ctx,
        &[Role::TenantAdmin],
        "tenant.domain.remove",
        async move |tx| {
            let removed: TenantDomain =
                diesel::delete(tenant_domains::table.filter(tenant_domains::id.eq(id)))
                    .returning(TenantDomain::as_returning())
                    .get_result(tx.conn())
                    .await
                    .optional()?
                    .ok_or_else(|| UserError::new("id", Code::NotFound, "no such domain"))?;
            let details = serde_json::json!({ "host": removed.host });
            let audit = Audit::of(id, details);
            Ok((removed, audit))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_hosts_and_locales_are_checked() {
        assert!(check_slug("dakkah").is_ok());
        assert!(check_slug("riyadh-2").is_ok());
        for bad in ["", "-a", "a-", "Dakkah", "a_b", &"a".repeat(64)] {
            assert_eq!(
                check_slug(bad).unwrap_err().code,
                Code::InvalidSlug,
                "{bad}"
            );
        }
        assert_eq!(check_host("Shop.Dakkah.SA.").unwrap(), "shop.dakkah.sa");
        assert!(check_host("localhost").is_err());
        assert!(check_host("bad_host.com").is_err());
        assert!(is_locale("ar") && is_locale("en-US") && is_locale("zh-Hant-TW"));
        assert!(!is_locale("english") && !is_locale("EN") && !is_locale("en_US"));
        let (d, s) = check_locales("ar", Some(vec!["en".into()])).unwrap();
        assert_eq!(
            (d.as_str(), s),
            ("ar", vec!["ar".to_owned(), "en".to_owned()])
        );
    }
}
