DROP TRIGGER cards_on_insert ON catalog.products;
DROP TRIGGER cards_on_update ON catalog.price_lists;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['product_options', 'product_variants', 'variant_prices',
                             'price_list_prices', 'volume_tiers'] LOOP
        EXECUTE format('DROP TRIGGER cards_on_insert ON catalog.%I', t);
        EXECUTE format('DROP TRIGGER cards_on_update ON catalog.%I', t);
        EXECUTE format('DROP TRIGGER cards_on_delete ON catalog.%I', t);
    END LOOP;
END $$;
DROP TRIGGER product_of_variant ON catalog.stock_levels;
DROP FUNCTION catalog.stock_level_product();
DROP INDEX catalog.stock_levels_product;
ALTER TABLE catalog.stock_levels DROP COLUMN product_id;
DROP FUNCTION catalog.cards_create();
DROP FUNCTION catalog.cards_touch();
DROP FUNCTION catalog.refresh_cards(uuid[]);
DROP FUNCTION catalog.build_cards(uuid[]);
DROP TABLE catalog.product_cards;
