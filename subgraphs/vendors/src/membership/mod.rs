//! Membership: who belongs to one of the platform's organizations (a marketplace vendor's team,
//! a B2B company's members), with which role, and how people join. One piece for every kind of
//! organization: each kind says what it is through [`Organization`] (its roles, the role that
//! manages members, who may manage them, how its row is locked), and its domain adds its own
//! rules on top (a company's spending limits).
//!
//! An organization's keepers (a vendor's owners, a company's admins), or staff, invite an e-mail
//! address with a role; the invitation's token is returned once and kept as its digest, valid for
//! [`INVITATION_DAYS`]. Whoever is signed in with that address (an existing customer, or one who
//! signs up with it) accepts it once. A user may belong to several organizations and acts for one
//! per request by naming it in a header (`x-vendor-id`, `x-company-id`). Every membership change
//! locks the organization's row first, so concurrent changes run one after another and an
//! organization is never left without a keeper.

use crate::errors::{Outcome, VendorsErrorCode as Code, refusal};
use crate::ids::{InvitationId, TenantId, UserId};
use crate::schema::{invitations, members, organizations};
use chrono::{DateTime, Duration, Utc};
use cityos_auth::secret::{self, SecretKind};
use cityos_core::ids::EntityId;
use cityos_core::{ApiError, RequestContext};
use cityos_db::audit::Audit;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::hash::Hash;
use uuid::Uuid;

/// How long an invitation may be accepted.
pub const INVITATION_DAYS: i64 = 7;

cityos_core::states! {
    /// What kind of organization a row of `vendors.organizations` is.
    pub enum OrganizationKind {
        /// A marketplace vendor.
        Vendor = "VENDOR",
        /// A B2B buying company.
        Company = "COMPANY",
    }
}

cityos_core::states! {
    /// Where an invitation to an organization is.
    pub enum InvitationStatus {
        /// Waiting to be accepted.
        Pending = "PENDING",
        /// Accepted: its invitee is a member.
        Accepted = "ACCEPTED",
        /// Withdrawn, or replaced by a newer invitation of the same address.
        Revoked = "REVOKED",
    }
    transitions {
        Pending -> Accepted | Revoked,
    }
}

/// A kind of organization, as membership needs to know it.
/// (The marker types are unit structs; the bounds let `Member<O>` derive what it needs.)
pub trait Organization: Clone + Debug + PartialEq + Eq + Send + Sync + 'static {
    /// Its typed id.
    type Id: EntityId + Copy + Eq + Hash + Debug + Display + Send + Sync + 'static;
    /// The roles its members hold.
    type Role: Copy + Eq + Debug + Send + Sync + serde::Serialize + 'static;
    /// Its kind.
    const KIND: OrganizationKind;
    /// The singular noun its messages and audit actions use (`vendor`, `company`).
    const NOUN: &'static str;
    /// The role that manages members; an organization always keeps one member in it.
    const KEEPER: Self::Role;
    /// The kind of secret its invitations' tokens are.
    const SECRET: SecretKind;

    /// Its id from the stored UUID.
    fn id(uuid: Uuid) -> Self::Id;
    /// A role's stored form.
    fn role_name(role: Self::Role) -> &'static str;
    /// A role from its stored form.
    fn role(stored: &str) -> Option<Self::Role>;
    /// Succeeds for staff, and for its keepers acting for it.
    fn may_manage(ctx: &RequestContext, id: Self::Id) -> Result<(), ApiError>;
    /// Whether the caller acts for `id` (so may leave it).
    fn acting_for(ctx: &RequestContext, id: Self::Id) -> bool;
    /// Locks its row for a membership change, refusing one that takes none (closed, rejected).
    fn lock(tx: &mut TenantTx<'_>, id: Self::Id) -> impl Future<Output = Outcome<()>> + Send;
    /// What else changes, in the same transaction, when `user` joins organization `id`.
    fn joined(
        _tx: &mut TenantTx<'_>,
        _id: Self::Id,
        _user: UserId,
    ) -> impl Future<Output = Outcome<()>> + Send {
        async { Ok(()) }
    }
    /// What else changes, in the same transaction, when `user` leaves organization `id`.
    fn left(
        _tx: &mut TenantTx<'_>,
        _id: Self::Id,
        _user: UserId,
    ) -> impl Future<Output = Outcome<()>> + Send {
        async { Ok(()) }
    }
}

