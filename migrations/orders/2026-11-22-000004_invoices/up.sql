-- Invoices and credit notes. An invoice is issued when an order is confirmed; a credit note for
-- every refund. Each kind is numbered per tenant without gaps (the counters table, names
-- 'invoice' and 'credit_note'). A document is a snapshot: later changes to the order, the
-- catalog or the tax rules do not change it.
CREATE TABLE orders.invoices (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('INVOICE', 'CREDIT_NOTE')),
    number bigint NOT NULL CHECK (number > 0),
    order_id uuid NOT NULL,
    -- For a credit note: the invoice it credits and the refund it documents.
    invoice_id uuid,
    refund_id uuid,
    status text NOT NULL CHECK (status IN ('ISSUED', 'PAID', 'VOID')),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal bigint NOT NULL,
    discount_total bigint NOT NULL DEFAULT 0,
    shipping_total bigint NOT NULL DEFAULT 0,
    tax_total bigint NOT NULL DEFAULT 0,
    total bigint NOT NULL CHECK (total >= 0),
    -- Buyer, lines and tax breakdown as issued.
    document jsonb NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    due_at timestamptz,
    paid_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invoices_number_key UNIQUE (tenant_id, kind, number),
    CHECK ((kind = 'CREDIT_NOTE') = (invoice_id IS NOT NULL)),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES orders.invoices (tenant_id, id)
);
CREATE UNIQUE INDEX invoices_one_per_order ON orders.invoices (tenant_id, order_id) WHERE kind = 'INVOICE';
CREATE INDEX invoices_order ON orders.invoices (tenant_id, order_id, kind, number);

SELECT platform.tenant_table('orders.invoices');
