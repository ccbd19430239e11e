//! Marketplace vendors: who sells on a tenant's marketplace, their public profile, and the
//! lifecycle that decides whether they may sell.
//!
//! A signed-in customer applies ([`apply`]) and becomes the vendor's owner; the lifecycle's moves
//! after that (review, approval, rejection, suspension, closing) are [`crate::approval`]'s. Every
//! change of status bumps the vendor's `version` and writes `vendor.<status>` to the outbox in its
//! transaction ([`publish`]): the catalog lists a vendor's products only while its last event says
//! APPROVED.
//!
//! Who sees what ([`Viewer`]): storefronts see approved vendors in lists and by handle, and any
//! vendor that was ever approved by id (an old order still names a closed vendor); the vendor's
//! own team (acting for it, `x-vendor-id`) and staff see every vendor they may manage, with its
//! private fields (address, status reason, documents, team).

pub mod graphql;

use crate::errors::{self, Outcome, UserError, VendorsErrorCode as Code, optional_text, refusal};
use crate::ids::VendorId;
use crate::membership;
use crate::membership::{Organization, OrganizationKind};
use crate::schema::vendors;
use chrono::{DateTime, Utc};
use cityos_auth::secret::SecretKind;
use cityos_core::address::Address;
use cityos_core::money::Currency;
use cityos_core::paging::{CursorKey, Page, PageRequest};
use cityos_core::text::Line;
use cityos_core::{ApiError, Failure, RequestContext, Role, VendorRole};
use cityos_db::TenantTx;
use cityos_db::audit::Audit;
use cityos_db::outbox::{Topic, lifecycle_topic};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::collections::HashMap;
use uuid::Uuid;

cityos_core::states! {
    /// Where a vendor is in its lifecycle.
    pub enum VendorStatus {
        /// Applied; staff have not started the review.
        Applied = "APPLIED",
        /// Staff are reviewing the application and its documents.
        UnderReview = "UNDER_REVIEW",
        /// Sells on the marketplace.
        Approved = "APPROVED",
        /// The application was turned down (with a reason).
        Rejected = "REJECTED",
        /// Temporarily barred from selling (with a reason); its products are hidden.
        Suspended = "SUSPENDED",
        /// Gone for good.
        Closed = "CLOSED",
    }
    transitions {
        Applied -> UnderReview | Closed,
        UnderReview -> Approved | Rejected | Closed,
        Approved -> Suspended | Closed,
        Suspended -> Approved | Closed,
        Rejected -> Closed,
    }
}

impl VendorStatus {
    /// Whether the vendor still takes changes (profile, documents, team).
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Rejected | Self::Closed)
    }
}

/// A vendor as stored.
#[derive(Queryable, QueryableByName, Selectable, Debug, Clone, PartialEq)]
#[diesel(table_name = vendors, check_for_backend(diesel::pg::Pg))]
pub struct Vendor {
    pub id: VendorId,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub logo_url: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub address: Option<serde_json::Value>,
    pub default_currency: Currency,
    pub handling_days: i32,
    pub status: VendorStatus,
    pub status_reason: Option<String>,
    pub version: i32,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Who reads a vendor, for what they may see of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Tenant staff: every vendor, every field.
    Staff,
    /// A member acting for this vendor: every field of it, and of no other.
    Team(VendorId),
    /// Everyone else: approved vendors' public profiles.
    Public,
}

impl Viewer {
    /// The viewer a request is.
    pub fn of(ctx: &RequestContext) -> Self {
        if ctx.is_staff() {
            Self::Staff
        } else if let Some(scope) = ctx.vendor {
            Self::Team(scope.id)
        } else {
            Self::Public
        }
    }

    /// Whether this viewer may see `vendor`'s private fields.
    pub fn sees_private(self, vendor: VendorId) -> bool {
        match self {
            Self::Staff => true,
            Self::Team(own) => own == vendor,
            Self::Public => false,
        }
    }

