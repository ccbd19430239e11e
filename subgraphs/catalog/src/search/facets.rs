//! Facet counts: how many of the matched products fall under each category, collection, vendor,
//! tag, stock state and price range, as the search statement returns them.

use crate::ids::ProductId;
use crate::taxonomy::categories::Category;
use crate::taxonomy::collections::Collection;
use diesel::prelude::*;
use serde::Deserialize;

/// How many of the matching products fall under each value of each filter.
#[derive(Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// Per category: the matching products in it or its descendants.
    pub categories: Vec<CategoryCount>,
    pub collections: Vec<CollectionCount>,
    pub vendors: Vec<IdCount>,
    /// The most common tags first.
    pub tags: Vec<TagCount>,
    /// The matching products in stock.
    pub in_stock: i64,
    /// The spread of prices, when the search has a currency and some product a price in it.
    pub price: Option<PriceSpread>,
}

/// A category and how many matching products are in it or below it.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CategoryCount {
    pub category: Category,
    pub count: i64,
}

/// A collection and how many matching products it holds.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CollectionCount {
    pub collection: Collection,
    pub count: i64,
}

/// A facet value by id and how many matching products it has.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct IdCount {
    pub id: ProductId,
    pub count: i64,
}

/// A tag and how many matching products carry it.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// The lowest and highest price among the matching products, and how many fall in each range of
/// `step` minor units (ranges start at multiples of the step; empty ones are left out).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PriceSpread {
    pub min: i64,
    pub max: i64,
    pub step: i64,
    pub ranges: Vec<PriceRange>,
}

/// Products priced from `from` (inclusive) to `from + step` (exclusive).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct PriceRange {
    pub from: i64,
    pub count: i64,
}

pub(super) fn read_facets(json: Option<String>) -> QueryResult<Option<Facets>> {
    json.map(|j| {
        serde_json::from_str(&j).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
    })
    .transpose()
}
