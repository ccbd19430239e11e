-- The inbox for the events orders now consumes (bookings' booking.cancelled).
SELECT platform.create_inbox('orders');

-- Booking lines: a cart line is a variant's units or a bookings hold's seats, and an order line
-- records either the variant sold or the booking checkout made of the hold (with the service
-- and time as they were). The bookings subgraph owns holds and bookings; these are its ids.
ALTER TABLE orders.cart_lines
    ALTER COLUMN variant_id DROP NOT NULL,
    ADD COLUMN hold_id uuid,
    ADD CONSTRAINT cart_lines_one_item CHECK ((variant_id IS NULL) <> (hold_id IS NULL)),
    -- A hold is on one cart at most.
    ADD CONSTRAINT cart_lines_hold_key UNIQUE (tenant_id, hold_id);

ALTER TABLE orders.order_lines
    ALTER COLUMN variant_id DROP NOT NULL,
    ALTER COLUMN product_id DROP NOT NULL,
    ADD COLUMN booking_id uuid,
    ADD COLUMN service_id uuid,
    ADD COLUMN starts_at timestamptz,
    ADD COLUMN ends_at timestamptz,
    ADD CONSTRAINT order_lines_one_item CHECK (
        (variant_id IS NOT NULL AND product_id IS NOT NULL AND booking_id IS NULL)
        OR (variant_id IS NULL AND booking_id IS NOT NULL AND service_id IS NOT NULL
            AND starts_at < ends_at));
CREATE UNIQUE INDEX order_lines_booking ON orders.order_lines (tenant_id, booking_id)
    WHERE booking_id IS NOT NULL;

-- What a cancelled booking was owed back (its `booking.cancelled` event, consumed once) and the
-- refund that pays it: the refund is that line's vendor order's money.
CREATE TABLE orders.booking_refunds (
    tenant_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    order_line_id uuid NOT NULL,
    refund_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, booking_id),
    FOREIGN KEY (tenant_id, order_line_id) REFERENCES orders.order_lines (tenant_id, id),
    FOREIGN KEY (tenant_id, refund_id) REFERENCES orders.refunds (tenant_id, id)
);
CREATE INDEX booking_refunds_refund ON orders.booking_refunds (tenant_id, refund_id);
SELECT platform.tenant_table('orders.booking_refunds');
