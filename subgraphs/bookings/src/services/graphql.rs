//! Services in GraphQL: `BookingService` (an entity: `Vendor.services` and `Product.service`
//! across the supergraph), its queries and its mutations.

use crate::calendars::graphql::{BookingProvider, BookingResource};
use crate::calendars::{Calendar, CalendarKind};
use crate::errors::BookingsUserError;
use crate::federation::{Product, Vendor};
use crate::ids::{CalendarId, ProductId, ServiceId, VendorId};
use crate::scope::{BookingsLoader, CalendarsOf, PricesOf, in_tenant};
use crate::services::{self, Draft, Service, ServiceStatus, SettingsPatch};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use cityos_core::ApiError;
use cityos_core::ids::to_id;
use cityos_core::money::Money;
use cityos_server::CtxExt as _;
use std::collections::HashMap;

/// A bookable service: an appointment (one seat) or a class (several), of a vendor or of the
/// tenant itself.
pub struct BookingService(pub Service);

/// When cancelling is free, and what is kept after.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct BookingCancellationPolicy {
    /// Cancelling is free until this many hours before the start.
    pub free_until_hours_before: i32,
    /// After that, this share of the price is kept, in basis points (10,000 = all of it).
    pub fee_basis_points: i32,
}

#[Object]
impl BookingService {
    async fn id(&self) -> ServiceId {
        self.0.id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn status(&self) -> ServiceStatus {
        self.0.status
    }
    /// How long it takes, in minutes.
    async fn duration_minutes(&self) -> i32 {
        self.0.settings.duration_minutes
    }
    /// Kept free before each session, in minutes.
    async fn buffer_before_minutes(&self) -> i32 {
        self.0.settings.buffer_before_minutes
    }
    /// Kept free after each session, in minutes.
    async fn buffer_after_minutes(&self) -> i32 {
        self.0.settings.buffer_after_minutes
    }
    /// The least time between booking and the start, in minutes.
    async fn min_notice_minutes(&self) -> i32 {
        self.0.settings.min_notice_minutes
    }
    /// How many days ahead it may be booked.
    async fn max_days_ahead(&self) -> i32 {
        self.0.settings.max_days_ahead
    }
    /// Slots start this many minutes apart, from each opening.
    async fn slot_interval_minutes(&self) -> i32 {
        self.0.settings.slot_interval_minutes
    }
    /// Seats in a session: 1 for an appointment.
    async fn capacity(&self) -> i32 {
        self.0.settings.capacity
    }
    /// How long a hold keeps its seats while the customer checks out, in minutes.
    async fn hold_minutes(&self) -> i32 {
        self.0.settings.hold_minutes
    }
    /// Whether staff confirm each booking (it stays PENDING until then).
    async fn requires_confirmation(&self) -> bool {
        self.0.settings.requires_confirmation
    }
    async fn cancellation_policy(&self) -> BookingCancellationPolicy {
        BookingCancellationPolicy {
            free_until_hours_before: self.0.settings.free_cancel_hours,
            fee_basis_points: self.0.settings.cancel_fee_bps,
        }
    }
    /// Its prices, one per currency (none when its catalog product prices it).
    async fn prices(&self, ctx: &Context<'_>) -> Result<Vec<Money>> {
        let loader = ctx.loader::<BookingsLoader>()?;
        Ok(loader
            .load_one(PricesOf(self.0.id))
            .await?
            .unwrap_or_default())
    }
    /// The catalog product it is sold as, whose pricing applies.
    async fn product(&self) -> Option<Product> {
        self.0.product_id.map(|p| Product { id: to_id(p) })
    }
    /// The vendor it belongs to; null: the tenant itself.
    async fn vendor(&self) -> Option<Vendor> {
        self.0.vendor_id.map(|v| Vendor { id: to_id(v) })
    }
    /// The providers who perform it (a session takes one), active ones.
    async fn providers(&self, ctx: &Context<'_>) -> Result<Vec<BookingProvider>> {
        Ok(self
            .calendars(ctx, CalendarKind::Provider)
            .await?
            .into_iter()
            .map(BookingProvider)
            .collect())
    }
    /// The resources it takes (a session takes one), active ones.
    async fn resources(&self, ctx: &Context<'_>) -> Result<Vec<BookingResource>> {
        Ok(self
            .calendars(ctx, CalendarKind::Resource)
            .await?
            .into_iter()
            .map(BookingResource)
            .collect())
    }
}

impl BookingService {
    async fn calendars(&self, ctx: &Context<'_>, kind: CalendarKind) -> Result<Vec<Calendar>> {
        let loader = ctx.loader::<BookingsLoader>()?;
        let ids: Vec<CalendarId> = loader
            .load_one(CalendarsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, k)| *k == kind)
            .map(|(id, _)| id)
            .collect();
        let mut found = loader.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id))
            .filter(|c| c.active)
            .collect())
    }
}

