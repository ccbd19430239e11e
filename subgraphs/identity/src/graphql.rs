//! Identity's GraphQL API: the root query and mutation types, merged from each domain's
//! (`<domain>/graphql.rs`).

use crate::api_keys::graphql::{ApiKeyMutation, ApiKeyQuery};
use crate::audit::graphql::AuditQuery;
use crate::onboarding::graphql::OnboardingMutation;
use crate::operations::graphql::{OperationsMutation, OperationsQuery};
use crate::sessions::graphql::SessionMutation;
use crate::tenants::graphql::{TenantMutation, TenantQuery};
use crate::users::graphql::{UserMutation, UserQuery};
use async_graphql::MergedObject;

pub use crate::scope::IdentityLoader;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    UserQuery,
    TenantQuery,
    ApiKeyQuery,
    AuditQuery,
    OperationsQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
pub struct Mutation(
    OnboardingMutation,
    TenantMutation,
    UserMutation,
    SessionMutation,
    ApiKeyMutation,
    OperationsMutation,
);
