ALTER TABLE vendors.settings DROP COLUMN tax_commissionable, DROP COLUMN shipping_commissionable;
DROP TABLE vendors.commission_rules;
