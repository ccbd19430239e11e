//! Product search (migration catalog 000011): full text with ranking, filters, sorts and facet
//! counts in one statement, and autocomplete.
//!
//! Each product has a search row beside its card: a weighted `tsvector` over its title, SKUs and
//! barcodes, tags and type, description and translations, and a plain word list for trigram
//! similarity. A search statement first collects the matching products (`matched`: text, scope
//! and filters, with each one's price for the caller and whether it is in stock), then reads one
//! page of them with their cards, the total, and on request the facet counts over all of them.
//!
//! Prices are what the caller pays for one unit of the product's cheapest variant, by
//! `catalog.from_price`, the pricing function's rule restated in SQL (a test holds the two equal).
//! Facet counts are over the products the search matches with every filter applied.
//!
//! Search statements take their varying values as bind parameters and vary their text only by
//! visibility, text or not, sort, direction and facets or not (240 texts at most), so each
//! connection prepares each once.

pub mod graphql;

use crate::ids::{ProductId, UserId};
use crate::products::cards::{ListingRow, card_columns, read_listing, translation_join};
use crate::products::translations::{self, Wanted};
use crate::products::variants::ProductDetails;
use crate::products::{Product, Scope, Visibility};
use crate::taxonomy::categories::{Category, category_columns};
use crate::taxonomy::collections::Collection;
use cityos_core::ApiError;
use cityos_core::money::Currency;
use cityos_core::paging::{CursorKey, Page, PageRequest};
use cityos_db::Prepared;
use cityos_db::TenantTx;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use std::collections::HashMap;

/// The longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most tags one search may require.
pub const MAX_FILTER_TAGS: usize = 20;
/// The most suggestions one autocomplete returns.
pub const MAX_SUGGESTIONS: i32 = 20;
/// The most values one facet lists.
pub const MAX_FACET_VALUES: usize = 100;
/// A typo-tolerant suggestion needs at least this word similarity (0 to 1) with the query.
const MIN_SIMILARITY: f64 = 0.3;
/// Queries shorter than this many characters are completed by prefix only: a trigram of one or
/// two letters is similar to too much.
const MIN_FUZZY_CHARS: usize = 3;

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
}

impl ProductSortKey {
    const ALL: [Self; 5] = [
        Self::Created,
        Self::Relevance,
        Self::Price,
        Self::Newest,
        Self::Rating,
    ];

    /// Whether the key's own order is descending (best, newest or most relevant first).
    fn descending(self) -> bool {
        matches!(self, Self::Relevance | Self::Newest | Self::Rating)
    }

    fn tag(self) -> u8 {
        match self {
            Self::Created => 1,
            Self::Relevance => 2,
            Self::Price => 3,
            Self::Newest => 4,
            Self::Rating => 5,
        }
    }

