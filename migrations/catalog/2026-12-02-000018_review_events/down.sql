ALTER TABLE catalog.reviews DROP COLUMN version;
