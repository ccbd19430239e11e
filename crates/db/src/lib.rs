//! PostgreSQL for CityOS subgraphs.
//!
//! - One database; each subgraph owns one schema and runs its own embedded migrations in it
//!   ([`migrate`]), with its own migration history table inside that schema.
//! - Subgraphs connect as [`APP_ROLE`], a login role that owns no table and cannot bypass row-level
//!   security; migrations run as the database owner ([`bootstrap`] creates the application role).
//! - Every tenant-owned table has `FORCE ROW LEVEL SECURITY` with a policy on the `app.tenant_id`
//!   setting, which [`Database::tenant_tx`] sets with `SET LOCAL` semantics at the start of each
//!   transaction. A query that forgets its tenant filter therefore sees no rows rather than another
//!   tenant's.

pub mod audit;
pub mod inbox;
pub mod jobs;
mod migrate;
pub mod ops;
pub mod outbox;
mod prepared;
mod url;

pub use migrate::{bootstrap, migrate};
pub use prepared::Prepared;
pub use url::{app_url, with_database};

pub use cityos_core::outcome::is_unique_violation;

use cityos_core::ApiError;
use cityos_core::ids::{EntityId, TenantId};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager,
};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

pub use diesel_async::AsyncPgConnection as Connection;

/// The login role subgraphs connect as. It owns no table, is not a superuser and cannot bypass RLS.
pub const APP_ROLE: &str = "cityos_app";

/// A role without login that the application role takes (`SET LOCAL ROLE`) for one statement to
/// find which tenant owns an external reference, such as a payment provider's id in a webhook that
/// carries no tenant. Each schema grants it only the columns and rows such a lookup needs.
pub const LOOKUP_ROLE: &str = "cityos_lookup";

/// A pooled connection.
pub type PooledConnection = Object<AsyncPgConnection>;

/// The application's connection pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
    round_trips: Arc<AtomicU64>,
    url: Arc<str>,
}

/// Counts the round trips of every connection of one pool: each query, batch, BEGIN and COMMIT.
/// Tests use it to prove that a request's database work does not grow with its page size.
struct RoundTripCounter(Arc<AtomicU64>);

impl Instrumentation for RoundTripCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("status", &self.pool.status())
            .finish()
    }
}

/// A function run inside a transaction on a borrowed connection: write it as an async closure,
/// `async move |conn| { ... }`.
///
/// Async closures cannot yet promise that their future is `Send` in a plain `AsyncFnOnce` bound,
/// so this names the future (the same device diesel-async uses for its own transactions).
pub trait TxFn<A, R>: AsyncFnOnce(A) -> R + FnOnce(A) -> <Self as TxFn<A, R>>::Fut {
    /// The future the function returns.
    type Fut: Future<Output = R>;
}

impl<F, A, Fut, R> TxFn<A, R> for F
where
    F: AsyncFnOnce(A) -> R + FnOnce(A) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

