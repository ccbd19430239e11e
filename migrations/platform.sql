-- The platform's own SQL: what every subgraph's migrations call instead of repeating it.
--
-- `cityos_db::migrate` runs this file in each database before any schema's migrations (under an
-- advisory lock, as the database owner). Everything here is CREATE OR REPLACE, so this file is the
-- one home of these functions and git holds their history. The testkit digests it with the
-- migrations, so a change here builds new test templates.
--
--   SELECT platform.app_schema('vendors');                  -- the application role may use it
--   SELECT platform.tenant_table('vendors.payouts', ...);   -- RLS enabled, forced, one policy
--   SELECT platform.create_outbox('vendors');               -- events out (cityos_db::outbox)
--   SELECT platform.create_inbox('vendors');                -- events in (cityos_server::consume)
--   SELECT platform.create_jobs('vendors');                 -- durable jobs (cityos_db::jobs)
--   SELECT platform.track_changes('vendors');               -- response cache (cityos_server::cache)
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

-- The schema's events, in the exact shape cityos_db::outbox writes and dispatches:
--   outbox         append-only: each event written in the transaction of the change it describes;
--   subscriptions  which subscribers (subgraphs, by name) take which topics: synced from
--                  subgraphs.toml by the publishing process when it starts (not tenant-owned);
--   deliveries     one row per event and subscriber, written with the event (Outbox::publish), so
--                  each subscriber has its own state (pending, delivered, or dead after too many
--                  refusals), its own attempts, next attempt and last error.
-- The worker role (cityos_worker) reads every tenant's events and updates only delivery state.
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
        PRIMARY KEY (tenant_id, id)
    )$t$, s);
    PERFORM platform.tenant_table(format('%I.outbox', s)::regclass);
    PERFORM platform.event_deliveries(s);
END $$;

