//! Test support for CityOS subgraphs.
//!
//! [`TestDb::new`] gives each test its own database, copied from a template that is migrated once
//! per set of migrations (the template's name carries a digest of every migration file, so editing a
//! migration makes a new template). Tests run in parallel processes (nextest); an advisory lock on
//! the maintenance database makes exactly one of them build a missing template.
//!
//! The server to use comes from `DATABASE_URL` (an owner account on a maintenance database such as
//! `postgres`); `cargo xtask test` starts an embedded server and sets it.

pub mod stripe;

use anyhow::Context as _;
use cityos_auth::TokenKeys;
use cityos_core::ids::{TenantId, UserId};
use cityos_core::{Actor, RequestContext, Role, TenantInfo, TenantStatus};
use cityos_db::{Database, with_database};
use cityos_server::{Platform, Subgraph};
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::EmbeddedMigrations;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A fresh, migrated database of one's own.
pub struct TestDb {
    /// Owner URL of this test's database.
    pub owner_url: String,
    /// Application-role URL of this test's database.
    pub app_url: String,
    /// The platform services (application-role pool, token keys) on it.
    pub platform: Platform,
}

fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!("DATABASE_URL is not set: run the tests with `cargo xtask test`, which starts PostgreSQL")
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn digest_dir(hasher: &mut Sha256, dir: &Path) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        hasher.update(
            path.strip_prefix(workspace_root())
                .unwrap_or(&path)
                .to_string_lossy()
                .as_bytes(),
        );
        if path.is_dir() {
            digest_dir(hasher, &path)?;
        } else {
            hasher.update(std::fs::read(&path)?);
        }
    }
    Ok(())
}

fn template_name(schemas: &[(&'static str, EmbeddedMigrations)]) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    for (schema, _) in schemas {
        hasher.update(schema.as_bytes());
    }
    digest_dir(&mut hasher, &workspace_root().join("migrations")).context("reading migrations/")?;
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(format!("cityos_tpl_{hex}"))
}

async fn exists(conn: &mut AsyncPgConnection, name: &str) -> anyhow::Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let row: Found =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
            .bind::<Text, _>(name)
            .get_result(conn)
            .await?;
    Ok(row.found)
}

impl TestDb {
    /// A new database with the schemas of `S` and of every subgraph it depends on migrated, in
    /// dependency order.
    pub async fn for_subgraph<S: Subgraph>() -> Self {
        let mut schemas = S::depends_on();
        schemas.push((S::NAME, S::MIGRATIONS));
        Self::new(schemas).await
    }

