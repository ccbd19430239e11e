//! What orders' events put in vendors' ledgers, each event consumed once (the kit's inbox):
//!
//! - `payment.captured`: each vendor order of the order is a sale. Its lines' commissions are
//!   computed by the rules in force when the order was placed ([`commissions::engine`]) and
//!   frozen with the rule that set each; the ledger gets SALE (the vendor order's total) and
//!   COMMISSION (the sum of its lines'). A vendor order's sale is recorded once, however many
//!   payments of its order are captured.
//! - `payment.refunded`: each vendor order's share of the refund (orders splits it: a return's
//!   lines are their vendor's, the rest in proportion) is a REFUND, and the same share of its
//!   commission a COMMISSION_REVERSAL: `round(commission × refunded so far / total)` less what was
//!   given back before, half away from zero, so a vendor order refunded in full gives back its
//!   whole commission and never more.
//! - `fulfillment.delivered`: the vendor order's money becomes available after the tenant's hold
//!   period (`hold_days`, counted from delivery).
//!
//! A line's commission is taken of its net amount (after its discount, without tax), plus its tax
//! when the tenant says tax is commissionable, plus its share of the vendor order's shipping
//! (split over the lines by net amount, by largest remainder) when shipping is. The lines'
//! commissions sum exactly to the vendor order's.

use super::{EntryKind, NewEntry, append};
use crate::analytics;
use crate::commissions::engine::{self, Method, TierBasis};
use crate::commissions::in_force;
use crate::ids::{OrderId, OrderLineId, VendorId, VendorOrderId};
use crate::settings;
use catalog::api::ProductId;
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::money::{Currency, allocate, ratio};
use cityos_db::inbox::Consume;
use cityos_db::outbox::Event;
use cityos_db::{Prepared, TenantTx};
use diesel::OptionalExtension as _;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// The vendors subgraph's reading of orders' `payment.captured`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCaptured {
    pub order_id: OrderId,
    pub currency: Currency,
    /// Absent from events written before orders sent it: the event's own time then.
    pub placed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub vendor_orders: Vec<Sold>,
}

/// A vendor order as `payment.captured` tells it.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Sold {
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: VendorId,
    pub total: i64,
    pub shipping_total: i64,
    pub lines: Vec<SoldLine>,
}

/// A line of a [`Sold`] vendor order.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SoldLine {
    pub order_line_id: OrderLineId,
    /// `None` on a line of no product (a booking of a service not linked to one).
    pub product_id: Option<ProductId>,
    pub quantity: i32,
    /// After its discount, without tax.
    pub net: i64,
    pub tax: i64,
}

impl Sold {
    /// Whether its amounts hold together: none negative, every line at least one unit, and the
    /// lines with their tax and the shipping making the total.
    fn consistent(&self) -> bool {
        let lines: Option<i64> = self.lines.iter().try_fold(0i64, |sum, l| {
            (l.net >= 0 && l.tax >= 0 && l.quantity > 0)
                .then(|| sum.checked_add(l.net)?.checked_add(l.tax))
                .flatten()
        });
        !self.lines.is_empty()
            && self.shipping_total >= 0
            && lines.and_then(|l| l.checked_add(self.shipping_total)) == Some(self.total)
    }
}

impl Consume for PaymentCaptured {
    const TOPIC: &'static str = "payment.captured";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        if self.vendor_orders.is_empty() {
            return Ok(());
        }
        if let Some(bad) = self.vendor_orders.iter().find(|s| !s.consistent()) {
            return Err(ApiError::bad_input(format!(
                "payment.captured of order {}: vendor order {} does not add up",
                self.order_id, bad.vendor_order_id
            )));
        }
        let placed_at = self.placed_at.unwrap_or(event.created_at);
        let terms = settings::read(tx).await?;
        let mut products: Vec<ProductId> = self
            .vendor_orders
            .iter()
            .flat_map(|s| s.lines.iter().filter_map(|l| l.product_id))
            .collect();
        products.sort_unstable();
        products.dedup();
        let categories = catalog::api::product_categories(tx, &products).await?;
        let mut parts = self.vendor_orders;
        // One lock order for every consumer: by vendor, then vendor order.
        parts.sort_by_key(|s| (s.vendor_id, s.vendor_order_id));
        for part in parts {
            let sale = Sale {
                order: self.order_id,
                currency: self.currency,
                placed_at,
                terms: &terms,
                categories: &categories,
            };
            sale.record(tx, part).await?;
        }
        Ok(())
    }
}

