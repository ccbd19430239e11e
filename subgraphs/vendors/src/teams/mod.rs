//! Vendor teams: who works for a vendor (OWNER, MANAGER, STAFF) and how people join.
//!
//! An owner (acting for the vendor) or staff invites an e-mail address with a role; the
//! invitation's token is returned once and kept as its digest, valid for
//! [`INVITATION_DAYS`]. Whoever is signed in with that address (an existing customer, or one who
//! signs up with it) accepts it once. A user may be on several teams and acts for one per request
//! by naming it in `x-vendor-id`. Every team change locks the vendor's row first, so concurrent
//! changes run one after another and a team is never left without an owner.

pub mod graphql;

use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{InvitationId, UserId, VendorId};
use crate::schema::{invitations, members};
use crate::vendors::{Member, lock, require_active};
use chrono::{DateTime, Duration, Utc};
use cityos_auth::secret::{self, SecretKind};
use cityos_core::contact::normalize_email;
use cityos_core::{ApiError, RequestContext, VendorRole};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;

/// How long an invitation may be accepted.
pub const INVITATION_DAYS: i64 = 7;

cityos_core::states! {
    /// Where an invitation to a vendor's team is.
    #[graphql(name = "VendorInvitationStatus")]
    pub enum InvitationStatus {
        /// Waiting to be accepted.
        Pending = "PENDING",
        /// Accepted: its invitee is on the team.
        Accepted = "ACCEPTED",
        /// Withdrawn, or replaced by a newer invitation of the same address.
        Revoked = "REVOKED",
    }
    transitions {
        Pending -> Accepted | Revoked,
    }
}

