DROP INDEX bookings.waitlist_stale;
DROP INDEX bookings.holds_stale;
CREATE FUNCTION bookings.live_seats(session uuid, taken integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT taken
        - coalesce((SELECT sum(h.seats)::integer FROM bookings.holds h
            WHERE h.session_id = session AND h.status = 'HELD' AND h.expires_at <= now()), 0)
        - coalesce((SELECT sum(w.seats)::integer FROM bookings.waitlist w
            WHERE w.session_id = session AND w.status = 'OFFERED' AND w.offer_expires_at <= now()), 0)
$$;
