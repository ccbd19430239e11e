-- Each change of a review (moderation, its author's edit, its deletion) counts in `version` and
-- writes `review.changed` with it (catalog::reviews), so consumers (the vendors' ratings) apply a
-- review's changes in order however its events arrive.
ALTER TABLE catalog.reviews ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
