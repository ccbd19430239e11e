ALTER TABLE orders.vendor_orders DROP COLUMN refunded_total;
