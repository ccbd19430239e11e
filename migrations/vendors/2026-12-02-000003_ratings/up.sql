-- Vendors' ratings, from the catalog's `review.changed` events (consumed once each, applied in
-- each review's `version` order): the last state of every review of a vendor's products, and
-- each vendor's count and sum of the approved ones.
SELECT platform.create_inbox('vendors');

CREATE TABLE vendors.vendor_reviews (
    tenant_id uuid NOT NULL,
    review_id uuid NOT NULL,
    vendor_id uuid,
    rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    counted boolean NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    PRIMARY KEY (tenant_id, review_id)
);
CREATE INDEX vendor_reviews_vendor ON vendors.vendor_reviews (tenant_id, vendor_id) WHERE counted;

CREATE TABLE vendors.vendor_ratings (
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    reviews integer NOT NULL CHECK (reviews >= 0),
    stars bigint NOT NULL CHECK (stars >= 0),
    PRIMARY KEY (tenant_id, vendor_id)
);
SELECT platform.tenant_table('vendors.vendor_reviews', 'vendors.vendor_ratings');
