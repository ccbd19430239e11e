-- Events in and out, durable jobs, and the figure the first consumed event feeds.
--
-- The outbox gets one delivery state per subscriber (platform.event_deliveries), the catalog an
-- inbox for the events it consumes (orders' order.placed) and a jobs table.
SELECT platform.event_deliveries('catalog');
SELECT platform.create_inbox('catalog');
SELECT platform.create_jobs('catalog');

-- Units of the product in placed orders (from orders' `order.placed`, applied once per event):
-- what the BEST_SELLING sort orders by.
ALTER TABLE catalog.products
    ADD COLUMN units_sold bigint NOT NULL DEFAULT 0 CHECK (units_sold >= 0);
