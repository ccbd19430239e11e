//! Vendors' money in GraphQL: `Vendor.balances`, `Vendor.ledger` and `Vendor.sales` (resolved in
//! `vendors/graphql.rs` for staff and the vendor's own team), and `vendorLedgerAdjust` (staff).

use crate::errors::VendorsUserError;
use crate::ids::VendorId;
use crate::ledger::{self, Adjustment, Balance, CommissionLine, Entry, EntryKind, Sale};
use crate::scope::{BalancesOf, VendorsLoader};
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;

cityos_core::connection!(
    LedgerEntryConnection,
    LedgerEntryEdge,
    Entry,
    "ledger entry"
);
cityos_core::connection!(VendorSaleConnection, VendorSaleEdge, Sale, "vendor sale");

/// A vendor's money in one currency.
#[Object(name = "VendorBalance")]
impl Balance {
    /// ISO 4217 currency code.
    async fn currency(&self) -> &str {
        self.currency.code()
    }
    /// The sum of every ledger entry.
    async fn balance(&self) -> Money {
        Money::new(self.balance, self.currency)
    }
    /// What a payout may pay now: entries no payout has settled whose hold has ended. Negative
    /// when refunds after a payout exceed what came in since: no payout runs until it is repaid.
    async fn available(&self) -> Money {
        Money::new(self.available, self.currency)
    }
    /// Entries no payout has settled still on hold: vendor orders not delivered yet, or within
    /// the return window.
    async fn pending(&self) -> Money {
        Money::new(self.pending, self.currency)
    }
}

