//! Catalog integration tests: real PostgreSQL (a fresh database per test), the schema executed in
//! process.

use crate::common::{tenant, test_db};
use catalog::products::{self, NewProduct, ProductStatus};
use catalog::{Catalog, build_schema};
use cityos_core::{Actor, Failure};
use cityos_testkit::context;
use diesel_async::RunQueryDsl;
use serde_json::json;
use uuid::Uuid;

fn product(handle: &str, status: ProductStatus) -> NewProduct {
    NewProduct {
        title: handle.to_owned(),
        handle: handle.to_owned(),
        description: None,
        status: Some(status),
        ..NewProduct::default()
    }
}

#[tokio::test]
async fn row_level_security_shows_nothing_without_or_outside_the_tenant() {
    let t = test_db().await;
    let (a, a_admin) = tenant(&t, "rls-a").await;
    let (b, _) = tenant(&t, "rls-b").await;
    products::create(
        t.db(),
        &a_admin,
        product("hidden", ProductStatus::Published),
    )
    .await
    .expect("product");

    // A raw query as the application role with no tenant set sees no rows at all; inside a
    // tenant's scope, only that tenant's.
    assert_eq!(t.visible_rows("catalog.products", None).await, 0);
    assert_eq!(t.visible_rows("catalog.products", Some(a.id)).await, 1);
    assert_eq!(t.visible_rows("catalog.products", Some(b.id)).await, 0);

    // Writing a row for another tenant is refused by the policy, whatever the application says.
    let forged = t
        .db()
        .tenant_tx(b.id, async move |tx| {
            diesel::sql_query("INSERT INTO catalog.products (tenant_id, id, title, handle) VALUES ($1, $2, 'x', 'x')")
                .bind::<diesel::sql_types::Uuid, _>(a.id)
                .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
                .execute(tx.conn())
                .await
                .map_err(cityos_core::ApiError::from)
        })
        .await;
    assert!(forged.is_err());
    assert_eq!(t.visible_rows("catalog.products", Some(a.id)).await, 1);
}

#[tokio::test]
async fn racing_creates_with_one_handle_make_one_product() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "race").await;
    let attempts = (0..20)
        .map(|_| products::create(t.db(), &admin, product("same-handle", ProductStatus::Draft)));
    let results = futures_util::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(Failure::User(e)) if e.code == catalog::errors::CatalogErrorCode::HandleTaken))
        .count();
    assert_eq!((created, refused), (1, 19));
    let page = cityos_core::paging::PageRequest::new(Some(10), None, None, None).expect("page");
    let listed = products::list(t.db(), info.id, products::Visibility::All, page)
        .await
        .expect("list");
    assert_eq!(listed.total_count, 1);
}

#[tokio::test]
async fn graphql_validates_input_and_hides_drafts_from_storefronts() {
    let t = test_db().await;
    let (info, admin) = tenant(&t, "gql").await;
    let schema = build_schema(Some(&t.platform));
    let create = "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { handle } userErrors { field code } } }";

    let bad = t
        .graphql::<Catalog>(
            &schema,
            &admin,
            create,
            json!({ "input": { "title": " ", "handle": "Bad Handle" } }),
        )
        .await;
    assert_eq!(
        bad["data"]["productCreate"]["userErrors"],
        json!([{ "field": ["input", "title"], "code": "INVALID_TITLE" }])
    );
    let bad = t
        .graphql::<Catalog>(
            &schema,
            &admin,
            create,
            json!({ "input": { "title": "Lamp", "handle": "Bad Handle" } }),
        )
        .await;
    assert_eq!(
        bad["data"]["productCreate"]["userErrors"][0]["code"],
        "INVALID_HANDLE"
    );

    for (handle, status) in [("lamp", "DRAFT"), ("rug", "PUBLISHED")] {
        let ok = t
            .graphql::<Catalog>(
                &schema,
                &admin,
                create,
                json!({ "input": { "title": handle, "handle": handle, "status": status } }),
            )
            .await;
        assert_eq!(ok["data"]["productCreate"]["product"]["handle"], handle);
    }
    let storefront = context(
        Some(&info),
        Actor::Storefront {
            key_id: cityos_core::ids::ApiKeyId::new(),
        },
    );
    let listed = t
        .graphql::<Catalog>(
            &schema,
            &storefront,
            "{ products { totalCount edges { node { handle } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["data"]["products"],
        json!({ "totalCount": 1, "edges": [{ "node": { "handle": "rug" } }] })
    );

    // A storefront cannot write.
    let denied = t
        .graphql::<Catalog>(
            &schema,
            &storefront,
            create,
            json!({ "input": { "title": "x", "handle": "x" } }),
        )
        .await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

/// A stored status the code does not know is a fault, reported as INTERNAL, never read as some
/// default status (it used to come back as DRAFT).
#[tokio::test]
async fn an_unknown_stored_status_is_an_error_not_a_default() {
    use diesel_async::{AsyncConnection, AsyncPgConnection};
    let t = test_db().await;
    let (_, admin) = tenant(&t, "corrupt").await;
    let created = products::create(t.db(), &admin, product("odd", ProductStatus::Draft))
        .await
        .expect("product");
    let mut owner = AsyncPgConnection::establish(&t.owner_url)
        .await
        .expect("owner");
    // As the owner, past the check constraint, as a bad migration or a hand edit would.
    diesel::sql_query(
        "DO $$ DECLARE c text; BEGIN
           FOR c IN SELECT conname FROM pg_constraint
                    WHERE conrelid = 'catalog.products'::regclass AND contype = 'c'
                      AND pg_get_constraintdef(oid) LIKE '%status%' LOOP
             EXECUTE format('ALTER TABLE catalog.products DROP CONSTRAINT %I', c);
           END LOOP;
         END $$",
    )
    .execute(&mut owner)
    .await
    .expect("drop check");
    diesel::sql_query("UPDATE catalog.products SET status = 'PUBLISHD' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(created.id)
        .execute(&mut owner)
        .await
        .expect("corrupt");
    let schema = build_schema(Some(&t.platform));
    let r = t
        .graphql::<Catalog>(
            &schema,
            &admin,
            "query($id: ID!) { product(id: $id) { status } }",
            json!({ "id": created.id }),
        )
        .await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "INTERNAL", "{r}");
    assert_eq!(r["errors"][0]["message"], "internal error", "{r}");
}

/// A request with a tenant whose loaders were not registered is a fault of ours (INTERNAL), not a
/// client's missing tenant: the loader helper tells the two apart.
#[tokio::test]
async fn a_missing_loader_is_internal_not_tenant_required() {
    let t = test_db().await;
    let (_, admin) = tenant(&t, "no-loaders").await;
    let schema = build_schema(Some(&t.platform));
    let request = async_graphql::Request::new(
        "{ products(first: 1) { edges { node { variants { id } } } } }",
    )
    .data(admin.clone());
    products::create(t.db(), &admin, product("lonely", ProductStatus::Published))
        .await
        .expect("product");
    let r = serde_json::to_value(cityos_server::execute(&schema, request).await).expect("json");
    assert_eq!(r["errors"][0]["extensions"]["code"], "INTERNAL", "{r}");
}
