//! Stored enums and lifecycles, declared once.
//!
//! [`states!`](crate::states!) declares an enum whose values are stored as text: its GraphQL enum,
//! its stored form (written beside each value, so renaming a variant cannot change what is stored),
//! its diesel mapping to `text` columns, its serde and `Display` forms (the stored text, so event
//! payloads and messages show what is stored), and, for a lifecycle, its transition table:
//!
//! ```
//! cityos_core::states! {
//!     /// Where a product is in its lifecycle.
//!     pub enum ProductStatus {
//!         /// Being prepared.
//!         Draft = "DRAFT",
//!         /// On sale.
//!         Published = "PUBLISHED",
//!         /// Withdrawn.
//!         Archived = "ARCHIVED",
//!     }
//!     transitions {
//!         Draft -> Published | Archived,
//!         Published -> Draft | Archived,
//!         Archived -> Draft,
//!     }
//! }
//! assert!(ProductStatus::Draft.can_become(ProductStatus::Published));
//! assert!(!ProductStatus::Archived.can_become(ProductStatus::Published));
//! assert_eq!(ProductStatus::parse("ARCHIVED"), Ok(ProductStatus::Archived));
//! assert!(ProductStatus::parse("archived").is_err());
//! ```
//!
//! A stored value that names no variant is an error wherever it is read (a row decoded by diesel,
//! or [`parse`](UnknownValue)): it surfaces as `INTERNAL`, logged once, and never as some default
//! status. Kinds without a lifecycle (a price list's kind, a user's kind) leave out `transitions`.

use crate::UserError;

#[doc(hidden)]
pub use serde;

/// A stored text that names no value of an enum: the data or the code is wrong, so it is a fault
/// of ours, never a value to guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a stored {type_name}")]
pub struct UnknownValue {
    /// The enum's name.
    pub type_name: &'static str,
    /// What was stored.
    pub value: String,
}

pub use crate::outcome::CommonCode;

/// The refusal of a change a lifecycle does not allow, about `input.<field>`.
pub fn invalid_transition<C: CommonCode>(
    field: &str,
    type_name: &str,
    from: &str,
    to: &str,
) -> UserError<C> {
    UserError::new(
        field,
        C::INVALID_TRANSITION,
        format!("a {type_name} cannot go from {from} to {to}"),
    )
}

/// Declares a stored enum (and, with `transitions`, a lifecycle): see the [module docs](self).
#[macro_export]
macro_rules! states {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $stored:literal ),+ $(,)?
        }
        $( transitions { $( $from:ident -> $( $to:ident )|+ ),* $(,)? } )?
    ) => {
        // The derives first, so the declaration may carry their helper attributes
        // (`#[graphql(name = "..")]` for a GraphQL name other than the Rust one).
        #[derive(
            async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        #[allow(dead_code, reason = "each stored enum uses part of what the kit declares")]
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];

            /// The changes the lifecycle allows, as (from, to); empty for a kind without one.
            pub const TRANSITIONS: &'static [(Self, Self)] =
                &[ $( $( $( (Self::$from, Self::$to), )+ )* )? ];

            /// The stored form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $stored ),+
                }
            }

            /// Reads the stored form; anything else is an error, never a default.
            pub fn parse(stored: &str) -> ::std::result::Result<Self, $crate::states::UnknownValue> {
                match stored {
                    $( $stored => Ok(Self::$variant), )+
                    other => Err($crate::states::UnknownValue {
                        type_name: stringify!($name),
                        value: other.to_owned(),
                    }),
                }
            }

            /// Whether the lifecycle allows going from `self` to `to` (staying put is not a change
            /// the table lists).
            pub fn can_become(self, to: Self) -> bool {
                Self::TRANSITIONS.contains(&(self, to))
            }

            /// Refuses a change the lifecycle does not allow, as a user error about `field`.
            pub fn require<C: $crate::states::CommonCode>(
                self,
                to: Self,
                field: &str,
            ) -> ::std::result::Result<(), $crate::UserError<C>> {
                if self.can_become(to) {
                    Ok(())
                } else {
                    Err($crate::states::invalid_transition(
                        field,
                        stringify!($name),
                        self.as_str(),
                        to.as_str(),
                    ))
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::states::serde::Serialize for $name {
            fn serialize<S: $crate::states::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::states::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::states::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                // A visitor, so a stored text read from JSON is parsed where it lies, unallocated.
                struct Stored;
                impl $crate::states::serde::de::Visitor<'_> for Stored {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a stored ", stringify!($name)))
                    }
                    fn visit_str<E: $crate::states::serde::de::Error>(self, text: &str) -> ::std::result::Result<$name, E> {
                        $name::parse(text).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Stored)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = ::std::str::from_utf8(value.as_bytes())?;
                Ok(Self::parse(text)?)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::states! {
        /// A test lifecycle.
        enum Light {
            /// Stop.
            Red = "RED",
            /// Go.
            Green = "GREEN",
            /// Careful.
            Amber = "AMBER",
        }
        transitions {
            Red -> Green,
            Green -> Amber,
            Amber -> Red,
        }
    }

    crate::states! {
        /// A kind without a lifecycle.
        enum Flavour {
            /// Sweet.
            Sweet = "SWEET",
        }
    }

    #[derive(Debug, PartialEq)]
    enum Code {
        Transition,
    }

    impl super::CommonCode for Code {
        const NOT_FOUND: Self = Self::Transition;
        const INVALID_TEXT: Self = Self::Transition;
        const INVALID_TRANSITION: Self = Self::Transition;
        const UNKNOWN_CURRENCY: Self = Self::Transition;
    }

    #[test]
    fn stored_forms_and_transitions_come_from_one_declaration() {
        assert_eq!(Light::ALL, [Light::Red, Light::Green, Light::Amber]);
        for light in Light::ALL {
            assert_eq!(Light::parse(light.as_str()), Ok(*light));
        }
        assert_eq!(
            Light::parse("BLUE").unwrap_err().to_string(),
            "`BLUE` is not a stored Light"
        );
        assert!(Light::Red.can_become(Light::Green));
        assert!(!Light::Red.can_become(Light::Amber));
        assert!(!Light::Red.can_become(Light::Red));
        assert_eq!(Light::Green.require::<Code>(Light::Amber, "status"), Ok(()));
        let refused = Light::Green
            .require::<Code>(Light::Red, "status")
            .unwrap_err();
        assert_eq!(refused.code, Code::Transition);
        assert_eq!(refused.field, ["input", "status"]);
        assert_eq!(refused.message, "a Light cannot go from GREEN to RED");
        assert!(Flavour::TRANSITIONS.is_empty());
        assert_eq!(serde_json::to_string(&Light::Amber).unwrap(), "\"AMBER\"");
        assert_eq!(
            serde_json::from_str::<Light>("\"GREEN\"").unwrap(),
            Light::Green
        );
        assert!(serde_json::from_str::<Light>("\"BLUE\"").is_err());
        assert_eq!(Flavour::Sweet.as_str(), "SWEET");
    }
}
