ALTER TABLE orders.orders DROP COLUMN quote_id;
DROP TABLE orders.quote_messages;
DROP TABLE orders.quote_versions;
DROP FUNCTION orders.quote_version_frozen() CASCADE;
DROP TABLE orders.quotes;
