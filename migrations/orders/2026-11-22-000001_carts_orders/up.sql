-- orders, first slice: carts, checkout, orders split by vendor, stock allocations, payments,
-- fulfilments, gap-free numbering, and the orders outbox.
--
-- Money is bigint minor units with a currency code; every table leads with tenant_id and carries
-- the tenant-isolation policy (platform.tenant_table) at the end of this file.

SELECT platform.app_schema('orders');

-- A cart. Guests reach theirs by its id alone, so cart ids are random (UUID v4), not time-ordered.
-- A customer has at most one OPEN cart. A cart expires when nobody has touched it for 30 days.
CREATE TABLE orders.carts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    customer_id uuid,
    email text CHECK (length(email) <= 254),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'COMPLETED', 'MERGED')),
    shipping_address jsonb,
    billing_address jsonb,
    delivery_instructions text NOT NULL DEFAULT '' CHECK (length(delivery_instructions) <= 500),
    order_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '30 days',
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX carts_open_customer ON orders.carts (tenant_id, customer_id)
    WHERE status = 'OPEN' AND customer_id IS NOT NULL;

CREATE TABLE orders.cart_lines (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    cart_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    gift_wrap boolean NOT NULL DEFAULT false,
    gift_message text CHECK (length(gift_message) <= 300),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT cart_lines_variant_key UNIQUE (tenant_id, cart_id, variant_id),
    FOREIGN KEY (tenant_id, cart_id) REFERENCES orders.carts (tenant_id, id) ON DELETE CASCADE
);

-- Per-tenant gap-free numbers (orders; later invoices and credit notes): the row is updated in the
-- transaction that uses the number, so a rolled-back number is never skipped.
CREATE TABLE orders.counters (
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    last_value bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, name)
);

-- An order: the cart as bought. Its totals are the sums of its vendor orders'.
CREATE TABLE orders.orders (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    number bigint NOT NULL,
    cart_id uuid NOT NULL,
    idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    customer_id uuid,
    email text,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'CONFIRMED', 'PROCESSING', 'COMPLETED', 'CANCELLED')),
    payment_status text NOT NULL DEFAULT 'UNPAID'
        CHECK (payment_status IN ('UNPAID', 'AUTHORIZED', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'VOIDED')),
    subtotal bigint NOT NULL CHECK (subtotal >= 0),
    discount_total bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0),
    shipping_total bigint NOT NULL DEFAULT 0 CHECK (shipping_total >= 0),
    tax_total bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    total bigint NOT NULL CHECK (total >= 0),
    shipping_address jsonb,
    billing_address jsonb,
    delivery_instructions text NOT NULL DEFAULT '',
    cancel_reason text,
    placed_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT orders_number_key UNIQUE (tenant_id, number),
    CONSTRAINT orders_cart_key UNIQUE (tenant_id, cart_id),
    CONSTRAINT orders_idempotency_key UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX orders_customer ON orders.orders (tenant_id, customer_id, id) WHERE customer_id IS NOT NULL;

-- One vendor's part of an order (the tenant's own products have no vendor): its own totals and
-- fulfilment status.
CREATE TABLE orders.vendor_orders (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    vendor_id uuid,
    status text NOT NULL DEFAULT 'UNFULFILLED'
        CHECK (status IN ('UNFULFILLED', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    subtotal bigint NOT NULL CHECK (subtotal >= 0),
    discount_total bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0),
    shipping_total bigint NOT NULL DEFAULT 0 CHECK (shipping_total >= 0),
    tax_total bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    total bigint NOT NULL CHECK (total >= 0),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT vendor_orders_vendor_key UNIQUE NULLS NOT DISTINCT (tenant_id, order_id, vendor_id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
CREATE INDEX vendor_orders_vendor ON orders.vendor_orders (tenant_id, vendor_id, id);

-- A line as bought: a snapshot of title, SKU and price at purchase.
CREATE TABLE orders.order_lines (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    position integer NOT NULL,
    variant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    product_title text NOT NULL,
    variant_title text NOT NULL,
    sku text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price bigint NOT NULL CHECK (unit_price >= 0),
    compare_at_unit_price bigint,
    price_rule text NOT NULL,
    subtotal bigint NOT NULL CHECK (subtotal >= 0),
    discount_total bigint NOT NULL DEFAULT 0 CHECK (discount_total >= 0),
    tax_total bigint NOT NULL DEFAULT 0 CHECK (tax_total >= 0),
    total bigint NOT NULL CHECK (total >= 0),
    gift_wrap boolean NOT NULL DEFAULT false,
    gift_message text,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_order_id) REFERENCES orders.vendor_orders (tenant_id, id)
);
CREATE INDEX order_lines_order ON orders.order_lines (tenant_id, order_id, position);

-- Where a line's units came from (the catalog's committed reservations), so a cancellation or a
-- return puts them back where they were taken.
CREATE TABLE orders.allocations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    order_line_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    location_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    restocked integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    CHECK (restocked BETWEEN 0 AND quantity),
    FOREIGN KEY (tenant_id, order_line_id) REFERENCES orders.order_lines (tenant_id, id)
);
CREATE INDEX allocations_order ON orders.allocations (tenant_id, order_id);

-- A payment of an order through a provider. Captured never exceeds the amount, refunded never
-- exceeds captured.
CREATE TABLE orders.payments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    provider text NOT NULL CHECK (provider IN ('MANUAL', 'STRIPE')),
    method text NOT NULL CHECK (method IN ('CASH_ON_DELIVERY', 'BANK_TRANSFER', 'CARD')),
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'AUTHORIZED', 'CAPTURED', 'CANCELLED', 'FAILED')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount bigint NOT NULL CHECK (amount >= 0),
    captured_amount bigint NOT NULL DEFAULT 0,
    refunded_amount bigint NOT NULL DEFAULT 0,
    provider_reference text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK (captured_amount BETWEEN 0 AND amount),
    CHECK (refunded_amount BETWEEN 0 AND captured_amount),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
CREATE INDEX payments_order ON orders.payments (tenant_id, order_id);

-- A shipment of one vendor order, with its carrier and tracking number.
CREATE TABLE orders.fulfillments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    carrier text NOT NULL CHECK (length(carrier) BETWEEN 1 AND 100),
    tracking_number text NOT NULL CHECK (length(tracking_number) BETWEEN 1 AND 100),
    shipped_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT fulfillments_vendor_order_key UNIQUE (tenant_id, vendor_order_id),
    FOREIGN KEY (tenant_id, vendor_order_id) REFERENCES orders.vendor_orders (tenant_id, id)
);

-- Events for other domains, written in the transaction of the change (see cityos_db::outbox).
SELECT platform.create_outbox('orders');

SELECT platform.tenant_table('orders.carts', 'orders.cart_lines', 'orders.counters', 'orders.orders', 'orders.vendor_orders', 'orders.order_lines', 'orders.allocations', 'orders.payments', 'orders.fulfillments');
