-- Published to the other subgraphs (catalog::api): what orders needs to know of categories
-- without reading catalog's tables. Both run in the caller's tenant scope (row-level security on
-- catalog.categories applies), so another tenant's category is as good as unknown.

-- Whether `p_id` is one of the tenant's categories.
CREATE FUNCTION catalog.category_exists(p_id uuid)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM catalog.categories WHERE id = p_id)
$$;

-- How deep a category sits in the tree (1 for a root); 0 for no category or an unknown one.
CREATE FUNCTION catalog.category_depth(p_id uuid)
RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT public.nlevel(c.path) FROM catalog.categories c WHERE c.id = p_id), 0)
$$;
