//! Opaque secrets: refresh tokens, API keys and wishlist share links.
//!
//! A secret is `<prefix>_<tenant id, 32 hex>_<32 random bytes, base64url>`. The tenant id in the
//! clear lets a server select the tenant (and its row-level security scope) before looking the
//! secret up; the random part carries 256 bits, so the stored SHA-256 digest is enough (a slow
//! password hash would add nothing to a secret that cannot be guessed). The lookup is by digest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cityos_core::ids::TenantId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a secret is for; its prefix says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A refresh token (`rt`).
    RefreshToken,
    /// A publishable API key for storefronts (`pk`).
    PublishableKey,
    /// A secret API key for servers (`sk`).
    SecretKey,
    /// The link token of a shared wishlist (`wl`): whoever has it may read that list.
    WishlistShare,
    /// An invitation to a vendor's team (`vi`): whoever signs in with its address may accept it.
    VendorInvitation,
    /// An invitation to a B2B company (`ci`): whoever signs in with its address may accept it.
    CompanyInvitation,
}

impl SecretKind {
    const fn prefix(self) -> &'static str {
        match self {
            Self::RefreshToken => "rt",
            Self::PublishableKey => "pk",
            Self::SecretKey => "sk",
            Self::WishlistShare => "wl",
            Self::VendorInvitation => "vi",
            Self::CompanyInvitation => "ci",
        }
    }
}

/// A freshly generated secret: shown once, stored only as its digest.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// The full secret to hand to the client.
    pub token: String,
    /// SHA-256 of the token, to store.
    pub digest: Vec<u8>,
}

/// Generates a secret of `kind` for `tenant`.
pub fn generate(kind: SecretKind, tenant: TenantId) -> NewSecret {
    let mut random = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let token = format!(
        "{}_{}_{}",
        kind.prefix(),
        tenant.uuid().simple(),
        URL_SAFE_NO_PAD.encode(random)
    );
    let digest = digest(&token);
    NewSecret { token, digest }
}

/// The stored digest of a secret.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The tenant named by a well-formed secret of `kind`, or `None` for anything else.
pub fn tenant_of(kind: SecretKind, token: &str) -> Option<TenantId> {
    let rest = token.strip_prefix(kind.prefix())?.strip_prefix('_')?;
    let (tenant, random) = rest.split_once('_')?;
    if tenant.len() != 32 || random.len() != 43 {
        return None;
    }
    Uuid::try_parse(tenant).ok().map(TenantId::from_uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_name_their_tenant_and_kind() {
        let tenant = TenantId::new();
        let s = generate(SecretKind::PublishableKey, tenant);
        assert!(s.token.starts_with("pk_"));
        assert_eq!(
            tenant_of(SecretKind::PublishableKey, &s.token),
            Some(tenant)
        );
        assert_eq!(tenant_of(SecretKind::SecretKey, &s.token), None);
        assert_eq!(s.digest, digest(&s.token));
        assert_ne!(generate(SecretKind::PublishableKey, tenant).token, s.token);
    }

    #[test]
    fn malformed_secrets_name_no_tenant() {
        for bad in [
            "",
            "pk_",
            "pk_nothex_abc",
            "rt_00000000000000000000000000000000_short",
        ] {
            assert_eq!(tenant_of(SecretKind::RefreshToken, bad), None);
            assert_eq!(tenant_of(SecretKind::PublishableKey, bad), None);
        }
    }
}
