-- Payouts (vendors::payouts): how each vendor is paid (schedule, minimum, Stripe Connect
-- account), the payouts themselves, and the durable jobs that run them and make the transfers.
SELECT platform.create_jobs('vendors');

-- Each vendor's payout terms; a vendor without a row is paid WEEKLY with no minimum, once it has
-- an ACTIVE connected account.
CREATE TABLE vendors.payout_accounts (
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    schedule text NOT NULL DEFAULT 'WEEKLY' CHECK (schedule IN ('WEEKLY', 'MONTHLY', 'MANUAL')),
    minimum bigint NOT NULL DEFAULT 0 CHECK (minimum BETWEEN 0 AND 1000000000000),
    stripe_account text CHECK (stripe_account ~ '^acct_[A-Za-z0-9]{1,64}$'),
    account_state text NOT NULL DEFAULT 'PENDING' CHECK (account_state IN ('PENDING', 'ACTIVE', 'RESTRICTED')),
    account_checked_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor_id),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id)
);

-- One payout per vendor, currency and period: `WEEK 2026-W48`, `MONTH 2026-11`, or `MANUAL <id>`
-- for one a vendor asked for. It settles the entries it covers (ledger_entries.settled_by).
CREATE TABLE vendors.payouts (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount bigint NOT NULL CHECK (amount > 0),
    entries integer NOT NULL CHECK (entries > 0),
    period text NOT NULL CHECK (length(period) BETWEEN 1 AND 64),
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'PROCESSING', 'PAID', 'FAILED')),
    destination text NOT NULL,
    transfer_id text,
    failure text CHECK (length(failure) <= 1000),
    requested_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    paid_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT payouts_once_per_period UNIQUE (tenant_id, vendor_id, currency, period),
    FOREIGN KEY (tenant_id, vendor_id) REFERENCES vendors.vendors (tenant_id, id),
    CHECK ((status = 'PAID') = (transfer_id IS NOT NULL AND paid_at IS NOT NULL)),
    CHECK ((status = 'FAILED') = (failure IS NOT NULL))
);
CREATE INDEX payouts_vendor ON vendors.payouts (tenant_id, vendor_id, id);

ALTER TABLE vendors.ledger_entries
    ADD CONSTRAINT ledger_entries_settled_by FOREIGN KEY (tenant_id, settled_by) REFERENCES vendors.payouts (tenant_id, id),
    ADD CONSTRAINT ledger_entries_payout FOREIGN KEY (tenant_id, payout_id) REFERENCES vendors.payouts (tenant_id, id);
CREATE INDEX ledger_entries_settled ON vendors.ledger_entries (tenant_id, settled_by) WHERE settled_by IS NOT NULL;

SELECT platform.tenant_table('vendors.payout_accounts', 'vendors.payouts');
