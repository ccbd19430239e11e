DROP FUNCTION catalog.product_exists(uuid);
