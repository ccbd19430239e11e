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
//! - answers `GET /health` (alive), `GET /ready` (database reachable) and `GET /metrics`
//!   (Prometheus, [`metrics`]);
//! - delivers its outbox's events to every subgraph that `subgraphs.toml` says consumes their
//!   topic ([`events`], [`cityos_db::outbox`]), and, when it consumes topics itself
//!   ([`Subgraph::consumers`]), serves the signed `POST /events` that applies each once
//!   ([`cityos_db::inbox`]);
//! - runs its durable jobs ([`Subgraph::jobs`], [`cityos_db::jobs`]);
//! - logs JSON with the request id, and drains in-flight requests on SIGINT/SIGTERM.

pub mod cache;
pub mod config;
pub mod context;
pub mod events;
mod execute;
pub mod gql;
mod http;
pub mod metrics;
pub mod stripe;
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

/// Implements a subgraph loader's batch read of what hangs off parents: `children_loader!(Loader,
/// Key(Parent) => Value, read)` makes `Loader` (a struct with `db: Database` and `tenant:
/// TenantId`) answer `Key(parent)` with `read(tx, &[parents])`'s `HashMap<Parent, Vec<Value>>`
/// entry, one statement per batch in the request's tenant transaction (no entry: an empty list).
/// The key is a one-field tuple struct the subgraph declares beside the type it loads.
#[macro_export]
macro_rules! children_loader {
    ($loader:ty, $key:ident($parent:ty) => $value:ty, $read:path) => {
        impl ::async_graphql::dataloader::Loader<$key> for $loader {
            type Value = Vec<$value>;
            type Error = ::cityos_core::ApiError;

            async fn load(
                &self,
                keys: &[$key],
            ) -> Result<::std::collections::HashMap<$key, Vec<$value>>, ::cityos_core::ApiError>
            {
                let parents: Vec<$parent> = keys.iter().map(|k| k.0).collect();
                let mut found = self
                    .db
                    .tenant_tx(self.tenant, async move |tx| {
                        $read(tx, &parents)
                            .await
                            .map_err(::cityos_core::ApiError::from)
                    })
                    .await?;
                Ok(keys
                    .iter()
                    .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
                    .collect())
            }
        }
    };
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

    /// The topics it consumes and what each does ([`cityos_db::inbox`]), with its inbox in
    /// `<NAME>.inbox`: exactly the topics its `subgraphs.toml` entry lists under `consumes`
    /// (checked when it starts).
    fn consumers() -> cityos_db::inbox::Consumers {
        cityos_db::inbox::Consumers::new()
    }

    /// Whether storefront answers may be kept in its response cache ([`cache`]), and what
    /// besides a write changes them. Its schema must track its changes
    /// (`platform.track_changes`).
    const RESPONSE_CACHE: Option<cache::Policy> = None;

    /// Whether it has durable jobs, `<NAME>.jobs`.
    const HAS_JOBS: bool = false;

    /// Its kinds of durable job, added to the runner it is given (`runner.with::<CartExpiry>()`).
    fn jobs(runner: cityos_db::jobs::Runner) -> cityos_db::jobs::Runner {
        runner
    }

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
    let manifest = cityos_stack::Manifest::embedded();
    let consumers = S::consumers();
    check_consumers::<S>(&manifest, &consumers)?;
    dispatch_events::<S>(config, &platform, &manifest).await?;
    run_jobs::<S>(config, &platform);
    sweep::<S>(&platform, !consumers.is_empty());
    let schema = S::schema(&platform);
    let mut extra = S::routes(&platform).merge(metrics_route::<S>(&platform));
    if !consumers.is_empty() {
        let secret = events_config(config, "it consumes events")?.secret.clone();
        extra = extra.merge(events::routes(
            platform.db.clone(),
            S::NAME,
            consumers,
            secret,
        ));
    }
    let resolver = ContextResolver::new(platform.clone(), config.auth_cache_ttl);
    let endpoint_db = platform.db.clone();
    let mut endpoint = GraphqlEndpoint::<S>::new(schema, platform, resolver, router_secret);
    if let Some(policy) = S::RESPONSE_CACHE.filter(|_| config.response_cache_bytes > 0) {
        tracing::info!(
            subgraph = S::NAME,
            bytes = config.response_cache_bytes,
            "response cache on"
        );
        let cache = Arc::new(cache::ResponseCache::new(
            S::NAME,
            policy,
            config.response_cache_bytes,
        ));
        tokio::spawn(Arc::clone(&cache).listen(endpoint_db.clone()));
        endpoint = endpoint.with_cache(cache);
    }
    let endpoint = Arc::new(endpoint);
    let router = app(endpoint, config.max_body_bytes).merge(extra);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(subgraph = S::NAME, listen = %listener.local_addr()?, "subgraph listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!(subgraph = S::NAME, "subgraph stopped");
    Ok(())
}

/// The events settings, which `why` makes required.
fn events_config<'c>(config: &'c Config, why: &str) -> anyhow::Result<&'c events::EventsConfig> {
    config
        .events
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("CITYOS_EVENTS_SECRET must be set: {why}"))
}

