-- catalog: options, variants and their prices per currency.

-- A product's options (Size, Colour) and their allowed values, in display order.
CREATE TABLE catalog.product_options (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    product_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position integer NOT NULL CHECK (position >= 0),
    option_values text[] NOT NULL CHECK (cardinality(option_values) BETWEEN 1 AND 100),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT product_options_name_key UNIQUE (tenant_id, product_id, name)
);

-- What is actually sold and stocked: one combination of option values.
CREATE TABLE catalog.product_variants (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    product_id uuid NOT NULL,
    sku text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    barcode text CHECK (barcode ~ '^[0-9A-Za-z-]{1,64}$'),
    -- option name -> value, e.g. {"Size": "50ml"}
    option_values jsonb NOT NULL DEFAULT '{}',
    weight_grams integer CHECK (weight_grams >= 0),
    length_mm integer CHECK (length_mm >= 0),
    width_mm integer CHECK (width_mm >= 0),
    height_mm integer CHECK (height_mm >= 0),
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT product_variants_sku_key UNIQUE (tenant_id, sku),
    -- One variant per combination of option values.
    CONSTRAINT product_variants_options_key UNIQUE (tenant_id, product_id, option_values)
);
CREATE INDEX product_variants_product ON catalog.product_variants (tenant_id, product_id, position);

-- A variant's base price in one currency, in minor units.
CREATE TABLE catalog.variant_prices (
    tenant_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount bigint NOT NULL CHECK (amount >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, variant_id, currency),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id) ON DELETE CASCADE
);

SELECT platform.tenant_table('catalog.product_options', 'catalog.product_variants', 'catalog.variant_prices');
