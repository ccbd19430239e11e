//! How products are classified: categories (a tree; a product sits in any number of them, and a
//! category's products include its descendants') and collections (hand-picked, ordered lists).

pub mod categories;
pub mod collections;
pub mod graphql;

use crate::taxonomy::categories::Category;
use crate::taxonomy::collections::Collection;

/// A product's categories and collections.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    pub categories: Vec<Category>,
    pub collections: Vec<Collection>,
}
