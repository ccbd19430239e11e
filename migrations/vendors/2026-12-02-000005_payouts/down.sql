ALTER TABLE vendors.ledger_entries DROP CONSTRAINT ledger_entries_settled_by,
    DROP CONSTRAINT ledger_entries_payout;
DROP INDEX vendors.ledger_entries_settled;
DROP TABLE vendors.payouts, vendors.payout_accounts, vendors.jobs;