/// A user's place in an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<O: Organization> {
    pub organization_id: O::Id,
    pub user_id: UserId,
    pub role: O::Role,
    /// The address they signed up with.
    pub email: String,
    /// A company buyer's limit per order (minor units of the company's currency).
    pub order_limit: Option<i64>,
    /// A company buyer's limit per calendar month of committed spend.
    pub monthly_limit: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// An invitation as stored (never its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation<O: Organization> {
    pub id: InvitationId,
    pub organization_id: O::Id,
    pub email: String,
    pub role: O::Role,
    pub status: InvitationStatus,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = members, check_for_backend(diesel::pg::Pg))]
struct MemberRow {
    organization_id: Uuid,
    user_id: UserId,
    role: String,
    email: String,
    order_limit: Option<i64>,
    monthly_limit: Option<i64>,
    created_at: DateTime<Utc>,
}

impl MemberRow {
    fn typed<O: Organization>(self) -> QueryResult<Member<O>> {
        Ok(Member {
            organization_id: O::id(self.organization_id),
            user_id: self.user_id,
            role: stored_role::<O>(&self.role)?,
            email: self.email,
            order_limit: self.order_limit,
            monthly_limit: self.monthly_limit,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = invitations, check_for_backend(diesel::pg::Pg))]
struct InvitationRow {
    id: InvitationId,
    organization_id: Uuid,
    email: String,
    role: String,
    status: InvitationStatus,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl InvitationRow {
    fn typed<O: Organization>(self) -> QueryResult<Invitation<O>> {
        Ok(Invitation {
            id: self.id,
            organization_id: O::id(self.organization_id),
            email: self.email,
            role: stored_role::<O>(&self.role)?,
            status: self.status,
            expires_at: self.expires_at,
            created_at: self.created_at,
        })
    }
}

fn stored_role<O: Organization>(stored: &str) -> QueryResult<O::Role> {
    O::role(stored).ok_or_else(|| {
        diesel::result::Error::DeserializationError(
            format!("`{stored}` is no {} role", O::NOUN).into(),
        )
    })
}

/// Registers a new organization of `O`'s kind with id `id` (before its own row is written: the
/// row's foreign key names it).
pub async fn register<O: Organization>(tx: &mut TenantTx<'_>, id: O::Id) -> QueryResult<()> {
    let tenant = tx.tenant();
    diesel::insert_into(organizations::table)
        .values((
            organizations::tenant_id.eq(tenant),
            organizations::id.eq(id.into()),
            organizations::kind.eq(O::KIND),
        ))
        .execute(tx.conn())
        .await
        .map(drop)
}

/// Adds `user` (signed up as `email`) to organization `id` with `role`, as its founder does.
pub async fn add<O: Organization>(
    tx: &mut TenantTx<'_>,
    id: O::Id,
    user: UserId,
    email: &str,
    role: O::Role,
) -> Outcome<Member<O>> {
    let tenant = tx.tenant();
    let member = diesel::insert_into(members::table)
        .values((
            members::tenant_id.eq(tenant),
            members::organization_id.eq(id.into()),
            members::kind.eq(O::KIND),
            members::user_id.eq(user),
            members::role.eq(O::role_name(role)),
            members::email.eq(email),
        ))
        .returning(MemberRow::as_returning())
        .get_result(tx.conn())
        .await?
        .typed()?;
    O::joined(tx, id, user).await?;
    Ok(member)
}

/// `user`'s membership of organization `id`, if any.
pub async fn member<O: Organization>(
    tx: &mut TenantTx<'_>,
    id: O::Id,
    user: UserId,
) -> QueryResult<Option<Member<O>>> {
    let row: Option<MemberRow> = members::table
        .filter(members::organization_id.eq(id.into()))
        .filter(members::kind.eq(O::KIND))
        .filter(members::user_id.eq(user))
        .select(MemberRow::as_select())
        .first(tx.conn())
        .await
        .optional()?;
    row.map(MemberRow::typed).transpose()
}

/// `user`'s membership of organization `id`, locked for a change of it, or NOT_FOUND at
/// `field`.
pub async fn locked_member<O: Organization>(
    tx: &mut TenantTx<'_>,
    id: O::Id,
    user: UserId,
    field: &str,
) -> Outcome<Member<O>> {
    let row: Option<MemberRow> = members::table
        .filter(members::organization_id.eq(id.into()))
        .filter(members::kind.eq(O::KIND))
        .filter(members::user_id.eq(user))
        .select(MemberRow::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let row = row.ok_or_else(|| refusal(field, Code::NotFound, "no such member"))?;
    Ok(row.typed()?)
}

async fn keepers<O: Organization>(tx: &mut TenantTx<'_>, id: O::Id) -> QueryResult<i64> {
    members::table
        .filter(members::organization_id.eq(id.into()))
        .filter(members::kind.eq(O::KIND))
        .filter(members::role.eq(O::role_name(O::KEEPER)))
        .count()
        .get_result(tx.conn())
        .await
}

fn last_keeper<O: Organization>(field: &str) -> crate::errors::Failure {
    refusal(
        field,
        Code::LastOwner,
        format!(
            "make someone else {} first: a {} keeps one",
            O::role_name(O::KEEPER).to_ascii_lowercase(),
            O::NOUN
        ),
    )
}

/// Invites `email` to organization `id` with `role` (its keepers, or staff). A pending
/// invitation of the same address is replaced. Returns the invitation and its token, shown once.
pub async fn invite<O: Organization>(
    db: &Database,
    ctx: &RequestContext,
    id: O::Id,
    email: &str,
    role: O::Role,
) -> Outcome<(Invitation<O>, String)> {
    O::may_manage(ctx, id)?;
    let inviter = ctx.user_id().ok();
    let email = email.to_owned();
    let action = format!("{}_invitation.create", O::NOUN);
    db.recorded(ctx, &action, async move |tx| {
        O::lock(tx, id).await?;
        let email = crate::errors::email(&email)?;
        let org: Uuid = id.into();
        let already: i64 = members::table
            .filter(members::organization_id.eq(org))
            .filter(members::email.eq(&email))
            .count()
            .get_result(tx.conn())
            .await?;
        if already > 0 {
            return Err(refusal(
                "email",
                Code::AlreadyMember,
                format!(
                    "someone with this address is a member of the {} already",
                    O::NOUN
                ),
            ));
        }
        diesel::update(
            invitations::table
                .filter(invitations::organization_id.eq(org))
                .filter(invitations::email.eq(&email))
                .filter(invitations::status.eq(InvitationStatus::Pending)),
        )
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .execute(tx.conn())
        .await?;
        let generated = secret::generate(O::SECRET, tx.tenant());
        let invitation = diesel::insert_into(invitations::table)
            .values((
                invitations::tenant_id.eq(tx.tenant()),
                invitations::id.eq(InvitationId::new()),
                invitations::organization_id.eq(org),
                invitations::kind.eq(O::KIND),
                invitations::email.eq(&email),
                invitations::role.eq(O::role_name(role)),
                invitations::token_digest.eq(&generated.digest),
                invitations::invited_by.eq(inviter),
                invitations::expires_at.eq(Utc::now() + Duration::days(INVITATION_DAYS)),
            ))
            .returning(InvitationRow::as_returning())
            .get_result(tx.conn())
            .await?
            .typed::<O>()?;
        let audit = Audit::of(
            invitation.id,
            serde_json::json!({ O::NOUN: org, "email": email, "role": role }),
        );
        Ok(((invitation, generated.token), audit))
    })
    .await
}

/// Accepts the invitation `token` as the signed-in user, whose e-mail address must be the one
/// invited: they join the organization with the invited role.
pub async fn accept<O: Organization>(
    db: &Database,
    ctx: &RequestContext,
    token: &str,
) -> Outcome<Member<O>> {
    let user = ctx.user_id()?;
    let tenant: TenantId = ctx.tenant()?.id;
    let invalid = || {
        refusal(
            "token",
            Code::InvitationInvalid,
            "the invitation is unknown or used",
        )
    };
    if secret::tenant_of(O::SECRET, token) != Some(tenant) {
        return Err(invalid());
    }
    let digest = secret::digest(token);
    let action = format!("{}_invitation.accept", O::NOUN);
    db.recorded(ctx, &action, async move |tx| {
        let found: Option<(Uuid, InvitationId)> = invitations::table
            .filter(invitations::token_digest.eq(&digest))
            .filter(invitations::kind.eq(O::KIND))
            .select((invitations::organization_id, invitations::id))
            .first(tx.conn())
            .await
            .optional()?;
        let (org, invitation) = found.ok_or_else(invalid)?;
        let id = O::id(org);
        // The organization's lock first, then the invitation's: the order every change takes.
        // An organization that takes no members any more makes the invitation void; a failure
        // of the request itself stays one.
        O::lock(tx, id).await.map_err(|failure| match failure {
            cityos_core::Failure::User(_) => invalid(),
            other => other,
        })?;
        let invitation = invitations::table
            .filter(invitations::id.eq(invitation))
            .select(InvitationRow::as_select())
            .for_update()
            .first(tx.conn())
            .await?
            .typed::<O>()?;
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
        let email = identity::api::user_email(tx, user).await?.ok_or_else(|| {
            ApiError::forbidden(format!("only users of this tenant may join a {}", O::NOUN))
        })?;
        if email != invitation.email {
            return Err(refusal(
                "token",
                Code::InvitationEmailMismatch,
                "the invitation is for another e-mail address: sign in with the one invited",
            ));
        }
        if member::<O>(tx, id, user).await?.is_some() {
            return Err(refusal(
                "token",
                Code::AlreadyMember,
                format!("you are a member of this {} already", O::NOUN),
            ));
        }
        let joined = add::<O>(tx, id, user, &email, invitation.role).await?;
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
            serde_json::json!({ O::NOUN: org, "user": user, "role": joined.role }),
        );
        Ok((joined, audit))
    })
    .await
}

/// Withdraws a pending invitation (the organization's keepers, or staff).
pub async fn revoke<O: Organization>(
    db: &Database,
    ctx: &RequestContext,
    invitation: InvitationId,
) -> Outcome<Invitation<O>> {
    let not_found = || refusal("id", Code::NotFound, "no such invitation");
    let org = {
        let tenant = ctx.tenant()?.id;
        db.tenant_tx(tenant, async move |tx| {
            invitations::table
                .filter(invitations::id.eq(invitation))
                .filter(invitations::kind.eq(O::KIND))
                .select(invitations::organization_id)
                .first::<Uuid>(tx.conn())
                .await
                .optional()
                .map_err(ApiError::from)
        })
        .await?
        .ok_or_else(not_found)?
    };
    let id = O::id(org);
    O::may_manage(ctx, id)?;
    let action = format!("{}_invitation.revoke", O::NOUN);
    db.recorded(ctx, &action, async move |tx| {
        O::lock(tx, id).await?;
        let revoked: Option<InvitationRow> = diesel::update(
            invitations::table
                .filter(invitations::id.eq(invitation))
                .filter(invitations::status.eq(InvitationStatus::Pending)),
        )
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvitationRow::as_returning())
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
            revoked.typed()?,
            Audit::of(invitation, serde_json::json!({ O::NOUN: org })),
        ))
    })
    .await
}

