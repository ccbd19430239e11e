-- A product's title and description in other locales than the tenant's default (the product's own
-- title and description are in the default locale).

CREATE TABLE catalog.product_translations (
    tenant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    locale text NOT NULL CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 100000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, product_id, locale),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
);

SELECT platform.tenant_table('catalog.product_translations');
