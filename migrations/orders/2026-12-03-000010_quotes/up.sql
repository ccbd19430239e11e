-- Quotes: a company's negotiated prices for a set of lines, from a buyer's request (from a cart) or
-- drafted for the company by staff or a vendor. The quote row says where it stands; each revision
-- is a row of quote_versions, and a version once sent never changes again (a trigger refuses it):
-- revising a sent quote writes the next version. Accepting the current sent version places its
-- order, exactly once (ACCEPTED if and only if it has its order).
CREATE TABLE orders.quotes (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    number bigint NOT NULL CHECK (number >= 1),
    company_id uuid NOT NULL,
    -- The vendor issuing it (its products only); null: the tenant's staff.
    vendor_id uuid,
    -- The cart a buyer requested it from.
    cart_id uuid,
    -- The buyer who requested it; null when the seller drafted it.
    requested_by uuid,
    created_by uuid NOT NULL,
    status text NOT NULL DEFAULT 'DRAFT'
        CHECK (status IN ('DRAFT', 'SENT', 'ACCEPTED', 'DECLINED', 'EXPIRED')),
    -- Its current version: the one being drafted, or the one sent.
    version int NOT NULL DEFAULT 1 CHECK (version >= 1),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    order_id uuid,
    decided_by uuid,
    decline_reason text CHECK (length(decline_reason) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT quotes_number_key UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, cart_id) REFERENCES orders.carts (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders.orders (tenant_id, id),
    CHECK ((status = 'ACCEPTED') = (order_id IS NOT NULL))
);
CREATE INDEX quotes_company ON orders.quotes (tenant_id, company_id, id);
CREATE INDEX quotes_vendor ON orders.quotes (tenant_id, vendor_id, id) WHERE vendor_id IS NOT NULL;
CREATE UNIQUE INDEX quotes_order ON orders.quotes (tenant_id, order_id) WHERE order_id IS NOT NULL;

CREATE TABLE orders.quote_versions (
    tenant_id uuid NOT NULL,
    quote_id uuid NOT NULL,
    version int NOT NULL CHECK (version >= 1),
    -- [{"variantId", "sku", "title", "vendorId", "quantity", "listUnitPrice", "unitPrice"}]
    lines jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array' AND jsonb_array_length(lines) BETWEEN 1 AND 100),
    -- The lines at their negotiated prices, and at the catalog's prices when drafted.
    subtotal bigint NOT NULL CHECK (subtotal >= 0),
    list_subtotal bigint NOT NULL CHECK (list_subtotal >= 0),
    valid_until timestamptz,
    note text CHECK (length(note) <= 2000),
    sent_at timestamptz,
    sent_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, quote_id, version),
    FOREIGN KEY (tenant_id, quote_id) REFERENCES orders.quotes (tenant_id, id),
    CHECK (sent_at IS NULL OR valid_until IS NOT NULL)
);

-- A sent version is what the buyer was offered: it never changes again.
CREATE FUNCTION orders.quote_version_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sent_at IS NOT NULL THEN
        RAISE EXCEPTION 'version % of quote % was sent and cannot change', OLD.version, OLD.quote_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER quote_versions_frozen BEFORE UPDATE OR DELETE ON orders.quote_versions
    FOR EACH ROW EXECUTE FUNCTION orders.quote_version_frozen();

CREATE TABLE orders.quote_messages (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    quote_id uuid NOT NULL,
    author_id uuid NOT NULL,
    -- BUYER: a member of the company; SELLER: staff or the issuing vendor's team.
    side text NOT NULL CHECK (side IN ('BUYER', 'SELLER')),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, quote_id) REFERENCES orders.quotes (tenant_id, id)
);
CREATE INDEX quote_messages_quote ON orders.quote_messages (tenant_id, quote_id, created_at);

-- The order an accepted quote became.
ALTER TABLE orders.orders ADD COLUMN quote_id uuid;

SELECT platform.tenant_table('orders.quotes', 'orders.quote_versions', 'orders.quote_messages');
