//! Project commands, run as `cargo xtask <command>`:
//!
//! - `up`: the whole stack with demo data: embedded PostgreSQL (unless `DATABASE_URL` is set), every
//!   subgraph, the router on :4000; prints the endpoint and demo credentials; Ctrl-C stops it all.
//! - `test`: everything CI runs: fmt check, the structure check, clippy, codegen check, unit,
//!   integration and end-to-end tests (embedded PostgreSQL unless `DATABASE_URL` is set; the
//!   router is installed if missing).
//! - `codegen [--check]`: subgraph SDL files and supergraph.graphql.
//! - `router`: installs the pinned router if missing and prints its path.
//! - `structure`: prints the module cycles and cross-subgraph paths `test` checks against
//!   `xtask/structure.allow` (see `lint.rs`).
//! - `bench [--seconds N] [--concurrency N] [--products N] [--page N]`: the storefront benchmark on
//!   release builds (see tests/src/bin/bench/main.rs).
//!
//! The subgraphs come from `subgraphs.toml` (crate `cityos-stack`). Ctrl-C stops everything a
//! command started: the child processes get the signal with the terminal's process group, and xtask
//! itself only notes it and then stops what it owns (the stack of `up`, an embedded PostgreSQL).
//!
//! Heavy builds go to a target directory outside the clone (`CARGO_TARGET_DIR`, default
//! `~/.cache/cityos/target`) so repeated runs, and CI runs on the same machine, stay warm.

mod demo;
mod lint;
mod pg;
mod stack;

use std::path::PathBuf;
use std::process::Command;

/// Errors are reported as text; xtask is a tool for people.
pub type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The workspace root.
pub fn root() -> PathBuf {
    cityos_stack::workspace_root()
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// The shared target directory for the workspace's heavy builds.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| home().join(".cache/cityos/target"), PathBuf::from)
}

/// A cargo command in the workspace, building into [`target_dir`].
pub fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args)
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir());
    c
}

/// Runs a command to completion, failing unless it succeeds.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}").into())
    }
}

/// Installs the pinned router when missing (scripts/install-router.sh) and returns its path.
pub fn router_binary() -> Result<PathBuf> {
    if let Ok(bin) = std::env::var("CITYOS_ROUTER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let out = Command::new("bash")
        .arg(root().join("scripts/install-router.sh"))
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err("installing the router failed".into());
    }
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether Ctrl-C (or SIGTERM) has been received.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// `cargo <args> -p <each subgraph of the manifest>`.
pub fn build_subgraphs_args<'a>(
    manifest: &'a cityos_stack::Manifest,
    args: &[&'a str],
) -> Vec<&'a str> {
    let mut all = args.to_vec();
    for name in manifest.names() {
        all.extend(["-p", name]);
    }
    all
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}

/// A cargo command of `xtask test`: not incremental. Each clone of the repository would otherwise
/// leave gigabytes of incremental state in the shared target directory, which CI reuses run after
/// run; a one-off build gains nothing from it.
fn ci_cargo(args: &[&str]) -> Command {
    let mut c = cargo(args);
    c.env("CARGO_INCREMENTAL", "0");
    c
}

/// `cargo xtask test`: every check and every test, as CI runs them. With arguments (`cargo xtask
/// test -p catalog -E 'test(/search/)'`), only the tests those arguments select, passed to
/// nextest (or `cargo test`), against the same throwaway PostgreSQL and router: the edit loop.
fn test(selection: &[String]) -> Result<()> {
    if !selection.is_empty() {
        // The end-to-end tests start the subgraph binaries: never stale ones.
        let manifest = cityos_stack::Manifest::load()?;
        run(&mut ci_cargo(&build_subgraphs_args(
            &manifest,
            &["build", "--quiet", "--locked", "--bins"],
        )))?;
        return run_tests(selection);
    }
    step("rustfmt");
    run(&mut ci_cargo(&["fmt", "--all", "--", "--check"]))?;
    step("module cycles and cross-subgraph paths");
    lint::check()?;
    step("clippy");
    run(&mut ci_cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("codegen check");
    run(&mut ci_cargo(&[
        "run", "--quiet", "--locked", "-p", "codegen", "--", "--check",
    ]))?;
    step("build subgraphs");
    let manifest = cityos_stack::Manifest::load()?;
    run(&mut ci_cargo(&build_subgraphs_args(
        &manifest,
        &["build", "--locked", "--bins"],
    )))?;
    run_tests(&["--workspace".to_owned()])
}

/// Runs the tests `selection` picks (cargo's package and filter arguments), with the router and
/// the subgraph binaries the end-to-end tests start, against a throwaway PostgreSQL.
fn run_tests(selection: &[String]) -> Result<()> {
    step("router");
    let router = router_binary()?;
    eprintln!("router: {}", router.display());

    step("tests");
    let nextest = ci_cargo(&["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut tests = if nextest {
        ci_cargo(&["nextest", "run", "--locked", "--no-fail-fast"])
    } else {
        ci_cargo(&["test", "--locked", "--no-fail-fast"])
    };
    tests
        .args(selection)
        .env("CITYOS_ROUTER_BIN", &router)
        .env("CITYOS_BIN_DIR", target_dir().join("debug"));
    with_scratch_database(&mut tests)
}

/// Runs `command` with `DATABASE_URL` pointing at a throwaway embedded PostgreSQL (or at the given
/// `DATABASE_URL`, when set), stopping the server afterwards whatever the outcome.
fn with_scratch_database(command: &mut Command) -> Result<()> {
    if std::env::var("DATABASE_URL").is_ok() {
        return run(command);
    }
    step("embedded PostgreSQL (throwaway)");
    let data = target_dir().join("cityos-scratch-pg");
    let _ = std::fs::remove_dir_all(&data);
    let server = pg::Postgres::new(data, cityos_stack::free_port()?);
    server.start(true)?;
    let result = run(command.env("DATABASE_URL", server.url("postgres")));
    server.stop();
    result
}

fn bench(args: &[String]) -> Result<()> {
    step("release build");
    let manifest = cityos_stack::Manifest::load()?;
    let mut build = build_subgraphs_args(&manifest, &["build", "--release", "--locked", "--bins"]);
    build.extend(["-p", "cityos-e2e"]);
    run(&mut cargo(&build))?;
    let router = router_binary()?;
    let release = target_dir().join("release");
    let mut bench = Command::new(release.join("bench"));
    bench
        .args(args)
        .env("CITYOS_ROUTER_BIN", &router)
        .env("CITYOS_BIN_DIR", &release)
        .current_dir(root());
    with_scratch_database(&mut bench)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Noted, not fatal: what xtask started is stopped on the way out (see the module docs).
    if let Err(e) = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    }) {
        eprintln!("xtask: cannot watch for Ctrl-C: {e}");
    }
    let result = match args.first().map(String::as_str) {
        Some("up") => stack::up(),
        Some("test") => test(&args[1..]),
        Some("codegen") => {
            let mut c = cargo(&["run", "--quiet", "-p", "codegen", "--"]);
            c.args(&args[1..]);
            run(&mut c)
        }
        Some("router") => router_binary().map(|p| eprintln!("{}", p.display())),
        Some("bench") => bench(&args[1..]),
        Some("structure") => lint::findings().map(|found| {
            for line in found {
                eprintln!("{line}");
            }
        }),
        _ => Err(
            "usage: cargo xtask <up | test [nextest args] | codegen [--check] | router | bench | structure>"

                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        std::process::exit(1);
    }
}
