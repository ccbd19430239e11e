//! The subgraphs of the supergraph and how to run them.
//!
//! - [`Manifest`]: `subgraphs.toml` at the workspace root, the one list of subgraphs (name, port,
//!   dependencies, the router's URL variable). codegen, `cargo xtask up`, `test` and `bench` and
//!   the end-to-end harness read it; [`Manifest::check_router_config`] and
//!   [`Manifest::check_compose`] hold `router-config/router.yaml` and `compose.yaml` to it.
//! - [`Supervisor`]: the processes one tool started (subgraphs, router), each logging to a file,
//!   waited on until ready, and stopped together (SIGTERM, then SIGKILL after a grace period) when
//!   the supervisor is dropped, whatever the reason: an error, a panic, or Ctrl-C.

mod supervisor;

pub use supervisor::Supervisor;

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One subgraph as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subgraph {
    /// Its name in the supergraph: also its crate, binary, Postgres schema and folder.
    pub name: String,
    /// Its default port on 127.0.0.1.
    pub port: u16,
    /// The subgraphs whose published api it calls; they start (and migrate) before it.
    pub depends_on: Vec<String>,
    /// The router's variable for its address. Publishers read it too: a subgraph's event
    /// endpoint is `/events` beside its `/graphql`.
    pub url_env: String,
    /// The topics it consumes (`order.placed`): every publisher delivers those events to its
    /// `/events` endpoint.
    #[serde(default)]
    pub consumes: Vec<String>,
}

impl Subgraph {
    /// Its GraphQL endpoint on its default port.
    pub fn default_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    /// Its event endpoint: `/events` beside the GraphQL endpoint that `url_env` names in this
    /// process's environment, else beside [`default_url`](Self::default_url).
    pub fn events_url(&self) -> String {
        let graphql = std::env::var(&self.url_env)
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| self.default_url());
        match graphql.strip_suffix("/graphql") {
            Some(base) => format!("{base}/events"),
            None => format!("{}/events", graphql.trim_end_matches('/')),
        }
    }
}

/// Whether `topic` is a topic name: two or more dot-separated parts of lower-case letters, digits
/// and underscores (`order.placed`, `vendor.kyc.accepted`).
pub fn is_topic(topic: &str) -> bool {
    let mut parts = topic.split('.');
    let first_ok = parts.next().is_some_and(is_word);
    let rest: Vec<&str> = parts.collect();
    first_ok && !rest.is_empty() && rest.into_iter().all(is_word)
}

fn is_word(part: &str) -> bool {
    !part.is_empty()
        && part
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The list of subgraphs, in start order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Every subgraph, each after those it depends on.
    pub subgraphs: Vec<Subgraph>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    subgraph: Vec<Subgraph>,
}

/// Why the manifest, or a file held to it, is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError(pub String);

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ManifestError {}

fn error(message: impl Into<String>) -> ManifestError {
    ManifestError(message.into())
}

