-- Wishlists: several named lists per customer, private or shared by an unguessable link token.

CREATE TABLE catalog.wishlists (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    customer_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Set while the list is shared; a new share makes a new token, unsharing clears it.
    share_token text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT wishlists_name_key UNIQUE (tenant_id, customer_id, name),
    CONSTRAINT wishlists_share_token_key UNIQUE (share_token)
);
CREATE INDEX wishlists_customer ON catalog.wishlists (tenant_id, customer_id, id);

CREATE TABLE catalog.wishlist_items (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    wishlist_id uuid NOT NULL,
    product_id uuid NOT NULL,
    variant_id uuid,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, wishlist_id) REFERENCES catalog.wishlists (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id) ON DELETE CASCADE
);
-- A product (or one variant of it) is on a list once.
CREATE UNIQUE INDEX wishlist_items_once ON catalog.wishlist_items
    (tenant_id, wishlist_id, product_id, coalesce(variant_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX wishlist_items_list ON catalog.wishlist_items (tenant_id, wishlist_id, id);
CREATE INDEX wishlist_items_product ON catalog.wishlist_items (tenant_id, product_id);

SELECT platform.tenant_table('catalog.wishlists', 'catalog.wishlist_items');
