//! What every identity resolver reads of its request, kept apart from the domains so each of
//! them can use it: the subgraph's one DataLoader (each domain implements its `Loader` key in its
//! own `graphql.rs`), the token keys, and who may see a tenant.

use crate::ids::TenantId;
use async_graphql::Context;
use cityos_auth::TokenKeys;
use cityos_core::{RequestContext, Role};
use cityos_db::Database;

/// Identity's one DataLoader, built per request: tenants of the directory by id, and users of the
/// request's tenant (the platform tenant when none is selected) by id.
pub struct IdentityLoader {
    pub db: Database,
    pub tenant: TenantId,
}

/// The access-token keys.
pub fn keys<'a>(ctx: &Context<'a>) -> &'a TokenKeys {
    ctx.data_unchecked::<TokenKeys>()
}

/// Whether the caller may see `tenant`: its own tenant, or any for a platform admin.
pub fn may_see(ctx: &RequestContext, tenant: TenantId) -> bool {
    ctx.has_role(Role::PlatformAdmin) || ctx.tenant.as_ref().is_some_and(|t| t.id == tenant)
}
