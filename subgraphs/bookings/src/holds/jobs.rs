//! A hold's expiry, as a durable job: scheduled with the hold at its `expires_at`, it ends a hold
//! still HELD as EXPIRED and gives its seats back. Reads stop counting the hold at `expires_at`
//! whether or not the job has run; a hold released or converted first cancels its job.

use super::{HoldStatus, end, lock};
use crate::ids::HoldId;
use chrono::{DateTime, Utc};
use cityos_core::ApiError;
use cityos_db::TenantTx;
use cityos_db::jobs::{Job, Next, Provided};
use diesel::QueryResult;

/// The `hold.expire` job of one hold.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HoldExpiry {
    pub hold_id: HoldId,
}

impl Job for HoldExpiry {
    const NAME: &'static str = "hold.expire";

    fn key(&self) -> String {
        self.hold_id.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        let Some(hold) = lock(tx, self.hold_id).await? else {
            return Ok(Next::Done);
        };
        if hold.status != HoldStatus::Held {
            return Ok(Next::Done);
        }
        if hold.expires_at > Utc::now() {
            return Ok(Next::At(hold.expires_at));
        }
        end(tx, &hold, HoldStatus::Expired).await?;
        Ok(Next::Done)
    }
}

/// Schedules the expiry of hold `id` at `at`.
pub async fn schedule(tx: &mut TenantTx<'_>, id: HoldId, at: DateTime<Utc>) -> QueryResult<()> {
    crate::JOBS
        .schedule(tx, &HoldExpiry { hold_id: id }, at)
        .await
}

/// Cancels the expiry of hold `id` (ended otherwise).
pub async fn cancel(tx: &mut TenantTx<'_>, id: HoldId) -> QueryResult<()> {
    crate::JOBS
        .cancel::<HoldExpiry>(tx, &id.to_string())
        .await
        .map(drop)
}
