-- The storefront response cache (cityos_server::cache): every write to a catalog tenant table
-- notifies its tenant at commit (platform.track_changes), and answers_valid_until says when an
-- answer computed now may change with no write at all.
SELECT platform.track_changes('catalog');

-- The next moment after now at which, without any write, a tenant's storefront answers may
-- change: a price list's window opens or closes (prices, sale flags, compare-at prices), or an
-- active stock reservation expires (its units count as available again). Null: never. The
-- tenant is set for the calling statement's transaction only (the cache calls it on its own,
-- outside any transaction).
CREATE FUNCTION catalog.answers_valid_until(t uuid) RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('app.tenant_id', t::text, true);
    RETURN LEAST(
        (SELECT min(b) FROM catalog.price_lists l, LATERAL (VALUES (l.starts_at), (l.ends_at)) v(b)
         WHERE l.tenant_id = t AND b > now()),
        (SELECT min(r.expires_at) FROM catalog.stock_reservations r
         WHERE r.tenant_id = t AND r.status = 'ACTIVE' AND r.expires_at > now()));
END $$;

CREATE INDEX stock_reservations_expiry ON catalog.stock_reservations (tenant_id, expires_at)
    WHERE status = 'ACTIVE';
