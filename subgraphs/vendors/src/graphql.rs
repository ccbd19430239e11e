//! The vendors subgraph's GraphQL API: the root query and mutation types, merged from each
//! domain's (`<domain>/graphql.rs`), and the entities it resolves (`federation`).

use crate::analytics::graphql::AnalyticsQuery;
use crate::approval::graphql::ApprovalMutation;
use crate::commissions::graphql::{CommissionMutation, CommissionQuery};
use crate::companies::graphql::{CompanyMutation, CompanyQuery};
use crate::documents::graphql::DocumentMutation;
use crate::exemptions::graphql::ExemptionMutation;
use crate::federation::FederationQuery;
use crate::ledger::graphql::LedgerMutation;
use crate::payouts::graphql::PayoutMutation;
use crate::settings::graphql::{SettingsMutation, SettingsQuery};
use crate::teams::graphql::TeamMutation;
use crate::vendors::graphql::{VendorMutation, VendorQuery};
use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    VendorQuery,
    SettingsQuery,
    CommissionQuery,
    AnalyticsQuery,
    CompanyQuery,
    FederationQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    VendorMutation,
    ApprovalMutation,
    DocumentMutation,
    TeamMutation,
    SettingsMutation,
    CommissionMutation,
    LedgerMutation,
    PayoutMutation,
    CompanyMutation,
    ExemptionMutation,
);
