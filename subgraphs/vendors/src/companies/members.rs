//! A company's members (ADMIN, APPROVER, BUYER), as [`crate::membership`] keeps every
//! organization's, and their spending limits. A company's admins (acting for it) or staff manage
//! its members; a closed company takes no changes; a company always keeps an admin. Whoever
//! joins is put into the company's customer group in the catalog (so its contract prices apply
//! to them), and whoever leaves is taken out, in the same transaction.

use super::{Company, lock, may_act, require_open};
use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{CompanyId, UserId};
use crate::membership::{self, Organization, OrganizationKind};
use cityos_auth::secret::SecretKind;
use cityos_core::{ApiError, CompanyRole, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use uuid::Uuid;

/// A company as an organization with members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyers;

/// A user's place in a company.
pub type Member = membership::Member<Buyers>;
/// An invitation to a company.
pub type Invitation = membership::Invitation<Buyers>;

impl Organization for Buyers {
    type Id = CompanyId;
    type Role = CompanyRole;
    const KIND: OrganizationKind = OrganizationKind::Company;
    const NOUN: &'static str = "company";
    const KEEPER: CompanyRole = CompanyRole::Admin;
    const SECRET: SecretKind = SecretKind::CompanyInvitation;

    fn id(uuid: Uuid) -> CompanyId {
        CompanyId::from_uuid(uuid)
    }

    fn role_name(role: CompanyRole) -> &'static str {
        role.as_str()
    }

    fn role(stored: &str) -> Option<CompanyRole> {
        CompanyRole::parse(stored).ok()
    }

    fn may_manage(ctx: &RequestContext, company: CompanyId) -> Result<(), ApiError> {
        may_act(ctx, company, CompanyRole::Admin)
    }

    fn acting_for(ctx: &RequestContext, company: CompanyId) -> bool {
        ctx.company.is_some_and(|c| c.id == company)
    }

    async fn lock(tx: &mut TenantTx<'_>, company: CompanyId) -> Outcome<()> {
        require_open(&lock(tx, company).await?)
    }

    async fn joined(tx: &mut TenantTx<'_>, company: CompanyId, user: UserId) -> Outcome<()> {
        if let Some(group) = group_of(tx, company).await? {
            catalog::api::customer_group_join(tx, group, &[user]).await?;
        }
        Ok(())
    }

    async fn left(tx: &mut TenantTx<'_>, company: CompanyId, user: UserId) -> Outcome<()> {
        if let Some(group) = group_of(tx, company).await? {
            catalog::api::customer_group_leave(tx, group, &[user]).await?;
        }
        Ok(())
    }
}

async fn group_of(
    tx: &mut TenantTx<'_>,
    company: CompanyId,
) -> Outcome<Option<catalog::api::CustomerGroupId>> {
    let found: Company = super::by_ids(tx, &[company])
        .await?
        .remove(&company)
        .ok_or_else(|| refusal("id", Code::NotFound, "no such company"))?;
    Ok(found.customer_group_id)
}

/// The largest spending limit accepted: a trillion major units of a two-decimal currency.
pub const MAX_LIMIT: i64 = 100_000_000_000_000;

/// Sets a member's spending limits in their company's currency (its admins acting for it, or
/// staff): per order and per calendar month, `None` for no limit.
pub async fn set_limits(
    db: &Database,
    ctx: &RequestContext,
    company: CompanyId,
    user: UserId,
    order_limit: Option<i64>,
    monthly_limit: Option<i64>,
) -> Outcome<Member> {
    may_act(ctx, company, CompanyRole::Admin)?;
    for (field, limit) in [("orderLimit", order_limit), ("monthlyLimit", monthly_limit)] {
        if limit.is_some_and(|l| !(0..=MAX_LIMIT).contains(&l)) {
            return Err(refusal(
                field,
                Code::InvalidAmount,
                "a spending limit is 0 or more (minor units of the company's currency)",
            ));
        }
    }
    db.recorded(ctx, "company_member.limits", async move |tx| {
        let found = lock(tx, company).await?;
        require_open(&found)?;
        membership::locked_member::<Buyers>(tx, company, user, "userId").await?;
        let member =
            membership::set_limits::<Buyers>(tx, company, user, order_limit, monthly_limit).await?;
        let audit = Audit::of(
            company,
            serde_json::json!({
                "user": user, "orderLimit": order_limit, "monthlyLimit": monthly_limit,
            }),
        );
        Ok((member, audit))
    })
    .await
}
