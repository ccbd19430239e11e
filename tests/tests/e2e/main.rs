//! End-to-end tests, one binary (link time grows with every binary): every request goes through
//! the real router to real subgraph processes on a real PostgreSQL. One module per journey area.

mod b2b;
mod bookings;
mod cache;
mod events;
mod identity_catalog;
mod orders;
mod seed;
mod vendors;
