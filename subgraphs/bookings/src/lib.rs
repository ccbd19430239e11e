//! The bookings subgraph: what can be booked ([`services`]), whose time it takes ([`calendars`]:
//! providers and resources with weekly hours in their IANA time zones, date overrides, the
//! tenant's holidays, blocked time), when it can be booked ([`availability`]: the pure engine
//! of [`slots`] over facts gathered in a constant number of statements), and [`holds`] on a
//! session's seats ([`sessions`]) while a customer checks out. No two claims on one calendar's time
//! overlap: the database refuses the second (an exclusion constraint), whatever was checked
//! before. Other subgraphs use [`api`] only.

// The merged mutation root's future nests every mutation's async blocks; its layout needs more
// than the default depth of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod availability;
pub mod bookings;
pub mod calendars;
pub mod errors;
pub mod federation;
pub mod graphql;
pub mod holds;
pub mod ids;
pub mod scope;
pub mod services;
pub mod sessions;
pub mod slots;
pub mod waitlist;

use async_graphql::{EmptySubscription, Schema};
use cityos_core::RequestContext;
use cityos_server::{Platform, Subgraph};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use graphql::{Mutation, Query};
use scope::BookingsLoader;

/// The bookings schema's migrations.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/bookings");

/// The executable bookings schema.
pub type BookingsSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the bookings schema; without `platform` it can only print its SDL.
pub fn build_schema(platform: Option<&Platform>) -> BookingsSchema {
    cityos_server::schema_builder(Query::default(), Mutation::default(), platform).finish()
}

/// The federation SDL of the bookings subgraph.
pub fn sdl() -> String {
    cityos_server::federation_sdl(&build_schema(None))
}

/// The bookings outbox (`bookings.outbox`): `booking.<status>` and `booking.reminder`.
pub const OUTBOX: cityos_db::outbox::Outbox =
    cityos_db::outbox::Outbox::of(<Bookings as Subgraph>::NAME);

/// The bookings jobs (`bookings.jobs`): holds' expiry, bookings' reminders and no-show checks.
pub const JOBS: cityos_db::jobs::Jobs = cityos_db::jobs::Jobs::of(<Bookings as Subgraph>::NAME);

/// The bookings subgraph. It checks the users providers are through identity's published
/// function, the products services are sold as through the catalog's, and the vendors they
/// belong to through the vendors subgraph's, so all three migrate first.
pub struct Bookings;

impl Subgraph for Bookings {
    const NAME: &'static str = "bookings";
    const DEFAULT_PORT: u16 = 4005;
    const MIGRATIONS: EmbeddedMigrations = MIGRATIONS;
    fn depends_on() -> Vec<(&'static str, EmbeddedMigrations)> {
        vec![
            (identity::Identity::NAME, identity::MIGRATIONS),
            (catalog::Catalog::NAME, catalog::MIGRATIONS),
            (vendors::Vendors::NAME, vendors::MIGRATIONS),
        ]
    }

    const HAS_OUTBOX: bool = true;
    const HAS_JOBS: bool = true;

    fn jobs(runner: cityos_db::jobs::Runner) -> cityos_db::jobs::Runner {
        runner
            .with::<holds::jobs::HoldExpiry>()
            .with::<bookings::jobs::Reminder>()
            .with::<bookings::jobs::NoShow>()
            .with::<waitlist::jobs::OfferExpiry>()
    }

    type Schema = BookingsSchema;

    fn schema(platform: &Platform) -> BookingsSchema {
        build_schema(Some(platform))
    }

    type Loader = BookingsLoader;

    fn loader(ctx: &RequestContext, platform: &Platform) -> Option<BookingsLoader> {
        BookingsLoader::of(&platform.db, ctx)
    }
}
