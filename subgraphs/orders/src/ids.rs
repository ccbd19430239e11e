//! The orders subgraph's ids, one per table with an `id`. Catalog's ids (products, variants,
//! categories) come from `catalog::api`, the callers' and vendors' from `cityos_core`.

pub use bookings::api::{BookingId, HoldId, ServiceId};
pub use catalog::api::{CategoryId, LocationId, ProductId, VariantId};
pub use cityos_core::ids::{CompanyId, EventId, TenantId, UserId, VendorId};

cityos_core::ids! {
    /// A cart.
    CartId = "Cart",
    /// One line of a cart.
    CartLineId = "CartLine",
    /// An order.
    OrderId = "Order",
    /// One line of an order.
    OrderLineId = "OrderLine",
    /// An invoice or credit note.
    InvoiceId = "Invoice",
    /// A payment provider's event, as received.
    PaymentEventId = "PaymentEvent",
    /// The part of an order one vendor fulfils.

    VendorOrderId = "VendorOrder",
    /// Units of an order line taken from one stock location.
    AllocationId = "Allocation",
    /// A payment of an order.
    PaymentId = "Payment",
    /// A refund of a payment.
    RefundId = "Refund",
    /// A shipment of a vendor order.
    FulfillmentId = "Fulfillment",
    /// A shipping method.
    ShippingMethodId = "ShippingMethod",
    /// The shipping method a cart's vendor group ships with.
    CartShipmentId = "CartShipment",
    /// A tax rule.
    TaxRuleId = "TaxRule",
    /// A discount code.
    DiscountCodeId = "DiscountCode",
    /// One use of a discount code by an order.
    RedemptionId = "DiscountRedemption",
    /// A return request.
    ReturnId = "Return",
    /// One line of a return.
    ReturnLineId = "ReturnLine",
    /// A payment dispute (chargeback).
    DisputeId = "Dispute",
    /// A message on a dispute.
    DisputeMessageId = "DisputeMessage",
    /// Money recorded against an invoice paid on account.
    InvoicePaymentId = "InvoicePayment",
    /// A company buyer's checkout waiting for approval.
    ApprovalRequestId = "ApprovalRequest",
    /// An approver's decision on an approval request.
    ApprovalDecisionId = "ApprovalDecision",
    /// A quote of negotiated prices for a company.
    QuoteId = "Quote",
    /// A message on a quote.
    QuoteMessageId = "QuoteMessage",
}
