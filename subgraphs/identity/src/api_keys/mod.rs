//! API keys: PUBLISHABLE keys let a storefront read a tenant's public catalog anonymously; SECRET
//! keys let a server act as tenant staff. A key is shown once and stored as its SHA-256 digest.

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use crate::ids::{ApiKeyId, TenantId, UserId};
use crate::schema::api_keys;
use chrono::{DateTime, Utc};
use cityos_auth::secret::{self, SecretKind};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext, Role};
use cityos_db::Database;
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// What an API key may do.
    pub enum ApiKeyKind {
        /// For storefronts and apps: anonymous, read-only access to the tenant's public data. Safe to
        /// ship in a browser. Sent as `x-publishable-key`.
        Publishable = "PUBLISHABLE",
        /// For servers: acts as tenant staff. Never ship it to a browser. Sent as `authorization: Bearer`.
        Secret = "SECRET",
    }
}

impl ApiKeyKind {
    fn secret_kind(self) -> SecretKind {
        match self {
            Self::Publishable => SecretKind::PublishableKey,
            Self::Secret => SecretKind::SecretKey,
        }
    }
}

/// An API key as stored (never the key itself).
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg))]
pub struct ApiKey {
    pub tenant_id: TenantId,
    pub id: ApiKeyId,
    pub name: String,
    pub kind: ApiKeyKind,
    pub token_hint: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {}

/// Creates a key in the current tenant (tenant admins). Returns the key row and the key itself.
pub async fn create(
    db: &Database,
    ctx: &RequestContext,
    name: &str,
    kind: ApiKeyKind,
) -> Outcome<(ApiKey, String)> {
    db.audited(
        ctx,
        &[Role::TenantAdmin],
        "api_key.create",
        async move |tx| {
            let tenant = tx.tenant();
            let name = crate::tenants::check_name(name).map_err(|e| UserError {
                code: Code::InvalidName,
                ..e
            })?;
            if name.chars().count() > 100 {
                return Err(UserError::new(
                    "name",
                    Code::InvalidName,
                    "name must have at most 100 characters",
                )
                .into());
            }
            let generated = secret::generate(kind.secret_kind(), tenant);
            // Enough to recognise a key in a list, far too little to use it.
            let hint = format!(
                "{}…{}",
                &generated.token[..3],
                &generated.token[generated.token.len() - 4..]
            );
            let key: ApiKey = diesel::insert_into(api_keys::table)
                .values((
                    api_keys::tenant_id.eq(tenant),
                    api_keys::id.eq(ApiKeyId::new()),
                    api_keys::name.eq(&name),
                    api_keys::kind.eq(kind),
                    api_keys::key_hash.eq(&generated.digest),
                    api_keys::token_hint.eq(&hint),
                    api_keys::created_by.eq(ctx.user_id().ok()),
                ))
                .returning(ApiKey::as_returning())
                .get_result(tx.conn())
                .await?;
            let details = serde_json::json!({ "name": key.name, "kind": key.kind });
            let audit = Audit::of(key.id, details);
            Ok(((key, generated.token), audit))
        },
    )
    .await
}

/// Revokes a key of the current tenant (tenant admins). Servers honour it within the auth cache time.
pub async fn revoke(db: &Database, ctx: &RequestContext, id: ApiKeyId) -> Outcome<ApiKey> {
    db.audited(
        ctx,
        &[Role::TenantAdmin],
        "api_key.revoke",
        async move |tx| {
            let key: ApiKey = api_keys::table
                .filter(api_keys::id.eq(id))
                .select(ApiKey::as_select())
                .for_update()
                .first(tx.conn())
                .await
                .optional()?
                .ok_or_else(|| UserError::new("id", Code::NotFound, "no such API key"))?;
            if key.revoked_at.is_some() {
                return Err(UserError::new(
                    "id",
                    Code::AlreadyRevoked,
                    "this API key was already revoked",
                )
                .into());
            }
            let key: ApiKey = diesel::update(api_keys::table.filter(api_keys::id.eq(id)))
                .set(api_keys::revoked_at.eq(diesel::dsl::now))
                .returning(ApiKey::as_returning())
                .get_result(tx.conn())
                .await?;
            let audit = Audit::of(id, serde_json::json!({}));
            Ok((key, audit))
        },
    )
    .await
}

/// Lists the current tenant's keys (tenant admins).
pub async fn list(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<ApiKeyId>,
) -> Result<Page<ApiKey>, ApiError> {
    ctx.require_any(&[Role::TenantAdmin])?;
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            api_keys::table,
            api_keys::id,
            ApiKey,
            page
        )?)
    })
    .await
}
