//! What every vendors resolver reads of its request, kept apart from the domains so each of them
//! can use it: the subgraph's one DataLoader, built per request for the request's tenant, and its
//! keys for what hangs off a vendor (each answered by a `Loader` impl in its domain's
//! `graphql.rs`).

use crate::ids::{CompanyId, TenantId, VendorId};
use crate::vendors::Viewer;
use cityos_core::{ApiError, RequestContext};
use cityos_db::Database;

/// The vendors subgraph's one DataLoader: vendors by id (as stored; resolvers check the
/// [`Viewer`]), and each kind of a vendor's children by a key naming it, one statement per batch.
pub struct VendorsLoader {
    pub db: Database,
    pub tenant: TenantId,
    pub viewer: Viewer,
    /// Who reads companies in this request.
    pub companies: crate::companies::Viewer,
}

impl VendorsLoader {
    /// The loader of a request for `ctx`'s tenant; `None` for a request without one.
    pub fn of(db: &Database, ctx: &RequestContext) -> Option<Self> {
        Some(Self {
            db: db.clone(),
            tenant: ctx.tenant.as_ref()?.id,
            viewer: Viewer::of(ctx),
            companies: crate::companies::Viewer::of(ctx),
        })
    }
}

/// A vendor's current documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentsOf(pub VendorId);

/// A vendor's team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MembersOf(pub VendorId);

/// A vendor's rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RatingOf(pub VendorId);

/// A vendor's balances, one per currency it has a ledger in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BalancesOf(pub VendorId);

/// A vendor's pending invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvitationsOf(pub VendorId);

/// A company's shipping locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocationsOf(pub CompanyId);

/// A company's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompanyMembersOf(pub CompanyId);

/// A company's pending invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompanyInvitationsOf(pub CompanyId);

/// A company's tax exemption certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExemptionsOf(pub CompanyId);

/// A company's active approval rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApprovalRulesOf(pub CompanyId);

/// Declares the loader's batch read of a vendor's children under `key`.
macro_rules! children_of {
    ($key:ident => $value:ty, $read:path) => {
        ::cityos_server::children_loader!(
            $crate::scope::VendorsLoader,
            $key($crate::ids::VendorId) => $value,
            $read
        );
    };
}
pub(crate) use children_of;

/// Declares the loader's batch read of a company's children under `key`.
macro_rules! company_children_of {
    ($key:ident => $value:ty, $read:path) => {
        ::cityos_server::children_loader!(
            $crate::scope::VendorsLoader,
            $key($crate::ids::CompanyId) => $value,
            $read
        );
    };
}
pub(crate) use company_children_of;

pub(crate) use cityos_server::in_tenant;

/// An error for a company a caller may not see: the same as for one that does not exist.
pub(crate) fn no_such_company() -> ApiError {
    ApiError::not_found("no such company")
}

/// An error for a vendor a caller may not see: the same as for one that does not exist.
pub(crate) fn no_such_vendor() -> ApiError {
    ApiError::not_found("no such vendor")
}
