//! Vendor teams: who works for a vendor (OWNER, MANAGER, STAFF), as [`crate::membership`] keeps
//! every organization's members ([`Team`], in `vendors`, says how a vendor is one). A vendor's
//! owners (acting for it) or staff manage the team; a rejected or closed vendor takes no changes;
//! a team always keeps an owner.

pub mod graphql;

pub use crate::vendors::Team;

use crate::membership;

/// A user's place on a vendor's team.
pub type Member = membership::Member<Team>;
/// An invitation to a vendor's team.
pub type Invitation = membership::Invitation<Team>;
