-- Categories (a tree per tenant) and collections (curated, ordered sets of products).

CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public;

-- A category's path is the ids of its ancestors and itself, as ltree labels (the id's 32 hex
-- digits): `path <@ x` finds x's subtree, `path @> x` its ancestors, both through the GiST index.
CREATE TABLE catalog.categories (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    parent_id uuid,
    path public.ltree NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    handle text NOT NULL CHECK (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 255),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT categories_handle_key UNIQUE (tenant_id, handle),
    CONSTRAINT categories_depth CHECK (public.nlevel(path) <= 10),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES catalog.categories (tenant_id, id)
);
CREATE INDEX categories_path ON catalog.categories USING gist (path);
CREATE INDEX categories_parent ON catalog.categories (tenant_id, parent_id, position, id);

CREATE TABLE catalog.product_categories (
    tenant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    category_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, product_id, category_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, category_id) REFERENCES catalog.categories (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX product_categories_category ON catalog.product_categories (tenant_id, category_id, product_id);

CREATE TABLE catalog.collections (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
    handle text NOT NULL CHECK (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 255),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT collections_handle_key UNIQUE (tenant_id, handle)
);

CREATE TABLE catalog.collection_products (
    tenant_id uuid NOT NULL,
    collection_id uuid NOT NULL,
    product_id uuid NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (tenant_id, collection_id, product_id),
    FOREIGN KEY (tenant_id, collection_id) REFERENCES catalog.collections (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX collection_products_order ON catalog.collection_products (tenant_id, collection_id, position, product_id);
CREATE INDEX collection_products_product ON catalog.collection_products (tenant_id, product_id);

SELECT platform.tenant_table('catalog.categories', 'catalog.product_categories', 'catalog.collections', 'catalog.collection_products');
