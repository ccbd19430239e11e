//! The vendors subgraph's ids, one per table with an `id`. The vendor's own id and the callers'
//! come from `cityos_core`, which every subgraph shares.

pub use cityos_core::ids::{CompanyId, TenantId, UserId, VendorId};

cityos_core::ids! {
    /// A know-your-customer document a vendor submitted.
    DocumentId = "VendorDocument",
    /// An invitation to an organization (a vendor's team, a company).
    InvitationId = "Invitation",
    /// A shipping location of a company.
    CompanyLocationId = "CompanyLocation",
    /// A company's tax exemption certificate.
    TaxExemptionId = "TaxExemption",
    /// A company's approval rule.
    ApprovalRuleId = "ApprovalRule",
    /// A commission rule.
    CommissionRuleId = "CommissionRule",
    /// An entry of a vendor's ledger.
    LedgerEntryId = "VendorLedgerEntry",
    /// A payout to a vendor.
    PayoutId = "VendorPayout",
}

// Orders' ids, as its events name them (the same UUIDs orders' GraphQL shows).
cityos_core::ids! {
    /// An order (orders').
    OrderId = "Order",
    /// A vendor's part of an order (orders').
    VendorOrderId = "VendorOrder",
    /// A line of an order (orders').
    OrderLineId = "OrderLine",
}
