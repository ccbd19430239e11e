//! The one GraphQL client of the project's tests and tools: the end-to-end tests, the benchmark and
//! the demo seed all speak to the router (or one subgraph) through it.
//!
//! A [`Client`] is an endpoint plus the headers of one caller (`client.tenant("dakkah")
//! .bearer(&token)`); it sends a query as text or a named [`Operation`]. The operations live in
//! each subgraph's `operations.graphql`; `cargo xtask codegen` validates them against the composed
//! schema and writes them into [`operations`] as constants (`operations::catalog::PRODUCT_CREATE`),
//! so a renamed field fails the codegen check and a misspelt operation fails to compile.
//!
//! [`Response::data`] is for tests (it panics on errors, printing the body); [`Response::ok`] is
//! for tools (errors and the payload's `userErrors` become an [`Error`]).

pub mod operations;

use serde_json::{Value, json};

/// A named operation of a subgraph's `operations.graphql`, as codegen printed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// Its name (`ProductCreate`).
    pub name: &'static str,
    /// The document: this one operation.
    pub text: &'static str,
}

/// The operation called `name`, from any subgraph's `operations.graphql`.
pub fn operation(name: &str) -> Option<Operation> {
    operations::ALL.iter().find(|o| o.name == name).copied()
}

/// Why a request did not answer with data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not get a response.
    #[error("POST {url}: {source}")]
    Http {
        /// The endpoint.
        url: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// The response has GraphQL errors.
    #[error("GraphQL errors (HTTP {status}): {errors}")]
    Errors {
        /// The HTTP status.
        status: u16,
        /// The `errors` array.
        errors: Value,
    },
    /// The mutation's payload refused the input.
    #[error("refused: {0}")]
    Refused(Value),
}

/// A GraphQL endpoint and the headers of one caller. Cloning is cheap (one connection pool).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
}

impl Client {
    /// A client of `url` with a connection pool of its own.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_pool(reqwest::Client::new(), url)
    }

    /// A client of `url` on an existing connection pool.
    pub fn with_pool(http: reqwest::Client, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
            headers: Vec::new(),
        }
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The same endpoint at another `url` (a subgraph behind the router), with these headers.
    pub fn at(&self, url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..self.clone()
        }
    }

    /// This client with one more header on every request.
    pub fn header(&self, name: &str, value: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.headers.push((name.to_owned(), value.into()));
        next
    }

    /// Selects a tenant by slug (`x-tenant`).
    pub fn tenant(&self, slug: &str) -> Self {
        self.header("x-tenant", slug)
    }

    /// Acts with an access token (`authorization: Bearer ..`).
    pub fn bearer(&self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Acts as a storefront with a publishable key (`x-publishable-key`).
    pub fn publishable_key(&self, key: &str) -> Self {
        self.header("x-publishable-key", key)
    }

    /// Posts a raw body, with `extra` headers besides the client's.
    pub async fn post(&self, extra: &[(&str, &str)], body: String) -> Result<Response, Error> {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let failed = |source| Error::Http {
            url: self.url.clone(),
            source,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(failed)?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Response { status, body })
    }

    /// Sends `query` with `variables`.
    pub async fn send(&self, query: &str, variables: Value) -> Result<Response, Error> {
        self.post(&[], query_body(query, variables)).await
    }

    /// Signs in with `email` and `password` (in the tenant this client selects, if any) and
    /// returns this client acting with the access token.
    pub async fn signed_in(&self, email: &str, password: &str) -> Result<Self, Error> {
        let signed = self
            .run(
                operations::identity::SIGN_IN,
                json!({ "input": { "email": email, "password": password } }),
            )
            .await?
            .ok()?;
        match signed["accessToken"].as_str() {
            Some(token) => Ok(self.bearer(token)),
            None => Err(Error::Refused(signed)),
        }
    }

    /// Sends a named operation with `variables`.
    pub async fn run(&self, operation: Operation, variables: Value) -> Result<Response, Error> {
        let body = json!({
            "query": operation.text,
            "operationName": operation.name,
            "variables": variables,
        });
        self.post(&[], body.to_string()).await
    }
}

/// The body of a request for `query` with `variables`.
pub fn query_body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

/// The body of a request for `operation` with `variables`, for tools that post it many times.
pub fn body(operation: Operation, variables: Value) -> String {
    json!({ "query": operation.text, "operationName": operation.name, "variables": variables })
        .to_string()
}

/// A GraphQL response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, parsed (a string when it was not JSON).
    pub body: Value,
}

impl Response {
    /// `data`, panicking with the body when there are errors (for tests).
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// The payload of the one root field (`data.productCreate`), for tools: an error when the
    /// response has errors or the payload has `userErrors`.
    pub fn ok(self) -> Result<Value, Error> {
        if let Some(errors) = self.body.get("errors") {
            return Err(Error::Errors {
                status: self.status,
                errors: errors.clone(),
            });
        }
        let payload = self.body["data"]
            .as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or(Value::Null);
        match payload.get("userErrors").and_then(Value::as_array) {
            Some(refusals) if !refusals.is_empty() => {
                Err(Error::Refused(payload["userErrors"].clone()))
            }
            _ => Ok(payload),
        }
    }
}
