//! The catalog subgraph (first slice): products, and `Tenant.products` across the supergraph.

pub mod errors;
pub mod graphql;
pub mod products;
pub mod schema;

use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{Mutation, ProductLoader, Query};
use products::Visibility;

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

/// The catalog subgraph.
pub struct Catalog;

impl Subgraph for Catalog {
    const NAME: &'static str = "catalog";
    const DEFAULT_PORT: u16 = 4002;
    fn migrations() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![("catalog", MIGRATIONS)]
    }
    type Schema = CatalogSchema;

    fn schema(platform: &Platform) -> CatalogSchema {
        build_schema(Some(platform))
    }

    fn request_data(
        request: async_graphql::Request,
        ctx: &RequestContext,
        platform: &Platform,
    ) -> async_graphql::Request {
        match &ctx.tenant {
            Some(tenant) => request.data(DataLoader::new(
                ProductLoader {
                    db: platform.db.clone(),
                    tenant: tenant.id,
                    visibility: Visibility::of(ctx),
                },
                tokio::spawn,
            )),
            None => request,
        }
    }
}
