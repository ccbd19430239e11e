//! Builds the [`RequestContext`] of a request from its headers.
//!
//! Tenant selection, in the order checked:
//! 1. `authorization: Bearer <token>`: an access token (its `tid` claim) or a secret API key
//!    (`sk_...`, which names its tenant);
//! 2. `x-publishable-key: pk_...` (names its tenant; the storefront's anonymous, read-only access);
//! 3. `x-tenant: <slug>`;
//! 4. the host name (`x-forwarded-host`, set by the router, else `host`) when it is a tenant domain.
//!
//! Every source that names a tenant must name the same one: a token issued for tenant A sent with
//! tenant B selected is refused with `FORBIDDEN`. Platform-admin tokens name no tenant and may
//! select any. Unknown slugs are `TENANT_NOT_FOUND`, suspended tenants `TENANT_SUSPENDED`, bad
//! credentials `UNAUTHENTICATED`. An unknown host is not an error (it is just not a selector).
//!
//! A signed-in user acts for a marketplace vendor by naming it in `x-vendor-id`: the vendor must be
//! one whose team the user is on (and not closed or rejected), else the request is refused with
//! `FORBIDDEN`; the context then carries the vendor and the user's role there
//! ([`cityos_core::VendorScope`]). A buyer acts for a B2B company by naming it in `x-company-id`
//! in the same way (a company that is not closed; [`cityos_core::CompanyScope`]).
//!
//! Tenant and API-key lookups go through SQL functions the identity subgraph publishes in its
//! schema (`identity.tenant_lookup`, `identity.api_key_authenticate`), membership through
//! the ones the vendors subgraph publishes (`vendors.vendor_member`, `vendors.company_member`); all are cached for a short
//! time, so a suspension, a key revocation or a removal from a team takes effect within that time.

use crate::Platform;
use axum::http::HeaderMap;
use cityos_auth::TokenError;
use cityos_auth::secret::{self, SecretKind};
use cityos_core::ids::{ApiKeyId, CompanyId, TenantId, UserId, VendorId};
use cityos_core::{
    Actor, ApiError, CompanyRole, CompanyScope, ErrorCode, RequestContext, TenantInfo,
    TenantStatus, VendorRole, VendorScope,
};
use diesel::QueryableByName;
use diesel::sql_types::{Bytea, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The id of the platform pseudo-tenant that platform admins belong to. It is never selectable.
pub const PLATFORM_TENANT_ID: TenantId = TenantId::from_uuid(Uuid::nil());

/// A small map whose entries expire.
struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

/// Entries kept at most; past that the cache starts over (lookups are cheap, memory is not free).
const CACHE_CAPACITY: usize = 10_000;

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TenantKey {
    Id(TenantId),
    Slug(String),
    Host(String),
}

#[derive(QueryableByName)]
struct TenantRow {
    #[diesel(sql_type = SqlUuid)]
    id: TenantId,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    status: TenantStatus,
    #[diesel(sql_type = Text)]
    default_currency: String,
    #[diesel(sql_type = Text)]
    default_locale: String,
}

#[derive(QueryableByName)]
struct ApiKeyRow {
    #[diesel(sql_type = SqlUuid)]
    id: ApiKeyId,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text)]
    role: String,
}

/// An authenticated API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ApiKeyPrincipal {
    id: ApiKeyId,
    tenant: TenantId,
    publishable: bool,
}

/// Resolves request contexts; one per process, shared by all requests.
pub struct ContextResolver {
    platform: Platform,
    tenants: TtlCache<TenantKey, Option<TenantInfo>>,
    api_keys: TtlCache<Vec<u8>, Option<ApiKeyPrincipal>>,
    /// The role a user holds in an organization (named by its membership function), if any.
    members: TtlCache<(TenantId, &'static str, Uuid, UserId), Option<String>>,
}

impl std::fmt::Debug for ContextResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextResolver").finish_non_exhaustive()
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The first language tag of an `accept-language` header, if it looks like one.
fn locale(headers: &HeaderMap) -> Option<String> {
    let first = header(headers, "accept-language")?
        .split(',')
        .next()?
        .split(';')
        .next()?
        .trim();
    let valid = (2..=35).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| first.to_owned())
}

/// The caller's request id when it is reasonable, else a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    header(headers, "x-request-id")
        .filter(|id| id.len() <= 64 && id.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned)
}

/// Adds a tenant named by one source to what the others named; they must agree.
fn agree(chosen: &mut Option<TenantId>, named: TenantId, source: &str) -> Result<(), ApiError> {
    match chosen {
        Some(existing) if *existing != named => Err(ApiError::forbidden(format!(
            "the {source} belongs to another tenant than the one selected"
        ))),
        _ => {
            *chosen = Some(named);
            Ok(())
        }
    }
}

/// An organization a caller may act for by naming it in a header.
struct Membership {
    header: &'static str,
    noun: &'static str,
    /// The vendors subgraph's published function answering the member's role.
    function: &'static str,
}

