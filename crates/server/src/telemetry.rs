//! Logs: JSON lines by default (`CITYOS_LOG_FORMAT=pretty` for people), filtered by `RUST_LOG`
//! (default `info`). Each request runs in a span carrying its request id, so every line it logs
//! can be found by that id.

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
            .with_span_list(false)
            .try_init()
    };
    if result.is_ok() {
        tracing::debug!(service, "logging initialised");
    }
}
