//! The bookings subgraph's integration tests, one binary: real PostgreSQL, a fresh database per
//! test, the schema executed in process. One module per domain.

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

mod common;

mod availability;
mod calendars;
mod holds;
mod isolation;
mod lifecycle;
mod services;
mod waitlist;
