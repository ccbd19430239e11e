-- Card payments through Stripe, its webhook, and refunds.

-- What the storefront needs to confirm a card payment with Stripe.js (Stripe's PaymentIntent
-- client secret); Stripe's ids find their payment.
ALTER TABLE orders.payments ADD COLUMN client_secret text;
CREATE UNIQUE INDEX payments_provider_reference ON orders.payments (provider, provider_reference)
    WHERE provider_reference IS NOT NULL;

-- Money paid back. A refund reserves its amount on the payment (`refunded_amount`, which never
-- exceeds what was captured) before the provider is asked, so racing refunds cannot together
-- exceed the capture; a refund the provider refuses gives its amount back.
CREATE TABLE orders.refunds (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    provider_reference text,
    failure text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, payment_id) REFERENCES orders.payments (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
CREATE INDEX refunds_order ON orders.refunds (tenant_id, order_id);

-- Provider events already handled: a redelivered event changes nothing.
CREATE TABLE orders.payment_events (
    tenant_id uuid NOT NULL,
    id text NOT NULL CHECK (length(id) BETWEEN 1 AND 255),
    provider text NOT NULL,
    type text NOT NULL,
    payment_id uuid,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, id)
);

SELECT platform.tenant_table('orders.refunds', 'orders.payment_events');

-- A provider's webhook names its payment, not the tenant: the lookup role may read which tenant a
-- provider reference belongs to, and nothing else.
GRANT USAGE ON SCHEMA orders TO cityos_lookup;
GRANT SELECT (tenant_id, provider, provider_reference) ON orders.payments TO cityos_lookup;
CREATE POLICY lookup ON orders.payments FOR SELECT TO cityos_lookup USING (true);
