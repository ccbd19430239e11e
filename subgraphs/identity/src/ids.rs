//! The identity subgraph's ids. Tenants', users' and API keys' are `cityos_core`'s, since every
//! request's context carries them; they are re-exported here so the subgraph names all its ids
//! from one place.

pub use cityos_core::ids::{ApiKeyId, TenantId, UserId};

cityos_core::ids! {
    /// A host name a tenant is served on.
    TenantDomainId = "TenantDomain",
    /// One refresh token of a sign-in.
    RefreshTokenId = "RefreshToken",
    /// A chain of rotated refresh tokens: one sign-in session.
    SessionFamilyId = "Session",
    /// An entry of the audit trail.
    AuditEntryId = "AuditEntry",
}
