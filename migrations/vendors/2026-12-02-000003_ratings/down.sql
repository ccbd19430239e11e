DROP TABLE vendors.vendor_ratings;
DROP TABLE vendors.vendor_reviews;
DROP TABLE vendors.inbox;
