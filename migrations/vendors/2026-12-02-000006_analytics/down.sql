DROP TABLE vendors.vendor_days, vendors.placed_orders;
