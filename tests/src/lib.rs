//! The end-to-end harness: a real stack per test.
//!
//! [`Stack::start`] creates an empty database, starts every subgraph binary of `subgraphs.toml` in
//! its order (each migrates its schema) and the pinned router in front of them, each on a free
//! port, under one [`Supervisor`] (the one `cargo xtask up` uses), and stops them all when dropped. Binaries come from `CITYOS_BIN_DIR` and `CITYOS_ROUTER_BIN`, which `cargo xtask test`
//! sets after building them.

pub mod fixtures;
pub mod journey;
pub mod seed;

pub use cityos_client::{Client, Operation, Response, operations};

use cityos_stack::{Manifest, Supervisor};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The platform admin every stack starts with.
pub const ADMIN_EMAIL: &str = "root@cityos.test";
/// Its password (test-only; real deployments take it from CITYOS_ADMIN_PASSWORD).
pub const ADMIN_PASSWORD: &str = "e2e-platform-admin-password";

fn free_port() -> u16 {
    cityos_stack::free_port().unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn required_path(var: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{var} is not set: run the end-to-end tests with `cargo xtask test`")
    })
}

/// A running stack: every subgraph of `subgraphs.toml` and the router, on one fresh database.
/// Dropping it stops them all.
pub struct Stack {
    /// The router's GraphQL endpoint.
    pub url: String,
    /// Each subgraph's name and GraphQL endpoint (behind the router), in start order.
    pub subgraph_urls: Vec<(String, String)>,
    /// The shared secret subgraphs require.
    pub router_secret: String,
    /// The access-token signing secret.
    pub jwt_secret: String,
    /// The database's owner URL.
    pub database_url: String,
    /// Where the processes' logs are.
    pub log_dir: PathBuf,
    client: Client,
    supervisor: Supervisor,
    router_bin: PathBuf,
    deduplicate_queries: bool,
}

/// Starts the pinned router as `name` under `supervisor`, routing each subgraph variable of
/// `routes` to its URL, and waits until it is ready; its port.
fn start_router(
    supervisor: &mut Supervisor,
    name: &str,
    router: &Path,
    router_secret: &str,
    routes: &[(String, String)],
    deduplicate_queries: bool,
) -> u16 {
    let mut router_port = 0;
    supervisor
        .start_ready(name, "/health?ready", Duration::from_secs(60), || {
            let health_port = free_port();
            router_port = free_port();
            let mut command = Command::new(router);
            command
                .current_dir(cityos_stack::workspace_root())
                .args([
                    "--supergraph",
                    "supergraph.graphql",
                    "--config",
                    "router-config/router.yaml",
                ])
                .env("APOLLO_TELEMETRY_DISABLED", "true")
                .env("ROUTER_SECRET", router_secret)
                .env("ROUTER_LISTEN", format!("127.0.0.1:{router_port}"))
                .env("ROUTER_HEALTH_LISTEN", format!("127.0.0.1:{health_port}"))
                .env(
                    "ROUTER_METRICS_LISTEN",
                    format!("127.0.0.1:{}", free_port()),
                )
                .env("ROUTER_DEDUPLICATE_QUERY", deduplicate_queries.to_string());
            for (url_env, url) in routes {
                command.env(url_env, url);
            }
            (command, health_port)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    router_port
}

/// The processor time (user and system) process `pid` has used so far, from /proc; `None` when it
/// is gone. /proc counts in clock ticks, 100 per second on Linux.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// How a stack is started.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Cache time of tenant and API-key lookups in the subgraphs. Tests use 0, so suspensions and
    /// revocations show at once; the benchmark uses the production default.
    pub auth_cache_ttl_ms: u64,
    /// The subgraphs' log filter.
    pub log_filter: String,
    /// Whether the router collapses identical in-flight subgraph requests (off, as in production:
    /// `router-config/router.yaml` says why).
    pub deduplicate_queries: bool,
    /// The base URL of a Stripe double (`cityos_testkit::stripe`): orders then takes cards
    /// through it and accepts webhook events signed with the double's secret. None by default.
    pub stripe_api_base: Option<String>,
    /// The subgraphs' response-cache budget in MiB (`CITYOS_RESPONSE_CACHE_MB`; 0 turns the
    /// cache off); `None` keeps the production default.
    pub response_cache_mb: Option<u64>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            auth_cache_ttl_ms: 0,
            log_filter: "info".into(),
            deduplicate_queries: false,
            stripe_api_base: None,
            response_cache_mb: None,
        }
    }
}

