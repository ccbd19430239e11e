GRANT UPDATE ON vendors.ledger_entries TO cityos_app;
CREATE OR REPLACE FUNCTION vendors.ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.settled_by IS NULL AND NEW.settled_by IS NOT NULL
       AND (to_jsonb(NEW) - 'settled_by') = (to_jsonb(OLD) - 'settled_by') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'vendors.ledger_entries is append-only' USING ERRCODE = 'restrict_violation';
END $$;
