-- Returns (REQUESTED -> APPROVED -> RECEIVED -> REFUNDED, or REJECTED) with restocking, and
-- disputes (OPEN -> UNDER_REVIEW -> RESOLVED, or WITHDRAWN) with messages and evidence from both
-- sides and a staff resolution (refund, replace, reject).

CREATE TABLE orders.returns (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'REQUESTED'
        CHECK (status IN ('REQUESTED', 'APPROVED', 'RECEIVED', 'REFUNDED', 'REJECTED')),
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    staff_note text CHECK (length(staff_note) <= 500),
    requested_by uuid,
    amount bigint NOT NULL CHECK (amount >= 0),
    refund_id uuid,
    restocked boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
CREATE INDEX returns_order ON orders.returns (tenant_id, order_id);

CREATE TABLE orders.return_lines (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    return_id uuid NOT NULL,
    order_line_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    amount bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT return_lines_line_key UNIQUE (tenant_id, return_id, order_line_id),
    FOREIGN KEY (tenant_id, return_id) REFERENCES orders.returns (tenant_id, id),
    FOREIGN KEY (tenant_id, order_line_id) REFERENCES orders.order_lines (tenant_id, id)
);

CREATE TABLE orders.disputes (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    order_id uuid NOT NULL,
    reason text NOT NULL
        CHECK (reason IN ('NOT_RECEIVED', 'NOT_AS_DESCRIBED', 'DAMAGED', 'UNAUTHORIZED', 'OTHER')),
    status text NOT NULL DEFAULT 'OPEN'
        CHECK (status IN ('OPEN', 'UNDER_REVIEW', 'RESOLVED', 'WITHDRAWN')),
    resolution text CHECK (resolution IN ('REFUND', 'REPLACE', 'REJECT')),
    resolution_note text CHECK (length(resolution_note) <= 1000),
    refund_id uuid,
    opened_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'RESOLVED') = (resolution IS NOT NULL)),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id)
);
-- One dispute in progress per order.
CREATE UNIQUE INDEX disputes_open_per_order ON orders.disputes (tenant_id, order_id)
    WHERE status IN ('OPEN', 'UNDER_REVIEW');

CREATE TABLE orders.dispute_messages (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    dispute_id uuid NOT NULL,
    author_id uuid,
    side text NOT NULL CHECK (side IN ('CUSTOMER', 'STAFF')),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    evidence text[] NOT NULL DEFAULT '{}' CHECK (cardinality(evidence) <= 10),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, dispute_id) REFERENCES orders.disputes (tenant_id, id)
);
CREATE INDEX dispute_messages_dispute ON orders.dispute_messages (tenant_id, dispute_id, id);

SELECT platform.tenant_table('orders.returns', 'orders.return_lines', 'orders.disputes', 'orders.dispute_messages');
