//! The vendors subgraph's integration tests, one binary: real PostgreSQL, a fresh database per
//! test, the schema executed in process. One module per domain.

mod common;

mod analytics;
mod commissions;
mod isolation;
mod ledger;
mod lifecycle;
mod payouts;
mod ratings;
mod teams;
