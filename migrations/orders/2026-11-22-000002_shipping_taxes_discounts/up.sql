-- What a cart costs beyond its lines: shipping methods chosen per vendor group, tax rules by
-- region and product category, and discount codes with their usage limits. Checkout writes the
-- resulting discount, shipping and tax into the totals orders, vendor orders and lines already
-- carry.

-- A way the tenant delivers, priced in one currency (a tenant selling in two currencies defines a
-- method per currency). FLAT_RATE always costs `rate`; FREE_ABOVE costs `rate` unless the vendor
-- group's subtotal after discounts reaches `free_above`; PICKUP is collected at `pickup_location`
-- and needs no shipping address. `countries` limits where a shipping method delivers (empty: anywhere).
CREATE TABLE orders.shipping_methods (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('FLAT_RATE', 'FREE_ABOVE', 'PICKUP')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rate bigint NOT NULL CHECK (rate >= 0),
    free_above bigint CHECK (free_above > 0),
    pickup_location text CHECK (length(pickup_location) BETWEEN 1 AND 300),
    countries text[] NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'FREE_ABOVE') = (free_above IS NOT NULL)),
    CHECK ((kind = 'PICKUP') = (pickup_location IS NOT NULL)),
    CHECK (kind <> 'PICKUP' OR countries = '{}')
);

-- The shipping method a shopper chose for one vendor's part of a cart (no row: the cheapest
-- method available), with instructions for that shipment.
CREATE TABLE orders.cart_shipments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    cart_id uuid NOT NULL,
    vendor_id uuid,
    method_id uuid NOT NULL,
    delivery_instructions text NOT NULL DEFAULT '' CHECK (length(delivery_instructions) <= 500),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT cart_shipments_vendor_key UNIQUE NULLS NOT DISTINCT (tenant_id, cart_id, vendor_id),
    FOREIGN KEY (tenant_id, cart_id) REFERENCES orders.carts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, method_id) REFERENCES orders.shipping_methods (tenant_id, id)
);

-- A tax rate for a country, optionally narrowed to a region and to a product category (which
-- covers its subcategories). `rate` is in basis points: 1500 is 15%. An inclusive rate is part of
-- the price; an exclusive one is added to it.
CREATE TABLE orders.tax_rules (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    country_code text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    region text CHECK (length(region) BETWEEN 1 AND 100),
    category_id uuid,
    rate integer NOT NULL CHECK (rate BETWEEN 0 AND 10000),
    inclusive boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tax_rules_scope_key UNIQUE NULLS NOT DISTINCT (tenant_id, country_code, region, category_id)
);

-- A discount code: a percentage or a fixed amount off the lines in its scope (all, one vendor's,
-- or one category's and its subcategories'), within a window, above a minimum, with total and
-- per-customer limits. `times_used` counts redemptions by orders that stand.
CREATE TABLE orders.discount_codes (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    code text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{3,32}$'),
    kind text NOT NULL CHECK (kind IN ('PERCENTAGE', 'FIXED_AMOUNT')),
    percent integer CHECK (percent BETWEEN 1 AND 100),
    amount bigint CHECK (amount > 0),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    min_subtotal bigint CHECK (min_subtotal > 0),
    starts_at timestamptz NOT NULL DEFAULT now(),
    ends_at timestamptz,
    usage_limit integer CHECK (usage_limit > 0),
    per_customer_limit integer CHECK (per_customer_limit > 0),
    times_used integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    vendor_id uuid,
    category_id uuid,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT discount_codes_code_key UNIQUE (tenant_id, code),
    CHECK ((kind = 'PERCENTAGE') = (percent IS NOT NULL)),
    CHECK ((kind = 'FIXED_AMOUNT') = (amount IS NOT NULL)),
    CHECK (currency IS NOT NULL OR (amount IS NULL AND min_subtotal IS NULL)),
    CONSTRAINT discount_codes_window CHECK (ends_at IS NULL OR ends_at > starts_at),
    CONSTRAINT discount_codes_usage CHECK (usage_limit IS NULL OR times_used <= usage_limit)
);

-- One use of a code by an order; removed when the order is cancelled.
CREATE TABLE orders.discount_redemptions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    discount_id uuid NOT NULL,
    order_id uuid NOT NULL,
    customer_id uuid,
    email text,
    amount bigint NOT NULL CHECK (amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT discount_redemptions_order_key UNIQUE (tenant_id, order_id),
    FOREIGN KEY (tenant_id, discount_id) REFERENCES orders.discount_codes (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
CREATE INDEX discount_redemptions_customer ON orders.discount_redemptions (tenant_id, discount_id, customer_id);
CREATE INDEX discount_redemptions_email ON orders.discount_redemptions (tenant_id, discount_id, email);

ALTER TABLE orders.carts ADD COLUMN discount_code text CHECK (discount_code ~ '^[A-Z0-9_-]{3,32}$');
ALTER TABLE orders.orders ADD COLUMN discount_code text;
ALTER TABLE orders.vendor_orders
    ADD COLUMN shipping_method_id uuid,
    ADD COLUMN shipping_method_name text,
    ADD COLUMN shipping_kind text CHECK (shipping_kind IN ('FLAT_RATE', 'FREE_ABOVE', 'PICKUP')),
    ADD COLUMN pickup_location text,
    ADD COLUMN delivery_instructions text NOT NULL DEFAULT '';
ALTER TABLE orders.order_lines
    ADD COLUMN tax_rate integer NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 10000),
    ADD COLUMN tax_inclusive boolean NOT NULL DEFAULT false;

SELECT platform.tenant_table('orders.shipping_methods', 'orders.cart_shipments', 'orders.tax_rules', 'orders.discount_codes', 'orders.discount_redemptions');
