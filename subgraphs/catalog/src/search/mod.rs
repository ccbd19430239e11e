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

mod facets;
pub mod graphql;
use facets::read_facets;
mod request;
mod suggest;

use crate::ids::{ProductId, UserId};
use crate::products::cards::{ListingRow, card_columns, read_listing, translation_join};
use crate::products::translations::Wanted;
use crate::products::variants::ProductDetails;
use crate::products::{Product, Scope, Visibility};
use crate::taxonomy::categories::category_columns;
use cityos_core::ApiError;
use cityos_core::paging::{Page, PageRequest};
use cityos_db::Prepared;
use cityos_db::TenantTx;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
pub use facets::{
    CategoryCount, CollectionCount, Facets, IdCount, PriceRange, PriceSpread, TagCount,
};
pub use request::{Position, ProductSortKey, Search};
use std::collections::HashMap;
pub use suggest::{Typed, suggest};

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
    let visible = visibility
        .condition(Some("p"))
        .unwrap_or_else(|| "true".to_owned());
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
                SELECT p.id, p.vendor_id, p.tags, p.published_at, p.created_at, p.rating_counts, p.units_sold,
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

#[cfg(test)]
mod tests {
    use super::*;
    use cityos_core::money::Currency;
    use cityos_core::paging::CursorKey;

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
