//! The codes of the bookings subgraph's `userErrors`.

cityos_core::error_codes! {
    /// Why a bookings mutation was refused. Stable: clients switch on these.
    pub enum BookingsErrorCode => BookingsUserError {
        /// A time zone is not a name of the IANA tz database (`Europe/Berlin`, `Asia/Riyadh`).
        InvalidTimeZone,
        /// Opening hours are malformed: a time that is not `HH:MM`, a weekday outside 1 to 7,
        /// spans of one day that overlap, or more than 6 spans a day.
        InvalidHours,
        /// A duration, buffer, notice, horizon, interval, capacity, seat count or policy is out
        /// of its bounds.
        InvalidRule,
        /// An amount is negative or too large, or a currency is named twice.
        InvalidAmount,
        /// A period ends before it starts, or is longer than allowed.
        InvalidPeriod,
        /// The time asked for overlaps time already claimed on that calendar (a booking with its
        /// buffers, a hold, blocked time).
        SlotTaken,
        /// The provider or resource is inactive, or does not belong to the service.
        CalendarUnavailable,
        /// The start is sooner than the service's minimum notice allows.
        TooSoon,
        /// The start is further ahead than the service may be booked.
        TooFarAhead,
        /// The start is not a slot of the service: outside its providers' or resources' hours,
        /// off its slot grid, or on a holiday.
        OutsideHours,
        /// Every seat of the session is taken (by bookings and live holds), or fewer are left
        /// than asked for.
        CapacityFull,
        /// The hold has expired, been released or been used; hold the slot again.
        HoldExpired,
        /// Cancelling now keeps a fee under the service's policy: the message says how much; send
        /// it as `acceptedFeeMinor` to cancel.
        PolicyFee,
        /// A customer changes a booking only until its free cancellation window ends; staff and
        /// the provider may still.
        TooLate,
        /// The slot has room for the party: hold it instead of joining its waitlist.
        SlotAvailable,
        /// The customer is in line for this slot already.
        AlreadyWaiting,
        /// The customer keeps as many live holds as one may (`holds::MAX_LIVE`): check some out or
        /// release them first.
        TooManyHolds,
        /// Another service is linked to this catalog product already.
        ProductTaken,
        /// The service is archived and takes no bookings or changes.
        ServiceArchived,
        /// The booking's order is not paid: cancelling the order (`orderCancel`) cancels its
        /// bookings and what is owed for them.
        OrderUnpaid,
    }
}

/// The outcome of a bookings mutation.
pub type Outcome<T> = cityos_core::Outcome<T, BookingsErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<BookingsErrorCode>;
/// Why a bookings mutation did not happen.
pub type Failure = cityos_core::Failure<BookingsErrorCode>;

/// A refusal at `field` (a dotted input path) with `code`.
pub fn refusal(field: &str, code: BookingsErrorCode, message: impl Into<String>) -> Failure {
    UserError::new(field, code, message).into()
}

/// A name as services and calendars take it: one line of 1 to 120 characters (INVALID_TEXT at
/// `field` otherwise).
pub fn name(text: &str, field: &str) -> Outcome<String> {
    cityos_core::text::Line::<120>::parse(text)
        .map(cityos_core::text::Line::into_inner)
        .map_err(|e| e.refusal(field))
}

/// The exclusion constraint that refuses two claims of one calendar that would overlap (refused
/// with `Failure::on_constraint` as SLOT_TAKEN).
pub const NO_OVERLAP: &str = "claims_no_overlap";
