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

pub use crate::companies::{CompanyChanged, CompanyStatus};
pub use crate::ids::{CompanyId, VendorId};
pub use crate::vendors::{VendorChanged, VendorStatus};
