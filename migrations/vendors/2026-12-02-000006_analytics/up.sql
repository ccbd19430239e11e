-- Vendors' analytics (vendors::analytics), kept up to date from orders' events rather than
-- recomputed per request: each vendor order as placed (to count cancellations and on-time
-- shipments against), and one row of counters per vendor, currency and UTC day.
CREATE TABLE vendors.placed_orders (
    tenant_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    order_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    placed_at timestamptz NOT NULL,
    cancelled_at timestamptz,
    shipped_at timestamptz,
    PRIMARY KEY (tenant_id, vendor_order_id)
);
CREATE INDEX placed_orders_order ON vendors.placed_orders (tenant_id, order_id);

-- Sales, orders, units, commission, cancellations and shipments count on the day the vendor
-- order was placed; refunds and the commission they give back on the day they happen.
CREATE TABLE vendors.vendor_days (
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    day date NOT NULL,
    orders integer NOT NULL DEFAULT 0 CHECK (orders >= 0),
    units bigint NOT NULL DEFAULT 0 CHECK (units >= 0),
    gross bigint NOT NULL DEFAULT 0 CHECK (gross >= 0),
    commission bigint NOT NULL DEFAULT 0 CHECK (commission >= 0),
    refunds bigint NOT NULL DEFAULT 0 CHECK (refunds >= 0),
    reversed bigint NOT NULL DEFAULT 0 CHECK (reversed >= 0),
    cancelled integer NOT NULL DEFAULT 0 CHECK (cancelled >= 0),
    shipped integer NOT NULL DEFAULT 0 CHECK (shipped >= 0),
    shipped_on_time integer NOT NULL DEFAULT 0 CHECK (shipped_on_time BETWEEN 0 AND shipped),
    PRIMARY KEY (tenant_id, vendor_id, currency, day)
);
CREATE INDEX vendor_days_day ON vendors.vendor_days (tenant_id, currency, day);

SELECT platform.tenant_table('vendors.placed_orders', 'vendors.vendor_days');
