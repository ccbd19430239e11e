//! The platform's operations view (platform admins): every subgraph's event deliveries and
//! durable jobs, and the two repairs, redelivering an event to a subscriber and retrying a dead
//! job. The rows live in each subgraph's own schema (`cityos_db::ops` reads them all as the
//! worker role); identity serves them because platform admins are its users.

pub mod graphql;

use crate::errors::{IdentityErrorCode as Code, Outcome, UserError};
use cityos_core::paging::{CursorKey, Page, PageRequest};
use cityos_core::{ApiError, RequestContext, Role};
use cityos_db::Database;
use cityos_db::ops::{self, DeliveryRow, Filter, JobRow};
use uuid::Uuid;

/// The place of a delivery in the list: its event and subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCursor(pub ops::DeliveryKey);

impl CursorKey for DeliveryCursor {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.0.0.as_bytes().to_vec();
        bytes.extend_from_slice(self.0.1.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let id = Uuid::from_slice(bytes.get(..16)?).ok()?;
        let subscriber = std::str::from_utf8(bytes.get(16..)?).ok()?.to_owned();
        Some(Self((id, subscriber)))
    }
}

/// The longest name (subgraph, subscriber, topic, job) a filter or input may hold.
const MAX_NAME: usize = 100;

/// Refuses a name that no subgraph, subscriber, topic or job could have.
fn check_name(field: &str, name: &str) -> Outcome<()> {
    let fine = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if fine {
        Ok(())
    } else {
        Err(UserError::new(
            field,
            Code::InvalidText,
            "a subgraph, subscriber, topic or job name is lower-case letters, digits, `_` and `.`",
        )
        .into())
    }
}

/// Refuses a filter that names nothing that could exist, as a bad input.
fn check_filter(filter: &Filter) -> Result<(), ApiError> {
    for (field, value) in [
        ("filter.source", &filter.schema),
        ("filter.name", &filter.name),
        ("filter.topic", &filter.topic),
    ] {
        if let Some(value) = value
            && check_name(field, value).is_err()
        {
            return Err(ApiError::bad_input(format!(
                "`{field}` is lower-case letters, digits, `_` and `.`"
            )));
        }
    }
    Ok(())
}

/// A page of deliveries, newest event first.
pub async fn deliveries(
    db: &Database,
    ctx: &RequestContext,
    filter: Filter,
    page: PageRequest<DeliveryCursor>,
) -> Result<Page<DeliveryRow>, ApiError> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    check_filter(&filter)?;
    let after = page.after.as_ref().map(|c| &c.0);
    let (rows, total) = ops::deliveries(db, &filter, after, page.fetch_limit()).await?;
    Ok(page.finish(
        rows,
        |d| DeliveryCursor((d.event_id, d.subscriber.clone())),
        total,
    ))
}

/// Redelivers the event `event` of `source` to `subscriber`.
pub async fn redeliver(
    db: &Database,
    ctx: &RequestContext,
    source: &str,
    event: Uuid,
    subscriber: &str,
) -> Outcome<DeliveryRow> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    check_name("source", source)?;
    check_name("subscriber", subscriber)?;
    let row = ops::redeliver(db, source, event, subscriber).await?;
    let row = row.ok_or_else(|| UserError::not_found("eventId", "no such delivery"))?;
    tracing::info!(source, event = %event, subscriber, "event redelivery asked for");
    Ok(row)
}

/// A page of jobs, newest first.
pub async fn jobs(
    db: &Database,
    ctx: &RequestContext,
    filter: Filter,
    page: PageRequest<Uuid>,
) -> Result<Page<JobRow>, ApiError> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    check_filter(&filter)?;
    let (rows, total) = ops::jobs(db, &filter, page.after, page.fetch_limit()).await?;
    Ok(page.finish(rows, |j| j.id, total))
}

/// Retries the dead job `id` of `subgraph`.
pub async fn retry_job(
    db: &Database,
    ctx: &RequestContext,
    subgraph: &str,
    id: Uuid,
) -> Outcome<JobRow> {
    ctx.require_any(&[Role::PlatformAdmin])?;
    check_name("subgraph", subgraph)?;
    match ops::retry_job(db, subgraph, id).await? {
        None => Err(UserError::not_found("jobId", "no such job").into()),
        Some(Err(why)) => Err(UserError::new("jobId", Code::InvalidTransition, why).into()),
        Some(Ok(row)) => {
            tracing::info!(subgraph, job = %id, "job retry asked for");
            Ok(row)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_cursors_round_trip() {
        let key = DeliveryCursor((Uuid::now_v7(), "catalog".into()));
        assert_eq!(DeliveryCursor::from_bytes(&key.to_bytes()), Some(key));
        assert_eq!(DeliveryCursor::from_bytes(&[1, 2, 3]), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("f", "order.placed").is_ok());
        assert!(check_name("f", "").is_err());
        assert!(check_name("f", "orders; DROP TABLE x").is_err());
        assert!(check_name("f", &"a".repeat(101)).is_err());
    }
}
