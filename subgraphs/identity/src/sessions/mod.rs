//! Sessions: a short-lived access token plus a refresh token that is used up on every refresh,
//! begun by a customer's sign-up or anyone's sign-in (users know nothing of sessions).
//!
//! Refresh tokens form a family from one sign-in. `tokenRefresh` marks the presented token used and
//! issues the next one in the family. A token presented again after use means it was copied: the
//! whole family is revoked, so both the thief and the owner must sign in again.

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use crate::ids::{RefreshTokenId, SessionFamilyId, TenantId, UserId};
use crate::schema::{refresh_tokens, users};
use crate::users::{NewUser, User, UserKind, UserStatus, insert, normalize_email, prepare};
use chrono::{DateTime, Duration, Utc};
use cityos_auth::secret::{self, SecretKind};
use cityos_auth::token::ACCESS_TOKEN_SECONDS;
use cityos_auth::{AccessClaims, TokenKeys, password};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::{Database, TenantTx};
use cityos_server::context::PLATFORM_TENANT_ID;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// How long a refresh token can be used.
pub const REFRESH_TOKEN_DAYS: i64 = 30;

/// A signed-in session, as handed to the client once.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
}

/// Issues an access token and a new refresh token (in `family`, or a new family) for `user`,
/// inside the caller's tenant transaction.
pub async fn start(
    tx: &mut TenantTx<'_>,
    keys: &TokenKeys,
    user: User,
    family: Option<SessionFamilyId>,
) -> QueryResult<Session> {
    let now = Utc::now();
    let refresh = secret::generate(SecretKind::RefreshToken, user.tenant_id);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::tenant_id.eq(user.tenant_id),
            refresh_tokens::id.eq(RefreshTokenId::new()),
            refresh_tokens::user_id.eq(user.id),
            refresh_tokens::family_id.eq(family.unwrap_or_else(SessionFamilyId::new)),
            refresh_tokens::token_hash.eq(&refresh.digest),
            refresh_tokens::expires_at.eq(now + Duration::days(REFRESH_TOKEN_DAYS)),
        ))
        .execute(tx.conn())
        .await?;
    let expires_at = now + Duration::seconds(ACCESS_TOKEN_SECONDS);
    let claims = AccessClaims {
        sub: user.id,
        tid: user.tenant_id,
        roles: user.roles.clone(),
        iat: now.timestamp(),
        exp: expires_at.timestamp(),
    };
    Ok(Session {
        access_token: keys.issue(&claims),
        access_token_expires_at: expires_at,
        refresh_token: refresh.token,
        user,
    })
}

fn invalid() -> UserError {
    UserError::new(
        "refreshToken",
        Code::InvalidRefreshToken,
        "the refresh token is invalid, expired or already used",
    )
}

/// The tenant a refresh token belongs to, which must agree with any selected tenant.
fn token_tenant(ctx: &RequestContext, token: &str) -> Result<TenantId, UserError> {
    let tenant = secret::tenant_of(SecretKind::RefreshToken, token).ok_or_else(invalid)?;
    match &ctx.tenant {
        Some(selected) if selected.id != tenant => Err(invalid()),
        _ => Ok(tenant),
    }
}

enum Rotation {
    Rotated(Box<Session>),
    Reused,
    Invalid,
}

