//! Payouts: a vendor's available money paid out to its Stripe Connect account.
//!
//! **Terms.** Each vendor has a schedule (WEEKLY, the default; MONTHLY; MANUAL), a minimum in
//! minor units of the payout's currency (0 by default) and a connected account whose state is read
//! from Stripe when it is set or refreshed: PENDING (onboarding not finished), ACTIVE (transfers
//! enabled) or RESTRICTED (Stripe disabled transfers).
//!
//! **Payouts.** A payout covers exactly the vendor's unsettled, available entries in one currency
//! (see [`crate::ledger`]), settles them, and debits the ledger with a PAYOUT entry of their sum.
//! It is refused when that sum is not above zero (nothing, or a negative balance left by refunds
//! after an earlier payout, which later credits repay first), below the minimum, or while the
//! vendor is not APPROVED or its account not ACTIVE. There is at most one payout per vendor,
//! currency and period (a unique constraint): the week or month just ended for scheduled ones,
//! each its own for manual ones. Creating one locks the vendor's balance in that currency, so
//! racing runs and requests make one payout of the same entries.
//!
//! **Runs.** A daily durable job ([`jobs::PayoutRun`], scheduled when a vendor is approved) pays
//! every due vendor of the tenant for the period just ended; missed days catch up, and a period
//! already paid is skipped. A vendor asks for a manual payout of its available money at any time.
//!
//! **Transfers.** Each payout is sent by its own durable job ([`jobs::PayoutTransfer`]) after the
//! payout commits: a Stripe transfer to the connected account with the payout's id as idempotency
//! key and `transfer_group`, so retries never pay twice. PENDING -> PROCESSING -> PAID, or FAILED
//! when Stripe refuses (the amount is credited back with PAYOUT_FAILED and paid with the next
//! payout); Stripe being unreachable is retried with backoff.

pub mod graphql;
pub mod jobs;

use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{PayoutId, UserId, VendorId};
use crate::ledger::{Entry, EntryKind, NewEntry, append};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use cityos_core::money::Currency;
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext, VendorRole};
use cityos_db::audit::Audit;
use cityos_db::{Database, Prepared, TenantTx};
use cityos_server::stripe::Stripe;
use diesel::OptionalExtension as _;
use diesel::QueryResult;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

cityos_core::states! {
    /// How often a vendor is paid out.
    #[graphql(name = "PayoutSchedule")]
    pub enum Schedule {
        /// Each Monday, for the week before (ISO weeks, UTC).
        Weekly = "WEEKLY",
        /// On the 1st, for the month before (UTC).
        Monthly = "MONTHLY",
        /// Only when the vendor asks.
        Manual = "MANUAL",
    }
}

cityos_core::states! {
    /// Where a vendor's Stripe Connect account stands, as Stripe last said.
    #[graphql(name = "PayoutAccountState")]
    pub enum AccountState {
        /// Onboarding is not finished: it cannot receive transfers yet.
        Pending = "PENDING",
        /// It receives transfers.
        Active = "ACTIVE",
        /// Stripe disabled its transfers (verification lapsed, requirements past due).
        Restricted = "RESTRICTED",
    }
}

cityos_core::states! {
    /// Where a payout stands.
    #[graphql(name = "PayoutStatus")]
    pub enum PayoutStatus {
        /// Created; its transfer is about to be made.
        Pending = "PENDING",
        /// Its transfer is being made.
        Processing = "PROCESSING",
        /// The money was transferred.
        Paid = "PAID",
        /// Stripe refused the transfer; the amount was credited back.
        Failed = "FAILED",
    }
    transitions {
        Pending -> Processing | Paid | Failed,
        Processing -> Paid | Failed,
    }
}

/// A vendor's payout terms (the defaults for a vendor that never set them).
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    pub schedule: Schedule,
    #[diesel(sql_type = BigInt)]
    pub minimum: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub stripe_account: Option<String>,
    #[diesel(sql_type = Text)]
    pub account_state: AccountState,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub account_checked_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub vendor_status: String,
}

