//! Relay cursor connections over time-ordered (UUID v7) keys.
//!
//! Lists are keyset-paged: a cursor is an opaque encoding of the last id seen, so a page costs one
//! index range scan however deep it is, and rows inserted meanwhile never shift a page. Every
//! subgraph builds its connection types with [`connection!`](crate::connection); they share one
//! [`PageInfo`], marked `@shareable` so the supergraph composes.

use crate::ApiError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when the client gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// The complexity of a list field: its page size (`first` or `last`, else the default, clamped to
/// the maximum) times what each item selects, plus one.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    usize::try_from(size).unwrap_or(1) * child_complexity + 1
}

/// Where a page sits in its list (Relay `PageInfo`).
#[derive(async_graphql::SimpleObject, Debug, Clone, Default, PartialEq, Eq)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// The cursor of the first item on this page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item on this page.
    pub end_cursor: Option<String>,
}

/// A list position a cursor encodes. Lists keyed by a UUID v7 use the id itself; lists in another
/// order (search results by relevance or price) use that order's key with the id as tie-break.
/// Cursors are these bytes, base64url-encoded.
pub trait CursorKey: Sized {
    /// The position as bytes.
    fn to_bytes(&self) -> Vec<u8>;
    /// The position that [`to_bytes`](Self::to_bytes) gave these bytes for; `None` for any other.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl CursorKey for Uuid {
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Uuid::from_slice(bytes).ok()
    }
}

/// A validated page request: which key range to read and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// Only keys strictly greater than this.
    pub after: Option<K>,
    /// Only keys strictly less than this.
    pub before: Option<K>,
    /// How many items the page holds.
    pub size: i64,
    /// Read from the end (`last`) rather than from the start (`first`).
    pub backward: bool,
}

impl<K: CursorKey> PageRequest<K> {
    /// Validates Relay arguments for a list whose cursors encode `K` (an entity's id, or the
    /// list's order key): `first` and `last` are exclusive, between 1 and [`MAX_PAGE_SIZE`].
    pub fn new(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self, ApiError> {
        let check = |name: &str, n: i32| {
            if (1..=MAX_PAGE_SIZE).contains(&n) {
                Ok(i64::from(n))
            } else {
                Err(ApiError::bad_input(format!(
                    "`{name}` must be between 1 and {MAX_PAGE_SIZE}"
                )))
            }
        };
        let (size, backward) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input("give `first` or `last`, not both"));
            }
            (Some(n), None) => (check("first", n)?, false),
            (None, Some(n)) => (check("last", n)?, true),
            (None, None) => (i64::from(DEFAULT_PAGE_SIZE), false),
        };
        Ok(Self {
            after: after.map(decode_cursor).transpose()?,
            before: before.map(decode_cursor).transpose()?,
            size,
            backward,
        })
    }

    /// For a list read newest first by hand-written SQL on a UUID v7 key, where "after" a cursor
    /// means older: the `ORDER BY` direction of the fetch, and the keys the rows must be older
    /// than and newer than.
    pub fn newest_first(&self) -> (&'static str, Option<K>, Option<K>)
    where
        K: Copy,
    {
        if self.backward {
            ("ASC", self.before, self.after)
        } else {
            ("DESC", self.after, self.before)
        }
    }

    /// The number of rows to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.size + 1
    }

    /// Builds a page from rows fetched in the request's direction (ascending keys forward,
    /// descending backward) with [`fetch_limit`](Self::fetch_limit).
    pub fn finish<N>(&self, mut rows: Vec<N>, key: impl Fn(&N) -> K, total_count: i64) -> Page<N> {
        let more = rows.len() as i64 > self.size;
        rows.truncate(usize::try_from(self.size).unwrap_or(usize::MAX));
        if self.backward {
            rows.reverse();
        }
        let items: Vec<(String, N)> = rows
            .into_iter()
            .map(|n| (encode_cursor(&key(&n)), n))
            .collect();
        let page_info = PageInfo {
            has_next_page: if self.backward {
                self.before.is_some()
            } else {
                more
            },
            has_previous_page: if self.backward {
                more
            } else {
                self.after.is_some()
            },
            start_cursor: items.first().map(|(c, _)| c.clone()),
            end_cursor: items.last().map(|(c, _)| c.clone()),
        };
        Page {
            items,
            page_info,
            total_count,
        }
    }
}