impl Database {
    /// A pool of at most `max_size` connections to `url` (which should log in as [`APP_ROLE`]).
    /// Connections are made lazily.
    pub fn connect(url: &str, max_size: usize) -> anyhow::Result<Self> {
        let round_trips = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&round_trips);
        let mut config = ManagerConfig::default();
        // A broken connection is detected by the failing query; a `SELECT 1` on every checkout
        // would double the statements of a short request.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url| {
            let (url, counter) = (url.to_owned(), Arc::clone(&counter));
            Box::pin(async move {
                let mut conn = AsyncPgConnection::establish(&url).await?;
                conn.set_instrumentation(RoundTripCounter(counter));
                Ok(conn)
            })
        });
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
        let pool = Pool::builder(manager).max_size(max_size).build()?;
        Ok(Self {
            pool,
            round_trips,
            url: Arc::from(url),
        })
    }

    /// A connection of its own, outside the pool: for a task that holds one for good (a
    /// dispatcher's `LISTEN`).
    pub async fn dedicated(&self) -> Result<AsyncPgConnection, ApiError> {
        AsyncPgConnection::establish(&self.url)
            .await
            .map_err(|e| ApiError::internal(format_args!("connecting: {e}")))
    }

    /// How many round trips this pool's connections have made so far.
    pub fn round_trips(&self) -> u64 {
        AtomicU64::load(&self.round_trips, Ordering::Relaxed)
    }

    /// How the pool's connections are used now.
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max_size: status.max_size,
            size: status.size,
            available: status.available,
        }
    }

    /// A connection from the pool.
    pub async fn conn(&self) -> Result<PooledConnection, ApiError> {
        self.pool
            .get()
            .await
            .map_err(|e| ApiError::internal(format_args!("database pool: {e}")))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        match self.pool.get().await {
            Ok(mut conn) => diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .await
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Runs `f` in a transaction scoped to `tenant`: row-level security shows and accepts only
    /// that tenant's rows. `f` gets the transaction as a [`TenantTx`], which every repository and
    /// api function takes, so two domains' writes in one service commit or roll back together.
    /// Commits when `f` succeeds, rolls back when it fails. `BEGIN` and the tenant setting travel
    /// in one round trip.
    pub async fn tenant_tx<T, E, F>(&self, tenant: TenantId, f: F) -> Result<T, E>
    where
        F: for<'r, 'c> AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<T, E>
            + for<'r, 'c> TxFn<&'r mut TenantTx<'c>, Result<T, E>, Fut: Send>
            + Send,
        E: From<diesel::result::Error> + From<ApiError>,
    {
        // A formatted UUID is hex digits and dashes only, so it is safe inside the literal.
        let begin = format!("BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true)");
        in_tx_begun_by(self, &begin, async move |conn| {
            let mut tx = TenantTx { conn, tenant };
            f(&mut tx).await
        })
        .await
    }

    /// Runs `f` in a transaction as [`LOOKUP_ROLE`], with no tenant: it sees only what schemas
    /// grant that role for finding the tenant of an external reference.
    pub async fn lookup_tx<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: for<'r> AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<T, E>
            + for<'r> TxFn<&'r mut AsyncPgConnection, Result<T, E>, Fut: Send>
            + Send,
        E: From<diesel::result::Error> + From<ApiError>,
    {
        in_tx_begun_by(self, &format!("BEGIN; SET LOCAL ROLE {LOOKUP_ROLE}"), f).await
    }
}

/// A pool's use at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections it opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections idle now.
    pub available: usize,
}

/// A connection inside a transaction scoped to one tenant (made only by
/// [`Database::tenant_tx`]): what repository and api functions take, so they run only where
/// row-level security shows that one tenant, and a service composes several domains' writes into
/// one transaction by passing its handle on.
pub struct TenantTx<'c> {
    conn: &'c mut AsyncPgConnection,
    tenant: TenantId,
}

impl TenantTx<'_> {
    /// The tenant the transaction is scoped to.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The connection, to run a statement on.
    pub fn conn(&mut self) -> &mut AsyncPgConnection {
        self.conn
    }
}

impl std::fmt::Debug for TenantTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantTx")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Commits when `outcome` is a success, rolls back when it is a failure.
async fn finish<T, E: From<diesel::result::Error>>(
    conn: &mut AsyncPgConnection,
    outcome: Result<T, E>,
) -> Result<T, E> {
    match outcome {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(conn).await?;
            Err(error)
        }
    }
}

/// Runs `f` on a connection of `db`'s pool in a transaction opened by `begin` (a fixed text: `BEGIN`
/// and its settings), committing when `f` succeeds and rolling back when it fails.
async fn in_tx_begun_by<T, E, F>(db: &Database, begin: &str, f: F) -> Result<T, E>
where
    F: for<'r> AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<T, E>
        + for<'r> TxFn<&'r mut AsyncPgConnection, Result<T, E>, Fut: Send>
        + Send,
    E: From<diesel::result::Error> + From<ApiError>,
{
    let mut lent = Lent(Some(db.conn().await?));
    AnsiTransactionManager::begin_transaction_sql(lent.conn(), begin).await?;
    let outcome = f(lent.conn()).await;
    let ended = finish(lent.conn(), outcome).await;
    lent.give_back();
    ended
}

