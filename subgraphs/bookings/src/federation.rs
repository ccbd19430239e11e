//! The entities of other subgraphs that bookings point at or extend, in one place: the
//! marketplace's `Vendor` (its `services`) and the catalog's `Product` (its `service`), whose
//! extra fields are in `services::graphql`, with the resolvers of their references. The entities
//! bookings own resolve in their domains' queries (`findBookingServiceById` in
//! `services::graphql`, `findBookingById` in `bookings::graphql`, providers and resources in
//! `calendars::graphql`); orders' cart and order lines point at services and bookings.

use async_graphql::{ID, Object, SimpleObject};

// Owned by the vendors subgraph; bookings add `services`. The description matches the owner's.
/// A marketplace vendor: a seller on the tenant's marketplace.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Vendor {
    /// The vendor's id.
    pub id: ID,
}

// Owned by the catalog; bookings add `service`. The description matches the owner's.
/// Something a tenant sells.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Product {
    /// The product's id.
    pub id: ID,
}

// Owned by the identity subgraph; bookings add `bookings`. The description matches the owner's.
/// A person with an account: a customer, a staff member or a platform admin.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct User {
    /// The user's id.
    pub id: ID,
}

/// Resolves the references to other subgraphs' entities that bookings extend.
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// Resolves `Vendor` references, to add their services.
    #[graphql(entity)]
    async fn find_vendor_by_id(&self, id: ID) -> Vendor {
        Vendor { id }
    }

    /// Resolves `User` references, to add their bookings.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }

    /// Resolves `Product` references, to add their service.
    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Product {
        Product { id }
    }
}
