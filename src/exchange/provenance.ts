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
 * eighth of the throughput (issue 11). bank_entry_provenance() (migration 0030) is called only
 * for entries some exchange item holds: entering PL/pgSQL costs the embedded store more than the
 * index probe that says so (0.14 ms of a matched upload's 2 ms under a surge, for nothing when
 * the entry came from an import or the API).
 */
export async function entriesWithProvenance(sql: SqlClient, entryIds: number[], alongside?: ContentAlongside): Promise<{ entries: MatchedEntry[]; content?: Record<string, unknown> | null }> {
  if (entryIds.length === 0 && !alongside) return { entries: [] };
  // The content row rides on every entry row (or on one row of nulls when no entry is found),
  // its columns prefixed: a matched upload learns whether it is a duplicate in this same round trip.
  const contentColumns = alongside ? alongside.columns.split(',').map((column) => column.trim()) : [];
  for (const column of contentColumns) if (!/^[a-z_]+$/.test(column)) throw new Error(`not a column name: ${JSON.stringify(column)}`);
  const { condition, params } = entryIdsCondition(entryIds, alongside ? 2 : 1);
  const rows = await sql.query<EntryRow & { bank_tags: string[]; provenance: ProvenanceRow[] | null; content_found: boolean | null } & Record<string, unknown>>(
    `SELECT ${entryColumns('e')}, b.tags AS bank_tags,
       CASE WHEN EXISTS (SELECT 1 FROM exchange_item_entries l WHERE l.entry_id = e.id) THEN bank_entry_provenance(e.id) END AS provenance
       ${alongside ? `, c.content_id IS NOT NULL AS content_found, ${contentColumns.map((column) => `c.${column} AS "content.${column}"`).join(', ')}` : ''}
     FROM ${alongside ? '(SELECT 1) one LEFT JOIN content c ON c.content_id = $1 LEFT JOIN ' : ''}(bank_entries e JOIN banks b ON b.id = e.bank_id)
       ${alongside ? 'ON' : 'WHERE'} ${condition}`,
    alongside ? [alongside.contentId, ...params] : params,
  );
  const entries = rows.rows.filter((row) => row.id !== null).map((row): MatchedEntry => {
    const entry: MatchedEntry = { ...toEntry(row), bankTags: row.bank_tags };
    return row.provenance?.length ? { ...entry, provenance: row.provenance.map(toProvenance) } : entry;
  });
  if (!alongside) return { entries };
  const firstRow = rows.rows[0];
  const content = firstRow?.content_found ? Object.fromEntries(contentColumns.map((column) => [column, firstRow[`content.${column}`]])) : null;
  return { entries, content };
}

const toProvenance = (row: ProvenanceRow): EntryProvenance => ({ exchange: row.exchange, member: row.member, itemKey: row.item_key, tags: row.tags });

/** Up to this many matched entries are named one parameter each; more (rare) go as one array. */
const SCALAR_IDS = 8;

/**
 * `e.id IN ($n, …)` with one parameter per id for the few entries an upload matches. With one
 * array parameter the planner must guess the array's length (ten) when it weighs a cached plan,
 * so it planned the lookup anew on every upload; with as many parameters as ids the cached plan
 * is as cheap as a fresh one and is kept (0.32 ms a lookup against 0.83 ms, embedded store).
 */
function entryIdsCondition(entryIds: number[], firstParam: number): { condition: string; params: unknown[] } {
  if (entryIds.length === 0) return { condition: 'false', params: [] };
  if (entryIds.length > SCALAR_IDS) return { condition: `e.id = ANY($${firstParam}::bigint[])`, params: [entryIds] };
  return { condition: `e.id IN (${entryIds.map((_, i) => `$${firstParam + i}::bigint`).join(', ')})`, params: entryIds };
}
