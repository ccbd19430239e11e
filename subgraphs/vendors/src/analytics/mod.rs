//! Vendors' analytics per vendor and period (UTC day or calendar month), kept up to date from
//! orders' events (each consumed once) into one row of counters per vendor, currency and day, so
//! a dashboard reads sums, never recomputes from orders.
//!
//! - `order.placed`: an order and its units for each vendor order, on the day it was placed.
//! - `payment.captured` (through the ledger, [`crate::ledger::sales`]): gross sales (what the
//!   customers paid) and commission, on the day the order was placed.
//! - `payment.refunded` (through the ledger): refunds and the commission given back, on the day
//!   of the refund.
//! - `order.cancelled`: a cancelled vendor order, on the day it was placed.
//! - `fulfillment.created`: a shipped vendor order, on time when within the vendor's handling
//!   days of placement, on the day it was placed.
//!
//! Read per period: net sales are gross - commission - refunds + commission given back; the
//! cancellation rate is cancelled / orders and the on-time rate on time / shipped, both of the
//! orders placed in the period.

pub mod graphql;

use crate::ids::{OrderId, VendorId, VendorOrderId};
use chrono::{DateTime, NaiveDate, Utc};
use cityos_core::ApiError;
use cityos_core::money::Currency;
use cityos_db::inbox::Consume;
use cityos_db::outbox::Event;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// Counters to add to one vendor's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub orders: i32,
    pub units: i64,
    pub gross: i64,
    pub commission: i64,
    pub refunds: i64,
    pub reversed: i64,
    pub cancelled: i32,
    pub shipped: i32,
    pub shipped_on_time: i32,
}

/// Adds `counts` to `vendor`'s `day` in `currency`. One statement.
pub async fn add(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Currency,
    day: NaiveDate,
    counts: Counts,
) -> QueryResult<()> {
    Prepared(
        diesel::sql_query(
            "INSERT INTO vendors.vendor_days AS d (tenant_id, vendor_id, currency, day, orders, units,
                    gross, commission, refunds, reversed, cancelled, shipped, shipped_on_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (tenant_id, vendor_id, currency, day) DO UPDATE SET
                 orders = d.orders + excluded.orders, units = d.units + excluded.units,
                 gross = d.gross + excluded.gross, commission = d.commission + excluded.commission,
                 refunds = d.refunds + excluded.refunds, reversed = d.reversed + excluded.reversed,
                 cancelled = d.cancelled + excluded.cancelled, shipped = d.shipped + excluded.shipped,
                 shipped_on_time = d.shipped_on_time + excluded.shipped_on_time",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<Date, _>(day)
        .bind::<Integer, _>(counts.orders)
        .bind::<BigInt, _>(counts.units)
        .bind::<BigInt, _>(counts.gross)
        .bind::<BigInt, _>(counts.commission)
        .bind::<BigInt, _>(counts.refunds)
        .bind::<BigInt, _>(counts.reversed)
        .bind::<Integer, _>(counts.cancelled)
        .bind::<Integer, _>(counts.shipped)
        .bind::<Integer, _>(counts.shipped_on_time),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

/// The vendors subgraph's reading of orders' `order.placed`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    pub order_id: OrderId,
    pub currency: Currency,
    pub vendor_orders: Vec<PlacedPart>,
    pub lines: Vec<PlacedLine>,
}

/// A vendor order of [`OrderPlaced`] (orders writes these fields in snake case).
#[derive(serde::Deserialize, Debug)]
pub struct PlacedPart {
    pub id: VendorOrderId,
    pub vendor_id: Option<VendorId>,
}

/// A line of [`OrderPlaced`].
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PlacedLine {
    pub vendor_order_id: VendorOrderId,
    pub quantity: i32,
}

impl Consume for OrderPlaced {
    const TOPIC: &'static str = "order.placed";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        let placed_at = event.created_at;
        for part in &self.vendor_orders {
            let Some(vendor) = part.vendor_id else {
                continue;
            };
            let units: i64 = self
                .lines
                .iter()
                .filter(|l| l.vendor_order_id == part.id)
                .map(|l| i64::from(l.quantity))
                .sum();
            let new = Prepared(
                diesel::sql_query(
                    "INSERT INTO vendors.placed_orders (tenant_id, vendor_order_id, order_id, vendor_id, currency, placed_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind::<SqlUuid, _>(tx.tenant())
                .bind::<SqlUuid, _>(part.id)
                .bind::<SqlUuid, _>(self.order_id)
                .bind::<SqlUuid, _>(vendor)
                .bind::<Text, _>(self.currency.code())
                .bind::<Timestamptz, _>(placed_at),
            )
            .execute(tx.conn())
            .await?;
            if new > 0 {
                let counts = Counts {
                    orders: 1,
                    units,
                    ..Counts::default()
                };
                add(tx, vendor, self.currency, placed_at.date_naive(), counts).await?;
            }
        }
        Ok(())
    }
}

#[derive(diesel::QueryableByName)]
struct Moved {
    #[diesel(sql_type = SqlUuid)]
    vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    currency: Currency,
    #[diesel(sql_type = Timestamptz)]
    placed_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Integer>)]
    on_time: Option<i32>,
}

/// The vendors subgraph's reading of orders' `order.cancelled`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: OrderId,
}

