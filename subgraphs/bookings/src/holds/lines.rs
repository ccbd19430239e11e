//! Holds as orders' cart lines show and price them: what was held (service, time, provider,
//! seats), whether it still keeps its seats, and what it costs in the cart's currency: the
//! service's own price for that currency, else its linked catalog product (whose pricing orders
//! applies). One statement for any number of holds.

use super::HoldStatus;
use crate::ids::{CalendarId, HoldId, ProductId, ServiceId, UserId, VendorId};
use chrono::{DateTime, Utc};
use cityos_core::money::Currency;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{
    Array, BigInt, Integer, Nullable, Text as SqlText, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::RunQueryDsl;

/// A hold as a cart line shows it.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Held {
    #[diesel(sql_type = SqlUuid)]
    pub hold_id: HoldId,
    #[diesel(sql_type = SqlUuid)]
    pub customer_id: UserId,
    #[diesel(sql_type = SqlText)]
    pub status: HoldStatus,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    pub seats: i32,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub provider_id: Option<CalendarId>,
    #[diesel(sql_type = Nullable<SqlText>)]
    pub provider_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub service_id: ServiceId,
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

impl Held {
    /// Whether it keeps its seats at `now` (a hold past its time never does, job or not).
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.status == HoldStatus::Held && now < self.expires_at
    }
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
        diesel::sql_query(
            "SELECT h.id AS hold_id, h.customer_id, h.status, h.expires_at, h.seats,
                    s.starts_at, s.ends_at, s.provider_id, p.name AS provider_name,
                    v.id AS service_id, v.name AS service_name, v.vendor_id, v.product_id,
                    (SELECT x.amount_minor FROM bookings.service_prices x
                     WHERE x.tenant_id = v.tenant_id AND x.service_id = v.id AND x.currency = $2)
                        AS unit_price
             FROM bookings.holds h
             JOIN bookings.sessions s ON s.tenant_id = h.tenant_id AND s.id = h.session_id
             JOIN bookings.services v ON v.tenant_id = h.tenant_id AND v.id = h.service_id
             LEFT JOIN bookings.calendars p ON p.tenant_id = s.tenant_id AND p.id = s.provider_id
             WHERE h.id = ANY ($1)",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<SqlText, _>(currency.code()),
    )
    .load(tx.conn())
    .await
}