/// Refuses to start when the consumers in code and the manifest's `consumes` disagree: a topic
/// listed but not handled would be refused forever, one handled but not listed never delivered.
fn check_consumers<S: Subgraph>(
    manifest: &cityos_stack::Manifest,
    consumers: &cityos_db::inbox::Consumers,
) -> anyhow::Result<()> {
    let mut listed: Vec<&str> = manifest
        .get(S::NAME)
        .map(|s| s.consumes.iter().map(String::as_str).collect())
        .unwrap_or_default();
    listed.sort_unstable();
    let handled = consumers.topics();
    anyhow::ensure!(
        listed == handled,
        "subgraphs.toml says {} consumes {listed:?}, but its code consumes {handled:?}",
        S::NAME
    );
    Ok(())
}

/// Starts delivering the subgraph's outbox events to each subscriber of `manifest`: first the
/// outbox's subscriptions become the manifest's, then one loop per subscriber delivers.
async fn dispatch_events<S: Subgraph>(
    config: &Config,
    platform: &Platform,
    manifest: &cityos_stack::Manifest,
) -> anyhow::Result<()> {
    if !S::HAS_OUTBOX {
        return Ok(());
    }
    let outbox = cityos_db::outbox::Outbox::of(S::NAME);
    let subscriptions = manifest.subscriptions();
    outbox
        .subscribe(&platform.db, &subscriptions)
        .await
        .map_err(|e| anyhow::anyhow!("syncing {}.subscriptions: {}", S::NAME, e.message))?;
    let subscribers: Vec<&cityos_stack::Subgraph> = manifest
        .subgraphs
        .iter()
        .filter(|s| !s.consumes.is_empty())
        .collect();
    if subscribers.is_empty() {
        return Ok(());
    }
    let events = events_config(config, "other subgraphs consume events")?;
    let mut sinks = Vec::new();
    for subscriber in subscribers {
        let url = subscriber.events_url();
        tracing::info!(outbox = S::NAME, subscriber = %subscriber.name, %url, topics = ?subscriber.consumes, "delivering events");
        sinks.push((subscriber.name.clone(), events::HttpSink::new(url, events)?));
    }
    let settings = cityos_db::outbox::Settings {
        idle: events.idle,
        max_attempts: events.max_attempts,
        ..cityos_db::outbox::Settings::default()
    };
    let dispatcher =
        cityos_db::outbox::Dispatcher::new(platform.db.clone(), outbox, sinks, settings);
    tokio::spawn(dispatcher.run());
    Ok(())
}

/// Starts the subgraph's job runner, when it has jobs.
fn run_jobs<S: Subgraph>(config: &Config, platform: &Platform) {
    if !S::HAS_JOBS {
        return;
    }
    let settings = cityos_db::jobs::RunnerSettings {
        idle: config.jobs_idle,
        ..cityos_db::jobs::RunnerSettings::default()
    };
    let runner = S::jobs(cityos_db::jobs::Runner::new(
        platform.db.clone(),
        cityos_db::jobs::Jobs::of(S::NAME),
        settings,
    ));
    tracing::info!(subgraph = S::NAME, jobs = ?runner.names(), "running jobs");
    tokio::spawn(runner.run());
}

/// Every hour (and at start), removes the kit's rows past their retention
/// ([`cityos_db::ops::prune`]): delivered events, old inbox ids, finished jobs.
fn sweep<S: Subgraph>(platform: &Platform, consumes: bool) {
    let tables = cityos_db::ops::Tables {
        outbox: S::HAS_OUTBOX,
        inbox: consumes,
        jobs: S::HAS_JOBS,
    };
    if tables.none() {
        return;
    }
    let db = platform.db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let retention = cityos_db::ops::Retention::default();
            match cityos_db::ops::prune(&db, S::NAME, tables, retention).await {
                Ok(pruned) => tracing::info!(
                    schema = S::NAME,
                    events = pruned.events,
                    inbox = pruned.inbox,
                    jobs = pruned.jobs,
                    "retention sweep"
                ),
                Err(error) => {
                    tracing::warn!(schema = S::NAME, error = ?error, "retention sweep failed")
                }
            }
        }
    });
}

/// `GET /metrics`.
fn metrics_route<S: Subgraph>(platform: &Platform) -> axum::Router {
    let scrape = metrics::Scrape {
        db: platform.db.clone(),
        schema: S::NAME,
        has_outbox: S::HAS_OUTBOX,
        has_jobs: S::HAS_JOBS,
    };
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(async move || {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4",
                )],
                metrics::render(&scrape).await,
            )
        }),
    )
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
