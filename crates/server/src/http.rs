//! HTTP routes: `POST /graphql`, `GET /health`, `GET /ready`.
//!
//! `POST /graphql` checks the router's secret, builds the request context, answers from the
//! response cache when the subgraph has one and it holds a current answer ([`crate::cache`]), and
//! otherwise parses and runs the request (and keeps a cacheable answer; after a mutation, drops
//! its tenant's answers before responding). Answers served from the cache are counted by
//! `cityos_response_cache_lookups_total`, not by the request histogram.

use crate::cache::ResponseCache;
use crate::{ContextResolver, Platform, Subgraph};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cityos_core::{Actor, ApiError, ErrorCode};
use std::sync::Arc;
use subtle::ConstantTimeEq as _;
use tracing::Instrument as _;

/// The header carrying the router's shared secret.
pub const ROUTER_SECRET_HEADER: &str = "router-authorization";

/// Everything `POST /graphql` needs.
pub struct GraphqlEndpoint<S: Subgraph> {
    schema: S::Schema,
    platform: Platform,
    resolver: ContextResolver,
    router_secret: String,
    cache: Option<Arc<ResponseCache>>,
}

impl<S: Subgraph> GraphqlEndpoint<S> {
    /// An endpoint serving `schema`, accepting only callers that present `router_secret`.
    pub fn new(
        schema: S::Schema,
        platform: Platform,
        resolver: ContextResolver,
        router_secret: String,
    ) -> Self {
        Self {
            schema,
            platform,
            resolver,
            router_secret,
            cache: None,
        }
    }

    /// The same endpoint, keeping storefront answers in `cache` (whose listener the caller runs).
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<ResponseCache>) -> Self {
        self.cache = Some(cache);
        self
    }
}

/// The type of the operation a request runs, if its document parses and names one.
fn operation_type(request: &mut async_graphql::Request) -> Option<OperationType> {
    let name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    let operation = match &document.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(ops) => name
            .as_deref()
            .and_then(|n| ops.get(&async_graphql::Name::new(n))),
    };
    operation.map(|op| op.node.ty)
}

fn json_body(body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.into()).into_response()
}

/// The axum application of a subgraph.
pub fn app<S: Subgraph>(endpoint: Arc<GraphqlEndpoint<S>>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/graphql", post(graphql::<S>))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready::<S>))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(endpoint)
}

fn error_body(status: StatusCode, error: &ApiError) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": error.message, "extensions": { "code": error.code.as_str() } }],
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn ready<S: Subgraph>(State(endpoint): State<Arc<GraphqlEndpoint<S>>>) -> Response {
    if endpoint.platform.db.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

async fn graphql<S: Subgraph>(
    State(endpoint): State<Arc<GraphqlEndpoint<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let presented = headers
        .get(ROUTER_SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(presented.ct_eq(endpoint.router_secret.as_bytes())) {
        let error = ApiError::forbidden("subgraphs are reachable only through the router");
        return error_body(StatusCode::FORBIDDEN, &error);
    }

    let request_id = crate::context::request_id(&headers);
    let span = tracing::info_span!("graphql", subgraph = S::NAME, request_id = %request_id, tenant.id = tracing::field::Empty, operation = tracing::field::Empty);
    async move {
        let ctx = match endpoint.resolver.resolve(&headers, request_id).await {
            Ok(ctx) => ctx,
            Err(error) => {
                let status = if error.code == ErrorCode::Internal {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                };
                return error_body(status, &error);
            }
        };
        if let Some(tenant) = &ctx.tenant {
            tracing::Span::current().record("tenant.id", tracing::field::display(tenant.id));
        }
        let db = &endpoint.platform.db;
        let cached = endpoint
            .cache
            .as_ref()
            .and_then(|cache| Some((cache, cache.key(&ctx, &body)?)));
        if let Some((cache, key)) = &cached
            && let Some(answer) = cache.get(key).await
        {
            tracing::debug!("graphql request answered from the response cache");
            return json_body(answer);
        }
        let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(e) => {
                let error = ApiError::bad_input(format!("the body is not a GraphQL request: {e}"));
                return error_body(StatusCode::BAD_REQUEST, &error);
            }
        };
        let operation = request.operation_name.clone();
        if let Some(name) = &operation {
            tracing::Span::current().record("operation", name.as_str());
        }
        // What the answer is checked against is read before anything else, so a change the
        // answer might miss makes it stale. A signed-in caller's (or a secret key's) mutation
        // drops its tenant's answers before it responds, ahead of the change's notification.
        let tenant = ctx.tenant.as_ref().map(|t| t.id);
        let kind = match &endpoint.cache {
            Some(_) => operation_type(&mut request),
            None => None,
        };
        let signed_in = matches!(ctx.actor, Actor::User { .. } | Actor::Service { .. });
        let changes = match (&endpoint.cache, tenant, kind) {
            (Some(cache), Some(tenant), Some(OperationType::Mutation)) if signed_in => {
                Some((cache, tenant))
            }
            _ => None,
        };
        let fill = match (&cached, tenant, kind) {
            (Some((cache, _)), Some(tenant), Some(OperationType::Query)) => {
                cache.begin(db, tenant).await
            }
            _ => None,
        };
        let request = crate::request_data::<S>(request, ctx, &endpoint.platform);
        let started = std::time::Instant::now();
        let response = crate::execute(&endpoint.schema, request).await;
        let took = started.elapsed();
        if let Some((cache, tenant)) = changes
            && response.errors.is_empty()
        {
            cache.invalidate(tenant);
        }
        crate::metrics::graphql_request(
            S::NAME,
            operation.as_deref(),
            response.errors.is_empty(),
            took,
        );
        tracing::debug!(
            elapsed_us = took.as_micros(),
            errors = response.errors.len(),
            "graphql request"
        );
        match serde_json::to_vec(&response) {
            Ok(json) => {
                let json = Bytes::from(json);
                if let (Some((cache, key)), Some(fill)) = (cached, fill)
                    && response.errors.is_empty()
                {
                    cache.put(key, fill, json.clone());
                }
                json_body(json)
            }
            Err(e) => error_body(StatusCode::INTERNAL_SERVER_ERROR, &ApiError::internal(e)),
        }
    }
    .instrument(span)
    .await
}
