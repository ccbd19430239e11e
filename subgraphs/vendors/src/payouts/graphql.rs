//! Payouts in GraphQL: `Vendor.payoutTerms` and `Vendor.payouts` (resolved in
//! `vendors/graphql.rs` for staff and the vendor's own team), `vendorPayoutTermsUpdate` and
//! `vendorPayoutRequest` (the vendor's OWNER or MANAGER, or staff) and `vendorPayoutRun` (staff).

use crate::errors::VendorsUserError;
use crate::ids::VendorId;
use crate::payouts::{
    self, AccountState, Payout, PayoutStatus, RunReport, Schedule, Terms, TermsChange,
};
use crate::scope::in_tenant;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;
use cityos_server::stripe::Stripe;

cityos_core::connection!(VendorPayoutConnection, VendorPayoutEdge, Payout, "payout");

/// The Stripe account vendors are paid out through (none when not configured), in the schema's
/// data.
#[derive(Clone, Default)]
pub struct Connect(pub Option<Stripe>);

/// How a vendor is paid out.
#[Object(name = "VendorPayoutTerms")]
impl Terms {
    /// How often.
    async fn schedule(&self) -> Schedule {
        self.schedule
    }
    /// Less than this (in minor units of the payout's currency) is not paid out.
    async fn minimum_minor(&self) -> i64 {
        self.minimum
    }
    /// Its Stripe Connect account (`acct_...`); null until set.
    async fn stripe_account_id(&self) -> Option<&str> {
        self.stripe_account.as_deref()
    }
    /// Whether that account can receive transfers, as Stripe last said.
    async fn account_state(&self) -> AccountState {
        self.account_state
    }
    /// When Stripe was last asked.
    async fn account_checked_at(&self) -> Option<DateTime<Utc>> {
        self.account_checked_at
    }
}

/// Money paid out to a vendor.
#[Object(name = "VendorPayout")]
impl Payout {
    /// The payout's id (the Stripe transfer's `transfer_group`).
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The sum of the entries it paid out.
    async fn amount(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
    /// Where it stands.
    async fn status(&self) -> PayoutStatus {
        self.status
    }
    /// What it is for: `WEEK 2026-W48`, `MONTH 2026-11`, or `MANUAL <id>` for one asked for.
    async fn period(&self) -> &str {
        &self.period
    }
    /// How many ledger entries it paid out.
    async fn entry_count(&self) -> i32 {
        self.entries
    }
    /// The ledger entries it paid out, oldest first.
    async fn entries(&self, ctx: &Context<'_>) -> Result<Vec<crate::ledger::Entry>> {
        let id = self.id;
        Ok(in_tenant!(ctx, |tx| payouts::covered(tx, id))?)
    }
    /// The connected account it was sent to.
    async fn destination(&self) -> &str {
        &self.destination
    }
    /// Stripe's transfer (`tr_...`) once PAID.
    async fn transfer_id(&self) -> Option<&str> {
        self.transfer_id.as_deref()
    }
    /// Why Stripe refused it (FAILED).
    async fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When it was paid.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.paid_at
    }
}

fn vendor_id(id: &ID) -> Result<VendorId> {
    Ok(VendorId::parse(id).map_err(|_| ApiError::bad_input("`vendorId` is not a vendor's id"))?)
}

/// Changes to a vendor's payout terms; fields left out stay.
#[derive(InputObject)]
pub struct VendorPayoutTermsInput {
    /// The vendor.
    pub vendor_id: ID,
    /// How often it is paid out.
    pub schedule: Option<Schedule>,
    /// Less than this is not paid out, 0 to 10^12 minor units.
    pub minimum_minor: Option<i64>,
    /// Its Stripe Connect account (`acct_...`): Stripe is asked whether it can receive transfers.
    pub stripe_account_id: Option<String>,
}

/// A payout asked for.
#[derive(InputObject)]
pub struct VendorPayoutRequestInput {
    /// The vendor.
    pub vendor_id: ID,
    /// The ISO 4217 currency of the ledger to pay out.
    pub currency: String,
}

cityos_core::payload! {
    /// The result of `vendorPayoutTermsUpdate`.
    VendorPayoutTermsPayload<VendorsUserError> {
        /// The terms as they now are; null when refused.
        terms: Terms,
    }
}

cityos_core::payload! {
    /// The result of `vendorPayoutRequest`.
    VendorPayoutPayload<VendorsUserError> {
        /// The payout, PENDING until its transfer is made; null when refused.
        payout: Payout,
    }
}

cityos_core::payload! {
    /// The result of `vendorPayoutRun`.
    VendorPayoutRunPayload<VendorsUserError> {
        /// What the run did.
        result: VendorPayoutRunResult,
    }
}

/// What `vendorPayoutRun` did.
#[derive(SimpleObject)]
pub struct VendorPayoutRunResult {
    /// Payouts created.
    pub created: i32,
    /// Vendors and currencies due that were not paid (below their minimum, a negative balance,
    /// an account not ready).
    pub skipped: i32,
}

impl From<RunReport> for VendorPayoutRunResult {
    fn from(r: RunReport) -> Self {
        Self {
            created: r.created,
            skipped: r.skipped,
        }
    }
}

/// The mutations of payouts.
#[derive(Default)]
pub struct PayoutMutation;

#[Object]
impl PayoutMutation {
    /// Changes how a vendor is paid out (its OWNER or MANAGER acting for it, or staff). A new
    /// connected account's state is read from Stripe.
    async fn vendor_payout_terms_update(
        &self,
        ctx: &Context<'_>,
        input: VendorPayoutTermsInput,
    ) -> Result<VendorPayoutTermsPayload> {
        let change = TermsChange {
            vendor: vendor_id(&input.vendor_id)?,
            schedule: input.schedule,
            minimum: input.minimum_minor,
            stripe_account: input.stripe_account_id,
        };
        let stripe = ctx.data_opt::<Connect>().and_then(|c| c.0.as_ref());
        let outcome = payouts::update_terms(ctx.db(), ctx.request()?, stripe, change).await;
        Ok(VendorPayoutTermsPayload::of(outcome)?)
    }

    /// Pays a vendor's available money in one currency out now (its OWNER or MANAGER acting for
    /// it, or staff): refused with NOTHING_TO_PAY_OUT, BELOW_MINIMUM, NEGATIVE_BALANCE or
    /// PAYOUT_ACCOUNT_NOT_READY.
    async fn vendor_payout_request(
        &self,
        ctx: &Context<'_>,
        input: VendorPayoutRequestInput,
    ) -> Result<VendorPayoutPayload> {
        let vendor = vendor_id(&input.vendor_id)?;
        let outcome = payouts::request(ctx.db(), ctx.request()?, vendor, &input.currency).await;
        Ok(VendorPayoutPayload::of(outcome)?)
    }

    /// Runs the tenant's scheduled payouts now (staff), as the daily job does: every vendor due
    /// for the week or month just ended, once per period.
    async fn vendor_payout_run(&self, ctx: &Context<'_>) -> Result<VendorPayoutRunPayload> {
        let outcome = payouts::run_now(ctx.db(), ctx.request()?).await;
        Ok(VendorPayoutRunPayload::of(
            outcome.map(VendorPayoutRunResult::from),
        )?)
    }
}
