DROP FUNCTION catalog.product_category_depths(uuid[]);
