//! Vendors' money: an append-only ledger per vendor and currency.
//!
//! **Entries.** Credits are positive, debits negative:
//! - SALE (credit): what the customer paid for a vendor order (its lines after discounts, their
//!   tax, its shipping).
//! - COMMISSION (debit): what the marketplace takes of it.
//! - REFUND (debit): the vendor order's share of a refund.
//! - COMMISSION_REVERSAL (credit): the commission's share of that refund.
//! - ADJUSTMENT: staff, either sign, with a reason.
//! - PAYOUT (debit) and PAYOUT_FAILED (credit).
//!
//! Sales, commissions and refunds arise from orders' events ([`sales`]), each consumed once.
//!
//! **Balances.** Every append locks the vendor's balance row for the currency, numbers the new
//! entries after the last and stores each one's running balance. A database trigger refuses an
//! entry that does not continue the one before it, and any change to an entry except its being
//! settled by a payout once; [`verify`] re-adds every ledger from its entries.
//!
//! **Availability.** An entry of a vendor order becomes available `hold_days` (a tenant setting,
//! the return window) after the vendor order was delivered; other entries are available at once.
//! A balance is the sum of its entries. Of what no payout has settled yet, the available part is
//! what a payout may pay and the rest is pending.

pub mod graphql;
pub mod sales;

use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{
    CommissionRuleId, LedgerEntryId, OrderId, OrderLineId, UserId, VendorId, VendorOrderId,
};
use chrono::{DateTime, Utc};
use cityos_core::RequestContext;
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

cityos_core::states! {
    /// What a ledger entry records.
    #[graphql(name = "LedgerEntryKind")]
    pub enum EntryKind {
        /// What the customer paid for a vendor order (credit).
        Sale = "SALE",
        /// What the marketplace took of it (debit).
        Commission = "COMMISSION",
        /// The vendor order's share of a refund (debit).
        Refund = "REFUND",
        /// The commission's share of that refund, given back (credit).
        CommissionReversal = "COMMISSION_REVERSAL",
        /// A correction by staff, with a reason (either sign).
        Adjustment = "ADJUSTMENT",
        /// Money paid out to the vendor (debit).
        Payout = "PAYOUT",
        /// A payout that did not arrive, credited back.
        PayoutFailed = "PAYOUT_FAILED",
    }
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub kind: EntryKind,
    /// Positive for a credit, negative for a debit.
    pub amount: i64,
    pub vendor_order: Option<VendorOrderId>,
    pub payout: Option<uuid::Uuid>,
    pub reason: Option<String>,
    pub by: Option<UserId>,
    /// The payout that settles it as it is written (a PAYOUT entry's own).
    pub settled_by: Option<uuid::Uuid>,
}

impl NewEntry {
    /// An entry of `kind` for `amount` of a vendor order.
    pub fn of_order(kind: EntryKind, amount: i64, vendor_order: VendorOrderId) -> Self {
        Self {
            kind,
            amount,
            vendor_order: Some(vendor_order),
            payout: None,
            reason: None,
            by: None,
            settled_by: None,
        }
    }
}

/// A ledger entry as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    #[diesel(sql_type = SqlUuid)]
    pub id: LedgerEntryId,
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub kind: EntryKind,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub vendor_order_id: Option<VendorOrderId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub payout_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub created_by: Option<UserId>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub settled_by: Option<uuid::Uuid>,
}

pub(crate) const ENTRY: &str = "id, vendor_id, currency, seq, kind, amount, balance, vendor_order_id, \
    payout_id, reason, created_by, created_at, settled_by";

#[derive(diesel::QueryableByName)]
struct Head {
    #[diesel(sql_type = BigInt)]
    balance: i64,
    #[diesel(sql_type = BigInt)]
    entries: i64,
}