/// Gives `user` another role in organization `id` (its keepers, or staff); the last keeper keeps
/// the role.
pub async fn change_role<O: Organization>(
    db: &Database,
    ctx: &RequestContext,
    id: O::Id,
    user: UserId,
    role: O::Role,
) -> Outcome<Member<O>> {
    O::may_manage(ctx, id)?;
    let action = format!("{}_member.role", O::NOUN);
    db.recorded(ctx, &action, async move |tx| {
        O::lock(tx, id).await?;
        let current = locked_member::<O>(tx, id, user, "userId").await?;
        if current.role == O::KEEPER && role != O::KEEPER && keepers::<O>(tx, id).await? == 1 {
            return Err(last_keeper::<O>("role"));
        }
        let changed = diesel::update(
            members::table
                .filter(members::organization_id.eq(id.into()))
                .filter(members::user_id.eq(user)),
        )
        .set(members::role.eq(O::role_name(role)))
        .returning(MemberRow::as_returning())
        .get_result(tx.conn())
        .await?
        .typed::<O>()?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "user": user, "from": current.role, "to": role }),
        );
        Ok((changed, audit))
    })
    .await
}

/// Takes `user` out of organization `id`: its keepers or staff, or the member themself (leaving
/// while acting for it). The last keeper stays.
pub async fn remove<O: Organization>(
    db: &Database,
    ctx: &RequestContext,
    id: O::Id,
    user: UserId,
) -> Outcome<Member<O>> {
    let leaving = ctx.user_id().ok() == Some(user) && O::acting_for(ctx, id);
    if !leaving {
        O::may_manage(ctx, id)?;
    }
    let action = format!("{}_member.remove", O::NOUN);
    db.recorded(ctx, &action, async move |tx| {
        O::lock(tx, id).await?;
        let current = locked_member::<O>(tx, id, user, "userId").await?;
        if current.role == O::KEEPER && keepers::<O>(tx, id).await? == 1 {
            return Err(last_keeper::<O>("userId"));
        }
        diesel::delete(
            members::table
                .filter(members::organization_id.eq(id.into()))
                .filter(members::user_id.eq(user)),
        )
        .execute(tx.conn())
        .await?;
        O::left(tx, id, user).await?;
        let audit = Audit::of(
            id,
            serde_json::json!({ "user": user, "role": current.role }),
        );
        Ok((current, audit))
    })
    .await
}