-- Per-subscriber delivery state for an outbox (part of create_outbox; safe to repeat). It also
-- brings an outbox of the first shape (one delivery state on the event itself, for one endpoint)
-- to this one; events still waiting there had no subscriber to go to.
CREATE OR REPLACE FUNCTION platform.event_deliveries(s name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP POLICY IF EXISTS dispatcher ON %I.outbox', s);
    EXECUTE format('DROP INDEX IF EXISTS %I.outbox_due', s);
    EXECUTE format('ALTER TABLE %I.outbox DROP COLUMN IF EXISTS published_at, DROP COLUMN IF EXISTS attempts,
        DROP COLUMN IF EXISTS next_attempt_at, DROP COLUMN IF EXISTS last_error', s);
    EXECUTE format($t$CREATE TABLE IF NOT EXISTS %I.subscriptions (
        topic text NOT NULL,
        subscriber text NOT NULL,
        PRIMARY KEY (topic, subscriber)
    )$t$, s);
    EXECUTE format($t$CREATE TABLE IF NOT EXISTS %I.deliveries (
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        subscriber text NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        delivered_at timestamptz,
        PRIMARY KEY (tenant_id, event_id, subscriber),
        FOREIGN KEY (tenant_id, event_id) REFERENCES %I.outbox ON DELETE CASCADE
    )$t$, s, s);
    EXECUTE format($i$CREATE INDEX IF NOT EXISTS deliveries_pending ON %I.deliveries (subscriber, event_id)
        WHERE state = 'pending'$i$, s);
    EXECUTE format($i$CREATE INDEX IF NOT EXISTS deliveries_dead ON %I.deliveries (event_id)
        WHERE state = 'dead'$i$, s);
    PERFORM platform.tenant_table(format('%I.deliveries', s)::regclass);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cityos_worker', s);
    -- DELETE: the retention sweep (cityos_db::ops::prune) removes events delivered everywhere.
    EXECUTE format('GRANT SELECT ON %I.subscriptions TO cityos_worker', s);
    EXECUTE format('GRANT SELECT, DELETE ON %I.outbox TO cityos_worker', s);
    EXECUTE format('GRANT SELECT, DELETE, UPDATE (state, attempts, next_attempt_at, last_error, delivered_at)
        ON %I.deliveries TO cityos_worker', s);
    EXECUTE format('DROP POLICY IF EXISTS worker ON %I.outbox', s);
    EXECUTE format('CREATE POLICY worker ON %I.outbox TO cityos_worker USING (true)', s);
    EXECUTE format('DROP POLICY IF EXISTS worker ON %I.deliveries', s);
    EXECUTE format('CREATE POLICY worker ON %I.deliveries TO cityos_worker USING (true)', s);
END $$;

-- The schema's inbox (cityos_server::consume): the id of every event a consumer applied, written in
-- the transaction of its effect, so an event that arrives again changes nothing.
CREATE OR REPLACE FUNCTION platform.create_inbox(s name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($t$CREATE TABLE IF NOT EXISTS %I.inbox (
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        source text NOT NULL,
        topic text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, event_id)
    )$t$, s);
    PERFORM platform.tenant_table(format('%I.inbox', s)::regclass);
    -- The retention sweep removes ids older than any event that could still be redelivered.
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cityos_worker', s);
    EXECUTE format('GRANT SELECT, DELETE ON %I.inbox TO cityos_worker', s);
    EXECUTE format('DROP POLICY IF EXISTS worker ON %I.inbox', s);
    EXECUTE format('CREATE POLICY worker ON %I.inbox TO cityos_worker USING (true)', s);
END $$;

-- The schema's durable jobs (cityos_db::jobs): work to run for a tenant at a time, idempotent by
-- (name, key), claimed by runners with SKIP LOCKED under a lease, retried with backoff, dead after
-- its attempts. The application role schedules them inside its tenant transactions; the worker
-- role claims and records every tenant's.
CREATE OR REPLACE FUNCTION platform.create_jobs(s name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($t$CREATE TABLE IF NOT EXISTS %I.jobs (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        name text NOT NULL,
        key text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        run_at timestamptz NOT NULL,
        state text NOT NULL DEFAULT 'scheduled'
            CHECK (state IN ('scheduled', 'running', 'done', 'dead', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
        lease_until timestamptz,
        claimed_by uuid,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, name, key)
    )$t$, s);
    EXECUTE format($i$CREATE INDEX IF NOT EXISTS jobs_due ON %I.jobs (run_at)
        WHERE state IN ('scheduled', 'running')$i$, s);
    EXECUTE format($i$CREATE INDEX IF NOT EXISTS jobs_dead ON %I.jobs (created_at)
        WHERE state = 'dead'$i$, s);
    PERFORM platform.tenant_table(format('%I.jobs', s)::regclass);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO cityos_worker', s);
    EXECUTE format('GRANT SELECT, DELETE, UPDATE (state, run_at, attempts, lease_until, claimed_by,
        last_error, finished_at) ON %I.jobs TO cityos_worker', s);
    EXECUTE format('DROP POLICY IF EXISTS worker ON %I.jobs', s);
    EXECUTE format('CREATE POLICY worker ON %I.jobs TO cityos_worker USING (true)', s);
END $$;

-- Change notification for a schema's response cache (cityos_server::cache). Every statement that
-- writes rows of one of the schema's tenant tables notifies `cityos_changes_<schema>` with each
-- tenant it wrote, at commit (PostgreSQL folds a transaction's identical notifications into one,
-- and a transaction that rolls back sends none), whichever process writes. The cache's listener
-- drops that tenant's answers when the notification arrives.
-- Every tenant table of the schema but the event and job machinery is tracked: a migration that
-- adds a table calls this again (safe to repeat), and the testkit refuses a template where a
-- tenant table of a tracking schema is not tracked.
CREATE OR REPLACE FUNCTION platform.track_changes(s name) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t record;
BEGIN
    -- One trigger function for every table and operation: the triggers name their transition
    -- table `changed_rows` (the new rows of an insert or update, the old rows of a delete).
    EXECUTE format($f$CREATE OR REPLACE FUNCTION %I.record_change() RETURNS trigger
        LANGUAGE plpgsql AS $b$
        BEGIN
            PERFORM pg_notify(%L, d.tenant_id::text)
            FROM (SELECT DISTINCT tenant_id FROM changed_rows) d;
            RETURN NULL;
        END $b$ $f$, s, 'cityos_changes_' || s);
    FOR t IN
        SELECT c.oid::regclass AS tbl
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = s AND c.relkind IN ('r', 'p')
          AND c.relname NOT IN ('outbox', 'deliveries', 'inbox', 'jobs')
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS record_insert ON %s', t.tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS record_update ON %s', t.tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS record_delete ON %s', t.tbl);
        EXECUTE format('CREATE TRIGGER record_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %I.record_change()', t.tbl, s);
        EXECUTE format('CREATE TRIGGER record_update AFTER UPDATE ON %s REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %I.record_change()', t.tbl, s);
        EXECUTE format('CREATE TRIGGER record_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION %I.record_change()', t.tbl, s);
    END LOOP;
END $$;
