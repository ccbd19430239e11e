//! The payouts' durable jobs: the tenant's daily run, and each payout's transfer.

use super::{Payout, PayoutStatus, next_run, run};
use crate::ids::PayoutId;
use crate::ledger::{EntryKind, NewEntry, append};
use chrono::Utc;
use cityos_core::ApiError;
use cityos_db::jobs::{Job, Next, Provided};
use cityos_db::outbox::FixedTopic;
use cityos_db::{Prepared, TenantTx};
use cityos_server::stripe::Stripe;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;

/// Pays out the tenant's due vendors, then comes back at the next midnight (UTC). One per tenant
/// (its key is fixed), scheduled when a vendor is approved.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, Default)]
pub struct PayoutRun {}

impl Job for PayoutRun {
    const NAME: &'static str = "payout.run";

    fn key(&self) -> String {
        "daily".into()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        let now = Utc::now();
        let report = run(tx, now).await?;
        tracing::info!(
            created = report.created,
            skipped = report.skipped,
            "payout run"
        );
        Ok(Next::At(next_run(now)))
    }
}

/// Makes a payout's Stripe transfer (its id is the idempotency key and the `transfer_group`): the
/// payout becomes PROCESSING in a first round, then PAID or FAILED. While Stripe is unreachable it
/// stays PROCESSING and the job is retried with backoff (a platform admin retries a dead one),
/// the same key each time.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
pub struct PayoutTransfer {
    pub payout: PayoutId,
}

impl Job for PayoutTransfer {
    const NAME: &'static str = "payout.transfer";

    fn key(&self) -> String {
        self.payout.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, provided: &Provided) -> Result<Next, ApiError> {
        let payout: Payout = Prepared(
            diesel::sql_query(format!(
                "SELECT {} FROM vendors.payouts WHERE id = $1 FOR UPDATE",
                super::PAYOUT
            ))
            .bind::<SqlUuid, _>(self.payout),
        )
        .get_result(tx.conn())
        .await?;
        match payout.status {
            PayoutStatus::Pending => {
                // First it says so (committed), then the next round makes the transfer.
                settle(tx, &payout, PayoutStatus::Processing, None, None).await?;
                return Ok(Next::At(Utc::now()));
            }
            PayoutStatus::Processing => {}
            PayoutStatus::Paid | PayoutStatus::Failed => return Ok(Next::Done),
        }
        let stripe = provided.get::<Stripe>().ok_or_else(|| {
            ApiError::internal("Stripe Connect is not configured: set STRIPE_SECRET_KEY")
        })?;
        let id = payout.id.to_string();
        let sent = stripe
            .post(
                "/v1/transfers",
                &format!("payout-{id}"),
                &[
                    ("amount", payout.amount.to_string()),
                    ("currency", payout.currency.code().to_ascii_lowercase()),
                    ("destination", payout.destination.clone()),
                    ("transfer_group", id.clone()),
                    ("metadata[payout_id]", id.clone()),
                    ("metadata[vendor_id]", payout.vendor_id.to_string()),
                ],
            )
            .await;
        match sent {
            Ok(transfer) => {
                let transfer_id =
                    cityos_server::stripe::string(&transfer, "id").map_err(ApiError::internal)?;
                settle(tx, &payout, PayoutStatus::Paid, Some(&transfer_id), None).await?;
                crate::OUTBOX
                    .publish(
                        tx,
                        payout.id,
                        &PayoutPaid {
                            payout_id: payout.id,
                            vendor_id: payout.vendor_id,
                            amount: payout.amount,
                            currency: payout.currency.code(),
                            transfer_id: &transfer_id,
                        },
                    )
                    .await?;
            }
            // Stripe unreachable or failing on its side: the job is retried (the same key).
            Err(e) if e.retryable => return Err(ApiError::internal(e)),
            Err(e) => {
                settle(tx, &payout, PayoutStatus::Failed, None, Some(&e.message)).await?;
                let credit = NewEntry {
                    kind: EntryKind::PayoutFailed,
                    amount: payout.amount,
                    vendor_order: None,
                    payout: Some(payout.id.into()),
                    reason: None,
                    by: None,
                    settled_by: None,
                };
                append(tx, payout.vendor_id, payout.currency, &[credit]).await?;
                crate::OUTBOX
                    .publish(
                        tx,
                        payout.id,
                        &PayoutFailed {
                            payout_id: payout.id,
                            vendor_id: payout.vendor_id,
                            amount: payout.amount,
                            currency: payout.currency.code(),
                            failure: &e.message,
                        },
                    )
                    .await?;
            }
        }
        Ok(Next::Done)
    }
}

async fn settle(
    tx: &mut TenantTx<'_>,
    payout: &Payout,
    status: PayoutStatus,
    transfer: Option<&str>,
    failure: Option<&str>,
) -> diesel::QueryResult<()> {
    let failure = failure.map(|f| f.chars().take(1000).collect::<String>());
    Prepared(
        diesel::sql_query(
            "UPDATE vendors.payouts SET status = $2, transfer_id = $3, failure = $4,
                    paid_at = CASE WHEN $2 = 'PAID' THEN now() END, updated_at = now()
             WHERE id = $1",
        )
        .bind::<SqlUuid, _>(payout.id)
        .bind::<Text, _>(status.as_str())
        .bind::<Nullable<Text>, _>(transfer)
        .bind::<Nullable<Text>, _>(failure),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}

/// `payout.paid`: a vendor's payout arrived in its connected account.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PayoutPaid<'a> {
    pub payout_id: PayoutId,
    pub vendor_id: crate::ids::VendorId,
    pub amount: i64,
    pub currency: &'a str,
    pub transfer_id: &'a str,
}

impl FixedTopic for PayoutPaid<'_> {
    const TOPIC: &'static str = "payout.paid";
}

/// `payout.failed`: Stripe refused a payout's transfer; its amount was credited back.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct PayoutFailed<'a> {
    pub payout_id: PayoutId,
    pub vendor_id: crate::ids::VendorId,
    pub amount: i64,
    pub currency: &'a str,
    pub failure: &'a str,
}

impl FixedTopic for PayoutFailed<'_> {
    const TOPIC: &'static str = "payout.failed";
}
