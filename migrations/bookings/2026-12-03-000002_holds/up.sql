-- bookings, second slice: sessions (a service at a start with its provider and resource, holding
-- its seats and, while any seat is taken, its claims on their time), holds on their seats while a
-- customer checks out, and the jobs that expire holds.

-- How long a hold keeps its seats, per service.
ALTER TABLE bookings.services ADD COLUMN hold_minutes integer NOT NULL DEFAULT 10
    CHECK (hold_minutes BETWEEN 1 AND 60);

-- A session of a service: one start with one provider (if the service takes providers) and one
-- resource (if it takes resources). `seats_taken` counts the seats of its holds and bookings that
-- are live; it never passes `capacity` (1 for an appointment). While it is above 0, the session
-- claims its calendars' time with the service's buffers (`bookings.claims`, `session_id`); at 0
-- those claims are gone, so the time is free again.
CREATE TABLE bookings.sessions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    service_id uuid NOT NULL,
    provider_id uuid,
    resource_id uuid,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    capacity integer NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    seats_taken integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id),
    FOREIGN KEY (tenant_id, provider_id) REFERENCES bookings.calendars (tenant_id, id),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES bookings.calendars (tenant_id, id),
    CHECK (starts_at < ends_at),
    CHECK (seats_taken BETWEEN 0 AND capacity),
    CONSTRAINT sessions_slot UNIQUE NULLS NOT DISTINCT (tenant_id, service_id, starts_at, provider_id, resource_id)
);
CREATE INDEX sessions_provider ON bookings.sessions (tenant_id, provider_id, starts_at) WHERE seats_taken > 0;
SELECT platform.tenant_table('bookings.sessions');

-- A session's claims carry it; blocked time carries a reason instead.
ALTER TABLE bookings.claims ADD COLUMN session_id uuid,
    ADD FOREIGN KEY (tenant_id, session_id) REFERENCES bookings.sessions (tenant_id, id),
    ADD CHECK ((session_id IS NULL) = (reason IS NOT NULL));
CREATE INDEX claims_session ON bookings.claims (tenant_id, session_id) WHERE session_id IS NOT NULL;

-- A hold on seats of a session while a customer checks out: HELD until it expires (its job, at
-- `expires_at`; reads never count a hold past it), is released, or becomes a booking.
CREATE TABLE bookings.holds (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    session_id uuid NOT NULL,
    service_id uuid NOT NULL,
    seats integer NOT NULL CHECK (seats BETWEEN 1 AND 10000),
    customer_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'HELD' CHECK (status IN ('HELD', 'RELEASED', 'EXPIRED', 'CONVERTED')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES bookings.sessions (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id),
    CHECK ((status = 'HELD') = (ended_at IS NULL))
);
CREATE INDEX holds_live ON bookings.holds (tenant_id, session_id) WHERE status = 'HELD';
CREATE INDEX holds_customer ON bookings.holds (tenant_id, customer_id, created_at);
SELECT platform.tenant_table('bookings.holds');

-- The seats of a session that still count: taken, less those of its holds past their time that
-- the expiry job has not ended yet.
CREATE FUNCTION bookings.live_seats(session uuid, taken integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT taken - coalesce((SELECT sum(h.seats)::integer FROM bookings.holds h
        WHERE h.session_id = session AND h.status = 'HELD' AND h.expires_at <= now()), 0)
$$;

SELECT platform.create_jobs('bookings');