impl Stack {
    /// Starts a stack for tests and waits until the router is ready.
    pub async fn start() -> Self {
        Self::start_with(StackOptions::default()).await
    }

    /// Starts a stack with `options` and waits until the router is ready: every subgraph of
    /// `subgraphs.toml` in its order, then the router in front of them.
    pub async fn start_with(options: StackOptions) -> Self {
        let bin = required_path("CITYOS_BIN_DIR");
        let router = required_path("CITYOS_ROUTER_BIN");
        let manifest = Manifest::load().unwrap_or_else(|e| panic!("{e}"));
        let database_url = cityos_testkit::empty_database().await;
        let router_secret = uuid::Uuid::now_v7().simple().to_string();
        let jwt_secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let events_secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let log_dir =
            std::env::temp_dir().join(format!("cityos-e2e-{}", uuid::Uuid::now_v7().simple()));
        eprintln!("stack logs: {}", log_dir.display());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));

        let settings = (
            database_url.clone(),
            router_secret.clone(),
            jwt_secret.clone(),
            events_secret,
        );
        // Starting and waiting block (the supervisor is plain processes and sockets), so they run
        // off the test's runtime.
        let router_bin = router.clone();
        let started = tokio::task::spawn_blocking(move || {
            let (database_url, router_secret, jwt_secret, events_secret) = settings;
            let mut supervisor = Supervisor::new(&log_dir).unwrap_or_else(|e| panic!("{e}"));
            let mut urls = Vec::new();
            // Every subgraph's address is known before any starts: publishers deliver events to
            // consumers through the same variables the router reads.
            let mut ports: Vec<u16> = manifest.subgraphs.iter().map(|_| free_port()).collect();
            for (i, subgraph) in manifest.subgraphs.iter().enumerate() {
                let name = subgraph.name.as_str();
                let mut tries = 0;
                let port = supervisor
                    .start_ready(name, "/ready", Duration::from_secs(60), || {
                        tries += 1;
                        if tries > 1 {
                            ports[i] = free_port();
                        }
                        let port = ports[i];
                        let mut command = Command::new(bin.join(name));
                        for (other, other_port) in manifest.subgraphs.iter().zip(&ports) {
                            command.env(
                                &other.url_env,
                                format!("http://127.0.0.1:{other_port}/graphql"),
                            );
                        }
                        command
                            .env("DATABASE_URL", &database_url)
                            .env("ROUTER_SECRET", &router_secret)
                            .env("CITYOS_JWT_SECRET", &jwt_secret)
                            .env("CITYOS_LISTEN", format!("127.0.0.1:{port}"))
                            .env("CITYOS_DB_POOL_SIZE", "8")
                            .env(
                                "CITYOS_AUTH_CACHE_TTL_MS",
                                options.auth_cache_ttl_ms.to_string(),
                            )
                            .env("RUST_LOG", &options.log_filter)
                            .env("CITYOS_ADMIN_EMAIL", ADMIN_EMAIL)
                            .env("CITYOS_ADMIN_PASSWORD", ADMIN_PASSWORD)
                            .env("CITYOS_EVENTS_SECRET", &events_secret)
                            .env("CITYOS_EVENTS_IDLE_MS", "50")
                            .env("CITYOS_JOBS_IDLE_MS", "50");
                        if let Some(mb) = options.response_cache_mb {
                            command.env("CITYOS_RESPONSE_CACHE_MB", mb.to_string());
                        }
                        if let Some(base) = &options.stripe_api_base {
                            command
                                .env("STRIPE_API_BASE", base)
                                .env("STRIPE_SECRET_KEY", cityos_testkit::stripe::SECRET_KEY)
                                .env(
                                    "STRIPE_WEBHOOK_SECRET",
                                    cityos_testkit::stripe::WEBHOOK_SECRET,
                                );
                        }
                        (command, port)
                    })
                    .unwrap_or_else(|e| panic!("{e}"));
                urls.push((subgraph.clone(), format!("http://127.0.0.1:{port}/graphql")));
            }
            let routes: Vec<(String, String)> = urls
                .iter()
                .map(|(s, url)| (s.url_env.clone(), url.clone()))
                .collect();
            let router_port = start_router(
                &mut supervisor,
                "router",
                &router,
                &router_secret,
                &routes,
                options.deduplicate_queries,
            );
            let urls = urls.into_iter().map(|(s, url)| (s.name, url)).collect();
            (supervisor, urls, router_port)
        })
        .await
        .unwrap_or_else(|e| panic!("starting the stack: {e}"));
        let (supervisor, subgraph_urls, router_port) = started;

        Self {
            url: format!("http://127.0.0.1:{router_port}/graphql"),
            subgraph_urls,
            router_secret,
            jwt_secret,
            database_url,
            log_dir: supervisor.log_dir().to_owned(),
            client: Client::with_pool(http, format!("http://127.0.0.1:{router_port}/graphql")),
            supervisor,
            router_bin,
            deduplicate_queries: options.deduplicate_queries,
        }
    }

    /// Starts another router, named `name`, of the same binary and config as the stack's, with
    /// `overrides` (a subgraph's name and the URL to route it to instead of its process); the
    /// others route as in the stack. Returns its GraphQL endpoint. It stops with the stack.
    /// Needs a multi-threaded runtime.
    pub fn start_router_with(&mut self, name: &str, overrides: &[(&str, String)]) -> String {
        let manifest = Manifest::load().unwrap_or_else(|e| panic!("{e}"));
        let routes: Vec<(String, String)> = manifest
            .subgraphs
            .iter()
            .map(|s| {
                let url = overrides
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, url)| url.clone())
                    .unwrap_or_else(|| self.subgraph_url(&s.name).to_owned());
                (s.url_env.clone(), url)
            })
            .collect();
        // Starting blocks (plain processes and sockets): off the runtime's other tasks, on a
        // multi-threaded runtime.
        let port = tokio::task::block_in_place(|| {
            start_router(
                &mut self.supervisor,
                name,
                &self.router_bin,
                &self.router_secret,
                &routes,
                self.deduplicate_queries,
            )
        });
        format!("http://127.0.0.1:{port}/graphql")
    }

    /// The GraphQL endpoint of the subgraph `name` (behind the router).
    pub fn subgraph_url(&self, name: &str) -> &str {
        self.subgraph_urls
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, url)| url.as_str())
            .unwrap_or_else(|| panic!("no subgraph `{name}` in subgraphs.toml"))
    }

    /// The value of one series of subgraph `name`'s `/metrics`, written as Prometheus text writes
    /// it (`cityos_response_cache_bytes{subgraph="catalog"}`); `None` when it is not there (a
    /// counter that has not counted yet).
    pub async fn metric(&self, name: &str, series: &str) -> Option<f64> {
        let url = self.subgraph_url(name).replace("/graphql", "/metrics");
        let text = reqwest::get(&url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("{name}'s metrics: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("{name}'s metrics: {e}"));
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.trim().parse().unwrap_or_else(|e| panic!("{series}: {e}")))
    }

    /// The resident memory of each process (from /proc), in KiB.
    pub fn resident_kib(&self) -> Vec<(&str, u64)> {
        self.supervisor
            .pids()
            .into_iter()
            .filter_map(|(name, pid)| {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
                let kib = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))?
                    .trim()
                    .trim_end_matches(" kB")
                    .parse()
                    .ok()?;
                Some((name, kib))
            })
            .collect()
    }

    /// The processor time each process has used so far (user and system, from /proc).
    pub fn cpu_time(&self) -> Vec<(&str, Duration)> {
        self.supervisor
            .pids()
            .into_iter()
            .filter_map(|(name, pid)| Some((name, process_cpu_time(pid)?)))
            .collect()
    }

    /// A client of the router, with no headers yet.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Posts a raw body to `url` with `headers`.
    pub async fn post(&self, url: &str, headers: &[(&str, &str)], body: String) -> Response {
        self.client
            .at(url)
            .post(headers, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends a GraphQL request through the router.
    pub async fn gql(&self, headers: &[(&str, &str)], query: &str, variables: Value) -> Response {
        self.post(
            &self.url,
            headers,
            cityos_client::query_body(query, variables),
        )
        .await
    }

    /// Sends a named operation through the router.
    pub async fn op(
        &self,
        headers: &[(&str, &str)],
        operation: Operation,
        variables: Value,
    ) -> Response {
        self.post(
            &self.url,
            headers,
            cityos_client::body(operation, variables),
        )
        .await
    }

    /// Sends a GraphQL request straight to a subgraph, presenting the router's secret (as the
    /// router would).
    pub async fn gql_subgraph(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> Response {
        let mut all = headers.to_vec();
        all.push(("router-authorization", &self.router_secret));
        self.post(url, &all, cityos_client::query_body(query, variables))
            .await
    }
}

/// Asks `check` every 200 ms until it gives a value, and returns it; fails the test, naming
/// `what`, once `within` has passed (for what the stack does in the background: an event's
/// delivery, a job, a cache's refresh).
pub async fn eventually<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
