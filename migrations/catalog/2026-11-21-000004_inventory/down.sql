DROP TABLE catalog.outbox;
DROP TABLE catalog.stock_transfer_lines;
DROP TABLE catalog.stock_transfers;
DROP TABLE catalog.stock_movements;
DROP TABLE catalog.stock_reservations;
DROP TABLE catalog.stock_levels;
DROP TABLE catalog.stock_locations;
