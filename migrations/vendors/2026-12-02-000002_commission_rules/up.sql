-- Commission rules: what the marketplace takes of a vendor's sales (vendors::commissions). Rows
-- are never changed in what they compute: staff deactivate a rule and create another, so a rule
-- id always names what it took.
CREATE TABLE vendors.commission_rules (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    method text NOT NULL CHECK (method IN ('PERCENTAGE', 'FIXED', 'TIERED')),
    scope text NOT NULL CHECK (scope IN ('TENANT', 'VENDOR', 'CATEGORY', 'PRODUCT')),
    target_id uuid,
    rate_bp integer CHECK (rate_bp BETWEEN 0 AND 10000),
    per_unit bigint CHECK (per_unit >= 0),
    tier_basis text CHECK (tier_basis IN ('VENDOR_MONTH_SALES', 'ORDER_AMOUNT')),
    tiers jsonb,
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    min_order bigint CHECK (min_order >= 0),
    max_per_line bigint CHECK (max_per_line >= 0),
    priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    valid_from timestamptz NOT NULL,
    valid_until timestamptz,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((scope = 'TENANT') = (target_id IS NULL)),
    CHECK (valid_until IS NULL OR valid_until > valid_from),
    CHECK ((method = 'PERCENTAGE') = (rate_bp IS NOT NULL)),
    CHECK ((method = 'FIXED') = (per_unit IS NOT NULL)),
    CHECK ((method = 'TIERED') = (tiers IS NOT NULL AND tier_basis IS NOT NULL)),
    CHECK (currency IS NOT NULL OR (method = 'PERCENTAGE' AND min_order IS NULL AND max_per_line IS NULL))
);
CREATE INDEX commission_rules_active ON vendors.commission_rules (tenant_id, scope, target_id)
    WHERE active;
SELECT platform.tenant_table('vendors.commission_rules');

-- Whether a line's tax and its vendor order's shipping are commissionable (a tenant's choice);
-- neither is by default.
ALTER TABLE vendors.settings
    ADD COLUMN tax_commissionable boolean NOT NULL DEFAULT false,
    ADD COLUMN shipping_commissionable boolean NOT NULL DEFAULT false;
