//! The vendors subgraph's ids, one per table with an `id`. The vendor's own id and the callers'
//! come from `cityos_core`, which every subgraph shares.

pub use cityos_core::ids::{TenantId, UserId, VendorId};

cityos_core::ids! {
    /// A know-your-customer document a vendor submitted.
    DocumentId = "VendorDocument",
    /// An invitation to a vendor's team.
    InvitationId = "VendorInvitation",
    /// A commission rule.
    CommissionRuleId = "CommissionRule",
}
