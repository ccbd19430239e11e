DROP TABLE bookings.jobs;
DROP FUNCTION bookings.live_seats(uuid, integer);
DROP TABLE bookings.holds;
ALTER TABLE bookings.claims DROP COLUMN session_id;
DROP TABLE bookings.sessions;
ALTER TABLE bookings.services DROP COLUMN hold_minutes;