impl async_graphql::dataloader::Loader<ServiceId> for BookingsLoader {
    type Value = Service;
    type Error = ApiError;

    async fn load(&self, keys: &[ServiceId]) -> Result<HashMap<ServiceId, Service>, ApiError> {
        let ids = keys.to_vec();
        let writer = self.writer;
        let found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(services::by_ids(tx, &ids).await?)
            })
            .await?;
        // Archived services only for those who may change them.
        Ok(found
            .into_iter()
            .filter(|(_, s)| {
                s.status == ServiceStatus::Active
                    || writer.is_some_and(|w| w.may_touch(s.vendor_id))
            })
            .collect())
    }
}

cityos_server::children_loader!(
    BookingsLoader,
    CalendarsOf(ServiceId) => (CalendarId, CalendarKind),
    services::calendars_of
);

cityos_server::children_loader!(BookingsLoader, PricesOf(ServiceId) => Money, services::prices_of);

/// A price in one currency.
#[derive(InputObject)]
pub struct BookingPriceInput {
    /// Minor units (halalas, cents), 0 or more.
    pub amount_minor: i64,
    /// ISO 4217, e.g. `SAR`.
    pub currency: String,
}

/// A service's rules; on a new service, fields left out take their defaults.
#[derive(InputObject)]
pub struct BookingServiceRulesInput {
    /// 5 to 1,440 minutes (required for a new service).
    pub duration_minutes: Option<i32>,
    /// 0 to 480 minutes (default 0).
    pub buffer_before_minutes: Option<i32>,
    /// 0 to 480 minutes (default 0).
    pub buffer_after_minutes: Option<i32>,
    /// 0 to 525,600 minutes (default 0).
    pub min_notice_minutes: Option<i32>,
    /// 1 to 730 days (default 60).
    pub max_days_ahead: Option<i32>,
    /// 5 to 1,440 minutes (default: the duration).
    pub slot_interval_minutes: Option<i32>,
    /// Seats per session, 1 to 1,000 (default 1).
    pub capacity: Option<i32>,
    /// Whether staff confirm each booking (default false).
    pub requires_confirmation: Option<bool>,
    /// Free cancelling until this many hours before the start, 0 to 8,760 (default 24).
    pub free_cancel_hours: Option<i32>,
    /// The share of the price kept after that, 0 to 10,000 basis points (default 0).
    pub cancel_fee_basis_points: Option<i32>,
    /// How long a hold keeps its seats while the customer checks out, 1 to 60 minutes (default
    /// 10).
    pub hold_minutes: Option<i32>,
}

impl From<BookingServiceRulesInput> for SettingsPatch {
    fn from(r: BookingServiceRulesInput) -> Self {
        Self {
            duration_minutes: r.duration_minutes,
            buffer_before_minutes: r.buffer_before_minutes,
            buffer_after_minutes: r.buffer_after_minutes,
            min_notice_minutes: r.min_notice_minutes,
            max_days_ahead: r.max_days_ahead,
            slot_interval_minutes: r.slot_interval_minutes,
            capacity: r.capacity,
            requires_confirmation: r.requires_confirmation,
            free_cancel_hours: r.free_cancel_hours,
            cancel_fee_bps: r.cancel_fee_basis_points,
            hold_minutes: r.hold_minutes,
        }
    }
}

