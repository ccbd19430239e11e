//! Vendors' analytics in GraphQL: `Vendor.analytics` (resolved in `vendors/graphql.rs` for staff
//! and the vendor's own team) and `topVendors` (staff: the marketplace's best sellers).

use crate::analytics::{self, Period, Stats};
use crate::scope::{RatingOf, VendorsLoader, in_tenant};
use crate::vendors::Vendor;
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use cityos_core::ApiError;
use cityos_core::money::{Currency, Money};
use cityos_server::CtxExt as _;

/// The most days one analytics read spans.
pub const MAX_DAYS: i64 = 731;

/// Checks an analytics range: `from` not after `to`, at most [`MAX_DAYS`] days.
pub fn range(from: NaiveDate, to: NaiveDate) -> Result<(NaiveDate, NaiveDate)> {
    let days = (to - from).num_days();
    if !(0..MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_input(format!(
            "`from` must be on or before `to`, at most {MAX_DAYS} days apart"
        ))
        .into());
    }
    Ok((from, to))
}

/// A vendor's figures for one period in one currency.
#[Object(name = "VendorPeriodStats")]
impl Stats {
    /// The period's first day (UTC).
    async fn start(&self) -> NaiveDate {
        self.start
    }
    /// Vendor orders placed.
    async fn orders(&self) -> i64 {
        self.orders
    }
    /// Units in them.
    async fn units(&self) -> i64 {
        self.units
    }
    /// What customers paid for the vendor orders placed in the period whose payment was captured.
    async fn gross_sales(&self) -> Money {
        Money::new(self.gross, self.currency)
    }
    /// What the marketplace took of them.
    async fn commission(&self) -> Money {
        Money::new(self.commission, self.currency)
    }
    /// What was refunded in the period.
    async fn refunds(&self) -> Money {
        Money::new(self.refunds, self.currency)
    }
    /// Gross sales - commission - refunds + the commission refunds gave back.
    async fn net_sales(&self) -> Money {
        Money::new(self.net(), self.currency)
    }
    /// Of the vendor orders placed in the period, the share cancelled (0 to 1); null without
    /// orders.
    async fn cancellation_rate(&self) -> Option<f64> {
        share(self.cancelled, self.orders)
    }
    /// Of those shipped, the share shipped within the vendor's handling days (0 to 1); null when
    /// none shipped yet.
    async fn on_time_shipment_rate(&self) -> Option<f64> {
        share(self.shipped_on_time, self.shipped)
    }
    /// The vendor's average rating now (its products' approved reviews, 1 to 5); null without
    /// reviews.
    async fn average_rating(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let rating = ctx
            .loader::<VendorsLoader>()?
            .load_one(RatingOf(self.vendor_id))
            .await?;
        Ok(rating
            .filter(|r| r.reviews > 0)
            .map(|r| (r.stars as f64 / f64::from(r.reviews) * 100.0).round() / 100.0))
    }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// A vendor among the marketplace's best sellers.
pub struct TopVendor {
    stats: Stats,
}

#[Object]
impl TopVendor {
    /// The vendor.
    async fn vendor(&self, ctx: &Context<'_>) -> Result<Option<Vendor>> {
        Ok(ctx
            .loader::<VendorsLoader>()?
            .load_one(self.stats.vendor_id)
            .await?)
    }
    /// Its figures over the whole range.
    async fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The queries of vendors' analytics.
#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// The tenant's vendors with the most net sales in `currency` from `from` to `to` (UTC days,
    /// inclusive, at most 731), best first, at most `first` (10 by default, at most 100); staff.
    async fn top_vendors(
        &self,
        ctx: &Context<'_>,
        currency: String,
        from: NaiveDate,
        to: NaiveDate,
        first: Option<i32>,
    ) -> Result<Vec<TopVendor>> {
        ctx.request()?.require_staff()?;
        let currency = Currency::parse(&currency).map_err(|_| {
            ApiError::bad_input(format!("`{currency}` is not an ISO 4217 currency"))
        })?;
        let (from, to) = range(from, to)?;
        let limit = i64::from(first.unwrap_or(10).clamp(1, 100));
        let found = in_tenant!(ctx, |tx| analytics::top(tx, currency, from, to, limit))?;
        Ok(found.into_iter().map(|stats| TopVendor { stats }).collect())
    }
}

/// Reads `vendor`'s analytics (the caller checked who may).
pub(crate) async fn of_vendor(
    ctx: &Context<'_>,
    vendor: crate::ids::VendorId,
    period: Period,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Stats>> {
    let (from, to) = range(from, to)?;
    Ok(in_tenant!(ctx, |tx| analytics::of_vendor(
        tx, vendor, period, from, to
    ))?)
}
