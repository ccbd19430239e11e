CREATE OR REPLACE FUNCTION bookings.live_seats(session uuid, taken integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT taken - coalesce((SELECT sum(h.seats)::integer FROM bookings.holds h
        WHERE h.session_id = session AND h.status = 'HELD' AND h.expires_at <= now()), 0)
$$;
DROP TABLE bookings.waitlist;
