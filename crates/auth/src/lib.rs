//! Credentials: signed access tokens ([`token`]), argon2id password hashes ([`password`]) and opaque
//! high-entropy secrets such as refresh tokens and API keys ([`secret`]).

pub mod password;
pub mod secret;
pub mod token;

pub use token::{AccessClaims, TokenError, TokenKeys};
