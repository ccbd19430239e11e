DROP INDEX catalog.products_listed;
CREATE INDEX products_published ON catalog.products (tenant_id, id) WHERE status = 'PUBLISHED';
DROP TRIGGER products_listed ON catalog.products;
DROP FUNCTION catalog.product_listed();
ALTER TABLE catalog.products DROP COLUMN listed;
DROP TABLE catalog.vendors;
