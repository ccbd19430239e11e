-- A company buyer's checkout that meets one of the company's approval rules waits here instead of
-- becoming an order: the cart is frozen (PENDING_APPROVAL) as a snapshot with its hash, and the
-- rule's chain is kept with each level resolved to the members who approve it. Every decision
-- bumps `version`; the final approval places the order from the cart, exactly once, if it still
-- prices to the snapshot.
ALTER TABLE orders.carts DROP CONSTRAINT carts_status_check,
    ADD CONSTRAINT carts_status_check
        CHECK (status IN ('OPEN', 'COMPLETED', 'MERGED', 'EXPIRED', 'PENDING_APPROVAL'));

CREATE TABLE orders.approval_requests (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    company_id uuid NOT NULL,
    cart_id uuid NOT NULL,
    buyer_id uuid NOT NULL,
    rule_id uuid NOT NULL,
    rule_name text NOT NULL,
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'WITHDRAWN', 'FAILED')),
    version int NOT NULL DEFAULT 1 CHECK (version >= 1),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total bigint NOT NULL CHECK (total >= 0),
    snapshot jsonb NOT NULL,
    snapshot_hash text NOT NULL CHECK (snapshot_hash ~ '^[0-9a-f]{64}$'),
    -- [{"mode": "ANY" | "ALL", "approvers": [user id]}]
    levels jsonb NOT NULL CHECK (jsonb_typeof(levels) = 'array'),
    level int NOT NULL DEFAULT 0 CHECK (level >= 0),
    payment_method text NOT NULL,
    purchase_order_number text,
    order_id uuid,
    -- Why it FAILED at the final approval (PRICE_CHANGED, CREDIT_LIMIT_EXCEEDED, ...).
    failure_code text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, cart_id) REFERENCES orders.carts (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id),
    CHECK ((status = 'APPROVED') = (order_id IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure_code IS NOT NULL))
);
-- One waiting request per cart; a buyer's pending requests count toward their monthly limit.
CREATE UNIQUE INDEX approval_requests_pending_cart ON orders.approval_requests (tenant_id, cart_id)
    WHERE status = 'PENDING';
CREATE INDEX approval_requests_company ON orders.approval_requests (tenant_id, company_id, id);
CREATE INDEX approval_requests_buyer ON orders.approval_requests (tenant_id, company_id, buyer_id, created_at)
    WHERE status = 'PENDING';

CREATE TABLE orders.approval_decisions (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    request_id uuid NOT NULL,
    level int NOT NULL CHECK (level >= 0),
    approver_id uuid NOT NULL,
    decision text NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),
    comment text CHECK (length(comment) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES orders.approval_requests (tenant_id, id),
    CONSTRAINT approval_decisions_once UNIQUE (tenant_id, request_id, level, approver_id)
);

SELECT platform.tenant_table('orders.approval_requests', 'orders.approval_decisions');
