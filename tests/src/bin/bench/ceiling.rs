//! The router's ceiling: the same router binary and config in front of a static catalog that
//! answers each subgraph request with the real catalog's recorded response, so the router's own
//! cost for the very same responses is measured in the same run as ours.
//!
//! [`StaticCatalog`] first forwards what the router sends to the real catalog and keeps each
//! answer by the exact request body; after [`StaticCatalog::replay`] it answers from what it kept
//! (a request it never saw is forwarded and counted as a miss).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

struct Recorded {
    upstream: String,
    client: reqwest::Client,
    answers: RwLock<HashMap<Bytes, Bytes>>,
    replaying: AtomicBool,
    misses: AtomicU64,
}

/// A catalog that replays the real one's answers.
pub(crate) struct StaticCatalog {
    url: String,
    state: Arc<Recorded>,
}

impl StaticCatalog {
    /// Starts recording in front of the catalog at `upstream` (its `/graphql`).
    pub(crate) async fn start(upstream: &str) -> Self {
        let state = Arc::new(Recorded {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            answers: RwLock::new(HashMap::new()),
            replaying: AtomicBool::new(false),
            misses: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .route("/graphql", axum::routing::post(answer))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!(
            "http://{}/graphql",
            listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    /// Its GraphQL endpoint.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// From now on, answers from what it recorded.
    pub(crate) fn replay(&self) {
        AtomicBool::store(&self.state.replaying, true, Ordering::SeqCst);
    }

    /// Distinct requests recorded.
    pub(crate) fn recorded(&self) -> usize {
        self.state
            .answers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Requests it had not recorded while replaying.
    pub(crate) fn misses(&self) -> u64 {
        AtomicU64::load(&self.state.misses, Ordering::Relaxed)
    }
}

fn json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn answer(State(state): State<Arc<Recorded>>, headers: HeaderMap, body: Bytes) -> Response {
    let replaying = AtomicBool::load(&state.replaying, Ordering::Relaxed);
    if replaying {
        let kept = state
            .answers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&body)
            .cloned();
        if let Some(kept) = kept {
            return json(kept);
        }
        AtomicU64::fetch_add(&state.misses, 1, Ordering::Relaxed);
    }
    let mut forward = state.client.post(&state.upstream).body(body.clone());
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            forward = forward.header(name, value);
        }
    }
    let Ok(response) = forward.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let ok = response.status().is_success();
    let Ok(answer) = response.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    if ok && !replaying {
        state
            .answers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(body, answer.clone());
    }
    json(answer)
}
