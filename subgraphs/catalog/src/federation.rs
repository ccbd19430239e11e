//! The entities of other subgraphs that the catalog extends or points at, in one place: identity's
//! `Tenant` and `User` (a group member), and the marketplace's `Vendor`, with the resolvers of their
//! references. Their `products` fields are the product listing's, in `search::graphql`.

use async_graphql::{ID, Object, SimpleObject};

// Owned by the identity subgraph; the catalog only adds `products`. The description matches the
// owner's, so composition keeps one text.
/// A tenant: a city, brand or organisation with its own catalog, customers and staff.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Tenant {
    /// The tenant's id.
    pub id: ID,
}

// Owned by the identity subgraph; the catalog only points at it. The description matches the
// owner's, so composition keeps one text.
/// A person with an account: a customer, a staff member or a platform admin.
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct User {
    /// The user's id.
    pub id: ID,
}

// Owned by the vendors subgraph; the catalog adds `products` (whose `totalCount` is the vendor's
// product count). The description matches the owner's.
/// A marketplace vendor: a seller on the tenant's marketplace.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Vendor {
    /// The vendor's id.
    pub id: ID,
}

/// Resolves the references to other subgraphs' entities that the catalog extends.
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// Resolves `Tenant` references, to add their products.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, id: ID) -> Tenant {
        Tenant { id }
    }
    /// Resolves `Vendor` references from other subgraphs, to add their products.
    #[graphql(entity)]
    async fn find_vendor_by_id(&self, id: ID) -> Vendor {
        Vendor { id }
    }
}
