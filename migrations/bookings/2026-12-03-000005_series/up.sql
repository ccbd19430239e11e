-- bookings, fifth slice: recurring bookings. A series holds the same local time every N weeks
-- for up to 52 occurrences, all or nothing or skipping conflicts; each occurrence is a hold of
-- its own (and, checked out, a booking of its own) that names its series.
CREATE TABLE bookings.series (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    service_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    every_weeks integer NOT NULL CHECK (every_weeks BETWEEN 1 AND 4),
    occurrences integer NOT NULL CHECK (occurrences BETWEEN 2 AND 52),
    time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    skip_conflicts boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id)
);
SELECT platform.tenant_table('bookings.series');

ALTER TABLE bookings.holds ADD COLUMN series_id uuid,
    ADD FOREIGN KEY (tenant_id, series_id) REFERENCES bookings.series (tenant_id, id);
ALTER TABLE bookings.bookings ADD COLUMN series_id uuid,
    ADD FOREIGN KEY (tenant_id, series_id) REFERENCES bookings.series (tenant_id, id);
CREATE INDEX bookings_series ON bookings.bookings (tenant_id, series_id) WHERE series_id IS NOT NULL;
