//! `cargo xtask up`: the whole stack on this machine, with demo data.

use crate::{Result, cargo, pg, root, router_binary, run, seed, target_dir};
use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `n` random bytes from the kernel, hex-encoded.
pub fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads a secret kept under .data, creating it on first use.
fn kept_secret(path: &Path, bytes: usize) -> Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().to_owned());
    }
    let secret = random_hex(bytes)?;
    std::fs::write(path, &secret)?;
    Ok(secret)
}

/// Child processes that are stopped (SIGTERM, then SIGKILL) when dropped.
struct Processes {
    children: Vec<(String, Child)>,
}

impl Processes {
    fn spawn(&mut self, name: &str, command: &mut Command, log: &Path) -> Result<()> {
        let file = std::fs::File::create(log)?;
        let child = command
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .spawn()?;
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// The name of a process that has exited, if any.
    fn exited(&mut self) -> Option<String> {
        self.children
            .iter_mut()
            .find_map(|(name, child)| child.try_wait().ok().flatten().map(|_| name.clone()))
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in self.children.iter().rev() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, child) in self.children.iter_mut().rev() {
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            if child.try_wait().ok().flatten().is_none() {
                eprintln!("{name} did not stop in time; killing it");
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Waits until `url` answers 200, or fails after `timeout`.
fn wait_ready(url: &str, timeout: Duration, processes: &mut Processes) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ureq::get(url)
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok()
        {
            return Ok(());
        }
        if let Some(name) = processes.exited() {
            return Err(
                format!("{name} exited while starting; see its log under .data/logs").into(),
            );
        }
        if Instant::now() > deadline {
            return Err(format!("{url} was not ready after {timeout:?}").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn up() -> Result<()> {
    let data = root().join(".data");
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let jwt_secret = kept_secret(&data.join("jwt-secret"), 32)?;
    let router_secret = random_hex(32)?;
    let mut demo = seed::Demo::load_or_create(&data.join("demo.json"))?;

    let (server, database_url) = match std::env::var("DATABASE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let port: u16 = std::env::var("CITYOS_PG_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(54329);
            let server = pg::Postgres::new(data.join("postgres"), port);
            if !server.running() {
                eprintln!("starting PostgreSQL on 127.0.0.1:{port} (data in .data/postgres)");
                server.start(false)?;
            }
            server.ensure_database("cityos")?;
            let url = server.url("cityos");
            (Some(server), url)
        }
    };
    let result = serve(
        &data,
        &logs,
        &database_url,
        &jwt_secret,
        &router_secret,
        &mut demo,
    );
    if let Some(server) = server {
        eprintln!("stopping PostgreSQL");
        server.stop();
    }
    result
}

fn serve(
    data: &Path,
    logs: &Path,
    database_url: &str,
    jwt_secret: &str,
    router_secret: &str,
    demo: &mut seed::Demo,
) -> Result<()> {
    eprintln!("building the subgraphs");
    run(&mut cargo(&[
        "build", "--quiet", "--bins", "-p", "identity", "-p", "catalog", "-p", "orders",
    ]))?;
    let router = router_binary()?;
    let bin = target_dir().join("debug");

    let (tx, rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = tx.send(());
    })?;

    let mut processes = Processes {
        children: Vec::new(),
    };
    // In this order: orders runs the catalog's functions, so the catalog migrates first.
    for (name, port) in [("identity", 4001), ("catalog", 4002), ("orders", 4003)] {
        let mut command = Command::new(bin.join(name));
        command
            .env("DATABASE_URL", database_url)
            .env("ROUTER_SECRET", router_secret)
            .env("CITYOS_JWT_SECRET", jwt_secret)
            .env("CITYOS_LISTEN", format!("127.0.0.1:{port}"))
            .env("CITYOS_ADMIN_EMAIL", &demo.platform_admin.email)
            .env("CITYOS_ADMIN_PASSWORD", &demo.platform_admin.password);
        processes.spawn(name, &mut command, &logs.join(format!("{name}.log")))?;
        wait_ready(
            &format!("http://127.0.0.1:{port}/ready"),
            Duration::from_secs(60),
            &mut processes,
        )?;
    }
    let mut command = Command::new(&router);
    command
        .current_dir(root())
        .args([
            "--supergraph",
            "supergraph.graphql",
            "--config",
            "router-config/router.yaml",
        ])
        .env("ROUTER_SECRET", router_secret)
        .env("APOLLO_TELEMETRY_DISABLED", "true");
    processes.spawn("router", &mut command, &logs.join("router.log"))?;
    wait_ready(
        "http://127.0.0.1:8088/health?ready",
        Duration::from_secs(60),
        &mut processes,
    )?;

    let endpoint = "http://127.0.0.1:4000/graphql";
    seed::seed(endpoint, demo)?;
    demo.save(&data.join("demo.json"))?;
    print_banner(endpoint, demo, logs);

    loop {
        if rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            eprintln!("\nstopping");
            return Ok(());
        }
        if let Some(name) = processes.exited() {
            return Err(format!("{name} exited; see .data/logs/{name}.log").into());
        }
    }
}

fn print_banner(endpoint: &str, demo: &seed::Demo, logs: &Path) {
    let key = demo.publishable_key.as_deref().unwrap_or("(none)");
    let lines = [
        String::new(),
        "CityOS Commerce is up".to_owned(),
        format!("  GraphQL endpoint   {endpoint}"),
        format!("  platform admin     {} / {}", demo.platform_admin.email, demo.platform_admin.password),
        format!("  tenant `dakkah`    admin {} / {}", demo.tenant_admin.email, demo.tenant_admin.password),
        format!("                     customer {} / {}", demo.customer.email, demo.customer.password),
        format!("  publishable key    {key}"),
        format!("  logs               {}", logs.display()),
        format!("  try: curl -s {endpoint} -H 'content-type: application/json' -H 'x-publishable-key: {key}' \\"),
        "         -d '{\"query\":\"{ products(first: 5) { totalCount edges { node { title handle } } } }\"}'".to_owned(),
        "  Ctrl-C stops everything.".to_owned(),
    ];
    for line in lines {
        eprintln!("{line}");
    }
}
