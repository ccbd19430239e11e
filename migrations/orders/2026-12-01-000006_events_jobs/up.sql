-- One delivery state per subscriber for the orders outbox, and durable jobs (cart and reservation
-- expiry, invoices falling overdue).
SELECT platform.event_deliveries('orders');
SELECT platform.create_jobs('orders');

-- The cart.expire job closes carts nobody touched as EXPIRED; the invoice.overdue job stores
-- OVERDUE on invoices unpaid at their due date (they read so before it runs too).
ALTER TABLE orders.carts DROP CONSTRAINT carts_status_check,
    ADD CONSTRAINT carts_status_check CHECK (status IN ('OPEN', 'COMPLETED', 'MERGED', 'EXPIRED'));
ALTER TABLE orders.invoices DROP CONSTRAINT invoices_status_check,
    ADD CONSTRAINT invoices_status_check CHECK (status IN ('ISSUED', 'PAID', 'OVERDUE', 'VOID'));
