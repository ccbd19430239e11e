-- The platform's organizations: marketplace vendors and B2B buying companies share one id space
-- and one membership (members and invitations name an organization and its kind, and each kind
-- has its own roles).
CREATE TABLE vendors.organizations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('VENDOR', 'COMPANY')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT organizations_kind_key UNIQUE (tenant_id, id, kind)
);

-- Every vendor so far is an organization (read past row-level security: this runs as the owner).
ALTER TABLE vendors.vendors NO FORCE ROW LEVEL SECURITY;
INSERT INTO vendors.organizations (tenant_id, id, kind, created_at)
    SELECT tenant_id, id, 'VENDOR', created_at FROM vendors.vendors;
ALTER TABLE vendors.vendors FORCE ROW LEVEL SECURITY;
ALTER TABLE vendors.vendors
    ADD COLUMN kind text NOT NULL DEFAULT 'VENDOR' CHECK (kind = 'VENDOR'),
    ADD CONSTRAINT vendors_organization_fkey FOREIGN KEY (tenant_id, id, kind)
        REFERENCES vendors.organizations (tenant_id, id, kind);

-- Members and invitations belong to an organization of either kind, with that kind's roles.
ALTER TABLE vendors.members RENAME COLUMN vendor_id TO organization_id;
ALTER TABLE vendors.members
    DROP CONSTRAINT members_tenant_id_vendor_id_fkey,
    DROP CONSTRAINT members_role_check,
    ADD COLUMN kind text NOT NULL DEFAULT 'VENDOR',
    -- A buyer's spending limits, in its company's currency (minor units): per order, and per
    -- calendar month of committed spend. Null: no limit. Vendors' members have none.
    ADD COLUMN order_limit bigint CHECK (order_limit >= 0),
    ADD COLUMN monthly_limit bigint CHECK (monthly_limit >= 0),
    ADD CONSTRAINT members_organization_fkey FOREIGN KEY (tenant_id, organization_id, kind)
        REFERENCES vendors.organizations (tenant_id, id, kind),
    ADD CONSTRAINT members_role_check CHECK (
        (kind = 'VENDOR' AND role IN ('OWNER', 'MANAGER', 'STAFF')
            AND order_limit IS NULL AND monthly_limit IS NULL)
        OR (kind = 'COMPANY' AND role IN ('ADMIN', 'APPROVER', 'BUYER')));
ALTER TABLE vendors.members ALTER COLUMN kind DROP DEFAULT;

ALTER TABLE vendors.invitations RENAME COLUMN vendor_id TO organization_id;
ALTER TABLE vendors.invitations
    DROP CONSTRAINT invitations_tenant_id_vendor_id_fkey,
    DROP CONSTRAINT invitations_role_check,
    ADD COLUMN kind text NOT NULL DEFAULT 'VENDOR',
    ADD CONSTRAINT invitations_organization_fkey FOREIGN KEY (tenant_id, organization_id, kind)
        REFERENCES vendors.organizations (tenant_id, id, kind),
    ADD CONSTRAINT invitations_role_check CHECK (
        (kind = 'VENDOR' AND role IN ('OWNER', 'MANAGER', 'STAFF'))
        OR (kind = 'COMPANY' AND role IN ('ADMIN', 'APPROVER', 'BUYER')));
ALTER TABLE vendors.invitations ALTER COLUMN kind DROP DEFAULT;

-- The role a user holds on a vendor's team, when the vendor may still act.
CREATE OR REPLACE FUNCTION vendors.vendor_member(p_vendor uuid, p_user uuid)
RETURNS TABLE (role text)
LANGUAGE sql STABLE AS $$
    SELECT m.role FROM vendors.members m
    JOIN vendors.vendors v ON v.tenant_id = m.tenant_id AND v.id = m.organization_id
    WHERE m.organization_id = p_vendor AND m.user_id = p_user AND m.kind = 'VENDOR'
      AND v.status NOT IN ('REJECTED', 'CLOSED')
$$;