    /// Whether this viewer may see `vendor` at all when naming it by id: its team and staff
    /// always, others once it has been approved.
    pub fn sees(self, vendor: &Vendor) -> bool {
        self.sees_private(vendor.id) || vendor.approved_at.is_some()
    }
}

/// `vendor.<status>`: a vendor applied or moved on. `version` counts its transitions: a consumer
/// keeps the highest it has applied and ignores older ones, however events arrive.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct VendorChanged<'a> {
    pub vendor_id: VendorId,
    pub handle: &'a str,
    pub name: &'a str,
    pub status: VendorStatus,
    pub version: i32,
    pub reason: Option<&'a str>,
}

impl Topic for VendorChanged<'_> {
    fn topic(&self) -> std::borrow::Cow<'static, str> {
        lifecycle_topic("vendor", self.status.as_str())
    }
}

pub(crate) async fn publish(tx: &mut TenantTx<'_>, vendor: &Vendor) -> QueryResult<()> {
    let event = VendorChanged {
        vendor_id: vendor.id,
        handle: &vendor.handle,
        name: &vendor.name,
        status: vendor.status,
        version: vendor.version,
        reason: vendor.status_reason.as_deref(),
    };
    crate::OUTBOX.publish(tx, vendor.id, &event).await
}

/// A vendor's profile as a client gives it (to apply, or to change: `None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub name: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub logo_url: Option<Option<String>>,
    pub email: Option<String>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<Address>>,
    pub default_currency: Option<String>,
    pub handling_days: Option<i32>,
}

/// A profile checked field by field: what is stored.
struct Checked {
    name: Option<String>,
    handle: Option<String>,
    description: Option<String>,
    logo_url: Option<Option<String>>,
    email: Option<String>,
    phone: Option<Option<String>>,
    address: Option<Option<serde_json::Value>>,
    default_currency: Option<Currency>,
    handling_days: Option<i32>,
}

/// Checks a handle: lower-case letters and digits joined by single hyphens, 1 to 63 characters.
pub fn check_handle(handle: &str) -> Result<String, UserError> {
    if cityos_core::text::is_handle(handle, 63) {
        Ok(handle.to_owned())
    } else {
        Err(UserError::new(
            "handle",
            Code::InvalidHandle,
            "a handle is lower-case letters and digits joined by single hyphens, e.g. `oud-house`",
        ))
    }
}

/// Checks an https URL of at most 2,000 characters without spaces.
pub fn check_url(url: &str, field: &str) -> Result<String, UserError> {
    let url = url.trim();
    let ok = url.len() <= 2000
        && url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(UserError::new(
            field,
            Code::InvalidUrl,
            format!("{field} must be an https URL of at most 2,000 characters"),
        ))
    }
}

fn check(profile: Profile) -> Outcome<Checked> {
    let name = profile
        .name
        .map(|n| {
            Line::<120>::parse(&n)
                .map(Line::into_inner)
                .map_err(|e| refusal("name", Code::InvalidText, e.message("a vendor's name")))
        })
        .transpose()?;
    let handle = profile.handle.as_deref().map(check_handle).transpose()?;
    let description = match profile.description {
        Some(d) => Some(optional_text::<5000>(Some(&d), "description")?.unwrap_or_default()),
        None => None,
    };
    let logo_url = match profile.logo_url {
        Some(Some(url)) => Some(Some(check_url(&url, "logoUrl")?)),
        Some(None) => Some(None),
        None => None,
    };
    let email = profile.email.as_deref().map(errors::email).transpose()?;
    let phone = match profile.phone {
        Some(p) => Some(p.as_deref().map(errors::phone).transpose()?),
        None => None,
    };
    let address = match profile.address {
        Some(a) => Some(a.map(|a| errors::address(a, "address")).transpose()?),
        None => None,
    };
    let default_currency = profile
        .default_currency
        .map(|c| {
            Currency::parse(&c).map_err(|_| {
                refusal(
                    "defaultCurrency",
                    Code::UnknownCurrency,
                    format!("`{c}` is not an ISO 4217 currency"),
                )
            })
        })
        .transpose()?;
    if let Some(days) = profile.handling_days
        && !(0..=60).contains(&days)
    {
        return Err(refusal(
            "handlingDays",
            Code::InvalidHandlingTime,
            "the handling time is 0 to 60 days",
        ));
    }
    Ok(Checked {
        name,
        handle,
        description,
        logo_url,
        email,
        phone,
        address,
        default_currency,
        handling_days: profile.handling_days,
    })
}

