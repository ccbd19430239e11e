//! The codes of the vendors subgraph's `userErrors`.

cityos_core::error_codes! {
    /// Why a vendors mutation was refused. Stable: clients switch on these.
    pub enum VendorsErrorCode => VendorsUserError {
        /// The handle is not lower-case letters, digits and inner hyphens (1 to 63 characters).
        InvalidHandle,
        /// Another vendor of the tenant has this handle.
        HandleTaken,
        /// An e-mail address is malformed.
        InvalidEmail,
        /// A phone number is not `+` and 7 to 15 digits.
        InvalidPhone,
        /// A URL is not an https URL of at most 2,000 characters.
        InvalidUrl,
        /// An address is malformed: a missing street or city, a country that is not two letters,
        /// or a field too long.
        InvalidAddress,
        /// The handling time is not 0 to 60 days.
        InvalidHandlingTime,
        /// A SHA-256 is not 64 hexadecimal digits.
        InvalidDigest,
        /// A document's expiry is not in the future.
        DocumentExpired,
        /// Approval needs an accepted, unexpired document of every kind the tenant requires; the
        /// message lists the kinds that are missing.
        DocumentsMissing,
        /// The document has been reviewed already, or a newer one replaced it.
        DocumentReviewed,
        /// The vendor's status does not allow this (a rejected or closed vendor takes no changes).
        VendorInactive,
        /// The user is on this vendor's team already.
        AlreadyMember,
        /// The invitation is unknown, accepted or revoked.
        InvitationInvalid,
        /// The invitation has expired; ask for a new one.
        InvitationExpired,
        /// The invitation is for another e-mail address than the signed-in user's.
        InvitationEmailMismatch,
        /// The team would be left without an owner.
        LastOwner,
        /// A list names the same document kind twice.
        DuplicateKind,
        /// An amount is negative, a rate outside 0 to 10,000 basis points, or a priority outside
        /// -1,000 to 1,000.
        InvalidAmount,
        /// A commission rule's fields do not fit its method or scope (a rate on a FIXED rule, no
        /// currency for an amount, bands that do not start at 0 or do not ascend, a window that
        /// ends before it starts).
        InvalidRule,
        /// A hold period is not 0 to 365 days.
        InvalidHoldPeriod,
        /// Nothing is available to pay out in that currency.
        NothingToPayOut,
        /// What is available is below the vendor's minimum payout.
        BelowMinimum,
        /// The balance (or its available part) is negative: refunds after an earlier payout are
        /// repaid from the next sales before anything is paid out.
        NegativeBalance,
        /// The vendor has no connected account, or Stripe does not let it receive transfers yet.
        PayoutAccountNotReady,
        /// A connected account id is malformed or unknown to Stripe.
        InvalidPayoutAccount,
        /// The vendor was paid out for this period already.
        PeriodPaidOut,
        /// The rule would tie with an active rule (same scope and target, same priority,
        /// currencies that meet, overlapping windows), leaving precedence ambiguous.
        RuleOverlap,
        /// A tax or VAT registration number is not 1 to 40 letters, digits, spaces, dots,
        /// slashes and hyphens.
        InvalidRegistration,
        /// A number of days (a grace period, an approval wait) or a date range is out of bounds.
        InvalidPeriod,
        /// The company is closed and takes no changes.
        CompanyClosed,
        /// A verified company keeps its currency.
        CurrencyLocked,
        /// The payment terms do not fit together (an early-payment discount on PREPAID, or one
        /// whose days are not shorter than the net days).
        InvalidTerms,
        /// Another of the company's locations has this name.
        NameTaken,
        /// The company keeps as many of these as it may.
        LimitReached,
        /// A company keeps a default location: make another the default instead.
        DefaultRequired,
        /// A tax exemption certificate's number is not 1 to 64 letters, digits, spaces, dots,
        /// slashes and hyphens, or its country not two capital letters.
        InvalidCertificate,
        /// The certificate was reviewed already (or revoked).
        CertificateReviewed,
        /// An approval rule does not hold together: no levels or more than 5, a level naming no
        /// approver, a member who is not the company's, an amount without a currency.
        InvalidApprovalRule,
    }
}

/// The outcome of a vendors mutation.
pub type Outcome<T> = cityos_core::Outcome<T, VendorsErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<VendorsErrorCode>;
/// Why a vendors mutation did not happen.
pub type Failure = cityos_core::Failure<VendorsErrorCode>;

/// A refusal at `field` (a dotted input path) with `code`.
pub fn refusal(field: &str, code: VendorsErrorCode, message: impl Into<String>) -> Failure {
    UserError::new(field, code, message).into()
}

/// An optional free text (a reason, a description) of at most `MAX` characters, trimmed, empty
/// as none; refused as `INVALID_TEXT` at `field`.
pub fn optional_text<const MAX: usize>(text: Option<&str>, field: &str) -> Outcome<Option<String>> {
    use cityos_core::text::Text;
    Text::<MAX>::parse_optional(text)
        .map(|t| t.map(Text::into_inner))
        .map_err(|e| refusal(field, VendorsErrorCode::InvalidText, e.message(field)))
}

/// A required free text (a reason) of 1 to `MAX` characters; refused as `INVALID_TEXT` at `field`.
pub fn reason<const MAX: usize>(text: Option<&str>, field: &str) -> Outcome<String> {
    optional_text::<MAX>(text, field)?.ok_or_else(|| {
        refusal(
            field,
            VendorsErrorCode::InvalidText,
            format!("give a {field}"),
        )
    })
}

/// An e-mail address normalized (trimmed, lower-case); refused as `INVALID_EMAIL` at `email`.
pub fn email(text: &str) -> Outcome<String> {
    cityos_core::contact::normalize_email(text).ok_or_else(|| {
        refusal(
            "email",
            VendorsErrorCode::InvalidEmail,
            "the e-mail address is malformed",
        )
    })
}

/// A phone number trimmed: an optional `+` and 6 to 15 digits, at most 32 characters; refused as
/// `INVALID_PHONE` at `phone`.
pub fn phone(text: &str) -> Outcome<String> {
    let p = text.trim().to_owned();
    if p.chars().count() > 32 || !cityos_core::address::phone_ok(&p) {
        return Err(refusal(
            "phone",
            VendorsErrorCode::InvalidPhone,
            "a phone number is an optional + and 6 to 15 digits",
        ));
    }
    Ok(p)
}

/// A postal address checked and stored as JSON; refused as `INVALID_ADDRESS` at
/// `<field>.<its field>`.
pub fn address(address: cityos_core::address::Address, field: &str) -> Outcome<serde_json::Value> {
    let a = address.checked().map_err(|f| {
        refusal(
            &format!("{field}.{f}"),
            VendorsErrorCode::InvalidAddress,
            format!("the address's {f} is missing or malformed"),
        )
    })?;
    serde_json::to_value(a).map_err(|e| cityos_core::ApiError::internal(e.to_string()).into())
}
