DROP TABLE orders.invoice_payments;
DROP INDEX orders.payments_on_account;
ALTER TABLE orders.payments DROP CONSTRAINT payments_method_check;
ALTER TABLE orders.payments ADD CONSTRAINT payments_method_check
    CHECK (method IN ('CASH_ON_DELIVERY', 'BANK_TRANSFER', 'CARD'));
DROP INDEX orders.orders_company_buyer;
ALTER TABLE orders.orders
    DROP COLUMN company_id, DROP COLUMN purchase_order_number, DROP COLUMN tax_exemption_id,
    DROP COLUMN tax_exemption_number, DROP COLUMN payment_due_days;
DROP INDEX orders.carts_open_company;
DROP INDEX orders.carts_open_customer;
ALTER TABLE orders.carts DROP CONSTRAINT carts_company_customer, DROP COLUMN company_id;
CREATE UNIQUE INDEX carts_open_customer ON orders.carts (tenant_id, customer_id)
    WHERE status = 'OPEN' AND customer_id IS NOT NULL;
