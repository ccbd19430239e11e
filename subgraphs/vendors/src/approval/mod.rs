//! The moves of a vendor's lifecycle after it applied: staff start the review, then approve (once
//! every document kind the tenant requires, [`settings`], has an accepted and unexpired document,
//! [`documents::missing`]) or reject it with a reason; an approved vendor may be suspended (with a
//! reason) and reinstated; staff or its owner close it for good. Each move bumps the vendor's
//! `version` and writes `vendor.<status>` in its transaction.

pub mod graphql;

use crate::errors::{Outcome, VendorsErrorCode as Code, optional_text, reason, refusal};
use crate::ids::VendorId;
use crate::schema::vendors;
use crate::vendors::{Vendor, VendorStatus, lock, publish};
use crate::{documents, settings};
use chrono::Utc;
use cityos_core::{RequestContext, VendorRole};
use cityos_db::audit::Audit;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Moves vendor `id` to `to`: staff for every move, the vendor's owner (acting for it) to close
/// it. Rejecting and suspending need a reason; approving needs every required document accepted
/// and unexpired. Writes `vendor.<to>`.
#[tracing::instrument(name = "vendor.transition", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), to = %to))]
pub async fn transition(
    db: &cityos_db::Database,
    ctx: &RequestContext,
    id: VendorId,
    to: VendorStatus,
    why: Option<String>,
) -> Outcome<Vendor> {
    let owner_closing = to == VendorStatus::Closed
        && ctx
            .vendor
            .is_some_and(|v| v.id == id && v.role == VendorRole::Owner);
    if !owner_closing {
        ctx.require_staff()?;
    }
    let action = format!("vendor.{}", to.as_str().to_ascii_lowercase());
    db.recorded(ctx, &action, async move |tx| {
        let current = lock(tx, id).await?;
        current.status.require::<Code>(to, "status")?;
        let status_reason = match to {
            VendorStatus::Rejected | VendorStatus::Suspended => {
                Some(reason::<1000>(why.as_deref(), "reason")?)
            }
            _ => optional_text::<1000>(why.as_deref(), "reason")?,
        };
        if to == VendorStatus::Approved {
            let required = settings::read(tx).await?.required_documents;
            let missing = documents::missing(tx, id, &required).await?;
            if !missing.is_empty() {
                let kinds: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
                return Err(refusal(
                    "id",
                    Code::DocumentsMissing,
                    format!(
                        "approval needs an accepted, unexpired document of each kind: missing {}",
                        kinds.join(", ")
                    ),
                ));
            }
        }
        let approved_at = if to == VendorStatus::Approved {
            current.approved_at.or_else(|| Some(Utc::now()))
        } else {
            current.approved_at
        };
        let vendor: Vendor = diesel::update(vendors::table.filter(vendors::id.eq(id)))
            .set((
                vendors::status.eq(to),
                vendors::status_reason.eq(&status_reason),
                vendors::version.eq(current.version + 1),
                vendors::approved_at.eq(approved_at),
            ))
            .returning(Vendor::as_returning())
            .get_result(tx.conn())
            .await?;
        publish(tx, &vendor).await?;
        if to == VendorStatus::Approved {
            // The tenant's daily payout run (one per tenant, at the next midnight).
            let at = crate::payouts::next_run(Utc::now());
            crate::JOBS
                .schedule(tx, &crate::payouts::jobs::PayoutRun {}, at)
                .await?;
        }
        let details = serde_json::json!({
            "from": current.status, "to": to, "reason": status_reason,
        });
        Ok((vendor, Audit::of(id, details)))
    })
    .await
}
