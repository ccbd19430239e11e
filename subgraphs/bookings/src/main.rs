//! `bookings [serve|migrate]`

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cityos_server::run::<bookings::Bookings>().await
}