fn handle_taken(handle: &str) -> impl FnOnce() -> UserError + '_ {
    move || {
        UserError::new(
            "handle",
            Code::HandleTaken,
            format!("another vendor already has the handle `{handle}`"),
        )
    }
}

/// A signed-in customer applies to sell: the vendor starts APPLIED with them as its owner.
/// Name, handle and e-mail are required; the currency defaults to the tenant's, the handling time
/// to 2 days.
#[tracing::instrument(name = "vendor.apply", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label()))]
pub async fn apply(
    db: &cityos_db::Database,
    ctx: &RequestContext,
    profile: Profile,
) -> Outcome<Vendor> {
    let user = ctx.user_id()?;
    if !ctx.has_role(Role::Customer) {
        return Err(ApiError::forbidden("apply as a vendor with a customer account").into());
    }
    let tenant_currency = ctx.tenant()?.default_currency.clone();
    db.recorded(ctx, "vendor.apply", async move |tx| {
        let Checked {
            name,
            handle,
            description,
            logo_url,
            email,
            phone,
            address,
            default_currency,
            handling_days,
        } = check(profile)?;
        let name =
            name.ok_or_else(|| refusal("name", Code::InvalidText, "give the vendor a name"))?;
        let handle = handle
            .ok_or_else(|| refusal("handle", Code::InvalidHandle, "give the vendor a handle"))?;
        let email =
            email.ok_or_else(|| refusal("email", Code::InvalidEmail, "give a contact e-mail"))?;
        let currency = match default_currency {
            Some(c) => c,
            None => Currency::parse(&tenant_currency)
                .map_err(|_| ApiError::internal("the tenant's currency is not ISO 4217"))?,
        };
        let applicant_email = identity::api::user_email(tx, user)
            .await?
            .ok_or_else(|| ApiError::forbidden("only users of this tenant may apply"))?;
        let id = VendorId::new();
        membership::register::<Team>(tx, id).await?;
        let vendor: Vendor = diesel::insert_into(vendors::table)
            .values((
                vendors::tenant_id.eq(tx.tenant()),
                vendors::id.eq(id),
                vendors::handle.eq(&handle),
                vendors::name.eq(&name),
                vendors::description.eq(description.unwrap_or_default()),
                vendors::logo_url.eq(logo_url.flatten()),
                vendors::email.eq(&email),
                vendors::phone.eq(phone.flatten()),
                vendors::address.eq(address.flatten()),
                vendors::default_currency.eq(currency),
                vendors::handling_days.eq(handling_days.unwrap_or(2)),
            ))
            .returning(Vendor::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("vendors_handle_key", e, handle_taken(&handle)))?;
        membership::add::<Team>(tx, vendor.id, user, &applicant_email, VendorRole::Owner).await?;
        publish(tx, &vendor).await?;
        let audit = Audit::of(vendor.id, serde_json::json!({ "handle": vendor.handle }));
        Ok((vendor, audit))
    })
    .await
}

/// Who may change a vendor's profile: staff, or its own managers and owners acting for it.
fn may_manage(ctx: &RequestContext, vendor: VendorId) -> Result<(), ApiError> {
    if ctx.is_staff() {
        return Ok(());
    }
    let scope = ctx.require_vendor(VendorRole::Manager)?;
    if scope.id == vendor {
        Ok(())
    } else {
        Err(ApiError::forbidden("you act for another vendor"))
    }
}

