DROP TABLE catalog.collection_products;
DROP TABLE catalog.collections;
DROP TABLE catalog.product_categories;
DROP TABLE catalog.categories;