/// Sets `user`'s spending limits in organization `id` (on the locked member row), returning the
/// member as changed.
pub async fn set_limits<O: Organization>(
    tx: &mut TenantTx<'_>,
    id: O::Id,
    user: UserId,
    order_limit: Option<i64>,
    monthly_limit: Option<i64>,
) -> QueryResult<Member<O>> {
    diesel::update(
        members::table
            .filter(members::organization_id.eq(id.into()))
            .filter(members::kind.eq(O::KIND))
            .filter(members::user_id.eq(user)),
    )
    .set((
        members::order_limit.eq(order_limit),
        members::monthly_limit.eq(monthly_limit),
    ))
    .returning(MemberRow::as_returning())
    .get_result(tx.conn())
    .await?
    .typed()
}

/// The members of each of `ids`, oldest first.
pub async fn members_of<O: Organization>(
    tx: &mut TenantTx<'_>,
    ids: &[O::Id],
) -> QueryResult<HashMap<O::Id, Vec<Member<O>>>> {
    let ids: Vec<Uuid> = ids.iter().map(|&id| id.into()).collect();
    let rows: Vec<MemberRow> = members::table
        .filter(members::organization_id.eq_any(&ids))
        .filter(members::kind.eq(O::KIND))
        .select(MemberRow::as_select())
        .order((members::organization_id, members::created_at))
        .load(tx.conn())
        .await?;
    let mut by_org: HashMap<O::Id, Vec<Member<O>>> = HashMap::new();
    for row in rows {
        let m = row.typed::<O>()?;
        by_org.entry(m.organization_id).or_default().push(m);
    }
    Ok(by_org)
}

