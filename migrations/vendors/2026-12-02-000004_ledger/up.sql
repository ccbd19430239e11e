-- Vendors' money (vendors::ledger): what each marketplace vendor sold, what the marketplace took
-- of it line by line, and an append-only ledger per vendor and currency whose entries carry the
-- running balance. Filled from orders' events (payment.captured, payment.refunded,
-- fulfillment.delivered), each consumed once through the inbox, and by staff adjustments.

-- How many days after delivery a vendor order's money becomes available (the return window).
ALTER TABLE vendors.settings
    ADD COLUMN hold_days integer NOT NULL DEFAULT 14 CHECK (hold_days BETWEEN 0 AND 365);

-- One row per vendor order whose payment was captured: what the customer paid for it (`total`),
-- what the marketplace took (`commission`, the sum of its lines'), and how much of each has been
-- paid back and given back since.
CREATE TABLE vendors.sales (
    tenant_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    order_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total bigint NOT NULL CHECK (total >= 0),
    commission bigint NOT NULL CHECK (commission BETWEEN 0 AND total),
    refunded bigint NOT NULL DEFAULT 0 CHECK (refunded BETWEEN 0 AND total),
    reversed bigint NOT NULL DEFAULT 0 CHECK (reversed BETWEEN 0 AND commission),
    placed_at timestamptz NOT NULL,
    captured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor_order_id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id)
);
CREATE INDEX sales_vendor ON vendors.sales (tenant_id, vendor_id, placed_at);

-- Each line's commission, frozen when its sale is recorded: the rule that set it (none when no
-- rule applied) and what it was taken of. Rules changed later rewrite nothing here.
CREATE TABLE vendors.commission_lines (
    tenant_id uuid NOT NULL,
    order_line_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    position integer NOT NULL,
    product_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    basis bigint NOT NULL CHECK (basis >= 0),
    rule_id uuid,
    amount bigint NOT NULL CHECK (amount BETWEEN 0 AND basis),
    PRIMARY KEY (tenant_id, order_line_id),
    FOREIGN KEY (tenant_id, vendor_order_id) REFERENCES vendors.sales (tenant_id, vendor_order_id)
);
CREATE INDEX commission_lines_sale ON vendors.commission_lines (tenant_id, vendor_order_id, position);

-- When vendor orders arrived, and so when their money becomes available; known before or after
-- their sale (a manual payment may be recorded after delivery).
CREATE TABLE vendors.sale_deliveries (
    tenant_id uuid NOT NULL,
    vendor_order_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    delivered_at timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, vendor_order_id),
    CHECK (available_at >= delivered_at)
);

-- Each vendor's balance per currency and how many entries its ledger has: the row every append
-- locks, so one vendor's entries are numbered and summed one at a time.
CREATE TABLE vendors.balances (
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance bigint NOT NULL DEFAULT 0,
    entries bigint NOT NULL DEFAULT 0 CHECK (entries >= 0),
    PRIMARY KEY (tenant_id, vendor_id, currency),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id)
);

-- The ledger: credits are positive, debits negative; `seq` numbers a vendor's entries in one
-- currency from 1 and `balance` is the sum of its entries up to and including this one.
CREATE TABLE vendors.ledger_entries (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    currency text NOT NULL,
    seq bigint NOT NULL CHECK (seq > 0),
    kind text NOT NULL CHECK (kind IN ('SALE', 'COMMISSION', 'REFUND', 'COMMISSION_REVERSAL',
                                       'ADJUSTMENT', 'PAYOUT', 'PAYOUT_FAILED')),
    amount bigint NOT NULL,
    balance bigint NOT NULL,
    vendor_order_id uuid,
    payout_id uuid,
    reason text CHECK (length(reason) <= 500),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The payout that paid it out (or, for a PAYOUT entry, its own): set once, when it is.
    settled_by uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, vendor_id, currency, seq),
    FOREIGN KEY (tenant_id, vendor_id, currency) REFERENCES vendors.balances (tenant_id, vendor_id, currency),
    CHECK (CASE WHEN kind IN ('SALE', 'COMMISSION_REVERSAL', 'PAYOUT_FAILED') THEN amount >= 0
                WHEN kind IN ('COMMISSION', 'REFUND', 'PAYOUT') THEN amount <= 0
                ELSE amount <> 0 END),
    CHECK ((kind IN ('SALE', 'COMMISSION', 'REFUND', 'COMMISSION_REVERSAL')) = (vendor_order_id IS NOT NULL)),
    CHECK ((kind IN ('PAYOUT', 'PAYOUT_FAILED')) = (payout_id IS NOT NULL)),
    CHECK ((kind = 'ADJUSTMENT') = (reason IS NOT NULL))
);
-- A vendor order's sale and commission are entered once.
CREATE UNIQUE INDEX ledger_entries_once ON vendors.ledger_entries (tenant_id, vendor_order_id, kind)
    WHERE kind IN ('SALE', 'COMMISSION');
CREATE INDEX ledger_entries_order ON vendors.ledger_entries (tenant_id, vendor_order_id)
    WHERE vendor_order_id IS NOT NULL;
-- What is not paid out yet: what balances' available and pending parts are summed from.
CREATE INDEX ledger_entries_open ON vendors.ledger_entries (tenant_id, vendor_id, currency)
    INCLUDE (amount, vendor_order_id) WHERE settled_by IS NULL;

-- The ledger is append-only (an entry's one change is being settled by a payout, once), and
-- each entry continues the one before it: its number follows and its balance is the previous
-- balance plus its amount. The database holds both, whatever the code does.
CREATE FUNCTION vendors.ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.settled_by IS NULL AND NEW.settled_by IS NOT NULL
       AND (to_jsonb(NEW) - 'settled_by') = (to_jsonb(OLD) - 'settled_by') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'vendors.ledger_entries is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON vendors.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION vendors.ledger_append_only();

CREATE FUNCTION vendors.ledger_continues() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE previous bigint;
BEGIN
    IF NEW.seq = 1 THEN
        previous := 0;
    ELSE
        SELECT e.balance INTO previous FROM vendors.ledger_entries e
        WHERE e.tenant_id = NEW.tenant_id AND e.vendor_id = NEW.vendor_id
          AND e.currency = NEW.currency AND e.seq = NEW.seq - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'ledger entry % of vendor % in % does not follow one', NEW.seq,
                NEW.vendor_id, NEW.currency USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.balance <> previous + NEW.amount THEN
        RAISE EXCEPTION 'ledger entry % of vendor % in %: balance % is not % + %', NEW.seq,
            NEW.vendor_id, NEW.currency, NEW.balance, previous, NEW.amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_continues BEFORE INSERT ON vendors.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION vendors.ledger_continues();

SELECT platform.tenant_table('vendors.sales', 'vendors.commission_lines', 'vendors.sale_deliveries',
    'vendors.balances', 'vendors.ledger_entries');