/// An invitation as stored (never its token).
#[derive(Queryable, Selectable, Debug, Clone, PartialEq, Eq)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
pub struct Invitation {
    pub id: InvitationId,
    pub vendor_id: VendorId,
    pub email: String,
    pub role: VendorRole,
    pub status: InvitationStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Who may change vendor `vendor`'s team: staff, or its owners acting for it.
fn may_manage_team(ctx: &RequestContext, vendor: VendorId) -> Result<(), ApiError> {
    if ctx.is_staff() {
        return Ok(());
    }
    let scope = ctx.require_vendor(VendorRole::Owner)?;
    if scope.id == vendor {
        Ok(())
    } else {
        Err(ApiError::forbidden("you act for another vendor"))
    }
}

async fn member(
    tx: &mut TenantTx<'_>,
    vendor: VendorId,
    user: UserId,
) -> QueryResult<Option<Member>> {
    members::table
        .filter(members::vendor_id.eq(vendor))
        .filter(members::user_id.eq(user))
        .select(Member::as_select())
        .first(tx.conn())
        .await
        .optional()
}

async fn owners(tx: &mut TenantTx<'_>, vendor: VendorId) -> QueryResult<i64> {
    members::table
        .filter(members::vendor_id.eq(vendor))
        .filter(members::role.eq(VendorRole::Owner))
        .count()
        .get_result(tx.conn())
        .await
}

/// Invites `email` to vendor `vendor`'s team with `role` (its owners, or staff). A pending
/// invitation of the same address is replaced. Returns the invitation and its token, shown once.
pub async fn invite(
    db: &Database,
    ctx: &RequestContext,
    vendor: VendorId,
    email: &str,
    role: VendorRole,
) -> Outcome<(Invitation, String)> {
    may_manage_team(ctx, vendor)?;
    let inviter = ctx.user_id().ok();
    let email = email.to_owned();
    db.recorded(ctx, "vendor_invitation.create", async move |tx| {
        let v = lock(tx, vendor).await?;
        require_active(&v)?;
        let email = normalize_email(&email).ok_or_else(|| {
            refusal(
                "email",
                Code::InvalidEmail,
                "the e-mail address is malformed",
            )
        })?;
        let on_team: i64 = members::table
            .filter(members::vendor_id.eq(vendor))
            .filter(members::email.eq(&email))
            .count()
            .get_result(tx.conn())
            .await?;
        if on_team > 0 {
            return Err(refusal(
                "email",
                Code::AlreadyMember,
                "someone with this address is on the team already",
            ));
        }
        diesel::update(
            invitations::table
                .filter(invitations::vendor_id.eq(vendor))
                .filter(invitations::email.eq(&email))
                .filter(invitations::status.eq(InvitationStatus::Pending)),
        )
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
        let generated = secret::generate(SecretKind::VendorInvitation, tx.tenant());
        let invitation: Invitation = diesel::insert_into(invitations::table)
            .values((
                invitations::tenant_id.eq(tx.tenant()),
                invitations::id.eq(InvitationId::new()),
                invitations::vendor_id.eq(vendor),
                invitations::email.eq(&email),
                invitations::role.eq(role),
                invitations::token_digest.eq(&generated.digest),
                invitations::invited_by.eq(inviter),
                invitations::expires_at.eq(Utc::now() + Duration::days(INVITATION_DAYS)),
            ))
            .returning(Invitation::as_returning())
            .get_result(tx.conn())
            .await?;
        let audit = Audit::of(
            invitation.id,
            serde_json::json!({ "vendor": vendor, "email": email, "role": role }),
        );
        Ok(((invitation, generated.token), audit))
    })
    .await
}

/// Accepts the invitation `token` as the signed-in user, whose e-mail address must be the one
/// invited: they join the team with the invited role.
pub async fn accept(db: &Database, ctx: &RequestContext, token: &str) -> Outcome<Member> {
    let user = ctx.user_id()?;
    let tenant = ctx.tenant()?.id;
    let invalid = || {
        refusal(
            "token",
            Code::InvitationInvalid,
            "the invitation is unknown or used",
        )
    };
    if secret::tenant_of(SecretKind::VendorInvitation, token) != Some(tenant) {
        return Err(invalid());
    }
    let digest = secret::digest(token);
    db.recorded(ctx, "vendor_invitation.accept", async move |tx| {
        let found: Option<Invitation> = invitations::table
            .filter(invitations::token_digest.eq(&digest))
            .select(Invitation::as_select())
            .first(tx.conn())
            .await
            .optional()?;
        let found = found.ok_or_else(invalid)?;
        // The vendor's lock first, then the invitation's: the order every team change takes.
        let vendor = lock(tx, found.vendor_id).await?;
        let invitation: Invitation = invitations::table
            .filter(invitations::id.eq(found.id))
            .select(Invitation::as_select())
            .for_update()
            .first(tx.conn())
            .await?;
        if invitation.status != InvitationStatus::Pending {
            return Err(invalid());
        }
        if invitation.expires_at <= Utc::now() {
            return Err(refusal(
                "token",
                Code::InvitationExpired,
                "the invitation has expired; ask for a new one",
            ));
        }
        require_active(&vendor).map_err(|_| invalid())?;
        let email = identity::api::user_email(tx, user)
            .await?
            .ok_or_else(|| ApiError::forbidden("only users of this tenant may join a team"))?;
        if email != invitation.email {
            return Err(refusal(
                "token",
                Code::InvitationEmailMismatch,
                "the invitation is for another e-mail address: sign in with the one invited",
            ));
        }
        if member(tx, vendor.id, user).await?.is_some() {
            return Err(refusal(
                "token",
                Code::AlreadyMember,
                "you are on this vendor's team already",
            ));
        }
        let joined: Member = diesel::insert_into(members::table)
            .values((
                members::tenant_id.eq(tx.tenant()),
                members::vendor_id.eq(vendor.id),
                members::user_id.eq(user),
                members::role.eq(invitation.role),
                members::email.eq(&email),
            ))
            .returning(Member::as_returning())
            .get_result(tx.conn())
            .await?;
        diesel::update(invitations::table.filter(invitations::id.eq(invitation.id)))
            .set((
                invitations::status.eq(InvitationStatus::Accepted),
                invitations::accepted_by.eq(user),
                invitations::updated_at.eq(diesel::dsl::now),
            ))
            .execute(tx.conn())
            .await?;
        let audit = Audit::of(
            invitation.id,
            serde_json::json!({ "vendor": vendor.id, "user": user, "role": joined.role }),
        );
        Ok((joined, audit))
    })
    .await
}

/// Withdraws a pending invitation (the vendor's owners, or staff).
pub async fn revoke(db: &Database, ctx: &RequestContext, id: InvitationId) -> Outcome<Invitation> {
    let vendor = {
        let tenant = ctx.tenant()?.id;
        db.tenant_tx(tenant, async move |tx| {
            invitations::table
                .filter(invitations::id.eq(id))
                .select(invitations::vendor_id)
                .first::<VendorId>(tx.conn())
                .await
                .optional()
                .map_err(ApiError::from)
        })
        .await?
        .ok_or_else(|| refusal("id", Code::NotFound, "no such invitation"))?
    };
    may_manage_team(ctx, vendor)?;
    db.recorded(ctx, "vendor_invitation.revoke", async move |tx| {
        lock(tx, vendor).await?;
        let revoked: Option<Invitation> = diesel::update(
            invitations::table
                .filter(invitations::id.eq(id))
                .filter(invitations::status.eq(InvitationStatus::Pending)),
        )
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Invitation::as_returning())
        .get_result(tx.conn())
        .await
        .optional()?;
        let revoked = revoked.ok_or_else(|| {
            refusal(
                "id",
                Code::InvitationInvalid,
                "the invitation is accepted or revoked",
            )
        })?;
        Ok((
            revoked,
            Audit::of(id, serde_json::json!({ "vendor": vendor })),
        ))
    })
    .await
}

