//! Logs: JSON lines by default (`CITYOS_LOG_FORMAT=pretty` for people), filtered by `RUST_LOG`
//! (default `info`). Work runs in spans with fixed names and named fields: each GraphQL request
//! (`graphql`: `request_id`, `tenant.id`, `operation`), each received event (`event`), each job run
//! (`job`), and the service functions they call (`checkout.complete`, `refund.execute`, ...). A JSON
//! line carries its current span (`span`) and every span it is inside (`spans`), so a line deep in
//! checkout still has the request id.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("CITYOS_LOG_FORMAT").is_ok_and(|v| v == "pretty");
    let result = if pretty {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .try_init()
    } else {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(true)
            .try_init()
    };
    if result.is_ok() {
        tracing::debug!(service, "logging initialised");
    }
}
