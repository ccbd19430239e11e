-- Published to the other subgraphs (catalog::api::product_categories): the categories of each of
-- `p_products` with every ancestor of theirs, each with its depth (1 for a root), in the caller's
-- tenant scope (row-level security applies). The vendors subgraph's commission rules on a category
-- cover its descendants, and the deepest rule wins.
CREATE FUNCTION catalog.product_category_depths(p_products uuid[])
RETURNS TABLE (product_id uuid, category_id uuid, depth integer)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT pc.product_id, a.id, public.nlevel(a.path)
    FROM catalog.product_categories pc
    JOIN catalog.categories c ON c.tenant_id = pc.tenant_id AND c.id = pc.category_id
    JOIN catalog.categories a ON a.tenant_id = c.tenant_id AND a.path OPERATOR(public.@>) c.path
    WHERE pc.product_id = ANY (p_products)
$$;
