//! Schema set-up: the application role and each subgraph's migrations in its own schema.

use crate::outbox::WORKER_ROLE;
use crate::{APP_ROLE, LOOKUP_ROLE};
use anyhow::Context as _;
use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _};

type SyncConnection = AsyncConnectionWrapper<AsyncPgConnection>;

/// Creates [`APP_ROLE`] if it is missing (and sets its password when one is given),
/// [`WORKER_ROLE`], which the application role may take to deliver events and run jobs, and [`LOOKUP_ROLE`],
/// which it may take to find the tenant of an external reference. Runs as the database owner,
/// once per cluster; safe to repeat.
pub async fn bootstrap(owner_url: &str, app_password: Option<&str>) -> anyhow::Result<()> {
    let url = owner_url.to_owned();
    let password = app_password.map(|p| p.replace('\'', "''"));
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            SyncConnection::establish(&url).context("connecting as the database owner")?;
        // Roles are cluster-wide, but advisory locks are per database: subgraphs starting at once on
        // different databases of one cluster are not serialised by the lock. So the statements
        // change nothing that is already as wanted (no catalog row is rewritten on a repeat), and
        // a collision between two first runs is retried.
        let sql = format!(
            "SELECT pg_advisory_lock(hashtext('cityos.bootstrap'));
             DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                 CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
               END IF;
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WORKER_ROLE}') THEN
                 CREATE ROLE {WORKER_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
               END IF;
               IF NOT pg_has_role('{APP_ROLE}', '{WORKER_ROLE}', 'MEMBER') THEN
                 GRANT {WORKER_ROLE} TO {APP_ROLE};
               END IF;
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOOKUP_ROLE}') THEN
                 CREATE ROLE {LOOKUP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
               END IF;
               IF NOT pg_has_role('{APP_ROLE}', '{LOOKUP_ROLE}', 'MEMBER') THEN
                 GRANT {LOOKUP_ROLE} TO {APP_ROLE};
               END IF;
               -- Members take the worker and lookup roles only by SET ROLE: their policies (every
               -- tenant's rows) never apply to the application role's own queries.
               IF (SELECT rolinherit FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                 ALTER ROLE {APP_ROLE} NOINHERIT;
               END IF;
             END $$;
             SELECT pg_advisory_unlock(hashtext('cityos.bootstrap'));"
        );
        let mut attempt = 0;
        loop {
            match conn.batch_execute(&sql) {
                Ok(()) => break,
                Err(error) if attempt < 4 => {
                    attempt += 1;
                    tracing::warn!(%error, attempt, "creating the roles collided; retrying");
                    let _ = conn.batch_execute("SELECT pg_advisory_unlock_all()");
                    std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                }
                Err(error) => return Err(error).context("creating the application role"),
            }
        }
        if let Some(p) = password {
            conn.batch_execute(&format!("ALTER ROLE {APP_ROLE} PASSWORD '{p}'"))
                .context("setting the application role's password")?;
        }
        Ok(())
    })
    .await?
}

/// The platform functions migrations call (`platform.tenant_table`, `platform.app_schema`,
/// `platform.create_outbox`): `migrations/platform.sql`, installed in every database first.
const PLATFORM_SQL: &str = include_str!("../../../migrations/platform.sql");

/// Installs [`PLATFORM_SQL`], then runs `migrations` in `schema` (created if missing) as the
/// database owner. The migration history lives in `schema.__diesel_schema_migrations`, so
/// subgraphs migrate independently.
pub async fn migrate(
    owner_url: &str,
    schema: &'static str,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<()> {
    let url = owner_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            SyncConnection::establish(&url).context("connecting as the database owner")?;
        // Per database, like the functions: subgraphs migrating one database at once take turns.
        conn.batch_execute(&format!(
            "SELECT pg_advisory_lock(hashtext('cityos.platform'));
             {PLATFORM_SQL}
             SELECT pg_advisory_unlock(hashtext('cityos.platform'));"
        ))
        .context("installing the platform functions")?;
        conn.batch_execute(&format!(
            "SELECT pg_advisory_lock(hashtext('cityos.migrate.{schema}'));
             CREATE SCHEMA IF NOT EXISTS {schema};
             SET search_path TO {schema}, public;"
        ))
        .with_context(|| format!("preparing schema {schema}"))?;
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| anyhow::anyhow!("migrating {schema}: {e}"))?;
        for version in applied {
            tracing::info!(schema, %version, "migration applied");
        }
        conn.batch_execute(&format!(
            "SELECT pg_advisory_unlock(hashtext('cityos.migrate.{schema}'))"
        ))?;
        Ok(())
    })
    .await?
}