/// A new service.
#[derive(InputObject)]
pub struct BookingServiceCreateInput {
    /// The vendor it belongs to (staff only; a vendor's team creates its own).
    pub vendor_id: Option<VendorId>,
    /// 1 to 120 characters.
    pub name: String,
    /// Up to 5,000 characters.
    pub description: Option<String>,
    pub rules: BookingServiceRulesInput,
    /// Its prices, each currency once (give these or a product).
    pub prices: Option<Vec<BookingPriceInput>>,
    /// The catalog product it is sold as (one service per product).
    pub product_id: Option<ProductId>,
    /// The providers and resources it takes, the service's vendor's, active, 1 to 100.
    pub calendar_ids: Vec<CalendarId>,
}

/// Changes to a service; fields left out stay.
#[derive(InputObject)]
pub struct BookingServiceUpdateInput {
    pub id: ServiceId,
    pub name: Option<String>,
    pub description: Option<String>,
    pub rules: Option<BookingServiceRulesInput>,
    /// Replaces its prices.
    pub prices: Option<Vec<BookingPriceInput>>,
    /// Links it to a catalog product.
    pub product_id: Option<ProductId>,
    /// Unlinks its catalog product.
    #[graphql(default)]
    pub unlink_product: bool,
    /// Replaces its providers and resources.
    pub calendar_ids: Option<Vec<CalendarId>>,
}

cityos_core::payload! {
    /// The result of a service's mutations.
    BookingServicePayload<BookingsUserError> {
        service: BookingService,
    }
}

fn prices(given: Option<Vec<BookingPriceInput>>) -> Option<Vec<(String, i64)>> {
    given.map(|p| {
        p.into_iter()
            .map(|p| (p.currency, p.amount_minor))
            .collect()
    })
}

/// The queries of services.
#[derive(Default)]
pub struct ServiceQuery;

#[Object]
impl ServiceQuery {
    /// Resolves `BookingService` references: null for one the caller may not see.
    #[graphql(entity)]
    async fn find_booking_service_by_id(
        &self,
        ctx: &Context<'_>,
        id: ServiceId,
    ) -> Result<Option<BookingService>> {
        Ok(ctx
            .loader::<BookingsLoader>()?
            .load_one(id)
            .await?
            .map(BookingService))
    }

    /// A service (an archived one only for who may change it).
    async fn booking_service(
        &self,
        ctx: &Context<'_>,
        id: ServiceId,
    ) -> Result<Option<BookingService>> {
        Ok(ctx
            .loader::<BookingsLoader>()?
            .load_one(id)
            .await?
            .map(BookingService))
    }

    /// The tenant's active services (its own and its vendors'), by name, at most `first` (1 to
    /// 100, default 50).
    async fn booking_services(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<Vec<BookingService>> {
        let limit = i64::from(first.unwrap_or(50).clamp(1, 100));
        let found = in_tenant!(ctx, |tx| services::active(tx, limit))?;
        Ok(found.into_iter().map(BookingService).collect())
    }
}

/// The mutations of services.
#[derive(Default)]
pub struct ServiceMutation;

#[Object]
impl ServiceMutation {
    /// Creates a service (staff, or a vendor's manager for its vendor).
    async fn booking_service_create(
        &self,
        ctx: &Context<'_>,
        input: BookingServiceCreateInput,
    ) -> Result<BookingServicePayload> {
        let draft = Draft {
            name: Some(input.name),
            description: input.description,
            settings: input.rules.into(),
            product_id: Some(input.product_id),
            prices: prices(input.prices),
            calendars: Some(input.calendar_ids),
        };
        let outcome = services::create(ctx.db(), ctx.request()?, input.vendor_id, draft).await;
        Ok(BookingServicePayload::of(outcome.map(BookingService))?)
    }

