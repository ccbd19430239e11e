-- The ledger's append-only guard, cheaper per settled row: the application role may update only
-- `settled_by` (column privileges), and the trigger compares the other columns as one row instead
-- of two JSON documents. An entry is still settled once, and nothing else of it ever changes.
REVOKE UPDATE ON vendors.ledger_entries FROM cityos_app;
GRANT UPDATE (settled_by) ON vendors.ledger_entries TO cityos_app;

CREATE OR REPLACE FUNCTION vendors.ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.settled_by IS NULL AND NEW.settled_by IS NOT NULL
       AND (NEW.tenant_id, NEW.id, NEW.vendor_id, NEW.currency, NEW.seq, NEW.kind, NEW.amount,
            NEW.balance, NEW.vendor_order_id, NEW.payout_id, NEW.reason, NEW.created_by,
            NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.tenant_id, OLD.id, OLD.vendor_id, OLD.currency, OLD.seq, OLD.kind, OLD.amount,
            OLD.balance, OLD.vendor_order_id, OLD.payout_id, OLD.reason, OLD.created_by,
            OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'vendors.ledger_entries is append-only' USING ERRCODE = 'restrict_violation';
END $$;
