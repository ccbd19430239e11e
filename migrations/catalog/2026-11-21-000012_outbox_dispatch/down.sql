DROP POLICY dispatcher ON catalog.outbox;
REVOKE ALL ON catalog.outbox FROM cityos_outbox;
REVOKE USAGE ON SCHEMA catalog FROM cityos_outbox;
DROP INDEX catalog.outbox_due;
CREATE INDEX outbox_unpublished ON catalog.outbox (id) WHERE published_at IS NULL;
ALTER TABLE catalog.outbox
    DROP COLUMN attempts,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_error;
