-- Product cards: everything a listing shows about a product's options, variants and prices, kept
-- as one jsonb document per product so that a storefront page reads one row per product instead of
-- re-assembling prices, price-list entries and tiers from five tables on every request.
--
-- A card is derived data. It is rebuilt by statement-level triggers in the same transaction as the
-- change it reflects, so a committed card always equals what its source rows say. Stock is not on
-- the card: it changes with every sale and is read live from stock_levels.
--
-- Writers of one product serialise on its card row: the rebuild first locks the card (cards in
-- product order when a statement touches several), then builds it in a new statement, whose
-- snapshot includes every change committed by the writer that held the lock before.

CREATE TABLE catalog.product_cards (
    tenant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    -- {"options": [option], "variants": [{"variant", "prices", "list_prices"}], "tiers": [tier]}
    -- Stored as json (text), so reading it is a copy rather than a jsonb-to-text conversion.
    card json NOT NULL DEFAULT '{"options": [], "variants": [], "tiers": []}',
    built_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, product_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
) WITH (toast_tuple_target = 8160); -- cards of a few variants stay inline and uncompressed

SELECT platform.tenant_table('catalog.product_cards');

-- The cards of products, built from their source rows (every price list entry with its list's
-- kind, group and window; every tier; the caller filters by customer group).
CREATE FUNCTION catalog.build_cards(p_products uuid[])
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
                WHERE t.tenant_id = p.tenant_id AND t.product_id = p.id), '[]'))
    FROM catalog.products p
    WHERE p.id = ANY (p_products)
$$;

-- Rebuilds the cards of products: locks them in product order, then builds them in a statement of
-- its own (a volatile function's statements each take a fresh snapshot).
CREATE FUNCTION catalog.refresh_cards(p_products uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM catalog.product_cards c
    WHERE c.product_id = ANY (p_products)
    ORDER BY c.tenant_id, c.product_id
    FOR UPDATE;
    UPDATE catalog.product_cards c
    SET card = b.card::json, built_at = now()
    FROM catalog.build_cards(p_products) b
    WHERE c.tenant_id = b.tenant_id AND c.product_id = b.product_id;
END $$;

-- Statement trigger on the card's source tables: finds the products whose rows changed.
CREATE FUNCTION catalog.cards_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_TABLE_NAME IN ('product_options', 'product_variants', 'volume_tiers') THEN
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

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['product_options', 'product_variants', 'variant_prices',
                             'price_list_prices', 'volume_tiers'] LOOP
        EXECUTE format('CREATE TRIGGER cards_on_insert AFTER INSERT ON catalog.%I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch()', t);
        EXECUTE format('CREATE TRIGGER cards_on_update AFTER UPDATE ON catalog.%I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch()', t);
        EXECUTE format('CREATE TRIGGER cards_on_delete AFTER DELETE ON catalog.%I
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch()', t);
    END LOOP;
END $$;

CREATE TRIGGER cards_on_update AFTER UPDATE ON catalog.price_lists
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_touch();

-- Stock levels carry their variant's product, so a listing reads a product's stock with one index
-- probe (variants never move between products).
ALTER TABLE catalog.stock_levels ADD COLUMN product_id uuid;
UPDATE catalog.stock_levels s SET product_id = v.product_id
FROM catalog.product_variants v WHERE v.tenant_id = s.tenant_id AND v.id = s.variant_id;
ALTER TABLE catalog.stock_levels ALTER COLUMN product_id SET NOT NULL;
CREATE INDEX stock_levels_product ON catalog.stock_levels (tenant_id, product_id)
    INCLUDE (variant_id, on_hand);

CREATE FUNCTION catalog.stock_level_product() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT v.product_id INTO NEW.product_id FROM catalog.product_variants v
    WHERE v.tenant_id = NEW.tenant_id AND v.id = NEW.variant_id;
    IF NOT FOUND THEN
        -- What the foreign key would say, before NOT NULL says something less useful.
        RAISE foreign_key_violation USING
            MESSAGE = format('variant %s does not exist', NEW.variant_id),
            CONSTRAINT = 'stock_levels_tenant_id_variant_id_fkey',
            TABLE = 'stock_levels', SCHEMA = 'catalog';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER product_of_variant BEFORE INSERT ON catalog.stock_levels
    FOR EACH ROW EXECUTE FUNCTION catalog.stock_level_product();

-- Every product has a card from its creation on.
CREATE FUNCTION catalog.cards_create() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog.product_cards (tenant_id, product_id)
    SELECT r.tenant_id, r.id FROM new_rows r;
    RETURN NULL;
END $$;

CREATE TRIGGER cards_on_insert AFTER INSERT ON catalog.products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.cards_create();

-- Cards for the products that exist already.
INSERT INTO catalog.product_cards (tenant_id, product_id, card)
SELECT b.tenant_id, b.product_id, b.card::json
FROM catalog.build_cards(ARRAY(SELECT id FROM catalog.products)) b;
