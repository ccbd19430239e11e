-- catalog: stock locations, levels, reservations, movements, transfers, and the catalog's outbox.

CREATE TABLE catalog.stock_locations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    address text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT stock_locations_name_key UNIQUE (tenant_id, name)
);

-- Units of a variant physically at a location. Reserved units are the ACTIVE, unexpired
-- reservations against the row; available = on_hand - reserved. low_stock_alerted records that the
-- alert for the current dip below the threshold has been written, so it is written once.
CREATE TABLE catalog.stock_levels (
    tenant_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    location_id uuid NOT NULL,
    on_hand integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    low_stock_threshold integer CHECK (low_stock_threshold >= 0),
    low_stock_alerted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, variant_id, location_id),
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, location_id) REFERENCES catalog.stock_locations (tenant_id, id)
);

-- Units held for an owner (a cart, an order) until they are committed, released or expire.
CREATE TABLE catalog.stock_reservations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    variant_id uuid NOT NULL,
    location_id uuid NOT NULL,
    owner text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    quantity integer NOT NULL CHECK (quantity > 0),
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'RELEASED', 'COMMITTED')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, variant_id, location_id)
        REFERENCES catalog.stock_levels (tenant_id, variant_id, location_id)
);
CREATE INDEX stock_reservations_active ON catalog.stock_reservations (tenant_id, variant_id, location_id)
    INCLUDE (quantity, expires_at) WHERE status = 'ACTIVE';
CREATE INDEX stock_reservations_owner ON catalog.stock_reservations (tenant_id, owner) WHERE status = 'ACTIVE';

-- Every change of on_hand, with why and who.
CREATE TABLE catalog.stock_movements (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    variant_id uuid NOT NULL,
    location_id uuid NOT NULL,
    delta integer NOT NULL CHECK (delta <> 0),
    on_hand_after integer NOT NULL,
    reason text NOT NULL CHECK (reason IN ('RECEIVED', 'RECOUNT', 'DAMAGED', 'CORRECTION', 'SALE',
                                           'RETURN', 'TRANSFER_OUT', 'TRANSFER_IN')),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    reference text,
    actor_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, variant_id, location_id)
        REFERENCES catalog.stock_levels (tenant_id, variant_id, location_id)
);
CREATE INDEX stock_movements_level ON catalog.stock_movements (tenant_id, variant_id, location_id, id);

-- Stock moving between two locations: REQUESTED -> SHIPPED -> RECEIVED, or CANCELLED before shipping.
CREATE TABLE catalog.stock_transfers (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    from_location_id uuid NOT NULL,
    to_location_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'REQUESTED'
        CHECK (status IN ('REQUESTED', 'SHIPPED', 'RECEIVED', 'CANCELLED')),
    note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    shipped_at timestamptz,
    received_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK (from_location_id <> to_location_id),
    FOREIGN KEY (tenant_id, from_location_id) REFERENCES catalog.stock_locations (tenant_id, id),
    FOREIGN KEY (tenant_id, to_location_id) REFERENCES catalog.stock_locations (tenant_id, id)
);

CREATE TABLE catalog.stock_transfer_lines (
    tenant_id uuid NOT NULL,
    transfer_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (tenant_id, transfer_id, variant_id),
    FOREIGN KEY (tenant_id, transfer_id) REFERENCES catalog.stock_transfers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, variant_id) REFERENCES catalog.product_variants (tenant_id, id)
);

-- Events for other domains, written in the transaction of the change they describe; a dispatcher
-- delivers them at least once (cityos_db::outbox).
SELECT platform.create_outbox('catalog');

SELECT platform.tenant_table('catalog.stock_locations', 'catalog.stock_levels', 'catalog.stock_reservations', 'catalog.stock_movements', 'catalog.stock_transfers', 'catalog.stock_transfer_lines');
