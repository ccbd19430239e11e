-- How much of each vendor order has been paid back, so every refund can say whose money it was:
-- the vendors' ledger debits each vendor its share (payment.refunded carries the split).
ALTER TABLE orders.vendor_orders
    ADD COLUMN refunded_total bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT vendor_orders_refunded_check CHECK (refunded_total BETWEEN 0 AND total);
