-- catalog: customer groups, price lists and volume tiers.

-- Exclusion constraints over (uuid, text, range) need btree_gist (a trusted extension).
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- Named sets of customers (Wholesale, VIP) that price lists and tiers can be limited to.
CREATE TABLE catalog.customer_groups (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT customer_groups_name_key UNIQUE (tenant_id, name)
);

-- Membership. user_id names an identity user of the same tenant (another schema: no foreign key).
CREATE TABLE catalog.customer_group_members (
    tenant_id uuid NOT NULL,
    group_id uuid NOT NULL,
    user_id uuid NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES catalog.customer_groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_group_members_user ON catalog.customer_group_members (tenant_id, user_id);

-- A set of variant prices that replaces (OVERRIDE) or undercuts (SALE) the base prices, within an
-- optional date window and optionally for one customer group only.
CREATE TABLE catalog.price_lists (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('SALE', 'OVERRIDE')),
    customer_group_id uuid,
    starts_at timestamptz,
    ends_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT price_lists_name_key UNIQUE (tenant_id, name),
    CONSTRAINT price_lists_window CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at),
    FOREIGN KEY (tenant_id, customer_group_id) REFERENCES catalog.customer_groups (tenant_id, id)
);

CREATE TABLE catalog.price_list_prices (
    tenant_id uuid NOT NULL,
    price_list_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (tenant_id, price_list_id, variant_id, currency),
    FOREIGN KEY (tenant_id, price_list_id) REFERENCES catalog.price_lists (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX price_list_prices_variant ON catalog.price_list_prices (tenant_id, variant_id);

-- Quantity breaks: from min_quantity to max_quantity (inclusive; null = no upper bound) units of a
-- variant (or of any variant of the product when variant_id is null) cost unit_amount each, or
-- percent_off_bp basis points less than the base price. Optionally for one customer group.
CREATE TABLE catalog.volume_tiers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    product_id uuid NOT NULL,
    variant_id uuid,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    customer_group_id uuid,
    min_quantity integer NOT NULL CHECK (min_quantity >= 1),
    max_quantity integer CHECK (max_quantity >= min_quantity),
    unit_amount bigint CHECK (unit_amount >= 0),
    percent_off_bp integer CHECK (percent_off_bp BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT volume_tiers_one_price CHECK ((unit_amount IS NULL) <> (percent_off_bp IS NULL)),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_group_id) REFERENCES catalog.customer_groups (tenant_id, id) ON DELETE CASCADE,
    -- Two tiers of the same scope, currency and group never cover the same quantity.
    CONSTRAINT volume_tiers_no_overlap EXCLUDE USING gist (
        tenant_id WITH =,
        product_id WITH =,
        (coalesce(variant_id, '00000000-0000-0000-0000-000000000000'::uuid)) WITH =,
        currency WITH =,
        (coalesce(customer_group_id, '00000000-0000-0000-0000-000000000000'::uuid)) WITH =,
        int4range(min_quantity, max_quantity, '[]') WITH &&
    )
);

SELECT platform.tenant_table('catalog.customer_groups', 'catalog.customer_group_members', 'catalog.price_lists', 'catalog.price_list_prices', 'catalog.volume_tiers');
