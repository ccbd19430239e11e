//! The bookings subgraph's ids, one per table with an `id`. The callers' and vendors' ids come
//! from `cityos_core`, which every subgraph shares.

pub use catalog::api::ProductId;
pub use cityos_core::ids::{TenantId, UserId, VendorId};

cityos_core::ids! {
    /// A provider or a resource: anything whose time a booking takes.
    CalendarId = "BookingCalendar",
    /// A bookable service.
    ServiceId = "BookingService",
    /// A claim on a calendar's time (blocked time, a session's).
    ClaimId = "BookingClaim",
    /// A session of a service: a start with its provider and resource, holding seats.
    SessionId = "BookingSession",
    /// A hold on seats of a session while a customer checks out.
    HoldId = "BookingHold",
    /// A booking: seats of a session a customer bought.
    BookingId = "Booking",
    /// A recurring series of holds (and bookings).
    SeriesId = "BookingSeries",
    /// A customer's place in line for a full slot.
    WaitlistEntryId = "BookingWaitlistEntry",
}
