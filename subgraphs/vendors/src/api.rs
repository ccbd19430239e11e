//! What the vendors subgraph offers the other subgraphs: the only module they may use (`cargo
//! xtask test` checks it).
//!
//! - Events: `vendor.<status>` ([`VendorChanged`]: `vendorId`, `handle`, `name`, `status`,
//!   `version`, `reason`) on every application and transition; a consumer keeps the highest
//!   `version` it applied per vendor, so late or repeated deliveries change nothing.
//! - Events: `company.<status>` ([`CompanyChanged`]: `companyId`, `name`, `status`, `version`,
//!   `reason`) when a company registers and on every change of its status.
//! - Membership: in SQL, `vendors.vendor_member(vendor, user)` (the role a user holds on a
//!   vendor's team, when the vendor may still act) and `vendors.company_member(company, user)`
//!   (the role a user holds in a company that is not closed), which every subgraph's request
//!   context calls for `x-vendor-id` and `x-company-id` (`cityos_server::context`); resolvers
//!   then read `RequestContext::vendor` and `RequestContext::company`.
//! - Checkout for companies, on the caller's open transaction (orders applies the rules, over its
//!   own orders and invoices): [`lock_buyer`] locks a company's row and reads a member's standing
//!   (status, currency, terms, credit limit, grace days, PO policy, role and spending limits);
//!   [`tax_exemption`] finds the verified certificate that exempts an order shipped to a
//!   jurisdiction on a day; [`hold_for_unpaid`] puts an ACTIVE company ON_HOLD (its
//!   `company.on_hold` event written in the caller's transaction) when an invoice stays unpaid
//!   past [`grace_days`].
//! - Accounts: [`company_accounts`] (name, status, currency, terms and credit limit of companies
//!   by id), read when orders drafts a quote for a company or shows its dashboard;
//!   [`company_members`] (a company's members with their roles and spending limits), read for the
//!   dashboard's spend by member.
//! - Approvals: [`approval_rules`] (a company's active rules in the order they apply;
//!   [`ApprovalRule::matches`] tells whether a checkout meets one) and [`approvers`] (the members
//!   who approve a level of its chain), read when orders turns a checkout into an approval
//!   request; [`member_role`] (a user's role in a company now), read when one decides.

pub use crate::companies::rules::{
    ApprovalRule, Checkout as RuleCheckout, Level as ApprovalLevel, Mode as ApprovalMode,
    active as approval_rules, approvers,
};
pub use crate::companies::standing::{
    BuyerStanding, CompanyAccount, CompanyMember, accounts as company_accounts, grace_days,
    hold_for_unpaid, lock_buyer, member_role, members as company_members,
};
pub use crate::companies::{CompanyChanged, CompanyStatus, PaymentTerms};
pub use crate::ids::{ApprovalRuleId, TaxExemptionId};
pub use crate::ids::{CompanyId, VendorId};
pub use crate::vendors::{VendorChanged, VendorStatus};

/// The certificate that exempts an order from tax ([`tax_exemption`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedExemption {
    pub id: TaxExemptionId,
    /// The certificate's number, as the order records it.
    pub number: String,
}

/// The VERIFIED certificate of company `company` that exempts an order shipped to `country`
/// (and `region`) on `day`, if any (the most recently verified when several do).
pub async fn tax_exemption(
    tx: &mut cityos_db::TenantTx<'_>,
    company: CompanyId,
    country: &str,
    region: Option<&str>,
    day: chrono::NaiveDate,
) -> diesel::QueryResult<Option<AppliedExemption>> {
    Ok(
        crate::exemptions::applicable(tx, company, country, region, day)
            .await?
            .map(|e| AppliedExemption {
                id: e.id,
                number: e.number,
            }),
    )
}

/// The status of vendor `id`, if it exists: what a subgraph checks before staff give a vendor
/// something to sell (bookings' services and calendars need an APPROVED vendor).
pub async fn vendor_status(
    tx: &mut cityos_db::TenantTx<'_>,
    id: VendorId,
) -> diesel::QueryResult<Option<VendorStatus>> {
    Ok(crate::vendors::by_ids(tx, &[id])
        .await?
        .remove(&id)
        .map(|v| v.status))
}