impl Consume for OrderCancelled {
    const TOPIC: &'static str = "order.cancelled";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        let moved: Vec<Moved> = Prepared(
            diesel::sql_query(
                "UPDATE vendors.placed_orders SET cancelled_at = $2
                 WHERE order_id = $1 AND cancelled_at IS NULL
                 RETURNING vendor_id, currency, placed_at, NULL::int AS on_time",
            )
            .bind::<SqlUuid, _>(self.order_id)
            .bind::<Timestamptz, _>(event.created_at),
        )
        .load(tx.conn())
        .await?;
        for m in moved {
            let counts = Counts {
                cancelled: 1,
                ..Counts::default()
            };
            add(
                tx,
                m.vendor_id,
                m.currency,
                m.placed_at.date_naive(),
                counts,
            )
            .await?;
        }
        Ok(())
    }
}

/// The vendors subgraph's reading of orders' `fulfillment.created`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentCreated {
    pub vendor_order_id: VendorOrderId,
}

impl Consume for FulfillmentCreated {
    const TOPIC: &'static str = "fulfillment.created";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        let moved: Vec<Moved> = Prepared(
            diesel::sql_query(
                "UPDATE vendors.placed_orders p SET shipped_at = $2
                 FROM vendors.vendors v
                 WHERE p.vendor_order_id = $1 AND p.shipped_at IS NULL
                   AND v.tenant_id = p.tenant_id AND v.id = p.vendor_id
                 RETURNING p.vendor_id, p.currency, p.placed_at,
                           (($2 - p.placed_at) <= make_interval(days => v.handling_days))::int AS on_time",
            )
            .bind::<SqlUuid, _>(self.vendor_order_id)
            .bind::<Timestamptz, _>(event.created_at),
        )
        .load(tx.conn())
        .await?;
        for m in moved {
            let counts = Counts {
                shipped: 1,
                shipped_on_time: m.on_time.unwrap_or(0),
                ..Counts::default()
            };
            add(
                tx,
                m.vendor_id,
                m.currency,
                m.placed_at.date_naive(),
                counts,
            )
            .await?;
        }
        Ok(())
    }
}

cityos_core::states! {
    /// How analytics are grouped.
    #[graphql(name = "AnalyticsPeriod")]
    pub enum Period {
        /// One UTC day.
        Day = "DAY",
        /// One calendar month (UTC).
        Month = "MONTH",
    }
}

/// One vendor's figures for one period in one currency.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Date)]
    pub start: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
    #[diesel(sql_type = BigInt)]
    pub units: i64,
    #[diesel(sql_type = BigInt)]
    pub gross: i64,
    #[diesel(sql_type = BigInt)]
    pub commission: i64,
    #[diesel(sql_type = BigInt)]
    pub refunds: i64,
    #[diesel(sql_type = BigInt)]
    pub reversed: i64,
    #[diesel(sql_type = BigInt)]
    pub cancelled: i64,
    #[diesel(sql_type = BigInt)]
    pub shipped: i64,
    #[diesel(sql_type = BigInt)]
    pub shipped_on_time: i64,
}

impl Stats {
    /// Gross sales less commission and refunds, plus the commission refunds gave back.
    pub fn net(&self) -> i64 {
        self.gross - self.commission - self.refunds + self.reversed
    }
}

const SUMS: &str = "sum(orders)::bigint AS orders, sum(units)::bigint AS units,
    sum(gross)::bigint AS gross, sum(commission)::bigint AS commission,
    sum(refunds)::bigint AS refunds, sum(reversed)::bigint AS reversed,
    sum(cancelled)::bigint AS cancelled, sum(shipped)::bigint AS shipped,
    sum(shipped_on_time)::bigint AS shipped_on_time";

/// `vendor`'s figures per `period` from `from` to `to` (inclusive days), oldest first; periods
/// without activity are absent. One statement.
pub async fn of_vendor(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    period: Period,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Stats>> {
    let unit = match period {
        Period::Day => "day",
        Period::Month => "month",
    };
    Prepared(
        diesel::sql_query(format!(
            "SELECT vendor_id, date_trunc('{unit}', day)::date AS start, currency, {SUMS}
             FROM vendors.vendor_days
             WHERE vendor_id = $1 AND day BETWEEN $2 AND $3
             GROUP BY vendor_id, start, currency ORDER BY start, currency"
        ))
        .bind::<SqlUuid, _>(vendor)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to),
    )
    .load(tx.conn())
    .await
}

/// The tenant's vendors with the most net sales in `currency` from `from` to `to`, best first
/// (ties by id), at most `limit`. One statement.
pub async fn top(
    tx: &mut TenantTx<'_>,
    currency: Currency,
    from: NaiveDate,
    to: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<Stats>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT vendor_id, $2::date AS start, currency, {SUMS}
             FROM vendors.vendor_days
             WHERE currency = $1 AND day BETWEEN $2 AND $3
             GROUP BY vendor_id, currency
             ORDER BY sum(gross) - sum(commission) - sum(refunds) + sum(reversed) DESC, vendor_id
             LIMIT $4"
        ))
        .bind::<Text, _>(currency.code())
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<BigInt, _>(limit),
    )
    .load(tx.conn())
    .await
}