/// Reads vendor `id` for a change, locked, or NOT_FOUND.
pub(crate) async fn lock(tx: &mut TenantTx<'_>, id: VendorId) -> Outcome<Vendor> {
    vendors::table
        .filter(vendors::id.eq(id))
        .select(Vendor::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| refusal("id", Code::NotFound, "no such vendor"))
}

/// Refuses a change to a rejected or closed vendor.
pub(crate) fn require_active(vendor: &Vendor) -> Outcome<()> {
    if vendor.status.is_active() {
        Ok(())
    } else {
        Err(refusal(
            "id",
            Code::VendorInactive,
            format!("the vendor is {} and takes no changes", vendor.status),
        ))
    }
}

/// Changes a vendor's profile (staff, or its managers acting for it). `None` fields stay.
pub async fn update(
    db: &cityos_db::Database,
    ctx: &RequestContext,
    id: VendorId,
    profile: Profile,
) -> Outcome<Vendor> {
    may_manage(ctx, id)?;
    db.recorded(ctx, "vendor.update", async move |tx| {
        let current = lock(tx, id).await?;
        require_active(&current)?;
        let c = check(profile)?;
        let handle = c.handle.clone().unwrap_or_else(|| current.handle.clone());
        let vendor: Vendor = diesel::update(vendors::table.filter(vendors::id.eq(id)))
            .set((
                vendors::name.eq(c.name.unwrap_or(current.name)),
                vendors::handle.eq(&handle),
                vendors::description.eq(c.description.unwrap_or(current.description)),
                vendors::logo_url.eq(c.logo_url.unwrap_or(current.logo_url)),
                vendors::email.eq(c.email.unwrap_or(current.email)),
                vendors::phone.eq(c.phone.unwrap_or(current.phone)),
                vendors::address.eq(c.address.unwrap_or(current.address)),
                vendors::default_currency
                    .eq(c.default_currency.unwrap_or(current.default_currency)),
                vendors::handling_days.eq(c.handling_days.unwrap_or(current.handling_days)),
            ))
            .returning(Vendor::as_returning())
            .get_result(tx.conn())
            .await
            .map_err(|e| Failure::on_unique("vendors_handle_key", e, handle_taken(&handle)))?;
        let audit = Audit::of(id, serde_json::json!({ "handle": vendor.handle }));
        Ok((vendor, audit))
    })
    .await
}

/// Vendors by id, as stored (callers filter by [`Viewer`]).
pub async fn by_ids(
    tx: &mut TenantTx<'_>,
    ids: &[VendorId],
) -> QueryResult<HashMap<VendorId, Vendor>> {
    Ok(vendors::table
        .filter(vendors::id.eq_any(ids))
        .select(Vendor::as_select())
        .load::<Vendor>(tx.conn())
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect())
}

/// The vendor with `handle`, as stored.
pub async fn by_handle(tx: &mut TenantTx<'_>, handle: &str) -> QueryResult<Option<Vendor>> {
    vendors::table
        .filter(vendors::handle.eq(handle))
        .select(Vendor::as_select())
        .first(tx.conn())
        .await
        .optional()
}

/// The order of a vendor list.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VendorSort {
    /// Most recently applied first.
    #[default]
    Newest,
    /// By name, A to Z.
    Name,
    /// Best rated first (the mean of their products' approved reviews; unrated last), then
    /// newest.
    Rating,
}

/// Which vendors a list holds.
#[derive(Debug, Clone, Default)]
pub struct VendorFilter {
    /// Only these statuses (staff only; others always see approved vendors).
    pub statuses: Option<Vec<VendorStatus>>,
    /// Only vendors whose name contains this, case-insensitively.
    pub query: Option<String>,
}

