//! Gap-free numbers per tenant (orders, invoices, credit notes): a counter row per name, taken
//! with an upsert that keeps the row locked until the caller's transaction ends, so numbers are
//! consecutive and a rolled-back transaction gives its number back.

use crate::schema::counters;
use cityos_db::TenantTx;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// The next value of a per-tenant gap-free counter, in the caller's transaction (the counter row
/// stays locked until it ends).
pub async fn next(tx: &mut TenantTx<'_>, name: &str) -> QueryResult<i64> {
    let tenant = tx.tenant();
    diesel::insert_into(counters::table)
        .values((
            counters::tenant_id.eq(tenant),
            counters::name.eq(name),
            counters::last_value.eq(1),
        ))
        .on_conflict((counters::tenant_id, counters::name))
        .do_update()
        .set(counters::last_value.eq(counters::last_value + 1))
        .returning(counters::last_value)
        .get_result(tx.conn())
        .await
}
