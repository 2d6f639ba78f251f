-- The exchange items a bank entry came from (src/exchange/provenance.ts), read with every
-- matched upload. As a subquery in that lookup it was planned anew on each upload (its
-- estimates never favour a cached plan), most of the lookup's cost on the embedded store
-- (0.79 ms against 0.53 ms this way, 20k-entry bank); a PL/pgSQL function keeps its own
-- plan for the life of the connection. Null when the entry came from no exchange.
CREATE OR REPLACE FUNCTION bank_entry_provenance(entry bigint) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (
    SELECT json_agg(json_build_object('exchange', x.name, 'member', i.member, 'item_key', i.item_key, 'tags', i.tags) ORDER BY x.name, i.item_key)
    FROM exchange_item_entries l
    JOIN exchange_items i ON i.exchange_id = l.exchange_id AND i.item_key = l.item_key
    JOIN exchanges x ON x.id = l.exchange_id
    WHERE l.entry_id = entry
  );
END
$$;