/// A position in a list by name: the name, then the id as tie-break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKey {
    pub name: String,
    pub id: VendorId,
}

impl CursorKey for NameKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.id.to_bytes();
        bytes.extend_from_slice(self.name.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (id, name) = bytes.split_at_checked(16)?;
        Some(Self {
            id: VendorId::from_bytes(id)?,
            name: String::from_utf8(name.to_vec()).ok()?,
        })
    }
}

/// A position in a list by rating: the mean in thousandths of a star (0 unrated), then the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingKey {
    pub milli: i64,
    pub id: VendorId,
}

impl CursorKey for RatingKey {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.milli.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.id.to_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (milli, id) = bytes.split_at_checked(8)?;
        Some(Self {
            milli: i64::from_be_bytes(milli.try_into().ok()?),
            id: VendorId::from_bytes(id)?,
        })
    }
}

/// A vendor and its rating's mean in thousandths of a star, as the rating sort reads them.
#[derive(diesel::QueryableByName)]
struct Rated {
    #[diesel(embed)]
    vendor: Vendor,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    milli: i64,
}

/// One page of the vendors `viewer` may list: approved ones for storefronts and teams, any
/// status `filter` asks for for staff.
pub async fn list(
    tx: &mut TenantTx<'_>,
    viewer: Viewer,
    filter: VendorFilter,
    sort: VendorSort,
    first: Option<i32>,
    after: Option<&str>,
) -> Result<Page<Vendor>, ApiError> {
    let statuses = match (viewer, filter.statuses) {
        (Viewer::Staff, Some(statuses)) => statuses,
        (Viewer::Staff, None) => VendorStatus::ALL.to_vec(),
        _ => vec![VendorStatus::Approved],
    };
    let pattern = filter.query.as_deref().map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let base = || {
        let mut q = vendors::table
            .filter(vendors::status.eq_any(statuses.clone()))
            .into_boxed();
        if let Some(p) = &pattern {
            q = q.filter(vendors::name.ilike(p.clone()));
        }
        q
    };
    let mut count = vendors::table
        .filter(vendors::status.eq_any(statuses.clone()))
        .into_boxed();
    if let Some(p) = &pattern {
        count = count.filter(vendors::name.ilike(p.clone()));
    }
    let total: i64 = count.count().get_result(tx.conn()).await?;
    match sort {
        VendorSort::Newest => {
            let page = PageRequest::<VendorId>::new(first, after, None, None)?;
            let rows = cityos_db::keyset_page!(
                base().select(Vendor::as_select()),
                vendors::id,
                page,
                newest_first
            )
            .load::<Vendor>(tx.conn())
            .await?;
            Ok(page.finish(rows, |v| v.id, total))
        }
        VendorSort::Name => {
            let page = PageRequest::<NameKey>::new(first, after, None, None)?;
            let mut q = base().select(Vendor::as_select());
            if let Some(after) = &page.after {
                q = q.filter(
                    vendors::name.gt(after.name.clone()).or(vendors::name
                        .eq(after.name.clone())
                        .and(vendors::id.gt(after.id))),
                );
            }
            let rows = q
                .order((vendors::name.asc(), vendors::id.asc()))
                .limit(page.fetch_limit())
                .load::<Vendor>(tx.conn())
                .await?;
            Ok(page.finish(
                rows,
                |v| NameKey {
                    name: v.name.clone(),
                    id: v.id,
                },
                total,
            ))
        }
        VendorSort::Rating => {
            use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
            let page = PageRequest::<RatingKey>::new(first, after, None, None)?;
            let rows: Vec<Rated> = cityos_db::Prepared(
                diesel::sql_query(
                    "SELECT v.*, coalesce(r.stars * 1000 / nullif(r.reviews, 0), 0)::bigint AS milli
                     FROM vendors.vendors v
                     LEFT JOIN vendors.vendor_ratings r ON r.tenant_id = v.tenant_id AND r.vendor_id = v.id
                     WHERE v.status = ANY ($1) AND ($2::text IS NULL OR v.name ILIKE $2)
                       AND ($3::bigint IS NULL
                            OR (coalesce(r.stars * 1000 / nullif(r.reviews, 0), 0), v.id) < ($3, $4))
                     ORDER BY milli DESC, v.id DESC
                     LIMIT $5",
                )
                .bind::<Array<Text>, _>(statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>())
                .bind::<Nullable<Text>, _>(pattern.clone())
                .bind::<Nullable<BigInt>, _>(page.after.map(|k| k.milli))
                .bind::<Nullable<SqlUuid>, _>(page.after.map(|k| k.id))
                .bind::<BigInt, _>(page.fetch_limit()),
            )
            .load(tx.conn())
            .await?;
            let page = page.finish(
                rows,
                |r| RatingKey {
                    milli: r.milli,
                    id: r.vendor.id,
                },
                total,
            );
            Ok(page.map(|r| r.vendor))
        }
    }
}

