-- Reads find the holds and offers past their time (whose seats no longer count) in one small
-- scan each, by time, instead of a function call per session (`sessions::STALE`).
DROP FUNCTION bookings.live_seats(uuid, integer);
CREATE INDEX holds_stale ON bookings.holds (tenant_id, expires_at) WHERE status = 'HELD';
CREATE INDEX waitlist_stale ON bookings.waitlist (tenant_id, offer_expires_at) WHERE status = 'OFFERED';
