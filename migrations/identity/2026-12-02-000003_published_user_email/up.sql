-- Published to the other subgraphs (identity::api::user_email): the e-mail address of a user of
-- the current tenant, so the vendors subgraph can match an invitation to the user accepting it.
-- Row-level security on identity.users scopes the read to `app.tenant_id`.
CREATE FUNCTION identity.user_email(p_id uuid)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT u.email::text FROM identity.users u WHERE u.id = p_id
$$;
