//! Who is asking, for which tenant, in which locale: built once per request by the subgraph server
//! and handed to resolvers as async-graphql request data.

use crate::ids::{ApiKeyId, CompanyId, TenantId, UserId, VendorId};
use crate::{ApiError, ErrorCode};

crate::states! {
    /// Whether a tenant may be served.
    pub enum TenantStatus {
        /// Serving requests.
        Active = "ACTIVE",
        /// Every request for this tenant is refused with `TENANT_SUSPENDED`.
        Suspended = "SUSPENDED",
    }
    transitions {
        Active -> Suspended,
        Suspended -> Active,
    }
}

/// The tenant a request is for, as resolved from its host, headers or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    /// The tenant's id; every tenant-owned row carries it.
    pub id: TenantId,
    /// The tenant's slug (what `x-tenant` names).
    pub slug: String,
    /// ACTIVE or SUSPENDED (a suspended tenant never reaches a resolver).
    pub status: TenantStatus,
    /// ISO 4217 code of the tenant's default currency.
    pub default_currency: String,
    /// BCP 47 tag of the tenant's default locale.
    pub default_locale: String,
}

/// A role an actor holds. Roles are checked by resolvers, never by the router.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Operates the whole platform: creates and suspends tenants.
    PlatformAdmin,
    /// Administers one tenant: staff, keys, settings, catalog.
    TenantAdmin,
    /// Works in one tenant's back office.
    TenantStaff,
    /// Works for one marketplace vendor of a tenant.
    VendorUser,
    /// Buys from a tenant's storefront.
    Customer,
}

impl Role {
    /// The token and database form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAdmin => "PLATFORM_ADMIN",
            Self::TenantAdmin => "TENANT_ADMIN",
            Self::TenantStaff => "TENANT_STAFF",
            Self::VendorUser => "VENDOR_USER",
            Self::Customer => "CUSTOMER",
        }
    }

    /// Parses the token and database form.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PlatformAdmin,
            Self::TenantAdmin,
            Self::TenantStaff,
            Self::VendorUser,
            Self::Customer,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// The party making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials at all.
    Anonymous,
    /// A storefront presenting a publishable API key: anonymous, read-only, one tenant.
    Storefront {
        /// The publishable key's id.
        key_id: ApiKeyId,
    },
    /// A signed-in user (customer, staff or platform admin), from a verified access token.
    User {
        /// The user's id.
        user_id: UserId,
        /// The user's roles in the token's tenant.
        roles: Vec<Role>,
    },
    /// A server presenting a secret API key: acts as tenant staff of its tenant.
    Service {
        /// The secret key's id.
        key_id: ApiKeyId,
    },
}

crate::states! {
    /// What a member of a vendor's team may do for it.
    pub enum VendorRole {
        /// Owns the vendor: everything a manager may do, and manages the team.
        Owner = "OWNER",
        /// Runs the shop: profile, products, stock, orders, payouts.
        Manager = "MANAGER",
        /// Works in the shop: products, stock, reviews and orders.
        Staff = "STAFF",
    }
}

impl VendorRole {
    /// Whether this role may do what `needed` may (an owner may do what a manager may, and a
    /// manager what staff may).
    pub fn covers(self, needed: VendorRole) -> bool {
        let rank = |r: VendorRole| match r {
            VendorRole::Owner => 2,
            VendorRole::Manager => 1,
            VendorRole::Staff => 0,
        };
        rank(self) >= rank(needed)
    }
}

/// The vendor a signed-in user acts for in this request: named by the `x-vendor-id` header and
/// checked against the vendor's team (`vendors.vendor_member`) before any resolver runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorScope {
    /// The vendor.
    pub id: VendorId,
    /// The caller's role on its team.
    pub role: VendorRole,
}

crate::states! {
    /// What a member of a B2B company may do for it.
    pub enum CompanyRole {
        /// Runs the company's account: its profile, locations, members and their limits,
        /// approval rules; approves and buys too.
        Admin = "ADMIN",
        /// Approves what the company's approval rules send them; buys too.
        Approver = "APPROVER",
        /// Buys for the company, within their spending limits.
        Buyer = "BUYER",
    }
}

impl CompanyRole {
    /// Whether this role may do what `needed` may (an admin what an approver may, and an
    /// approver what a buyer may).
    pub fn covers(self, needed: CompanyRole) -> bool {
        let rank = |r: CompanyRole| match r {
            CompanyRole::Admin => 2,
            CompanyRole::Approver => 1,
            CompanyRole::Buyer => 0,
        };
        rank(self) >= rank(needed)
    }
}

