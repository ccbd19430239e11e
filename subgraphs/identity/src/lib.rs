//! The identity subgraph: tenants and their domains, users (customers, staff, platform admins),
//! sessions (access and refresh tokens), API keys and the audit log.
//!
//! It also publishes, as SQL functions in its schema, what the other subgraphs need from it without
//! touching its tables: tenant resolution, API-key authentication, audit recording and which users
//! are customers ([`api`] wraps the last for Rust callers).

pub mod api;
pub mod api_keys;
pub mod audit;
pub mod errors;
pub mod graphql;
pub mod ids;
pub mod onboarding;
pub mod operations;
pub mod scope;

pub mod schema;
pub mod sessions;
pub mod tenants;
pub mod users;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_server::context::PLATFORM_TENANT_ID;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{IdentityLoader, Mutation, Query};

/// The identity schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/identity");

/// The executable identity schema.
pub type IdentitySchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the identity schema; without `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> IdentitySchema {
    cityos_server::build_schema(Query::default(), Mutation::default(), platform)
}

/// The federation SDL of the identity subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The identity subgraph.
pub struct Identity;

impl Subgraph for Identity {
    const NAME: &'static str = "identity";
    const DEFAULT_PORT: u16 = 4001;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    type Schema = IdentitySchema;

    fn schema(platform: &Platform) -> IdentitySchema {
        build_schema(Some(platform))
    }

    type Loader = IdentityLoader;

    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<IdentityLoader> {
        Some(IdentityLoader {
            db: platform.db.clone(),
            tenant: ctx.tenant.as_ref().map_or(PLATFORM_TENANT_ID, |t| t.id),
        })
    }

    async fn startup(platform: &Platform) -> anyhow::Result<()> {
        let email = std::env::var("CITYOS_ADMIN_EMAIL")
            .ok()
            .filter(|v| !v.is_empty());
        let password = std::env::var("CITYOS_ADMIN_PASSWORD")
            .ok()
            .filter(|v| !v.is_empty());
        if let (Some(email), Some(password)) = (email, password) {
            let created = users::ensure_platform_admin(&platform.db, &email, password).await?;
            tracing::info!(
                email,
                created,
                "platform admin from CITYOS_ADMIN_EMAIL is present"
            );
        }
        Ok(())
    }
}

/// `identity create-platform-admin --email <email>`: creates a platform admin, the password read
/// from `CITYOS_ADMIN_PASSWORD` or, when unset, from the first line of standard input.
pub async fn create_platform_admin_command(args: &[String]) -> anyhow::Result<()> {
    let email = match args {
        [flag, email] if flag == "--email" => email.clone(),
        _ => std::env::var("CITYOS_ADMIN_EMAIL").map_err(|_| {
            anyhow::anyhow!("usage: identity create-platform-admin --email <email>")
        })?,
    };
    let password = match std::env::var("CITYOS_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let config = cityos_server::Config::from_env(Identity::DEFAULT_PORT)?;
    cityos_server::migrate::<Identity>(&config).await?;
    let db = cityos_db::Database::connect(&config.app_database_url(), 2)?;
    let created = users::ensure_platform_admin(&db, &email, password).await?;
    tracing::info!(email, created, "platform admin is present");
    Ok(())
}
