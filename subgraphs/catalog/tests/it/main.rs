//! The catalog's integration tests, one binary (link time grows with every binary): real
//! PostgreSQL, a fresh database per test, the schema executed in process. One module per domain.

mod common;

mod attributes;
mod cards;
mod inventory;
mod isolation;
mod outbox;
mod pricing;
mod products;
mod reviews;
mod search;
mod sellers;
mod taxonomy;
mod translations;
mod variants;
mod wishlists;
