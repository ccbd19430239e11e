-- bookings, fourth slice: the waitlist of a full slot. When seats of the slot's session free, the
-- first in line whose party fits gets an offer: the seats are taken for them at once (so no one
-- else can), for the service's hold minutes. Accepted, the offer becomes a hold they check out;
-- declined or expired, the seats go to the next in line.
CREATE TABLE bookings.waitlist (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    service_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    provider_id uuid,
    seats integer NOT NULL CHECK (seats BETWEEN 1 AND 10000),
    customer_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'WAITING'
        CHECK (status IN ('WAITING', 'OFFERED', 'ACCEPTED', 'EXPIRED', 'LEFT')),
    session_id uuid,
    offer_expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES bookings.sessions (tenant_id, id),
    CHECK (status <> 'OFFERED' OR (offer_expires_at IS NOT NULL AND session_id IS NOT NULL)),
    CHECK ((status IN ('WAITING', 'OFFERED')) = (ended_at IS NULL))
);
-- One place in line per customer and slot.
CREATE UNIQUE INDEX waitlist_customer ON bookings.waitlist (tenant_id, service_id, starts_at, customer_id)
    WHERE status IN ('WAITING', 'OFFERED');
CREATE INDEX waitlist_line ON bookings.waitlist (tenant_id, service_id, starts_at, created_at, id)
    WHERE status = 'WAITING';
CREATE INDEX waitlist_offers ON bookings.waitlist (tenant_id, session_id) WHERE status = 'OFFERED';
SELECT platform.tenant_table('bookings.waitlist');

-- The seats of a session that still count: taken, less those of its holds and waitlist offers
-- past their time that their jobs have not ended yet.
CREATE OR REPLACE FUNCTION bookings.live_seats(session uuid, taken integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT taken
        - coalesce((SELECT sum(h.seats)::integer FROM bookings.holds h
            WHERE h.session_id = session AND h.status = 'HELD' AND h.expires_at <= now()), 0)
        - coalesce((SELECT sum(w.seats)::integer FROM bookings.waitlist w
            WHERE w.session_id = session AND w.status = 'OFFERED' AND w.offer_expires_at <= now()), 0)
$$;
