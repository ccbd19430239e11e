//! Short-lived access tokens: compact JWS with HS256 (RFC 7515/7519).
//!
//! Only `{"alg":"HS256","typ":"JWT"}` is accepted; the header is compared byte for byte, so `alg:
//! none` and algorithm confusion cannot happen. Signatures are compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityos_core::Role;
use cityos_core::ids::{TenantId, UserId};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The only header we issue or accept, already base64url-encoded.
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// How long an access token lives.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;

/// What an access token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: UserId,
    /// The tenant the token was issued in (the platform tenant for platform admins).
    pub tid: TenantId,
    /// Roles in that tenant, in their wire form.
    pub roles: Vec<String>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
}

impl AccessClaims {
    /// The roles this platform knows; unknown strings are dropped.
    pub fn roles(&self) -> Vec<Role> {
        self.roles.iter().filter_map(|r| Role::parse(r)).collect()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of ours: wrong shape, wrong header or unreadable claims.
    #[error("malformed access token")]
    Malformed,
    /// The signature does not match.
    #[error("access token signature is invalid")]
    BadSignature,
    /// The token is past its expiry.
    #[error("access token has expired")]
    Expired,
}

/// The key access tokens are signed and verified with.
#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

/// The signing secret is too short to be safe.
#[derive(Debug, thiserror::Error)]
#[error("the token signing secret must be at least 32 bytes")]
pub struct WeakSecret;

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, WeakSecret> {
        let secret = secret.into();
        if secret.len() < 32 {
            return Err(WeakSecret);
        }
        Ok(Self { secret })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        HmacSha256::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// Signs `claims` into a compact token.
    pub fn issue(&self, claims: &AccessClaims) -> String {
        // Serializing a struct of strings and numbers cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!("{HEADER_B64}.{}", URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// Verifies a token's header, signature and expiry at `now` (seconds since the epoch).
    pub fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if header != HEADER_B64 {
            return Err(TokenError::Malformed);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: AccessClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![7u8; 32]).unwrap()
    }

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            sub: UserId::new(),
            tid: TenantId::new(),
            roles: vec!["CUSTOMER".into()],
            iat: 0,
            exp,
        }
    }

    #[test]
    fn header_constant_is_the_hs256_header() {
        assert_eq!(
            URL_SAFE_NO_PAD.decode(HEADER_B64).unwrap(),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
    }

    #[test]
    fn issued_tokens_verify() {
        let c = claims(100);
        assert_eq!(keys().verify(&keys().issue(&c), 99).unwrap(), c);
        assert_eq!(c.roles(), vec![Role::Customer]);
    }

    #[test]
    fn expired_tampered_foreign_and_garbage_tokens_are_refused() {
        let token = keys().issue(&claims(100));
        assert_eq!(keys().verify(&token, 100), Err(TokenError::Expired));
        let other = TokenKeys::new(vec![8u8; 32]).unwrap();
        assert_eq!(other.verify(&token, 0), Err(TokenError::BadSignature));
        let mut forged: Vec<&str> = token.split('.').collect();
        let evil = URL_SAFE_NO_PAD.encode(br#"{"sub":"00000000-0000-0000-0000-000000000000"}"#);
        forged[1] = &evil;
        assert_eq!(
            keys().verify(&forged.join("."), 0),
            Err(TokenError::BadSignature)
        );
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            forged[1]
        );
        assert_eq!(keys().verify(&none_alg, 0), Err(TokenError::Malformed));
        assert_eq!(keys().verify("garbage", 0), Err(TokenError::Malformed));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(vec![1u8; 31]).is_err());
    }
}