    /// Changes a service.
    async fn booking_service_update(
        &self,
        ctx: &Context<'_>,
        input: BookingServiceUpdateInput,
    ) -> Result<BookingServicePayload> {
        let product_id = match (input.product_id, input.unlink_product) {
            (Some(p), _) => Some(Some(p)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let draft = Draft {
            name: input.name,
            description: input.description,
            settings: input.rules.map(Into::into).unwrap_or_default(),
            product_id,
            prices: prices(input.prices),
            calendars: input.calendar_ids,
        };
        let outcome = services::update(ctx.db(), ctx.request()?, input.id, draft).await;
        Ok(BookingServicePayload::of(outcome.map(BookingService))?)
    }

    /// Archives a service: it takes no new bookings; those made stay.
    async fn booking_service_archive(
        &self,
        ctx: &Context<'_>,
        id: ServiceId,
    ) -> Result<BookingServicePayload> {
        let outcome =
            services::set_status(ctx.db(), ctx.request()?, id, ServiceStatus::Archived).await;
        Ok(BookingServicePayload::of(outcome.map(BookingService))?)
    }

    /// Makes an archived service bookable again.
    async fn booking_service_restore(
        &self,
        ctx: &Context<'_>,
        id: ServiceId,
    ) -> Result<BookingServicePayload> {
        let outcome =
            services::set_status(ctx.db(), ctx.request()?, id, ServiceStatus::Active).await;
        Ok(BookingServicePayload::of(outcome.map(BookingService))?)
    }
}

impl async_graphql::dataloader::Loader<crate::scope::ServicesOf> for BookingsLoader {
    type Value = Vec<Service>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[crate::scope::ServicesOf],
    ) -> Result<HashMap<crate::scope::ServicesOf, Vec<Service>>, ApiError> {
        let ids: Vec<VendorId> = keys.iter().map(|k| k.0).collect();
        let writer = self.writer;
        let mut found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(services::of_vendors(tx, &ids, true).await?)
            })
            .await?;
        Ok(keys
            .iter()
            .map(|k| {
                let all = found.remove(&k.0).unwrap_or_default();
                let seen = all
                    .into_iter()
                    .filter(|s| {
                        s.status == ServiceStatus::Active
                            || writer.is_some_and(|w| w.may_touch(s.vendor_id))
                    })
                    .collect();
                (*k, seen)
            })
            .collect())
    }
}

impl async_graphql::dataloader::Loader<crate::scope::ServiceOfProduct> for BookingsLoader {
    type Value = Service;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[crate::scope::ServiceOfProduct],
    ) -> Result<HashMap<crate::scope::ServiceOfProduct, Service>, ApiError> {
        let ids: Vec<ProductId> = keys.iter().map(|k| k.0).collect();
        let mut found = self
            .db
            .tenant_tx(self.tenant, async move |tx| {
                Ok::<_, ApiError>(services::by_products(tx, &ids).await?)
            })
            .await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                Some((
                    *k,
                    found
                        .remove(&k.0)
                        .filter(|s| s.status == ServiceStatus::Active)?,
                ))
            })
            .collect())
    }
}

#[async_graphql::ComplexObject]
impl Vendor {
    /// The vendor's bookable services, by name (archived ones too for its team and staff).
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<BookingService>> {
        let vendor = VendorId::parse(&self.id).map_err(|e| ApiError::bad_input(e.to_string()))?;
        let loader = ctx.loader::<BookingsLoader>()?;
        let found = loader
            .load_one(crate::scope::ServicesOf(vendor))
            .await?
            .unwrap_or_default();
        Ok(found.into_iter().map(BookingService).collect())
    }
}

#[async_graphql::ComplexObject]
impl Product {
    /// The bookable service this product is sold as, if any (active ones).
    async fn service(&self, ctx: &Context<'_>) -> Result<Option<BookingService>> {
        let product = ProductId::parse(&self.id).map_err(|e| ApiError::bad_input(e.to_string()))?;
        let loader = ctx.loader::<BookingsLoader>()?;
        Ok(loader
            .load_one(crate::scope::ServiceOfProduct(product))
            .await?
            .map(BookingService))
    }
}
