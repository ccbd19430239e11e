//! What the bookings subgraph offers the other subgraphs: the only module they may use (`cargo
//! xtask test` checks it).
//!
//! - Carts and checkout, on the caller's open transaction: [`held`] reads holds as cart lines
//!   show and price them (service, time, provider, seats, the service's price in the cart's
//!   currency or its linked product); [`convert`] makes a PENDING booking of a live hold of the
//!   customer's for an order line (HOLD_EXPIRED once it no longer keeps its seats); [`paid`]
//!   records that an order was paid, confirming its bookings (unless their service waits for
//!   staff); [`order_cancelled`] cancels the bookings of an order cancelled before payment;
//!   [`release_for`] gives back the seats of a hold taken out of a cart.
//! - Events: `booking.<status>` ([`BookingChanged`]: `bookingId`, `number`, `serviceId`,
//!   `customerId`, `providerId`, `status`, `startsAt`, `seats`, `orderId`, `orderLineId`,
//!   `currency`, `amountMinor`, `feeMinor`, `refundMinor`, `cancelledBy`, `version`) on every
//!   booking and change: on `booking.cancelled`, `refundMinor` of `orderLineId` is owed back;
//!   `booking.reminder` ([`BookingReminder`]) 24 hours and 1 hour before a booking starts.

pub use crate::bookings::jobs::BookingReminder;
pub use crate::bookings::{
    Booking, BookingChanged, BookingStatus, CancelledBy, Sale, convert, order_cancelled, paid,
};
pub use crate::holds::lines::{Held, held};
pub use crate::holds::{Hold, HoldStatus, release_for};
pub use crate::ids::{BookingId, CalendarId, HoldId, ServiceId};
