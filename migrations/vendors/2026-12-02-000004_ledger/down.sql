DROP TABLE vendors.ledger_entries, vendors.balances, vendors.sale_deliveries, vendors.commission_lines,
    vendors.sales;
DROP FUNCTION vendors.ledger_continues(), vendors.ledger_append_only();
ALTER TABLE vendors.settings DROP COLUMN hold_days;