/// What every vendor order of one captured order shares.
struct Sale<'a> {
    order: OrderId,
    currency: Currency,
    placed_at: DateTime<Utc>,
    terms: &'a settings::Settings,
    categories: &'a std::collections::HashMap<ProductId, Vec<(catalog::api::CategoryId, i32)>>,
}

impl Sale<'_> {
    async fn record(&self, tx: &mut TenantTx<'_>, part: Sold) -> Result<(), ApiError> {
        let vendor = part.vendor_id;
        let mut cats: Vec<uuid::Uuid> = part
            .lines
            .iter()
            .filter_map(|l| l.product_id)
            .flat_map(|p| self.categories.get(&p).into_iter().flatten())
            .map(|(c, _)| (*c).into())
            .collect();
        cats.sort_unstable();
        cats.dedup();
        let products: Vec<uuid::Uuid> = part
            .lines
            .iter()
            .filter_map(|l| l.product_id)
            .map(Into::into)
            .collect();
        let rules = in_force(tx, vendor, self.currency, self.placed_at, &cats, &products).await?;
        let by_month = rules.iter().any(|r| {
            matches!(
                r.method,
                Method::Tiered {
                    basis: TierBasis::VendorMonthSales,
                    ..
                }
            )
        });
        let month_sales = if by_month {
            month_sales(tx, vendor, self.currency, self.placed_at).await?
        } else {
            0
        };
        let nets: Vec<i64> = part.lines.iter().map(|l| l.net).collect();
        let shipping = if self.terms.shipping_commissionable {
            allocate(part.shipping_total, &nets)
        } else {
            vec![0; nets.len()]
        };
        let order_amount: i64 = nets.iter().sum();
        let mut lines = Frozen::default();
        for (i, (line, shipped)) in part.lines.iter().zip(shipping).enumerate() {
            let tax = if self.terms.tax_commissionable {
                line.tax
            } else {
                0
            };
            let basis = line.net + tax + shipped;
            let facts = engine::Line {
                product: line.product_id.map(Into::into),
                categories: line
                    .product_id
                    .and_then(|p| self.categories.get(&p))
                    .map(|c| c.iter().map(|(id, depth)| ((*id).into(), *depth)).collect())
                    .unwrap_or_default(),
                vendor,
                currency: self.currency,
                quantity: i64::from(line.quantity),
                amount: basis,
                order_amount,
                month_sales,
                at: self.placed_at,
            };
            let applied = engine::commission(&rules, &facts);
            lines.lines.push(line.order_line_id);
            lines.positions.push(i as i32);
            lines.products.push(line.product_id);
            lines.quantities.push(line.quantity);
            lines.bases.push(basis);
            lines.rules.push(applied.map(|a| a.rule));
            lines.amounts.push(applied.map_or(0, |a| a.amount));
        }
        let commission: i64 = lines.amounts.iter().sum();
        let recorded = Prepared(
            diesel::sql_query(
                "INSERT INTO vendors.sales (tenant_id, vendor_order_id, vendor_id, order_id, currency,
                        total, commission, placed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(part.vendor_order_id)
            .bind::<SqlUuid, _>(vendor)
            .bind::<SqlUuid, _>(self.order)
            .bind::<Text, _>(self.currency.code())
            .bind::<BigInt, _>(part.total)
            .bind::<BigInt, _>(commission)
            .bind::<Timestamptz, _>(self.placed_at),
        )
        .execute(tx.conn())
        .await?;
        if recorded == 0 {
            // Another payment of the order was captured first: its sale is in already.
            return Ok(());
        }
        Prepared(
            diesel::sql_query(
                "INSERT INTO vendors.commission_lines (tenant_id, vendor_order_id, order_line_id,
                        position, product_id, quantity, basis, rule_id, amount)
                 SELECT $1, $2, l.* FROM unnest($3::uuid[], $4::int[], $5::uuid[], $6::int[],
                        $7::bigint[], $8::uuid[], $9::bigint[]) AS l",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(part.vendor_order_id)
            .bind::<Array<SqlUuid>, _>(lines.lines)
            .bind::<Array<Integer>, _>(lines.positions)
            .bind::<Array<Nullable<SqlUuid>>, _>(lines.products)
            .bind::<Array<Integer>, _>(lines.quantities)
            .bind::<Array<BigInt>, _>(lines.bases)
            .bind::<Array<Nullable<SqlUuid>>, _>(lines.rules)
            .bind::<Array<BigInt>, _>(lines.amounts),
        )
        .execute(tx.conn())
        .await?;
        let mut entries = vec![NewEntry::of_order(
            EntryKind::Sale,
            part.total,
            part.vendor_order_id,
        )];
        if commission > 0 {
            entries.push(NewEntry::of_order(
                EntryKind::Commission,
                -commission,
                part.vendor_order_id,
            ));
        }
        append(tx, vendor, self.currency, &entries).await?;
        let counts = analytics::Counts {
            gross: part.total,
            commission,
            ..analytics::Counts::default()
        };
        analytics::add(
            tx,
            vendor,
            self.currency,
            self.placed_at.date_naive(),
            counts,
        )
        .await?;
        Ok(())
    }
}

