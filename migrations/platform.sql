-- The platform's own SQL: what every subgraph's migrations call instead of repeating it.
--
-- `cityos_db::migrate` runs this file in each database before any schema's migrations (under an
-- advisory lock, as the database owner). Everything here is CREATE OR REPLACE, so this file is the
-- one home of these functions and git holds their history. The testkit digests it with the
-- migrations, so a change here builds new test templates.
--
--   SELECT platform.app_schema('vendors');                  -- the application role may use it
--   SELECT platform.tenant_table('vendors.payouts', ...);   -- RLS enabled, forced, one policy
--   SELECT platform.create_outbox('vendors');               -- vendors.outbox for cityos_db::outbox
--
-- cityos_testkit::assert_every_tenant_table_isolated scans the catalogue for any table with a
-- tenant_id that is not held this way.

CREATE SCHEMA IF NOT EXISTS platform;

-- The application role (cityos_app) may use the schema: read and write its tables and run its
-- functions, present and future (objects the migrating owner creates there).
CREATE OR REPLACE FUNCTION platform.app_schema(s name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cityos_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cityos_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT EXECUTE ON FUNCTIONS TO cityos_app', s);
END $$;

-- Makes tables tenant-owned: row-level security enabled and forced (the owner is held too), with
-- the one policy `tenant_isolation`: a row is visible and writable only inside the transaction's
-- `app.tenant_id` (set by cityos_db's tenant transactions), and no row at all without one.
CREATE OR REPLACE FUNCTION platform.tenant_table(VARIADIC tables regclass[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t regclass;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %s
            USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END $$;

-- The schema's outbox, in the exact shape cityos_db::outbox writes and dispatches: events written
-- in the transaction of the change, claimed for a lease by the dispatcher (role cityos_outbox, which
-- may read every tenant's events and update only their delivery state).
CREATE OR REPLACE FUNCTION platform.create_outbox(s name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($t$CREATE TABLE %I.outbox (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        topic text NOT NULL,
        aggregate_id uuid,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        PRIMARY KEY (tenant_id, id)
    )$t$, s);
    EXECUTE format('CREATE INDEX outbox_due ON %I.outbox (next_attempt_at, id) WHERE published_at IS NULL', s);
    PERFORM platform.tenant_table(format('%I.outbox', s)::regclass);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cityos_outbox', s);
    EXECUTE format('GRANT SELECT, UPDATE (attempts, next_attempt_at, last_error, published_at) ON %I.outbox TO cityos_outbox', s);
    EXECUTE format('CREATE POLICY dispatcher ON %I.outbox TO cityos_outbox USING (true)', s);
END $$;
