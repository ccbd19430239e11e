//! The catalog's GraphQL API: the root query and mutation types, merged from each domain's
//! (`<domain>/graphql.rs`), and the entities of other subgraphs it extends (`federation`).

use crate::federation::FederationQuery;
use crate::inventory::graphql::{InventoryMutation, InventoryQuery};
use crate::price_lists::graphql::{PricingMutation, PricingQuery};
use crate::products::graphql::{
    CompareQuery, MediaMutation, ProductMutation, ProductQuery, TranslationMutation,
    VariantMutation,
};
use crate::reviews::graphql::{ReviewMutation, ReviewQuery};
use crate::search::graphql::SearchQuery;
use crate::taxonomy::graphql::{TaxonomyMutation, TaxonomyQuery};
use crate::wishlists::graphql::{WishlistMutation, WishlistQuery};
use async_graphql::MergedObject;

/// The root query type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(
    ProductQuery,
    PricingQuery,
    InventoryQuery,
    FederationQuery,
    TaxonomyQuery,
    ReviewQuery,
    WishlistQuery,
    CompareQuery,
    SearchQuery,
);

/// The root mutation type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    ProductMutation,
    VariantMutation,
    PricingMutation,
    InventoryMutation,
    MediaMutation,
    TaxonomyMutation,
    TranslationMutation,
    ReviewMutation,
    WishlistMutation,
);