/// A pool's connection lent to one transaction. When the transaction's future is dropped before
/// the transaction ends (a request its client gave up on, an aborted task), the connection is
/// still inside it and holds its row locks; back in the pool it would keep them until the pool
/// next hands it out, which on a quiet pool may be never. So it leaves the pool and closes
/// instead, and PostgreSQL rolls the transaction back at once.
struct Lent(Option<PooledConnection>);

impl Lent {
    fn conn(&mut self) -> &mut AsyncPgConnection {
        self.0
            .as_mut()
            .expect("a lent connection is there until it is given back")
    }

    /// The transaction ended (committed, rolled back, or failed in a way the pool's check on the
    /// next checkout sees): the connection goes back to the pool.
    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(abandoned) = self.0.take() {
            drop(Object::take(abandoned));
        }
    }
}

/// Takes a transaction-scoped advisory lock on (`namespace`, `key`): concurrent transactions
/// asking for the same pair wait until the holder commits or rolls back. For invariants no row or
/// index can hold on its own (the shape of a tree, a count limit per owner).
pub async fn lock_for_transaction(
    tx: &mut TenantTx<'_>,
    namespace: &str,
    key: impl EntityId,
) -> diesel::QueryResult<()> {
    let key: Uuid = key.into();
    Prepared(
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2::text))")
            .bind::<diesel::sql_types::Text, _>(namespace)
            .bind::<diesel::sql_types::Uuid, _>(key),
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One page of every row of a table the transaction sees (under row-level security, its
/// tenant's), oldest first by its UUID v7 `id`, with the total: the staff lists of whole tables.
/// Evaluates to a `QueryResult<Page<Model>>`.
///
/// ```ignore
/// let page = table_page!(tx, users::table, users::id, User, page)?;
/// ```
#[macro_export]
macro_rules! table_page {
    ($conn:expr, $table:expr, $key:expr, $model:ty, $page:expr) => {{
        let page = &$page;
        let query = $table.select(<$model>::as_select()).into_boxed();
        match $crate::keyset_page!(query, $key, *page)
            .load::<$model>($conn.conn())
            .await
        {
            Ok(rows) => $table
                .count()
                .get_result::<i64>($conn.conn())
                .await
                .map(|total| page.finish(rows, |row| row.id, total)),
            Err(error) => Err(error),
        }
    }};
}

/// Applies a [`PageRequest`](cityos_core::paging::PageRequest) to a boxed diesel query keyed by a
/// UUID v7 column: the key range, the direction and the fetch limit. Lists run oldest first; with
/// `newest_first` they run the other way ("after" a cursor then means older).
///
/// ```ignore
/// let rows = keyset_page!(products::table.select(Product::as_select()).into_boxed(), products::id, page)
///     .load(conn).await?;
/// let page = page.finish(rows, |p| p.id, total);
/// ```
#[macro_export]
macro_rules! keyset_page {
    ($query:expr, $key:expr, $page:expr) => {
        $crate::keyset_page!($query, $key, $page, oldest_first)
    };
    ($query:expr, $key:expr, $page:expr, oldest_first) => {{
        let page = &$page;
        let mut query = $query;
        if let Some(after) = page.after {
            query = query.filter($key.gt(after));
        }
        if let Some(before) = page.before {
            query = query.filter($key.lt(before));
        }
        let query = if page.backward {
            query.order($key.desc())
        } else {
            query.order($key.asc())
        };
        query.limit(page.fetch_limit())
    }};
    ($query:expr, $key:expr, $page:expr, newest_first) => {{
        let page = &$page;
        let mut query = $query;
        if let Some(after) = page.after {
            query = query.filter($key.lt(after));
        }
        if let Some(before) = page.before {
            query = query.filter($key.gt(before));
        }
        let query = if page.backward {
            query.order($key.asc())
        } else {
            query.order($key.desc())
        };
        query.limit(page.fetch_limit())
    }};
}
