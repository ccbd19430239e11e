//! The end-to-end harness: a real stack per test.
//!
//! [`Stack::start`] creates an empty database, starts the identity, catalog and orders binaries
//! (which migrate it) and the pinned router in front of them, each on a free port, and stops them all when
//! dropped. Binaries come from `CITYOS_BIN_DIR` and `CITYOS_ROUTER_BIN`, which `cargo xtask test`
//! sets after building them.

pub mod fixtures;

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The platform admin every stack starts with.
pub const ADMIN_EMAIL: &str = "root@cityos.test";
/// Its password (test-only; real deployments take it from CITYOS_ADMIN_PASSWORD).
pub const ADMIN_PASSWORD: &str = "e2e-platform-admin-password";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn required_path(var: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{var} is not set: run the end-to-end tests with `cargo xtask test`")
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running stack: two subgraphs and the router, on one fresh database.
pub struct Stack {
    /// The router's GraphQL endpoint.
    pub url: String,
    /// The identity subgraph's GraphQL endpoint (behind the router).
    pub identity_url: String,
    /// The catalog subgraph's GraphQL endpoint (behind the router).
    pub catalog_url: String,
    /// The orders subgraph's GraphQL endpoint (behind the router).
    pub orders_url: String,
    /// The shared secret subgraphs require.
    pub router_secret: String,
    /// The access-token signing secret.
    pub jwt_secret: String,
    /// The database's owner URL.
    pub database_url: String,
    /// Where the processes' logs are.
    pub log_dir: PathBuf,
    http: reqwest::Client,
    children: Vec<(&'static str, Child)>,
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

/// A GraphQL response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, parsed.
    pub body: Value,
}

impl Response {
    /// `data`, failing the test if there are errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
}

/// How a stack is started.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Cache time of tenant and API-key lookups in the subgraphs. Tests use 0, so suspensions and
    /// revocations show at once; the benchmark uses the production default.
    pub auth_cache_ttl_ms: u64,
    /// The subgraphs' log filter.
    pub log_filter: String,
    /// Whether the router collapses identical in-flight subgraph requests (as in production).
    pub deduplicate_queries: bool,
    /// Where the subgraphs deliver outbox events, and the signing secret: none by default.
    pub events: Option<(String, String)>,
    /// The base URL of a Stripe double (`cityos_testkit::stripe`): orders then takes cards
    /// through it and accepts webhook events signed with the double's secret. None by default.
    pub stripe_api_base: Option<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            auth_cache_ttl_ms: 0,
            log_filter: "info".into(),
            deduplicate_queries: true,
            events: None,
            stripe_api_base: None,
        }
    }
}

impl Stack {
    /// Starts a stack for tests and waits until the router is ready.
    pub async fn start() -> Self {
        Self::start_with(StackOptions::default()).await
    }

    /// Starts a stack with `options` and waits until the router is ready.
    pub async fn start_with(options: StackOptions) -> Self {
        let bin = required_path("CITYOS_BIN_DIR");
        let router = required_path("CITYOS_ROUTER_BIN");
        let database_url = cityos_testkit::empty_database().await;
        let router_secret = uuid::Uuid::now_v7().simple().to_string();
        let jwt_secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let log_dir =
            std::env::temp_dir().join(format!("cityos-e2e-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&log_dir).unwrap_or_else(|e| panic!("log dir: {e}"));
        eprintln!("stack logs: {}", log_dir.display());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));

        let mut children = Vec::new();
        let mut urls = Vec::new();
        // In this order: orders runs the catalog's functions, so the catalog migrates first.
        for name in ["identity", "catalog", "orders"] {
            let port = free_port();
            let mut command = Command::new(bin.join(name));
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
                .env("CITYOS_ADMIN_PASSWORD", ADMIN_PASSWORD);
            if let Some((url, secret)) = &options.events {
                command
                    .env("CITYOS_EVENTS_URL", url)
                    .env("CITYOS_EVENTS_SECRET", secret)
                    .env("CITYOS_EVENTS_IDLE_MS", "50");
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
            children.push((
                name,
                spawn(&mut command, &log_dir.join(format!("{name}.log"))),
            ));
            wait_ready(
                &http,
                &format!("http://127.0.0.1:{port}/ready"),
                &log_dir,
                name,
            )
            .await;
            urls.push(format!("http://127.0.0.1:{port}/graphql"));
        }
        let (router_port, health_port) = (free_port(), free_port());
        let mut command = Command::new(router);
        command
            .current_dir(workspace_root())
            .args([
                "--supergraph",
                "supergraph.graphql",
                "--config",
                "router-config/router.yaml",
            ])
            .env("APOLLO_TELEMETRY_DISABLED", "true")
            .env("ROUTER_SECRET", &router_secret)
            .env("ROUTER_LISTEN", format!("127.0.0.1:{router_port}"))
            .env("ROUTER_HEALTH_LISTEN", format!("127.0.0.1:{health_port}"))
            .env(
                "ROUTER_METRICS_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env(
                "ROUTER_DEDUPLICATE_QUERY",
                options.deduplicate_queries.to_string(),
            )
            .env("IDENTITY_URL", &urls[0])
            .env("CATALOG_URL", &urls[1])
            .env("ORDERS_URL", &urls[2]);
        children.push(("router", spawn(&mut command, &log_dir.join("router.log"))));
        wait_ready(
            &http,
            &format!("http://127.0.0.1:{health_port}/health?ready"),
            &log_dir,
            "router",
        )
        .await;

        Self {
            url: format!("http://127.0.0.1:{router_port}/graphql"),
            identity_url: urls[0].clone(),
            catalog_url: urls[1].clone(),
            orders_url: urls[2].clone(),
            router_secret,
            jwt_secret,
            database_url,
            log_dir,
            http,
            children,
        }
    }

    /// The resident memory of each process (from /proc), in KiB.
    pub fn resident_kib(&self) -> Vec<(&'static str, u64)> {
        self.children
            .iter()
            .filter_map(|(name, child)| {
                let status =
                    std::fs::read_to_string(format!("/proc/{}/status", child.id()?)).ok()?;
                let kib = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))?
                    .trim()
                    .trim_end_matches(" kB")
                    .parse()
                    .ok()?;
                Some((*name, kib))
            })
            .collect()
    }

    /// The processor time each process has used so far (user and system, from /proc).
    pub fn cpu_time(&self) -> Vec<(&'static str, Duration)> {
        self.children
            .iter()
            .filter_map(|(name, child)| Some((*name, process_cpu_time(child.id()?)?)))
            .collect()
    }

    /// Posts a raw body to `url` with `headers`.
    pub async fn post(&self, url: &str, headers: &[(&str, &str)], body: String) -> Response {
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Response { status, body }
    }

    /// Sends a GraphQL request through the router.
    pub async fn gql(&self, headers: &[(&str, &str)], query: &str, variables: Value) -> Response {
        self.post(
            &self.url,
            headers,
            json!({ "query": query, "variables": variables }).to_string(),
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
        self.post(
            url,
            &all,
            json!({ "query": query, "variables": variables }).to_string(),
        )
        .await
    }
}

fn spawn(command: &mut Command, log: &Path) -> Child {
    let file = std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let err = file.try_clone().unwrap_or_else(|e| panic!("{e}"));
    command
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"))
}

async fn wait_ready(http: &reqwest::Client, url: &str, log_dir: &Path, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(log_dir.join(format!("{name}.log"))).unwrap_or_default();
            let tail: String = log
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            panic!("{name} was not ready at {url} within 60s; log tail:\n{tail}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
