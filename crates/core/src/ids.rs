//! Identifiers: one type per table, so a product's id cannot be passed where a variant's is meant.
//!
//! [`ids!`](crate::ids!) declares them. Each is a UUID v7 (time-ordered, so primary keys are
//! index-friendly and keyset pages follow creation order) wrapped in a newtype that is, with no
//! glue at its use sites:
//! - a diesel value of SQL type `uuid` (written and read as the UUID itself);
//! - serde's UUID string (event payloads and JSON rows);
//! - a Relay cursor key (the same bytes a bare UUID encodes to, so cursors did not change);
//! - the GraphQL `ID` scalar, in and out (and `ID::from(id)`, through `Display`): an argument or input field typed `ProductId` refuses a
//!   string that is not a UUID with `BAD_USER_INPUT` before the resolver runs;
//! - an [`EntityId`]: the entity's name in the audit trail and in messages.
//!
//! ```
//! cityos_core::ids! {
//!     /// A product.
//!     ProductId = "Product",
//! }
//! let id = ProductId::new();
//! assert_eq!(id.to_string().parse::<ProductId>(), Ok(id));
//! assert_eq!(<ProductId as cityos_core::ids::EntityId>::ENTITY, "Product");
//! ```
//!
//! The ids of the callers every subgraph sees ([`TenantId`], [`UserId`], [`ApiKeyId`]) and of
//! marketplace vendors ([`VendorId`], referenced by catalog and orders before the vendors
//! subgraph exists) are declared here; every other id is declared by the subgraph that owns its
//! table, in its `ids.rs`, and published through its `api` when another subgraph refers to it.

use crate::ApiError;
use uuid::Uuid;

#[doc(hidden)]
pub use uuid;

/// What every typed id offers beyond its value: which entity it names.
pub trait EntityId: Copy + Into<Uuid> {
    /// The entity's name as the audit trail and messages write it (`"Product"`).
    const ENTITY: &'static str;
}

/// A string that is not a UUID where an id was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid id")]
pub struct InvalidId(pub String);

impl From<InvalidId> for ApiError {
    fn from(e: InvalidId) -> Self {
        ApiError::bad_input(e.to_string())
    }
}

/// Parses an id's text form (any form `uuid` reads: hyphenated, simple, braced, URN).
pub fn parse_uuid(text: &str) -> Result<Uuid, InvalidId> {
    Uuid::parse_str(text).map_err(|_| InvalidId(text.to_owned()))
}

/// Parses a GraphQL `ID` into the typed id its use asks for, refusing anything that is not a UUID
/// with `BAD_USER_INPUT`. Arguments and input fields declared with a typed id need no call.
pub fn parse_id<I: std::str::FromStr<Err = InvalidId>>(
    id: &async_graphql::ID,
) -> Result<I, ApiError> {
    Ok(id.as_str().parse()?)
}

/// The GraphQL `ID` of a typed id.
pub fn to_id(id: impl EntityId + std::fmt::Display) -> async_graphql::ID {
    async_graphql::ID(id.to_string())
}