    /// A new database with `schemas` migrated.
    pub async fn new(schemas: Vec<(&'static str, EmbeddedMigrations)>) -> Self {
        Self::try_new(schemas)
            .await
            .unwrap_or_else(|e| panic!("test database: {e:#}"))
    }

    async fn try_new(schemas: Vec<(&'static str, EmbeddedMigrations)>) -> anyhow::Result<Self> {
        let server = server_url();
        let template = template_name(&schemas)?;
        let mut admin = AsyncPgConnection::establish(&server)
            .await
            .context("connecting to DATABASE_URL")?;
        diesel::sql_query("SELECT pg_advisory_lock(hashtext('cityos.testkit.template'))")
            .execute(&mut admin)
            .await?;
        let built = async {
            // Roles are the cluster's, not the template's: bring them up to date every time.
            cityos_db::bootstrap(&server, None).await?;
            if !exists(&mut admin, &template).await? {
                let building = format!("{template}_building");
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
                    .execute(&mut admin)
                    .await?;
                diesel::sql_query(format!("CREATE DATABASE {building}"))
                    .execute(&mut admin)
                    .await?;
                let url = with_database(&server, &building);
                for (schema, migrations) in schemas {
                    cityos_db::migrate(&url, schema, migrations).await?;
                }
                let leaks = tenant_tables_not_isolated(&url).await?;
                anyhow::ensure!(
                    leaks.is_empty(),
                    "tables with a tenant_id not held by platform.tenant_table: {leaks:?}"
                );
                let untracked = tenant_tables_not_tracked(&url).await?;
                anyhow::ensure!(
                    untracked.is_empty(),
                    "tenant tables of a schema with a response cache whose writes are not \
                     recorded (call platform.track_changes again after adding them): {untracked:?}"
                );
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
                    .execute(&mut admin)
                    .await?;
            }
            anyhow::Ok(())
        }
        .await;
        diesel::sql_query("SELECT pg_advisory_unlock(hashtext('cityos.testkit.template'))")
            .execute(&mut admin)
            .await?;
        built?;

        let name = format!("cityos_test_{}", Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
            .await?;
        let owner_url = with_database(&server, &name);
        let app_url = cityos_db::app_url(&owner_url, cityos_db::APP_ROLE, None);
        let platform = Platform {
            db: Database::connect(&app_url, 8)?,
            keys: TokenKeys::new(Uuid::now_v7().as_bytes().repeat(2))?,
        };
        Ok(Self {
            owner_url,
            app_url,
            platform,
        })
    }

    /// The application-role pool.
    pub fn db(&self) -> &Database {
        &self.platform.db
    }

    /// The bigint `n` that `sql` (`SELECT count(*) AS n FROM ..`) gives inside `tenant`'s scope,
    /// under row-level security like any tenant transaction.
    pub async fn count_in(&self, tenant: TenantId, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = sql.to_owned();
        self.db()
            .tenant_tx(tenant, async move |tx| {
                diesel::sql_query(query)
                    .get_result::<N>(tx.conn())
                    .await
                    .map_err(cityos_core::ApiError::from)
            })
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .n
    }

    /// Serves a consumer's signed event endpoint (`POST /events`: `consumers`, with their inbox
    /// in `schema`, taking events signed with `secret`) on a free local port, on this database;
    /// its URL, for a dispatcher's `HttpSink`.
    pub async fn serve_events(
        &self,
        schema: &'static str,
        consumers: cityos_db::inbox::Consumers,
        secret: &[u8],
    ) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        let app =
            cityos_server::events::routes(self.db().clone(), schema, consumers, secret.to_vec());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/events")
    }

    /// Runs `sql` (statements separated by `;`) as the database owner: for a test's own schema
    /// or table beside the subgraphs' (a second event consumer, a job's effect), or to move a
    /// deadline into the past.
    pub async fn owner_sql(&self, sql: &str) {
        let mut conn = AsyncPgConnection::establish(&self.owner_url)
            .await
            .unwrap_or_else(|e| panic!("connecting as the owner: {e}"));
        diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// How many rows of `table` (schema-qualified) the application role sees: with no tenant set,
    /// or inside `tenant`'s scope. Row-level security decides, not a filter.
    pub async fn visible_rows(&self, table: &str, tenant: Option<TenantId>) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = format!("SELECT count(*) AS n FROM {table}");
        if let Some(id) = tenant {
            return self.count_in(id, &sql).await;
        }
        let mut conn = self.db().conn().await.unwrap_or_else(|e| panic!("{e:?}"));
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("counting {table}: {e:?}"))
            .n
    }

    /// Runs one GraphQL request against `schema` as `ctx`, returning the response as JSON
    /// (`{"data": ..., "errors": [...]}`).
    pub async fn graphql<S: Subgraph>(
        &self,
        schema: &S::Schema,
        ctx: &RequestContext,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let request = cityos_server::request_data::<S>(request, ctx.clone(), &self.platform);
        let response = cityos_server::execute(schema, request).await;
        serde_json::to_value(&response).unwrap_or_else(|e| panic!("response is not JSON: {e}"))
    }
}

/// Tables that have a `tenant_id` but are deliberately readable outside a tenant's scope, with the
/// reason. They still have row-level security enabled and forced, with policies of their own.
pub const DIRECTORY_TABLES: &[(&str, &str)] = &[(
    "identity.tenant_domains",
    "host names select the tenant, so they are read before one is known; writes are scoped",
)];

/// Every table of the database at `owner_url` with a `tenant_id` column that is not tenant-owned
/// the one way (`platform.tenant_table`: row-level security enabled and forced, and the policy
/// `tenant_isolation` for every command and role, with exactly the expressions that function
/// writes), as `schema.table: what is wrong`. Tables in [`DIRECTORY_TABLES`] need only forced
/// row-level security. Every test template is checked with it when it is built.
pub async fn tenant_tables_not_isolated(owner_url: &str) -> anyhow::Result<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Leak {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        problem: String,
    }
    let mut conn = AsyncPgConnection::establish(owner_url).await?;
    // The reference: what platform.tenant_table makes of a table, so no expression text is
    // written twice.
    diesel::sql_query("CREATE TEMPORARY TABLE isolation_reference (tenant_id uuid)")
        .execute(&mut conn)
        .await?;
    diesel::sql_query("SELECT platform.tenant_table('pg_temp.isolation_reference')")
        .execute(&mut conn)
        .await?;
    let leaks: Vec<Leak> = diesel::sql_query(
        "WITH reference AS (
             SELECT pg_get_expr(p.polqual, p.polrelid) AS qual,
                    pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
             FROM pg_policy p WHERE p.polrelid = 'pg_temp.isolation_reference'::regclass
         ),
         tenant_tables AS (
             SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relrowsecurity, c.relforcerowsecurity
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema'
         )
         SELECT t.name,
                CASE WHEN NOT t.relrowsecurity THEN 'row-level security is not enabled'
                     WHEN NOT t.relforcerowsecurity THEN 'row-level security is not forced'
                     ELSE 'no tenant_isolation policy as platform.tenant_table writes it' END AS problem
         FROM tenant_tables t
         WHERE NOT (t.relrowsecurity AND t.relforcerowsecurity)
            OR (t.name <> ALL ($1) AND NOT EXISTS (
                 SELECT 1 FROM pg_policy p, reference r
                 WHERE p.polrelid = t.oid AND p.polname = 'tenant_isolation' AND p.polcmd = '*'
                   AND p.polpermissive AND p.polroles = '{0}'
                   AND pg_get_expr(p.polqual, p.polrelid) = r.qual
                   AND pg_get_expr(p.polwithcheck, p.polrelid) = r.check_expr))
         ORDER BY t.name",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(
        DIRECTORY_TABLES.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
    )
    .load(&mut conn)
    .await?;
    Ok(leaks
        .into_iter()
        .map(|l| format!("{}: {}", l.name, l.problem))
        .collect())
}

