-- What a company's buyers have committed, kept as running sums so that checkout reads two rows
-- under the company's lock instead of summing the month's orders and every open invoice (which
-- grew with the company's history and, held under that lock, bounded its checkouts per second).
-- Triggers keep them in the transaction of every change to orders, approval requests and
-- payments, so no write path can forget them; checkout::company's MONTH_SPEND and OWED, which
-- the dashboards list row by row, always sum to them (tested).
--
--   company_month_spend  per buyer and calendar month (UTC): `placed`, the totals of the
--                        company's orders placed that month and not cancelled; `waiting`, the
--                        totals of their approval requests created that month and still PENDING.
--   company_owed         per company: what is left to pay of its ON_ACCOUNT payments still open
--                        (PENDING or AUTHORIZED).

CREATE TABLE orders.company_month_spend (
    tenant_id uuid NOT NULL,
    company_id uuid NOT NULL,
    buyer_id uuid NOT NULL,
    month date NOT NULL CHECK (month = date_trunc('month', month)),
    placed bigint NOT NULL DEFAULT 0 CHECK (placed >= 0),
    waiting bigint NOT NULL DEFAULT 0 CHECK (waiting >= 0),
    PRIMARY KEY (tenant_id, company_id, buyer_id, month)
);
SELECT platform.tenant_table('orders.company_month_spend');

CREATE TABLE orders.company_owed (
    tenant_id uuid NOT NULL,
    company_id uuid NOT NULL,
    owed bigint NOT NULL DEFAULT 0 CHECK (owed >= 0),
    PRIMARY KEY (tenant_id, company_id)
);
SELECT platform.tenant_table('orders.company_owed');

-- Adds `placed` and `waiting` (one of them nonzero) to a buyer's month, or `amount` to what a
-- company owes. A sum grows by an upsert; it shrinks by an update of the row that grew it (an
-- upsert would check its negative proposal against the CHECK first), which must be there.
CREATE FUNCTION orders.add_month_spend(t uuid, c uuid, b uuid, at timestamptz, p bigint, w bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE m date := date_trunc('month', at, 'UTC')::date;
BEGIN
    IF p >= 0 AND w >= 0 THEN
        INSERT INTO orders.company_month_spend AS s (tenant_id, company_id, buyer_id, month, placed, waiting)
        VALUES (t, c, b, m, p, w)
        ON CONFLICT (tenant_id, company_id, buyer_id, month)
        DO UPDATE SET placed = s.placed + EXCLUDED.placed, waiting = s.waiting + EXCLUDED.waiting;
    ELSE
        UPDATE orders.company_month_spend s SET placed = s.placed + p, waiting = s.waiting + w
        WHERE s.tenant_id = t AND s.company_id = c AND s.buyer_id = b AND s.month = m;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no month spend of buyer % of company % in % to lower', b, c, m;
        END IF;
    END IF;
END $$;

CREATE FUNCTION orders.add_owed(t uuid, c uuid, amount bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF amount >= 0 THEN
        INSERT INTO orders.company_owed AS o (tenant_id, company_id, owed) VALUES (t, c, amount)
        ON CONFLICT (tenant_id, company_id) DO UPDATE SET owed = o.owed + EXCLUDED.owed;
    ELSE
        UPDATE orders.company_owed o SET owed = o.owed + amount
        WHERE o.tenant_id = t AND o.company_id = c;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'nothing owed by company % to lower', c;
        END IF;
    END IF;
END $$;

-- An order counts when it is a company's and not cancelled. Only a change of what it counts
-- touches the sums: a status change between live states writes nothing.
CREATE FUNCTION orders.order_month_spend() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_counts bool := TG_OP <> 'INSERT' AND OLD.company_id IS NOT NULL AND OLD.status <> 'CANCELLED';
    new_counts bool := TG_OP <> 'DELETE' AND NEW.company_id IS NOT NULL AND NEW.status <> 'CANCELLED';
BEGIN
    IF old_counts AND new_counts AND OLD.total = NEW.total AND OLD.company_id = NEW.company_id
       AND OLD.customer_id = NEW.customer_id AND OLD.placed_at = NEW.placed_at THEN
        RETURN NULL;
    END IF;
    IF old_counts THEN
        PERFORM orders.add_month_spend(OLD.tenant_id, OLD.company_id, OLD.customer_id, OLD.placed_at, -OLD.total, 0);
    END IF;
    IF new_counts THEN
        PERFORM orders.add_month_spend(NEW.tenant_id, NEW.company_id, NEW.customer_id, NEW.placed_at, NEW.total, 0);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER orders_month_spend AFTER INSERT OR UPDATE OR DELETE ON orders.orders
    FOR EACH ROW EXECUTE FUNCTION orders.order_month_spend();

CREATE FUNCTION orders.request_month_spend() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_counts bool := TG_OP <> 'INSERT' AND OLD.status = 'PENDING';
    new_counts bool := TG_OP <> 'DELETE' AND NEW.status = 'PENDING';
BEGIN
    IF old_counts AND new_counts AND OLD.total = NEW.total AND OLD.company_id = NEW.company_id
       AND OLD.buyer_id = NEW.buyer_id AND OLD.created_at = NEW.created_at THEN
        RETURN NULL;
    END IF;
    IF old_counts THEN
        PERFORM orders.add_month_spend(OLD.tenant_id, OLD.company_id, OLD.buyer_id, OLD.created_at, 0, -OLD.total);
    END IF;
    IF new_counts THEN
        PERFORM orders.add_month_spend(NEW.tenant_id, NEW.company_id, NEW.buyer_id, NEW.created_at, 0, NEW.total);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER approval_requests_month_spend AFTER INSERT OR UPDATE OR DELETE ON orders.approval_requests
    FOR EACH ROW EXECUTE FUNCTION orders.request_month_spend();

-- A payment owes when it is ON_ACCOUNT and open, for an order of a company (read from its order,
-- written before it in the same transaction; an order's company never changes).
CREATE FUNCTION orders.payment_owed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_owes bigint := 0;
    new_owes bigint := 0;
    company uuid;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.method = 'ON_ACCOUNT' AND OLD.status IN ('PENDING', 'AUTHORIZED') THEN
        old_owes := OLD.amount - OLD.captured_amount;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.method = 'ON_ACCOUNT' AND NEW.status IN ('PENDING', 'AUTHORIZED') THEN
        new_owes := NEW.amount - NEW.captured_amount;
    END IF;
    IF old_owes = new_owes THEN
        RETURN NULL;
    END IF;
    SELECT o.company_id INTO company FROM orders.orders o
    WHERE o.tenant_id = COALESCE(NEW.tenant_id, OLD.tenant_id) AND o.id = COALESCE(NEW.order_id, OLD.order_id);
    IF company IS NOT NULL THEN
        PERFORM orders.add_owed(COALESCE(NEW.tenant_id, OLD.tenant_id), company, new_owes - old_owes);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER payments_owed AFTER INSERT OR UPDATE OR DELETE ON orders.payments
    FOR EACH ROW EXECUTE FUNCTION orders.payment_owed();

-- What the database holds already.
INSERT INTO orders.company_month_spend (tenant_id, company_id, buyer_id, month, placed, waiting)
SELECT tenant_id, company_id, buyer, month, sum(placed), sum(waiting) FROM (
    SELECT tenant_id, company_id, customer_id AS buyer, date_trunc('month', placed_at, 'UTC')::date AS month,
        total AS placed, 0::bigint AS waiting
    FROM orders.orders WHERE company_id IS NOT NULL AND status <> 'CANCELLED'
    UNION ALL
    SELECT tenant_id, company_id, buyer_id, date_trunc('month', created_at, 'UTC')::date, 0, total
    FROM orders.approval_requests WHERE status = 'PENDING'
) s GROUP BY tenant_id, company_id, buyer, month;
INSERT INTO orders.company_owed (tenant_id, company_id, owed)
SELECT o.tenant_id, o.company_id, sum(p.amount - p.captured_amount)
FROM orders.payments p JOIN orders.orders o ON o.tenant_id = p.tenant_id AND o.id = p.order_id
WHERE p.method = 'ON_ACCOUNT' AND p.status IN ('PENDING', 'AUTHORIZED') AND o.company_id IS NOT NULL
GROUP BY o.tenant_id, o.company_id;
