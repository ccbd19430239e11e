DROP TABLE orders.approval_decisions;
DROP TABLE orders.approval_requests;
UPDATE orders.carts SET status = 'OPEN' WHERE status = 'PENDING_APPROVAL';
ALTER TABLE orders.carts DROP CONSTRAINT carts_status_check,
    ADD CONSTRAINT carts_status_check CHECK (status IN ('OPEN', 'COMPLETED', 'MERGED', 'EXPIRED'));
