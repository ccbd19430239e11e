-- bookings, first slice: what can be booked (services), who and what it takes (providers and
-- resources, each with a calendar: weekly hours in its IANA time zone, date overrides, the
-- tenant's holidays), and the claims on their time that no two may share.

SELECT platform.app_schema('bookings');

CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

-- A provider (a person: a practitioner, a coach, a stylist) or a resource (a room, a court, a
-- piece of equipment, a table): anything whose time a booking takes. Both kinds share one table
-- because hours, overrides and claims treat them alike. A resource may hold seats (a room of 12
-- caps a class of 20 at 12). A provider may be a user of the tenant, who then sees their own
-- calendar. `vendor_id` is the vendor it works for (none: the tenant itself).
CREATE TABLE bookings.calendars (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('PROVIDER', 'RESOURCE')),
    vendor_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    -- Checked against the tz database by the subgraph (chrono-tz); at most 64 characters.
    time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    user_id uuid,
    resource_kind text CHECK (resource_kind IN ('ROOM', 'COURT', 'EQUIPMENT', 'VEHICLE', 'TABLE', 'OTHER')),
    seats integer CHECK (seats BETWEEN 1 AND 10000),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((kind = 'RESOURCE') = (resource_kind IS NOT NULL)),
    CHECK (kind = 'RESOURCE' OR seats IS NULL),
    CHECK (kind = 'PROVIDER' OR user_id IS NULL)
);
-- A user is one provider of a tenant at most.
CREATE UNIQUE INDEX calendars_user ON bookings.calendars (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX calendars_vendor ON bookings.calendars (tenant_id, vendor_id, kind);
SELECT platform.tenant_table('bookings.calendars');

-- The weekly hours of a calendar: spans of a weekday (1 Monday to 7 Sunday) in minutes from its
-- local midnight; a span may close past midnight (up to the end of the next day).
CREATE TABLE bookings.weekly_hours (
    tenant_id uuid NOT NULL,
    calendar_id uuid NOT NULL,
    weekday smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    opens smallint NOT NULL CHECK (opens BETWEEN 0 AND 1439),
    closes smallint NOT NULL CHECK (closes <= 2880),
    PRIMARY KEY (tenant_id, calendar_id, weekday, opens),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES bookings.calendars (tenant_id, id) ON DELETE CASCADE,
    CHECK (opens < closes)
);
SELECT platform.tenant_table('bookings.weekly_hours');

-- A date override of a calendar: on its local date the spans below replace the weekday's, and
-- none means closed.
CREATE TABLE bookings.date_overrides (
    tenant_id uuid NOT NULL,
    calendar_id uuid NOT NULL,
    on_date date NOT NULL,
    reason text CHECK (length(reason) <= 500),
    PRIMARY KEY (tenant_id, calendar_id, on_date),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES bookings.calendars (tenant_id, id) ON DELETE CASCADE
);
SELECT platform.tenant_table('bookings.date_overrides');

CREATE TABLE bookings.override_hours (
    tenant_id uuid NOT NULL,
    calendar_id uuid NOT NULL,
    on_date date NOT NULL,
    opens smallint NOT NULL CHECK (opens BETWEEN 0 AND 1439),
    closes smallint NOT NULL CHECK (closes <= 2880),
    PRIMARY KEY (tenant_id, calendar_id, on_date, opens),
    FOREIGN KEY (tenant_id, calendar_id, on_date)
        REFERENCES bookings.date_overrides (tenant_id, calendar_id, on_date) ON DELETE CASCADE,
    CHECK (opens < closes)
);
SELECT platform.tenant_table('bookings.override_hours');

-- The tenant's holidays: every calendar is closed on the local date unless an override opens it.
CREATE TABLE bookings.holidays (
    tenant_id uuid NOT NULL,
    on_date date NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    PRIMARY KEY (tenant_id, on_date)
);
SELECT platform.tenant_table('bookings.holidays');

-- A bookable service. Durations in minutes; `capacity` seats a session (1: an appointment);
-- cancelling is free until `free_cancel_hours` before the start, after which `cancel_fee_bps` of
-- the price is kept. Priced per currency below, or by the catalog product it is linked to.
CREATE TABLE bookings.services (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    vendor_id uuid,
    product_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 480),
    buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 480),
    min_notice_minutes integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes BETWEEN 0 AND 525600),
    max_days_ahead integer NOT NULL DEFAULT 60 CHECK (max_days_ahead BETWEEN 1 AND 730),
    slot_interval_minutes integer NOT NULL CHECK (slot_interval_minutes BETWEEN 5 AND 1440),
    capacity integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 1000),
    requires_confirmation boolean NOT NULL DEFAULT false,
    free_cancel_hours integer NOT NULL DEFAULT 24 CHECK (free_cancel_hours BETWEEN 0 AND 8760),
    cancel_fee_bps integer NOT NULL DEFAULT 0 CHECK (cancel_fee_bps BETWEEN 0 AND 10000),
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'ARCHIVED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- A catalog product is one service at most (`Product.service`).
CREATE UNIQUE INDEX services_product ON bookings.services (tenant_id, product_id) WHERE product_id IS NOT NULL;
CREATE INDEX services_vendor ON bookings.services (tenant_id, vendor_id, id);
SELECT platform.tenant_table('bookings.services');

CREATE TABLE bookings.service_prices (
    tenant_id uuid NOT NULL,
    service_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint NOT NULL CHECK (amount_minor BETWEEN 0 AND 100000000000),
    PRIMARY KEY (tenant_id, service_id, currency),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id) ON DELETE CASCADE
);
SELECT platform.tenant_table('bookings.service_prices');

-- Who and what a service takes: a session takes one of its providers (when it lists any) and one
-- of its resources (when it lists any).
CREATE TABLE bookings.service_calendars (
    tenant_id uuid NOT NULL,
    service_id uuid NOT NULL,
    calendar_id uuid NOT NULL,
    PRIMARY KEY (tenant_id, service_id, calendar_id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES bookings.calendars (tenant_id, id)
);
CREATE INDEX service_calendars_calendar ON bookings.service_calendars (tenant_id, calendar_id);
SELECT platform.tenant_table('bookings.service_calendars');

-- A claim on a calendar's time, `[start, end)`: time staff blocked, and (in later migrations) a
-- session of a service with its buffers. No two claims of one calendar overlap: the database
-- refuses the second, whatever checked availability before.
CREATE TABLE bookings.claims (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    calendar_id uuid NOT NULL,
    during tstzrange NOT NULL CHECK (NOT isempty(during) AND lower_inc(during) AND NOT upper_inc(during)
        AND NOT lower_inf(during) AND NOT upper_inf(during)),
    reason text CHECK (length(reason) <= 500),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, calendar_id) REFERENCES bookings.calendars (tenant_id, id),
    CONSTRAINT claims_no_overlap EXCLUDE USING gist (tenant_id WITH =, calendar_id WITH =, during WITH &&)
);
SELECT platform.tenant_table('bookings.claims');
