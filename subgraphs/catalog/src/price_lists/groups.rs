//! Customer groups: named sets of the tenant's customers (Wholesale, VIP) that price lists and
//! volume tiers can be limited to; a member must be a customer of the tenant.

use super::check_name;
use crate::errors::{CatalogErrorCode as Code, Outcome, UserError};
use crate::ids::{CustomerGroupId, TenantId, UserId};
use crate::schema::{customer_group_members, customer_groups};
use chrono::{DateTime, Utc};
use cityos_core::paging::{Page, PageRequest};
use cityos_core::{ApiError, Failure, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashSet;

/// A named set of customers.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = customer_groups, check_for_backend(diesel::pg::Pg))]
pub struct CustomerGroup {
    pub tenant_id: TenantId,
    pub id: CustomerGroupId,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

pub(super) async fn group_exists(
    tx: &mut TenantTx<'_>,
    id: CustomerGroupId,
    field: &str,
) -> Outcome<()> {
    let found: i64 = customer_groups::table
        .filter(customer_groups::id.eq(id))
        .count()
        .get_result(tx.conn())
        .await?;
    if found == 0 {
        return Err(UserError::new(field, Code::NotFound, "no such customer group").into());
    }
    Ok(())
}

/// Creates a customer group (staff).
pub async fn create_group(
    db: &Database,
    ctx: &RequestContext,
    name: &str,
    description: Option<String>,
) -> Outcome<CustomerGroup> {
    db.staff(ctx, "customer_group.create", async move |tx| {
        let tenant = tx.tenant();
        let name = check_name(name)?;
        let description = description.unwrap_or_default();
        if description.chars().count() > 1000 {
            return Err(UserError::new(
                "description",
                Code::InvalidDescription,
                "a description has at most 1,000 characters",
            )
            .into());
        }
        let group: CustomerGroup = diesel::insert_into(customer_groups::table)
            .values((
                customer_groups::tenant_id.eq(tenant),
                customer_groups::id.eq(CustomerGroupId::new()),
                customer_groups::name.eq(&name),
                customer_groups::description.eq(&description),
            ))
            .returning(CustomerGroup::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| {
                Failure::on_unique("customer_groups_name_key", e, || {
                    UserError::new("name", Code::NameTaken, format!("a group `{name}` exists"))
                })
            })?;
        let details = serde_json::json!({ "name": group.name });
        let audit = Audit::of(group.id, details);
        Ok((group, audit))
    })
    .await
}

/// Adds (`add = true`) or removes customers of a group (staff); idempotent per customer. Every id
/// added must be a customer of the tenant (asked of identity in the same transaction).
pub async fn change_members(
    db: &Database,
    ctx: &RequestContext,
    group_id: CustomerGroupId,
    users: Vec<UserId>,
    add: bool,
) -> Outcome<CustomerGroup> {
    let action = if add {
        "customer_group.members.add"
    } else {
        "customer_group.members.remove"
    };
    db.staff(ctx, action, async move |tx| {
        let tenant = tx.tenant();
        if users.is_empty() || users.len() > 500 {
            return Err(UserError::new(
                "customerIds",
                Code::InvalidCount,
                "give 1 to 500 customers",
            )
            .into());
        }
        let group: CustomerGroup = customer_groups::table
            .filter(customer_groups::id.eq(group_id))
            .select(CustomerGroup::as_select())
            .first(tx.conn())
            .await
            .optional()?
            .ok_or_else(|| UserError::new("groupId", Code::NotFound, "no such customer group"))?;
        if add {
            let customers: HashSet<UserId> = identity::api::customers_among(tx, &users)
                .await?
                .into_iter()
                .collect();
            if let Some(stranger) = users.iter().find(|u| !customers.contains(u)) {
                return Err(UserError::new(
                    "customerIds",
                    Code::UnknownCustomer,
                    format!("`{stranger}` is not a customer of this tenant"),
                )
                .into());
            }
            let rows: Vec<_> = users
                .iter()
                .map(|user| {
                    (
                        customer_group_members::tenant_id.eq(tenant),
                        customer_group_members::group_id.eq(group_id),
                        customer_group_members::user_id.eq(*user),
                    )
                })
                .collect();
            diesel::insert_into(customer_group_members::table)
                .values(rows)
                .on_conflict_do_nothing()
                .execute(tx.conn())
                .await?;
        } else {
            diesel::delete(
                customer_group_members::table
                    .filter(customer_group_members::group_id.eq(group_id))
                    .filter(customer_group_members::user_id.eq_any(&users)),
            )
            .execute(tx.conn())
            .await?;
        }
        let details = serde_json::json!({ "customers": users });
        let audit = Audit::of(group_id, details);
        Ok((group, audit))
    })
    .await
}

/// A page of the tenant's customer groups (staff).
pub async fn groups(
    db: &Database,
    ctx: &RequestContext,
    page: PageRequest<CustomerGroupId>,
) -> Result<Page<CustomerGroup>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        Ok(cityos_db::table_page!(
            tx,
            customer_groups::table,
            customer_groups::id,
            CustomerGroup,
            page
        )?)
    })
    .await
}

/// Customers of a group, a page at a time in id order (staff).
pub async fn members(
    db: &Database,
    ctx: &RequestContext,
    group: CustomerGroupId,
    page: PageRequest<UserId>,
) -> Result<Page<UserId>, ApiError> {
    ctx.require_staff()?;
    db.tenant_tx(ctx.tenant()?.id, async move |tx| {
        let query = customer_group_members::table
            .filter(customer_group_members::group_id.eq(group))
            .select(customer_group_members::user_id)
            .into_boxed();
        let ids: Vec<UserId> =
            cityos_db::keyset_page!(query, customer_group_members::user_id, page)
                .load(tx.conn())
                .await?;
        let total: i64 = customer_group_members::table
            .filter(customer_group_members::group_id.eq(group))
            .count()
            .get_result(tx.conn())
            .await?;
        Ok(page.finish(ids, |id| *id, total))
    })
    .await
}

/// Whether `id` is one of the transaction's tenant's customer groups.
pub async fn group_found(tx: &mut TenantTx<'_>, id: CustomerGroupId) -> QueryResult<bool> {
    let found: i64 = customer_groups::table
        .filter(customer_groups::id.eq(id))
        .count()
        .get_result(tx.conn())
        .await?;
    Ok(found > 0)
}

/// Puts those of `users` who are customers of the tenant into group `id` (already there: no
/// change), on the caller's transaction.
pub async fn join(tx: &mut TenantTx<'_>, id: CustomerGroupId, users: &[UserId]) -> QueryResult<()> {
    let tenant = tx.tenant();
    let customers = identity::api::customers_among(tx, users).await?;
    if customers.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = customers
        .iter()
        .map(|user| {
            (
                customer_group_members::tenant_id.eq(tenant),
                customer_group_members::group_id.eq(id),
                customer_group_members::user_id.eq(*user),
            )
        })
        .collect();
    diesel::insert_into(customer_group_members::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await
        .map(drop)
}

/// Takes `users` out of group `id`, on the caller's transaction.
pub async fn leave(
    tx: &mut TenantTx<'_>,
    id: CustomerGroupId,
    users: &[UserId],
) -> QueryResult<()> {
    diesel::delete(
        customer_group_members::table
            .filter(customer_group_members::group_id.eq(id))
            .filter(customer_group_members::user_id.eq_any(users)),
    )
    .execute(tx.conn())
    .await
    .map(drop)
}
