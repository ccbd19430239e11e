//! The codes of the catalog's `userErrors`.

/// Why a catalog mutation was refused. Stable: clients switch on these.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogErrorCode {
    /// The title is empty or longer than 255 characters.
    InvalidTitle,
    /// The handle is not lower-case letters and digits joined by single hyphens (at most 255).
    InvalidHandle,
    /// Another product of this tenant already has this handle.
    HandleTaken,
    /// The description is longer than 100,000 characters.
    InvalidDescription,
    /// The product does not exist.
    NotFound,
}

cityos_core::user_error_type!(CatalogUserError, CatalogErrorCode);

/// The outcome of a catalog mutation.
pub type Outcome<T> = cityos_core::Outcome<T, CatalogErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<CatalogErrorCode>;
