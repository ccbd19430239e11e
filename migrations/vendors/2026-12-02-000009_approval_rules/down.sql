DROP TABLE vendors.approval_rules;
