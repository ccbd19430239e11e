-- Product search: a weighted full-text document and a word list for typo-tolerant autocomplete,
-- kept per product beside its card.
--
-- The document holds the title and SKUs/barcodes (weight A), tags and product type (B) and the
-- description (C), each indexed twice: stemmed as English and as plain words ('simple'), so
-- "perfumes" finds "Perfume" and a word in any script still matches itself. Each translation adds
-- its title (A) and description (C), stemmed in its own language where PostgreSQL has a
-- configuration for it. Queries are parsed the same two ways (see catalog.search_config).
--
-- Like the card, the search row is derived data rebuilt by statement-level triggers in the
-- transaction of the change. Rebuilds lock the product's card row first (the lock the card rebuild
-- takes too), so concurrent writers of one product serialise and the last rebuild sees them all.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE catalog.product_search (
    tenant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    document tsvector NOT NULL DEFAULT '',
    -- Title, translated titles, tags, type and SKUs as plain text, for trigram word similarity.
    words text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, product_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX product_search_document ON catalog.product_search USING gin (document);
-- Nearest words first (ORDER BY words <->> query) within one tenant.
CREATE INDEX product_search_words ON catalog.product_search USING gist (tenant_id, words public.gist_trgm_ops);

SELECT platform.tenant_table('catalog.product_search');

-- The text search configuration for a locale's language (`ar-SA` -> arabic), or 'simple' when
-- PostgreSQL has none for it.
CREATE FUNCTION catalog.search_config(p_locale text) RETURNS regconfig
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((
        SELECT c.oid::regconfig
        FROM (VALUES ('ar', 'arabic'), ('ca', 'catalan'), ('da', 'danish'), ('de', 'german'),
                     ('el', 'greek'), ('en', 'english'), ('es', 'spanish'), ('eu', 'basque'),
                     ('fi', 'finnish'), ('fr', 'french'), ('ga', 'irish'), ('hi', 'hindi'),
                     ('hu', 'hungarian'), ('hy', 'armenian'), ('id', 'indonesian'),
                     ('it', 'italian'), ('lt', 'lithuanian'), ('ne', 'nepali'),
                     ('nb', 'norwegian'), ('nl', 'dutch'), ('no', 'norwegian'),
                     ('pt', 'portuguese'), ('ro', 'romanian'), ('ru', 'russian'),
                     ('sr', 'serbian'), ('sv', 'swedish'), ('ta', 'tamil'), ('tr', 'turkish'),
                     ('yi', 'yiddish')) AS l (code, name)
        JOIN pg_catalog.pg_ts_config c ON c.cfgname = l.name
        WHERE l.code = split_part(lower(p_locale), '-', 1)), 'pg_catalog.simple'::regconfig)
$$;

-- Concatenates tsvectors (the || operator as an aggregate).
CREATE AGGREGATE catalog.tsvector_agg (tsvector) (
    SFUNC = pg_catalog.tsvector_concat,
    STYPE = tsvector,
    INITCOND = ''
);

-- `body` indexed stemmed in `config` and as plain words, at `weight`.
CREATE FUNCTION catalog.search_text(config regconfig, body text, weight "char") RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(config, body) || to_tsvector('pg_catalog.simple', body), weight)
$$;

-- The search rows of products, built from their source rows.
CREATE FUNCTION catalog.build_search(p_products uuid[])
RETURNS TABLE (tenant_id uuid, product_id uuid, document tsvector, words text)
LANGUAGE sql STABLE AS $$
    SELECT p.tenant_id, p.id,
        catalog.search_text('pg_catalog.english', p.title, 'A')
        || catalog.search_text('pg_catalog.simple', coalesce(v.codes, ''), 'A')
        || catalog.search_text('pg_catalog.english',
               concat_ws(' ', array_to_string(p.tags, ' '), p.product_type), 'B')
        || catalog.search_text('pg_catalog.english', p.description, 'C')
        || coalesce(t.document, ''),
        concat_ws(' ', p.title, t.titles, array_to_string(p.tags, ' '), p.product_type, v.codes)
    FROM catalog.products p
    LEFT JOIN LATERAL (
        SELECT string_agg(concat_ws(' ', x.sku, x.barcode), ' ' ORDER BY x.position, x.id) AS codes
        FROM catalog.product_variants x
        WHERE x.tenant_id = p.tenant_id AND x.product_id = p.id) v ON true
    LEFT JOIN LATERAL (
        SELECT catalog.tsvector_agg(
                   catalog.search_text(catalog.search_config(x.locale), x.title, 'A')
                   || catalog.search_text(catalog.search_config(x.locale), x.description, 'C')
                   ORDER BY x.locale) AS document,
               string_agg(x.title, ' ' ORDER BY x.locale) AS titles
        FROM catalog.product_translations x
        WHERE x.tenant_id = p.tenant_id AND x.product_id = p.id) t ON true
    WHERE p.id = ANY (p_products)
$$;

