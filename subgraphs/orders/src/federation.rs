//! The entities of other subgraphs that orders point at or extend, in one place: the catalog's
//! `Product` and `ProductVariant`, the marketplace's `Vendor`, the B2B `Company`, the bookings
//! subgraph's `BookingService` and `Booking` (of booking lines), and identity's `User` (whose
//! `orders` field is in `orders::graphql`), with the resolver of `User` references.

use async_graphql::{ID, Object, SimpleObject};

// Owned by the catalog; orders only point at it. Descriptions match the owner's.
/// Something a tenant sells.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Product {
    /// The product's id.
    pub id: ID,
}

/// What is sold and stocked: one combination of a product's option values, with its own SKU.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct ProductVariant {
    /// The variant's id.
    pub id: ID,
}

/// A marketplace vendor: a seller on the tenant's marketplace.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Vendor {
    /// The vendor's id.
    pub id: ID,
}

// Owned by the vendors subgraph; orders only point at it. The description matches the owner's.
/// A B2B buying company: its buyers order for it within their limits, on the terms the tenant
/// grants it.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Company {
    /// The company's id (what `x-company-id` names).
    pub id: ID,
}

// Owned by the bookings subgraph; orders only point at them. Descriptions match the owner's.
/// A bookable service: an appointment (one seat) or a class (several), of a vendor or of the
/// tenant itself.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct BookingService {
    pub id: ID,
}

/// Seats of a session a customer bought.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "id")]
pub struct Booking {
    pub id: ID,
}

// Owned by the identity subgraph; orders add `orders`. The description matches the owner's.
/// A person with an account: a customer, a staff member or a platform admin.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct User {
    /// The user's id.
    pub id: ID,
}

/// Resolves the references to other subgraphs' entities that orders extends.
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// Resolves `User` references, to add their orders.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id }
    }
}
