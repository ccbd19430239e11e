//! Vendor teams in GraphQL: `Vendor.members` and `Vendor.invitations` (in `vendors::graphql`),
//! invitations and their acceptance, roles and removal.

use crate::errors::VendorsUserError;
use crate::ids::{InvitationId, UserId, VendorId};
use crate::membership::{self, InvitationStatus};
use crate::scope::{InvitationsOf, MembersOf, VendorsLoader, children_of};
use crate::teams::{Invitation, Member, Team};
use crate::vendors::Vendor;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use cityos_core::VendorRole;
use cityos_core::ids::to_id;
use cityos_server::CtxExt as _;

children_of!(MembersOf => Member, membership::members_of::<Team>);
children_of!(InvitationsOf => Invitation, membership::pending_of::<Team>);

/// A user's place on a vendor's team.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct VendorMember {
    /// The member's user id.
    pub user_id: ID,
    /// The address they signed up with.
    pub email: String,
    /// Their role on the team.
    pub role: VendorRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    #[graphql(skip)]
    pub vendor_id: VendorId,
}

impl From<Member> for VendorMember {
    fn from(m: Member) -> Self {
        Self {
            user_id: to_id(m.user_id),
            email: m.email,
            role: m.role,
            joined_at: m.created_at,
            vendor_id: m.organization_id,
        }
    }
}

#[async_graphql::ComplexObject]
impl VendorMember {
    /// The vendor (null when the caller may no longer see it).
    async fn vendor(&self, ctx: &Context<'_>) -> Result<Option<Vendor>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(self.vendor_id)
            .await?)
    }
}
/// An invitation to a vendor's team (its token is shown once, when it is made).
#[Object(name = "VendorInvitation")]
impl Invitation {
    /// The invitation's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// The address invited: whoever signs in with it may accept.
    async fn email(&self) -> &str {
        &self.email
    }
    /// The role the invitee gets.
    async fn role(&self) -> VendorRole {
        self.role
    }
    /// PENDING, ACCEPTED or REVOKED.
    async fn status(&self) -> InvitationStatus {
        self.status
    }
    /// Until when it may be accepted.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Someone to invite.
#[derive(InputObject)]
pub struct VendorInviteInput {
    /// The vendor (the one the caller acts for, unless staff).
    pub vendor_id: VendorId,
    /// Their e-mail address.
    pub email: String,
    /// The role they get.
    pub role: VendorRole,
}

cityos_core::payload! {
    /// The result of `vendorInvite`.
    VendorInvitePayload<VendorsUserError> {
        /// The invitation; null when refused.
        invitation: Invitation,
        /// Its token, shown this once (only its digest is kept): send it to the invitee, who
        /// accepts it with `vendorInvitationAccept`.
        token: String,
    }
}

cityos_core::payload! {
    /// The result of `vendorInvitationRevoke`.
    VendorInvitationPayload<VendorsUserError> {
        /// The invitation as it now is; null when refused.
        invitation: Invitation,
    }
}

/// A member to change or remove.
#[derive(InputObject)]
pub struct VendorMemberInput {
    /// The vendor.
    pub vendor_id: VendorId,
    /// The member's user id.
    pub user_id: UserId,
}

/// A member's new role.
#[derive(InputObject)]
pub struct VendorMemberRoleInput {
    /// The vendor.
    pub vendor_id: VendorId,
    /// The member's user id.
    pub user_id: UserId,
    /// Their new role.
    pub role: VendorRole,
}

cityos_core::payload! {
    /// The result of a team mutation.
    VendorMemberPayload<VendorsUserError> {
        /// The member (as they now are, or as they were when removed); null when refused.
        member: VendorMember,
    }
}

/// The mutations of vendor teams.
#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Invites an e-mail address to a vendor's team (its owners acting for it, or staff); a
    /// pending invitation of the same address is replaced. The token is returned once.
    async fn vendor_invite(
        &self,
        ctx: &Context<'_>,
        input: VendorInviteInput,
    ) -> Result<VendorInvitePayload> {
        Ok(VendorInvitePayload::of(
            membership::invite::<Team>(
                ctx.db(),
                ctx.request()?,
                input.vendor_id,
                &input.email,
                input.role,
            )
            .await,
        )?)
    }

    /// Accepts an invitation as the signed-in user, whose e-mail address must be the one invited.
    async fn vendor_invitation_accept(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<VendorMemberPayload> {
        let outcome = membership::accept::<Team>(ctx.db(), ctx.request()?, &token).await;
        Ok(VendorMemberPayload::of(outcome.map(VendorMember::from))?)
    }

    /// Withdraws a pending invitation (the vendor's owners acting for it, or staff).
    async fn vendor_invitation_revoke(
        &self,
        ctx: &Context<'_>,
        id: InvitationId,
    ) -> Result<VendorInvitationPayload> {
        Ok(VendorInvitationPayload::of(
            membership::revoke::<Team>(ctx.db(), ctx.request()?, id).await,
        )?)
    }

    /// Gives a member another role (the vendor's owners acting for it, or staff); the last owner
    /// keeps theirs.
    async fn vendor_member_role_change(
        &self,
        ctx: &Context<'_>,
        input: VendorMemberRoleInput,
    ) -> Result<VendorMemberPayload> {
        let outcome = membership::change_role::<Team>(
            ctx.db(),
            ctx.request()?,
            input.vendor_id,
            input.user_id,
            input.role,
        )
        .await;
        Ok(VendorMemberPayload::of(outcome.map(VendorMember::from))?)
    }

    /// Takes a member off the team (the vendor's owners or staff, or the member leaving while
    /// acting for it); the last owner stays.
    async fn vendor_member_remove(
        &self,
        ctx: &Context<'_>,
        input: VendorMemberInput,
    ) -> Result<VendorMemberPayload> {
        let outcome =
            membership::remove::<Team>(ctx.db(), ctx.request()?, input.vendor_id, input.user_id)
                .await;
        Ok(VendorMemberPayload::of(outcome.map(VendorMember::from))?)
    }
}
