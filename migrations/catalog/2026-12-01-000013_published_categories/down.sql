DROP FUNCTION catalog.category_depth(uuid);
DROP FUNCTION catalog.category_exists(uuid);
