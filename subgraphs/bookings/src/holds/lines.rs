//! Holds as orders' cart lines show and price them: what was held (service, time, provider,
//! seats), whether it still keeps its seats, and what it costs in the cart's currency: the
//! service's own price for that currency, else its linked catalog product (whose pricing orders
//! applies). One statement for any number of holds.

use super::{COLUMNS, FROM, Hold};
use crate::ids::{HoldId, ProductId, VendorId};
use cityos_core::money::Currency;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
// The derive of a row with an embedded part names the trait.
use diesel::deserialize::QueryableByName;
use diesel::sql_types::{Array, BigInt, Nullable, Text as SqlText, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// A hold as a cart line shows it: the hold, with its service and provider.
#[derive(QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Held {
    #[diesel(embed)]
    pub hold: Hold,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub provider_name: Option<String>,
    #[diesel(sql_type = SqlText)]
    pub service_name: String,
    /// The marketplace vendor selling it (`None`: the tenant itself).
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vendor_id: Option<VendorId>,
    /// The catalog product the service is linked to.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub product_id: Option<ProductId>,
    /// The service's own price of one seat in the currency asked, in minor units.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub unit_price: Option<i64>,
}

/// The holds `ids` that exist, with their service's price of a seat in `currency`.
pub async fn held(
    tx: &mut TenantTx<'_>,
    ids: &[HoldId],
    currency: Currency,
) -> QueryResult<Vec<Held>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Prepared(
        diesel::sql_query(format!(
            "SELECT {COLUMNS}, p.name AS provider_name, v.name AS service_name, v.vendor_id,
                    v.product_id,
                    (SELECT x.amount_minor FROM bookings.service_prices x
                     WHERE x.tenant_id = v.tenant_id AND x.service_id = v.id AND x.currency = $2)
                        AS unit_price
             {FROM}
             JOIN bookings.services v ON v.tenant_id = h.tenant_id AND v.id = h.service_id
             LEFT JOIN bookings.calendars p ON p.tenant_id = s.tenant_id AND p.id = s.provider_id
             WHERE h.id = ANY ($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<SqlText, _>(currency.code()),
    )
    .load(tx.conn())
    .await
}