/// Appends `entries` to `vendor`'s ledger in `currency`, in order: locks its balance (made at 0
/// for a first entry), numbers them after the last, stores each one's running balance and the
/// new balance. Two statements, however many entries.
pub async fn append(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Currency,
    entries: &[NewEntry],
) -> QueryResult<Vec<Entry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let head: Head = Prepared(
        diesel::sql_query(
            "INSERT INTO vendors.balances AS b (tenant_id, vendor_id, currency) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, vendor_id, currency) DO UPDATE SET entries = b.entries
             RETURNING b.balance, b.entries",
        )
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code()),
    )
    .get_result(tx.conn())
    .await?;
    let mut balance = head.balance;
    let mut columns = Columns::default();
    for (i, e) in entries.iter().enumerate() {
        balance += e.amount;
        columns.ids.push(LedgerEntryId::new());
        columns.seqs.push(head.entries + 1 + i as i64);
        columns.kinds.push(e.kind.as_str());
        columns.amounts.push(e.amount);
        columns.balances.push(balance);
        columns.orders.push(e.vendor_order);
        columns.payouts.push(e.payout);
        columns.reasons.push(e.reason.clone());
        columns.by.push(e.by);
        columns.settled.push(e.settled_by);
    }
    let last = head.entries + entries.len() as i64;
    Prepared(
        diesel::sql_query(format!(
            "WITH added AS (
                 INSERT INTO vendors.ledger_entries (tenant_id, vendor_id, currency, id, seq, kind,
                        amount, balance, vendor_order_id, payout_id, reason, created_by, settled_by)
                 SELECT $1, $2, $3, n.id, n.seq, n.kind, n.amount, n.balance, n.vendor_order_id,
                        n.payout_id, n.reason, n.created_by, n.settled_by
                 FROM unnest($4::uuid[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[],
                             $9::uuid[], $10::uuid[], $11::text[], $12::uuid[], $13::uuid[])
                      WITH ORDINALITY AS n (id, seq, kind, amount, balance, vendor_order_id,
                                            payout_id, reason, created_by, settled_by, i)
                 ORDER BY n.i
                 RETURNING {ENTRY}),
             moved AS (
                 UPDATE vendors.balances SET balance = $14, entries = $15
                 WHERE vendor_id = $2 AND currency = $3)
             SELECT {ENTRY} FROM added ORDER BY seq"
        ))
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<Array<SqlUuid>, _>(columns.ids)
        .bind::<Array<BigInt>, _>(columns.seqs)
        .bind::<Array<Text>, _>(columns.kinds)
        .bind::<Array<BigInt>, _>(columns.amounts)
        .bind::<Array<BigInt>, _>(columns.balances)
        .bind::<Array<Nullable<SqlUuid>>, _>(columns.orders)
        .bind::<Array<Nullable<SqlUuid>>, _>(columns.payouts)
        .bind::<Array<Nullable<Text>>, _>(columns.reasons)
        .bind::<Array<Nullable<SqlUuid>>, _>(columns.by)
        .bind::<Array<Nullable<SqlUuid>>, _>(columns.settled)
        .bind::<BigInt, _>(balance)
        .bind::<BigInt, _>(last),
    )
    .load(tx.conn())
    .await
}

#[derive(Default)]
struct Columns {
    ids: Vec<LedgerEntryId>,
    seqs: Vec<i64>,
    kinds: Vec<&'static str>,
    amounts: Vec<i64>,
    balances: Vec<i64>,
    orders: Vec<Option<VendorOrderId>>,
    payouts: Vec<Option<uuid::Uuid>>,
    reasons: Vec<Option<String>>,
    by: Vec<Option<UserId>>,
    settled: Vec<Option<uuid::Uuid>>,
}

/// A vendor's money in one currency.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    /// The sum of every entry.
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    /// What a payout may pay now: the unsettled entries whose hold has ended.
    #[diesel(sql_type = BigInt)]
    pub available: i64,
    /// The unsettled entries still on hold (undelivered, or within the return window).
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
}

/// The SQL of what each unsettled entry counts as at `$2`: its amount, and whether it is
/// available (no vendor order, or one delivered and past its hold). Aliased `o`.
pub(crate) const OPEN: &str = "SELECT e.vendor_id, e.currency, e.amount,
        (e.vendor_order_id IS NULL OR coalesce(d.available_at <= $2, false)) AS available
     FROM vendors.ledger_entries e
     LEFT JOIN vendors.sale_deliveries d ON d.tenant_id = e.tenant_id AND d.vendor_order_id = e.vendor_order_id
     WHERE e.settled_by IS NULL";

/// The balances of `vendors` at `at`, by vendor, in currency order (none for a vendor without
/// entries). One statement.
pub async fn balances(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
    at: DateTime<Utc>,
) -> QueryResult<HashMap<VendorId, Vec<Balance>>> {
    let rows: Vec<Balance> = Prepared(
        diesel::sql_query(format!(
            "SELECT b.vendor_id, b.currency, b.balance,
                    coalesce(sum(o.amount) FILTER (WHERE o.available), 0)::bigint AS available,
                    coalesce(sum(o.amount) FILTER (WHERE NOT o.available), 0)::bigint AS pending
             FROM vendors.balances b
             LEFT JOIN ({OPEN} AND e.vendor_id = ANY ($1)) o
                    ON o.vendor_id = b.vendor_id AND o.currency = b.currency
             WHERE b.vendor_id = ANY ($1)
             GROUP BY b.vendor_id, b.currency, b.balance
             ORDER BY b.vendor_id, b.currency"
        ))
        .bind::<Array<SqlUuid>, _>(vendors)
        .bind::<Timestamptz, _>(at),
    )
    .load(tx.conn())
    .await?;
    let mut of: HashMap<VendorId, Vec<Balance>> = HashMap::new();
    for row in rows {
        of.entry(row.vendor_id).or_default().push(row);
    }
    Ok(of)
}