/// Declares typed ids: see the [module docs](self).
#[macro_export]
macro_rules! ids {
    ( $( $(#[$meta:meta])* $name:ident = $entity:literal ),+ $(,)? ) => {
        $(
            $(#[$meta])*
            #[derive(
                Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                diesel::AsExpression, diesel::FromSqlRow,
            )]
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            pub struct $name($crate::ids::uuid::Uuid);

            #[allow(dead_code, reason = "each id uses part of what the kit declares")]
            #[allow(
                clippy::new_without_default,
                reason = "an id is made new or read, never defaulted: no default id is valid"
            )]
            impl $name {
                /// A new, time-ordered id.
                pub fn new() -> Self {
                    Self($crate::ids::uuid::Uuid::now_v7())
                }

                /// The id a stored UUID names.
                pub const fn from_uuid(id: $crate::ids::uuid::Uuid) -> Self {
                    Self(id)
                }

                /// The UUID.
                pub const fn uuid(self) -> $crate::ids::uuid::Uuid {
                    self.0
                }

                /// Parses a GraphQL `ID` (for ids that arrive untyped, as entity keys do).
                pub fn parse(id: &async_graphql::ID) -> ::std::result::Result<Self, $crate::ids::InvalidId> {
                    id.as_str().parse()
                }
            }

            impl $crate::ids::EntityId for $name {
                const ENTITY: &'static str = $entity;
            }

            impl ::std::convert::From<$name> for $crate::ids::uuid::Uuid {
                fn from(id: $name) -> Self {
                    id.0
                }
            }

            impl ::std::fmt::Display for $name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }

            impl ::std::fmt::Debug for $name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    write!(f, "{}({})", stringify!($name), self.0)
                }
            }

            impl ::std::str::FromStr for $name {
                type Err = $crate::ids::InvalidId;
                fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                    $crate::ids::parse_uuid(text).map(Self)
                }
            }

            impl $crate::paging::CursorKey for $name {
                fn to_bytes(&self) -> ::std::vec::Vec<u8> {
                    self.0.as_bytes().to_vec()
                }
                fn from_bytes(bytes: &[u8]) -> ::std::option::Option<Self> {
                    $crate::ids::uuid::Uuid::from_slice(bytes).ok().map(Self)
                }
            }

            impl $crate::states::serde::Serialize for $name {
                fn serialize<S: $crate::states::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    $crate::states::serde::Serialize::serialize(&self.0, serializer)
                }
            }

            impl<'de> $crate::states::serde::Deserialize<'de> for $name {
                fn deserialize<D: $crate::states::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    <$crate::ids::uuid::Uuid as $crate::states::serde::Deserialize>::deserialize(deserializer).map(Self)
                }
            }

            impl diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
                fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                    <$crate::ids::uuid::Uuid as diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(value).map(Self)
                }
            }

            impl diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
                ) -> diesel::serialize::Result {
                    <$crate::ids::uuid::Uuid as diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::to_sql(&self.0, out)
                }
            }

            /// The GraphQL `ID` scalar, holding this entity's id.
            #[async_graphql::Scalar(name = "ID")]
            impl async_graphql::ScalarType for $name {
                fn parse(value: async_graphql::Value) -> async_graphql::InputValueResult<Self> {
                    match &value {
                        async_graphql::Value::String(text) => Ok(text.parse()?),
                        _ => Err(async_graphql::InputValueError::expected_type(value)),
                    }
                }

                // The same values the built-in `ID` accepts, whichever of the two the schema
                // registered first; what is not a UUID is refused by `parse`.
                fn is_valid(value: &async_graphql::Value) -> bool {
                    match value {
                        async_graphql::Value::Number(n) => n.is_i64(),
                        async_graphql::Value::String(_) => true,
                        _ => false,
                    }
                }

                fn to_value(&self) -> async_graphql::Value {
                    async_graphql::Value::String(self.0.to_string())
                }
            }
        )+
    };
}

crate::ids! {
    /// A tenant (a city or a brand): every tenant-owned row carries one.
    TenantId = "Tenant",
    /// A user: staff, vendor user or customer.
    UserId = "User",
    /// An API key (publishable or secret).
    ApiKeyId = "ApiKey",
    /// A marketplace vendor of a tenant.
    VendorId = "Vendor",
    /// A B2B buying company of a tenant.
    CompanyId = "Company",
    /// An event in a subgraph's outbox: unique and stable across redeliveries.
    EventId = "Event",
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::CursorKey;

    #[test]
    fn an_id_reads_back_from_every_form_it_is_written_in() {
        let id = UserId::new();
        assert_eq!(id.to_string().parse::<UserId>(), Ok(id));
        assert_eq!(UserId::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(id.to_bytes(), id.uuid().to_bytes());
        let json = serde_json::to_string(&id).expect("json");
        assert_eq!(json, format!("\"{}\"", id.uuid()));
        assert_eq!(serde_json::from_str::<UserId>(&json).expect("json"), id);
        assert_eq!(
            "nope".parse::<UserId>().unwrap_err().to_string(),
            "`nope` is not a valid id"
        );
        assert_eq!(
            <UserId as async_graphql::ScalarType>::parse(async_graphql::Value::String(
                id.to_string()
            ))
            .expect("scalar"),
            id
        );
        assert!(
            <UserId as async_graphql::ScalarType>::parse(async_graphql::Value::from(1)).is_err()
        );
        assert!(UserId::new() > id, "time-ordered");
    }
}
