//! The GraphQL of the audit log.

use crate::audit::{self, AuditEvent};
use async_graphql::{Context, ID, Json, Object, Result};
use chrono::{DateTime, Utc};
use cityos_core::ids::to_id;
use cityos_core::paging::PageRequest;
use cityos_server::CtxExt as _;

cityos_core::connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit event"
);

/// One audited admin action, from any subgraph.
#[Object]
impl AuditEvent {
    /// The event's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Who acted: a user or API key id (null when anonymous).
    async fn actor_id(&self) -> Option<ID> {
        self.actor_id.map(ID::from)
    }
    /// USER, SECRET_KEY, PUBLISHABLE_KEY or ANONYMOUS.
    async fn actor_kind(&self) -> &str {
        &self.actor_kind
    }
    /// What was done, as `entity.verb` (`product.create`).
    async fn action(&self) -> &str {
        &self.action
    }
    /// The type of the entity acted on.
    async fn entity_type(&self) -> &str {
        &self.entity_type
    }
    /// The id of the entity acted on.
    async fn entity_id(&self) -> Option<ID> {
        self.entity_id.map(ID::from)
    }
    /// Action-specific details.
    async fn details(&self) -> Json<serde_json::Value> {
        Json(self.details.clone())
    }
    /// The request it happened in, to find its logs.
    async fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// The queries of the audit log.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The current tenant's audit log, oldest first (tenant admins).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<AuditEventConnection> {
        let page = PageRequest::new(first, after.as_deref(), last, before.as_deref())?;
        Ok(audit::list(ctx.db(), ctx.request()?, page).await?.into())
    }
}
