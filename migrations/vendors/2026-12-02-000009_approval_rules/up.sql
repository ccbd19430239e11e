-- A company's approval rules: a buyer's checkout that meets a rule's conditions (every condition
-- it sets: the order total at or above an amount in a currency, the buyer's role, a category in
-- the cart) waits for its chain of levels instead of becoming an order. Orders' checkout reads the
-- active rules through the vendors subgraph's api; the first matching rule by position applies.
CREATE TABLE vendors.approval_rules (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    company_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    min_total bigint CHECK (min_total >= 0),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    buyer_role text CHECK (buyer_role IN ('ADMIN', 'APPROVER', 'BUYER')),
    category_id uuid,
    -- The ordered chain: [{"mode": "ANY" | "ALL", "roles": [role], "members": [user id]}], 1 to 5
    -- levels, each naming at least one role or member (checked by the application).
    levels jsonb NOT NULL CHECK (jsonb_typeof(levels) = 'array'
        AND jsonb_array_length(levels) BETWEEN 1 AND 5),
    position int NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES vendors.companies (tenant_id, id),
    CHECK ((min_total IS NULL) = (currency IS NULL))
);
CREATE INDEX approval_rules_company ON vendors.approval_rules (tenant_id, company_id, position, id)
    WHERE active;

SELECT platform.tenant_table('vendors.approval_rules');