/// The company a signed-in user acts for in this request: named by the `x-company-id` header and
/// checked against the company's members (`vendors.company_member`) before any resolver runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompanyScope {
    /// The company.
    pub id: CompanyId,
    /// The caller's role in it.
    pub role: CompanyRole,
}

/// Who writes what belongs to a vendor (its products, its vendor orders): tenant staff, any
/// vendor's; or a member of a vendor's team acting for it, that vendor's only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting {
    /// Tenant staff (or a secret key, or a platform admin).
    Staff,
    /// A member of this vendor's team, acting for it.
    Vendor(VendorId),
}

impl Acting {
    /// Whether this caller may touch something sold by `seller` (`None`: the tenant itself).
    pub fn may_touch(self, seller: Option<VendorId>) -> bool {
        match self {
            Self::Staff => true,
            Self::Vendor(own) => seller == Some(own),
        }
    }
}

/// Everything a resolver needs to know about the request it serves.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The selected tenant, if any.
    pub tenant: Option<TenantInfo>,
    /// Who is calling.
    pub actor: Actor,
    /// The vendor the caller acts for, when it named one it belongs to (only a signed-in user).
    pub vendor: Option<VendorScope>,
    /// The company the caller buys for, when it named one it belongs to (only a signed-in user).
    pub company: Option<CompanyScope>,
    /// The requested locale (`accept-language`'s first tag), if any.
    pub locale: Option<String>,
    /// The request id: the caller's `x-request-id`, or one made up for this request.
    pub request_id: String,
}

impl RequestContext {
    /// An anonymous context with no tenant (used by tests and tools).
    pub fn anonymous(request_id: impl Into<String>) -> Self {
        Self {
            tenant: None,
            actor: Actor::Anonymous,
            vendor: None,
            company: None,
            locale: None,
            request_id: request_id.into(),
        }
    }

    /// The selected tenant, or `TENANT_REQUIRED`.
    pub fn tenant(&self) -> Result<&TenantInfo, ApiError> {
        self.tenant.as_ref().ok_or_else(ApiError::tenant_required)
    }

