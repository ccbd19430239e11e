//! The orders subgraph's integration tests, one binary (link time grows with every binary): real
//! PostgreSQL, a fresh database per test, the identity, catalog and vendors schemas beside orders'. One
//! module per domain.

mod common;

mod aftercare;
mod carts;
mod checkout;
mod companies;
mod invoices;
mod isolation;
mod jobs;
mod lifecycle;
mod payments;
mod totals;
mod vendor_orders;
