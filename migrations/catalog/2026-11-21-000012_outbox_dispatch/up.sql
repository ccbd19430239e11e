-- Delivery state for the outbox dispatcher (crate cityos-db, module outbox).
--
-- A dispatcher claims due events for a lease (attempts + 1, next_attempt_at pushed past the lease),
-- delivers them, and sets published_at; a failed delivery moves next_attempt_at back by a growing
-- delay and keeps the error. An event whose dispatcher died mid-delivery is due again when its
-- lease ends, so every event is delivered at least once.
--
-- The dispatcher reads every tenant's events. It runs as cityos_outbox (created by the bootstrap,
-- granted to the application role, which takes it with SET LOCAL ROLE for the dispatcher's
-- transactions only): that role may read and update the outbox and nothing else.

ALTER TABLE catalog.outbox
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error text;

DROP INDEX catalog.outbox_unpublished;
CREATE INDEX outbox_due ON catalog.outbox (next_attempt_at, id) WHERE published_at IS NULL;

GRANT USAGE ON SCHEMA catalog TO cityos_outbox;
GRANT SELECT, UPDATE (attempts, next_attempt_at, last_error, published_at) ON catalog.outbox TO cityos_outbox;
CREATE POLICY dispatcher ON catalog.outbox TO cityos_outbox USING (true);
