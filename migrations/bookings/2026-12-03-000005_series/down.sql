DROP INDEX bookings.bookings_series;
ALTER TABLE bookings.bookings DROP COLUMN series_id;
ALTER TABLE bookings.holds DROP COLUMN series_id;
DROP TABLE bookings.series;
