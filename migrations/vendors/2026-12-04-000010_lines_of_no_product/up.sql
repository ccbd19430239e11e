-- A commission line of no product: a booking line whose service is linked to no catalog product
-- (orders' booking lines), which only vendor-wide commission rules cover.
ALTER TABLE vendors.commission_lines ALTER COLUMN product_id DROP NOT NULL;
