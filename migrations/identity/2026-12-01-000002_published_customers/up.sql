-- Published to the other subgraphs (identity::api::customers_among): which of some user ids are
-- customers of the current tenant. Row-level security on identity.users scopes the read to
-- `app.tenant_id`, so another tenant's customer, a staff account or an unknown id is left out.
CREATE FUNCTION identity.customers_among(p_ids uuid[])
RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT u.id FROM identity.users u WHERE u.id = ANY (p_ids) AND u.kind = 'CUSTOMER'
$$;
