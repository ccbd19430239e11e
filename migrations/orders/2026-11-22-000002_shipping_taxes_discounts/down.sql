ALTER TABLE orders.order_lines DROP COLUMN tax_rate, DROP COLUMN tax_inclusive;
ALTER TABLE orders.vendor_orders DROP COLUMN shipping_method_id, DROP COLUMN shipping_method_name,
    DROP COLUMN shipping_kind, DROP COLUMN pickup_location, DROP COLUMN delivery_instructions;
ALTER TABLE orders.orders DROP COLUMN discount_code;
ALTER TABLE orders.carts DROP COLUMN discount_code;
DROP TABLE orders.discount_redemptions, orders.discount_codes, orders.tax_rules, orders.cart_shipments,
    orders.shipping_methods;
