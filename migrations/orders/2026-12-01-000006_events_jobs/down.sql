UPDATE orders.invoices SET status = 'ISSUED' WHERE status = 'OVERDUE';
UPDATE orders.carts SET status = 'OPEN' WHERE status = 'EXPIRED';
ALTER TABLE orders.invoices DROP CONSTRAINT invoices_status_check,
    ADD CONSTRAINT invoices_status_check CHECK (status IN ('ISSUED', 'PAID', 'VOID'));
ALTER TABLE orders.carts DROP CONSTRAINT carts_status_check,
    ADD CONSTRAINT carts_status_check CHECK (status IN ('OPEN', 'COMPLETED', 'MERGED'));
DROP TABLE orders.jobs, orders.deliveries, orders.subscriptions;
