//! Fulfilment: shipping a vendor order with a carrier and tracking number, and recording its
//! delivery (the order completes when every vendor order is delivered). Staff fulfil any vendor
//! order; a vendor's team member acting for it (`x-vendor-id`) fulfils that vendor's only: any
//! other is NOT_FOUND, as a missing one is (`RequestContext::staff_or_vendor`).

use super::{Fulfillment, OrderStatus, VendorOrder, VendorOrderStatus, locked, set_status};
use crate::errors::{OrdersErrorCode as Code, Outcome, UserError};
use crate::ids::{FulfillmentId, OrderId, VendorId, VendorOrderId};
use crate::schema::{fulfillments, vendor_orders};
use chrono::{DateTime, Utc};
use cityos_core::{RequestContext, VendorRole};
use cityos_db::audit::Audit;
use cityos_db::outbox::FixedTopic;
use cityos_db::{Database, TenantTx};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// Ships a vendor order (staff, or the team of its vendor): carrier and tracking number recorded,
/// the vendor order SHIPPED, and a CONFIRMED order PROCESSING.
#[tracing::instrument(name = "fulfillment.ship", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), vendor_order.id = %vendor_order))]
pub async fn ship(
    db: &Database,
    ctx: &RequestContext,
    vendor_order: VendorOrderId,
    carrier: String,
    tracking_number: String,
) -> Outcome<Fulfillment> {
    let fulfiller = ctx.staff_or_vendor(VendorRole::Staff)?;
    db.recorded(ctx, "vendor_order.ship", async move |tx| {
        let tenant = tx.tenant();
        let mine = vendor_order_of(tx, vendor_order).await?;
        if !fulfiller.may_touch(mine.vendor_id) {
            return Err(no_vendor_order().into());
        }
        let carrier = carrier.trim().to_owned();
        let tracking_number = tracking_number.trim().to_owned();
        for (field, text) in [("carrier", &carrier), ("trackingNumber", &tracking_number)] {
            if text.is_empty() || text.chars().count() > 100 {
                return Err(
                    UserError::new(field, Code::InvalidText, "give 1 to 100 characters").into(),
                );
            }
        }
        // The order's lock first (every transition's lock order), then the vendor order as it is
        // under that lock: a racing shipment has either finished or not started.
        let order_id: Option<OrderId> = vendor_orders::table
            .filter(vendor_orders::id.eq(vendor_order))
            .select(vendor_orders::order_id)
            .first(tx.conn())
            .await
            .optional()?;
        let order = locked(tx, order_id.ok_or_else(no_vendor_order)?, "vendorOrderId").await?;
        let part = vendor_order_of(tx, vendor_order).await?;
        let status = order.status;
        if !matches!(status, OrderStatus::Confirmed | OrderStatus::Processing) {
            return Err(UserError::new(
                "vendorOrderId",
                Code::InvalidTransition,
                format!("an order that is {} cannot ship", status.as_str()),
            )
            .into());
        }
        if part.status != VendorOrderStatus::Unfulfilled {
            return Err(UserError::new(
                "vendorOrderId",
                Code::InvalidTransition,
                format!("this vendor order is already {}", part.status),
            )
            .into());
        }
        diesel::update(vendor_orders::table.filter(vendor_orders::id.eq(part.id)))
            .set(vendor_orders::status.eq(VendorOrderStatus::Shipped))
            .execute(tx.conn())
            .await?;
        let shipped: Fulfillment = diesel::insert_into(fulfillments::table)
            .values((
                fulfillments::tenant_id.eq(tenant),
                fulfillments::id.eq(FulfillmentId::new()),
                fulfillments::order_id.eq(order.id),
                fulfillments::vendor_order_id.eq(part.id),
                fulfillments::carrier.eq(&carrier),
                fulfillments::tracking_number.eq(&tracking_number),
            ))
            .returning(Fulfillment::as_returning())
            .get_result(tx.conn())
            .await?;
        let event = FulfillmentCreated {
            order_id: order.id,
            vendor_order_id: part.id,
            vendor_id: part.vendor_id,
            fulfillment_id: shipped.id,
            carrier: &carrier,
            tracking_number: &tracking_number,
        };
        crate::OUTBOX.publish(tx, shipped.id, &event).await?;
        if status == OrderStatus::Confirmed {
            set_status(tx, &order, OrderStatus::Processing, None).await?;
        }
        let audit = Audit::of(vendor_order, serde_json::json!({ "carrier": shipped.carrier, "trackingNumber": shipped.tracking_number }));
        Ok((shipped, audit))
    })
    .await
}

