//! The response cache of a subgraph's storefront reads: whole answers to `POST /graphql`, kept in
//! the process and served again while nothing they were computed from has changed.
//!
//! **What is cached.** The answer to a query (never a mutation) that succeeded without errors,
//! for a caller who is not staff: anonymous callers, storefront keys and signed-in customers.
//! Staff and secret keys see drafts and back-office data and are never cached, nor served from
//! the cache.
//!
//! **The key** is a SHA-256 digest of everything an answer depends on besides the data: the
//! tenant (id, slug, default currency and locale), the caller (kind; a signed-in user's id and
//! roles, so customer groups, wishlists and other personal answers are the user's own), the
//! request's locale, and the request body as the router sent it (the operation, its variables,
//! hence currency and page). Nothing else of a request reaches a resolver.
//!
//! **Invalidation is exact and synchronous.** A schema that caches tracks its changes
//! (`platform.track_changes`): every statement writing a tenant table records (tenant,
//! transaction) in `<schema>.changes`, whichever process writes it (orders writes stock through
//! the catalog's api). Before an answer is computed, the cache takes a database snapshot; before
//! a kept answer is served, one statement (`<schema>.changed_since`) asks whether a transaction
//! that snapshot did not see has since committed a change for the tenant. So the request after a
//! commit never gets an answer from before it, in any process. A change committed while an answer
//! was being computed makes that answer stale at once: it is recomputed, never served.
//!
//! **Time.** What changes without a write (a price list's window opening or closing, a stock
//! reservation expiring) is the subgraph's [`Policy::valid_until`]: a SQL function giving the next
//! such moment for a tenant; an answer is not served from that moment on. No answer is kept longer
//! than [`MAX_AGE`] (the change log is pruned well after that).
//!
//! **Memory** is bounded by the byte budget (`CITYOS_RESPONSE_CACHE_MB`): answers, keys and their
//! bookkeeping are counted, and the oldest answers are dropped first when it is exceeded.

use crate::metrics;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use cityos_core::ids::TenantId;
use cityos_core::{Actor, ApiError, RequestContext};
use cityos_db::Database;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest an answer is kept, whatever else holds.
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// What a subgraph tells the cache about its answers.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A SQL function `(tenant uuid) -> timestamptz`: the next moment at which the tenant's
    /// answers may change with no write (null: none). It sets the tenant itself, like
    /// `changed_since`.
    pub valid_until: Option<&'static str>,
}

/// Bytes an entry costs beyond its answer and snapshot: the key twice (map and queue), the
/// entry's fields and the map's and queue's own slots, rounded up.
const ENTRY_OVERHEAD: usize = 160;

/// The digest of everything an answer depends on besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

/// What the cache took before an answer was computed: the snapshot it is checked against.
#[derive(Debug, Clone)]
pub struct Fill {
    tenant: TenantId,
    snapshot: Arc<str>,
    valid_until: Option<DateTime<Utc>>,
}

struct Entry {
    body: Bytes,
    fill: Fill,
    filled: Instant,
    seq: u64,
}

impl Entry {
    fn cost(&self) -> usize {
        self.body.len() + self.fill.snapshot.len() + ENTRY_OVERHEAD
    }
}

#[derive(Default)]
struct Store {
    entries: HashMap<Key, Entry>,
    /// Keys in the order they were filled (with the fill's sequence number, so a key filled
    /// again is not dropped for its older fill).
    order: VecDeque<(Key, u64)>,
    bytes: usize,
    next: u64,
}

impl Store {
    fn remove(&mut self, key: &Key, seq: u64) {
        if self.entries.get(key).is_some_and(|e| e.seq == seq)
            && let Some(entry) = self.entries.remove(key)
        {
            self.bytes -= entry.cost();
        }
    }
}

/// One process's cache of one subgraph's answers.
pub struct ResponseCache {
    schema: &'static str,
    budget: usize,
    check_sql: String,
    fill_sql: String,
    store: Mutex<Store>,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("schema", &self.schema)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = Bool)]
    changed: bool,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Text)]
    snapshot: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    valid_until: Option<DateTime<Utc>>,
}

/// Feeds a length-prefixed field, so no two different keys hash the same bytes.
fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