    /// The sort value of a matched product `x` (with its `rank` and `price`), as float8.
    fn sql(self, descending: bool) -> &'static str {
        match self {
            Self::Created => "0::float8",
            Self::Relevance => "x.rank",
            // Unpriced products last either way.
            Self::Price if descending => "coalesce(x.price::float8, '-Infinity')",
            Self::Price => "coalesce(x.price::float8, 'Infinity')",
            Self::Newest => "extract(epoch FROM coalesce(x.published_at, x.created_at))::float8",
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

/// The caller's customer groups (`me`), the parsed search text (`tq`) and the matching products (`matched`: id, vendor, tags, price,
/// in stock, sort key). Binds: `$2` caller, `$5` vendor, `$6` collection, `$7` category, `$12`
/// text, `$13` the locale whose language parses the text, `$14` tags, `$15` currency, `$16`/`$17`
/// price range, `$18` in stock only.
///
/// The inner query finds the products in scope that match the text and the cheap filters, and
/// prices each once (`OFFSET 0` keeps the planner from copying the price expression into every
/// condition that reads it); the outer one applies the price and stock filters.
fn matched_sql(
    visibility: Visibility,
    text: bool,
    sort: ProductSortKey,
    descending: bool,
) -> String {
    let (search_join, text_condition, rank) = if text {
        (
            "JOIN catalog.product_search s ON s.tenant_id = p.tenant_id AND s.product_id = p.id
             CROSS JOIN tq",
            "AND s.document @@ tq.query",
            "ts_rank_cd(s.document, tq.query, 1)::float8",
        )
    } else {
        ("", "", "0::float8")
    };
    let visible = match visibility {
        Visibility::All => "true",
        Visibility::PublishedOnly => "p.status = 'PUBLISHED'",
    };
    format!(
        "WITH me AS MATERIALIZED (
            SELECT coalesce(array_agg(m.group_id), '{{}}') AS groups
            FROM catalog.customer_group_members m WHERE m.user_id = $2
        ), tq AS MATERIALIZED (
            SELECT websearch_to_tsquery(catalog.search_config($13), $12)
                   || websearch_to_tsquery('pg_catalog.english', $12)
                   || websearch_to_tsquery('pg_catalog.simple', $12) AS query
        ), matched AS MATERIALIZED (
            SELECT x.id, x.vendor_id, x.tags, x.price, x.in_stock, {key} AS key
            FROM (
                SELECT p.id, p.vendor_id, p.tags, p.published_at, p.created_at, p.rating_counts,
                    {rank} AS rank, fp.amount AS price,
                    EXISTS (
                        SELECT 1 FROM catalog.stock_levels l
                        WHERE l.product_id = p.id AND l.on_hand > coalesce((
                            SELECT sum(r.quantity) FROM catalog.stock_reservations r
                            WHERE r.variant_id = l.variant_id AND r.location_id = l.location_id
                              AND r.status = 'ACTIVE' AND r.expires_at > now()), 0)) AS in_stock
                FROM catalog.products p
                {search_join}
                CROSS JOIN me
                LEFT JOIN LATERAL catalog.from_price(p.id, $15, me.groups, now()) fp ON true
                WHERE {visible} {text_condition}
                  AND ($5::uuid IS NULL OR p.vendor_id = $5)
                  AND ($6::uuid IS NULL OR p.id IN (
                        SELECT cp.product_id FROM catalog.collection_products cp
                        WHERE cp.collection_id = $6))
                  AND ($7::uuid IS NULL OR p.id IN (
                        SELECT pc.product_id FROM catalog.product_categories pc
                        JOIN catalog.categories cat
                          ON cat.tenant_id = pc.tenant_id AND cat.id = pc.category_id
                        WHERE cat.path <@ (SELECT t.path FROM catalog.categories t WHERE t.id = $7)))
                  AND ($14::text[] IS NULL OR p.tags @> $14)
                OFFSET 0
            ) x
            WHERE (NOT $18 OR x.in_stock)
              AND ($16::bigint IS NULL OR x.price >= $16)
              AND ($17::bigint IS NULL OR x.price <= $17)
        )",
        key = sort.sql(descending),
    )
}

/// Facet counts over `matched`, as one JSON document (see [`Facets`]), with the categories and
/// collections counted (so showing their names costs no statement).
const FACETS_SQL: &str = concat!(
    "json_build_object(
    'categories', coalesce((
        SELECT json_agg(json_build_object('count', f.n, 'category', (
                   SELECT to_json(k) FROM (SELECT ",
    category_columns!(),
    " FROM catalog.categories c WHERE c.id = f.id) k)) ORDER BY f.n DESC, f.id)
        FROM (SELECT anc.id, count(DISTINCT m.id) AS n
              FROM matched m
              JOIN catalog.product_categories pc ON pc.product_id = m.id
              JOIN catalog.categories cat ON cat.tenant_id = pc.tenant_id AND cat.id = pc.category_id
              JOIN catalog.categories anc ON anc.tenant_id = cat.tenant_id AND anc.path @> cat.path
              GROUP BY anc.id ORDER BY n DESC, anc.id LIMIT 100) f), '[]'),
    'collections', coalesce((
        SELECT json_agg(json_build_object('count', f.n, 'collection', to_json(col))
                        ORDER BY f.n DESC, f.id)
        FROM (SELECT cp.collection_id AS id, count(*) AS n
              FROM matched m JOIN catalog.collection_products cp ON cp.product_id = m.id
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100) f
        JOIN catalog.collections col ON col.id = f.id), '[]'),
    'vendors', coalesce((
        SELECT json_agg(json_build_object('id', f.id, 'count', f.n) ORDER BY f.n DESC, f.id)
        FROM (SELECT m.vendor_id AS id, count(*) AS n
              FROM matched m WHERE m.vendor_id IS NOT NULL
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100) f), '[]'),
    'tags', coalesce((
        SELECT json_agg(json_build_object('tag', f.tag, 'count', f.n) ORDER BY f.n DESC, f.tag)
        FROM (SELECT t.tag, count(*) AS n
              FROM matched m CROSS JOIN unnest(m.tags) AS t (tag)
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100) f), '[]'),
    'in_stock', (SELECT count(*) FROM matched m WHERE m.in_stock),
    'price', (
        SELECT json_build_object('min', x.lo, 'max', x.hi, 'step', x.step, 'ranges', (
            SELECT json_agg(json_build_object('from', r.b, 'count', r.n) ORDER BY r.b)
            FROM (SELECT m.price / x.step * x.step AS b, count(*) AS n
                  FROM matched m WHERE m.price IS NOT NULL GROUP BY 1) r))
        FROM (SELECT min(m.price) AS lo, max(m.price) AS hi,
                     catalog.price_step(min(m.price), max(m.price)) AS step
              FROM matched m WHERE m.price IS NOT NULL) x
        WHERE x.lo IS NOT NULL))::text"
);

/// How the search statements of one request differ in text.
#[derive(Debug, Clone, Copy)]
struct Shape {
    visibility: Visibility,
    text: bool,
    sort: ProductSortKey,
    /// The order rows are read in: the list's order, turned round for a page read backwards.
    descending: bool,
    facets: bool,
}

impl Shape {
    fn of(visibility: Visibility, search: &Search, backward: bool, facets: bool) -> Self {
        let sort = search.sort_key();
        let list_descending = sort.descending() != search.reverse;
        Self {
            visibility,
            text: search.text.is_some(),
            sort,
            descending: list_descending != backward,
            facets,
        }
    }

    /// The page statement: `$1` the fetch limit, `$3`/`$10` the id and sort value after which
    /// and `$4`/`$11` before which the page lies, `$8`/`$9` the wanted locale and language.
    fn page_sql(self, list_descending: bool) -> String {
        let (after, before) = if list_descending {
            ("<", ">")
        } else {
            (">", "<")
        };
        let order = if self.descending { "DESC" } else { "ASC" };
        let facets = if self.facets {
            format!(
                "CASE WHEN row_number() OVER (ORDER BY m.key {order}, m.id {order}) = 1
                 THEN {FACETS_SQL} END"
            )
        } else {
            "NULL::text".to_owned()
        };
        format!(
            "{matched}
            SELECT p.*, (SELECT count(*) FROM matched) AS total, m.key AS sort_value,
                tr.title AS tr_title, tr.description AS tr_description, {columns},
                {facets} AS facets
            FROM matched m
            JOIN catalog.products p ON p.id = m.id
            JOIN catalog.product_cards c ON c.tenant_id = p.tenant_id AND c.product_id = p.id
            {translation}
            WHERE ($3::uuid IS NULL OR (m.key, m.id) {after} ($10::float8, $3::uuid))
              AND ($4::uuid IS NULL OR (m.key, m.id) {before} ($11::float8, $4::uuid))
            ORDER BY m.key {order}, m.id {order} LIMIT $1",
            matched = matched_sql(self.visibility, self.text, self.sort, list_descending),
            columns = card_columns!(),
            translation = translation_join!("$8", "$9"),
        )
    }

    /// The total and facets alone, for a page past a cursor that has no rows to carry them.
    fn summary_sql(self, list_descending: bool) -> String {
        format!(
            "{matched}
            SELECT (SELECT count(*) FROM matched) AS total, {facets} AS facets",
            matched = matched_sql(self.visibility, self.text, self.sort, list_descending),
            facets = if self.facets {
                FACETS_SQL
            } else {
                "NULL::text"
            },
        )
    }
}

/// Binds a search statement's parameters in order, `$1` to `$18`.
macro_rules! bind_search {
    ($query:expr, $limit:expr, $customer:expr, $page:expr, $scope:expr, $wanted:expr, $search:expr) => {{
        let (page, search) = ($page, $search);
        let position = |p: Option<Position>| (p.map(|p| p.id), p.map(|p| p.value));
        let (after_id, after_value) = position(page.after);
        let (before_id, before_value) = position(page.before);
        $query
            .bind::<BigInt, _>($limit)
            .bind::<Nullable<SqlUuid>, _>($customer)
            .bind::<Nullable<SqlUuid>, _>(after_id)
            .bind::<Nullable<SqlUuid>, _>(before_id)
            .bind::<Nullable<SqlUuid>, _>($scope.vendor)
            .bind::<Nullable<SqlUuid>, _>($scope.collection)
            .bind::<Nullable<SqlUuid>, _>($scope.category)
            .bind::<Nullable<Text>, _>($wanted.exact.clone())
            .bind::<Nullable<Text>, _>($wanted.language.clone())
            .bind::<Nullable<Double>, _>(after_value)
            .bind::<Nullable<Double>, _>(before_value)
            .bind::<Text, _>(search.text.clone().unwrap_or_default())
            .bind::<Text, _>(search.locale.clone().unwrap_or_default())
            .bind::<Nullable<Array<Text>>, _>(
                (!search.tags.is_empty()).then(|| search.tags.clone()),
            )
            .bind::<Nullable<Text>, _>(search.currency.map(|c| c.code().to_owned()))
            .bind::<Nullable<BigInt>, _>(search.min_price)
            .bind::<Nullable<BigInt>, _>(search.max_price)
            .bind::<Bool, _>(search.in_stock)
    }};
}

#[derive(QueryableByName)]
struct SearchRow {
    #[diesel(embed)]
    listing: ListingRow,
    #[diesel(sql_type = Double)]
    sort_value: f64,
    #[diesel(sql_type = Nullable<Text>)]
    facets: Option<String>,
}

#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Nullable<Text>)]
    facets: Option<String>,
}

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

fn read_facets(json: Option<String>) -> QueryResult<Option<Facets>> {
    json.map(|j| {
        serde_json::from_str(&j).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
    })
    .transpose()
}

/// One page of a search.
pub struct Found {
    pub page: Page<Product>,
    /// The listed products' options and variants as the caller sees them.
    pub details: HashMap<ProductId, ProductDetails>,
    /// When asked for.
    pub facets: Option<Facets>,
}

/// A page of the products in `scope` that `search` matches, sorted, with their total count, their
/// details as `customer` sees them and, with `facets`, the facet counts: one statement whatever
/// the page size (two for an empty page past a cursor).
#[allow(
    clippy::too_many_arguments,
    reason = "the listing's arguments plus the search"
)]
pub async fn page(
    tx: &mut TenantTx<'_>,
    scope: Scope,
    search: &Search,
    page: &PageRequest<Position>,
    customer: Option<UserId>,
    staff: bool,
    wanted: &Wanted,
    facets: bool,
) -> Result<Found, ApiError> {
    let sort = search.sort_key();
    if [page.after, page.before]
        .iter()
        .flatten()
        .any(|p| p.sort != sort)
    {
        return Err(ApiError::bad_input(
            "the cursor belongs to a list in another order",
        ));
    }
    let shape = Shape::of(scope.visibility, search, page.backward, facets);
    let list_descending = sort.descending() != search.reverse;
    let rows: Vec<SearchRow> = Prepared(bind_search!(
        diesel::sql_query(shape.page_sql(list_descending)),
        page.fetch_limit(),
        customer,
        page,
        scope,
        wanted,
        search
    ))
    .load(tx.conn())
    .await?;
    let (total, facets) = match <[_]>::first(&rows) {
        Some(first) => (first.listing.total, read_facets(first.facets.clone())?),
        None if page.after.is_some() || page.before.is_some() => {
            let sql = shape.summary_sql(list_descending);
            let summary = summary(tx, sql, page, customer, scope, wanted, search).await?;
            (summary.total, read_facets(summary.facets)?)
        }
        // Nothing matched at all.
        None => (0, facets.then(Facets::default)),
    };
    let positions: HashMap<ProductId, f64> = rows
        .iter()
        .map(|r| (r.listing.product.id, r.sort_value))
        .collect();
    let (products, details) = read_listing(rows.into_iter().map(|r| r.listing).collect(), staff)?;
    let page = page.finish(
        products,
        |p| Position {
            sort,
            value: positions[&p.id],
            id: p.id,
        },
        total,
    );
    Ok(Found {
        page,
        details,
        facets,
    })
}

/// The total and facet counts of a search without reading a page (for a list read in its own
/// order, such as a collection's): one statement.
pub async fn facets(
    tx: &mut TenantTx<'_>,
    scope: Scope,
    search: &Search,
    customer: Option<UserId>,
    wanted: &Wanted,
) -> Result<Facets, ApiError> {
    let shape = Shape::of(scope.visibility, search, false, true);
    let list_descending = search.sort_key().descending() != search.reverse;
    let unpaged = PageRequest::<Position> {
        after: None,
        before: None,
        size: 0,
        backward: false,
    };
    let sql = shape.summary_sql(list_descending);
    let summary = summary(tx, sql, &unpaged, customer, scope, wanted, search).await?;
    Ok(read_facets(summary.facets)?.unwrap_or_default())
}

/// Runs a summary statement ([`Shape::summary_sql`]).
async fn summary(
    tx: &mut TenantTx<'_>,
    sql: String,
    page: &PageRequest<Position>,
    customer: Option<UserId>,
    scope: Scope,
    wanted: &Wanted,
    search: &Search,
) -> QueryResult<SummaryRow> {
    Prepared(bind_search!(
        diesel::sql_query(sql),
        0,
        customer,
        page,
        scope,
        wanted,
        search
    ))
    .get_result(tx.conn())
    .await
}

/// What autocomplete looks for in a typed text: its words, the last one possibly unfinished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// `'oud' & 'perf':*`: every word, the last as a prefix.
    prefix_query: String,
    /// The text lower-cased, for trigram similarity (typos).
    text: String,
}

