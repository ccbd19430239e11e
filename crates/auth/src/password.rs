//! Password hashing with argon2id (the crate's defaults are OWASP's recommended parameters).
//!
//! Hashing is deliberately slow, so it runs on the blocking pool, never on the async runtime.
//! Checking a password for an unknown user verifies against a dummy hash, so the answer takes
//! the same time whether or not the account exists.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (bounds hashing work).
pub const MAX_PASSWORD_LEN: usize = 128;

/// Why a password was refused before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    /// Fewer than [`MIN_PASSWORD_LEN`] characters.
    #[error("password must have at least 8 characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_LEN`] characters.
    #[error("password must have at most 128 characters")]
    TooLong,
}

/// Checks the length policy.
pub fn check_policy(password: &str) -> Result<(), WeakPassword> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_LEN => Err(WeakPassword::TooShort),
        n if n > MAX_PASSWORD_LEN => Err(WeakPassword::TooLong),
        _ => Ok(()),
    }
}

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Only fails for parameters out of range, and the defaults are in range.
        .unwrap_or_else(|e| unreachable!("argon2 defaults are valid: {e}"))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("not a password anyone has"))
}

/// Hashes a password (PHC string format) off the async runtime.
pub async fn hash(password: String) -> String {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| hash_blocking(&password)))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Checks `password` against `stored` (or against a dummy hash when there is no such user), off
/// the async runtime. True only for a real match.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let exists = stored.is_some();
            let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let ok = PasswordHash::new(&phc)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            exists && ok
        })
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse".into()).await;
        let b = hash("correct horse".into()).await;
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(Some(a.clone()), "correct horse".into()).await);
        assert!(!verify(Some(a), "wrong horse".into()).await);
        assert!(!verify(None, "not a password anyone has".into()).await);
    }

    #[test]
    fn policy_bounds_length() {
        assert_eq!(check_policy("short"), Err(WeakPassword::TooShort));
        assert_eq!(check_policy(&"x".repeat(129)), Err(WeakPassword::TooLong));
        assert!(check_policy("long enough").is_ok());
    }
}
