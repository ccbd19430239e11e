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
//! **Invalidation.** A schema that caches tracks its changes (`platform.track_changes`): every
//! statement writing one of its tenant tables notifies `cityos_changes_<schema>` with the tenant
//! at commit, whichever process writes (orders sells stock through the catalog's api). The cache
//! keeps a generation per tenant; [`ResponseCache::listen`] holds a `LISTEN` connection and bumps
//! a tenant's generation on each notification, and an answer is served only while its tenant's
//! generation is the one read before it was computed (so a change committed while it was being
//! computed makes it stale at once).
//!
//! **Every hit waits for a fence**, so the request after a commit never gets an answer from before
//! it, whatever process committed. PostgreSQL signals the listening connection during the writer's
//! commit, before acknowledging it, and a backend sends the notifications it was signalled for
//! before it reads its next query. So an empty query on the listener's own connection, sent after
//! a request arrived, completes only after every notification of a commit acknowledged before that
//! request has arrived, and the listener applies them before it declares the fence done. Fences are
//! shared: a hit waits for the next fence to start after it arrived, and one fence serves every
//! hit that arrived while the one before was in flight (the busier the cache, the more each
//! serves). A fence costs PostgreSQL an empty query, with no snapshot or plan.
//!
//! A mutation run by this process bumps its tenant's generation itself before it answers. While
//! the listener is not connected nothing is served from the cache or kept in it, and every answer
//! kept before is dropped when it (re)connects: a notification missed in between cannot leave a
//! stale answer behind.
//!
//! **Time.** What changes without a write (a price list's window opening or closing, a stock
//! reservation expiring) is the subgraph's [`Policy::valid_until`]: a SQL function giving the next
//! such moment for a tenant, read (one statement) before an answer is computed; the answer is not
//! served from that moment on. No answer is kept longer than [`MAX_AGE`].
//!
//! **Memory** is bounded by the byte budget (`CITYOS_RESPONSE_CACHE_MB`): answers, keys and their
//! bookkeeping are counted, and the oldest answers are dropped first when it is exceeded. The
//! generations take a few dozen bytes per tenant that changed since the listener connected.
//!
//! A hit costs the digest, a map lookup, its share of a fence and the copy-free answer.

use crate::metrics;
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use cityos_core::ids::TenantId;
use cityos_core::{Actor, ApiError, RequestContext};
use cityos_db::Database;
use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest a hit waits for its fence before it is answered as a miss.
const FENCE_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest an answer is kept, whatever else holds.
pub const MAX_AGE: Duration = Duration::from_secs(300);

/// What a subgraph tells the cache about its answers.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A SQL function `(tenant uuid) -> timestamptz`: the next moment at which the tenant's
    /// answers may change with no write (null: none). It sets the tenant itself (it is called
    /// outside any transaction).
    pub valid_until: Option<&'static str>,
}

/// Bytes an entry costs beyond its answer: the key twice (map and queue), the entry's fields and
/// the map's and queue's own slots, rounded up.
const ENTRY_OVERHEAD: usize = 160;

/// The digest of everything an answer depends on besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

/// What the cache read before an answer was computed, and checks when it is served.
#[derive(Debug, Clone, Copy)]
pub struct Fill {
    tenant: TenantId,
    epoch: u64,
    generation: u64,
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
        self.body.len() + ENTRY_OVERHEAD
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
    /// Whether the listener is connected: nothing is served or kept otherwise.
    listening: bool,
    /// Moves at every connection and loss of the listener: no answer of another epoch is served.
    epoch: u64,
    /// Each tenant's generation in this epoch (absent: 0), bumped by every change of its data.
    generations: HashMap<TenantId, u64>,
}

impl Store {
    fn remove(&mut self, key: &Key, seq: u64) {
        if self.entries.get(key).is_some_and(|e| e.seq == seq)
            && let Some(entry) = self.entries.remove(key)
        {
            self.bytes -= entry.cost();
        }
    }

    fn generation(&self, tenant: TenantId) -> u64 {
        self.generations.get(&tenant).copied().unwrap_or(0)
    }

    fn current(&self, fill: &Fill) -> bool {
        self.listening
            && fill.epoch == self.epoch
            && fill.generation == self.generation(fill.tenant)
    }

