//! `vendors [serve|migrate]`

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cityos_server::run::<vendors::Vendors>().await
}
