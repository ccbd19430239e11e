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
    /// The request failure this is, where a refusal cannot be the caller's to fix (a job, an
    /// event, another subgraph's api called with facts already checked): a user error becomes an
    /// internal error carrying its message.
    pub fn into_api(self) -> ApiError {
        match self {
            Self::Api(e) => e,
            Self::User(e) => ApiError::internal(e.message),
        }
    }

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

/// The codes every subgraph's error-code enum has (declared by [`error_codes!`](crate::error_codes)),
/// so the kit can refuse on any domain's behalf: a lifecycle's refused change (`states!`'s
/// `require`), a text that does not parse, an unknown currency, a missing object.
pub trait CommonCode: Sized {
    /// The object named does not exist in this tenant, or the caller may not see it.
    const NOT_FOUND: Self;
    /// A text is empty, too long or holds a character it may not.
    const INVALID_TEXT: Self;
    /// The object's lifecycle does not allow the change from its current status.
    const INVALID_TRANSITION: Self;
    /// A currency is not a supported ISO 4217 code.
    const UNKNOWN_CURRENCY: Self;
}

impl<C: CommonCode> UserError<C> {
    /// `NOT_FOUND` about `input.<field>`: `what` names the missing object ("no such category").
    pub fn not_found(field: &str, what: impl Into<String>) -> Self {
        Self::new(field, C::NOT_FOUND, what)
    }

    /// `INVALID_TEXT` about `input.<field>`, with the text type's own message.
    pub fn invalid_text(field: &str, error: &crate::text::TextError, what: &str) -> Self {
        Self::new(field, C::INVALID_TEXT, error.message(what))
    }

    /// `UNKNOWN_CURRENCY` about `input.<field>`.
    pub fn unknown_currency(field: &str, error: &crate::money::UnknownCurrency) -> Self {
        Self::new(field, C::UNKNOWN_CURRENCY, error.to_string())
    }
}

/// Declares a subgraph's error-code enum and its `userErrors` entry type: the common codes every
/// subgraph has ([`CommonCode`], listed first, documented once here) and the subgraph's own, each
/// with its description. Clients switch on the codes, so they are stable once published.
///
/// ```ignore
/// cityos_core::error_codes! {
///     /// Why a catalog mutation was refused. Stable: clients switch on these.
///     pub enum CatalogErrorCode => CatalogUserError {
///         /// The title is empty or longer than 255 characters.
///         InvalidTitle,
///     }
/// }
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident => $user:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            /// The object named does not exist in this tenant, or the caller may not see it.
            NotFound,
            /// A text is empty, too long or holds a character it may not (a control character).
            InvalidText,
            /// The object's lifecycle does not allow this change from its current status.
            InvalidTransition,
            /// A currency is not a supported ISO 4217 code.
            UnknownCurrency,
            $( $(#[$vmeta])* $variant ),*
        }

        impl $crate::outcome::CommonCode for $name {
            const NOT_FOUND: Self = Self::NotFound;
            const INVALID_TEXT: Self = Self::InvalidText;
            const INVALID_TRANSITION: Self = Self::InvalidTransition;
            const UNKNOWN_CURRENCY: Self = Self::UnknownCurrency;
        }

        $crate::user_error_type!($user, $name);
    };
}

/// Declares a mutation's payload: its objects (each null when the mutation was refused) and its
/// `userErrors`, with [`of`](#method.of) turning the service's outcome into it. A payload of one
/// object takes an `Outcome<T>`, of several an `Outcome<(A, B)>` in field order.
///
/// ```ignore
/// cityos_core::payload! {
///     /// The result of `productCreate` and `productUpdate`.
///     ProductPayload<CatalogUserError> {
///         /// The product as saved; null when refused.
///         product: Product,
///     }
/// }
/// Ok(ProductPayload::of(products::create(db, rc, new).await)?)
/// ```
#[macro_export]
macro_rules! payload {
    (
        $(#[$meta:meta])*
        $name:ident<$user:ty> {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),+ $(,)?
        }
    ) => {
        #[derive(async_graphql::SimpleObject)]
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: Option<$ty>, )+

            #[doc = "Why it was refused; empty on success."]
            pub user_errors: Vec<$user>,
        }

        impl $name {
            /// The payload of a service's outcome: its objects, or the user error that refused
            /// it; a request-level failure is returned as the GraphQL error.
            pub fn of<C>(
                outcome: $crate::Outcome<( $($ty),+ ), C>,
            ) -> ::std::result::Result<Self, $crate::ApiError>
            where
                $user: From<$crate::UserError<C>>,
            {
                match outcome {
                    Ok(( $($field),+ )) => Ok(Self {
                        $( $field: Some($field), )+
                        user_errors: Vec::new(),
                    }),
                    Err($crate::Failure::User(e)) => Ok(Self {
                        $( $field: None, )+
                        user_errors: vec![e.into()],
                    }),
                    Err($crate::Failure::Api(e)) => Err(e),
                }
            }
        }
    };
}

/// Declares a subgraph's GraphQL `userErrors` entry type for its error-code enum (`error_codes!`
/// calls it).
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
