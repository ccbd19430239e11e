DROP TABLE catalog.variant_prices;
DROP TABLE catalog.product_variants;
DROP TABLE catalog.product_options;
