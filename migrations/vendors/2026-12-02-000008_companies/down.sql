DROP FUNCTION vendors.company_member(uuid, uuid);
DROP TABLE vendors.tax_exemptions, vendors.company_locations, vendors.companies;
DELETE FROM vendors.members WHERE kind = 'COMPANY';
DELETE FROM vendors.invitations WHERE kind = 'COMPANY';
CREATE OR REPLACE FUNCTION vendors.vendor_member(p_vendor uuid, p_user uuid)
RETURNS TABLE (role text)
LANGUAGE sql STABLE AS $$
    SELECT m.role FROM vendors.members m
    JOIN vendors.vendors v ON v.tenant_id = m.tenant_id AND v.id = m.organization_id
    WHERE m.organization_id = p_vendor AND m.user_id = p_user
      AND v.status NOT IN ('REJECTED', 'CLOSED')
$$;
ALTER TABLE vendors.invitations
    DROP CONSTRAINT invitations_role_check,
    DROP CONSTRAINT invitations_organization_fkey,
    DROP COLUMN kind,
    ADD CONSTRAINT invitations_role_check CHECK (role IN ('OWNER', 'MANAGER', 'STAFF'));
ALTER TABLE vendors.invitations RENAME COLUMN organization_id TO vendor_id;
ALTER TABLE vendors.invitations ADD CONSTRAINT invitations_tenant_id_vendor_id_fkey
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id);
ALTER TABLE vendors.members
    DROP CONSTRAINT members_role_check,
    DROP CONSTRAINT members_organization_fkey,
    DROP COLUMN kind, DROP COLUMN order_limit, DROP COLUMN monthly_limit,
    ADD CONSTRAINT members_role_check CHECK (role IN ('OWNER', 'MANAGER', 'STAFF'));
ALTER TABLE vendors.members RENAME COLUMN organization_id TO vendor_id;
ALTER TABLE vendors.members ADD CONSTRAINT members_tenant_id_vendor_id_fkey
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id);
ALTER TABLE vendors.vendors DROP CONSTRAINT vendors_organization_fkey, DROP COLUMN kind;
DROP TABLE vendors.organizations;