/// A vendor order's commission lines, column by column.
#[derive(Default)]
struct Frozen {
    lines: Vec<OrderLineId>,
    positions: Vec<i32>,
    products: Vec<Option<ProductId>>,
    quantities: Vec<i32>,
    bases: Vec<i64>,
    rules: Vec<Option<uuid::Uuid>>,
    amounts: Vec<i64>,
}

#[derive(diesel::QueryableByName)]
struct Sum {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `vendor`'s sales in `currency` placed in the calendar month (UTC) of `at`, before `at`.
async fn month_sales(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Currency,
    at: DateTime<Utc>,
) -> diesel::QueryResult<i64> {
    let sum: Sum = Prepared(
        diesel::sql_query(
            "SELECT coalesce(sum(total), 0)::bigint AS n FROM vendors.sales
             WHERE vendor_id = $1 AND currency = $2 AND placed_at < $3
               AND placed_at >= date_trunc('month', $3 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        )
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<Timestamptz, _>(at),
    )
    .get_result(tx.conn())
    .await?;
    Ok(sum.n)
}

/// The vendors subgraph's reading of orders' `payment.refunded`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub order_id: OrderId,
    /// Absent from events written before orders sent it: nothing is split then.
    #[serde(default)]
    pub vendor_orders: Vec<RefundShare>,
}

/// A vendor order's share of a refund.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct RefundShare {
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: Option<VendorId>,
    pub amount: i64,
}

#[derive(diesel::QueryableByName)]
struct Recorded {
    #[diesel(sql_type = SqlUuid)]
    vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    currency: Currency,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    commission: i64,
    #[diesel(sql_type = BigInt)]
    refunded: i64,
    #[diesel(sql_type = BigInt)]
    reversed: i64,
}

/// What of its commission a vendor order gives back once `refunded` of its `total` is: in
/// proportion, rounded half away from zero; all of it once refunded in full.
pub fn reversal(commission: i64, refunded: i64, total: i64) -> i64 {
    if total <= 0 || refunded >= total {
        commission
    } else {
        ratio(commission, refunded, total)
    }
}

