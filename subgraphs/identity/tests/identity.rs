//! Identity integration tests: real PostgreSQL (a fresh database per test), services and schema in
//! process.

use cityos_core::{Actor, Failure, Role};
use cityos_testkit::{TestDb, context, platform_admin, refusal, tenant_info};
use identity::errors::IdentityErrorCode as Code;
use identity::onboarding::{self, NewTenant};
use identity::tenants;
use identity::users::{self, NewUser};
use identity::{Identity, build_schema, sessions};
use serde_json::json;
use uuid::Uuid;

async fn test_db() -> TestDb {
    TestDb::for_subgraph::<Identity>().await
}

fn new_tenant(slug: &str) -> NewTenant {
    NewTenant {
        name: slug.to_owned(),
        slug: slug.to_owned(),
        default_currency: "SAR".into(),
        default_locale: "ar".into(),
        supported_locales: Some(vec!["en".into()]),
        timezone: "Asia/Riyadh".into(),
        admin: NewUser {
            email: format!("admin@{slug}.test"),
            password: "admin-password".into(),
            first_name: None,
            last_name: None,
        },
    }
}

#[tokio::test]
async fn tenant_create_refuses_bad_input_and_changes_nothing() {
    let t = test_db().await;
    let admin = platform_admin();
    let cases = [
        (
            NewTenant {
                default_currency: "SRA".into(),
                ..new_tenant("t1")
            },
            Code::UnknownCurrency,
        ),
        (
            NewTenant {
                timezone: "Mars/Olympus".into(),
                ..new_tenant("t1")
            },
            Code::InvalidTimezone,
        ),
        (
            NewTenant {
                slug: "Not A Slug".into(),
                ..new_tenant("t1")
            },
            Code::InvalidSlug,
        ),
        (
            NewTenant {
                default_locale: "arabic".into(),
                ..new_tenant("t1")
            },
            Code::InvalidLocale,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            refusal(onboarding::create(t.db(), &admin, input).await),
            expected
        );
    }
    let page = cityos_core::paging::PageRequest::new(Some(10), None, None, None).expect("page");
    assert_eq!(
        tenants::list(t.db(), &admin, page)
            .await
            .expect("list")
            .total_count,
        0
    );

    onboarding::create(t.db(), &admin, new_tenant("t1"))
        .await
        .expect("created");
    assert_eq!(
        refusal(onboarding::create(t.db(), &admin, new_tenant("t1")).await),
        Code::SlugTaken
    );
    assert_eq!(
        tenants::list(t.db(), &admin, page)
            .await
            .expect("list")
            .total_count,
        1
    );

    // Only platform admins create tenants.
    let customer = context(
        None,
        Actor::User {
            user_id: identity::ids::UserId::new(),
            roles: vec![Role::Customer],
        },
    );
    assert!(matches!(
        onboarding::create(t.db(), &customer, new_tenant("t2")).await,
        Err(Failure::Api(_))
    ));
}

#[tokio::test]
async fn racing_sign_ups_with_one_email_make_one_account() {
    let t = test_db().await;
    let (row, _) = onboarding::create(t.db(), &platform_admin(), new_tenant("signup"))
        .await
        .expect("tenant");
    let info = tenant_info(row.id, &row.slug, "SAR", "ar");
    let storefront = context(
        Some(&info),
        Actor::Storefront {
            key_id: identity::ids::ApiKeyId::new(),
        },
    );
    let attempts = (0..10).map(|i| {
        // Same address, differently cased: unique per tenant, case-insensitively.
        let email = if i % 2 == 0 {
            "Sara@Example.com"
        } else {
            "sara@example.COM"
        };
        let input = NewUser {
            email: email.into(),
            password: "customer-pass".into(),
            first_name: None,
            last_name: None,
        };
        sessions::sign_up_customer(t.db(), &t.platform.keys, &storefront, input)
    });
    let results = futures_util::future::join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .into_iter()
            .filter(|r| r.is_err())
            .all(|r| refusal(r) == Code::EmailTaken)
    );
}

