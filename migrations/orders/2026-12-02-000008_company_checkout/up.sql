-- B2B buying at checkout: a cart and its order may be a company's (bought by one of its members,
-- acting for it with `x-company-id`); the order records its purchase-order number, the tax
-- exemption certificate that applied, and how many days its invoice gives to pay. Company rules
-- (membership, spending limits, credit limit, terms) are read through the vendors subgraph's api
-- in checkout's transaction.

ALTER TABLE orders.carts ADD COLUMN company_id uuid;
-- A customer keeps one open personal cart; a buyer may prepare several for their company (one per
-- location or project), so the one-open-cart rule covers personal carts only.
DROP INDEX orders.carts_open_customer;
CREATE UNIQUE INDEX carts_open_customer ON orders.carts (tenant_id, customer_id)
    WHERE status = 'OPEN' AND customer_id IS NOT NULL AND company_id IS NULL;
CREATE INDEX carts_open_company ON orders.carts (tenant_id, customer_id, company_id, created_at)
    WHERE status = 'OPEN' AND company_id IS NOT NULL;
ALTER TABLE orders.carts ADD CONSTRAINT carts_company_customer
    CHECK (company_id IS NULL OR customer_id IS NOT NULL);

ALTER TABLE orders.orders
    ADD COLUMN company_id uuid,
    ADD COLUMN purchase_order_number text CHECK (length(purchase_order_number) BETWEEN 1 AND 64),
    ADD COLUMN tax_exemption_id uuid,
    ADD COLUMN tax_exemption_number text,
    -- Days from issue to the invoice's due date; null: the tenant's default term.
    ADD COLUMN payment_due_days int CHECK (payment_due_days BETWEEN 1 AND 365),
    ADD CONSTRAINT orders_company_customer CHECK (company_id IS NULL OR customer_id IS NOT NULL),
    ADD CONSTRAINT orders_exemption_number
        CHECK ((tax_exemption_id IS NULL) = (tax_exemption_number IS NULL));
-- A buyer's committed spend this month, and a company's orders.
CREATE INDEX orders_company_buyer ON orders.orders (tenant_id, company_id, customer_id, placed_at)
    WHERE company_id IS NOT NULL;

-- ON_ACCOUNT: a company with NET terms pays its invoice later; what is unpaid counts against its
-- credit limit.
ALTER TABLE orders.payments DROP CONSTRAINT payments_method_check;
ALTER TABLE orders.payments ADD CONSTRAINT payments_method_check
    CHECK (method IN ('CASH_ON_DELIVERY', 'BANK_TRANSFER', 'CARD', 'ON_ACCOUNT'));
CREATE INDEX payments_on_account ON orders.payments (tenant_id, order_id)
    WHERE method = 'ON_ACCOUNT' AND status IN ('PENDING', 'AUTHORIZED');

-- Money received against an invoice paid on account, in part or in full, as staff record it. The
-- payment's captured amount is the sum of these.
CREATE TABLE orders.invoice_payments (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    invoice_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    reference text CHECK (length(reference) BETWEEN 1 AND 100),
    recorded_by uuid,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES orders.invoices (tenant_id, id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES orders.payments (tenant_id, id)
);
CREATE INDEX invoice_payments_invoice ON orders.invoice_payments (tenant_id, invoice_id, recorded_at);

SELECT platform.tenant_table('orders.invoice_payments');