/// One page of a list, ready to become a connection.
#[derive(Debug, Clone)]
pub struct Page<N> {
    /// The items with their cursors, in list order.
    pub items: Vec<(String, N)>,
    /// Where the page sits.
    pub page_info: PageInfo,
    /// How many items the whole list has.
    pub total_count: i64,
}

impl<N> Page<N> {
    /// Maps the items, keeping cursors and counts.
    pub fn map<M>(self, f: impl Fn(N) -> M) -> Page<M> {
        Page {
            items: self.items.into_iter().map(|(c, n)| (c, f(n))).collect(),
            page_info: self.page_info,
            total_count: self.total_count,
        }
    }
}

/// Encodes a key as an opaque cursor.
pub fn encode_cursor<K: CursorKey>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// Decodes a cursor made by [`encode_cursor`]; anything else is `BAD_USER_INPUT`.
pub fn decode_cursor<K: CursorKey>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| K::from_bytes(&bytes))
        .ok_or_else(|| ApiError::bad_input("invalid cursor"))
}

/// Declares a Relay connection type and its edge type for a node type.
///
/// ```ignore
/// cityos_core::connection!(ProductConnection, ProductEdge, Product, "product");
/// ```
#[macro_export]
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " in a list, with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            #[doc = "Opaque cursor: pass it as `after` or `before` to page from here."]
            pub cursor: String,
            #[doc = concat!("The ", $what, ".")]
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, " items (Relay connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            #[doc = "The items on this page, in order."]
            pub edges: Vec<$edge>,
            #[doc = "Where this page sits in the whole list."]
            pub page_info: $crate::paging::PageInfo,
            #[doc = "How many items the whole list has, over all pages."]
            pub total_count: i64,
        }

        impl From<$crate::paging::Page<$node>> for $connection {
            fn from(page: $crate::paging::Page<$node>) -> Self {
                Self {
                    edges: page
                        .items
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info: page.page_info,
                    total_count: page.total_count,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor::<Uuid>(&encode_cursor(&id)).unwrap(), id);
        assert_eq!(
            decode_cursor::<Uuid>("not a cursor").unwrap_err().code,
            crate::ErrorCode::BadUserInput
        );
    }

    #[test]
    fn arguments_are_bounded() {
        assert!(PageRequest::<Uuid>::new(Some(0), None, None, None).is_err());
        assert!(PageRequest::<Uuid>::new(Some(101), None, None, None).is_err());
        assert!(PageRequest::<Uuid>::new(Some(1), None, Some(1), None).is_err());
        assert_eq!(
            PageRequest::<Uuid>::new(None, None, None, None)
                .unwrap()
                .size,
            20
        );
    }

    #[test]
    fn forward_page_reports_next_page() {
        let all = ids(4);
        let req = PageRequest::new(Some(3), None, None, None).unwrap();
        let page = req.finish(all.clone(), |id| *id, 4);
        assert_eq!(page.items.len(), 3);
        assert!(page.page_info.has_next_page);
        assert!(!page.page_info.has_previous_page);
        assert_eq!(page.page_info.end_cursor, Some(encode_cursor(&all[2])));
    }

    #[test]
    fn backward_page_is_returned_in_list_order() {
        let all = ids(3);
        let req = PageRequest::new(None, None, Some(2), None).unwrap();
        // Fetched newest first, as the query reads backward.
        let fetched: Vec<Uuid> = all.iter().rev().copied().collect();
        let page = req.finish(fetched, |id| *id, 3);
        let got: Vec<Uuid> = page.items.iter().map(|(_, id)| *id).collect();
        assert_eq!(got, vec![all[1], all[2]]);
        assert!(page.page_info.has_previous_page);
    }
}
