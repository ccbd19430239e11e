//! The codes of the orders subgraph's `userErrors`.

cityos_core::error_codes! {
    /// Why an orders mutation was refused. Stable: clients switch on these.
    pub enum OrdersErrorCode => OrdersUserError {
        /// The cart has been checked out or merged into another; it takes no more changes.
        CartClosed,
        /// Nobody touched the cart for 30 days; it can no longer be used.
        CartExpired,
        /// The customer already has an open cart in another currency.
        CartExists,
        /// The cart has no lines.
        CartEmpty,
        /// A quantity is below 1 or above 10,000.
        InvalidQuantity,
        /// The cart would hold more than 100 lines, or a list in the input is empty or too long.
        InvalidCount,
        /// The same variant is given twice.
        DuplicateVariant,
        /// The variant does not exist or is not on sale.
        VariantUnavailable,
        /// The variant has no price in the cart's currency.
        NoPrice,
        /// Fewer units are available than asked for.
        InsufficientStock,
        /// The cart's total is not the total the shopper was shown (`expectedTotal`): a price changed.
        PriceChanged,
        /// The e-mail address is malformed.
        InvalidEmail,
        /// A guest checkout needs an e-mail address on the cart.
        EmailRequired,
        /// An address is malformed: a missing name, street or city, a country that is not two
        /// letters, a postal code or phone number of the wrong shape, or a field too long.
        InvalidAddress,
        /// Checkout needs a shipping address on the cart (a billing address when every vendor group
        /// is picked up).
        AddressRequired,
        /// The idempotency key is empty or longer than 100 characters.
        InvalidIdempotencyKey,
        /// The idempotency key was already used to check out another cart.
        IdempotencyKeyReused,
        /// The payment is already captured (or was cancelled or failed).
        AlreadyPaid,
        /// The payment method is not offered here, or cannot do this (a card is captured by its
        /// provider, not by hand).
        InvalidPaymentMethod,
        /// The order has captured money: refund it before cancelling.
        PaymentCaptured,
        /// No discount code by that name.
        DiscountNotFound,
        /// The discount code's window has not opened yet.
        DiscountNotStarted,
        /// The discount code's window has closed, or staff deactivated it.
        DiscountExpired,
        /// The discount code is for carts in another currency.
        DiscountCurrency,
        /// The discount code has no uses left.
        DiscountUsedUp,
        /// This customer (account or e-mail address) has used the code as often as it allows.
        DiscountCustomerLimit,
        /// No line of the cart is in the code's scope (its vendor or category).
        DiscountNotEligible,
        /// The lines in the code's scope cost less than its minimum.
        DiscountMinimumNotMet,
        /// The shipping method is inactive, priced in another currency, or does not deliver to the
        /// cart's country.
        ShippingMethodUnavailable,
        /// No shipping method delivers this part of the cart to its address.
        ShippingUnavailable,
        /// An amount, rate or percentage is out of range (negative, zero where it must be positive,
        /// a percent outside 1 to 100, a tax rate above 10,000 basis points).
        InvalidAmount,
        /// A country is not an ISO 3166-1 alpha-2 code.
        InvalidCountry,
        /// A discount code is not 3 to 32 letters, digits, hyphens or underscores.
        InvalidCode,
        /// A discount code by that name exists already.
        CodeTaken,
        /// A discount code would end before it starts.
        InvalidWindow,
        /// A tax rule for that country, region and category exists already.
        RuleExists,
        /// The refund is more than is left of the captured amount (or nothing was captured).
        RefundExceedsCaptured,
        /// The payment provider refused or could not be reached; nothing changed.
        PaymentProviderError,
        /// The order already has a dispute in progress.
        DisputeInProgress,
        /// The items have not been delivered yet, so they cannot be returned.
        NotDelivered,
        /// A company cart's currency is not its company's.
        CurrencyMismatch,
        /// The buyer is no longer a member of the cart's company.
        NotCompanyMember,
        /// The company cannot order now: it is not verified yet, or it is closed.
        CompanyInactive,
        /// The company is ON_HOLD (for example invoices unpaid past their grace period): it cannot
        /// order on account until staff release it.
        CompanyOnHold,
        /// The order costs more than the buyer's limit per order.
        OrderLimitExceeded,
        /// The order would take the buyer's committed spend this calendar month (placed orders and
        /// requests awaiting approval) past their monthly limit.
        MonthlyLimitExceeded,
        /// The company's unpaid balance plus the order would exceed its credit limit.
        CreditLimitExceeded,
        /// The company requires a purchase-order number on every order.
        PurchaseOrderRequired,
        /// A purchase-order number is not 1 to 64 printable characters.
        InvalidPurchaseOrder,
        /// The payment is more than is left to pay of the invoice.
        PaymentExceedsBalance,
        /// No product of the tenant has this SKU (or it is not 1 to 64 characters).
        UnknownSku,
        /// The cart waits for approval and takes no changes until the request is decided or
        /// withdrawn.
        CartPendingApproval,
        /// A level of the matching approval rule has nobody who could approve (the buyer cannot
        /// approve their own request).
        NoApprovers,
        /// The approval request or quote changed since the version given: read it again.
        StaleVersion,
        /// The approval request or quote is decided, expired or withdrawn already.
        RequestClosed,
        /// The quote's validity date has passed: ask for a revision.
        QuoteExpired,
        /// A quote's validity date is missing (to send it), not in the future, or more than a
        /// year ahead.
        InvalidValidity,
        /// The caller is not one of the approvers of the request's current level, or has decided
        /// on it already.
        NotAnApprover,
        /// A booking line's hold has ended: its slot is no longer kept.
        HoldExpired,
        /// The hold is on a cart already.
        HoldInCart,
        /// A booking is cancelled (under its policy), not returned.
        NotReturnable,
    }
}

/// The outcome of an orders mutation.
pub type Outcome<T> = cityos_core::Outcome<T, OrdersErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<OrdersErrorCode>;
/// Why an orders mutation did not happen.
pub type Failure = cityos_core::Failure<OrdersErrorCode>;

/// A refusal at `field` (a dotted input path) with `code`.
pub fn refusal(field: &str, code: OrdersErrorCode, message: impl Into<String>) -> Failure {
    UserError::new(field, code, message).into()
}

/// An optional free text (a reason, a note) of at most `MAX` characters, parsed as
/// [`Text`](cityos_core::text::Text): trimmed, empty as none; refused as INVALID_TEXT at `field`,
/// with `message` when too long.
pub fn optional_text<const MAX: usize>(
    text: Option<String>,
    field: &str,
    message: &str,
) -> Outcome<Option<String>> {
    use cityos_core::text::{Text, TextError};
    match Text::<MAX>::parse_optional(text.as_deref()) {
        Ok(text) => Ok(text.map(Text::into_inner)),
        Err(e @ TextError::Character(_)) => Err(refusal(
            field,
            OrdersErrorCode::InvalidText,
            e.message(field),
        )),
        Err(_) => Err(refusal(field, OrdersErrorCode::InvalidText, message)),
    }
}

/// Refuses a category id that is not one of the tenant's categories (asked of the catalog).
pub async fn check_category(
    tx: &mut cityos_db::TenantTx<'_>,
    id: crate::ids::CategoryId,
) -> Outcome<()> {
    if catalog::api::category_exists(tx, id).await? {
        Ok(())
    } else {
        Err(UserError::new("categoryId", OrdersErrorCode::NotFound, "no such category").into())
    }
}
