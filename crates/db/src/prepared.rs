//! Hand-written SQL that is still prepared once per connection.
//!
//! diesel refuses to cache the prepared statement of any query containing raw SQL (`sql_query`,
//! `dsl::sql`), because such text may embed values and grow the cache without bound. A fixed
//! statement then pays PostgreSQL's parse and plan on every execution, which for a listing query is
//! more than its execution. [`Prepared`] marks a query whose text comes from a small, fixed set of
//! strings, so the connection's statement cache keys it by that text and reuses the plan.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// A query diesel may prepare once and reuse. Wrap only queries whose SQL text never contains a
/// value (every value a bind parameter), so the number of distinct texts stays small.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}