const VENDOR: Membership = Membership {
    header: "x-vendor-id",
    noun: "vendor",
    function: "SELECT role FROM vendors.vendor_member($1, $2)",
};

const COMPANY: Membership = Membership {
    header: "x-company-id",
    noun: "company",
    function: "SELECT role FROM vendors.company_member($1, $2)",
};

impl ContextResolver {
    /// A resolver whose lookups are cached for `ttl` (zero disables the cache).
    pub fn new(platform: Platform, ttl: Duration) -> Self {
        Self {
            platform,
            tenants: TtlCache::new(ttl),
            api_keys: TtlCache::new(ttl),
            members: TtlCache::new(ttl),
        }
    }

    /// Builds the context of a request, or the error the request is refused with.
    /// `request_id` is the one the caller already derived (with [`request_id`]) for its log span.
    pub async fn resolve(
        &self,
        headers: &HeaderMap,
        request_id: String,
    ) -> Result<RequestContext, ApiError> {
        let mut actor = Actor::Anonymous;
        // The tenant named by credentials (token, keys) and by selectors must be one.
        let mut tenant_id: Option<TenantId> = None;

        if let Some(value) = header(headers, "authorization") {
            let credential = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::unauthenticated("authorization must be `Bearer <token>`")
                })?;
            if credential.starts_with("sk_") {
                let key = self.api_key(SecretKind::SecretKey, credential).await?;
                agree(&mut tenant_id, key.tenant, "secret key")?;
                actor = Actor::Service { key_id: key.id };
            } else {
                let now = chrono::Utc::now().timestamp();
                let claims = self
                    .platform
                    .keys
                    .verify(credential, now)
                    .map_err(|e| match e {
                        TokenError::Expired => {
                            ApiError::unauthenticated("the access token has expired; refresh it")
                        }
                        TokenError::Malformed | TokenError::BadSignature => {
                            ApiError::unauthenticated(e.to_string())
                        }
                    })?;
                if claims.tid != PLATFORM_TENANT_ID {
                    agree(&mut tenant_id, claims.tid, "access token")?;
                }
                actor = Actor::User {
                    user_id: claims.sub,
                    roles: claims.roles(),
                };
            }
        }

        if let Some(key) = header(headers, "x-publishable-key") {
            let key = self.api_key(SecretKind::PublishableKey, key).await?;
            agree(&mut tenant_id, key.tenant, "publishable key")?;
            if actor == Actor::Anonymous {
                actor = Actor::Storefront { key_id: key.id };
            }
        }

        let mut tenant: Option<TenantInfo> = None;
        if let Some(slug) = header(headers, "x-tenant") {
            let found = self
                .tenant(TenantKey::Slug(slug.to_ascii_lowercase()))
                .await?
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::TenantNotFound, format!("no tenant `{slug}`"))
                })?;
            agree(&mut tenant_id, found.id, "credential")?;
            tenant = Some(found);
        } else if let Some(host) =
            header(headers, "x-forwarded-host").or_else(|| header(headers, "host"))
        {
            let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
            if let Some(found) = self.tenant(TenantKey::Host(host)).await? {
                agree(&mut tenant_id, found.id, "credential")?;
                tenant = Some(found);
            }
        }

        if tenant.is_none()
            && let Some(id) = tenant_id
        {
            let found = self.tenant(TenantKey::Id(id)).await?;
            tenant = Some(found.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::TenantNotFound,
                    "the credential's tenant no longer exists",
                )
            })?);
        }
        if let Some(t) = &tenant
            && t.status == TenantStatus::Suspended
        {
            return Err(ApiError::new(
                ErrorCode::TenantSuspended,
                format!("tenant `{}` is suspended", t.slug),
            ));
        }

        let vendor = match header(headers, "x-vendor-id") {
            Some(named) => {
                let (id, role) = self
                    .membership(tenant.as_ref(), &actor, named, &VENDOR)
                    .await?;
                let role = VendorRole::parse(&role).map_err(ApiError::internal)?;
                Some(VendorScope {
                    id: VendorId::from_uuid(id),
                    role,
                })
            }
            None => None,
        };
        let company = match header(headers, "x-company-id") {
            Some(named) => {
                let (id, role) = self
                    .membership(tenant.as_ref(), &actor, named, &COMPANY)
                    .await?;
                let role = CompanyRole::parse(&role).map_err(ApiError::internal)?;
                Some(CompanyScope {
                    id: CompanyId::from_uuid(id),
                    role,
                })
            }
            None => None,
        };

        Ok(RequestContext {
            tenant,
            actor,
            vendor,
            company,
            locale: locale(headers),
            request_id,
        })
    }

    /// The organization `named` (in `kind`'s header) and the role the caller holds in it: a
    /// signed-in user of the selected tenant who is one of its members.
    async fn membership(
        &self,
        tenant: Option<&TenantInfo>,
        actor: &Actor,
        named: &str,
        kind: &'static Membership,
    ) -> Result<(Uuid, String), ApiError> {
        let Actor::User { user_id, .. } = actor else {
            return Err(ApiError::unauthenticated(format!(
                "sign in to act for a {} ({})",
                kind.noun, kind.header
            )));
        };
        let tenant = tenant.ok_or_else(ApiError::tenant_required)?.id;
        let id = named.parse::<Uuid>().map_err(|_| {
            ApiError::bad_input(format!("{} must be a {}'s id", kind.header, kind.noun))
        })?;
        let key = (tenant, kind.function, id, *user_id);
        let role = match self.members.get(&key) {
            Some(hit) => hit,
            None => {
                let user = *user_id;
                let role = self
                    .platform
                    .db
                    .tenant_tx(tenant, async move |tx| {
                        diesel::sql_query(kind.function)
                            .bind::<SqlUuid, _>(id)
                            .bind::<SqlUuid, _>(user)
                            .load::<MemberRow>(tx.conn())
                            .await
                            .map(|rows| rows.into_iter().next().map(|r| r.role))
                            .map_err(ApiError::from)
                    })
                    .await?;
                self.members.put(key, role.clone());
                role
            }
        };
        let role = role.ok_or_else(|| {
            ApiError::forbidden(format!(
                "you are not a member of the {} {} names",
                kind.noun, kind.header
            ))
        })?;
        Ok((id, role))
    }

    async fn tenant(&self, key: TenantKey) -> Result<Option<TenantInfo>, ApiError> {
        if let Some(hit) = self.tenants.get(&key) {
            return Ok(hit);
        }
        let (id, slug, host) = match &key {
            TenantKey::Id(id) => (Some(*id), None, None),
            TenantKey::Slug(s) => (None, Some(s.clone()), None),
            TenantKey::Host(h) => (None, None, Some(h.clone())),
        };
        let mut conn = self.platform.db.conn().await?;
        let row: Option<TenantRow> = diesel::sql_query(
            "SELECT id, slug, status, default_currency, default_locale FROM identity.tenant_lookup($1, $2, $3)",
        )
        .bind::<Nullable<SqlUuid>, _>(id)
        .bind::<Nullable<Text>, _>(slug)
        .bind::<Nullable<Text>, _>(host)
        .get_result(&mut conn)
        .await
        .map(Some)
        .or_else(|e| if e == diesel::result::Error::NotFound { Ok(None) } else { Err(e) })?;
        let info = row.map(|r| TenantInfo {
            id: r.id,
            slug: r.slug,
            status: r.status,
            default_currency: r.default_currency,
            default_locale: r.default_locale,
        });
        self.tenants.put(key, info.clone());
        Ok(info)
    }

    async fn api_key(&self, kind: SecretKind, token: &str) -> Result<ApiKeyPrincipal, ApiError> {
        let invalid = || ApiError::unauthenticated("the API key is invalid or revoked");
        let tenant = secret::tenant_of(kind, token).ok_or_else(invalid)?;
        let digest = secret::digest(token);
        let principal = match self.api_keys.get(&digest) {
            Some(hit) => hit,
            None => {
                let lookup = digest.clone();
                let row: Option<ApiKeyRow> = self
                    .platform
                    .db
                    .tenant_tx(tenant, async move |tx| {
                        diesel::sql_query("SELECT id, kind FROM identity.api_key_authenticate($1)")
                            .bind::<Bytea, _>(lookup)
                            .load::<ApiKeyRow>(tx.conn())
                            .await
                            .map(|rows| rows.into_iter().next())
                            .map_err(ApiError::from)
                    })
                    .await?;
                let principal = row.map(|r| ApiKeyPrincipal {
                    id: r.id,
                    tenant,
                    publishable: r.kind == "PUBLISHABLE",
                });
                self.api_keys.put(digest, principal);
                principal
            }
        };
        match principal {
            Some(p) if p.publishable == (kind == SecretKind::PublishableKey) => Ok(p),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn locale_takes_the_first_well_formed_tag() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept-language",
            HeaderValue::from_static("ar-SA,en;q=0.8"),
        );
        assert_eq!(locale(&h).as_deref(), Some("ar-SA"));
        h.insert("accept-language", HeaderValue::from_static("<script>"));
        assert_eq!(locale(&h), None);
    }

    #[test]
    fn request_ids_are_kept_when_sane() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&h), "abc-123");
        h.insert(
            "x-request-id",
            HeaderValue::from_str(&"x".repeat(65)).unwrap(),
        );
        assert_ne!(request_id(&h), "x".repeat(65));
    }

    #[test]
    fn sources_must_name_one_tenant() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let mut chosen = None;
        agree(&mut chosen, a, "access token").unwrap();
        agree(&mut chosen, a, "credential").unwrap();
        assert_eq!(
            agree(&mut chosen, b, "credential").unwrap_err().code,
            ErrorCode::Forbidden
        );
    }

    #[test]
    fn cache_expires_and_zero_ttl_disables_it() {
        let cache = TtlCache::new(Duration::from_secs(60));
        cache.put(1, "a");
        assert_eq!(cache.get(&1), Some("a"));
        let off = TtlCache::new(Duration::ZERO);
        off.put(1, "a");
        assert_eq!(off.get(&1), None);
    }
}
