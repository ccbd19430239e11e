//! The audit trail: one row per admin mutation, written in the mutation's own transaction through
//! the function the identity subgraph publishes (`identity.audit_record`), so a change and its
//! audit row commit or roll back together.

use crate::TenantTx;
use cityos_core::ids::EntityId;
use cityos_core::{Actor, RequestContext};
use diesel::sql_types::{Jsonb, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

/// Records that the request's actor did `action` (`"product.create"`) to an entity, named by its
/// typed id (the id's type names the entity), with details, in the transaction `tx`: the row lands
/// in its tenant's log and commits or rolls back with the change.
pub async fn record<I: EntityId>(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    action: &str,
    entity: I,
    details: serde_json::Value,
) -> diesel::QueryResult<()> {
    let (actor_id, actor_kind): (Option<Uuid>, _) = match &ctx.actor {
        Actor::Anonymous => (None, "ANONYMOUS"),
        Actor::Storefront { key_id } => (Some((*key_id).into()), "PUBLISHABLE_KEY"),
        Actor::User { user_id, .. } => (Some((*user_id).into()), "USER"),
        Actor::Service { key_id } => (Some((*key_id).into()), "SECRET_KEY"),
    };
    let (entity_type, entity_id): (&str, Uuid) = (I::ENTITY, entity.into());
    diesel::sql_query("SELECT identity.audit_record($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Nullable<SqlUuid>, _>(actor_id)
        .bind::<Text, _>(actor_kind)
        .bind::<Text, _>(action)
        .bind::<Text, _>(entity_type)
        .bind::<Nullable<SqlUuid>, _>(Some(entity_id))
        .bind::<Jsonb, _>(details)
        .bind::<Text, _>(&ctx.request_id)
        .execute(tx.conn())
        .await
        .map(drop)
}
