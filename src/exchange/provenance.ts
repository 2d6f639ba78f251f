import type { EntryProvenance } from '../match/matcher.ts';
import type { SqlClient } from '../store/sql.ts';

/**
 * The exchange items that hold each of the given bank entries: what a match shows of where
 * its entry came from. Deleted items hold no entries, so only live provenance is shown.
 */
export async function entryProvenance(sql: SqlClient, entryIds: number[]): Promise<Map<number, EntryProvenance[]>> {
  const result = new Map<number, EntryProvenance[]>();
  if (entryIds.length === 0) return result;
  const rows = await sql.query<{ entry_id: string | number; exchange: string; member: string | null; item_key: string; tags: string[] }>(
    `SELECT l.entry_id, x.name AS exchange, i.member, i.item_key, i.tags
     FROM exchange_item_entries l
     JOIN exchange_items i ON i.exchange_id = l.exchange_id AND i.item_key = l.item_key
     JOIN exchanges x ON x.id = l.exchange_id
     WHERE l.entry_id = ANY($1::bigint[])
     ORDER BY l.entry_id, x.name, i.item_key`,
    [entryIds],
  );
  for (const row of rows.rows) {
    const id = Number(row.entry_id);
    const list = result.get(id) ?? [];
    list.push({ exchange: row.exchange, member: row.member, itemKey: row.item_key, tags: row.tags });
    result.set(id, list);
  }
  return result;
}