/// The workspace root: the nearest directory holding `subgraphs.toml` at or above the current
/// one (every tool and test runs inside the checkout), else the checkout this crate was built in
/// (it sits at `crates/stack`). Not the build path first: cargo shares artefacts of workspace
/// members between checkouts that use one target directory, so a binary may have been built
/// from another clone.
pub fn workspace_root() -> PathBuf {
    let here = std::env::current_dir().ok();
    if let Some(found) = here
        .iter()
        .flat_map(|dir| dir.ancestors())
        .find(|dir| dir.join("subgraphs.toml").is_file())
    {
        return found.to_path_buf();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// A free TCP port on 127.0.0.1 (the kernel's choice, released at once for a child to take).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `subgraphs.toml` as this crate was built with it.
const EMBEDDED: &str = include_str!("../../../subgraphs.toml");

impl Manifest {
    /// The manifest compiled into this binary: what a subgraph process reads to learn who
    /// consumes its events (it runs without the checkout).
    pub fn embedded() -> Self {
        // `the_workspace_manifest_holds...` parses this very text.
        Self::parse(EMBEDDED).unwrap_or_else(|e| panic!("the embedded subgraphs.toml: {e}"))
    }

    /// Each subgraph that consumes `topic`.
    pub fn consumers_of<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a Subgraph> {
        self.subgraphs
            .iter()
            .filter(move |s| s.consumes.iter().any(|t| t == topic))
    }

    /// Every (subscriber, topic) pair, in manifest order.
    pub fn subscriptions(&self) -> Vec<(String, String)> {
        self.subgraphs
            .iter()
            .flat_map(|s| s.consumes.iter().map(|t| (s.name.clone(), t.clone())))
            .collect()
    }

    /// Reads `subgraphs.toml` at the workspace root.
    pub fn load() -> Result<Self, ManifestError> {
        let path = workspace_root().join("subgraphs.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| error(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Parses and checks a manifest: names, ports and URL variables unique, every dependency
    /// listed earlier.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let file: File = toml::from_str(text).map_err(|e| error(format!("subgraphs.toml: {e}")))?;
        for (i, s) in file.subgraph.iter().enumerate() {
            let valid_name = !s.name.is_empty()
                && s.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_name {
                return Err(error(format!(
                    "subgraph `{}`: a name is lower-case letters, digits and underscores",
                    s.name
                )));
            }
            let earlier = &file.subgraph[..i];
            if earlier.iter().any(|e| e.name == s.name) {
                return Err(error(format!("subgraph `{}` is listed twice", s.name)));
            }
            if let Some(e) = earlier.iter().find(|e| e.port == s.port) {
                return Err(error(format!(
                    "subgraphs `{}` and `{}` both use port {}",
                    e.name, s.name, s.port
                )));
            }
            if let Some(e) = earlier.iter().find(|e| e.url_env == s.url_env) {
                return Err(error(format!(
                    "subgraphs `{}` and `{}` both use {}",
                    e.name, s.name, s.url_env
                )));
            }
            if let Some(bad) = s.consumes.iter().find(|t| !is_topic(t)) {
                return Err(error(format!(
                    "subgraph `{}` consumes `{bad}`: a topic is dot-separated lower-case words",
                    s.name
                )));
            }
            for dependency in &s.depends_on {
                if !earlier.iter().any(|e| &e.name == dependency) {
                    return Err(error(format!(
                        "subgraph `{}` depends on `{dependency}`, which is not listed before it",
                        s.name
                    )));
                }
            }
        }
        Ok(Self {
            subgraphs: file.subgraph,
        })
    }

    /// The subgraph called `name`.
    pub fn get(&self, name: &str) -> Option<&Subgraph> {
        self.subgraphs.iter().find(|s| s.name == name)
    }

    /// The subgraphs' names, in start order.
    pub fn names(&self) -> Vec<&str> {
        self.subgraphs.iter().map(|s| s.name.as_str()).collect()
    }

    /// Checks that `router.yaml` routes exactly the listed subgraphs, each through its variable
    /// with its default port as the fallback: `name: "${env.URL_ENV:-http://127.0.0.1:PORT/graphql}"`.
    pub fn check_router_config(&self, router_yaml: &str) -> Result<(), ManifestError> {
        let routed = section_keys(router_yaml, "override_subgraph_url:");
        let names: Vec<&str> = routed.iter().map(|(k, _)| k.as_str()).collect();
        if names != self.names() {
            return Err(error(format!(
                "router.yaml routes {names:?}; subgraphs.toml lists {:?}",
                self.names()
            )));
        }
        for (s, (_, value)) in self.subgraphs.iter().zip(&routed) {
            let wanted = format!("\"${{env.{}:-{}}}\"", s.url_env, s.default_url());
            if value != &wanted {
                return Err(error(format!(
                    "router.yaml routes {} to {value}; subgraphs.toml says {wanted}",
                    s.name
                )));
            }
        }
        Ok(())
    }

    /// Checks that `compose.yaml` runs every listed subgraph on its port and points the router
    /// at each through its variable.
    pub fn check_compose(&self, compose_yaml: &str) -> Result<(), ManifestError> {
        let services = section_keys(compose_yaml, "services:");
        for s in &self.subgraphs {
            if !services.iter().any(|(k, _)| k == &s.name) {
                return Err(error(format!("compose.yaml has no service `{}`", s.name)));
            }
            let listen = format!("CITYOS_LISTEN: 0.0.0.0:{}", s.port);
            let route = format!("{}: http://{}:{}/graphql", s.url_env, s.name, s.port);
            for wanted in [&listen, &route] {
                if !compose_yaml.lines().any(|l| l.trim() == wanted.as_str()) {
                    return Err(error(format!("compose.yaml lacks `{wanted}`")));
                }
            }
        }
        Ok(())
    }
}

/// The `key: value` lines one indentation level inside the top-level section starting with
/// `header` (a line of its own), in order; comments and deeper lines are skipped.
fn section_keys(yaml: &str, header: &str) -> Vec<(String, String)> {
    let mut lines = yaml.lines().skip_while(|l| l.trim() != header).skip(1);
    let mut keys = Vec::new();
    let mut indent = None;
    for line in lines.by_ref() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = line.len() - trimmed.len();
        if depth == 0 {
            break;
        }
        let level = *indent.get_or_insert(depth);
        if depth != level {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            keys.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_manifest_holds_and_so_do_the_files_held_to_it() {
        let manifest = Manifest::load().expect("subgraphs.toml");
        assert_eq!(
            manifest.names(),
            ["identity", "catalog", "vendors", "bookings", "orders"]
        );
        assert_eq!(Manifest::embedded(), manifest);
        let root = workspace_root();
        let router =
            std::fs::read_to_string(root.join("router-config/router.yaml")).expect("router");
        manifest.check_router_config(&router).expect("router.yaml");
        let compose = std::fs::read_to_string(root.join("compose.yaml")).expect("compose");
        manifest.check_compose(&compose).expect("compose.yaml");
    }

    #[test]
    fn a_wrong_manifest_or_a_drifted_file_is_named() {
        let one = "[[subgraph]]\nname = \"a\"\nport = 1\ndepends_on = []\nurl_env = \"A_URL\"\n";
        let dependent =
            "[[subgraph]]\nname = \"b\"\nport = 2\ndepends_on = [\"c\"]\nurl_env = \"B_URL\"\n";
        let error = Manifest::parse(&format!("{one}{dependent}")).unwrap_err();
        assert!(error.0.contains("depends on `c`"), "{error}");
        let twice = Manifest::parse(&format!("{one}{one}")).unwrap_err();
        assert!(twice.0.contains("listed twice"), "{twice}");
        let consumer = format!("{one}consumes = [\"order.placed\", \"Order\"]\n");
        let topic = Manifest::parse(&consumer).unwrap_err();
        assert!(topic.0.contains("consumes `Order`"), "{topic}");
        assert!(is_topic("order.placed") && is_topic("vendor.kyc.accepted"));
        assert!(!is_topic("order") && !is_topic("order.") && !is_topic("Order.placed"));
        assert!(!is_topic("order placed.x") && !is_topic(".placed"));

        let manifest = Manifest::parse(one).expect("manifest");
        let good = "override_subgraph_url:\n  # the subgraph\n  a: \"${env.A_URL:-http://127.0.0.1:1/graphql}\"\nnext: 1\n";
        manifest.check_router_config(good).expect("good");
        let extra = "override_subgraph_url:\n  a: \"${env.A_URL:-http://127.0.0.1:1/graphql}\"\n  z: \"x\"\n";
        assert!(manifest.check_router_config(extra).is_err());
        let moved = "override_subgraph_url:\n  a: \"${env.A_URL:-http://127.0.0.1:9/graphql}\"\n";
        assert!(manifest.check_router_config(moved).is_err());

        let compose = "services:\n  a:\n    environment:\n      CITYOS_LISTEN: 0.0.0.0:1\n  router:\n    environment:\n      A_URL: http://a:1/graphql\n";
        manifest.check_compose(compose).expect("compose");
        assert!(manifest.check_compose("services:\n  router:\n").is_err());
    }
}