/// A page of `vendor`'s entries, newest first, in one currency or all.
pub async fn entries(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Option<Currency>,
    page: PageRequest<LedgerEntryId>,
) -> QueryResult<Page<Entry>> {
    let (order, older, newer) = page.newest_first();
    let rows: Vec<Entry> = Prepared(
        diesel::sql_query(format!(
            "SELECT {ENTRY} FROM vendors.ledger_entries
             WHERE vendor_id = $1 AND ($2::text IS NULL OR currency = $2)
               AND ($3::uuid IS NULL OR id < $3) AND ($4::uuid IS NULL OR id > $4)
             ORDER BY id {order} LIMIT $5"
        ))
        .bind::<SqlUuid, _>(vendor)
        .bind::<Nullable<Text>, _>(currency.map(Currency::code))
        .bind::<Nullable<SqlUuid>, _>(older)
        .bind::<Nullable<SqlUuid>, _>(newer)
        .bind::<BigInt, _>(page.fetch_limit()),
    )
    .load(tx.conn())
    .await?;
    let total: Count = Prepared(
        diesel::sql_query(
            "SELECT coalesce(sum(entries), 0)::bigint AS n FROM vendors.balances
             WHERE vendor_id = $1 AND ($2::text IS NULL OR currency = $2)",
        )
        .bind::<SqlUuid, _>(vendor)
        .bind::<Nullable<Text>, _>(currency.map(Currency::code)),
    )
    .get_result(tx.conn())
    .await?;
    Ok(page.finish(rows, |e| e.id, total.n))
}

/// A vendor order's sale as the ledger recorded it, with its frozen commission lines.
#[derive(diesel::QueryableByName, Debug, Clone)]
pub struct Sale {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_order_id: VendorOrderId,
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = SqlUuid)]
    pub order_id: OrderId,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub commission: i64,
    #[diesel(sql_type = BigInt)]
    pub refunded: i64,
    #[diesel(sql_type = BigInt)]
    pub reversed: i64,
    #[diesel(sql_type = Timestamptz)]
    pub placed_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub captured_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub available_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub lines: serde_json::Value,
}

impl Sale {
    /// What the vendor keeps of it: the total less the commission, less what was refunded, plus
    /// the commission given back.
    pub fn kept(&self) -> i64 {
        self.total - self.commission - self.refunded + self.reversed
    }

    /// Its commission lines, in the order's order.
    pub fn commission_lines(&self) -> Vec<CommissionLine> {
        serde_json::from_value(self.lines.clone()).unwrap_or_default()
    }
}

/// One line's commission, frozen when its sale was recorded.
#[derive(serde::Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CommissionLine {
    pub order_line_id: OrderLineId,
    /// `None` on a line of no product (a booking of a service not linked to one).
    pub product_id: Option<uuid::Uuid>,
    pub quantity: i32,
    /// What it was taken of.
    pub basis: i64,
    /// The rule that set it; none when no rule applied.
    pub rule_id: Option<CommissionRuleId>,
    pub amount: i64,
}

/// A page of `vendor`'s sales, newest first. One statement for the page, one for the count.
pub async fn sales(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    page: PageRequest<VendorOrderId>,
) -> QueryResult<Page<Sale>> {
    let (order, older, newer) = page.newest_first();
    let rows: Vec<Sale> = Prepared(
        diesel::sql_query(format!(
            "SELECT s.vendor_order_id, s.vendor_id, s.order_id, s.currency, s.total, s.commission,
                    s.refunded, s.reversed, s.placed_at, s.captured_at, d.available_at,
                    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'orderLineId', l.order_line_id, 'productId', l.product_id,
                                'quantity', l.quantity, 'basis', l.basis, 'ruleId', l.rule_id,
                                'amount', l.amount) ORDER BY l.position), '[]'::jsonb)
                     FROM vendors.commission_lines l
                     WHERE l.tenant_id = s.tenant_id AND l.vendor_order_id = s.vendor_order_id) AS lines
             FROM vendors.sales s
             LEFT JOIN vendors.sale_deliveries d ON d.tenant_id = s.tenant_id AND d.vendor_order_id = s.vendor_order_id
             WHERE s.vendor_id = $1 AND ($2::uuid IS NULL OR s.vendor_order_id < $2)
               AND ($3::uuid IS NULL OR s.vendor_order_id > $3)
             ORDER BY s.vendor_order_id {order} LIMIT $4"
        ))
        .bind::<SqlUuid, _>(vendor)
        .bind::<Nullable<SqlUuid>, _>(older)
        .bind::<Nullable<SqlUuid>, _>(newer)
        .bind::<BigInt, _>(page.fetch_limit()),
    )
    .load(tx.conn())
    .await?;
    let total: Count = Prepared(
        diesel::sql_query("SELECT count(*) AS n FROM vendors.sales WHERE vendor_id = $1")
            .bind::<SqlUuid, _>(vendor),
    )
    .get_result(tx.conn())
    .await?;
    Ok(page.finish(rows, |s| s.vendor_order_id, total.n))
}

