-- Delivery state for the outbox dispatcher (crate cityos-db, module outbox).
--
-- This migration once added the delivery columns, their index and the dispatcher's role and policy
-- to catalog.outbox. The outbox is now created whole by platform.create_outbox (migrations/
-- platform.sql) in 000004, as every schema's is, so there is nothing left to do here; the
-- migration stays so databases that applied it keep a consistent history.
SELECT 1;
