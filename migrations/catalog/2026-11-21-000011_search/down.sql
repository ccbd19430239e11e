DROP FUNCTION catalog.price_step(bigint, bigint);
DROP FUNCTION catalog.from_price(uuid, text, uuid[], timestamptz);
DROP TRIGGER search_on_insert ON catalog.products;
DROP TRIGGER search_on_update ON catalog.products;
DROP TRIGGER search_on_insert ON catalog.product_variants;
DROP TRIGGER search_on_update ON catalog.product_variants;
DROP TRIGGER search_on_delete ON catalog.product_variants;
DROP TRIGGER search_on_insert ON catalog.product_translations;
DROP TRIGGER search_on_update ON catalog.product_translations;
DROP TRIGGER search_on_delete ON catalog.product_translations;
DROP FUNCTION catalog.search_touch();
DROP FUNCTION catalog.refresh_search(uuid[]);
CREATE OR REPLACE FUNCTION catalog.refresh_cards(p_products uuid[]) RETURNS void
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
DROP FUNCTION catalog.lock_cards(uuid[]);
DROP FUNCTION catalog.build_search(uuid[]);
DROP FUNCTION catalog.search_text(regconfig, text, "char");
DROP AGGREGATE catalog.tsvector_agg (tsvector);
DROP FUNCTION catalog.search_config(text);
DROP TABLE catalog.product_search;
