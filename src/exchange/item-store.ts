import { REMOVED_ENTRY_COLUMNS, type RemovedEntry, type RemovedEntryRow, toRemovedEntry } from '../banks/change-log.ts';
import type { SqlClient } from '../store/sql.ts';
import type { CheckedItem } from './item-check.ts';

/** The exchange a page belongs to, as the item store needs it. */
export interface ItemTarget {
  exchangeId: number;
  exchangeName: string;
  bankId: number;
  /** The generation of the whole read under way, or null outside one. */
  generation: number | null;
}

/** What applying items changed in the bank: what bumpRevision logs as the bank's delta (removals with their values, for tombstones). */
export interface EntryChanges {
  added: number[];
  removed: RemovedEntry[];
}

/** The source recorded on entries an exchange added: only these leave the bank when their last item goes. */
export const exchangeEntrySource = (exchangeName: string) => `exchange:${exchangeName}`;

/** Rows per statement, so a page of thousands of items is a few statements, not thousands. */
const SLICE = 1000;

/**
 * Applies checked items inside the caller's transaction: each item replaces the one with the
 * same key (its signals, tags, provenance); a live item's hashes become bank entries linked to
 * it; a deleted item (signals null) keeps its row as a tombstone and lets go of its entries.
 * An entry the exchanges added leaves the bank once no live item of any exchange holds it;
 * entries added by hand or by a reviewer are never removed here.
 */
