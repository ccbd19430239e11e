//! `seed --endpoint <router URL> --credentials <file>`: loads the demo data through the router
//! (see `cityos_e2e::seed`) with the credentials in `<file>` (JSON: `platformAdmin`, `tenantAdmin`,
//! `customer`, `vendorOwner`, each `{ email, password }`), and writes the storefront's publishable key back into
//! it. `cargo xtask up` runs it; a tenant that exists already is left as it is.

use cityos_e2e::seed::{self, Credentials};
use std::path::PathBuf;

#[tokio::main(flavor = "current_thread")]
async fn main() -> seed::Result<()> {
    let mut endpoint = None;
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--endpoint" => endpoint = args.next(),
            "--credentials" => file = args.next().map(PathBuf::from),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let endpoint = endpoint.ok_or("--endpoint is required")?;
    let file = file.ok_or("--credentials is required")?;
    let mut credentials: Credentials = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
    if seed::seed(&endpoint, &mut credentials).await? {
        std::fs::write(&file, serde_json::to_string_pretty(&credentials)?)?;
    }
    Ok(())
}
