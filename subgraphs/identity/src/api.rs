//! What identity offers the other subgraphs in Rust: functions on the caller's open tenant
//! transaction, each a thin call of a function identity publishes in its schema, so no other
//! subgraph reads identity's tables.

use cityos_core::ids::UserId;
use cityos_db::TenantTx;
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// Which of `ids` are customers of the transaction's tenant (`identity.customers_among`); staff,
/// other tenants' users and unknown ids are left out.
pub async fn customers_among(
    tx: &mut TenantTx<'_>,
    ids: &[UserId],
) -> diesel::QueryResult<Vec<UserId>> {
    #[derive(diesel::QueryableByName)]
    struct Customer {
        #[diesel(sql_type = SqlUuid)]
        id: UserId,
    }
    let rows: Vec<Customer> = cityos_db::Prepared(
        diesel::sql_query("SELECT identity.customers_among($1) AS id")
            .bind::<Array<SqlUuid>, _>(ids),
    )
    .load(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|c| c.id).collect())
}

/// The e-mail address of user `id` of the transaction's tenant (`identity.user_email`); `None`
/// for another tenant's user or an unknown id.
pub async fn user_email(tx: &mut TenantTx<'_>, id: UserId) -> diesel::QueryResult<Option<String>> {
    #[derive(diesel::QueryableByName)]
    struct Email {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        email: Option<String>,
    }
    let row: Email = cityos_db::Prepared(
        diesel::sql_query("SELECT identity.user_email($1) AS email").bind::<SqlUuid, _>(id),
    )
    .get_result(tx.conn())
    .await?;
    Ok(row.email)
}
