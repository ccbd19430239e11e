//! The codes of the catalog's `userErrors`.

cityos_core::error_codes! {
    /// Why a catalog mutation was refused. Stable: clients switch on these.
    pub enum CatalogErrorCode => CatalogUserError {
        /// The title is empty or longer than 255 characters.
        InvalidTitle,
        /// The handle is not lower-case letters and digits joined by single hyphens (at most 255).
        InvalidHandle,
        /// Another product, category or collection of this tenant already has this handle.
        HandleTaken,
        /// The description is longer than 100,000 characters.
        InvalidDescription,
        /// The SKU is not 1-64 letters, digits, dots, dashes or underscores (starting alphanumeric).
        InvalidSku,
        /// Another variant of this tenant already has this SKU.
        SkuTaken,
        /// The option's name or values are empty, too long or repeated.
        InvalidOption,
        /// The product already has an option with this name.
        OptionTaken,
        /// The variant's option values do not name each of the product's options once, with an allowed value.
        InvalidOptionValues,
        /// Another variant of the product has the same option values.
        VariantExists,
        /// The product already has the most variants allowed (100).
        TooManyVariants,
        /// A price is negative.
        NegativePrice,
        /// The same currency is given twice.
        DuplicateCurrency,
        /// A barcode, weight or dimension is malformed or negative.
        InvalidAttribute,
        /// A name is empty or longer than 100 characters.
        InvalidName,
        /// Another object of this kind already has this name.
        NameTaken,
        /// A date window ends before it starts.
        InvalidWindow,
        /// A volume tier's quantities or price are malformed (minimum below 1, maximum below minimum,
        /// both or neither of unit price and percentage, percentage outside 0-100).
        InvalidTier,
        /// The volume tier covers quantities another tier of the same scope, currency and group covers.
        OverlappingTier,
        /// A list in the input is empty or longer than allowed.
        InvalidCount,
        /// An id does not name a customer of this tenant (it is unknown, another tenant's, or a staff
        /// account).
        UnknownCustomer,
        /// The same variant is given twice.
        DuplicateVariant,
        /// Fewer units are available than asked for.
        InsufficientStock,
        // Published, so kept: nothing returns it until stock holds (cart holds, bookings) exist.
        /// A reservation expired before it was committed.
        ReservationExpired,
        /// A quantity is out of range, or an adjustment is malformed.
        InvalidQuantity,
        /// A transfer names the same location twice.
        InvalidTransfer,
        /// The product type is longer than 100 characters.
        InvalidProductType,
        /// A tag is empty or longer than 50 characters, or there are more than 50.
        InvalidTags,
        /// Metadata is not a JSON object, or is larger than 16 KiB.
        InvalidMetadata,
        /// A media item's URL is not an http(s) URL of at most 2,048 characters, its alt text is longer
        /// than 500 characters, or the product has the most media allowed (50).
        InvalidMedia,
        /// The parent does not exist, is the category itself or one of its descendants, or the tree
        /// would be deeper than 10 levels.
        InvalidParent,
        /// The category still has subcategories.
        CategoryNotEmpty,
        /// The locale is not a language tag like `en` or `en-GB`, or is the tenant's default locale
        /// (whose text is the product's own title and description).
        InvalidLocale,
        /// A rating is not 1 to 5, or a review's title, body or response is too long (or a response
        /// empty).
        InvalidReview,
        /// The customer has reviewed this product already.
        AlreadyReviewed,
        /// Customers cannot vote on their own review.
        OwnReview,
    }
}

/// The outcome of a catalog mutation.
pub type Outcome<T> = cityos_core::Outcome<T, CatalogErrorCode>;
/// A refusal.
pub type UserError = cityos_core::UserError<CatalogErrorCode>;
