//! The subgraph server every CityOS subgraph runs on.
//!
//! A subgraph implements [`Subgraph`] (its name, port, migrations, schema and per-request data) and
//! its `main` calls [`run`]. The server then:
//! - migrates the subgraph's schema (as the database owner) and connects as the application role;
//! - serves `POST /graphql` only to callers presenting the router's shared secret
//!   (`router-authorization`), so nobody can skip the router's limits;
//! - builds one [`RequestContext`] per request ([`context`]) and hands it to async-graphql as request
//!   data, together with the subgraph's per-request DataLoaders;
//! - refuses control characters in any text a request sends, and gives every error an
//!   `extensions.code` ([`execute()`]);
//! - answers `GET /health` (alive) and `GET /ready` (database reachable);
//! - delivers the subgraph's outbox events to `CITYOS_EVENTS_URL` when one is configured
//!   ([`events`], [`cityos_db::outbox`]);
//! - logs JSON with the request id, and drains in-flight requests on SIGINT/SIGTERM.

pub mod config;
pub mod context;
pub mod events;
mod execute;
pub mod gql;
mod http;
pub mod telemetry;

pub use config::Config;
pub use context::ContextResolver;
pub use execute::execute;
pub use gql::CtxExt;
pub use http::{GraphqlEndpoint, app};

use async_graphql::{EmptySubscription, Executor, ObjectType, SDLExportOptions, Schema};
use cityos_auth::TokenKeys;
use cityos_core::RequestContext;
use cityos_db::Database;
use diesel_migrations::EmbeddedMigrations;
use std::future::Future;
use std::sync::Arc;

/// Depth limit for every subgraph schema: deeper queries are refused before they run.
pub const MAX_QUERY_DEPTH: usize = 12;
/// Complexity limit for every subgraph schema (each field costs 1, lists multiply by page size).
pub const MAX_QUERY_COMPLEXITY: usize = 5_000;

/// A subgraph schema: federation on, the platform's depth and complexity limits, and (when
/// `platform` is given) the data every resolver may use: the pool and the token keys. Without
/// `platform` the schema can only print its SDL.
pub fn build_schema<Q, M>(
    query: Q,
    mutation: M,
    platform: Option<&Platform>,
) -> Schema<Q, M, EmptySubscription>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    schema_builder(query, mutation, platform).finish()
}

/// The schema builder [`build_schema`] finishes, for a subgraph that adds data of its own.
pub fn schema_builder<Q, M>(
    query: Q,
    mutation: M,
    platform: Option<&Platform>,
) -> async_graphql::SchemaBuilder<Q, M, EmptySubscription>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    let mut builder = Schema::build(query, mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(MAX_QUERY_DEPTH)
        .limit_complexity(MAX_QUERY_COMPLEXITY);
    if let Some(p) = platform {
        builder = builder.data(p.db.clone()).data(p.keys.clone());
    }
    builder
}

/// The federation SDL of a schema, as composition reads it.
pub fn federation_sdl<Q, M>(schema: &Schema<Q, M, EmptySubscription>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// A DataLoader that lives for one request: it batches that request's lookups, remembers what it
/// loaded (so a page prefetched with `load_many` is not fetched again field by field) and carries
/// the request's tenant, so a batch never mixes tenants.
pub type RequestLoader<L> =
    async_graphql::dataloader::DataLoader<L, async_graphql::dataloader::HashMapCache>;

/// A [`RequestLoader`] for one request.
pub fn request_loader<L: Send + Sync + 'static>(loader: L) -> RequestLoader<L> {
    async_graphql::dataloader::DataLoader::with_cache(
        loader,
        tokio::spawn,
        async_graphql::dataloader::HashMapCache::default(),
    )
}

/// Adds what a request of subgraph `S` carries besides its query: the request's context and, when
/// the subgraph builds one for it, its loader.
pub fn request_data<S: Subgraph>(
    request: async_graphql::Request,
    ctx: RequestContext,
    platform: &Platform,
) -> async_graphql::Request {
    let request = match S::loader(&ctx, platform) {
        Some(loader) => request.data(request_loader(loader)),
        None => request,
    };
    request.data(ctx)
}

/// What every subgraph shares at run time.
#[derive(Clone, Debug)]
pub struct Platform {
    /// The application-role connection pool.
    pub db: Database,
    /// The access-token keys.
    pub keys: TokenKeys,
}

