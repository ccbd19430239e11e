//! What every bookings resolver and service reads of its request, kept apart from the domains so
//! each of them can use it: the subgraph's one DataLoader, built per request for the request's
//! tenant, and who may write a vendor's services and calendars ([`Writer`]).

use crate::errors::{BookingsErrorCode as Code, Failure, Outcome, refusal};
use crate::ids::{ServiceId, TenantId, VendorId};
use cityos_core::{Acting, ApiError, RequestContext, VendorRole};
use cityos_db::{Database, TenantTx};

/// The bookings subgraph's one DataLoader: services and calendars by id, and what hangs off a
/// service by keys naming it, one statement per batch.
pub struct BookingsLoader {
    pub db: Database,
    pub tenant: TenantId,
    /// Whether the caller sees archived services and inactive calendars (staff, or the vendor's
    /// own team for its own).
    pub writer: Option<Writer>,
}

impl BookingsLoader {
    /// The loader of a request for `ctx`'s tenant; `None` for a request without one.
    pub fn of(db: &Database, ctx: &RequestContext) -> Option<Self> {
        Some(Self {
            db: db.clone(),
            tenant: ctx.tenant.as_ref()?.id,
            writer: Writer::of(ctx).ok(),
        })
    }
}

/// The providers and resources a service takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CalendarsOf(pub ServiceId);

/// A service's prices, one per currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PricesOf(pub ServiceId);

pub(crate) use cityos_server::in_tenant;

/// Who writes a vendor's services and calendars: tenant staff (anyone's, the tenant's own), or a
/// manager of a vendor's team acting for it (its own only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer(pub Acting);

impl Writer {
    /// The caller as a writer, or why it is not one (`UNAUTHENTICATED`, `FORBIDDEN`).
    pub fn of(ctx: &RequestContext) -> Result<Self, ApiError> {
        ctx.staff_or_vendor(VendorRole::Manager).map(Self)
    }

    /// Whether this writer may change something of `owner` (`None`: the tenant's own).
    pub fn may_touch(self, owner: Option<VendorId>) -> bool {
        self.0.may_touch(owner)
    }

    /// The vendor a new thing belongs to: the writer's own vendor (a team may not name another),
    /// or for staff the approved vendor they name, or none (the tenant's own).
    pub async fn vendor_for(
        self,
        tx: &mut TenantTx<'_>,
        asked: Option<VendorId>,
    ) -> Outcome<Option<VendorId>> {
        match self.0 {
            Acting::Vendor(own) if asked.is_none_or(|a| a == own) => Ok(Some(own)),
            Acting::Vendor(_) => Err(Failure::Api(ApiError::forbidden(
                "a vendor's team writes its own services and calendars only",
            ))),
            Acting::Staff => match asked {
                None => Ok(None),
                Some(vendor) => match vendors::api::vendor_status(tx, vendor).await? {
                    Some(vendors::api::VendorStatus::Approved) => Ok(Some(vendor)),
                    Some(_) => Err(refusal(
                        "vendorId",
                        Code::CalendarUnavailable,
                        "only an approved vendor takes bookings",
                    )),
                    None => Err(refusal("vendorId", Code::NotFound, "no such vendor")),
                },
            },
        }
    }
}

/// A refusal for a calendar a caller may not change: the same as for one that does not exist.
pub(crate) fn no_such_calendar(field: &str) -> Failure {
    refusal(field, Code::NotFound, "no such provider or resource")
}

/// A refusal for a service a caller may not change: the same as for one that does not exist.
pub(crate) fn no_such_service(field: &str) -> Failure {
    refusal(field, Code::NotFound, "no such service")
}

/// A vendor's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServicesOf(pub VendorId);

/// The service a catalog product is sold as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceOfProduct(pub crate::ids::ProductId);
