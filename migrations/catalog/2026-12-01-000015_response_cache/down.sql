DROP INDEX catalog.stock_reservations_expiry;
DROP FUNCTION catalog.answers_valid_until(uuid);
DO $$
DECLARE t record;
BEGIN
    FOR t IN SELECT DISTINCT event_object_schema || '.' || event_object_table AS tbl
             FROM information_schema.triggers
             WHERE trigger_schema = 'catalog' AND trigger_name IN ('record_insert', 'record_update', 'record_delete')
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS record_insert ON %s', t.tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS record_update ON %s', t.tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS record_delete ON %s', t.tbl);
    END LOOP;
END $$;
DROP FUNCTION catalog.record_change();