#[tokio::test]
async fn racing_refreshes_of_one_token_win_at_most_once() {
    let t = test_db().await;
    let (row, _) = onboarding::create(t.db(), &platform_admin(), new_tenant("refresh"))
        .await
        .expect("tenant");
    let info = tenant_info(row.id, &row.slug, "SAR", "ar");
    let ctx = context(Some(&info), Actor::Anonymous);
    let input = NewUser {
        email: "c@refresh.test".into(),
        password: "customer-pass".into(),
        first_name: None,
        last_name: None,
    };
    let session = sessions::sign_up_customer(t.db(), &t.platform.keys, &ctx, input)
        .await
        .expect("session");

    let attempts =
        (0..8).map(|_| sessions::refresh(t.db(), &t.platform.keys, &ctx, &session.refresh_token));
    let results = futures_util::future::join_all(attempts).await;
    assert!(results.iter().filter(|r| r.is_ok()).count() <= 1);
    // Whatever won, the original token is spent for good.
    assert_eq!(
        refusal(sessions::refresh(t.db(), &t.platform.keys, &ctx, &session.refresh_token).await),
        Code::InvalidRefreshToken
    );
}

#[tokio::test]
async fn sign_in_answers_alike_for_unknown_email_and_wrong_password() {
    let t = test_db().await;
    let (row, _) = onboarding::create(t.db(), &platform_admin(), new_tenant("signin"))
        .await
        .expect("tenant");
    let info = tenant_info(row.id, &row.slug, "SAR", "ar");
    let schema = build_schema(Some(&t.platform));
    let ctx = context(Some(&info), Actor::Anonymous);
    let q = "mutation($e: String!, $p: String!) { signIn(input: { email: $e, password: $p }) { accessToken userErrors { field code message } } }";
    let wrong = t
        .graphql::<Identity>(
            &schema,
            &ctx,
            q,
            json!({ "e": "admin@signin.test", "p": "wrong-password" }),
        )
        .await;
    let unknown = t
        .graphql::<Identity>(
            &schema,
            &ctx,
            q,
            json!({ "e": "nobody@signin.test", "p": "wrong-password" }),
        )
        .await;
    assert_eq!(wrong, unknown);
    assert_eq!(
        wrong["data"]["signIn"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let right = t
        .graphql::<Identity>(
            &schema,
            &ctx,
            q,
            json!({ "e": "ADMIN@signin.test", "p": "admin-password" }),
        )
        .await;
    assert!(
        right["data"]["signIn"]["accessToken"].is_string(),
        "{right}"
    );
    // The platform admin's account is not in any tenant.
    users::ensure_platform_admin(t.db(), "root@platform.test", "root-password".into())
        .await
        .expect("admin");
    let in_tenant = t
        .graphql::<Identity>(
            &schema,
            &ctx,
            q,
            json!({ "e": "root@platform.test", "p": "root-password" }),
        )
        .await;
    assert_eq!(
        in_tenant["data"]["signIn"]["userErrors"][0]["code"],
        "INVALID_CREDENTIALS"
    );
    let no_tenant = context(None, Actor::Anonymous);
    let platform = t
        .graphql::<Identity>(
            &schema,
            &no_tenant,
            q,
            json!({ "e": "root@platform.test", "p": "root-password" }),
        )
        .await;
    assert!(
        platform["data"]["signIn"]["accessToken"].is_string(),
        "{platform}"
    );
}

#[tokio::test]
async fn row_level_security_isolates_every_identity_table() {
    use diesel_async::RunQueryDsl;
    let t = test_db().await;
    let admin = platform_admin();
    let mut ids = Vec::new();
    for slug in ["iso-a", "iso-b"] {
        let (row, staff) = onboarding::create(t.db(), &admin, new_tenant(slug))
            .await
            .expect("tenant");
        let info = tenant_info(row.id, &row.slug, "SAR", "ar");
        let staff = cityos_testkit::user_context(Some(&info), staff.id, &[Role::TenantAdmin]);
        identity::api_keys::create(
            t.db(),
            &staff,
            "key",
            identity::api_keys::ApiKeyKind::Publishable,
        )
        .await
        .expect("key");
        tenants::add_domain(t.db(), &staff, &format!("{slug}.example.com"))
            .await
            .expect("domain");
        let input = NewUser {
            email: format!("c@{slug}.test"),
            password: "customer-pass".into(),
            first_name: None,
            last_name: None,
        };
        sessions::sign_up_customer(
            t.db(),
            &t.platform.keys,
            &context(Some(&info), Actor::Anonymous),
            input,
        )
        .await
        .expect("customer");
        ids.push(row.id);
    }
    // Per tenant: 2 users (admin, customer), 1 session (the customer's), 1 key, 3 audit rows.
    for (table, per_tenant) in [
        ("users", 2),
        ("refresh_tokens", 1),
        ("api_keys", 1),
        ("audit_log", 3),
    ] {
        let table = format!("identity.{table}");
        assert_eq!(
            t.visible_rows(&table, None).await,
            0,
            "{table} without a tenant"
        );
        assert_eq!(
            t.visible_rows(&table, Some(ids[0])).await,
            per_tenant,
            "{table} in a"
        );
        assert_eq!(
            t.visible_rows(&table, Some(ids[1])).await,
            per_tenant,
            "{table} in b"
        );
    }
    // And every tenant table the schema has, this fixture's rows probed from the catalogue.
    t.assert_every_table_isolated("identity", ids[0], ids[1])
        .await;
    // Domains are a readable directory, but a tenant cannot write another's.
    assert_eq!(t.visible_rows("identity.tenant_domains", None).await, 2);
    let (a, b) = (ids[0], ids[1]);
    let forged = t
        .db()
        .tenant_tx(b, async move |tx| {
            diesel::sql_query("INSERT INTO identity.tenant_domains (tenant_id, id, host) VALUES ($1, $2, 'forged.example.com')")
                .bind::<diesel::sql_types::Uuid, _>(a)
                .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
                .execute(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await;
    assert!(forged.is_err());
    let renamed = t
        .db()
        .tenant_tx(b, async move |tx| {
            diesel::sql_query("UPDATE identity.tenants SET name = 'pwned' WHERE id = $1")
                .bind::<diesel::sql_types::Uuid, _>(a)
                .execute(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await;
    assert_eq!(
        renamed.expect("update runs"),
        0,
        "another tenant's row is invisible to UPDATE"
    );
}

/// The catalogue scan every test template passes: it names each table with a `tenant_id` that is
/// not held by `platform.tenant_table`, and what is wrong with it.
#[tokio::test]
async fn the_isolation_scan_names_every_table_that_is_not_tenant_owned() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let t = test_db().await;
    assert_eq!(
        cityos_testkit::tenant_tables_not_isolated(&t.owner_url)
            .await
            .expect("scan"),
        Vec::<String>::new()
    );
    let mut owner = AsyncPgConnection::establish(&t.owner_url)
        .await
        .expect("owner");
    for sql in [
        "CREATE TABLE identity.open_table (tenant_id uuid, id uuid)",
        "CREATE TABLE identity.unforced (tenant_id uuid, id uuid)",
        "ALTER TABLE identity.unforced ENABLE ROW LEVEL SECURITY",
        "CREATE TABLE identity.loose_policy (tenant_id uuid, id uuid)",
        "ALTER TABLE identity.loose_policy ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE identity.loose_policy FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_isolation ON identity.loose_policy USING (true)",
        "CREATE TABLE identity.held (tenant_id uuid, id uuid)",
        "SELECT platform.tenant_table('identity.held')",
    ] {
        diesel::sql_query(sql)
            .execute(&mut owner)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(
        cityos_testkit::tenant_tables_not_isolated(&t.owner_url)
            .await
            .expect("scan"),
        [
            "identity.loose_policy: no tenant_isolation policy as platform.tenant_table writes it",
            "identity.open_table: row-level security is not enabled",
            "identity.unforced: row-level security is not forced",
        ]
    );
}
