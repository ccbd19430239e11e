//! The codes of identity's `userErrors`.

cityos_core::error_codes! {
    /// Why an identity mutation was refused. Stable: clients switch on these.
    pub enum IdentityErrorCode => IdentityUserError {
        /// The name is empty or longer than allowed.
        InvalidName,
        /// The slug is not lower-case letters, digits and inner hyphens (1-63 characters).
        InvalidSlug,
        /// Another tenant already has this slug.
        SlugTaken,
        /// A locale is not a well-formed language tag, or the default locale is not supported.
        InvalidLocale,
        /// The time zone is not an IANA time zone name.
        InvalidTimezone,
        /// The email address is not well formed.
        InvalidEmail,
        /// An account with this email already exists in this tenant.
        EmailTaken,
        /// The password is shorter than 8 or longer than 128 characters.
        WeakPassword,
        /// The email or password is incorrect (the same answer for both).
        InvalidCredentials,
        /// The refresh token is unknown, expired, revoked or already used.
        InvalidRefreshToken,
        /// The role cannot be given this way.
        InvalidRole,
        /// The host name is not a valid domain name.
        InvalidHost,
        /// Another tenant already uses this host name.
        HostTaken,
        /// The API key was already revoked.
        AlreadyRevoked,
    }
}

/// The outcome of an identity mutation.
pub type Outcome<T> = cityos_core::Outcome<T, IdentityErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<IdentityErrorCode>;
