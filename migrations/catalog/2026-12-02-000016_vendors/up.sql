-- Vendors as the catalog knows them: the last status each vendor's `vendor.<status>` events said
-- (approved, suspended, closed; consumed once each, applied in `version` order), and whether each
-- product is listed: published, and the tenant's own or an approved vendor's. Storefronts, search
-- and carts read `listed`; staff still see every product.
CREATE TABLE catalog.vendors (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('APPROVED', 'SUSPENDED', 'CLOSED')),
    version integer NOT NULL CHECK (version >= 1),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
SELECT platform.tenant_table('catalog.vendors');

ALTER TABLE catalog.products ADD COLUMN listed boolean NOT NULL DEFAULT false;

-- `listed` follows the product's status and vendor on every write of either; the vendor events'
-- consumer sets it for all of a vendor's products when the vendor's status changes.
CREATE FUNCTION catalog.product_listed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.listed := NEW.status = 'PUBLISHED' AND (
        NEW.vendor_id IS NULL OR EXISTS (
            SELECT 1 FROM catalog.vendors v
            WHERE v.tenant_id = NEW.tenant_id AND v.id = NEW.vendor_id AND v.status = 'APPROVED'));
    RETURN NEW;
END $$;
CREATE TRIGGER products_listed BEFORE INSERT OR UPDATE OF status, vendor_id ON catalog.products
    FOR EACH ROW EXECUTE FUNCTION catalog.product_listed();

-- Until now no vendor existed: a product naming one is not listed until that vendor is approved.
UPDATE catalog.products SET status = status;

DROP INDEX catalog.products_published;
CREATE INDEX products_listed ON catalog.products (tenant_id, id) WHERE listed;

-- The new table's writes change storefront answers too.
SELECT platform.track_changes('catalog');
