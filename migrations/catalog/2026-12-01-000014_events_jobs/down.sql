ALTER TABLE catalog.products DROP COLUMN units_sold;
DROP TABLE catalog.jobs, catalog.inbox, catalog.deliveries, catalog.subscriptions;
