DROP POLICY lookup ON orders.payments;
REVOKE SELECT (tenant_id, provider, provider_reference) ON orders.payments FROM cityos_lookup;
REVOKE USAGE ON SCHEMA orders FROM cityos_lookup;
DROP TABLE orders.payment_events, orders.refunds;
DROP INDEX orders.payments_provider_reference;
ALTER TABLE orders.payments DROP COLUMN client_secret;