/// The tenant tables of every schema that tracks its changes for a response cache
/// (`platform.track_changes`, which makes `<schema>.record_change`) whose inserts, updates or
/// deletes notify nothing, as `schema.table`: an answer read from one would never be invalidated. Every test template is
/// checked with it when it is built.
pub async fn tenant_tables_not_tracked(owner_url: &str) -> anyhow::Result<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Untracked {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let mut conn = AsyncPgConnection::establish(owner_url).await?;
    let found: Vec<Untracked> = diesel::sql_query(
        "SELECT n.nspname || '.' || c.relname AS name
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p')
           AND to_regproc(quote_ident(n.nspname) || '.record_change') IS NOT NULL
           AND c.relname NOT IN ('outbox', 'deliveries', 'inbox', 'jobs')
           AND (SELECT count(*) FROM pg_trigger t
                WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
                  AND t.tgname IN ('record_insert', 'record_update', 'record_delete')) < 3
         ORDER BY 1",
    )
    .load(&mut conn)
    .await?;
    Ok(found.into_iter().map(|u| u.name).collect())
}

impl TestDb {
    /// The tables of `schema` with a `tenant_id` (read from the catalogue, so a table added by a
    /// migration is listed without anyone listing it).
    pub async fn tenant_tables(&self, schema: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = Text)]
            name: String,
        }
        let mut conn = AsyncPgConnection::establish(&self.owner_url)
            .await
            .unwrap_or_else(|e| panic!("owner connection: {e}"));
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT n.nspname || '.' || c.relname AS name
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
             WHERE c.relkind IN ('r', 'p') AND n.nspname = $1
             ORDER BY 1",
        )
        .bind::<Text, _>(schema)
        .load(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("reading the catalogue: {e}"));
        tables.into_iter().map(|t| t.name).collect()
    }

    /// Probes every tenant table of `schema` (see [`tenant_tables`](Self::tenant_tables)) after a
    /// fixture wrote rows for tenant `own` and some for tenant `other`: each must have rows `own`
    /// sees (a table the fixture leaves empty proves nothing, so it fails: give it rows), none
    /// visible with no tenant selected (unless it is a [`DIRECTORY_TABLES`] entry), and none of
    /// `own`'s visible to `other`. Panics naming every table that fails.
    pub async fn assert_every_table_isolated(&self, schema: &str, own: TenantId, other: TenantId) {
        let mut findings = Vec::new();
        let tables = self.tenant_tables(schema).await;
        assert!(!tables.is_empty(), "{schema} has no tenant tables");
        for table in &tables {
            if self.visible_rows(table, Some(own)).await == 0 {
                findings.push(format!("{table}: the fixture wrote no rows for it"));
                continue;
            }
            if DIRECTORY_TABLES.iter().any(|(t, _)| t == table) {
                // Readable by design; the catalogue scan holds its writes.
                continue;
            }
            if self.visible_rows(table, None).await != 0 {
                findings.push(format!("{table}: rows are visible with no tenant selected"));
            }
            // A formatted UUID is hex digits and dashes only.
            let sql = format!("SELECT count(*) AS n FROM {table} WHERE tenant_id = '{own}'");
            if self.count_in(other, &sql).await != 0 {
                findings.push(format!("{table}: another tenant sees its rows"));
            }
        }
        assert!(
            findings.is_empty(),
            "tenant isolation of {schema}:\n{}",
            findings.join("\n")
        );
    }
}