/// A domain subgraph, as the server needs to know it.
pub trait Subgraph: Send + Sync + 'static {
    /// The subgraph's name, as composed into the supergraph: also the Postgres schema it owns (and
    /// migrates), its crate and its entry in `subgraphs.toml`.
    const NAME: &'static str;
    /// The port it listens on by default (the manifest's; codegen checks they agree).
    const DEFAULT_PORT: u16;
    /// Its migrations, run in the schema [`Self::NAME`].
    const MIGRATIONS: EmbeddedMigrations;
    /// The subgraphs whose published api it calls inside its own transactions, with their
    /// migrations, each after its own dependencies: their schemas must exist before it runs
    /// (their processes migrate them first; tests migrate them with `TestDb::for_subgraph`). A
    /// function, not a constant: migrations are not `Clone`, and each call makes them anew.
    fn depends_on() -> Vec<(&'static str, EmbeddedMigrations)> {
        Vec::new()
    }
    /// The executable schema.
    type Schema: Executor;

    /// Builds the schema with its shared data.
    fn schema(platform: &Platform) -> Self::Schema;

    /// The subgraph's one DataLoader: built per request from the request's scope (tenant, caller,
    /// locale), so a batch never mixes tenants, and serving every key type its resolvers look up
    /// (one `Loader<K>` impl per key). Resolvers reach it with `ctx.loader::<Self::Loader>()`.
    type Loader: Send + Sync + 'static;

    /// The loader of one request; `None` for a request the subgraph serves without one (no
    /// tenant selected), where `ctx.loader` answers `TENANT_REQUIRED`.
    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<Self::Loader>;

    /// Whether it writes events for other domains to its outbox, `<NAME>.outbox`.
    const HAS_OUTBOX: bool = false;

    /// HTTP routes besides `/graphql`, `/health` and `/ready` (for example a provider's webhook),
    /// served on the same port. They are not behind the router: each checks its own callers.
    fn routes(platform: &Platform) -> axum::Router {
        let _ = platform;
        axum::Router::new()
    }

    /// Runs once after migrations, before serving (for example to create a configured account).
    fn startup(platform: &Platform) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = platform;
        async { Ok(()) }
    }
}

/// Migrates the schema of `S` as the database owner (and creates the application role).
pub async fn migrate<S: Subgraph>(config: &Config) -> anyhow::Result<()> {
    cityos_db::bootstrap(&config.database_url, config.app_db_password.as_deref()).await?;
    cityos_db::migrate(&config.database_url, S::NAME, S::MIGRATIONS).await
}

/// Connects the platform services from configuration.
pub fn platform(config: &Config) -> anyhow::Result<Platform> {
    Ok(Platform {
        db: Database::connect(&config.app_database_url(), config.db_pool_size)?,
        keys: config.token_keys()?,
    })
}

/// The entry point of a subgraph binary: `serve` (the default: migrate, then serve) or `migrate`.
pub async fn run<S: Subgraph>() -> anyhow::Result<()> {
    telemetry::init(S::NAME);
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    let config = Config::from_env(S::DEFAULT_PORT)?;
    match command.as_str() {
        "migrate" => migrate::<S>(&config).await,
        "serve" => {
            migrate::<S>(&config).await?;
            serve::<S>(&config).await
        }
        other => anyhow::bail!("unknown command `{other}`: use `serve` or `migrate`"),
    }
}

/// Serves the subgraph until SIGINT or SIGTERM, then drains in-flight requests.
pub async fn serve<S: Subgraph>(config: &Config) -> anyhow::Result<()> {
    let router_secret = config.router_secret()?;
    let platform = platform(config)?;
    S::startup(&platform).await?;
    dispatch_events::<S>(config, &platform)?;
    let schema = S::schema(&platform);
    let extra = S::routes(&platform);
    let resolver = ContextResolver::new(platform.clone(), config.auth_cache_ttl);
    let endpoint = Arc::new(GraphqlEndpoint::<S>::new(
        schema,
        platform,
        resolver,
        router_secret,
    ));
    let router = app(endpoint, config.max_body_bytes).merge(extra);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(subgraph = S::NAME, listen = %listener.local_addr()?, "subgraph listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!(subgraph = S::NAME, "subgraph stopped");
    Ok(())
}

/// Starts delivering the subgraph's outbox events, when it has an outbox and an endpoint is
/// configured. Without an endpoint, events wait in the outbox until one is.
fn dispatch_events<S: Subgraph>(config: &Config, platform: &Platform) -> anyhow::Result<()> {
    if !S::HAS_OUTBOX {
        return Ok(());
    }
    let table = cityos_db::outbox::Outbox::of(S::NAME).table();
    let Some(events) = &config.events else {
        tracing::info!(%table, "no CITYOS_EVENTS_URL: events wait in the outbox");
        return Ok(());
    };
    let settings = cityos_db::outbox::Settings {
        idle: events.idle,
        ..cityos_db::outbox::Settings::default()
    };
    let sink = events::WebhookSink::new(events)?;
    tracing::info!(%table, url = %events.url, "delivering outbox events");
    let dispatcher = cityos_db::outbox::Dispatcher::new(platform.db.clone(), table, sink, settings);
    tokio::spawn(dispatcher.run());
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
