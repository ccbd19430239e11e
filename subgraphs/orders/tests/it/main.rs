//! The orders subgraph's integration tests, one binary (link time grows with every binary): real
//! PostgreSQL, a fresh database per test, the identity, catalog, vendors and bookings schemas
//! beside orders'. One module per domain.

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

mod common;

mod aftercare;
mod approvals;
mod bookings;
mod carts;
mod checkout;
mod companies;
mod dashboards;
mod invoices;
mod isolation;
mod jobs;
mod lifecycle;
mod payments;
mod quotes;
mod totals;
mod vendor_orders;
