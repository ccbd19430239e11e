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

ALTER TABLE catalog.product_translations ENABLE ROW LEVEL SECURITY;
ALTER TABLE catalog.product_translations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON catalog.product_translations
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
