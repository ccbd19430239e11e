//! Subgraph configuration, from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DATABASE_URL` | owner connection, used for migrations | required |
//! | `APP_DATABASE_URL` | application-role connection | `DATABASE_URL` with user `cityos_app` |
//! | `CITYOS_APP_DB_PASSWORD` | password set on and used for `cityos_app` | none (trust auth) |
//! | `ROUTER_SECRET` | shared secret the router sends in `router-authorization` | required |
//! | `CITYOS_JWT_SECRET` | access-token signing secret, at least 32 bytes | required |
//! | `CITYOS_LISTEN` | address to listen on | `127.0.0.1:<subgraph port>` |
//! | `CITYOS_DB_POOL_SIZE` | connections in the pool | 16 |
//! | `CITYOS_MAX_BODY_BYTES` | largest request body accepted | 1 MiB |
//! | `CITYOS_AUTH_CACHE_TTL_MS` | how long tenant, API-key and vendor-team lookups are cached | 2000 |
//! | `CITYOS_EVENTS_SECRET` | the platform's shared signing secret of events between subgraphs ([`crate::events`]), at least 32 bytes | required by a subgraph that publishes to subscribers or consumes |
//! | `CITYOS_EVENTS_IDLE_MS` | how long a dispatcher rests when no event is due | 500 |
//! | `CITYOS_EVENTS_MAX_ATTEMPTS` | refusals after which a delivery is dead | 10 |
//! | `CITYOS_JOBS_IDLE_MS` | how long a job runner rests when no job is due | 500 |
//! | `CITYOS_RESPONSE_CACHE_MB` | the response cache's budget ([`crate::cache`]), on a subgraph that caches; 0 turns it off | 64 |
//! | `<SUBGRAPH>_URL` (`subgraphs.toml`'s `url_env`) | a consumer's GraphQL URL: its events go to `/events` beside it | its default port on 127.0.0.1 |

use anyhow::Context as _;
use cityos_auth::TokenKeys;
use std::net::SocketAddr;
use std::time::Duration;

/// A subgraph process's settings.
#[derive(Clone)]
pub struct Config {
    /// Owner connection URL (migrations).
    pub database_url: String,
    /// Application connection URL, when given explicitly.
    pub explicit_app_database_url: Option<String>,
    /// Password of the application role, if it has one.
    pub app_db_password: Option<String>,
    /// The router's shared secret (required to serve).
    pub router_secret: Option<String>,
    /// The access-token signing secret (required to serve).
    pub jwt_secret: Option<String>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Pool size.
    pub db_pool_size: usize,
    /// Body limit in bytes.
    pub max_body_bytes: usize,
    /// Cache lifetime of tenant and API-key lookups.
    pub auth_cache_ttl: Duration,
    /// The events secret and pacing, when a secret is set.
    pub events: Option<crate::events::EventsConfig>,
    /// How long a job runner rests when nothing is due.
    pub jobs_idle: Duration,
    /// The response cache's budget in bytes (0: off).
    pub response_cache_bytes: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db_pool_size", &self.db_pool_size)
            .finish()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn required(name: &str) -> anyhow::Result<String> {
    var(name).with_context(|| format!("{name} must be set"))
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        Some(v) => v.parse().map_err(|e| anyhow::anyhow!("{name}: {e}")),
        None => Ok(default),
    }
}

impl Config {
    /// Reads the configuration; `default_port` is the subgraph's own port.
    pub fn from_env(default_port: u16) -> anyhow::Result<Self> {
        Ok(Self {
            database_url: required("DATABASE_URL")?,
            explicit_app_database_url: var("APP_DATABASE_URL"),
            app_db_password: var("CITYOS_APP_DB_PASSWORD"),
            router_secret: var("ROUTER_SECRET"),
            jwt_secret: var("CITYOS_JWT_SECRET"),
            listen: parsed(
                "CITYOS_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], default_port)),
            )?,
            db_pool_size: parsed("CITYOS_DB_POOL_SIZE", 16)?,
            max_body_bytes: parsed("CITYOS_MAX_BODY_BYTES", 1 << 20)?,
            auth_cache_ttl: Duration::from_millis(parsed("CITYOS_AUTH_CACHE_TTL_MS", 2000)?),
            events: match var("CITYOS_EVENTS_SECRET") {
                None => None,
                Some(secret) => Some(crate::events::EventsConfig::new(
                    secret.into_bytes(),
                    Duration::from_millis(parsed("CITYOS_EVENTS_IDLE_MS", 500)?),
                    parsed("CITYOS_EVENTS_MAX_ATTEMPTS", 10)?,
                )?),
            },
            jobs_idle: Duration::from_millis(parsed("CITYOS_JOBS_IDLE_MS", 500)?),
            response_cache_bytes: parsed::<usize>("CITYOS_RESPONSE_CACHE_MB", 64)?
                .saturating_mul(1 << 20),
        })
    }

    /// The URL the application role connects with.
    pub fn app_database_url(&self) -> String {
        self.explicit_app_database_url.clone().unwrap_or_else(|| {
            cityos_db::app_url(
                &self.database_url,
                cityos_db::APP_ROLE,
                self.app_db_password.as_deref(),
            )
        })
    }

    /// The token keys.
    pub fn token_keys(&self) -> anyhow::Result<TokenKeys> {
        let secret = self
            .jwt_secret
            .as_deref()
            .context("CITYOS_JWT_SECRET must be set")?;
        TokenKeys::new(secret.as_bytes().to_vec()).context("CITYOS_JWT_SECRET")
    }

    /// The router's shared secret.
    pub fn router_secret(&self) -> anyhow::Result<String> {
        self.router_secret
            .clone()
            .context("ROUTER_SECRET must be set")
    }
}