    /// The selected tenant's id for a span or a log line (`none` without one).
    pub fn tenant_label(&self) -> TenantLabel<'_> {
        TenantLabel(self.tenant.as_ref())
    }

    /// The roles the actor holds (a secret API key counts as tenant staff).
    pub fn roles(&self) -> &[Role] {
        match &self.actor {
            Actor::User { roles, .. } => roles,
            Actor::Service { .. } => &[Role::TenantStaff],
            Actor::Anonymous | Actor::Storefront { .. } => &[],
        }
    }

    /// Whether the actor holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// The signed-in user's id, or `UNAUTHENTICATED`.
    pub fn user_id(&self) -> Result<UserId, ApiError> {
        match &self.actor {
            Actor::User { user_id, .. } => Ok(*user_id),
            _ => Err(ApiError::unauthenticated("sign in first")),
        }
    }

    /// Succeeds when the actor holds one of `roles`: `UNAUTHENTICATED` for anonymous callers and
    /// storefront keys, `FORBIDDEN` for everyone else. A platform admin passes every check.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.has_role(Role::PlatformAdmin) || roles.iter().any(|r| self.has_role(*r)) {
            return Ok(());
        }
        match self.actor {
            Actor::Anonymous | Actor::Storefront { .. } => {
                Err(ApiError::unauthenticated("sign in first"))
            }
            Actor::User { .. } | Actor::Service { .. } => Err(ApiError::new(
                ErrorCode::Forbidden,
                "your role does not allow this",
            )),
        }
    }

    /// Succeeds for tenant admins, tenant staff, secret keys and platform admins.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        self.require_any(&[Role::TenantAdmin, Role::TenantStaff])
    }

    /// Whether the caller may see unpublished, private back-office data.
    pub fn is_staff(&self) -> bool {
        self.require_staff().is_ok()
    }

    /// The caller as one who writes vendors' things: staff, or a team member (with a role that
    /// covers `needed`) acting for a vendor. Anyone else is refused as a staff-only mutation
    /// refuses them (`UNAUTHENTICATED`, `FORBIDDEN`), and a member below `needed` as
    /// [`require_vendor`](Self::require_vendor) does.
    pub fn staff_or_vendor(&self, needed: VendorRole) -> Result<Acting, ApiError> {
        if self.is_staff() {
            return Ok(Acting::Staff);
        }
        if self.vendor.is_none() {
            self.require_staff()?;
        }
        Ok(Acting::Vendor(self.require_vendor(needed)?.id))
    }

    /// The company the caller acts for, when its role there covers `needed`: `UNAUTHENTICATED`
    /// without a signed-in user, `FORBIDDEN` when it names no company (send `x-company-id`) or its
    /// role is too low.
    pub fn require_company(&self, needed: CompanyRole) -> Result<CompanyScope, ApiError> {
        self.user_id()?;
        let scope = self.company.ok_or_else(|| {
            ApiError::forbidden("act for a company: send x-company-id with a company you belong to")
        })?;
        if scope.role.covers(needed) {
            Ok(scope)
        } else {
            Err(ApiError::forbidden(format!(
                "a company's {} may not do this",
                scope.role.as_str().to_ascii_lowercase()
            )))
        }
    }

    /// The vendor the caller acts for, when its role there covers `needed`: `UNAUTHENTICATED`
    /// without a signed-in user, `FORBIDDEN` when it names no vendor (send `x-vendor-id`) or its
    /// role is too low.
    pub fn require_vendor(&self, needed: VendorRole) -> Result<VendorScope, ApiError> {
        self.user_id()?;
        let scope = self.vendor.ok_or_else(|| {
            ApiError::forbidden("act for a vendor: send x-vendor-id with a vendor you belong to")
        })?;
        if scope.role.covers(needed) {
            Ok(scope)
        } else {
            Err(ApiError::forbidden(format!(
                "a vendor's {} may not do this",
                scope.role.as_str().to_ascii_lowercase()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role]) -> RequestContext {
        RequestContext {
            actor: Actor::User {
                user_id: UserId::new(),
                roles: roles.to_vec(),
            },
            ..RequestContext::anonymous("t")
        }
    }

    #[test]
    fn role_checks_distinguish_anonymous_from_forbidden() {
        let anon = RequestContext::anonymous("t");
        assert_eq!(
            anon.require_staff().unwrap_err().code,
            ErrorCode::Unauthenticated
        );
        assert_eq!(
            user(&[Role::Customer]).require_staff().unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert!(user(&[Role::TenantStaff]).require_staff().is_ok());
        assert!(
            user(&[Role::PlatformAdmin])
                .require_any(&[Role::TenantAdmin])
                .is_ok()
        );
        let service = RequestContext {
            actor: Actor::Service {
                key_id: ApiKeyId::new(),
            },
            ..anon
        };
        assert!(service.require_staff().is_ok());
        assert!(service.require_any(&[Role::TenantAdmin]).is_err());
    }

    #[test]
    fn vendors_things_are_written_by_staff_or_the_vendors_own_team() {
        let vendor = VendorId::new();
        let member = |role| RequestContext {
            vendor: Some(VendorScope { id: vendor, role }),
            ..user(&[Role::Customer])
        };
        assert_eq!(
            user(&[Role::TenantStaff]).staff_or_vendor(VendorRole::Staff),
            Ok(Acting::Staff)
        );
        assert_eq!(
            member(VendorRole::Staff).staff_or_vendor(VendorRole::Staff),
            Ok(Acting::Vendor(vendor))
        );
        let code = |ctx: RequestContext, needed| ctx.staff_or_vendor(needed).unwrap_err().code;
        assert_eq!(
            code(member(VendorRole::Staff), VendorRole::Manager),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(user(&[Role::Customer]), VendorRole::Staff),
            ErrorCode::Forbidden
        );
        assert_eq!(
            code(RequestContext::anonymous("t"), VendorRole::Staff),
            ErrorCode::Unauthenticated
        );
        assert!(Acting::Vendor(vendor).may_touch(Some(vendor)));
        assert!(!Acting::Vendor(vendor).may_touch(None));
        assert!(!Acting::Vendor(vendor).may_touch(Some(VendorId::new())));
        assert!(Acting::Staff.may_touch(None));
    }

    #[test]
    fn roles_round_trip() {
        for role in [
            Role::PlatformAdmin,
            Role::TenantAdmin,
            Role::TenantStaff,
            Role::VendorUser,
            Role::Customer,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("ROOT"), None);
    }
}

/// A request's tenant as a span field: its id, or `none` (see [`RequestContext::tenant_label`]).
#[derive(Debug, Clone, Copy)]
pub struct TenantLabel<'a>(Option<&'a TenantInfo>);

impl std::fmt::Display for TenantLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(t) => std::fmt::Display::fmt(&t.id, f),
            None => f.write_str("none"),
        }
    }
}
