//! Identifiers: UUID v7, so primary keys are time-ordered and index-friendly.

use crate::ApiError;
use uuid::Uuid;

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Parses a GraphQL `ID` argument, refusing anything that is not a UUID with `BAD_USER_INPUT`.
pub fn parse_id(id: &async_graphql::ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_input(format!("`{}` is not a valid id", id.as_str())))
}

/// The GraphQL `ID` of a UUID.
pub fn to_id(id: Uuid) -> async_graphql::ID {
    async_graphql::ID(id.to_string())
}