impl Typed {
    /// `None` when the text has no word (letters or digits) at all.
    pub fn parse(text: &str) -> Result<Option<Self>, ApiError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::bad_input(format!(
                "`query` has at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let text = text.trim().to_lowercase();
        // Words are letters and digits only, so quoting them cannot break out of the tsquery.
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(10)
            .collect();
        let Some((last, rest)) = words.split_last() else {
            return Ok(None);
        };
        let mut prefix_query: Vec<String> = rest.iter().map(|w| format!("'{w}'")).collect();
        prefix_query.push(format!("'{last}':*"));
        Ok(Some(Self {
            prefix_query: prefix_query.join(" & "),
            text,
        }))
    }
}

#[derive(QueryableByName)]
struct SuggestionRow {
    #[diesel(embed)]
    product: Product,
    #[diesel(sql_type = Double)]
    score: f64,
    #[diesel(sql_type = Nullable<Text>)]
    tr_title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tr_description: Option<String>,
}

/// Products for a text being typed, best first, with their scores: those whose words start with
/// what is typed (score above 1), then those whose words are close to it (score 0.3 to 1, the
/// trigram word similarity), which forgives typos. One statement.
pub async fn suggest(
    tx: &mut TenantTx<'_>,
    visibility: Visibility,
    typed: &Typed,
    first: i32,
    wanted: &Wanted,
) -> Result<Vec<(Product, f64)>, ApiError> {
    if !(1..=MAX_SUGGESTIONS).contains(&first) {
        return Err(ApiError::bad_input(format!(
            "`first` must be between 1 and {MAX_SUGGESTIONS}"
        )));
    }
    let visible = match visibility {
        Visibility::All => "",
        Visibility::PublishedOnly => "AND p.status = 'PUBLISHED'",
    };
    let fuzzy = if typed.text.chars().count() >= MIN_FUZZY_CHARS {
        format!(
            "UNION ALL
            SELECT f.product_id, f.score FROM (
                SELECT s.product_id, 1 - (s.words <->> $3)::float8 AS score
                FROM catalog.product_search s
                JOIN catalog.products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
                WHERE true {visible}
                ORDER BY s.words <->> $3 LIMIT $1) f
            WHERE f.score >= {MIN_SIMILARITY}"
        )
    } else {
        String::new()
    };
    let sql = format!(
        "WITH candidates AS (
            SELECT x.product_id, x.score FROM (
                SELECT s.product_id, 1 + ts_rank_cd(s.document, q.query)::float8 AS score
                FROM catalog.product_search s
                JOIN catalog.products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
                CROSS JOIN (SELECT to_tsquery('pg_catalog.simple', $2) AS query) q
                WHERE s.document @@ q.query {visible}
                ORDER BY score DESC, s.product_id LIMIT $1) x
            {fuzzy}
        ), best AS (
            SELECT product_id, max(score) AS score FROM candidates
            GROUP BY product_id ORDER BY 2 DESC, 1 LIMIT $1
        )
        SELECT p.*, b.score, tr.title AS tr_title, tr.description AS tr_description
        FROM best b
        JOIN catalog.products p ON p.id = b.product_id
        {translation}
        ORDER BY b.score DESC, p.id",
        translation = translation_join!("$4", "$5"),
    );
    let rows: Vec<SuggestionRow> = Prepared(
        diesel::sql_query(sql)
            .bind::<BigInt, _>(i64::from(first))
            .bind::<Text, _>(&typed.prefix_query)
            .bind::<Text, _>(&typed.text)
            .bind::<Nullable<Text>, _>(wanted.exact.as_deref())
            .bind::<Nullable<Text>, _>(wanted.language.as_deref()),
    )
    .load(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
            if let Some(title) = row.tr_title {
                translations::apply(
                    &mut row.product,
                    title,
                    row.tr_description.unwrap_or_default(),
                );
            }
            (row.product, row.score)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_keep_their_sort() {
        let at = Position {
            sort: ProductSortKey::Price,
            value: f64::INFINITY,
            id: ProductId::new(),
        };
        let bytes = at.to_bytes();
        assert_eq!(Position::from_bytes(&bytes), Some(at));
        assert_eq!(Position::from_bytes(&bytes[..24]), None);
        let mut nan = bytes.clone();
        nan[1..9].copy_from_slice(&f64::NAN.to_be_bytes());
        assert_eq!(Position::from_bytes(&nan), None);
        let mut unknown = bytes;
        unknown[0] = 99;
        assert_eq!(Position::from_bytes(&unknown), None);
    }

    #[test]
    fn typed_text_becomes_words_with_a_prefix_last() {
        let typed = Typed::parse("  Oud-Perf ").unwrap().unwrap();
        assert_eq!(typed.prefix_query, "'oud' & 'perf':*");
        assert_eq!(typed.text, "oud-perf");
        // Quotes and operators are not words; they cannot reach the tsquery.
        let typed = Typed::parse("it's & !(x)").unwrap().unwrap();
        assert_eq!(typed.prefix_query, "'it' & 's' & 'x':*");
        assert_eq!(Typed::parse(" -!? ").unwrap(), None);
        assert!(Typed::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        let arabic = Typed::parse("عطر الع").unwrap().unwrap();
        assert_eq!(arabic.prefix_query, "'عطر' & 'الع':*");
    }

    #[test]
    fn searches_are_checked() {
        let sar = Currency::parse("SAR").ok();
        let ok = |s: Search| s.checked().is_ok();
        assert!(!ok(Search {
            sort: Some(ProductSortKey::Relevance),
            ..Search::default()
        }));
        assert!(!ok(Search {
            sort: Some(ProductSortKey::Price),
            ..Search::default()
        }));
        assert!(!ok(Search {
            min_price: Some(100),
            ..Search::default()
        }));
        assert!(!ok(Search {
            currency: sar,
            min_price: Some(200),
            max_price: Some(100),
            ..Search::default()
        }));
        assert!(!ok(Search {
            currency: sar,
            min_price: Some(-1),
            ..Search::default()
        }));
        let search = Search {
            text: Some("  oud ".into()),
            tags: vec![" Gift ".into()],
            ..Search::default()
        }
        .checked()
        .unwrap();
        assert_eq!(search.text.as_deref(), Some("oud"));
        assert_eq!(search.tags, ["gift"]);
        assert_eq!(search.sort_key(), ProductSortKey::Relevance);
        let blank = Search {
            text: Some("   ".into()),
            ..Search::default()
        }
        .checked()
        .unwrap();
        assert!(blank.is_plain());
    }
}
