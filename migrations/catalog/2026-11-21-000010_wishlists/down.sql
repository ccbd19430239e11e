DROP TABLE catalog.wishlist_items;
DROP TABLE catalog.wishlists;
