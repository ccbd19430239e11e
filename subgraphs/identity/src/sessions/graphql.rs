//! The GraphQL of sessions: signing up and in, refreshing and ending them.

use crate::errors::{IdentityErrorCode, IdentityUserError};
use crate::scope::keys;
use crate::sessions::{self, Session};
use crate::users::{NewUser, User};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::outcome::into_payload;
use cityos_core::{ApiError, Outcome};
use cityos_server::CtxExt as _;

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
    pub(crate) fn from_outcome(
        outcome: Outcome<Session, IdentityErrorCode>,
    ) -> Result<Self, ApiError> {
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

/// The mutations of sessions.
#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
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
            sessions::sign_up_customer(ctx.db(), keys(ctx), ctx.request()?, new).await,
        )?)
    }

    /// Signs in to the selected tenant, or as a platform admin when no tenant is selected.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> Result<AuthPayload> {
        let outcome = sessions::sign_in(
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
