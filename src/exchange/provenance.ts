import { type EntryRow, entryColumns, toEntry } from '../banks/banks.ts';
import type { ContentAlongside, EntryProvenance, MatchedEntry } from '../match/matcher.ts';
import type { SqlClient } from '../store/sql.ts';

interface ProvenanceRow {
  exchange: string;
  member: string | null;
  item_key: string;
  tags: string[];
}

/**
 * Matched entries with the exchange items that hold each (what a match shows of where its
 * entry came from; deleted items hold no entries, so only live provenance), in one round trip: a matched upload waits for this
 * on its request path, and under a surge of matches a second query per upload cost about an
 * eighth of the throughput (issue 11). The subquery finds nothing, by index, for entries no
 * exchange brought.
 */
export async function entriesWithProvenance(sql: SqlClient, entryIds: number[], alongside?: ContentAlongside): Promise<{ entries: MatchedEntry[]; content?: Record<string, unknown> | null }> {
  if (entryIds.length === 0 && !alongside) return { entries: [] };
  // The content row rides on every entry row (or on one row of nulls when no entry is found),
  // its columns prefixed: a matched upload learns whether it is a duplicate in this same round trip.
  const contentColumns = alongside ? alongside.columns.split(',').map((column) => column.trim()) : [];
  for (const column of contentColumns) if (!/^[a-z_]+$/.test(column)) throw new Error(`not a column name: ${JSON.stringify(column)}`);
  const rows = await sql.query<EntryRow & { bank_tags: string[]; provenance: ProvenanceRow[] | null; content_found: boolean | null } & Record<string, unknown>>(
    `SELECT ${entryColumns('e')}, b.tags AS bank_tags,
       (SELECT json_agg(json_build_object('exchange', x.name, 'member', i.member, 'item_key', i.item_key, 'tags', i.tags) ORDER BY x.name, i.item_key)
        FROM exchange_item_entries l
        JOIN exchange_items i ON i.exchange_id = l.exchange_id AND i.item_key = l.item_key
        JOIN exchanges x ON x.id = l.exchange_id
        WHERE l.entry_id = e.id) AS provenance
       ${alongside ? `, c.content_id IS NOT NULL AS content_found, ${contentColumns.map((column) => `c.${column} AS "content.${column}"`).join(', ')}` : ''}
     FROM ${alongside ? '(SELECT 1) one LEFT JOIN content c ON c.content_id = $2 LEFT JOIN ' : ''}(bank_entries e JOIN banks b ON b.id = e.bank_id)
       ${alongside ? 'ON' : 'WHERE'} e.id = ANY($1::bigint[])`,
    alongside ? [entryIds, alongside.contentId] : [entryIds],
  );
  const entries = rows.rows.filter((row) => row.id !== null).map((row): MatchedEntry => {
    const entry: MatchedEntry = { ...toEntry(row), bankTags: row.bank_tags };
    return row.provenance?.length ? { ...entry, provenance: row.provenance.map(toProvenance) } : entry;
  });
  if (!alongside) return { entries };
  const first = rows.rows[0];
  const content = first?.content_found ? Object.fromEntries(contentColumns.map((column) => [column, first[`content.${column}`]])) : null;
  return { entries, content };
}

const toProvenance = (row: ProvenanceRow): EntryProvenance => ({ exchange: row.exchange, member: row.member, itemKey: row.item_key, tags: row.tags });
