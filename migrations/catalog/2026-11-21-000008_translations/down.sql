DROP TABLE catalog.product_translations;