/// One entry of a vendor's ledger. Entries are never changed or removed.
#[Object(name = "VendorLedgerEntry")]
impl Entry {
    /// The entry's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// What it records.
    async fn kind(&self) -> EntryKind {
        self.kind
    }
    /// Its number in the vendor's ledger in its currency, from 1.
    async fn sequence(&self) -> i64 {
        self.seq
    }
    /// Credits are positive, debits negative.
    async fn amount(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
    /// The vendor's balance in the currency after it.
    async fn balance_after(&self) -> Money {
        Money::new(self.balance, self.currency)
    }
    /// The vendor order it is of (SALE, COMMISSION, REFUND, COMMISSION_REVERSAL).
    async fn vendor_order_id(&self) -> Option<ID> {
        self.vendor_order_id.map(to_id)
    }
    /// The payout it is of (PAYOUT, PAYOUT_FAILED).
    async fn payout_id(&self) -> Option<ID> {
        self.payout_id.map(|id| ID(id.to_string()))
    }
    /// Why staff adjusted the balance (ADJUSTMENT).
    async fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    /// Whether a payout has paid it out.
    async fn settled(&self) -> bool {
        self.settled_by.is_some()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// A vendor order's sale: what the customer paid, what the marketplace took line by line, and
/// what came back since.
#[Object(name = "VendorSale")]
impl Sale {
    /// The vendor order (orders' `VendorOrder.id`).
    async fn vendor_order_id(&self) -> ID {
        to_id(self.vendor_order_id)
    }
    /// The order it is part of.
    async fn order_id(&self) -> ID {
        to_id(self.order_id)
    }
    /// What the customer paid for it: its lines after discounts, their tax, its shipping.
    async fn total(&self) -> Money {
        Money::new(self.total, self.currency)
    }
    /// What the marketplace took: the sum of its lines' commissions.
    async fn commission(&self) -> Money {
        Money::new(self.commission, self.currency)
    }
    /// What of it has been refunded to the customer.
    async fn refunded(&self) -> Money {
        Money::new(self.refunded, self.currency)
    }
    /// What of the commission was given back with those refunds.
    async fn commission_reversed(&self) -> Money {
        Money::new(self.reversed, self.currency)
    }
    /// What the vendor keeps: total - commission - refunded + commission reversed.
    async fn net(&self) -> Money {
        Money::new(self.kept(), self.currency)
    }
    /// When the order was placed (the commission rules in force then applied).
    async fn placed_at(&self) -> DateTime<Utc> {
        self.placed_at
    }
    /// When its payment was captured.
    async fn captured_at(&self) -> DateTime<Utc> {
        self.captured_at
    }
    /// When its money becomes available to pay out; null until it is delivered.
    async fn available_at(&self) -> Option<DateTime<Utc>> {
        self.available_at
    }
    /// Its lines' commissions, frozen when the sale was recorded, in the order's order.
    async fn lines(&self) -> Vec<CommissionLineObject> {
        self.commission_lines()
            .into_iter()
            .map(|line| CommissionLineObject {
                line,
                currency: self.currency,
            })
            .collect()
    }
}

/// One line's commission.
pub struct CommissionLineObject {
    line: CommissionLine,
    currency: cityos_core::money::Currency,
}

#[Object(name = "VendorCommissionLine")]
impl CommissionLineObject {
    /// The order line (orders' `OrderLine.id`).
    async fn order_line_id(&self) -> ID {
        to_id(self.line.order_line_id)
    }
    /// The product sold; null on a line of no product (a booking of a service not linked to
    /// one).
    async fn product_id(&self) -> Option<ID> {
        self.line.product_id.map(|p| ID(p.to_string()))
    }
    /// Units sold.
    async fn quantity(&self) -> i32 {
        self.line.quantity
    }
    /// What the commission was taken of: the line's net amount, with its tax and shipping share
    /// when the tenant makes those commissionable.
    async fn basis(&self) -> Money {
        Money::new(self.line.basis, self.currency)
    }
    /// The commission rule that applied; null when none did (nothing was taken).
    async fn rule_id(&self) -> Option<ID> {
        self.line.rule_id.map(to_id)
    }
    /// What was taken.
    async fn amount(&self) -> Money {
        Money::new(self.line.amount, self.currency)
    }
}

cityos_server::children_loader!(VendorsLoader, BalancesOf(VendorId) => Balance, balances_now);

async fn balances_now(
    tx: &mut cityos_db::TenantTx<'_>,
    vendors: &[VendorId],
) -> diesel::QueryResult<std::collections::HashMap<VendorId, Vec<Balance>>> {
    ledger::balances(tx, vendors, Utc::now()).await
}

/// A correction of a vendor's balance.
#[derive(InputObject)]
pub struct VendorLedgerAdjustInput {
    /// The vendor.
    pub vendor_id: ID,
    /// ISO 4217 currency of the ledger to adjust.
    pub currency: String,
    /// Positive credits the vendor, negative debits it; not zero, at most 10^12 minor units
    /// either way.
    pub amount_minor: i64,
    /// Why, 1 to 500 characters: the vendor reads it.
    pub reason: String,
}

cityos_core::payload! {
    /// The result of `vendorLedgerAdjust`.
    VendorLedgerEntryPayload<VendorsUserError> {
        /// The entry written; null when refused.
        entry: Entry,
    }
}

/// The mutations of vendors' ledgers.
#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    /// Credits or debits a vendor's ledger with a reason (staff): an ADJUSTMENT entry, available
    /// at once.
    async fn vendor_ledger_adjust(
        &self,
        ctx: &Context<'_>,
        input: VendorLedgerAdjustInput,
    ) -> Result<VendorLedgerEntryPayload> {
        let vendor = VendorId::parse(&input.vendor_id)
            .map_err(|_| ApiError::bad_input("`vendorId` is not a vendor's id"))?;
        let adjustment = Adjustment {
            vendor,
            currency: input.currency,
            amount: input.amount_minor,
            reason: Some(input.reason),
        };
        let outcome = ledger::adjust(ctx.db(), ctx.request()?, adjustment).await;
        Ok(VendorLedgerEntryPayload::of(outcome)?)
    }
}
