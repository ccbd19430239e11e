DROP FUNCTION identity.customers_among(uuid[]);
