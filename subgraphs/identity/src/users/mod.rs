//! Users: customers who sign up on a storefront, staff created by a tenant admin, and platform
//! admins (members of the platform pseudo-tenant, created from the command line).

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use crate::ids::{TenantId, UserId};
use crate::schema::users;
use chrono::{DateTime, Utc};
use cityos_auth::password;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext, Role};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use cityos_server::context::PLATFORM_TENANT_ID;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// Whether an account may sign in.
    pub enum UserStatus {
        /// Signs in and acts.
        Active = "ACTIVE",
        /// Refused at sign-in.
        Disabled = "DISABLED",
    }
    transitions {
        Active -> Disabled,
        Disabled -> Active,
    }
}

cityos_core::states! {
    /// What kind of account a user has.
    pub enum UserKind {
        /// Buys from the tenant's storefronts.
        Customer = "CUSTOMER",
        /// Works in the tenant's back office.
        Staff = "STAFF",
        /// Operates the platform.
        PlatformAdmin = "PLATFORM_ADMIN",
    }
}

/// A user as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub tenant_id: TenantId,
    pub id: UserId,
    pub kind: UserKind,
    pub email: String,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Vec<String>,
    pub status: UserStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// The roles this platform knows.
    pub fn parsed_roles(&self) -> Vec<Role> {
        self.roles.iter().filter_map(|r| Role::parse(r)).collect()
    }
}

/// A user to create, as given.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A checked user to create, with the password already hashed.
#[derive(Debug, Clone)]
pub struct PreparedUser {
    email: String,
    password_hash: String,
    first_name: Option<String>,
    last_name: Option<String>,
}

fn field(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

pub use cityos_core::contact::normalize_email;

fn clean_name(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty())
}

/// Checks a new user's input and hashes the password (off the runtime). `prefix` is the input path
/// of the user object (`admin` in `tenantCreate`), for error fields.
pub async fn prepare(input: NewUser, prefix: &str) -> Result<PreparedUser, UserError> {
    let email = normalize_email(&input.email).ok_or_else(|| {
        UserError::new(
            &field(prefix, "email"),
            Code::InvalidEmail,
            "email must look like name@example.com",
        )
    })?;
    password::check_policy(&input.password).map_err(|e| {
        UserError::new(
            &field(prefix, "password"),
            Code::WeakPassword,
            e.to_string(),
        )
    })?;
    Ok(PreparedUser {
        email,
        password_hash: password::hash(input.password).await,
        first_name: clean_name(input.first_name),
        last_name: clean_name(input.last_name),
    })
}

/// Inserts a prepared user into `tenant` (inside the caller's tenant transaction).
pub async fn insert(
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    roles: &[Role],
    user: PreparedUser,
    prefix: &str,
) -> Outcome<User> {
    let tenant = tx.tenant();
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    diesel::insert_into(users::table)
        .values((
            users::tenant_id.eq(tenant),
            users::id.eq(UserId::new()),
            users::kind.eq(kind),
            users::email.eq(&user.email),
            users::password_hash.eq(&user.password_hash),
            users::first_name.eq(&user.first_name),
            users::last_name.eq(&user.last_name),
            users::roles.eq(roles),
        ))
        .returning(User::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| {
            Failure::on_unique("users_email_key", e, || {
                UserError::new(
                    &field(prefix, "email"),
                    Code::EmailTaken,
                    "an account with this email already exists",
                )
            })
        })
}

/// Creates a staff user in the current tenant (tenant admins only).
pub async fn create_staff(
    db: &Database,
    ctx: &RequestContext,
    input: NewUser,
    role: Role,
) -> Outcome<User> {
    db.audited(ctx, &[Role::TenantAdmin], "staff.create", async move |tx| {
        if !matches!(role, Role::TenantAdmin | Role::TenantStaff) {
            return Err(UserError::new(
                "role",
                Code::InvalidRole,
                "staff are TENANT_ADMIN or TENANT_STAFF",
            )
            .into());
        }
        let prepared = prepare(input, "").await?;
        let user = insert(tx, UserKind::Staff, &[role], prepared, "").await?;
        let details = serde_json::json!({ "email": user.email, "role": role.as_str() });
        let audit = Audit::of(user.id, details);
        Ok((user, audit))
    })
    .await
}

/// Creates the platform admin `email` unless it exists. Returns whether it was created.
pub async fn ensure_platform_admin(
    db: &Database,
    email: &str,
    password: String,
) -> anyhow::Result<bool> {
    let input = NewUser {
        email: email.to_owned(),
        password,
        first_name: None,
        last_name: Some("Platform admin".into()),
    };
    let prepared = prepare(input, "")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let outcome = db
        .tenant_tx(PLATFORM_TENANT_ID, async move |tx| {
            insert(
                tx,
                UserKind::PlatformAdmin,
                &[Role::PlatformAdmin],
                prepared,
                "",
            )
            .await
        })
        .await;
    match outcome {
        Ok(_) => Ok(true),
        Err(Failure::User(e)) if e.code == Code::EmailTaken => Ok(false),
        Err(Failure::User(e)) => anyhow::bail!("{}", e.message),
        Err(Failure::Api(e)) => anyhow::bail!("{}", e.message),
    }
}

/// Loads users of `tenant` by id (the DataLoader's query).
pub async fn by_ids(
    db: &Database,
    tenant: TenantId,
    ids: Vec<UserId>,
) -> Result<Vec<User>, ApiError> {
    db.tenant_tx(tenant, async move |tx| {
        users::table
            .filter(users::id.eq_any(ids))
            .select(User::as_select())
            .load(tx.conn())
            .await
            .map_err(ApiError::from)
    })
    .await
}

/// Lists the current tenant's users (tenant staff).
pub async fn list(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<UserId>,
) -> Result<Page<User>, ApiError> {
    ctx.require_staff()?;
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            users::table,
            users::id,
            User,
            page
        )?)
    })
    .await
}
