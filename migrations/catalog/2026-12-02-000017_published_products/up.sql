-- Published to the other subgraphs (catalog::api::product_exists): whether `p_id` is one of the
-- tenant's products, in the caller's tenant scope (row-level security applies), so the vendors
-- subgraph can refuse a commission rule on a product that is not there.
CREATE FUNCTION catalog.product_exists(p_id uuid)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM catalog.products WHERE id = p_id)
$$;
