//! `productsCompare`: products side by side, with their options and attributes aligned in rows.

use crate::ids::ProductId;
use crate::products::Product;
use crate::products::variants::ProductDetails;
use crate::reviews::RatingSummary;
use crate::scope::{CatalogLoader, DetailsOf};
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use cityos_core::ApiError;
use cityos_server::CtxExt as _;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The fewest and most products one comparison takes.
const COMPARE_SIZE: std::ops::RangeInclusive<usize> = 2..=10;

/// What a comparison row is about.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareRowKind {
    /// A product option (Size, Colour): each product's values for it.
    Option,
    /// A product attribute (type, rating, tags, variants) or a metadata key.
    Attribute,
}

/// One row of a comparison: a label and one value per product, in the products' order (null where
/// a product has none).
#[derive(SimpleObject, Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// What the row compares (`Size`, `Product type`, `metadata.origin`).
    pub label: String,
    /// Option or attribute.
    pub kind: CompareRowKind,
    /// One value per product, aligned with `products`.
    pub values: Vec<Option<String>>,
}

/// Products side by side.
#[derive(SimpleObject)]
pub struct ProductComparison {
    /// The products the caller may see, in the order asked (unknown or hidden ids are left out).
    pub products: Vec<Product>,
    /// Their options and attributes, one row each, values aligned with `products`.
    pub rows: Vec<CompareRow>,
}

fn metadata_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The aligned rows for products and their details (same order).
fn rows(products: &[Product], details: &[Arc<ProductDetails>]) -> Vec<CompareRow> {
    let attribute = |label: &str, values: Vec<Option<String>>| CompareRow {
        label: label.to_owned(),
        kind: CompareRowKind::Attribute,
        values,
    };
    let mut rows = vec![
        attribute(
            "Product type",
            products.iter().map(|p| p.product_type.clone()).collect(),
        ),
        attribute(
            "Rating",
            products
                .iter()
                .map(|p| {
                    let rating = RatingSummary::from_counts(&p.rating_counts);
                    rating
                        .mean()
                        .map(|mean| format!("{mean} ({} reviews)", rating.total()))
                })
                .collect(),
        ),
        attribute(
            "Variants",
            details
                .iter()
                .map(|d| Some(d.variants.len().to_string()))
                .collect(),
        ),
        attribute(
            "Tags",
            products
                .iter()
                .map(|p| (!p.tags.is_empty()).then(|| p.tags.join(", ")))
                .collect(),
        ),
    ];
    // Options by name, in first-seen order.
    let mut names: Vec<&str> = Vec::new();
    for d in details {
        for o in &d.options {
            if !names.contains(&o.name.as_str()) {
                names.push(&o.name);
            }
        }
    }
    for name in names {
        rows.push(CompareRow {
            label: name.to_owned(),
            kind: CompareRowKind::Option,
            values: details
                .iter()
                .map(|d| {
                    d.options
                        .iter()
                        .find(|o| o.name == name)
                        .map(|o| o.option_values.join(", "))
                })
                .collect(),
        });
    }
    // Metadata keys, sorted.
    let keys: BTreeSet<&String> = products
        .iter()
        .filter_map(|p| p.metadata.as_object())
        .flat_map(|o| o.keys())
        .collect();
    for key in keys {
        rows.push(attribute(
            &format!("metadata.{key}"),
            products
                .iter()
                .map(|p| p.metadata.get(key).and_then(metadata_text))
                .collect(),
        ));
    }
    rows
}

/// The comparison query.
#[derive(Default)]
pub struct CompareQuery;

#[Object]
impl CompareQuery {
    /// Two to ten products side by side, with their options and attributes aligned in rows.
    async fn products_compare(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ProductId>,
    ) -> Result<ProductComparison> {
        if !COMPARE_SIZE.contains(&ids.len()) {
            return Err(ApiError::bad_input("compare 2 to 10 products").into());
        }
        let found = ctx
            .loader::<CatalogLoader>()?
            .load_many(ids.iter().copied())
            .await?;
        let products: Vec<Product> = ids.iter().filter_map(|id| found.get(id).cloned()).collect();
        let details = ctx
            .loader::<CatalogLoader>()?
            .load_many(products.iter().map(|p| DetailsOf(p.id)))
            .await?;
        let details: Vec<Arc<ProductDetails>> = products
            .iter()
            .map(|p| details.get(&DetailsOf(p.id)).cloned().unwrap_or_default())
            .collect();
        Ok(ProductComparison {
            rows: rows(&products, &details),
            products,
        })
    }
}
