//! Autocomplete: product titles that start with, contain or resemble what has been typed so far.

use super::{MAX_QUERY_CHARS, MAX_SUGGESTIONS, MIN_FUZZY_CHARS, MIN_SIMILARITY};
use crate::products::cards::translation_join;
use crate::products::translations::{self, Wanted};
use crate::products::{Product, Visibility};
use cityos_core::ApiError;
use cityos_db::{Prepared, TenantTx};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel_async::RunQueryDsl;

/// What autocomplete looks for in a typed text: its words, the last one possibly unfinished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// `'oud' & 'perf':*`: every word, the last as a prefix.
    pub(super) prefix_query: String,
    /// The text lower-cased, for trigram similarity (typos).
    pub(super) text: String,
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
    let visible = visibility
        .condition(Some("p"))
        .map(|c| format!("AND {c}"))
        .unwrap_or_default();
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