-- A B2B buying company of a tenant.
CREATE TABLE vendors.companies (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL DEFAULT 'COMPANY' CHECK (kind = 'COMPANY'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    legal_name text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 200),
    tax_id text CHECK (length(tax_id) BETWEEN 1 AND 40),
    vat_id text CHECK (length(vat_id) BETWEEN 1 AND 40),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    phone text,
    billing_address jsonb NOT NULL,
    status text NOT NULL DEFAULT 'PENDING_VERIFICATION'
        CHECK (status IN ('PENDING_VERIFICATION', 'ACTIVE', 'ON_HOLD', 'CLOSED')),
    status_reason text CHECK (length(status_reason) <= 1000),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Payment terms: PREPAID pays at checkout; NET_n puts the order on account, its invoice due
    -- n days after it is placed, with an optional early-payment discount (basis points if paid
    -- within so many days).
    payment_terms text NOT NULL DEFAULT 'PREPAID'
        CHECK (payment_terms IN ('PREPAID', 'NET_15', 'NET_30', 'NET_60', 'NET_90')),
    early_discount_bps int CHECK (early_discount_bps BETWEEN 1 AND 10000),
    early_discount_days int CHECK (early_discount_days BETWEEN 1 AND 90),
    -- What may be owed on account at once, in `currency` minor units.
    credit_limit bigint NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    -- Days past due before unpaid invoices put the company ON_HOLD.
    grace_days int NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 90),
    -- The catalog's customer group whose price lists and volume tiers its buyers get.
    customer_group_id uuid,
    po_required boolean NOT NULL DEFAULT false,
    -- Days an approval request may wait before it expires.
    approval_days int NOT NULL DEFAULT 7 CHECK (approval_days BETWEEN 1 AND 90),
    version int NOT NULL DEFAULT 1,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, id, kind) REFERENCES vendors.organizations (tenant_id, id, kind),
    CHECK ((early_discount_bps IS NULL) = (early_discount_days IS NULL)),
    CHECK (payment_terms <> 'PREPAID' OR early_discount_bps IS NULL),
    CHECK (status NOT IN ('ON_HOLD', 'CLOSED') OR status_reason IS NOT NULL)
);
CREATE INDEX companies_name ON vendors.companies (tenant_id, lower(name), id);

-- Where a company's orders may be shipped.
CREATE TABLE vendors.company_locations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    company_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    address jsonb NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES vendors.companies (tenant_id, id),
    CONSTRAINT company_locations_name_key UNIQUE (tenant_id, company_id, name)
);
CREATE UNIQUE INDEX company_locations_default ON vendors.company_locations (tenant_id, company_id)
    WHERE is_default;

-- A company's tax exemption certificate for one jurisdiction (a country, or one of its regions).
-- Staff verify it; a VERIFIED certificate applies to orders shipped there while the day is within
-- [valid_from, valid_until].
CREATE TABLE vendors.tax_exemptions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    company_id uuid NOT NULL,
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region text CHECK (length(region) BETWEEN 1 AND 100),
    number text NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
    valid_from date NOT NULL,
    valid_until date NOT NULL,
    document_url text NOT NULL CHECK (length(document_url) <= 2000),
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'VERIFIED', 'REJECTED', 'REVOKED')),
    reason text CHECK (length(reason) <= 1000),
    reviewed_by uuid,
    reviewed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES vendors.companies (tenant_id, id),
    CHECK (valid_until >= valid_from),
    CHECK (status NOT IN ('REJECTED', 'REVOKED') OR reason IS NOT NULL)
);
CREATE INDEX tax_exemptions_company ON vendors.tax_exemptions (tenant_id, company_id, country);

SELECT platform.tenant_table('vendors.organizations', 'vendors.companies',
                             'vendors.company_locations', 'vendors.tax_exemptions');

-- Published to every subgraph's request context (cityos_server::context): the role `p_user`
-- holds in company `p_company` of the current tenant, when the company is not closed.
CREATE FUNCTION vendors.company_member(p_company uuid, p_user uuid)
RETURNS TABLE (role text)
LANGUAGE sql STABLE AS $$
    SELECT m.role FROM vendors.members m
    JOIN vendors.companies c ON c.tenant_id = m.tenant_id AND c.id = m.organization_id
    WHERE m.organization_id = p_company AND m.user_id = p_user AND m.kind = 'COMPANY'
      AND c.status <> 'CLOSED'
$$;
