//! Errors that leave a subgraph as GraphQL errors with a stable `extensions.code`.
//!
//! Business-rule refusals are not errors: they are `userErrors` in a mutation's payload. What is here
//! is for the request itself failing: no credentials, no permission, no tenant, nothing there, input
//! that cannot be parsed, or a fault of ours.

use async_graphql::ErrorExtensions;

/// The stable codes clients switch on. They are part of the public contract: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No valid credentials were presented where they are required, or they were malformed,
    /// expired or wrongly signed.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// The operation needs a tenant and none was selected.
    TenantRequired,
    /// The selected tenant does not exist.
    TenantNotFound,
    /// The selected tenant is suspended.
    TenantSuspended,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// The input could not be accepted as given.
    BadUserInput,
    /// A fault on our side; details are in the logs under the request id.
    Internal,
}

impl ErrorCode {
    /// The wire form used in `extensions.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::TenantRequired => "TENANT_REQUIRED",
            Self::TenantNotFound => "TENANT_NOT_FOUND",
            Self::TenantSuspended => "TENANT_SUSPENDED",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Internal => "INTERNAL",
        }
    }
}

/// A request-level failure with a code and a message safe to show to the caller.
///
/// Deliberately not `Display`: async-graphql converts any `Display` type into an error without
/// `extensions.code`, so the only way out of a resolver is the conversion below, which keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// A human-readable sentence; never contains SQL, stack traces or secrets.
    pub message: String,
}

impl ApiError {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `UNAUTHENTICATED`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// `FORBIDDEN`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// `BAD_USER_INPUT`.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, message)
    }

    /// `TENANT_REQUIRED`.
    pub fn tenant_required() -> Self {
        Self::new(
            ErrorCode::TenantRequired,
            "this operation needs a tenant: send x-tenant, x-publishable-key or a tenant token",
        )
    }

    /// `INTERNAL`, logging the cause once. The caller sees only a generic message; the cause and
    /// the request id (from the current span) are in the logs.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        Self::internal(format_args!("database: {error}"))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        async_graphql::Error::new(error.message)
            .extend_with(|_, ext| ext.set("code", error.code.as_str()))
    }
}

/// Results of resolvers and services.
pub type ApiResult<T> = Result<T, ApiError>;