impl ResponseCache {
    /// A cache of `schema`'s answers (the schema tracks its changes) holding at most
    /// `budget_bytes`.
    pub fn new(schema: &'static str, policy: Policy, budget_bytes: usize) -> Self {
        let valid_until = policy
            .valid_until
            .map_or_else(|| "NULL::timestamptz".to_owned(), |f| format!("{f}($1)"));
        Self {
            schema,
            budget: budget_bytes,
            check_sql: format!("SELECT {schema}.changed_since($1, $2::pg_snapshot) AS changed"),
            fill_sql: format!(
                "SELECT pg_current_snapshot()::text AS snapshot, {valid_until} AS valid_until"
            ),
            store: Mutex::new(Store::default()),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key of a request, or `None` when its answer may not be cached: no tenant, or a staff
    /// caller.
    pub fn key(&self, ctx: &RequestContext, body: &[u8]) -> Option<Key> {
        let tenant = ctx.tenant.as_ref()?;
        if ctx.is_staff() {
            return None;
        }
        let mut hash = Sha256::new();
        field(&mut hash, self.schema.as_bytes());
        field(&mut hash, tenant.id.uuid().as_bytes());
        field(&mut hash, tenant.slug.as_bytes());
        field(&mut hash, tenant.default_currency.as_bytes());
        field(&mut hash, tenant.default_locale.as_bytes());
        match &ctx.actor {
            Actor::Anonymous => field(&mut hash, b"anonymous"),
            Actor::Storefront { .. } => field(&mut hash, b"storefront"),
            Actor::User { user_id, roles } => {
                field(&mut hash, b"user");
                field(&mut hash, user_id.uuid().as_bytes());
                let mut roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                roles.sort_unstable();
                field(&mut hash, roles.join(",").as_bytes());
            }
            Actor::Service { .. } => return None,
        }
        field(&mut hash, ctx.locale.as_deref().unwrap_or("").as_bytes());
        field(&mut hash, body);
        Some(Key(hash.finalize().into()))
    }

    /// The kept answer to `key` if nothing it was computed from has changed since (one
    /// statement when one is kept, none otherwise).
    pub async fn get(&self, db: &Database, key: &Key) -> Option<Bytes> {
        let kept = {
            let store = self.store();
            store
                .entries
                .get(key)
                .map(|e| (e.body.clone(), e.fill.clone(), e.seq, e.filled))
                .ok_or(store.bytes)
        };
        let (body, fill, seq, filled) = match kept {
            Ok(kept) => kept,
            Err(bytes) => {
                metrics::cache_lookup(self.schema, "miss", bytes);
                return None;
            }
        };
        let expired =
            filled.elapsed() >= MAX_AGE || fill.valid_until.is_some_and(|t| t <= Utc::now());
        if expired {
            self.store().remove(key, seq);
            metrics::cache_lookup(self.schema, "expired", self.bytes());
            return None;
        }
        match self.changed(db, &fill).await {
            Ok(false) => {
                metrics::cache_lookup(self.schema, "hit", self.bytes());
                Some(body)
            }
            Ok(true) => {
                self.store().remove(key, seq);
                metrics::cache_lookup(self.schema, "stale", self.bytes());
                None
            }
            Err(error) => {
                tracing::warn!(error = %error.message, "response cache: the check failed");
                None
            }
        }
    }

    async fn changed(&self, db: &Database, fill: &Fill) -> Result<bool, ApiError> {
        let mut conn = db.conn().await?;
        let found: Changed = diesel::sql_query(&self.check_sql)
            .bind::<SqlUuid, _>(fill.tenant)
            .bind::<Text, _>(&*fill.snapshot)
            .get_result(&mut conn)
            .await
            .map_err(ApiError::internal)?;
        Ok(found.changed)
    }

    /// Takes what an answer about to be computed for `tenant` is later checked against (one
    /// statement). `None` when the database could not say: the answer is then not kept.
    pub async fn begin(&self, db: &Database, tenant: TenantId) -> Option<Fill> {
        let taken: Result<Taken, ApiError> = async {
            let mut conn = db.conn().await?;
            diesel::sql_query(&self.fill_sql)
                .bind::<SqlUuid, _>(tenant)
                .get_result(&mut conn)
                .await
                .map_err(ApiError::internal)
        }
        .await;
        match taken {
            Ok(taken) => Some(Fill {
                tenant,
                snapshot: Arc::from(taken.snapshot),
                valid_until: taken.valid_until,
            }),
            Err(error) => {
                tracing::warn!(error = %error.message, "response cache: taking a snapshot failed");
                None
            }
        }
    }

    /// Keeps `body` as the answer to `key`, computed after `fill` was taken; the oldest answers
    /// go when the budget is exceeded. An answer larger than the whole budget is not kept.
    pub fn put(&self, key: Key, fill: Fill, body: Bytes) {
        let mut store = self.store();
        let seq = store.next;
        store.next += 1;
        let entry = Entry {
            body,
            fill,
            filled: Instant::now(),
            seq,
        };
        let cost = entry.cost();
        if cost > self.budget {
            return;
        }
        if let Some(old) = store.entries.insert(key, entry) {
            store.bytes -= old.cost();
        }
        store.bytes += cost;
        store.order.push_back((key, seq));
        while store.bytes > self.budget {
            let Some((oldest, seq)) = store.order.pop_front() else {
                break;
            };
            store.remove(&oldest, seq);
        }
        // Keys dropped as stale or refilled leave their old place in the queue behind; past twice
        // the live entries, the queue is rebuilt from them.
        if store.order.len() > 2 * store.entries.len() + 1024 {
            let Store { entries, order, .. } = &mut *store;
            order.retain(|(k, seq)| entries.get(k).is_some_and(|e| e.seq == *seq));
        }
        let bytes = store.bytes;
        drop(store);
        metrics::cache_bytes(self.schema, bytes);
    }

    /// Bytes held now (answers and bookkeeping).
    pub fn bytes(&self) -> usize {
        self.store().bytes
    }

    /// Answers held now.
    pub fn len(&self) -> usize {
        self.store().entries.len()
    }

    /// Whether it holds no answer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityos_core::ids::UserId;
    use cityos_core::{Role, TenantInfo, TenantStatus};

    fn cache(budget: usize) -> ResponseCache {
        ResponseCache::new("catalog", Policy { valid_until: None }, budget)
    }

    fn ctx(tenant: TenantId, actor: Actor, locale: Option<&str>) -> RequestContext {
        RequestContext {
            tenant: Some(TenantInfo {
                id: tenant,
                slug: "shop".into(),
                status: TenantStatus::Active,
                default_currency: "SAR".into(),
                default_locale: "en".into(),
            }),
            actor,
            locale: locale.map(str::to_owned),
            request_id: "r".into(),
        }
    }

    fn fill(tenant: TenantId) -> Fill {
        Fill {
            tenant,
            snapshot: Arc::from("1:1:"),
            valid_until: None,
        }
    }

    #[test]
    fn keys_differ_by_everything_an_answer_depends_on() {
        let cache = cache(1 << 20);
        let (a, b) = (TenantId::new(), TenantId::new());
        let user = UserId::new();
        let customer = |id| Actor::User {
            user_id: id,
            roles: vec![Role::Customer],
        };
        let body = br#"{"query":"{ products { totalCount } }"}"#;
        let key = |c: &RequestContext, body: &[u8]| cache.key(c, body).expect("cacheable");
        let base = key(&ctx(a, Actor::Anonymous, None), body);
        assert_eq!(base, key(&ctx(a, Actor::Anonymous, None), body));
        let others = [
            key(&ctx(b, Actor::Anonymous, None), body),
            key(&ctx(a, Actor::Anonymous, Some("ar")), body),
            key(&ctx(a, customer(user), None), body),
            key(&ctx(a, customer(UserId::new()), None), body),
            key(
                &ctx(a, Actor::Anonymous, None),
                br#"{"query":"{ products { totalCount } }","variables":{"c":"USD"}}"#,
            ),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(base, *other, "key {i} equals the base key");
        }
        let mut default_currency = ctx(a, Actor::Anonymous, None);
        default_currency
            .tenant
            .as_mut()
            .expect("tenant")
            .default_currency = "USD".into();
        assert_ne!(base, key(&default_currency, body));
    }

    #[test]
    fn staff_and_tenantless_requests_are_not_cacheable() {
        let cache = cache(1 << 20);
        let tenant = TenantId::new();
        let staff = Actor::User {
            user_id: UserId::new(),
            roles: vec![Role::TenantStaff],
        };
        let admin = Actor::User {
            user_id: UserId::new(),
            roles: vec![Role::PlatformAdmin],
        };
        let service = Actor::Service {
            key_id: cityos_core::ids::ApiKeyId::new(),
        };
        for actor in [staff, admin, service] {
            assert!(cache.key(&ctx(tenant, actor, None), b"{}").is_none());
        }
        let mut none = ctx(tenant, Actor::Anonymous, None);
        none.tenant = None;
        assert!(cache.key(&none, b"{}").is_none());
    }

    #[test]
    fn the_budget_bounds_what_is_held_and_the_oldest_go_first() {
        let answer = Bytes::from(vec![b'x'; 1000]);
        let per_entry = 1000 + "1:1:".len() + ENTRY_OVERHEAD;
        let cache = cache(per_entry * 10);
        let tenant = TenantId::new();
        let keys: Vec<Key> = (0..25u8).map(|i| Key([i; 32])).collect();
        for key in &keys {
            cache.put(*key, fill(tenant), answer.clone());
            assert!(cache.bytes() <= per_entry * 10);
        }
        assert_eq!(cache.len(), 10);
        let store = cache.store();
        assert!(keys[..15].iter().all(|k| !store.entries.contains_key(k)));
        assert!(keys[15..].iter().all(|k| store.entries.contains_key(k)));
        drop(store);
        // Filling one key again and again neither grows the bytes nor the queue without bound.
        for _ in 0..10_000 {
            cache.put(keys[24], fill(tenant), answer.clone());
        }
        assert_eq!(cache.len(), 10);
        assert!(cache.store().order.len() <= 2 * 10 + 1024 + 1);
        assert_eq!(cache.bytes(), per_entry * 10);
        // An answer larger than the budget is not kept, and keeps nothing out.
        cache.put(
            Key([99; 32]),
            fill(tenant),
            Bytes::from(vec![0; per_entry * 11]),
        );
        assert_eq!(cache.len(), 10);
    }
}