/// The terms of `vendor`, or `None` for no such vendor. One statement.
pub async fn terms(tx: &mut TenantTx<'_>, vendor: VendorId) -> QueryResult<Option<Terms>> {
    Prepared(
        diesel::sql_query(
            "SELECT v.id AS vendor_id, coalesce(a.schedule, 'WEEKLY') AS schedule,
                    coalesce(a.minimum, 0) AS minimum, a.stripe_account,
                    coalesce(a.account_state, 'PENDING') AS account_state, a.account_checked_at,
                    v.status AS vendor_status
             FROM vendors.vendors v
             LEFT JOIN vendors.payout_accounts a ON a.tenant_id = v.tenant_id AND a.vendor_id = v.id
             WHERE v.id = $1",
        )
        .bind::<SqlUuid, _>(vendor),
    )
    .get_result(tx.conn())
    .await
    .optional()
}

/// What Stripe's account object says of its state.
pub fn account_state(account: &serde_json::Value) -> AccountState {
    if account["capabilities"]["transfers"] == "active" {
        AccountState::Active
    } else if account["details_submitted"] == true {
        AccountState::Restricted
    } else {
        AccountState::Pending
    }
}

/// Changes to a vendor's payout terms; `None` keeps a field.
#[derive(Debug, Clone)]
pub struct TermsChange {
    pub vendor: VendorId,
    pub schedule: Option<Schedule>,
    pub minimum: Option<i64>,
    /// A Stripe connected account id (`acct_...`); its state is read from Stripe.
    pub stripe_account: Option<String>,
}

fn is_account_id(id: &str) -> bool {
    id.strip_prefix("acct_").is_some_and(|rest| {
        (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Reads connected account `id`'s state from Stripe (outside any transaction).
async fn read_state(stripe: Option<&Stripe>, id: &str) -> Outcome<AccountState> {
    let stripe = stripe.ok_or_else(|| {
        refusal(
            "stripeAccountId",
            Code::PayoutAccountNotReady,
            "Stripe Connect is not configured here",
        )
    })?;
    match stripe.get(&format!("/v1/accounts/{id}")).await {
        Ok(account) => Ok(account_state(&account)),
        Err(e) if e.retryable => Err(ApiError::internal(e).into()),
        Err(e) => Err(refusal(
            "stripeAccountId",
            Code::InvalidPayoutAccount,
            format!("Stripe does not know this account: {e}"),
        )),
    }
}

/// Changes a vendor's payout terms: staff, or its own OWNER or MANAGER. A new connected account's
/// state is read from Stripe first.
pub async fn update_terms(
    db: &Database,
    ctx: &RequestContext,
    stripe: Option<&Stripe>,
    change: TermsChange,
) -> Outcome<Terms> {
    let acting = ctx.staff_or_vendor(VendorRole::Manager)?;
    if !acting.may_touch(Some(change.vendor)) {
        return Err(refusal("vendorId", Code::NotFound, "no such vendor"));
    }
    if let Some(minimum) = change.minimum
        && !(0..=1_000_000_000_000).contains(&minimum)
    {
        return Err(refusal(
            "minimumMinor",
            Code::InvalidAmount,
            "a minimum is 0 to 10^12 minor units",
        ));
    }
    let account = match change.stripe_account.as_deref().map(str::trim) {
        None => None,
        Some(id) if !is_account_id(id) => {
            return Err(refusal(
                "stripeAccountId",
                Code::InvalidPayoutAccount,
                "a connected account id is `acct_` and 1 to 64 letters and digits",
            ));
        }
        Some(id) => Some((id.to_owned(), read_state(stripe, id).await?)),
    };
    db.recorded(ctx, "vendor_payout_terms.update", async move |tx| {
        let current = terms(tx, change.vendor)
            .await?
            .ok_or_else(|| refusal("vendorId", Code::NotFound, "no such vendor"))?;
        let (stripe_account, state, checked) = match &account {
            Some((id, state)) => (Some(id.clone()), *state, Some(Utc::now())),
            None => (
                current.stripe_account.clone(),
                current.account_state,
                current.account_checked_at,
            ),
        };
        let next: Terms = Prepared(
            diesel::sql_query(
                "INSERT INTO vendors.payout_accounts AS a (tenant_id, vendor_id, schedule, minimum,
                        stripe_account, account_state, account_checked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant_id, vendor_id) DO UPDATE
                     SET schedule = excluded.schedule, minimum = excluded.minimum,
                         stripe_account = excluded.stripe_account,
                         account_state = excluded.account_state,
                         account_checked_at = excluded.account_checked_at, updated_at = now()
                 RETURNING a.vendor_id, a.schedule, a.minimum, a.stripe_account, a.account_state,
                           a.account_checked_at, $8::text AS vendor_status",
            )
            .bind::<SqlUuid, _>(tx.tenant())
            .bind::<SqlUuid, _>(change.vendor)
            .bind::<Text, _>(change.schedule.unwrap_or(current.schedule).as_str())
            .bind::<BigInt, _>(change.minimum.unwrap_or(current.minimum))
            .bind::<Nullable<Text>, _>(stripe_account)
            .bind::<Text, _>(state.as_str())
            .bind::<Nullable<Timestamptz>, _>(checked)
            .bind::<Text, _>(current.vendor_status.clone()),
        )
        .get_result(tx.conn())
        .await?;
        let audit = Audit::of(
            change.vendor,
            serde_json::json!({ "schedule": next.schedule, "minimum": next.minimum,
                "stripeAccount": next.stripe_account, "accountState": next.account_state }),
        );
        Ok((next, audit))
    })
    .await
}

/// A payout as stored.
#[derive(diesel::QueryableByName, Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    #[diesel(sql_type = SqlUuid)]
    pub id: PayoutId,
    #[diesel(sql_type = SqlUuid)]
    pub vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = Integer)]
    pub entries: i32,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Text)]
    pub status: PayoutStatus,
    #[diesel(sql_type = Text)]
    pub destination: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub transfer_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub failure: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub requested_by: Option<UserId>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub paid_at: Option<DateTime<Utc>>,
}

