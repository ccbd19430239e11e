-- Reviews: one per customer and product, moderated; one response each; helpful votes (one per
-- customer); each product's rating summary, kept by a trigger in the same transaction as every
-- change of an APPROVED review.

CREATE TABLE catalog.reviews (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    product_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    body text NOT NULL DEFAULT '' CHECK (length(body) <= 5000),
    status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    verified_purchase boolean NOT NULL DEFAULT false,
    helpful_count integer NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    moderated_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT reviews_once_per_customer UNIQUE (tenant_id, product_id, customer_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES catalog.products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX reviews_product ON catalog.reviews (tenant_id, product_id, status, id);
CREATE INDEX reviews_status ON catalog.reviews (tenant_id, status, id);

CREATE TABLE catalog.review_responses (
    tenant_id uuid NOT NULL,
    review_id uuid NOT NULL,
    responder_id uuid,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, review_id),
    FOREIGN KEY (tenant_id, review_id) REFERENCES catalog.reviews (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE catalog.review_votes (
    tenant_id uuid NOT NULL,
    review_id uuid NOT NULL,
    customer_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, review_id, customer_id),
    FOREIGN KEY (tenant_id, review_id) REFERENCES catalog.reviews (tenant_id, id) ON DELETE CASCADE
);

-- The rating summary of APPROVED reviews on the product row, so every product read carries it:
-- how many gave 1, 2, 3, 4 and 5 stars (the count and the average follow from these).
ALTER TABLE catalog.products
    ADD COLUMN rating_counts integer[] NOT NULL DEFAULT '{0,0,0,0,0}'
        CHECK (cardinality(rating_counts) = 5 AND 0 <= ALL (rating_counts));

-- Applies a review's change to its product's summary: takes out what OLD counted, adds what NEW
-- counts. Increments under the product row's lock commute, so racing moderators cannot lose one.
CREATE FUNCTION catalog.reviews_summarise() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'APPROVED' THEN
        UPDATE catalog.products SET rating_counts[OLD.rating] = rating_counts[OLD.rating] - 1
        WHERE tenant_id = OLD.tenant_id AND id = OLD.product_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'APPROVED' THEN
        UPDATE catalog.products SET rating_counts[NEW.rating] = rating_counts[NEW.rating] + 1
        WHERE tenant_id = NEW.tenant_id AND id = NEW.product_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reviews_summary AFTER INSERT OR DELETE OR UPDATE OF status, rating ON catalog.reviews
    FOR EACH ROW EXECUTE FUNCTION catalog.reviews_summarise();

SELECT platform.tenant_table('catalog.reviews', 'catalog.review_responses', 'catalog.review_votes');
