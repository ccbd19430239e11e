//! Mutation outcomes: a business-rule refusal becomes a `userErrors` entry in the payload, a
//! request-level failure becomes a GraphQL error.

use crate::ApiError;

/// A refused business rule: which input field, a stable code, and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError<C> {
    /// Path to the input field at fault (`["input", "email"]`), empty when none is.
    pub field: Vec<String>,
    /// The stable code.
    pub code: C,
    /// What went wrong, for people.
    pub message: String,
}

impl<C> UserError<C> {
    /// A refusal about `input.<field>`, where `field` may be a dotted path (`admin.email`); no field
    /// when `field` is empty.
    pub fn new(field: &str, code: C, message: impl Into<String>) -> Self {
        let field = if field.is_empty() {
            Vec::new()
        } else {
            std::iter::once("input")
                .chain(field.split('.'))
                .map(str::to_owned)
                .collect()
        };
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// Why a mutation did not happen.
#[derive(Debug, Clone)]
pub enum Failure<C> {
    /// A business rule refused it: reported in `userErrors`, nothing changed.
    User(UserError<C>),
    /// The request failed: reported as a GraphQL error.
    Api(ApiError),
}

impl<C> From<ApiError> for Failure<C> {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl<C> From<UserError<C>> for Failure<C> {
    fn from(error: UserError<C>) -> Self {
        Self::User(error)
    }
}

impl<C> From<diesel::result::Error> for Failure<C> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Api(error.into())
    }
}

impl<C> Failure<C> {
    /// A violation of `constraint` (of any kind) becomes the user error `user`; any other database
    /// error is a request failure.
    pub fn on_constraint(
        constraint: &str,
        error: diesel::result::Error,
        user: impl FnOnce() -> UserError<C>,
    ) -> Self {
        if is_constraint_violation(&error, constraint) {
            Self::User(user())
        } else {
            error.into()
        }
    }

    /// A unique-constraint violation on `constraint` becomes the user error `user`; any other
    /// database error is a request failure.
    pub fn on_unique(
        constraint: &str,
        error: diesel::result::Error,
        user: impl FnOnce() -> UserError<C>,
    ) -> Self {
        if is_unique_violation(&error, constraint) {
            Self::User(user())
        } else {
            error.into()
        }
    }
}

/// Whether a diesel error is a violation of the named constraint, of any kind (unique, exclusion,
/// check, foreign key).
pub fn is_constraint_violation(error: &diesel::result::Error, constraint: &str) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info)
        if info.constraint_name() == Some(constraint))
}

/// Whether a diesel error is a unique-constraint violation on the named constraint or index.
pub fn is_unique_violation(error: &diesel::result::Error, constraint: &str) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(error, Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if info.constraint_name() == Some(constraint))
}

/// The result of a mutation's service function.
pub type Outcome<T, C> = Result<T, Failure<C>>;

/// Splits an outcome into the payload's object and user errors, or the GraphQL error.
pub fn into_payload<T, C, E: From<UserError<C>>>(
    outcome: Outcome<T, C>,
) -> Result<(Option<T>, Vec<E>), ApiError> {
    match outcome {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(Failure::User(e)) => Ok((None, vec![e.into()])),
        Err(Failure::Api(e)) => Err(e),
    }
}

/// Declares a subgraph's GraphQL `userErrors` entry type for its error-code enum.
///
/// ```ignore
/// cityos_core::user_error_type!(IdentityUserError, IdentityErrorCode);
/// ```
#[macro_export]
macro_rules! user_error_type {
    ($name:ident, $code:ty) => {
        #[doc = "A business rule that refused the mutation; nothing was changed."]
        #[derive(async_graphql::SimpleObject, Debug, Clone)]
        pub struct $name {
            #[doc = "Path to the input field at fault, e.g. `[\"input\", \"email\"]`; empty when no single field is."]
            pub field: Vec<String>,
            #[doc = "Stable code to switch on."]
            pub code: $code,
            #[doc = "What went wrong, for people."]
            pub message: String,
        }

        impl From<$crate::outcome::UserError<$code>> for $name {
            fn from(e: $crate::outcome::UserError<$code>) -> Self {
                Self { field: e.field, code: e.code, message: e.message }
            }
        }
    };
}
