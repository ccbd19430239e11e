//! The catalog's ids, one per table with an `id` (rows keyed by others' ids, such as a
//! collection's products or a variant's prices, have none). The ids other subgraphs refer to are
//! re-exported by [`crate::api`].

pub use cityos_core::ids::{EventId, TenantId, UserId, VendorId};

cityos_core::ids! {
    /// A product.
    ProductId = "Product",
    /// A product's image or video.
    MediaId = "ProductMedia",
    /// One of a product's options (size, colour).
    OptionId = "ProductOption",
    /// A product variant: what a cart line buys.
    VariantId = "ProductVariant",
    /// A customer group (wholesale, VIP).
    CustomerGroupId = "CustomerGroup",
    /// A price list.
    PriceListId = "PriceList",
    /// A volume tier of a product's prices.
    VolumeTierId = "VolumeTier",
    /// A stock location (warehouse, shop).
    LocationId = "StockLocation",
    /// A hold on units for an owner.
    ReservationId = "StockReservation",
    /// One line of the stock movement log.
    MovementId = "StockMovement",
    /// A transfer of stock between locations.
    TransferId = "StockTransfer",
    /// A category of the taxonomy.
    CategoryId = "Category",
    /// A collection.
    CollectionId = "Collection",
    /// A review of a product.
    ReviewId = "Review",
    /// A customer's wishlist.
    WishlistId = "Wishlist",
    /// One item of a wishlist.
    WishlistItemId = "WishlistItem",
}
