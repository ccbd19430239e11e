DROP TABLE catalog.review_votes;
DROP TABLE catalog.review_responses;
DROP TABLE catalog.reviews;
DROP FUNCTION catalog.reviews_summarise();
ALTER TABLE catalog.products DROP COLUMN rating_counts;
