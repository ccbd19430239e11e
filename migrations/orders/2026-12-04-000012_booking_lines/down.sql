DROP TABLE orders.booking_refunds;
DROP INDEX orders.order_lines_booking;
DELETE FROM orders.order_lines WHERE booking_id IS NOT NULL;
ALTER TABLE orders.order_lines
    DROP CONSTRAINT order_lines_one_item,
    DROP COLUMN ends_at,
    DROP COLUMN starts_at,
    DROP COLUMN service_id,
    DROP COLUMN booking_id,
    ALTER COLUMN product_id SET NOT NULL,
    ALTER COLUMN variant_id SET NOT NULL;

DELETE FROM orders.cart_lines WHERE hold_id IS NOT NULL;
ALTER TABLE orders.cart_lines
    DROP CONSTRAINT cart_lines_hold_key,
    DROP CONSTRAINT cart_lines_one_item,
    DROP COLUMN hold_id,
    ALTER COLUMN variant_id SET NOT NULL;
DROP TABLE orders.inbox;
