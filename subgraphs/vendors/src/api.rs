//! What the vendors subgraph offers the other subgraphs: the only module they may use (`cargo
//! xtask test` checks it).
//!
//! - Events: `vendor.<status>` ([`VendorChanged`]: `vendorId`, `handle`, `name`, `status`,
//!   `version`, `reason`) on every application and transition; a consumer keeps the highest
//!   `version` it applied per vendor, so late or repeated deliveries change nothing.
//! - Membership: in SQL, `vendors.vendor_member(vendor, user)` (the role a user holds on a
//!   vendor's team, when the vendor may still act), which every subgraph's request context calls
//!   for `x-vendor-id` (`cityos_server::context`); resolvers then read
//!   `RequestContext::vendor`.

pub use crate::ids::VendorId;
pub use crate::vendors::{VendorChanged, VendorStatus};
