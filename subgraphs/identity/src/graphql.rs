//! Identity's GraphQL API: types, per-request loaders, queries and mutations.

use crate::api_keys::{self, ApiKey, ApiKeyKind};
use crate::audit::{self, AuditEvent};
use crate::errors::{IdentityErrorCode, IdentityUserError};
use crate::ids::{TenantId, UserId};
use crate::sessions::{self, Session};
use crate::tenants::{self, NewTenant, Tenant, TenantChanges, TenantDomain};
use crate::users::{self, NewUser, User, UserKind};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Json, MergedObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_auth::TokenKeys;
use cityos_core::ids::{parse_id, to_id};
use cityos_core::outcome::into_payload;
use cityos_core::paging::PageRequest;
use cityos_core::{ApiError, Outcome, RequestContext, Role, TenantStatus};
use cityos_db::Database;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(TenantConnection, TenantEdge, Tenant, "tenant");
cityos_core::connection!(UserConnection, UserEdge, User, "user");
cityos_core::connection!(ApiKeyConnection, ApiKeyEdge, ApiKey, "API key");
cityos_core::connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit event"
);

fn keys<'a>(ctx: &Context<'a>) -> &'a TokenKeys {
    ctx.data_unchecked::<TokenKeys>()
}

/// Identity's one DataLoader, built per request: tenants of the directory by id, and users of the
/// request's tenant (the platform tenant when none is selected) by id.
pub struct IdentityLoader {
    pub db: Database,
    pub tenant: TenantId,
}

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

impl Loader<UserId> for IdentityLoader {
    type Value = User;
    type Error = ApiError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, User>, ApiError> {
        Ok(users::by_ids(&self.db, self.tenant, keys.to_vec())
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }
}

/// Whether the caller may see `tenant`: its own tenant, or any for a platform admin.
fn may_see(ctx: &RequestContext, tenant: TenantId) -> bool {
    ctx.has_role(Role::PlatformAdmin) || ctx.tenant.as_ref().is_some_and(|t| t.id == tenant)
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

/// A person with an account: a customer, a staff member or a platform admin.
#[Object]
impl User {
    /// The user's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Lower-cased email address; unique within the tenant.
    async fn email(&self) -> &str {
        &self.email
    }
    /// Customer, staff or platform admin.
    async fn kind(&self) -> UserKind {
        self.kind
    }
    /// Given name.
    async fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }
    /// Family name.
    async fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }
    /// Roles in the tenant.
    async fn roles(&self) -> Vec<Role> {
        self.parsed_roles()
    }
    /// The tenant the account belongs to; null for platform admins.
    async fn tenant(&self, ctx: &Context<'_>) -> Result<Option<Tenant>> {
        let loader = ctx.loader::<IdentityLoader>()?;
        Ok(loader.load_one(self.tenant_id).await?)
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// An API key (the key itself is shown only once, when created).
#[Object]
impl ApiKey {
    /// The key's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// A name to recognise it by.
    async fn name(&self) -> &str {
        &self.name
    }
    /// PUBLISHABLE or SECRET.
    async fn kind(&self) -> ApiKeyKind {
        self.kind
    }
    /// The key's first and last characters, to tell keys apart.
    async fn token_hint(&self) -> &str {
        &self.token_hint
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.revoked_at
    }
}

/// One audited admin action, from any subgraph.
#[Object]
impl AuditEvent {
    /// The event's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Who acted: a user or API key id (null when anonymous).
    async fn actor_id(&self) -> Option<ID> {
        self.actor_id.map(ID::from)
    }
    /// USER, SECRET_KEY, PUBLISHABLE_KEY or ANONYMOUS.
    async fn actor_kind(&self) -> &str {
        &self.actor_kind
    }
    /// What was done, as `entity.verb` (`product.create`).
    async fn action(&self) -> &str {
        &self.action
    }
    /// The type of the entity acted on.
    async fn entity_type(&self) -> &str {
        &self.entity_type
    }
    /// The id of the entity acted on.
    async fn entity_id(&self) -> Option<ID> {
        self.entity_id.map(ID::from)
    }
    /// Action-specific details.
    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.details.clone())
    }
    /// The request it happened in, to find its logs.
    async fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Identity's queries.
#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// Who is calling: the signed-in user (customer, staff or platform admin), or null for
    /// anonymous callers and API keys.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let rc = ctx.request()?;
        let Ok(user_id) = rc.user_id() else {
            return Ok(None);
        };
        let tenant = rc
            .tenant
            .as_ref()
            .map_or(cityos_server::context::PLATFORM_TENANT_ID, |t| t.id);
        let found = users::by_ids(ctx.db(), tenant, vec![user_id]).await?;
        Ok(found.into_iter().next())
    }

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

    /// The current tenant's users (tenant staff).
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<UserConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(users::list(ctx.db(), ctx.request()?, page).await?.into())
    }

    /// The current tenant's API keys (tenant admins).
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ApiKeyConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(api_keys::list(ctx.db(), ctx.request()?, page).await?.into())
    }

    /// The current tenant's audit log, oldest first (tenant admins).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<AuditEventConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(audit::list(ctx.db(), ctx.request()?, page).await?.into())
    }

    /// Resolves `Tenant` references from other subgraphs.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, ctx: &Context<'_>, id: TenantId) -> Result<Option<Tenant>> {
        if !may_see(ctx.request()?, id) {
            return Ok(None);
        }
        Ok(ctx.loader::<IdentityLoader>()?.load_one(id).await?)
    }

    /// Resolves `User` references from other subgraphs (within the request's tenant): for staff,
    /// or for the user themself. A reference that resolves to no visible user is a `NOT_FOUND`
    /// error, not a silent null: the router would otherwise null the referring object (a
    /// non-null `User` of a list, and so the whole response) without saying why.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: UserId) -> Result<User> {
        let rc = ctx.request()?;
        let visible = rc.is_staff() || rc.user_id().ok() == Some(id);
        let loader = ctx.loader::<IdentityLoader>()?;
        let user = if visible {
            loader.load_one(id).await?
        } else {
            None
        };
        Ok(user.ok_or_else(|| ApiError::not_found(format!("no user `{id}` in this tenant")))?)
    }
}

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

