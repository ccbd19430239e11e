//! `identity [serve|migrate|create-platform-admin --email <email>]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("create-platform-admin") => {
            cityos_server::telemetry::init("identity");
            identity::create_platform_admin_command(&args[1..]).await
        }
        _ => cityos_server::run::<identity::Identity>().await,
    }
}
