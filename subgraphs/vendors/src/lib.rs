//! The vendors subgraph: the platform's organizations and their members ([`membership`]).
//! Marketplace vendors (their profile and lifecycle), the documents that admit them, their teams,
//! the tenant's settings for them, the commissions the marketplace takes, each vendor's ledger
//! (from orders' payment and delivery events) and payouts; and B2B buying companies
//! ([`companies`]: profile, terms, lifecycle, locations, buyers and their spending limits) with
//! their tax exemption certificates ([`exemptions`]). It owns the `Vendor` and `Company`
//! entities; other subgraphs use [`api`] only, and learn of vendors' transitions from
//! their `vendor.<status>` events.

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

pub mod analytics;
pub mod api;
pub mod approval;
pub mod commissions;
pub mod companies;
pub mod documents;
pub mod errors;
pub mod exemptions;
pub mod federation;
pub mod graphql;
pub mod ids;
pub mod ledger;
pub mod membership;
pub mod payouts;
pub mod ratings;
pub mod schema;
pub mod scope;
pub mod settings;
pub mod teams;
pub mod vendors;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_db::outbox::Outbox;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{Mutation, Query};
use scope::VendorsLoader;

/// The vendors schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/vendors");

/// The executable vendors schema.
pub type VendorsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the vendors schema with the Stripe account configured in the environment (for
/// connected accounts); without `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> VendorsSchema {
    build_schema_with(platform, cityos_server::stripe::Stripe::from_env())
}

/// Builds the vendors schema with the given Stripe account (tests pass a local double).
pub fn build_schema_with(
    platform: Option<&Platform>,
    stripe: Option<cityos_server::stripe::Stripe>,
) -> VendorsSchema {
    cityos_server::schema_builder(Query::default(), Mutation::default(), platform)
        .data(payouts::graphql::Connect(stripe))
        .finish()
}

/// The federation SDL of the vendors subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The vendors outbox (`vendors.outbox`): how its domains publish events.
pub const OUTBOX: Outbox = Outbox::of(<Vendors as Subgraph>::NAME);

/// The vendors jobs (`vendors.jobs`): the daily payout run, payouts' transfers.
pub const JOBS: cityos_db::jobs::Jobs = cityos_db::jobs::Jobs::of(<Vendors as Subgraph>::NAME);

/// The vendors subgraph. It reads users' e-mail addresses through identity's published function
/// and checks the categories and products commission rules name through the catalog's, so both
/// migrate first.
pub struct Vendors;

impl Subgraph for Vendors {
    const NAME: &'static str = "vendors";
    const DEFAULT_PORT: u16 = 4004;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    fn depends_on() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![
            (identity::Identity::NAME, identity::MIGRATIONS),
            (catalog::Catalog::NAME, catalog::MIGRATIONS),
        ]
    }
    const HAS_OUTBOX: bool = true;
    const HAS_JOBS: bool = true;

    /// Payouts' transfers go through the Stripe account configured in the environment.
    fn jobs(runner: cityos_db::jobs::Runner) -> cityos_db::jobs::Runner {
        let runner = runner
            .with::<payouts::jobs::PayoutRun>()
            .with::<payouts::jobs::PayoutTransfer>();
        match cityos_server::stripe::Stripe::from_env() {
            Some(stripe) => runner.provide(stripe),
            None => runner,
        }
    }

    fn consumers() -> cityos_db::inbox::Consumers {
        cityos_db::inbox::Consumers::new()
            .on::<ratings::ReviewChanged>()
            .on::<ledger::sales::PaymentCaptured>()
            .on::<ledger::sales::PaymentRefunded>()
            .on::<ledger::sales::FulfillmentDelivered>()
            .on::<analytics::OrderPlaced>()
            .on::<analytics::OrderCancelled>()
            .on::<analytics::FulfillmentCreated>()
    }

    type Schema = VendorsSchema;

    fn schema(platform: &Platform) -> VendorsSchema {
        build_schema(Some(platform))
    }

    type Loader = VendorsLoader;

    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<VendorsLoader> {
        VendorsLoader::of(&platform.db, ctx)
    }
}
