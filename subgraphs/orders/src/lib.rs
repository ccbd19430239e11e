//! The orders subgraph: carts, checkout, orders split by vendor, payments and fulfilments, and
//! `User.orders` across the supergraph.

pub mod carts;
pub mod checkout;
pub mod discounts;
pub mod errors;
pub mod graphql;
pub mod orders;
pub mod payments;
pub mod schema;
pub mod shipping;
pub mod taxes;
pub mod totals;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{
    FulfillmentsLoader, LinesLoader, Mutation, OrderLoader, PaymentsLoader, Query,
    VendorOrdersLoader,
};

/// The orders schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/orders");

/// The executable orders schema.
pub type OrdersSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the orders schema; without `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> OrdersSchema {
    cityos_server::build_schema(Query::default(), Mutation::default(), platform)
}

/// The federation SDL of the orders subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The orders subgraph. Checkout runs the catalog's pricing and stock functions in its own
/// transaction, so the catalog's schema must be migrated first (the catalog process does that).
pub struct Orders;

impl Subgraph for Orders {
    const NAME: &'static str = "orders";
    const DEFAULT_PORT: u16 = 4003;
    const OUTBOX: Option<&'static str> = Some(orders::OUTBOX);
    fn migrations() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![("orders", MIGRATIONS)]
    }
    type Schema = OrdersSchema;

    fn schema(platform: &Platform) -> OrdersSchema {
        build_schema(Some(platform))
    }

    fn request_data(
        request: async_graphql::Request,
        ctx: &RequestContext,
        platform: &Platform,
    ) -> async_graphql::Request {
        let Some(tenant) = &ctx.tenant else {
            return request;
        };
        let (db, tenant) = (platform.db.clone(), tenant.id);
        request
            .data(cityos_server::request_loader(OrderLoader {
                db: db.clone(),
                tenant,
            }))
            .data(cityos_server::request_loader(LinesLoader {
                db: db.clone(),
                tenant,
            }))
            .data(cityos_server::request_loader(VendorOrdersLoader {
                db: db.clone(),
                tenant,
            }))
            .data(cityos_server::request_loader(PaymentsLoader {
                db: db.clone(),
                tenant,
            }))
            .data(cityos_server::request_loader(FulfillmentsLoader {
                db,
                tenant,
            }))
    }
}
