-- identity: tenants, their domains, users, sessions, API keys and the audit log.
-- Tenant-owned tables lead with tenant_id (primary and foreign keys), so they can be distributed by
-- tenant later, and FORCE ROW LEVEL SECURITY keeps every query inside `app.tenant_id`.

SELECT platform.app_schema('identity');

-- The tenant directory. Readable before a tenant is known (resolution from slug, host or token);
-- written only inside the tenant's own scope.
CREATE TABLE identity.tenants (
    id uuid PRIMARY KEY,
    kind text NOT NULL DEFAULT 'TENANT' CHECK (kind IN ('PLATFORM', 'TENANT')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    default_currency text NOT NULL CHECK (default_currency ~ '^[A-Z]{3}$'),
    default_locale text NOT NULL,
    supported_locales text[] NOT NULL,
    timezone text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_default_locale_supported CHECK (default_locale = ANY (supported_locales))
);

-- Platform admins belong to this pseudo-tenant; it is never selectable by slug, host or key.
INSERT INTO identity.tenants (id, kind, name, slug, default_currency, default_locale, supported_locales, timezone)
VALUES ('00000000-0000-0000-0000-000000000000', 'PLATFORM', 'CityOS platform', 'platform', 'USD', 'en', '{en}', 'UTC');

ALTER TABLE identity.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON identity.tenants FOR SELECT USING (true);
CREATE POLICY tenant_insert ON identity.tenants FOR INSERT
    WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_update ON identity.tenants FOR UPDATE
    USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Host names that select a tenant (storefront domains). Readable before a tenant is known.
CREATE TABLE identity.tenant_domains (
    tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
    id uuid NOT NULL,
    host text NOT NULL CHECK (host ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT tenant_domains_host_key UNIQUE (host)
);
ALTER TABLE identity.tenant_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.tenant_domains FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_read ON identity.tenant_domains FOR SELECT USING (true);
CREATE POLICY tenant_insert ON identity.tenant_domains FOR INSERT
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY tenant_delete ON identity.tenant_domains FOR DELETE
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- Customers, staff and platform admins. Email is stored lower-cased and unique per tenant.
CREATE TABLE identity.users (
    tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('CUSTOMER', 'STAFF', 'PLATFORM_ADMIN')),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    password_hash text NOT NULL,
    first_name text,
    last_name text,
    roles text[] NOT NULL,
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_email_key UNIQUE (tenant_id, email)
);

-- Refresh tokens, stored as SHA-256 digests. Each sign-in starts a family; every refresh uses one
-- token up and issues the next. Presenting a used token revokes the whole family.
CREATE TABLE identity.refresh_tokens (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES identity.users (tenant_id, id),
    CONSTRAINT refresh_tokens_hash_key UNIQUE (tenant_id, token_hash)
);
CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (tenant_id, family_id);

-- API keys: PUBLISHABLE (storefronts: anonymous, read-only) and SECRET (servers).
CREATE TABLE identity.api_keys (
    tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('PUBLISHABLE', 'SECRET')),
    key_hash bytea NOT NULL,
    token_hint text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_keys_hash_key UNIQUE (tenant_id, key_hash)
);

-- Every admin mutation, in every subgraph, leaves a row here (through identity.audit_record).
CREATE TABLE identity.audit_log (
    tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
    id uuid NOT NULL,
    actor_id uuid,
    actor_kind text NOT NULL,
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid,
    details jsonb NOT NULL DEFAULT '{}',
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

SELECT platform.tenant_table('identity.users', 'identity.refresh_tokens', 'identity.api_keys', 'identity.audit_log');

-- What identity publishes to the other subgraphs (they never touch its tables directly).

-- Resolves a tenant by exactly one of id, slug or host. The platform pseudo-tenant is never returned.
CREATE FUNCTION identity.tenant_lookup(p_id uuid, p_slug text, p_host text)
RETURNS TABLE (id uuid, slug text, status text, default_currency text, default_locale text)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.slug, t.status, t.default_currency, t.default_locale
    FROM identity.tenants t
    WHERE t.kind = 'TENANT'
      AND (t.id = p_id
           OR t.slug = p_slug
           OR t.id = (SELECT d.tenant_id FROM identity.tenant_domains d WHERE d.host = p_host))
$$;

-- Authenticates an API key by digest within the current tenant scope (row-level security applies).
CREATE FUNCTION identity.api_key_authenticate(p_digest bytea)
RETURNS TABLE (id uuid, kind text)
LANGUAGE sql STABLE AS $$
    SELECT k.id, k.kind FROM identity.api_keys k
    WHERE k.key_hash = p_digest AND k.revoked_at IS NULL
$$;

-- Records an audit row in the current tenant scope, inside the caller's transaction.
CREATE FUNCTION identity.audit_record(
    p_id uuid, p_actor_id uuid, p_actor_kind text, p_action text,
    p_entity_type text, p_entity_id uuid, p_details jsonb, p_request_id text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO identity.audit_log (tenant_id, id, actor_id, actor_kind, action, entity_type, entity_id, details, request_id)
    VALUES (NULLIF(current_setting('app.tenant_id', true), '')::uuid, p_id, p_actor_id, p_actor_kind, p_action,
            p_entity_type, p_entity_id, p_details, p_request_id)
$$;
