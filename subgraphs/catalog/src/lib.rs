//! The catalog subgraph: products, variants and prices, categories and collections, price lists and
//! volume tiers, stock, reviews, wishlists and search; `Tenant.products` and `Vendor.products`
//! across the supergraph. Other subgraphs use [`api`] only.

// The schema's resolver futures nest deeper than the default limit lets the compiler lay out.
#![recursion_limit = "256"]

pub mod api;
pub mod errors;
pub mod federation;
pub mod graphql;
pub mod ids;
pub mod inventory;
pub mod price_lists;
pub mod pricing;
pub mod products;
pub mod reviews;
pub mod schema;
pub mod scope;
pub mod search;
pub mod taxonomy;
pub mod wishlists;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_db::outbox::Outbox;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{Mutation, Query};
use scope::CatalogLoader;

/// The catalog schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/catalog");

/// The executable catalog schema.
pub type CatalogSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the catalog schema; without `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> CatalogSchema {
    cityos_server::build_schema(Query::default(), Mutation::default(), platform)
}

/// The federation SDL of the catalog subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The catalog's outbox (`catalog.outbox`): how its domains publish events.
pub const OUTBOX: Outbox = Outbox::of(<Catalog as Subgraph>::NAME);

/// The catalog subgraph.
pub struct Catalog;

impl Subgraph for Catalog {
    const NAME: &'static str = "catalog";
    const DEFAULT_PORT: u16 = 4002;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    fn depends_on() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![(identity::Identity::NAME, identity::MIGRATIONS)]
    }
    const HAS_OUTBOX: bool = true;

    // Storefront reads are answered from the response cache while nothing they read has changed;
    // what changes them with no write is a price list window or a stock reservation's expiry
    // (migration 000015).
    const RESPONSE_CACHE: Option<cityos_server::cache::Policy> =
        Some(cityos_server::cache::Policy {
            valid_until: Some("catalog.answers_valid_until"),
        });

    fn consumers() -> cityos_db::inbox::Consumers {
        use products::sellers::{VendorApproved, VendorClosed, VendorSuspended};
        cityos_db::inbox::Consumers::new()
            .on::<products::sales::OrderPlaced>()
            .on::<VendorApproved>()
            .on::<VendorSuspended>()
            .on::<VendorClosed>()
    }

    type Schema = CatalogSchema;

    fn schema(platform: &Platform) -> CatalogSchema {
        build_schema(Some(platform))
    }

    type Loader = CatalogLoader;

    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<CatalogLoader> {
        CatalogLoader::of(&platform.db, ctx)
    }
}