/// Gives `user` another role on vendor `vendor`'s team (its owners, or staff); the last owner
/// keeps the role.
pub async fn change_role(
    db: &Database,
    ctx: &RequestContext,
    vendor: VendorId,
    user: UserId,
    role: VendorRole,
) -> Outcome<Member> {
    may_manage_team(ctx, vendor)?;
    db.recorded(ctx, "vendor_member.role", async move |tx| {
        lock(tx, vendor).await?;
        let current = member(tx, vendor, user)
            .await?
            .ok_or_else(|| refusal("userId", Code::NotFound, "no such member"))?;
        if current.role == VendorRole::Owner
            && role != VendorRole::Owner
            && owners(tx, vendor).await? == 1
        {
            return Err(refusal(
                "role",
                Code::LastOwner,
                "make someone else an owner first: a team keeps one",
            ));
        }
        let changed: Member = diesel::update(
            members::table
                .filter(members::vendor_id.eq(vendor))
                .filter(members::user_id.eq(user)),
        )
        .set(members::role.eq(role))
        .returning(Member::as_returning())
        .get_result(tx.conn())
        .await?;
        let audit = Audit::of(
            vendor,
            serde_json::json!({ "user": user, "from": current.role, "to": role }),
        );
        Ok((changed, audit))
    })
    .await
}

/// Takes `user` off vendor `vendor`'s team: its owners or staff, or the member themself (leaving
/// while acting for it). The last owner stays.
pub async fn remove(
    db: &Database,
    ctx: &RequestContext,
    vendor: VendorId,
    user: UserId,
) -> Outcome<Member> {
    let leaving = ctx.user_id().ok() == Some(user) && ctx.vendor.is_some_and(|v| v.id == vendor);
    if !leaving {
        may_manage_team(ctx, vendor)?;
    }
    db.recorded(ctx, "vendor_member.remove", async move |tx| {
        lock(tx, vendor).await?;
        let current = member(tx, vendor, user)
            .await?
            .ok_or_else(|| refusal("userId", Code::NotFound, "no such member"))?;
        if current.role == VendorRole::Owner && owners(tx, vendor).await? == 1 {
            return Err(refusal(
                "userId",
                Code::LastOwner,
                "make someone else an owner first: a team keeps one",
            ));
        }
        diesel::delete(
            members::table
                .filter(members::vendor_id.eq(vendor))
                .filter(members::user_id.eq(user)),
        )
        .execute(tx.conn())
        .await?;
        let audit = Audit::of(
            vendor,
            serde_json::json!({ "user": user, "role": current.role }),
        );
        Ok((current, audit))
    })
    .await
}

/// The teams of `vendors`, oldest member first.
pub async fn members_of(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
) -> QueryResult<HashMap<VendorId, Vec<Member>>> {
    let rows: Vec<Member> = members::table
        .filter(members::vendor_id.eq_any(vendors))
        .select(Member::as_select())
        .order((members::vendor_id, members::created_at))
        .load(tx.conn())
        .await?;
    let mut by_vendor: HashMap<VendorId, Vec<Member>> = HashMap::new();
    for m in rows {
        by_vendor.entry(m.vendor_id).or_default().push(m);
    }
    Ok(by_vendor)
}

/// The pending invitations of `vendors`, oldest first.
pub async fn pending_of(
    tx: &mut TenantTx<'_>,
    vendors: &[VendorId],
) -> QueryResult<HashMap<VendorId, Vec<Invitation>>> {
    let rows: Vec<Invitation> = invitations::table
        .filter(invitations::vendor_id.eq_any(vendors))
        .filter(invitations::status.eq(InvitationStatus::Pending))
        .select(Invitation::as_select())
        .order((invitations::vendor_id, invitations::id))
        .load(tx.conn())
        .await?;
    let mut by_vendor: HashMap<VendorId, Vec<Invitation>> = HashMap::new();
    for i in rows {
        by_vendor.entry(i.vendor_id).or_default().push(i);
    }
    Ok(by_vendor)
}
