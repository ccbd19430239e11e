//! The GraphQL of users: sign-up, sign-in, staff accounts, the signed-in user.

use crate::errors::IdentityUserError;
use crate::ids::UserId;
use crate::scope::IdentityLoader;
use crate::tenants::Tenant;
use crate::users::{self, NewUser, User, UserKind};
use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::paging::PageRequest;
use cityos_core::{ApiError, Role};
use cityos_server::CtxExt as _;
use std::collections::HashMap;

cityos_core::connection!(UserConnection, UserEdge, User, "user");

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

/// The queries of users.
#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
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

/// The mutations of users.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
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
}