    /// A new epoch: every answer kept so far goes.
    fn restart(&mut self, listening: bool) {
        self.listening = listening;
        self.epoch += 1;
        self.generations.clear();
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

/// The fences of the listener's connection (module docs).
struct Fences {
    /// Fences started so far: a hit needs the one after.
    started: AtomicU64,
    /// Fences done so far (every notification before each applied).
    done: tokio::sync::watch::Sender<u64>,
    /// Wakes the listener for a fence.
    wanted: tokio::sync::Notify,
}

/// One process's cache of one subgraph's answers.
pub struct ResponseCache {
    schema: &'static str,
    budget: usize,
    channel: String,
    valid_until_sql: Option<String>,
    store: Mutex<Store>,
    fences: Fences,
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
struct Until {
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
    /// `budget_bytes`. It serves nothing until [`ResponseCache::listen`] has connected.
    pub fn new(schema: &'static str, policy: Policy, budget_bytes: usize) -> Self {
        Self {
            schema,
            budget: budget_bytes,
            channel: format!("cityos_changes_{schema}"),
            valid_until_sql: policy
                .valid_until
                .map(|f| format!("SELECT {f}($1) AS valid_until")),
            store: Mutex::new(Store::default()),
            fences: Fences {
                started: AtomicU64::new(0),
                done: tokio::sync::watch::Sender::new(0),
                wanted: tokio::sync::Notify::new(),
            },
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Listens for the schema's changes for good: bumps the generation of each tenant notified,
    /// runs the fences hits wait for, and reconnects after a failure (serving nothing from the
    /// cache until it is back).
    pub async fn listen(self: Arc<Self>, db: Database) {
        loop {
            let outcome = self.listener(&db).await;
            self.store().restart(false);
            // Waiters wake, find the listener gone and answer as misses.
            self.fences.done.send_replace(u64::MAX);
            if let Err(error) = outcome {
                tracing::warn!(channel = %self.channel, error = ?error, "response cache: listening failed; serving without it until it is back");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// One connection's life: `LISTEN`, then notifications and fences until it fails.
    async fn listener(&self, db: &Database) -> Result<(), ApiError> {
        use diesel_async::SimpleAsyncConnection as _;
        use futures_util::{FutureExt as _, StreamExt as _};
        let mut conn = db.dedicated().await?;
        diesel::sql_query(format!("LISTEN {}", self.channel))
            .execute(&mut conn)
            .await?;
        self.fences
            .done
            .send_replace(AtomicU64::load(&self.fences.started, Ordering::SeqCst));
        self.store().restart(true);
        tracing::info!(channel = %self.channel, "response cache listening");
        loop {
            {
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                loop {
                    tokio::select! {
                        notification = notifications.next() => match notification {
                            Some(notification) => self.apply(&notification?),
                            None => return Ok(()),
                        },
                        () = self.fences.wanted.notified() => break,
                    }
                }
            }
            let fence = self.fences.started.fetch_add(1, Ordering::SeqCst) + 1;
            conn.batch_execute("")
                .await
                .map_err(|e| ApiError::internal(format_args!("fence: {e}")))?;
            {
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                while let Some(Some(notification)) = notifications.next().now_or_never() {
                    self.apply(&notification?);
                }
            }
            metrics::cache_fence(self.schema);
            self.fences.done.send_replace(fence);
        }
    }

    fn apply(&self, notification: &diesel::pg::PgNotification) {
        match notification.payload.parse::<TenantId>() {
            Ok(tenant) => self.invalidate(tenant),
            Err(_) => self.store().restart(true),
        }
    }

    /// Waits for a fence started after now (module docs); false when none came in time.
    async fn fence(&self) -> bool {
        let mut done = self.fences.done.subscribe();
        let needed = AtomicU64::load(&self.fences.started, Ordering::SeqCst) + 1;
        self.fences.wanted.notify_one();
        matches!(
            tokio::time::timeout(FENCE_TIMEOUT, done.wait_for(|d| *d >= needed)).await,
            Ok(Ok(_))
        )
    }

    /// Drops every answer of `tenant` (its data changed).
    pub fn invalidate(&self, tenant: TenantId) {
        let mut store = self.store();
        let next = store.generation(tenant) + 1;
        store.generations.insert(tenant, next);
    }

    /// The key of a request, or `None` when its answer may not be cached: no tenant, a staff
    /// caller, or one acting for a vendor (its back office).
    pub fn key(&self, ctx: &RequestContext, body: &[u8]) -> Option<Key> {
        let tenant = ctx.tenant.as_ref()?;
        if ctx.is_staff() || ctx.vendor.is_some() {
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
        // A buyer acting for a company is a caller of its own (its terms may shape answers).
        let company = ctx.company.map(|c| c.id.uuid());
        field(
            &mut hash,
            company.as_ref().map_or(&[][..], |c| c.as_bytes()),
        );
        field(&mut hash, body);
        Some(Key(hash.finalize().into()))
    }

    /// The kept answer to `key` if nothing it was computed from has changed since, as of a fence
    /// after this call.
    pub async fn get(&self, key: &Key) -> Option<Bytes> {
        let (_, seq) = self.check(key, false)?;
        if !self.fence().await {
            metrics::cache_lookup(self.schema, "miss", self.bytes());
            return None;
        }
        // What the fence brought in may have made it stale (or another fill replaced it).
        let (body, now) = self.check(key, true)?;
        (now == seq).then_some(body)
    }

    /// The answer to `key` (and its fill's number) if it is current now; counted when `last` (or
    /// when it is not current).
    fn check(&self, key: &Key, last: bool) -> Option<(Bytes, u64)> {
        let mut store = self.store();
        let outcome = match store.entries.get(key) {
            None => Err(("miss", None)),
            Some(entry) if !store.current(&entry.fill) => Err(("stale", Some(entry.seq))),
            Some(entry)
                if entry.filled.elapsed() >= MAX_AGE
                    || entry.fill.valid_until.is_some_and(|t| t <= Utc::now()) =>
            {
                Err(("expired", Some(entry.seq)))
            }
            Some(entry) => Ok((entry.body.clone(), entry.seq)),
        };
        match outcome {
            Ok(kept) => {
                if last {
                    let bytes = store.bytes;
                    drop(store);
                    metrics::cache_lookup(self.schema, "hit", bytes);
                }
                Some(kept)
            }
            Err((outcome, seq)) => {
                if let Some(seq) = seq {
                    store.remove(key, seq);
                }
                let bytes = store.bytes;
                drop(store);
                metrics::cache_lookup(self.schema, outcome, bytes);
                None
            }
        }
    }

    /// Reads what an answer about to be computed for `tenant` is later checked against (and, for
    /// a subgraph with a [`Policy::valid_until`], until when it may be served: one statement).
    /// `None` when it may not be kept: the listener is not connected, or the database could not
    /// say.
    pub async fn begin(&self, db: &Database, tenant: TenantId) -> Option<Fill> {
        let (epoch, generation) = {
            let store = self.store();
            if !store.listening {
                return None;
            }
            (store.epoch, store.generation(tenant))
        };
        let valid_until = match &self.valid_until_sql {
            None => None,
            Some(sql) => {
                let read: Result<Until, ApiError> = async {
                    let mut conn = db.conn().await?;
                    diesel::sql_query(sql)
                        .bind::<SqlUuid, _>(tenant)
                        .get_result(&mut conn)
                        .await
                        .map_err(ApiError::internal)
                }
                .await;
                match read {
                    Ok(until) => until.valid_until,
                    Err(error) => {
                        tracing::warn!(error = %error.message, "response cache: reading valid_until failed");
                        return None;
                    }
                }
            }
        };
        Some(Fill {
            tenant,
            epoch,
            generation,
            valid_until,
        })
    }

    /// Keeps `body` as the answer to `key`, computed after `fill` was read, unless its tenant's
    /// data changed meanwhile; the oldest answers go when the budget is exceeded. An answer larger
    /// than the whole budget is not kept.
    pub fn put(&self, key: Key, fill: Fill, body: Bytes) {
        let mut store = self.store();
        if !store.current(&fill) {
            return;
        }
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

    /// A cache whose listener is connected.
    fn cache(budget: usize) -> ResponseCache {
        let cache = ResponseCache::new("catalog", Policy { valid_until: None }, budget);
        cache.store().restart(true);
        cache
    }

    fn ctx(tenant: TenantId, actor: Actor, locale: Option<&str>) -> RequestContext {
        RequestContext {
            vendor: None,
            company: None,
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

    /// What `begin` reads now, with no time limit.
    fn fill(cache: &ResponseCache, tenant: TenantId) -> Fill {
        let store = cache.store();
        Fill {
            tenant,
            epoch: store.epoch,
            generation: store.generation(tenant),
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
        let per_entry = 1000 + ENTRY_OVERHEAD;
        let cache = cache(per_entry * 10);
        let tenant = TenantId::new();
        let keys: Vec<Key> = (0..25u8).map(|i| Key([i; 32])).collect();
        for key in &keys {
            cache.put(*key, fill(&cache, tenant), answer.clone());
            assert!(cache.bytes() <= per_entry * 10);
        }
        assert_eq!(cache.len(), 10);
        let store = cache.store();
        assert!(keys[..15].iter().all(|k| !store.entries.contains_key(k)));
        assert!(keys[15..].iter().all(|k| store.entries.contains_key(k)));
        drop(store);
        // Filling one key again and again neither grows the bytes nor the queue without bound.
        for _ in 0..10_000 {
            cache.put(keys[24], fill(&cache, tenant), answer.clone());
        }
        assert_eq!(cache.len(), 10);
        assert!(cache.store().order.len() <= 2 * 10 + 1024 + 1);
        assert_eq!(cache.bytes(), per_entry * 10);
        // An answer larger than the budget is not kept, and keeps nothing out.
        cache.put(
            Key([99; 32]),
            fill(&cache, tenant),
            Bytes::from(vec![0; per_entry * 11]),
        );
        assert_eq!(cache.len(), 10);
    }

    #[test]
    fn a_change_drops_its_tenants_answers_and_only_theirs() {
        let cache = cache(1 << 20);
        let (a, b) = (TenantId::new(), TenantId::new());
        let answer = Bytes::from_static(b"{\"data\":{}}");
        cache.put(Key([1; 32]), fill(&cache, a), answer.clone());
        cache.put(Key([2; 32]), fill(&cache, b), answer.clone());
        assert_eq!(
            cache.check(&Key([1; 32]), true).map(|(b, _)| b),
            Some(answer.clone())
        );
        cache.invalidate(a);
        assert_eq!(
            cache.check(&Key([1; 32]), true).map(|(b, _)| b),
            None,
            "a's answer is stale"
        );
        assert_eq!(
            cache.check(&Key([2; 32]), true).map(|(b, _)| b),
            Some(answer.clone()),
            "b's is not"
        );
        // An answer computed while its tenant's data changed is not kept.
        let before = fill(&cache, b);
        cache.invalidate(b);
        cache.put(Key([3; 32]), before, answer.clone());
        assert_eq!(cache.check(&Key([3; 32]), true).map(|(b, _)| b), None);
        // Once the listener is lost nothing is served, and nothing computed before its return is
        // kept after it.
        cache.put(Key([4; 32]), fill(&cache, b), answer.clone());
        let during = fill(&cache, b);
        cache.store().restart(false);
        assert_eq!(cache.check(&Key([4; 32]), true).map(|(b, _)| b), None);
        cache.store().restart(true);
        cache.put(Key([5; 32]), during, answer.clone());
        assert_eq!(cache.check(&Key([5; 32]), true).map(|(b, _)| b), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn an_answer_is_not_served_from_its_valid_until_on() {
        let cache = cache(1 << 20);
        let tenant = TenantId::new();
        let answer = Bytes::from_static(b"{}");
        let mut soon = fill(&cache, tenant);
        soon.valid_until = Some(Utc::now() + chrono::Duration::milliseconds(30));
        cache.put(Key([7; 32]), soon, answer.clone());
        assert_eq!(
            cache.check(&Key([7; 32]), true).map(|(b, _)| b),
            Some(answer)
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.check(&Key([7; 32]), true).map(|(b, _)| b), None);
    }
}
