-- catalog, first slice: products.

SELECT platform.app_schema('catalog');

CREATE TABLE catalog.products (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    handle text NOT NULL CHECK (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 255),
    description text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED')),
    published_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT products_handle_key UNIQUE (tenant_id, handle)
);

-- The storefront listing reads published products in key order.
CREATE INDEX products_published ON catalog.products (tenant_id, id) WHERE status = 'PUBLISHED';

SELECT platform.tenant_table('catalog.products');
