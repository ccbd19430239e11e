//! `cargo xtask up`: the whole stack on this machine, with demo data.

use crate::{Result, cargo, demo, pg, root, router_binary, run, target_dir};
use cityos_stack::{Manifest, Supervisor};
use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

pub fn up() -> Result<()> {
    let data = root().join(".data");
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let jwt_secret = kept_secret(&data.join("jwt-secret"), 32)?;
    let events_secret = kept_secret(&data.join("events-secret"), 32)?;
    let router_secret = random_hex(32)?;
    let mut demo = demo::Demo::load_or_create(&data.join("demo.json"))?;

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
        &events_secret,
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
    events_secret: &str,
    router_secret: &str,
    demo: &mut demo::Demo,
) -> Result<()> {
    let manifest = Manifest::load()?;
    eprintln!("building the subgraphs and the seed");
    let mut build = crate::build_subgraphs_args(&manifest, &["build", "--quiet", "--bins"]);
    build.extend([
        "-p",
        "cityos-e2e",
        "--bin",
        "seed",
        "--bin",
        "stripe-double",
    ]);
    run(&mut cargo(&build))?;
    let router = router_binary()?;
    let bin = target_dir().join("debug");

    let mut processes = Supervisor::new(logs)?;
    // Without a Stripe key of its own, the demo pays and is paid through the local Stripe double.
    let stripe: Option<(String, String)> = match std::env::var("STRIPE_SECRET_KEY") {
        Ok(key) if !key.is_empty() => None,
        _ => {
            let mut command = Command::new(bin.join("stripe-double"));
            command.args(["--listen", &format!("127.0.0.1:{STRIPE_DOUBLE_PORT}")]);
            processes.spawn("stripe-double", &mut command)?;
            processes.wait_ready(
                "stripe-double",
                STRIPE_DOUBLE_PORT,
                "/health",
                Duration::from_secs(10),
            )?;
            Some((
                format!("http://127.0.0.1:{STRIPE_DOUBLE_PORT}"),
                "sk_test_double".to_owned(),
            ))
        }
    };
    // In the manifest's order: a subgraph starts (and migrates) after those it depends on.
    for subgraph in &manifest.subgraphs {
        let (name, port) = (subgraph.name.as_str(), subgraph.port);
        let mut command = Command::new(bin.join(name));
        command
            .env("DATABASE_URL", database_url)
            .env("ROUTER_SECRET", router_secret)
            .env("CITYOS_JWT_SECRET", jwt_secret)
            .env("CITYOS_EVENTS_SECRET", events_secret)
            .env("CITYOS_LISTEN", format!("127.0.0.1:{port}"))
            .env("CITYOS_ADMIN_EMAIL", &demo.platform_admin.email)
            .env("CITYOS_ADMIN_PASSWORD", &demo.platform_admin.password);
        if let Some((base, key)) = &stripe {
            command
                .env("STRIPE_API_BASE", base)
                .env("STRIPE_SECRET_KEY", key)
                .env("STRIPE_WEBHOOK_SECRET", "whsec_test_double");
        }
        processes.spawn(name, &mut command)?;
        processes.wait_ready(name, port, "/ready", Duration::from_secs(60))?;
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
    processes.spawn("router", &mut command)?;
    processes.wait_ready("router", 8088, "/health?ready", Duration::from_secs(60))?;

    let endpoint = "http://127.0.0.1:4000/graphql";
    let credentials = data.join("demo.json");
    demo.save(&credentials)?;
    let mut seed = Command::new(bin.join("seed"));
    seed.current_dir(root())
        .args(["--endpoint", endpoint, "--credentials"])
        .arg(&credentials);
    if let Some((base, key)) = &stripe {
        seed.env("STRIPE_API_BASE", base)
            .env("STRIPE_SECRET_KEY", key);
    }
    run(&mut seed)?;
    *demo = demo::Demo::load_or_create(&credentials)?;
    print_banner(
        endpoint,
        demo,
        logs,
        stripe.as_ref().map(|(base, _)| base.as_str()),
    );

    loop {
        if crate::interrupted() {
            eprintln!("\nstopping");
            return Ok(());
        }
        if let Some(name) = processes.exited() {
            return Err(format!("{name} exited; see .data/logs/{name}.log").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Where `xtask up` runs the Stripe double when no `STRIPE_SECRET_KEY` is set.
const STRIPE_DOUBLE_PORT: u16 = 4090;

fn print_banner(endpoint: &str, demo: &demo::Demo, logs: &Path, stripe_double: Option<&str>) {
    let key = demo.publishable_key.as_deref().unwrap_or("(none)");
    let lines = [
        String::new(),
        "CityOS Commerce is up".to_owned(),
        format!("  GraphQL endpoint   {endpoint}"),
        format!("  platform admin     {} / {}", demo.platform_admin.email, demo.platform_admin.password),
        format!("  tenant `dakkah`    admin {} / {}", demo.tenant_admin.email, demo.tenant_admin.password),
        format!("                     customer {} / {}", demo.customer.email, demo.customer.password),
        format!("                     vendor owner {} / {} (Oud House: send x-vendor-id with its id, see `myVendors`)", demo.vendor_owner.email, demo.vendor_owner.password),
        format!("  publishable key    {key}"),
        match stripe_double {
            Some(base) => format!("  Stripe             a local double at {base} (set STRIPE_SECRET_KEY to use Stripe's test mode)"),
            None => "  Stripe             STRIPE_SECRET_KEY's account".to_owned(),
        },
        format!("  logs               {}", logs.display()),
        format!("  try: curl -s {endpoint} -H 'content-type: application/json' -H 'x-publishable-key: {key}' \\"),
        "         -d '{\"query\":\"{ products(first: 5) { totalCount edges { node { title handle } } } }\"}'".to_owned(),
        "  Ctrl-C stops everything.".to_owned(),
    ];
    for line in lines {
        eprintln!("{line}");
    }
}
