-- vendors, first slice: marketplace vendors, their onboarding documents and their teams.

SELECT platform.app_schema('vendors');

-- A seller on a tenant's marketplace. Its lifecycle: APPLIED -> UNDER_REVIEW -> APPROVED or
-- REJECTED; APPROVED <-> SUSPENDED; any -> CLOSED (vendors::vendors::VendorStatus). `version`
-- counts its transitions, so consumers of its events apply them in order however they arrive.
CREATE TABLE vendors.vendors (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    handle text NOT NULL CHECK (handle ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(handle) <= 63),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    logo_url text CHECK (logo_url ~ '^https://' AND length(logo_url) <= 2000),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    phone text CHECK (length(phone) <= 32),
    address jsonb,
    default_currency text NOT NULL CHECK (default_currency ~ '^[A-Z]{3}$'),
    handling_days integer NOT NULL CHECK (handling_days BETWEEN 0 AND 60),
    status text NOT NULL DEFAULT 'APPLIED'
        CHECK (status IN ('APPLIED', 'UNDER_REVIEW', 'APPROVED', 'REJECTED', 'SUSPENDED', 'CLOSED')),
    status_reason text CHECK (length(status_reason) <= 1000),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    approved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT vendors_handle_key UNIQUE (tenant_id, handle),
    CHECK (status NOT IN ('REJECTED', 'SUSPENDED') OR status_reason IS NOT NULL)
);
-- Storefronts list approved vendors.
CREATE INDEX vendors_approved ON vendors.vendors (tenant_id, id) WHERE status = 'APPROVED';

-- What a tenant asks of its vendors: the document kinds approval needs.
CREATE TABLE vendors.settings (
    tenant_id uuid NOT NULL,
    required_documents text[] NOT NULL
        DEFAULT '{COMMERCIAL_REGISTRATION,VAT_CERTIFICATE,OWNER_ID,BANK_LETTER}'
        CHECK (required_documents <@ '{COMMERCIAL_REGISTRATION,VAT_CERTIFICATE,OWNER_ID,BANK_LETTER}'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

-- A know-your-customer document a vendor submits (a file it hosts, named by its https URL and
-- pinned by its SHA-256), reviewed by staff. A new document of a kind supersedes the vendor's
-- current one, so each kind has one current document at most.
CREATE TABLE vendors.documents (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    kind text NOT NULL
        CHECK (kind IN ('COMMERCIAL_REGISTRATION', 'VAT_CERTIFICATE', 'OWNER_ID', 'BANK_LETTER')),
    url text NOT NULL CHECK (url ~ '^https://' AND length(url) <= 2000),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    expires_on date NOT NULL,
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED', 'SUPERSEDED')),
    reason text CHECK (length(reason) <= 1000),
    submitted_by uuid,
    reviewed_by uuid,
    reviewed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id),
    CHECK (status <> 'REJECTED' OR reason IS NOT NULL)
);
CREATE UNIQUE INDEX documents_current ON vendors.documents (tenant_id, vendor_id, kind)
    WHERE status <> 'SUPERSEDED';

-- Who works for a vendor: a user of the tenant with a role on its team.
CREATE TABLE vendors.members (
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL CHECK (role IN ('OWNER', 'MANAGER', 'STAFF')),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor_id, user_id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id)
);
CREATE INDEX members_user ON vendors.members (tenant_id, user_id);

-- An invitation to a vendor's team, for an e-mail address: its token is shown once to the
-- inviter and kept as its SHA-256 digest; whoever signs in with that address may accept it once,
-- before it expires.
CREATE TABLE vendors.invitations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    role text NOT NULL CHECK (role IN ('OWNER', 'MANAGER', 'STAFF')),
    token_digest bytea NOT NULL CHECK (length(token_digest) = 32),
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'ACCEPTED', 'REVOKED')),
    invited_by uuid,
    accepted_by uuid,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invitations_token_key UNIQUE (tenant_id, token_digest),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id)
);
-- One pending invitation per address and vendor: inviting again replaces it.
CREATE UNIQUE INDEX invitations_pending ON vendors.invitations (tenant_id, vendor_id, email)
    WHERE status = 'PENDING';

SELECT platform.tenant_table('vendors.vendors', 'vendors.settings', 'vendors.documents',
                             'vendors.members', 'vendors.invitations');

-- Published to every subgraph's request context (cityos_server::context): the role `p_user`
-- holds on the team of vendor `p_vendor` of the current tenant, when the vendor may still act
-- (not rejected or closed). No row: not on the team.
CREATE FUNCTION vendors.vendor_member(p_vendor uuid, p_user uuid)
RETURNS TABLE (role text)
LANGUAGE sql STABLE AS $$
    SELECT m.role FROM vendors.members m
    JOIN vendors.vendors v ON v.tenant_id = m.tenant_id AND v.id = m.vendor_id
    WHERE m.vendor_id = p_vendor AND m.user_id = p_user
      AND v.status NOT IN ('REJECTED', 'CLOSED')
$$;

-- Events for other domains (vendor.<status>), written in the transaction of the change.
SELECT platform.create_outbox('vendors');
