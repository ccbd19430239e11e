CREATE OR REPLACE FUNCTION catalog.product_listed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.listed := NEW.status = 'PUBLISHED' AND (
        NEW.vendor_id IS NULL OR EXISTS (
            SELECT 1 FROM catalog.vendors v
            WHERE v.tenant_id = NEW.tenant_id AND v.id = NEW.vendor_id AND v.status = 'APPROVED'));
    RETURN NEW;
END $$;
DROP FUNCTION catalog.lock_vendor(uuid);
