//! The bookings subgraph's GraphQL API: the root query and mutation types, merged from each
//! domain's (`<domain>/graphql.rs`), and the entities it resolves (`federation`).

use crate::availability::graphql::AvailabilityQuery;
use crate::bookings::graphql::{BookingMutation, BookingQuery};
use crate::calendars::graphql::{CalendarMutation, CalendarQuery};
use crate::federation::FederationQuery;
use crate::holds::graphql::{HoldMutation, SeriesMutation};
use crate::services::graphql::{ServiceMutation, ServiceQuery};
use crate::waitlist::graphql::{WaitlistMutation, WaitlistQuery};
use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    ServiceQuery,
    CalendarQuery,
    AvailabilityQuery,
    BookingQuery,
    WaitlistQuery,
    FederationQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    ServiceMutation,
    CalendarMutation,
    HoldMutation,
    SeriesMutation,
    BookingMutation,
    WaitlistMutation,
);
