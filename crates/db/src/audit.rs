//! The audit trail: one row per admin mutation, written in the mutation's own transaction through
//! the function the identity subgraph publishes (`identity.audit_record`), so a change and its
//! audit row commit or roll back together.

use crate::{Database, TenantTx, TxFn};
use cityos_core::ApiError;
use cityos_core::ids::EntityId;
use cityos_core::{Actor, RequestContext, Role};
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
    write(tx, ctx, action, Audit::of(entity, details)).await
}

/// What a staff mutation did, for its audit row: the entity it changed (named by its typed id) and
/// what to remember of the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    entity_type: &'static str,
    entity_id: Uuid,
    details: serde_json::Value,
}

impl Audit {
    /// The change of `entity` (the id's type names it) with `details`.
    pub fn of<I: EntityId>(entity: I, details: serde_json::Value) -> Self {
        Self {
            entity_type: I::ENTITY,
            entity_id: entity.into(),
            details,
        }
    }
}

impl Database {
    /// A back-office mutation of tenant staff (admins, staff, secret keys) in one call: see
    /// [`audited`](Self::audited).
    pub async fn staff<T, E, F>(&self, ctx: &RequestContext, action: &str, f: F) -> Result<T, E>
    where
        F: for<'r, 'c> AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<(T, Audit), E>
            + for<'r, 'c> TxFn<&'r mut TenantTx<'c>, Result<(T, Audit), E>, Fut: Send>
            + Send,
        T: Send,
        E: From<diesel::result::Error> + From<ApiError> + Send,
    {
        self.audited(ctx, &[Role::TenantAdmin, Role::TenantStaff], action, f)
            .await
    }

    /// A back-office mutation in one call: the role check, the transaction and the audit row.
    /// The caller must hold one of `roles` in the selected tenant (else `UNAUTHENTICATED` or
    /// `FORBIDDEN`, and nothing runs); `f` runs in that tenant's transaction (checking its input
    /// first, so a refusal changes nothing) and returns its result with the [`Audit`] of what it
    /// did, which is written as `action` (`"collection.create"`) in the same transaction.
    pub async fn audited<T, E, F>(
        &self,
        ctx: &RequestContext,
        roles: &[Role],
        action: &str,
        f: F,
    ) -> Result<T, E>
    where
        F: for<'r, 'c> AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<(T, Audit), E>
            + for<'r, 'c> TxFn<&'r mut TenantTx<'c>, Result<(T, Audit), E>, Fut: Send>
            + Send,
        T: Send,
        E: From<diesel::result::Error> + From<ApiError> + Send,
    {
        ctx.require_any(roles)?;
        self.recorded(ctx, action, f).await
    }

    /// A mutation whose caller the caller of this has already checked (a vendor's team member,
    /// through [`RequestContext::require_vendor`]; an applicant acting for themself), with its
    /// audit row: `f` runs in the selected tenant's transaction and returns its result with the
    /// [`Audit`] written as `action` in the same transaction.
    pub async fn recorded<T, E, F>(&self, ctx: &RequestContext, action: &str, f: F) -> Result<T, E>
    where
        F: for<'r, 'c> AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<(T, Audit), E>
            + for<'r, 'c> TxFn<&'r mut TenantTx<'c>, Result<(T, Audit), E>, Fut: Send>
            + Send,
        T: Send,
        E: From<diesel::result::Error> + From<ApiError> + Send,
    {
        let tenant = ctx.tenant()?.id;
        self.tenant_tx(tenant, async move |tx| {
            let (value, audit) = f(tx).await?;
            write(tx, ctx, action, audit).await?;
            Ok(value)
        })
        .await
    }
}

async fn write(
    tx: &mut TenantTx<'_>,
    ctx: &RequestContext,
    action: &str,
    audit: Audit,
) -> diesel::QueryResult<()> {
    let Audit {
        entity_type,
        entity_id,
        details,
    } = audit;
    let (actor_id, actor_kind): (Option<Uuid>, _) = match &ctx.actor {
        Actor::Anonymous => (None, "ANONYMOUS"),
        Actor::Storefront { key_id } => (Some((*key_id).into()), "PUBLISHABLE_KEY"),
        Actor::User { user_id, .. } => (Some((*user_id).into()), "USER"),
        Actor::Service { key_id } => (Some((*key_id).into()), "SECRET_KEY"),
    };
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
