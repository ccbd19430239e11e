-- bookings, third slice: bookings, made from holds at checkout, with their lifecycle, the
-- cancellation policy's fee and refund, and the events (lifecycle, reminders) others act on.

-- A booking of seats of a session for a customer. PENDING until paid (and confirmed by staff when
-- the service asks it) -> CONFIRMED -> CHECKED_IN -> COMPLETED; CANCELLED (by the customer, the
-- provider, staff or the system, with a reason, the fee kept and the refund owed); NO_SHOW when
-- not checked in 30 minutes after the start. Its seats stay taken in its session until it is
-- cancelled. `amount_minor` is what its order line charged; a cancellation splits it into
-- `fee_minor` (kept) and `refund_minor` (owed back), which sum to what was paid.
CREATE TABLE bookings.bookings (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    number text NOT NULL CHECK (number ~ '^BK-[0-9A-F]{12}$'),
    session_id uuid NOT NULL,
    service_id uuid NOT NULL,
    hold_id uuid,
    customer_id uuid NOT NULL,
    seats integer NOT NULL CHECK (seats BETWEEN 1 AND 10000),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    provider_id uuid,
    resource_id uuid,
    status text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'CONFIRMED', 'CHECKED_IN', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
    order_id uuid,
    order_line_id uuid,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    paid_at timestamptz,
    approved_at timestamptz,
    cancelled_by text CHECK (cancelled_by IN ('CUSTOMER', 'PROVIDER', 'STAFF', 'SYSTEM')),
    cancel_reason text CHECK (length(cancel_reason) <= 1000),
    fee_minor bigint NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    refund_minor bigint NOT NULL DEFAULT 0 CHECK (refund_minor >= 0),
    reschedules integer NOT NULL DEFAULT 0 CHECK (reschedules >= 0),
    version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    checked_in_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT bookings_number_key UNIQUE (tenant_id, number),
    CONSTRAINT bookings_hold_key UNIQUE (tenant_id, hold_id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES bookings.sessions (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES bookings.services (tenant_id, id),
    FOREIGN KEY (tenant_id, hold_id) REFERENCES bookings.holds (tenant_id, id),
    CHECK (starts_at < ends_at),
    CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL AND cancelled_by IS NOT NULL)),
    CHECK (fee_minor + refund_minor <= amount_minor),
    CHECK (status = 'CANCELLED' OR (fee_minor = 0 AND refund_minor = 0))
);
CREATE INDEX bookings_customer ON bookings.bookings (tenant_id, customer_id, starts_at);
CREATE INDEX bookings_provider ON bookings.bookings (tenant_id, provider_id, starts_at);
CREATE INDEX bookings_resource ON bookings.bookings (tenant_id, resource_id, starts_at);
CREATE INDEX bookings_service ON bookings.bookings (tenant_id, service_id, starts_at);
CREATE INDEX bookings_order ON bookings.bookings (tenant_id, order_id) WHERE order_id IS NOT NULL;
SELECT platform.tenant_table('bookings.bookings');

SELECT platform.create_outbox('bookings');