/// A count read back from SQL (`AS n`).
#[derive(diesel::QueryableByName)]
pub(crate) struct Count {
    #[diesel(sql_type = BigInt)]
    pub(crate) n: i64,
}

/// A staff correction of a vendor's balance.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub vendor: VendorId,
    pub currency: String,
    pub amount: i64,
    pub reason: Option<String>,
}

/// The most one adjustment may move, in minor units.
pub const MAX_ADJUSTMENT: i64 = 1_000_000_000_000;

/// Credits or debits a vendor (staff), with a reason; available at once.
pub async fn adjust(db: &Database, ctx: &RequestContext, new: Adjustment) -> Outcome<Entry> {
    let by = ctx.user_id().ok();
    db.staff(ctx, "vendor_ledger.adjust", async move |tx| {
        let currency = Currency::parse(&new.currency).map_err(|_| {
            refusal(
                "currency",
                Code::UnknownCurrency,
                format!("`{}` is not an ISO 4217 currency", new.currency),
            )
        })?;
        if new.amount == 0 || new.amount.abs() > MAX_ADJUSTMENT {
            return Err(refusal(
                "amountMinor",
                Code::InvalidAmount,
                format!("an adjustment is not zero and at most {MAX_ADJUSTMENT} either way"),
            ));
        }
        let reason = crate::errors::reason::<500>(new.reason.as_deref(), "reason")?;
        if crate::vendors::by_ids(tx, &[new.vendor]).await?.is_empty() {
            return Err(refusal("vendorId", Code::NotFound, "no such vendor"));
        }
        let entry = NewEntry {
            kind: EntryKind::Adjustment,
            amount: new.amount,
            vendor_order: None,
            payout: None,
            reason: Some(reason.clone()),
            by,
            settled_by: None,
        };
        let written = append(tx, new.vendor, currency, &[entry])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| cityos_core::ApiError::internal("an appended entry was not returned"))?;
        let audit = Audit::of(
            new.vendor,
            serde_json::json!({ "currency": currency.code(), "amount": new.amount, "reason": reason }),
        );
        Ok((written, audit))
    })
    .await
}

/// A ledger whose stored balance is not the sum of its entries, or whose entries' running
/// balances do not add up.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = BigInt)]
    pub stored: i64,
    #[diesel(sql_type = BigInt)]
    pub summed: i64,
}

/// Re-adds every ledger of the tenant from its entries: the ledgers whose stored balance, entry
/// count or running balances disagree with their entries (none, unless something is broken).
pub async fn verify(tx: &mut TenantTx<'_>) -> QueryResult<Vec<Mismatch>> {
    Prepared(diesel::sql_query(
        "WITH running AS (
             SELECT vendor_id, currency, seq, balance,
                    sum(amount) OVER (PARTITION BY vendor_id, currency ORDER BY seq) AS summed,
                    row_number() OVER (PARTITION BY vendor_id, currency ORDER BY seq) AS n
             FROM vendors.ledger_entries)
         SELECT b.vendor_id, b.currency, b.balance AS stored,
                coalesce((SELECT sum(e.amount) FROM vendors.ledger_entries e
                          WHERE e.vendor_id = b.vendor_id AND e.currency = b.currency), 0)::bigint AS summed
         FROM vendors.balances b
         WHERE b.balance <> coalesce((SELECT sum(e.amount) FROM vendors.ledger_entries e
                                      WHERE e.vendor_id = b.vendor_id AND e.currency = b.currency), 0)
            OR b.entries <> (SELECT count(*) FROM vendors.ledger_entries e
                             WHERE e.vendor_id = b.vendor_id AND e.currency = b.currency)
            OR EXISTS (SELECT 1 FROM running r WHERE r.vendor_id = b.vendor_id AND r.currency = b.currency
                       AND (r.balance <> r.summed OR r.seq <> r.n))",
    ))
    .load(tx.conn())
    .await
}