/// Changes to a tenant; omitted fields stay as they are.
#[derive(InputObject)]
pub struct TenantUpdateInput {
    /// The tenant to change.
    pub id: ID,
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
    pub id: ID,
}

cityos_core::payload! {
    /// The result of `tenantDomainAdd` and `tenantDomainRemove`.
    TenantDomainPayload<IdentityUserError> {
        /// The domain added or removed; null when refused.
        domain: TenantDomain,
    }
}

/// A customer signing up on the selected tenant's storefront.
#[derive(InputObject)]
pub struct CustomerSignUpInput {
    /// Email address; unique within the tenant, case-insensitive.
    pub email: String,
    /// Password, 8 to 128 characters.
    pub password: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// Credentials to sign in with.
#[derive(InputObject)]
pub struct SignInInput {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A refresh token to use up.
#[derive(InputObject)]
pub struct TokenRefreshInput {
    /// The refresh token from the last sign-in or refresh.
    pub refresh_token: String,
}

/// The session to end.
#[derive(InputObject)]
pub struct SignOutInput {
    /// The session's current refresh token.
    pub refresh_token: String,
}

cityos_core::payload! {
    /// A session: what sign-up, sign-in and refresh return.
    AuthPayload<IdentityUserError> {
        /// Bearer token for `authorization`, valid for 15 minutes; null when refused.
        access_token: String,
        /// When the access token expires.
        access_token_expires_at: DateTime<Utc>,
        /// Single-use token for `tokenRefresh`, valid for 30 days; null when refused.
        refresh_token: String,
        /// The signed-in user; null when refused.
        user: User,
    }
}

impl AuthPayload {
    fn from_outcome(outcome: Outcome<Session, IdentityErrorCode>) -> Result<Self, ApiError> {
        Self::of(outcome.map(|s| {
            (
                s.access_token,
                s.access_token_expires_at,
                s.refresh_token,
                s.user,
            )
        }))
    }
}

// Written out rather than declared with `cityos_core::payload!`: its field is a non-null
// `Boolean!` (whether a session ended), not an object that is null on refusal.
/// The result of `signOut`.
#[derive(SimpleObject)]

pub struct SignOutPayload {
    /// Whether the session was ended.
    pub signed_out: bool,
    /// Why it was refused; empty on success.
    pub user_errors: Vec<IdentityUserError>,
}

/// A new staff member of the current tenant.
#[derive(InputObject)]
pub struct StaffCreateInput {
    /// Email address; unique within the tenant, case-insensitive.
    pub email: String,
    /// Password, 8 to 128 characters.
    pub password: String,
    /// TENANT_ADMIN or TENANT_STAFF.
    pub role: Role,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

cityos_core::payload! {
    /// The result of `staffCreate`.
    StaffCreatePayload<IdentityUserError> {
        /// The new staff user; null when refused.
        user: User,
    }
}

/// A new API key for the current tenant.
#[derive(InputObject)]
pub struct ApiKeyCreateInput {
    /// A name to recognise it by.
    pub name: String,
    /// PUBLISHABLE (storefronts) or SECRET (servers).
    pub kind: ApiKeyKind,
}

cityos_core::payload! {
    /// The result of `apiKeyCreate`.
    ApiKeyCreatePayload<IdentityUserError> {
        /// The key's record; null when refused.
        api_key: ApiKey,
        /// The key itself. Shown this once: only its digest is stored.
        token: String,
    }
}

/// The API key to revoke.
#[derive(InputObject)]
pub struct ApiKeyRevokeInput {
    /// The key's id.
    pub id: ID,
}

cityos_core::payload! {
    /// The result of `apiKeyRevoke`.
    ApiKeyRevokePayload<IdentityUserError> {
        /// The revoked key; null when refused.
        api_key: ApiKey,
    }
}

/// Identity's mutations.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
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
            tenants::create(ctx.db(), ctx.request()?, new).await,
        )?)
    }

    /// Changes a tenant. Suspending or reactivating is for platform admins; the rest is also for
    /// the tenant's own admins.
    async fn tenant_update(
        &self,
        ctx: &Context<'_>,
        input: TenantUpdateInput,
    ) -> Result<TenantUpdatePayload> {
        let id = parse_id(&input.id)?;
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
        let id = parse_id(&input.id)?;
        Ok(TenantDomainPayload::of(
            tenants::remove_domain(ctx.db(), ctx.request()?, id).await,
        )?)
    }

    /// Signs a customer up with the selected tenant and signs them in.
    async fn customer_sign_up(
        &self,
        ctx: &Context<'_>,
        input: CustomerSignUpInput,
    ) -> Result<AuthPayload> {
        let new = NewUser {
            email: input.email,
            password: input.password,
            first_name: input.first_name,
            last_name: input.last_name,
        };
        Ok(AuthPayload::from_outcome(
            users::sign_up_customer(ctx.db(), keys(ctx), ctx.request()?, new).await,
        )?)
    }

    /// Signs in to the selected tenant, or as a platform admin when no tenant is selected.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> Result<AuthPayload> {
        let outcome = users::sign_in(
            ctx.db(),
            keys(ctx),
            ctx.request()?,
            &input.email,
            input.password,
        )
        .await;
        Ok(AuthPayload::from_outcome(outcome)?)
    }

    /// Uses up a refresh token and returns a new session. A refresh token works once; presenting
    /// it again revokes its whole session.
    async fn token_refresh(
        &self,
        ctx: &Context<'_>,
        input: TokenRefreshInput,
    ) -> Result<AuthPayload> {
        let outcome =
            sessions::refresh(ctx.db(), keys(ctx), ctx.request()?, &input.refresh_token).await;
        Ok(AuthPayload::from_outcome(outcome)?)
    }

    /// Ends the session a refresh token belongs to.
    async fn sign_out(&self, ctx: &Context<'_>, input: SignOutInput) -> Result<SignOutPayload> {
        let (done, user_errors) =
            into_payload(sessions::sign_out(ctx.db(), ctx.request()?, &input.refresh_token).await)?;
        Ok(SignOutPayload {
            signed_out: done.is_some(),
            user_errors,
        })
    }

    /// Creates a staff user in the current tenant (tenant admins).
    async fn staff_create(
        &self,
        ctx: &Context<'_>,
        input: StaffCreateInput,
    ) -> Result<StaffCreatePayload> {
        let new = NewUser {
            email: input.email,
            password: input.password,
            first_name: input.first_name,
            last_name: input.last_name,
        };
        let outcome = users::create_staff(ctx.db(), ctx.request()?, new, input.role).await;
        Ok(StaffCreatePayload::of(outcome)?)
    }

    /// Creates an API key for the current tenant (tenant admins). The key is returned once.
    async fn api_key_create(
        &self,
        ctx: &Context<'_>,
        input: ApiKeyCreateInput,
    ) -> Result<ApiKeyCreatePayload> {
        let outcome = api_keys::create(ctx.db(), ctx.request()?, &input.name, input.kind).await;
        Ok(ApiKeyCreatePayload::of(outcome)?)
    }

    /// Revokes an API key of the current tenant (tenant admins).
    async fn api_key_revoke(
        &self,
        ctx: &Context<'_>,
        input: ApiKeyRevokeInput,
    ) -> Result<ApiKeyRevokePayload> {
        let id = parse_id(&input.id)?;
        Ok(ApiKeyRevokePayload::of(
            api_keys::revoke(ctx.db(), ctx.request()?, id).await,
        )?)
    }
}

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(IdentityQuery);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(IdentityMutation);