/// The pending invitations of each of `ids`, oldest first.
pub async fn pending_of<O: Organization>(
    tx: &mut TenantTx<'_>,
    ids: &[O::Id],
) -> QueryResult<HashMap<O::Id, Vec<Invitation<O>>>> {
    let ids: Vec<Uuid> = ids.iter().map(|&id| id.into()).collect();
    let rows: Vec<InvitationRow> = invitations::table
        .filter(invitations::organization_id.eq_any(&ids))
        .filter(invitations::kind.eq(O::KIND))
        .filter(invitations::status.eq(InvitationStatus::Pending))
        .select(InvitationRow::as_select())
        .order((invitations::organization_id, invitations::id))
        .load(tx.conn())
        .await?;
    let mut by_org: HashMap<O::Id, Vec<Invitation<O>>> = HashMap::new();
    for row in rows {
        let i = row.typed::<O>()?;
        by_org.entry(i.organization_id).or_default().push(i);
    }
    Ok(by_org)
}

/// The organizations of `O`'s kind that `user` belongs to, oldest membership first.
pub async fn memberships_of<O: Organization>(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> QueryResult<Vec<Member<O>>> {
    let rows: Vec<MemberRow> = members::table
        .filter(members::user_id.eq(user))
        .filter(members::kind.eq(O::KIND))
        .select(MemberRow::as_select())
        .order(members::created_at.asc())
        .load(tx.conn())
        .await?;
    rows.into_iter().map(MemberRow::typed).collect()
}
