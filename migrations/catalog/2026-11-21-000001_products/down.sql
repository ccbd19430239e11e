DROP TABLE catalog.products;
