-- Products: the ARCHIVED status, product type, tags, metadata, vendor; media on their own table
-- and on the product's card.

ALTER TABLE catalog.products DROP CONSTRAINT products_status_check;
ALTER TABLE catalog.products
    ADD CONSTRAINT products_status_check CHECK (status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')),
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN product_type text CHECK (length(product_type) BETWEEN 1 AND 100),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(metadata) = 'object' AND octet_length(metadata::text) <= 16384),
    -- The vendors subgraph owns vendors; the catalog keeps the reference.
    ADD COLUMN vendor_id uuid;

CREATE INDEX products_vendor ON catalog.products (tenant_id, vendor_id, id) WHERE vendor_id IS NOT NULL;
CREATE INDEX products_tags ON catalog.products USING gin (tags);

-- Images and videos of a product, in display order.
CREATE TABLE catalog.product_media (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    product_id uuid NOT NULL,
    url text NOT NULL CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2048),
    alt_text text NOT NULL DEFAULT '' CHECK (length(alt_text) <= 500),
    position integer NOT NULL CHECK (position >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX product_media_product ON catalog.product_media (tenant_id, product_id, position);

SELECT platform.tenant_table('catalog.product_media');

-- Cards now carry the media.
CREATE OR REPLACE FUNCTION catalog.build_cards(p_products uuid[])
RETURNS TABLE (tenant_id uuid, product_id uuid, card jsonb)
LANGUAGE sql STABLE AS $$
    SELECT p.tenant_id, p.id,
        jsonb_build_object(
            'options', coalesce((
                SELECT jsonb_agg(to_jsonb(o) ORDER BY o.position)
                FROM catalog.product_options o
                WHERE o.tenant_id = p.tenant_id AND o.product_id = p.id), '[]'),
            'variants', coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'variant', to_jsonb(v),
                    'prices', coalesce((
                        SELECT jsonb_agg(jsonb_build_object(
                            'variant_id', x.variant_id, 'currency', x.currency, 'amount', x.amount
                        ) ORDER BY x.currency)
                        FROM catalog.variant_prices x
                        WHERE x.tenant_id = v.tenant_id AND x.variant_id = v.id), '[]'),
                    'list_prices', coalesce((
                        SELECT jsonb_agg(jsonb_build_object(
                            'list_id', l.id, 'kind', l.kind, 'customer_group_id', l.customer_group_id,
                            'starts_at', l.starts_at, 'ends_at', l.ends_at,
                            'currency', x.currency, 'amount', x.amount
                        ) ORDER BY l.id, x.currency)
                        FROM catalog.price_list_prices x
                        JOIN catalog.price_lists l ON l.tenant_id = x.tenant_id AND l.id = x.price_list_id
                        WHERE x.tenant_id = v.tenant_id AND x.variant_id = v.id), '[]')
                ) ORDER BY v.position, v.id)
                FROM catalog.product_variants v
                WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id), '[]'),
            'tiers', coalesce((
                SELECT jsonb_agg(to_jsonb(t) ORDER BY t.currency, t.min_quantity, t.id)
                FROM catalog.volume_tiers t
                WHERE t.tenant_id = p.tenant_id AND t.product_id = p.id), '[]'),
            'media', coalesce((
                SELECT jsonb_agg(to_jsonb(m) ORDER BY m.position, m.id)
                FROM catalog.product_media m
                WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id), '[]'))
    FROM catalog.products p
    WHERE p.id = ANY (p_products)
$$;

CREATE OR REPLACE FUNCTION catalog.cards_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_TABLE_NAME IN ('product_options', 'product_variants', 'volume_tiers', 'product_media') THEN
        IF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT r.product_id) INTO touched FROM old_rows r;
        ELSE
            SELECT array_agg(DISTINCT r.product_id) INTO touched FROM new_rows r;
        END IF;
    ELSIF TG_TABLE_NAME IN ('variant_prices', 'price_list_prices') THEN
        -- Rows deleted with their variant find no variant; the variant's own trigger rebuilds.
        IF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT v.product_id) INTO touched
            FROM old_rows r JOIN catalog.product_variants v
                ON v.tenant_id = r.tenant_id AND v.id = r.variant_id;
        ELSE
            SELECT array_agg(DISTINCT v.product_id) INTO touched
            FROM new_rows r JOIN catalog.product_variants v
                ON v.tenant_id = r.tenant_id AND v.id = r.variant_id;
        END IF;
    ELSIF TG_TABLE_NAME = 'price_lists' THEN
        -- A changed kind, group or window: every product with an entry on the list. (Deleting a
        -- list deletes its entries, whose trigger rebuilds.)
        SELECT array_agg(DISTINCT v.product_id) INTO touched
        FROM new_rows l
        JOIN catalog.price_list_prices x ON x.tenant_id = l.tenant_id AND x.price_list_id = l.id
        JOIN catalog.product_variants v ON v.tenant_id = x.tenant_id AND v.id = x.variant_id;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM catalog.refresh_cards(touched);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cards_on_insert AFTER INSERT ON catalog.product_media
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch();
CREATE TRIGGER cards_on_update AFTER UPDATE ON catalog.product_media
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch();
CREATE TRIGGER cards_on_delete AFTER DELETE ON catalog.product_media
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch();

-- A new product's card is built like any other (not a default that could drift from the builder).
CREATE OR REPLACE FUNCTION catalog.cards_create() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog.product_cards (tenant_id, product_id, card)
    SELECT b.tenant_id, b.product_id, b.card::json
    FROM catalog.build_cards(ARRAY(SELECT r.id FROM new_rows r)) b;
    RETURN NULL;
END $$;
ALTER TABLE catalog.product_cards ALTER COLUMN card DROP DEFAULT;

UPDATE catalog.product_cards c SET card = b.card::json, built_at = now()
FROM catalog.build_cards(ARRAY(SELECT id FROM catalog.products)) b
WHERE c.tenant_id = b.tenant_id AND c.product_id = b.product_id;
