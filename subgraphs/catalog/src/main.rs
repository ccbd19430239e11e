//! `catalog [serve|migrate]`

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cityos_server::run::<catalog::Catalog>().await
}
