//! A waitlist offer's expiry, as a durable job: at its `offer_expires_at`, an offer not accepted
//! or declined is EXPIRED and its seats go to the next in line. Reads stop counting the offer at
//! that instant whether or not the job has run.

use super::{WaitStatus, get, release, set_status};
use crate::ids::WaitlistEntryId;
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_db::jobs::{Job, Next, Provided};
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::RunQueryDsl;

/// The `waitlist.offer_expire` job of one offer.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OfferExpiry {
    pub entry_id: WaitlistEntryId,
}

impl Job for OfferExpiry {
    const NAME: &'static str = "waitlist.offer_expire";

    fn key(&self) -> String {
        self.entry_id.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        Prepared(
            diesel::sql_query("SELECT id FROM bookings.waitlist WHERE id = $1 FOR UPDATE")
                .bind::<SqlUuid, _>(self.entry_id),
        )
        .execute(tx.conn())
        .await?;
        let Some(entry) = get(tx, self.entry_id).await? else {
            return Ok(Next::Done);
        };
        let (WaitStatus::Offered, Some(at), Some(session)) =
            (entry.status, entry.offer_expires_at, entry.session_id)
        else {
            return Ok(Next::Done);
        };
        if Utc::now() < at {
            return Ok(Next::At(at));
        }
        set_status(tx, entry.id, WaitStatus::Expired).await?;
        release(tx, session, entry.seats).await?;
        Ok(Next::Done)
    }
}

/// Schedules the expiry of the offer to `entry` at `at`.
pub async fn schedule(
    tx: &mut TenantTx<'_>,
    entry: WaitlistEntryId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    crate::JOBS
        .schedule(tx, &OfferExpiry { entry_id: entry }, at)
        .await
}

/// Cancels the expiry of the offer to `entry` (accepted or declined).
pub async fn cancel(tx: &mut TenantTx<'_>, entry: WaitlistEntryId) -> QueryResult<()> {
    crate::JOBS
        .cancel::<OfferExpiry>(tx, &entry.to_string())
        .await
        .map(drop)
}