/// Uses a refresh token up and issues the next session in its family.
#[tracing::instrument(name = "session.refresh", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn refresh(
    db: &Database,
    keys: &TokenKeys,
    ctx: &RequestContext,
    token: &str,
) -> Outcome<Session> {
    let tenant = token_tenant(ctx, token)?;
    let digest = secret::digest(token);
    let keys = keys.clone();
    let rotation = db
        .tenant_tx(tenant, async move |tx| {
            // Row-locking UPDATE: of two racing refreshes with one token, exactly one wins.
            let used: Option<(UserId, SessionFamilyId)> = diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&digest))
                    .filter(refresh_tokens::used_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null())
                    .filter(refresh_tokens::expires_at.gt(diesel::dsl::now)),
            )
            .set(refresh_tokens::used_at.eq(diesel::dsl::now))
            .returning((refresh_tokens::user_id, refresh_tokens::family_id))
            .get_result(tx.conn())
            .await
            .optional()?;
            let Some((user_id, family)) = used else {
                // Used before? Then it leaked: revoke its family.
                let family: Option<SessionFamilyId> = refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(&digest))
                    .filter(refresh_tokens::used_at.is_not_null())
                    .select(refresh_tokens::family_id)
                    .first(tx.conn())
                    .await
                    .optional()?;
                if let Some(family) = family {
                    revoke_family(tx, family).await?;
                    return Ok::<_, ApiError>(Rotation::Reused);
                }
                return Ok(Rotation::Invalid);
            };
            let user: Option<User> = users::table
                .filter(users::id.eq(user_id))
                .filter(users::status.eq("ACTIVE"))
                .select(User::as_select())
                .first(tx.conn())
                .await
                .optional()?;
            match user {
                Some(user) => Ok(Rotation::Rotated(Box::new(
                    start(tx, &keys, user, Some(family)).await?,
                ))),
                None => Ok(Rotation::Invalid),
            }
        })
        .await?;
    match rotation {
        Rotation::Rotated(session) => Ok(*session),
        Rotation::Reused => {
            tracing::warn!(tenant.id = %tenant, "refresh token reused; its family was revoked");
            Err(invalid().into())
        }
        Rotation::Invalid => Err(invalid().into()),
    }
}

async fn revoke_family(tx: &mut TenantTx<'_>, family: SessionFamilyId) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(tx.conn())
    .await
}

/// Ends the session a refresh token belongs to: its whole family is revoked. Access tokens already
/// issued stay valid until they expire (at most 15 minutes).
pub async fn sign_out(db: &Database, ctx: &RequestContext, token: &str) -> Outcome<()> {
    let tenant = token_tenant(ctx, token)?;
    let digest = secret::digest(token);
    let revoked = db
        .tenant_tx(tenant, async move |tx| {
            let family: Option<SessionFamilyId> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&digest))
                .filter(refresh_tokens::revoked_at.is_null())
                .select(refresh_tokens::family_id)
                .first(tx.conn())
                .await
                .optional()?;
            match family {
                Some(family) => revoke_family(tx, family)
                    .await
                    .map(|n| n > 0)
                    .map_err(ApiError::from),
                None => Ok(false),
            }
        })
        .await?;
    if revoked {
        Ok(())
    } else {
        Err(invalid().into())
    }
}

/// Signs a customer up with the selected tenant and starts a session.
#[tracing::instrument(name = "session.sign_up", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn sign_up_customer(
    db: &Database,
    keys: &TokenKeys,
    ctx: &RequestContext,
    input: NewUser,
) -> Outcome<Session> {
    let tenant = ctx.tenant()?.id;
    let prepared = prepare(input, "").await?;
    let keys = keys.clone();
    db.tenant_tx(tenant, async move |tx| {
        let user = insert(tx, UserKind::Customer, &[Role::Customer], prepared, "").await?;
        Ok(start(tx, &keys, user, None).await?)
    })
    .await
}

/// Signs in with email and password: in the selected tenant, or as a platform admin when no tenant
/// is selected. A wrong password and an unknown email get the same answer, in the same time.
#[tracing::instrument(name = "session.sign_in", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn sign_in(
    db: &Database,
    keys: &TokenKeys,
    ctx: &RequestContext,
    email: &str,
    password: String,
) -> Outcome<Session> {
    let tenant = ctx.tenant.as_ref().map_or(PLATFORM_TENANT_ID, |t| t.id);
    let refused = || {
        Failure::User(UserError::new(
            "",
            Code::InvalidCredentials,
            "email or password is incorrect",
        ))
    };
    let email = normalize_email(email).unwrap_or_default();
    let found: Option<User> = db
        .tenant_tx(tenant, async move |tx| {
            users::table
                .filter(users::email.eq(email))
                .select(User::as_select())
                .first(tx.conn())
                .await
                .optional()
                .map_err(ApiError::from)
        })
        .await?;
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    if !password::verify(stored, password).await {
        return Err(refused());
    }
    let user = found
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(refused)?;
    let keys = keys.clone();
    db.tenant_tx(tenant, async move |tx| {
        Ok(start(tx, &keys, user, None).await?)
    })
    .await
}