impl Consume for PaymentRefunded {
    const TOPIC: &'static str = "payment.refunded";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        let mut shares: Vec<RefundShare> = self
            .vendor_orders
            .into_iter()
            .filter(|s| s.vendor_id.is_some())
            .collect();
        shares.sort_by_key(|s| (s.vendor_id, s.vendor_order_id));
        for share in shares {
            if share.amount <= 0 {
                return Err(ApiError::bad_input(format!(
                    "payment.refunded of order {}: a share of {} for vendor order {}",
                    self.order_id, share.amount, share.vendor_order_id
                )));
            }
            let sale: Option<Recorded> = Prepared(
                diesel::sql_query(
                    "SELECT vendor_id, currency, total, commission, refunded, reversed
                     FROM vendors.sales WHERE vendor_order_id = $1 FOR UPDATE",
                )
                .bind::<SqlUuid, _>(share.vendor_order_id),
            )
            .get_result(tx.conn())
            .await
            .optional()?;
            let Some(sale) = sale else {
                // Its capture is still on its way; the refund is delivered again later.
                return Err(ApiError::internal(format_args!(
                    "payment.refunded of order {}: the sale of vendor order {} is not recorded yet",
                    self.order_id, share.vendor_order_id
                )));
            };
            let refunded = sale.refunded + share.amount;
            if refunded > sale.total {
                return Err(ApiError::bad_input(format!(
                    "payment.refunded of order {}: vendor order {} would be refunded {refunded} of {}",
                    self.order_id, share.vendor_order_id, sale.total
                )));
            }
            let given = reversal(sale.commission, refunded, sale.total) - sale.reversed;
            Prepared(
                diesel::sql_query(
                    "UPDATE vendors.sales SET refunded = $2, reversed = reversed + $3
                     WHERE vendor_order_id = $1",
                )
                .bind::<SqlUuid, _>(share.vendor_order_id)
                .bind::<BigInt, _>(refunded)
                .bind::<BigInt, _>(given),
            )
            .execute(tx.conn())
            .await?;
            let mut entries = vec![NewEntry::of_order(
                EntryKind::Refund,
                -share.amount,
                share.vendor_order_id,
            )];
            if given > 0 {
                entries.push(NewEntry::of_order(
                    EntryKind::CommissionReversal,
                    given,
                    share.vendor_order_id,
                ));
            }
            append(tx, sale.vendor_id, sale.currency, &entries).await?;
            let counts = analytics::Counts {
                refunds: share.amount,
                reversed: given,
                ..analytics::Counts::default()
            };
            let day = event.created_at.date_naive();
            analytics::add(tx, sale.vendor_id, sale.currency, day, counts).await?;
        }
        Ok(())
    }
}

/// The vendors subgraph's reading of orders' `fulfillment.delivered`.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentDelivered {
    pub vendor_order_id: VendorOrderId,
    /// `None` for the tenant's own products (and in events written before orders sent it).
    pub vendor_id: Option<VendorId>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Consume for FulfillmentDelivered {
    const TOPIC: &'static str = "fulfillment.delivered";

    async fn apply(self, tx: &mut TenantTx<'_>, event: &Event) -> Result<(), ApiError> {
        let Some(vendor) = self.vendor_id else {
            return Ok(());
        };
        let hold = settings::read(tx).await?.hold_days;
        Prepared(
            diesel::sql_query(
                "INSERT INTO vendors.sale_deliveries (tenant_id, vendor_order_id, vendor_id, delivered_at, available_at)
                 VALUES ($1, $2, $3, $4, $4 + make_interval(days => $5)) ON CONFLICT DO NOTHING",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(self.vendor_order_id)
            .bind::<SqlUuid, _>(vendor)
            .bind::<Timestamptz, _>(self.delivered_at.unwrap_or(event.created_at))
            .bind::<Integer, _>(hold),
        )
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reversal;

    #[test]
    fn commission_is_given_back_in_proportion_and_in_full_at_the_end() {
        assert_eq!(reversal(1_000, 0, 10_000), 0);
        assert_eq!(reversal(1_000, 2_500, 10_000), 250);
        assert_eq!(reversal(1_000, 10_000, 10_000), 1_000);
        // Half away from zero: 333.5 -> 334, 666.5 -> 667 ... never above the commission.
        assert_eq!(reversal(667, 5_000, 10_000), 334);
        for refunded in 0..=997 {
            let r = reversal(101, refunded, 997);
            assert!((0..=101).contains(&r));
            assert!(r <= reversal(101, refunded + 1, 997), "monotonic");
        }
    }
}
