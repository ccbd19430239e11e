//! What a search asks: its text, filters and sort, checked once (see [`Search::new`]), and the
//! keyset position of a sorted page.

use super::{MAX_FILTER_TAGS, MAX_QUERY_CHARS};
use crate::ids::ProductId;
use cityos_core::ApiError;
use cityos_core::money::Currency;
use cityos_core::paging::CursorKey;

/// The order of a product list.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProductSortKey {
    /// Oldest first: the order products were created in.
    #[default]
    Created,
    /// Best match for the search text first (title and SKU weigh most, then tags and type, then
    /// the description). Needs a `query`.
    Relevance,
    /// Lowest price first: what the caller pays for one unit of the product's cheapest variant in
    /// the filter's `currency` (price lists and volume tiers for one unit apply). Products without
    /// a price in that currency come last. Needs a `currency`.
    Price,
    /// Most recently published first.
    Newest,
    /// Best rated first, by the mean of approved reviews' stars shrunk towards 3 by two imaginary
    /// 3-star reviews, so one 5-star review does not outrank a hundred 4.8s.
    Rating,
    /// Most units in placed orders first (`Product.unitsSold`).
    BestSelling,
}

impl ProductSortKey {
    const ALL: [Self; 6] = [
        Self::Created,
        Self::Relevance,
        Self::Price,
        Self::Newest,
        Self::Rating,
        Self::BestSelling,
    ];

    /// Whether the key's own order is descending (best, newest or most relevant first).
    pub(super) fn descending(self) -> bool {
        matches!(
            self,
            Self::Relevance | Self::Newest | Self::Rating | Self::BestSelling
        )
    }

    fn tag(self) -> u8 {
        match self {
            Self::Created => 1,
            Self::Relevance => 2,
            Self::Price => 3,
            Self::Newest => 4,
            Self::Rating => 5,
            Self::BestSelling => 6,
        }
    }

    /// The sort value of a matched product `x` (with its `rank` and `price`), as float8.
    pub(super) fn sql(self, descending: bool) -> &'static str {
        match self {
            Self::Created => "0::float8",
            Self::Relevance => "x.rank",
            // Unpriced products last either way.
            Self::Price if descending => "coalesce(x.price::float8, '-Infinity')",
            Self::Price => "coalesce(x.price::float8, 'Infinity')",
            Self::Newest => "extract(epoch FROM coalesce(x.published_at, x.created_at))::float8",
            Self::BestSelling => "x.units_sold::float8",
            Self::Rating => {
                "(x.rating_counts[1] + 2 * x.rating_counts[2] + 3 * x.rating_counts[3]
                  + 4 * x.rating_counts[4] + 5 * x.rating_counts[5] + 6)::float8
                 / (x.rating_counts[1] + x.rating_counts[2] + x.rating_counts[3]
                  + x.rating_counts[4] + x.rating_counts[5] + 2)"
            }
        }
    }
}

/// A place in a sorted product list: the sort, the product's sort value and its id (the
/// tie-break). Cursors carry the sort, so a cursor of one order is refused in another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub sort: ProductSortKey,
    pub value: f64,
    pub id: ProductId,
}

impl CursorKey for Position {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(25);
        bytes.push(self.sort.tag());
        bytes.extend_from_slice(&self.value.to_be_bytes());
        bytes.extend_from_slice(self.id.uuid().as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (&tag, rest) = bytes.split_first()?;
        let (value, id) = rest.split_at_checked(8)?;
        let sort = ProductSortKey::ALL.into_iter().find(|s| s.tag() == tag)?;
        let value = f64::from_be_bytes(value.try_into().ok()?);
        (!value.is_nan()).then_some(())?;
        Some(Self {
            sort,
            value,
            id: ProductId::from_uuid(uuid::Uuid::from_slice(id).ok()?),
        })
    }
}

/// What to match and how to order it, beside the list's [`Scope`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Words to find: `oud perfume`, `"rose oud"` (a phrase), `oud or musk`, `oud -sample`.
    pub text: Option<String>,
    /// Products carrying all of these tags.
    pub tags: Vec<String>,
    /// The currency of the price range, the price sort and the price facet.
    pub currency: Option<Currency>,
    /// Lowest and highest price, in minor units of `currency`, both inclusive.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with a unit available to sell (on hand less active reservations).
    pub in_stock: bool,
    pub sort: Option<ProductSortKey>,
    /// Runs the sort the other way.
    pub reverse: bool,
    /// The locale the text is written in (the request's), whose language stems its words.
    pub locale: Option<String>,
}

impl Search {
    /// Normalises a search (text trimmed, tags lower-cased as products store them) and checks it;
    /// `BAD_USER_INPUT` says what is wrong.
    pub fn checked(mut self) -> Result<Self, ApiError> {
        self.text = self
            .text
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if self
            .text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(ApiError::bad_input(format!(
                "`query` has at most {MAX_QUERY_CHARS} characters"
            )));
        }
        if self.tags.len() > MAX_FILTER_TAGS {
            return Err(ApiError::bad_input(format!(
                "filter by at most {MAX_FILTER_TAGS} tags"
            )));
        }
        self.tags = self
            .tags
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        for (name, price) in [("minPrice", self.min_price), ("maxPrice", self.max_price)] {
            if price.is_some_and(|p| p < 0) {
                return Err(ApiError::bad_input(format!(
                    "`{name}` must not be negative"
                )));
            }
            if price.is_some() && self.currency.is_none() {
                return Err(ApiError::bad_input(format!(
                    "`{name}` needs a `currency` to be in"
                )));
            }
        }
        if let (Some(min), Some(max)) = (self.min_price, self.max_price)
            && min > max
        {
            return Err(ApiError::bad_input("`minPrice` is above `maxPrice`"));
        }
        match self.sort {
            Some(ProductSortKey::Relevance) if self.text.is_none() => {
                Err(ApiError::bad_input("sorting by RELEVANCE needs a `query`"))
            }
            Some(ProductSortKey::Price) if self.currency.is_none() => {
                Err(ApiError::bad_input("sorting by PRICE needs a `currency`"))
            }
            _ => Ok(self),
        }
    }

    /// The sort in force: the one asked for, else relevance for a text search, else creation.
    pub fn sort_key(&self) -> ProductSortKey {
        self.sort.unwrap_or(if self.text.is_some() {
            ProductSortKey::Relevance
        } else {
            ProductSortKey::Created
        })
    }

    /// Whether the search leaves the plain listing as it is: no text, no filter, no sort. (A
    /// currency alone changes nothing but facets.)
    pub fn is_plain(&self) -> bool {
        self.text.is_none()
            && self.tags.is_empty()
            && self.min_price.is_none()
            && self.max_price.is_none()
            && !self.in_stock
            && self.sort.is_none()
            && !self.reverse
    }
}