const PAYOUT: &str = "id, vendor_id, currency, amount, entries, period, status, destination, \
    transfer_id, failure, requested_by, created_at, paid_at";

/// Which period a payout is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Period {
    /// The ISO week before the one `at` is in.
    WeekBefore(DateTime<Utc>),
    /// The month before the one `at` is in.
    MonthBefore(DateTime<Utc>),
    /// A payout the vendor asked for: its own.
    Manual(PayoutId),
}

impl Period {
    /// The stored key: `WEEK 2026-W48`, `MONTH 2026-11`, `MANUAL <id>`.
    pub fn key(&self) -> String {
        match self {
            Self::WeekBefore(at) => {
                let week = (*at - Duration::days(7)).iso_week();
                format!("WEEK {}-W{:02}", week.year(), week.week())
            }
            Self::MonthBefore(at) => {
                let last =
                    at.date_naive().with_day(1).unwrap_or(at.date_naive()) - Duration::days(1);
                format!("MONTH {}-{:02}", last.year(), last.month())
            }
            Self::Manual(id) => format!("MANUAL {id}"),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Open {
    #[diesel(sql_type = BigInt)]
    amount: i64,
    #[diesel(sql_type = BigInt)]
    entries: i64,
}

#[derive(diesel::QueryableByName)]
struct Settled {
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// The entries of `vendor` in `currency` no payout settled, available at `$4` (bind order: payout
/// or NULL, vendor, currency, at).
const AVAILABLE: &str = "e.vendor_id = $2 AND e.currency = $3 AND e.settled_by IS NULL
    AND (e.vendor_order_id IS NULL OR EXISTS (
        SELECT 1 FROM vendors.sale_deliveries d
        WHERE d.tenant_id = e.tenant_id AND d.vendor_order_id = e.vendor_order_id AND d.available_at <= $4))";

/// Pays `vendor`'s available money in `currency` out for `period`, in the caller's transaction:
/// locks its balance, checks the terms, records the payout, settles the entries it covers, debits
/// the ledger and schedules the transfer. A refusal changes nothing.
pub async fn create(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    currency: Currency,
    period: Period,
    at: DateTime<Utc>,
    by: Option<UserId>,
) -> Outcome<Payout> {
    let nothing = || {
        refusal(
            "currency",
            Code::NothingToPayOut,
            "nothing is available to pay out",
        )
    };
    let balance: Option<i64> = Prepared(
        diesel::sql_query(
            "SELECT balance AS amount FROM vendors.balances WHERE vendor_id = $1 AND currency = $2 FOR UPDATE",
        )
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code()),
    )
    .get_result::<Settled>(tx.conn())
    .await
    .optional()?
    .map(|s| s.amount);
    let balance = balance.ok_or_else(nothing)?;
    let terms = terms(tx, vendor)
        .await?
        .ok_or_else(|| refusal("vendorId", Code::NotFound, "no such vendor"))?;
    if terms.vendor_status != "APPROVED" {
        return Err(refusal(
            "vendorId",
            Code::VendorInactive,
            format!("the vendor is {} and is not paid out", terms.vendor_status),
        ));
    }
    let open: Open = Prepared(
        diesel::sql_query(format!(
            "SELECT coalesce(sum(e.amount), 0)::bigint AS amount, count(*) AS entries
             FROM vendors.ledger_entries e WHERE $1::uuid IS NULL AND {AVAILABLE}"
        ))
        .bind::<Nullable<SqlUuid>, _>(None::<uuid::Uuid>)
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<Timestamptz, _>(at),
    )
    .get_result(tx.conn())
    .await?;
    if balance < 0 || open.amount < 0 {
        return Err(refusal(
            "currency",
            Code::NegativeBalance,
            format!(
                "the balance is {} and {} of it available: refunds after an earlier payout are repaid from the next sales first",
                balance, open.amount
            ),
        ));
    }
    if open.amount == 0 {
        return Err(nothing());
    }
    if open.amount < terms.minimum {
        return Err(refusal(
            "currency",
            Code::BelowMinimum,
            format!(
                "{} is available and the vendor's minimum payout is {}",
                open.amount, terms.minimum
            ),
        ));
    }
    let destination = match (&terms.stripe_account, terms.account_state) {
        (Some(account), AccountState::Active) => account.clone(),
        (account, state) => {
            return Err(refusal(
                "vendorId",
                Code::PayoutAccountNotReady,
                match account {
                    None => "the vendor has no connected account".to_owned(),
                    Some(_) => format!("the vendor's connected account is {state}"),
                },
            ));
        }
    };
    let id = match &period {
        Period::Manual(id) => *id,
        _ => PayoutId::new(),
    };
    let payout: Option<Payout> = Prepared(
        diesel::sql_query(format!(
            "INSERT INTO vendors.payouts (tenant_id, id, vendor_id, currency, amount, entries, period,
                    destination, requested_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT ON CONSTRAINT payouts_once_per_period DO NOTHING
             RETURNING {PAYOUT}"
        ))
        .bind::<SqlUuid, _>(tx.tenant())
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<BigInt, _>(open.amount)
        .bind::<Integer, _>(i32::try_from(open.entries).unwrap_or(i32::MAX))
        .bind::<Text, _>(period.key())
        .bind::<Text, _>(&destination)
        .bind::<Nullable<SqlUuid>, _>(by),
    )
    .get_result(tx.conn())
    .await
    .optional()?;
    let payout = payout.ok_or_else(|| {
        refusal(
            "currency",
            Code::PeriodPaidOut,
            format!("{} is paid out already", period.key()),
        )
    })?;
    let settled: Vec<Settled> = Prepared(
        diesel::sql_query(format!(
            "UPDATE vendors.ledger_entries e SET settled_by = $1 WHERE {AVAILABLE} RETURNING e.amount"
        ))
        .bind::<Nullable<SqlUuid>, _>(Some(id))
        .bind::<SqlUuid, _>(vendor)
        .bind::<Text, _>(currency.code())
        .bind::<Timestamptz, _>(at),
    )
    .load(tx.conn())
    .await?;
    let sum: i64 = settled.iter().map(|s| s.amount).sum();
    if sum != open.amount || settled.len() as i64 != open.entries {
        // The balance is locked, so this cannot happen unless something bypassed it.
        return Err(ApiError::internal(format_args!(
            "payout {id}: settled {} entries for {sum}, counted {} for {}",
            settled.len(),
            open.entries,
            open.amount
        ))
        .into());
    }
    let debit = NewEntry {
        kind: EntryKind::Payout,
        amount: -open.amount,
        vendor_order: None,
        payout: Some(id.into()),
        reason: None,
        by,
        settled_by: Some(id.into()),
    };
    append(tx, vendor, currency, &[debit]).await?;
    crate::JOBS
        .schedule(tx, &jobs::PayoutTransfer { payout: id }, at)
        .await?;
    Ok(payout)
}

/// A vendor asks for its available money in `currency` now (its OWNER or MANAGER, or staff).
pub async fn request(
    db: &Database,
    ctx: &RequestContext,
    vendor: VendorId,
    currency: &str,
) -> Outcome<Payout> {
    let acting = ctx.staff_or_vendor(VendorRole::Manager)?;
    if !acting.may_touch(Some(vendor)) {
        return Err(refusal("vendorId", Code::NotFound, "no such vendor"));
    }
    let currency = Currency::parse(currency).map_err(|_| {
        refusal(
            "currency",
            Code::UnknownCurrency,
            format!("`{currency}` is not an ISO 4217 currency"),
        )
    })?;
    let by = ctx.user_id().ok();
    db.recorded(ctx, "vendor_payout.request", async move |tx| {
        let id = PayoutId::new();
        let payout = create(tx, vendor, currency, Period::Manual(id), Utc::now(), by).await?;
        let audit = Audit::of(
            vendor,
            serde_json::json!({ "payout": payout.id, "amount": payout.amount, "currency": currency.code() }),
        );
        Ok((payout, audit))
    })
    .await
}

/// What a payout run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Payouts created.
    pub created: i32,
    /// Vendors and currencies due that were not paid (below the minimum, a negative balance, an
    /// account not ready, paid already by a racing run).
    pub skipped: i32,
}

#[derive(diesel::QueryableByName)]
struct Due {
    #[diesel(sql_type = SqlUuid)]
    vendor_id: VendorId,
    #[diesel(sql_type = Text)]
    currency: Currency,
    #[diesel(sql_type = Text)]
    schedule: Schedule,
}

/// Pays out every vendor of the tenant whose period just ended at `at` and that has money in a
/// currency, in the caller's transaction: one statement finds them, then a constant number per
/// payout (however many entries it covers).
pub async fn run(tx: &mut TenantTx<'_>, at: DateTime<Utc>) -> Result<RunReport, ApiError> {
    let (week, month) = (Period::WeekBefore(at).key(), Period::MonthBefore(at).key());
    let due: Vec<Due> = Prepared(
        diesel::sql_query(
            "SELECT b.vendor_id, b.currency, coalesce(a.schedule, 'WEEKLY') AS schedule
             FROM vendors.balances b
             JOIN vendors.vendors v ON v.tenant_id = b.tenant_id AND v.id = b.vendor_id AND v.status = 'APPROVED'
             JOIN vendors.payout_accounts a ON a.tenant_id = b.tenant_id AND a.vendor_id = b.vendor_id
             WHERE a.schedule <> 'MANUAL' AND a.account_state = 'ACTIVE' AND b.balance > 0
               AND NOT EXISTS (SELECT 1 FROM vendors.payouts p
                               WHERE p.tenant_id = b.tenant_id AND p.vendor_id = b.vendor_id
                                 AND p.currency = b.currency
                                 AND p.period = CASE a.schedule WHEN 'WEEKLY' THEN $1 ELSE $2 END)
             ORDER BY b.vendor_id, b.currency",
        )
        .bind::<Text, _>(&week)
        .bind::<Text, _>(&month),
    )
    .load(tx.conn())
    .await?;
    let mut report = RunReport::default();
    for d in due {
        let period = match d.schedule {
            Schedule::Monthly => Period::MonthBefore(at),
            _ => Period::WeekBefore(at),
        };
        // `create` refuses before it writes anything, so a refused vendor leaves the others'.
        match create(tx, d.vendor_id, d.currency, period, at, None).await {
            Ok(_) => report.created += 1,
            Err(cityos_core::Failure::User(_)) => report.skipped += 1,
            Err(cityos_core::Failure::Api(e)) => return Err(e),
        }
    }
    Ok(report)
}

/// Runs the tenant's scheduled payouts now (staff), as the daily job does.
pub async fn run_now(db: &Database, ctx: &RequestContext) -> Outcome<RunReport> {
    db.staff(ctx, "vendor_payout.run", async move |tx| {
        let report = run(tx, Utc::now()).await?;
        let audit = Audit::of(
            tx.tenant(),
            serde_json::json!({ "created": report.created, "skipped": report.skipped }),
        );
        Ok((report, audit))
    })
    .await
}

/// The next time the daily run is due after `at`: the next midnight, UTC.
pub fn next_run(at: DateTime<Utc>) -> DateTime<Utc> {
    (at.date_naive() + Duration::days(1))
        .and_time(NaiveTime::MIN)
        .and_utc()
}

/// A page of `vendor`'s payouts, newest first.
pub async fn page(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    page: PageRequest<PayoutId>,
) -> QueryResult<Page<Payout>> {
    let (order, older, newer) = page.newest_first();
    let rows: Vec<Payout> = Prepared(
        diesel::sql_query(format!(
            "SELECT {PAYOUT} FROM vendors.payouts
             WHERE vendor_id = $1 AND ($2::uuid IS NULL OR id < $2) AND ($3::uuid IS NULL OR id > $3)
             ORDER BY id {order} LIMIT $4"
        ))
        .bind::<SqlUuid, _>(vendor)
        .bind::<Nullable<SqlUuid>, _>(older)
        .bind::<Nullable<SqlUuid>, _>(newer)
        .bind::<BigInt, _>(page.fetch_limit()),
    )
    .load(tx.conn())
    .await?;
    let total: crate::ledger::Count = Prepared(
        diesel::sql_query("SELECT count(*) AS n FROM vendors.payouts WHERE vendor_id = $1")
            .bind::<SqlUuid, _>(vendor),
    )
    .get_result(tx.conn())
    .await?;
    Ok(page.finish(rows, |p| p.id, total.n))
}

/// The entries `payout` paid out, oldest first (not its own PAYOUT debit).
pub async fn covered(tx: &mut TenantTx<'_>, payout: PayoutId) -> QueryResult<Vec<Entry>> {
    Prepared(
        diesel::sql_query(format!(
            "SELECT {} FROM vendors.ledger_entries
             WHERE settled_by = $1 AND NOT (kind = 'PAYOUT' AND payout_id = $1) ORDER BY seq",
            crate::ledger::ENTRY
        ))
        .bind::<SqlUuid, _>(payout),
    )
    .load(tx.conn())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn periods_are_the_week_and_month_just_ended() {
        let monday = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .single()
            .expect("a time");
        assert_eq!(Period::WeekBefore(monday).key(), "WEEK 2026-W48");
        assert_eq!(Period::MonthBefore(monday).key(), "MONTH 2026-10");
        let new_year = Utc
            .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
            .single()
            .expect("a time");
        assert_eq!(Period::WeekBefore(new_year).key(), "WEEK 2026-W52");
        assert_eq!(Period::MonthBefore(new_year).key(), "MONTH 2026-12");
        assert_eq!(
            next_run(monday + Duration::hours(13)),
            monday + Duration::days(1)
        );
    }

    #[test]
    fn an_account_is_active_once_stripe_enables_its_transfers() {
        use serde_json::json;
        assert_eq!(
            account_state(&json!({ "capabilities": { "transfers": "active" } })),
            AccountState::Active
        );
        assert_eq!(
            account_state(&json!({ "details_submitted": false })),
            AccountState::Pending
        );
        assert_eq!(
            account_state(
                &json!({ "details_submitted": true, "capabilities": { "transfers": "inactive" } })
            ),
            AccountState::Restricted
        );
        assert!(is_account_id("acct_1Nv0FGQ9RKHgCVdK"));
        assert!(!is_account_id("acct_") && !is_account_id("acct_x y") && !is_account_id("cus_123"));
    }
}
