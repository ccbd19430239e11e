//! The orders subgraph: carts, checkout, orders split by vendor, payments (manual and Stripe with
//! its webhook), refunds and fulfilments, and `User.orders` across the supergraph.

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

pub mod carts;
pub mod checkout;
pub mod counters;
pub mod dashboards;
pub mod discounts;
pub mod disputes;
pub mod errors;
pub mod federation;
pub mod graphql;
pub mod ids;

pub mod orders;
pub mod payments;
pub mod quotes;
pub mod refunds;
pub mod returns;
pub mod schema;
pub mod scope;
pub mod shipping;
pub mod taxes;
pub mod webhooks;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{Mutation, Query};
use scope::OrdersLoader;

use payments::Gateway;

/// The orders schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/orders");

/// The executable orders schema.
pub type OrdersSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the orders schema with the payment providers configured in the environment; without
/// `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> OrdersSchema {
    build_schema_with(platform, Gateway::from_env())
}

/// Builds the orders schema with the given payment providers (tests pass a local Stripe double).
pub fn build_schema_with(platform: Option<&Platform>, gateway: Gateway) -> OrdersSchema {
    cityos_server::schema_builder(Query::default(), Mutation::default(), platform)
        .data(gateway)
        .finish()
}

/// The federation SDL of the orders subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The orders outbox (`orders.outbox`): how its domains publish events.
pub const OUTBOX: cityos_db::outbox::Outbox =
    cityos_db::outbox::Outbox::of(<Orders as Subgraph>::NAME);

/// The orders jobs (`orders.jobs`): carts' expiry, invoices falling overdue, a company's hold
/// when one stays unpaid past its grace period, approval requests' and quotes' expiry, and
/// cancelled bookings' refunds.
pub const JOBS: cityos_db::jobs::Jobs = cityos_db::jobs::Jobs::of(<Orders as Subgraph>::NAME);

/// The orders subgraph. Checkout runs the catalog's pricing and stock functions, the vendors
/// subgraph's company functions (a buyer's standing, tax exemptions) and the bookings subgraph's
/// holds (a booking line's hold becomes a booking) in its own transaction, so their schemas must
/// be migrated first (their processes do that; `depends_on` says so).
pub struct Orders;

impl Subgraph for Orders {
    const NAME: &'static str = "orders";
    const DEFAULT_PORT: u16 = 4003;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    fn depends_on() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![
            (identity::Identity::NAME, identity::MIGRATIONS),
            (catalog::Catalog::NAME, catalog::MIGRATIONS),
            (vendors::Vendors::NAME, vendors::MIGRATIONS),
            (bookings::Bookings::NAME, bookings::MIGRATIONS),
        ]
    }
    const HAS_OUTBOX: bool = true;
    const HAS_JOBS: bool = true;

    fn jobs(runner: cityos_db::jobs::Runner) -> cityos_db::jobs::Runner {
        runner
            .with::<carts::expiry::CartExpiry>()
            .with::<orders::invoices::InvoiceOverdue>()
            .with::<orders::invoices::InvoiceHold>()
            .with::<checkout::approvals::ApprovalExpiry>()
            .with::<quotes::QuoteExpiry>()
            .with::<refunds::bookings::BookingRefund>()
            // A booking's refund asks the payment provider.
            .provide(Gateway::from_env())
    }

    fn consumers() -> cityos_db::inbox::Consumers {
        cityos_db::inbox::Consumers::new().on::<refunds::bookings::BookingCancelled>()
    }

    type Schema = OrdersSchema;

    fn schema(platform: &Platform) -> OrdersSchema {
        build_schema(Some(platform))
    }

    fn routes(platform: &Platform) -> axum::Router {
        webhooks::routes(platform.db.clone(), &Gateway::from_env())
    }

    type Loader = OrdersLoader;

    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<OrdersLoader> {
        Some(OrdersLoader {
            db: platform.db.clone(),
            tenant: ctx.tenant.as_ref()?.id,
        })
    }
}