/// The context of a request from `actor` in `tenant`.
pub fn context(tenant: Option<&TenantInfo>, actor: Actor) -> RequestContext {
    RequestContext {
        tenant: tenant.cloned(),
        actor,
        vendor: None,
        company: None,
        locale: None,
        request_id: format!("test-{}", Uuid::now_v7()),
    }
}

/// The context of a signed-in user with `roles` in `tenant`.
pub fn user_context(
    tenant: Option<&TenantInfo>,
    user_id: UserId,
    roles: &[Role],
) -> RequestContext {
    context(
        tenant,
        Actor::User {
            user_id,
            roles: roles.to_vec(),
        },
    )
}

/// `user` of `tenant` acting for `vendor` with `role` on its team (as a request naming it in
/// `x-vendor-id` resolves, once the server has checked the membership).
pub fn vendor_context(
    tenant: &TenantInfo,
    user: UserId,
    vendor: cityos_core::ids::VendorId,
    role: cityos_core::VendorRole,
) -> RequestContext {
    RequestContext {
        vendor: Some(cityos_core::VendorScope { id: vendor, role }),
        ..user_context(Some(tenant), user, &[Role::Customer])
    }
}

/// `user` of `tenant` buying for `company` with `role` in it (as a request naming it in
/// `x-company-id` resolves, once the server has checked the membership).
pub fn company_context(
    tenant: &TenantInfo,
    user: UserId,
    company: cityos_core::ids::CompanyId,
    role: cityos_core::CompanyRole,
) -> RequestContext {
    RequestContext {
        company: Some(cityos_core::CompanyScope { id: company, role }),
        ..user_context(Some(tenant), user, &[Role::Customer])
    }
}

/// A platform admin with no tenant selected.
pub fn platform_admin() -> RequestContext {
    user_context(None, UserId::new(), &[Role::PlatformAdmin])
}

/// The request-context view of a tenant row's essentials.
pub fn tenant_info(id: TenantId, slug: &str, currency: &str, locale: &str) -> TenantInfo {
    TenantInfo {
        id,
        slug: slug.to_owned(),
        status: TenantStatus::Active,
        default_currency: currency.to_owned(),
        default_locale: locale.to_owned(),
    }
}

/// Creates an empty database (no schemas: the subgraph processes under test migrate it themselves)
/// and returns its owner URL.
pub async fn empty_database() -> String {
    let server = server_url();
    let name = format!("cityos_e2e_{}", Uuid::now_v7().simple());
    let mut admin = AsyncPgConnection::establish(&server)
        .await
        .unwrap_or_else(|e| panic!("connecting to DATABASE_URL: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    with_database(&server, &name)
}

/// The code of the user error an outcome was refused with; panics on success or on a request-level
/// failure, so a test cannot mistake one for the other.
pub fn refusal<T: std::fmt::Debug, C: std::fmt::Debug>(
    outcome: Result<T, cityos_core::Failure<C>>,
) -> C {
    match outcome {
        Err(cityos_core::Failure::User(e)) => e.code,
        other => panic!("expected a user error, got {other:?}"),
    }
}
