//! `codegen [--check]`: writes each subgraph's federation SDL to `subgraphs/<name>/schema.graphql`
//! (straight from the schema code, no server started), composes `supergraph.graphql` offline with
//! `@apollo/composition` (codegen/compose.mjs), validates the clients' operations
//! (`subgraphs/<name>/operations.graphql`) against the composed API schema and writes them as Rust
//! constants for the one GraphQL client (`crates/client/src/operations.rs`). With `--check` it
//! writes nothing and fails when any of these is stale. Either way it fails when
//! `router-config/router.yaml` or `compose.yaml` does not route the subgraphs `subgraphs.toml`
//! lists, on their ports, and when an operation does not validate.

use anyhow::{Context as _, bail};
use cityos_server::Subgraph;
use cityos_stack::Manifest;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A subgraph as composed: its name, the routing URL baked into the supergraph (the router config
/// overrides it per environment) and its SDL.
struct SubgraphSdl {
    name: String,
    url: String,
    sdl: String,
}

/// Each subgraph crate's name, default port and SDL. The list of subgraphs is `subgraphs.toml`;
/// this table only says where each one's schema code is, and must agree with the manifest.
struct Code {
    name: &'static str,
    port: u16,
    depends_on: fn() -> Vec<&'static str>,
    sdl: fn() -> String,
}

/// The names a subgraph crate says it depends on.
fn depends_on<S: Subgraph>() -> Vec<&'static str> {
    S::depends_on().into_iter().map(|(name, _)| name).collect()
}

const SUBGRAPH_CODE: &[Code] = &[
    Code {
        name: <identity::Identity as Subgraph>::NAME,
        port: <identity::Identity as Subgraph>::DEFAULT_PORT,
        depends_on: depends_on::<identity::Identity>,
        sdl: identity::sdl,
    },
    Code {
        name: <catalog::Catalog as Subgraph>::NAME,
        port: <catalog::Catalog as Subgraph>::DEFAULT_PORT,
        depends_on: depends_on::<catalog::Catalog>,
        sdl: catalog::sdl,
    },
    Code {
        name: <vendors::Vendors as Subgraph>::NAME,
        port: <vendors::Vendors as Subgraph>::DEFAULT_PORT,
        depends_on: depends_on::<vendors::Vendors>,
        sdl: vendors::sdl,
    },
    Code {
        name: <bookings::Bookings as Subgraph>::NAME,
        port: <bookings::Bookings as Subgraph>::DEFAULT_PORT,
        depends_on: depends_on::<bookings::Bookings>,
        sdl: bookings::sdl,
    },
    Code {
        name: <orders::Orders as Subgraph>::NAME,
        port: <orders::Orders as Subgraph>::DEFAULT_PORT,
        depends_on: depends_on::<orders::Orders>,
        sdl: orders::sdl,
    },
];

fn subgraphs(manifest: &Manifest) -> anyhow::Result<Vec<SubgraphSdl>> {
    let code: Vec<(&str, u16, Vec<&str>)> = SUBGRAPH_CODE
        .iter()
        .map(|c| (c.name, c.port, (c.depends_on)()))
        .collect();
    let listed: Vec<(&str, u16, Vec<&str>)> = manifest
        .subgraphs
        .iter()
        .map(|s| {
            let deps = s.depends_on.iter().map(String::as_str).collect();
            (s.name.as_str(), s.port, deps)
        })
        .collect();
    if code != listed {
        bail!(
            "the subgraph crates are {code:?} (name, default port, dependencies); \
             subgraphs.toml lists {listed:?}"
        );
    }
    Ok(manifest
        .subgraphs
        .iter()
        .zip(SUBGRAPH_CODE)
        .map(|(s, code)| SubgraphSdl {
            name: s.name.clone(),
            url: s.default_url(),
            sdl: (code.sdl)(),
        })
        .collect())
}

/// A named operation of a subgraph's `operations.graphql`, printed alone.
#[derive(serde::Deserialize)]
struct Operation {
    file: String,
    name: String,
    text: String,
}

/// What `compose.mjs` answers.
#[derive(serde::Deserialize)]
struct Composed {
    supergraph: String,
    operations: Vec<Operation>,
}

