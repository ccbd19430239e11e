DELETE FROM vendors.commission_lines WHERE product_id IS NULL;
ALTER TABLE vendors.commission_lines ALTER COLUMN product_id SET NOT NULL;
