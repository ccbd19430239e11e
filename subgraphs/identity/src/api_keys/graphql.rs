//! The GraphQL of API keys.

use crate::api_keys::{self, ApiKey, ApiKeyKind};
use crate::errors::IdentityUserError;
use crate::ids::ApiKeyId;
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;

cityos_core::connection!(ApiKeyConnection, ApiKeyEdge, ApiKey, "API key");

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
    pub id: ApiKeyId,
}

cityos_core::payload! {
    /// The result of `apiKeyRevoke`.
    ApiKeyRevokePayload<IdentityUserError> {
        /// The revoked key; null when refused.
        api_key: ApiKey,
    }
}

/// The queries of API keys.
#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
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
}

/// The mutations of API keys.
#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
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
        let id = input.id;
        Ok(ApiKeyRevokePayload::of(
            api_keys::revoke(ctx.db(), ctx.request()?, id).await,
        )?)
    }
}
