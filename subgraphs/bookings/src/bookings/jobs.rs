//! A booking's jobs: reminders 24 hours and 1 hour before its start (each writes
//! `booking.reminder` once, for a booking still PENDING or CONFIRMED), and the no-show check 30
//! minutes after it (a CONFIRMED booking not checked in becomes NO_SHOW). Scheduled with the
//! booking, cancelled with it; a job that finds its booking moved on does nothing.

use super::{Booking, BookingChanged, BookingStatus, lock};
use crate::ids::{BookingId, ServiceId, UserId};
use chrono::{DateTime, Duration, Utc};
use cityos_core::ApiError;
use cityos_db::jobs::{Job, Next, Provided};
use cityos_db::outbox::FixedTopic;
use cityos_db::{Prepared, TenantTx};
use diesel::QueryResult;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::RunQueryDsl;

/// How long before the start each reminder goes out, in minutes.
pub const REMINDERS: [i64; 2] = [24 * 60, 60];

/// How long after the start a confirmed booking not checked in is a no-show.
pub const NO_SHOW_AFTER: Duration = Duration::minutes(30);

/// `booking.reminder`: a booking starts in `minutesBefore` minutes (what notifications send).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BookingReminder {
    pub booking_id: BookingId,
    pub number: String,
    pub customer_id: UserId,
    pub service_id: ServiceId,
    pub starts_at: DateTime<Utc>,
    pub minutes_before: i64,
}

impl FixedTopic for BookingReminder {
    const TOPIC: &'static str = "booking.reminder";
}

/// The `booking.remind` job of one booking, one reminder and one start (a rescheduled booking's
/// reminders are new jobs, and the old start's find nothing to do).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reminder {
    pub booking_id: BookingId,
    pub minutes_before: i64,
    pub starts_at: DateTime<Utc>,
}

impl Job for Reminder {
    const NAME: &'static str = "booking.remind";

    fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.booking_id,
            self.minutes_before,
            self.starts_at.timestamp()
        )
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        let Some(b) = lock(tx, self.booking_id).await? else {
            return Ok(Next::Done);
        };
        let live = matches!(b.status, BookingStatus::Pending | BookingStatus::Confirmed);
        if live && b.starts_at == self.starts_at && Utc::now() < b.starts_at {
            let reminder = BookingReminder {
                booking_id: b.id,
                number: b.number.clone(),
                customer_id: b.customer_id,
                service_id: b.service_id,
                starts_at: b.starts_at,
                minutes_before: self.minutes_before,
            };
            crate::OUTBOX.publish(tx, b.id, &reminder).await?;
        }
        Ok(Next::Done)
    }
}

/// The `booking.no_show` job of one booking.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NoShow {
    pub booking_id: BookingId,
}

impl Job for NoShow {
    const NAME: &'static str = "booking.no_show";

    fn key(&self) -> String {
        self.booking_id.to_string()
    }

    async fn run(self, tx: &mut TenantTx<'_>, _: &Provided) -> Result<Next, ApiError> {
        let Some(b) = lock(tx, self.booking_id).await? else {
            return Ok(Next::Done);
        };
        let due = b.starts_at + NO_SHOW_AFTER;
        if b.status != BookingStatus::Confirmed {
            return Ok(Next::Done);
        }
        if Utc::now() < due {
            return Ok(Next::At(due));
        }
        let rows: Vec<Booking> = Prepared(
            diesel::sql_query(format!(
                "UPDATE bookings.bookings SET status = 'NO_SHOW', version = version + 1
                 WHERE id = $1 AND status = 'CONFIRMED' RETURNING {}",
                super::COLUMNS
            ))
            .bind::<SqlUuid, _>(b.id),
        )
        .load(tx.conn())
        .await?;
        for changed in &rows {
            crate::OUTBOX
                .publish(tx, changed.id, &BookingChanged::from(changed))
                .await?;
        }
        Ok(Next::Done)
    }
}

/// Schedules a new booking's reminders (those still ahead) and its no-show check.
pub async fn schedule(tx: &mut TenantTx<'_>, b: &Booking) -> QueryResult<()> {
    let now = Utc::now();
    for minutes_before in REMINDERS {
        let at = b.starts_at - Duration::minutes(minutes_before);
        if at > now {
            let job = Reminder {
                booking_id: b.id,
                minutes_before,
                starts_at: b.starts_at,
            };
            crate::JOBS.schedule(tx, &job, at).await?;
        }
    }
    crate::JOBS
        .schedule(
            tx,
            &NoShow { booking_id: b.id },
            b.starts_at + NO_SHOW_AFTER,
        )
        .await
}

/// Cancels the jobs of a booking (at its current start) that have not run: it was cancelled, or
/// is moving.
pub async fn cancel(tx: &mut TenantTx<'_>, b: &Booking) -> QueryResult<()> {
    for minutes_before in REMINDERS {
        let job = Reminder {
            booking_id: b.id,
            minutes_before,
            starts_at: b.starts_at,
        };
        crate::JOBS.cancel::<Reminder>(tx, &job.key()).await?;
    }
    crate::JOBS
        .cancel::<NoShow>(tx, &b.id.to_string())
        .await
        .map(drop)
}