/// Records a delivery (staff, or the team of its vendor): the vendor order DELIVERED and, once
/// every vendor order of the order is, the order COMPLETED.
#[tracing::instrument(name = "fulfillment.deliver", skip_all, fields(request_id = %ctx.request_id, tenant.id = %ctx.tenant_label(), fulfillment.id = %fulfillment))]
pub async fn deliver(
    db: &Database,
    ctx: &RequestContext,
    fulfillment: FulfillmentId,
) -> Outcome<Fulfillment> {
    let fulfiller = ctx.staff_or_vendor(VendorRole::Staff)?;
    db.recorded(ctx, "fulfillment.deliver", async move |tx| {
        // The order's lock first, then the fulfilment as it is under that lock: a racing
        // delivery has either finished or not started.
        let not_found = || UserError::new("fulfillmentId", Code::NotFound, "no such fulfilment");
        let part: Option<VendorOrderId> = fulfillments::table
            .filter(fulfillments::id.eq(fulfillment))
            .select(fulfillments::vendor_order_id)
            .first(tx.conn())
            .await
            .optional()?;
        let part = vendor_order_of(tx, part.ok_or_else(not_found)?).await?;
        if !fulfiller.may_touch(part.vendor_id) {
            return Err(not_found().into());
        }
        let order_id: Option<OrderId> = fulfillments::table
            .filter(fulfillments::id.eq(fulfillment))
            .select(fulfillments::order_id)
            .first(tx.conn())
            .await
            .optional()?;
        let order = locked(tx, order_id.ok_or_else(not_found)?, "fulfillmentId").await?;
        let found: Fulfillment = fulfillments::table
            .filter(fulfillments::id.eq(fulfillment))
            .select(Fulfillment::as_select())
            .first(tx.conn())
            .await?;
        if found.delivered_at.is_some() {
            return Err(UserError::new(
                "fulfillmentId",
                Code::InvalidTransition,
                "this fulfilment was delivered already",
            )
            .into());
        }
        let delivered: Fulfillment =
            diesel::update(fulfillments::table.filter(fulfillments::id.eq(fulfillment)))
                .set(fulfillments::delivered_at.eq(diesel::dsl::now))
                .returning(Fulfillment::as_returning())
                .get_result(tx.conn())
                .await?;
        diesel::update(vendor_orders::table.filter(vendor_orders::id.eq(found.vendor_order_id)))
            .set(vendor_orders::status.eq(VendorOrderStatus::Delivered))
            .execute(tx.conn())
            .await?;
        let event = FulfillmentDelivered {
            order_id: order.id,
            vendor_order_id: found.vendor_order_id,
            vendor_id: part.vendor_id,
            fulfillment_id: fulfillment,
            delivered_at: delivered.delivered_at.unwrap_or_else(Utc::now),
        };
        crate::OUTBOX.publish(tx, fulfillment, &event).await?;
        let open: i64 = vendor_orders::table
            .filter(vendor_orders::order_id.eq(order.id))
            .filter(vendor_orders::status.ne_all(["DELIVERED", "CANCELLED"]))
            .count()
            .get_result(tx.conn())
            .await?;
        if open == 0 && order.status == OrderStatus::Processing {
            set_status(tx, &order, OrderStatus::Completed, None).await?;
        }
        let audit = Audit::of(fulfillment, serde_json::json!({}));
        Ok((delivered, audit))
    })
    .await
}

fn no_vendor_order() -> UserError {
    UserError::new("vendorOrderId", Code::NotFound, "no such vendor order")
}

async fn vendor_order_of(tx: &mut TenantTx<'_>, id: VendorOrderId) -> Outcome<VendorOrder> {
    vendor_orders::table
        .filter(vendor_orders::id.eq(id))
        .select(VendorOrder::as_select())
        .first(tx.conn())
        .await
        .optional()?
        .ok_or_else(|| no_vendor_order().into())
}

/// `fulfillment.created`: a vendor order was shipped.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentCreated<'a> {
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: Option<VendorId>,
    pub fulfillment_id: FulfillmentId,
    pub carrier: &'a str,
    pub tracking_number: &'a str,
}

impl FixedTopic for FulfillmentCreated<'_> {
    const TOPIC: &'static str = "fulfillment.created";
}

/// `fulfillment.delivered`: a shipment arrived.
#[derive(serde::Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentDelivered {
    pub order_id: OrderId,
    pub vendor_order_id: VendorOrderId,
    pub vendor_id: Option<VendorId>,
    pub fulfillment_id: FulfillmentId,
    /// When it arrived: a marketplace vendor's hold period counts from it.
    pub delivered_at: DateTime<Utc>,
}

impl FixedTopic for FulfillmentDelivered {
    const TOPIC: &'static str = "fulfillment.delivered";
}
