-- A product's `listed` is computed from its vendor's row when the product is written, and the
-- vendor events' consumer recomputes it for the vendor's products when the vendor's row changes.
-- Run at once, each could miss the other (the product's insert did not see the vendor row yet,
-- the consumer's update did not see the uncommitted product), leaving an approved vendor's
-- published product unlisted for good. Both now take the vendor's transaction lock first, so one
-- waits for the other and then reads what it wrote.
CREATE FUNCTION catalog.lock_vendor(p_vendor uuid) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('catalog.vendor:' || p_vendor::text, 0))
$$;

CREATE OR REPLACE FUNCTION catalog.product_listed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.vendor_id IS NOT NULL THEN
        PERFORM catalog.lock_vendor(NEW.vendor_id);
    END IF;
    NEW.listed := NEW.status = 'PUBLISHED' AND (
        NEW.vendor_id IS NULL OR EXISTS (
            SELECT 1 FROM catalog.vendors v
            WHERE v.tenant_id = NEW.tenant_id AND v.id = NEW.vendor_id AND v.status = 'APPROVED'));
    RETURN NEW;
END $$;
