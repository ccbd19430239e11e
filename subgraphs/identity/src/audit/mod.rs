//! Reading the audit log (rows are written through `cityos_db::audit::record`).

pub mod graphql;

use crate::ids::AuditEntryId;
use crate::schema::audit_log;
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, RequestContext, Role};
use cityos_db::Database;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

/// One audited admin action. Its actor is a user or an API key (`actor_kind` says which) and its
/// entity any entity (`entity_type` names it), so those two ids stay untyped UUIDs.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditEvent {
    pub id: AuditEntryId,
    pub actor_id: Option<Uuid>,
    pub actor_kind: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The current tenant's audit log, oldest first (tenant admins).
pub async fn list(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<AuditEntryId>,
) -> Result<Page<AuditEvent>, ApiError> {
    ctx.require_any(&[Role::TenantAdmin])?;
    let tenant = ctx.tenant()?.id;
    db.tenant_tx(tenant, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            audit_log::table,
            audit_log::id,
            AuditEvent,
            page
        )?)
    })
    .await
}