export async function applyItems(tx: SqlClient, target: ItemTarget, items: CheckedItem[]): Promise<EntryChanges> {
  const changes: EntryChanges = { added: [], removed: [] };
  for (let start = 0; start < items.length; start += SLICE) {
    const slice = items.slice(start, start + SLICE);
    const sliceChanges = await applySlice(tx, target, slice);
    changes.added.push(...sliceChanges.added);
    changes.removed.push(...sliceChanges.removed);
    if (start + SLICE < items.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return netChanges(changes);
}

/** An entry added and removed in the same transaction was never seen by anyone: it is in neither list. */
function netChanges(changes: EntryChanges): EntryChanges {
  const added = new Set(changes.added.map(Number));
  const removed = new Map(changes.removed.map((entry) => [entry.id, entry]));
  return {
    added: [...added].filter((id) => !removed.has(id)),
    removed: [...removed.values()].filter((entry) => !added.has(entry.id)),
  };
}

async function applySlice(tx: SqlClient, target: ItemTarget, items: CheckedItem[]): Promise<EntryChanges> {
  const keys = items.map((item) => item.key);
  const oldLinks = await tx.query<{ entry_id: string | number }>(
    'DELETE FROM exchange_item_entries WHERE exchange_id = $1 AND item_key = ANY($2::text[]) RETURNING entry_id',
    [target.exchangeId, keys],
  );
  await tx.query(
    `INSERT INTO exchange_items (exchange_id, item_key, member, source_id, tags, signals, other_fingerprints, source_opinion, deleted, source_updated_at, updated_at, seen_generation)
     SELECT $1, r.item_key, r.member, r.source_id, coalesce(r.tags, '{}'), coalesce(r.signals, '[]'), coalesce(r.other_fingerprints, '{}'), r.source_opinion, r.deleted, r.source_updated_at, now(), coalesce($3::bigint, 0)
     FROM jsonb_to_recordset($2::jsonb) AS r(item_key text, member text, source_id text, tags text[], signals jsonb, other_fingerprints jsonb, source_opinion text, deleted boolean, source_updated_at timestamptz)
     ON CONFLICT (exchange_id, item_key) DO UPDATE SET
       member = coalesce(excluded.member, exchange_items.member),
       source_id = coalesce(excluded.source_id, exchange_items.source_id),
       tags = CASE WHEN excluded.deleted THEN exchange_items.tags ELSE excluded.tags END,
       -- A tombstone keeps the hashes it withdrew, so its provenance still says what it was.
       signals = CASE WHEN excluded.deleted THEN exchange_items.signals ELSE excluded.signals END,
       other_fingerprints = CASE WHEN excluded.deleted THEN exchange_items.other_fingerprints ELSE excluded.other_fingerprints END,
       source_opinion = excluded.source_opinion,
       deleted = excluded.deleted,
       source_updated_at = excluded.source_updated_at,
       updated_at = now(),
       seen_generation = coalesce($3::bigint, exchange_items.seen_generation)`,
    [
      target.exchangeId,
      JSON.stringify(
        items.map((item) => ({
          item_key: item.key,
          member: item.member,
          source_id: item.sourceId,
          tags: item.tags,
          signals: item.signals ?? [],
          other_fingerprints: item.otherFingerprints,
          source_opinion: item.sourceOpinion,
          deleted: item.signals === null,
          source_updated_at: item.updatedAt?.toISOString() ?? null,
        })),
      ),
      target.generation,
    ],
  );

  // The live items' hashes, each once, with the tags of the last item naming it.
  const wanted = new Map<string, { signal_type: string; value: string; tags: string[] }>();
  for (const item of items) {
    for (const signal of item.signals ?? []) wanted.set(`${signal.signalType}\u0000${signal.value}`, { signal_type: signal.signalType, value: signal.value, tags: item.tags });
  }
  const added: number[] = [];
  const entryIds = new Map<string, number>();
  if (wanted.size > 0) {
    const inserted = await tx.query<{ id: string | number; signal_type: string; value: string }>(
      `INSERT INTO bank_entries (bank_id, signal_type, value, source, tags)
       SELECT $1, r.signal_type, r.value, $2, coalesce(r.tags, '{}') FROM jsonb_to_recordset($3::jsonb) AS r(signal_type text, value text, tags text[])
       ON CONFLICT (bank_id, signal_type, md5(value)) DO NOTHING RETURNING id, signal_type, value`,
      [target.bankId, exchangeEntrySource(target.exchangeName), JSON.stringify([...wanted.values()])],
    );
    for (const row of inserted.rows) {
      added.push(Number(row.id));
      entryIds.set(`${row.signal_type}\u0000${row.value}`, Number(row.id));
    }
    // Hashes already in the bank: link to their entries; those this exchange added follow its items' tags.
    const existing = [...wanted.entries()].filter(([id]) => !entryIds.has(id)).map(([, row]) => row);
    if (existing.length > 0) {
      const found = await tx.query<{ id: string | number; signal_type: string; value: string }>(
        `WITH wanted AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(signal_type text, value text, tags text[])),
         retagged AS (
           UPDATE bank_entries e SET tags = coalesce(w.tags, '{}') FROM wanted w
           WHERE e.bank_id = $1 AND e.signal_type = w.signal_type AND md5(e.value) = md5(w.value) AND e.value = w.value
             AND e.source = $3 AND e.tags IS DISTINCT FROM coalesce(w.tags, '{}')
         )
         SELECT e.id, e.signal_type, e.value FROM bank_entries e JOIN wanted w
           ON e.bank_id = $1 AND e.signal_type = w.signal_type AND md5(e.value) = md5(w.value) AND e.value = w.value`,
        [target.bankId, JSON.stringify(existing), exchangeEntrySource(target.exchangeName)],
      );
      for (const row of found.rows) entryIds.set(`${row.signal_type}\u0000${row.value}`, Number(row.id));
    }
  }
  const links: { item_key: string; entry_id: number }[] = [];
  for (const item of items) {
    for (const signal of item.signals ?? []) {
      const entryId = entryIds.get(`${signal.signalType}\u0000${signal.value}`);
      if (entryId !== undefined) links.push({ item_key: item.key, entry_id: entryId });
    }
  }
  if (links.length > 0) {
    await tx.query(
      `INSERT INTO exchange_item_entries (exchange_id, item_key, entry_id)
       SELECT $1, r.item_key, r.entry_id FROM jsonb_to_recordset($2::jsonb) AS r(item_key text, entry_id bigint) ON CONFLICT DO NOTHING`,
      [target.exchangeId, JSON.stringify(links)],
    );
  }
  const kept = new Set(links.map((link) => link.entry_id));
  const released = [...new Set(oldLinks.rows.map((row) => Number(row.entry_id)))].filter((id) => !kept.has(id));
  return { added, removed: await removeOrphanEntries(tx, released) };
}

/**
 * Removes those of the given entries that the exchanges added and no item links any more
 * (every exchange's links count: another live item holding the same hash keeps it).
 */
export async function removeOrphanEntries(tx: SqlClient, entryIds: number[]): Promise<RemovedEntry[]> {
  if (entryIds.length === 0) return [];
  const removed = await tx.query<RemovedEntryRow>(
    `DELETE FROM bank_entries e WHERE e.id = ANY($1::bigint[]) AND e.source LIKE 'exchange:%'
       AND NOT EXISTS (SELECT 1 FROM exchange_item_entries l WHERE l.entry_id = e.id)
     RETURNING ${REMOVED_ENTRY_COLUMNS}`,
    [entryIds],
  );
  return removed.rows.map(toRemovedEntry);
}

/**
 * Ends a whole read of the source: items it did not read again are gone at the source, so they
 * become tombstones and let go of their entries, in the caller's transaction.
 */
export async function releaseUnseenItems(tx: SqlClient, exchangeId: number, generation: number): Promise<{ items: number; removed: RemovedEntry[] }> {
  const gone = await tx.query<{ item_key: string }>(
    `UPDATE exchange_items SET deleted = true, updated_at = now()
     WHERE exchange_id = $1 AND NOT deleted AND seen_generation <> $2 RETURNING item_key`,
    [exchangeId, generation],
  );
  if (gone.rows.length === 0) return { items: 0, removed: [] };
  const links = await tx.query<{ entry_id: string | number }>(
    'DELETE FROM exchange_item_entries WHERE exchange_id = $1 AND item_key = ANY($2::text[]) RETURNING entry_id',
    [exchangeId, gone.rows.map((row) => row.item_key)],
  );
  const removed = await removeOrphanEntries(tx, [...new Set(links.rows.map((row) => Number(row.entry_id)))]);
  return { items: gone.rows.length, removed };
}