/// Composes the supergraph and validates `operations` (file, source) against it.
fn compose(
    root: &Path,
    subgraphs: &[SubgraphSdl],
    operations: &[(String, String)],
) -> anyhow::Result<Composed> {
    let codegen = root.join("codegen");
    if !codegen.join("node_modules/@apollo/composition").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&codegen)
            .status()
            .context("running npm ci in codegen/ (Node.js and npm are needed to compose)")?;
        if !status.success() {
            bail!("npm ci in codegen/ failed");
        }
    }
    let input = serde_json::json!({
        "subgraphs": subgraphs
            .iter()
            .map(|s| serde_json::json!({ "name": s.name, "url": s.url, "sdl": s.sdl }))
            .collect::<Vec<_>>(),
        "operations": operations
            .iter()
            .map(|(file, source)| serde_json::json!({ "file": file, "source": source }))
            .collect::<Vec<_>>(),
    });
    let mut child = Command::new("node")
        .arg("compose.mjs")
        .current_dir(&codegen)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running node codegen/compose.mjs")?;
    child
        .stdin
        .take()
        .context("node stdin")?
        .write_all(input.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("composition or operation validation failed (see the errors above)");
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// `ProductCreate` -> `PRODUCT_CREATE`.
fn constant_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// A Rust string literal holding `s`.
fn rust_string(s: &str) -> String {
    format!("{s:?}")
}

/// `crates/client/src/operations.rs`: a module per subgraph, a constant per operation.
fn operations_rs(manifest: &Manifest, operations: &[Operation]) -> String {
    let mut out = String::from(
        "//! Generated by `cargo xtask codegen` from `subgraphs/<name>/operations.graphql`; do not edit.\n\
         //! Every operation here validated against the composed schema when it was generated.\n\
         \n\
         use crate::Operation;\n",
    );
    for subgraph in &manifest.subgraphs {
        let file = format!("subgraphs/{}/operations.graphql", subgraph.name);
        let ops: Vec<&Operation> = operations.iter().filter(|o| o.file == file).collect();
        if ops.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n/// The operations of `{file}`.\npub mod {} {{\n    use crate::Operation;\n",
            subgraph.name
        ));
        for op in ops {
            let first = op.text.split('{').next().unwrap_or_default();
            out.push_str(&format!(
                "\n    /// `{first}`\n    pub const {}: Operation = Operation {{\n        name: {},\n        text: {},\n    }};\n",
                constant_name(&op.name),
                rust_string(&op.name),
                rust_string(&op.text),
            ));
        }
        out.push_str("}\n");
    }
    out.push_str("\n/// Every operation, for a lookup by name ([`crate::operation`]).\npub const ALL: &[Operation] = &[\n");
    for subgraph in &manifest.subgraphs {
        let file = format!("subgraphs/{}/operations.graphql", subgraph.name);
        for op in operations.iter().filter(|o| o.file == file) {
            out.push_str(&format!(
                "    {}::{},\n",
                subgraph.name,
                constant_name(&op.name)
            ));
        }
    }
    out.push_str("];\n");
    out
}

fn main() -> anyhow::Result<()> {
    let check = std::env::args().any(|a| a == "--check");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = Manifest::load()?;
    manifest.check_router_config(&std::fs::read_to_string(
        root.join("router-config/router.yaml"),
    )?)?;
    manifest.check_compose(&std::fs::read_to_string(root.join("compose.yaml"))?)?;
    let subgraphs = subgraphs(&manifest)?;
    let mut operations = Vec::new();
    for s in &manifest.subgraphs {
        let file = format!("subgraphs/{}/operations.graphql", s.name);
        match std::fs::read_to_string(root.join(&file)) {
            Ok(source) => operations.push((file, source)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {file}")),
        }
    }
    let composed = compose(&root, &subgraphs, &operations)?;
    let mut outputs: Vec<(PathBuf, String)> = subgraphs
        .iter()
        .map(|s| {
            (
                root.join("subgraphs").join(&s.name).join("schema.graphql"),
                s.sdl.clone(),
            )
        })
        .collect();
    outputs.push((
        root.join("crates/client/src/operations.rs"),
        operations_rs(&manifest, &composed.operations),
    ));
    outputs.push((root.join("supergraph.graphql"), composed.supergraph));

    let mut stale = Vec::new();
    for (path, content) in &outputs {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != *content {
            stale.push(
                path.strip_prefix(&root)
                    .unwrap_or(path)
                    .display()
                    .to_string(),
            );
            if !check {
                std::fs::write(path, content)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
    }
    match (check, stale.is_empty()) {
        (true, false) => bail!(
            "stale generated files: {} (run `cargo xtask codegen`)",
            stale.join(", ")
        ),
        (false, false) => eprintln!("codegen: wrote {}", stale.join(", ")),
        (_, true) => eprintln!("codegen: up to date"),
    }
    Ok(())
}