-- Locks the cards of products in product order: the point where writers of one product queue,
-- for the card's rebuild and the search row's alike.
CREATE FUNCTION catalog.lock_cards(p_products uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM catalog.product_cards c
    WHERE c.product_id = ANY (p_products)
    ORDER BY c.tenant_id, c.product_id
    FOR UPDATE;
END $$;

-- Rebuilds the cards of products (as migration 000005 does) after the shared lock.
CREATE OR REPLACE FUNCTION catalog.refresh_cards(p_products uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog.lock_cards(p_products);
    UPDATE catalog.product_cards c
    SET card = b.card::json, built_at = now()
    FROM catalog.build_cards(p_products) b
    WHERE c.tenant_id = b.tenant_id AND c.product_id = b.product_id;
END $$;

-- Rebuilds the search rows of products under their card locks.
CREATE FUNCTION catalog.refresh_search(p_products uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog.lock_cards(p_products);
    UPDATE catalog.product_search s
    SET document = b.document, words = b.words
    FROM catalog.build_search(p_products) b
    WHERE s.tenant_id = b.tenant_id AND s.product_id = b.product_id;
END $$;

-- Statement trigger on the search row's sources: finds the products whose text changed.
CREATE FUNCTION catalog.search_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched uuid[];
BEGIN
    IF TG_TABLE_NAME = 'products' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO catalog.product_search (tenant_id, product_id, document, words)
            SELECT b.tenant_id, b.product_id, b.document, b.words
            FROM catalog.build_search(ARRAY(SELECT r.id FROM new_rows r)) b;
            RETURN NULL;
        END IF;
        -- Updates that leave the text alone (status, rating counts) rebuild nothing.
        SELECT array_agg(n.id) INTO touched
        FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
        WHERE (n.title, n.description, n.tags, n.product_type)
              IS DISTINCT FROM (o.title, o.description, o.tags, o.product_type);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT r.product_id) INTO touched FROM old_rows r;
    ELSE
        SELECT array_agg(DISTINCT r.product_id) INTO touched FROM new_rows r;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM catalog.refresh_search(touched);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER search_on_insert AFTER INSERT ON catalog.products
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_touch();
CREATE TRIGGER search_on_update AFTER UPDATE ON catalog.products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_touch();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['product_variants', 'product_translations'] LOOP
        EXECUTE format('CREATE TRIGGER search_on_insert AFTER INSERT ON catalog.%I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_touch()', t);
        EXECUTE format('CREATE TRIGGER search_on_update AFTER UPDATE ON catalog.%I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_touch()', t);
        EXECUTE format('CREATE TRIGGER search_on_delete AFTER DELETE ON catalog.%I
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.search_touch()', t);
    END LOOP;
END $$;

-- The "from" price of a product for a caller in `p_groups`, in a currency, at a time: the lowest
-- of its variants' prices for one unit, each by the rule of the catalog's pricing function (crate
-- `catalog`, `pricing::resolve`): an active OVERRIDE list open to the caller sets the price (the
-- lowest of them); otherwise the lowest of the base price, active SALE lists and volume tiers
-- covering one unit that are open to the caller. No rows without a currency. Search filters,
-- sorts and facets on it; a test holds it equal to the Rust rule.
--
-- A single-SELECT SQL set function, so PostgreSQL inlines it into the calling statement (a
-- LATERAL join) instead of running it as a separate query per product; each price source is a
-- scalar subquery, an index probe per variant whatever the plan.
CREATE FUNCTION catalog.from_price(p_product uuid, p_currency text, p_groups uuid[], p_at timestamptz)
RETURNS TABLE (amount bigint)
LANGUAGE sql STABLE AS $$
    SELECT min(coalesce(
        (SELECT min(x.amount) FROM catalog.price_list_prices x
         JOIN catalog.price_lists l ON l.tenant_id = x.tenant_id AND l.id = x.price_list_id
         WHERE x.tenant_id = v.tenant_id AND x.variant_id = v.id AND x.currency = p_currency
           AND l.kind = 'OVERRIDE'
           AND (l.customer_group_id IS NULL OR l.customer_group_id = ANY (p_groups))
           AND (l.starts_at IS NULL OR l.starts_at <= p_at) AND (l.ends_at IS NULL OR p_at < l.ends_at)),
        least(
            (SELECT b.amount FROM catalog.variant_prices b
             WHERE b.tenant_id = v.tenant_id AND b.variant_id = v.id AND b.currency = p_currency),
            (SELECT min(x.amount) FROM catalog.price_list_prices x
             JOIN catalog.price_lists l ON l.tenant_id = x.tenant_id AND l.id = x.price_list_id
             WHERE x.tenant_id = v.tenant_id AND x.variant_id = v.id AND x.currency = p_currency
               AND l.kind = 'SALE'
               AND (l.customer_group_id IS NULL OR l.customer_group_id = ANY (p_groups))
               AND (l.starts_at IS NULL OR l.starts_at <= p_at)
               AND (l.ends_at IS NULL OR p_at < l.ends_at)),
            (SELECT min(coalesce(t.unit_amount,
                                 b.amount - div(b.amount::numeric * t.percent_off_bp + 5000, 10000)::bigint))
             FROM catalog.volume_tiers t
             LEFT JOIN catalog.variant_prices b
               ON b.tenant_id = v.tenant_id AND b.variant_id = v.id AND b.currency = p_currency
             WHERE t.tenant_id = v.tenant_id AND t.product_id = v.product_id
               AND (t.variant_id IS NULL OR t.variant_id = v.id)
               AND t.currency = p_currency AND t.min_quantity <= 1
               AND (t.customer_group_id IS NULL OR t.customer_group_id = ANY (p_groups))))))
    FROM catalog.product_variants v
    WHERE v.product_id = p_product AND p_currency IS NOT NULL
$$;

-- A round step for about five price ranges between lo and hi: 1, 2 or 5 times a power of ten.
CREATE FUNCTION catalog.price_step(lo bigint, hi bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN hi <= lo THEN 1 ELSE (
        SELECT min(m * p) FROM (VALUES (1), (2), (5), (10)) AS f (m),
            LATERAL (SELECT greatest(1, 10::numeric ^ floor(log((hi - lo) / 5.0)))::bigint) AS s (p)
        WHERE m * p * 5 >= hi - lo) END
$$;

-- Search rows for the products that exist already.
INSERT INTO catalog.product_search (tenant_id, product_id, document, words)
SELECT b.tenant_id, b.product_id, b.document, b.words
FROM catalog.build_search(ARRAY(SELECT id FROM catalog.products)) b;