/// A vendor as an organization with a team (see [`crate::teams`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Team;

impl Organization for Team {
    type Id = VendorId;
    type Role = VendorRole;
    const KIND: OrganizationKind = OrganizationKind::Vendor;
    const NOUN: &'static str = "vendor";
    const KEEPER: VendorRole = VendorRole::Owner;
    const SECRET: SecretKind = SecretKind::VendorInvitation;

    fn id(uuid: Uuid) -> VendorId {
        VendorId::from_uuid(uuid)
    }

    fn role_name(role: VendorRole) -> &'static str {
        role.as_str()
    }

    fn role(stored: &str) -> Option<VendorRole> {
        VendorRole::parse(stored).ok()
    }

    fn may_manage(ctx: &RequestContext, vendor: VendorId) -> Result<(), ApiError> {
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

    fn acting_for(ctx: &RequestContext, vendor: VendorId) -> bool {
        ctx.vendor.is_some_and(|v| v.id == vendor)
    }

    async fn lock(tx: &mut TenantTx<'_>, vendor: VendorId) -> Outcome<()> {
        require_active(&lock(tx, vendor).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_lifecycle_is_the_transition_table() {
        use VendorStatus::*;
        let allowed: Vec<(VendorStatus, VendorStatus)> = VendorStatus::ALL
            .iter()
            .flat_map(|a| VendorStatus::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.can_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Applied, UnderReview),
                (Applied, Closed),
                (UnderReview, Approved),
                (UnderReview, Rejected),
                (UnderReview, Closed),
                (Approved, Suspended),
                (Approved, Closed),
                (Rejected, Closed),
                (Suspended, Approved),
                (Suspended, Closed),
            ]
        );
        assert!(!Closed.is_active() && !Rejected.is_active() && Suspended.is_active());
    }

    #[test]
    fn handles_and_urls_are_checked() {
        assert!(check_handle("oud-house-2").is_ok());
        for bad in [
            "",
            "Oud",
            "oud--house",
            "-oud",
            "oud_house",
            &"a".repeat(64),
        ] {
            assert!(check_handle(bad).is_err(), "{bad}");
        }
        assert!(check_url("https://cdn.test/logo.png", "logoUrl").is_ok());
        for bad in [
            "http://cdn.test/a",
            "https://",
            "https:///x",
            "https://a b",
            "javascript:x",
        ] {
            assert!(check_url(bad, "logoUrl").is_err(), "{bad}");
        }
    }

    #[test]
    fn name_cursors_round_trip() {
        let key = NameKey {
            name: "Oud House ✓".into(),
            id: VendorId::new(),
        };
        assert_eq!(NameKey::from_bytes(&key.to_bytes()), Some(key));
        assert_eq!(NameKey::from_bytes(&[1, 2, 3]), None);
    }
}
