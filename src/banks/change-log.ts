import type { SqlClient } from '../store/sql.ts';

/*
 * A bank's change log: every change to its entries takes the bank's next revision and records
 * what it changed (bank_entry_changes), and every removal leaves a tombstone with the value
 * (bank_entry_tombstones). Matchers apply revisions as deltas, retroactive matching follows
 * them, and feeds tell peers what went.
 */

/** What one revision of a bank changed, as its change-log row records it. */
export interface BankEntryChange {
  added?: number[];
  imported?: { importId: number; firstId: number; lastId: number; count: number };
  /** With their values: a removal leaves a tombstone, so a bank's feed can tell peers what went. */
  removed?: RemovedEntry[];
}

export interface RemovedEntry {
  id: number;
  signalType: string;
  value: string;
  /** The entry's source: one that came through an exchange ('exchange:…') is never passed on by a feed. */
  source: string | null;
}

/** What a removal returns for bumpRevision: `DELETE FROM bank_entries … RETURNING ${REMOVED_ENTRY_COLUMNS}`. */
export const REMOVED_ENTRY_COLUMNS = 'id, signal_type, value, source';

export interface RemovedEntryRow {
  id: number | string;
  signal_type: string;
  value: string;
  source: string | null;
}

export const toRemovedEntry = (row: RemovedEntryRow): RemovedEntry => ({ id: Number(row.id), signalType: row.signal_type, value: row.value, source: row.source });

/** Entries that came through an exchange carry its name as their source; feeds leave them out. */
export const fromExchange = (source: string | null) => source?.startsWith('exchange:') === true;

/**
 * Gives the bank its next revision and logs what it changed, inside the caller's transaction:
 * every change to a bank's entries goes through here, so matchers can apply it as a delta.
 */
export async function bumpRevision(tx: SqlClient, bankId: number, change: BankEntryChange = {}): Promise<number> {
  const result = await tx.query<{ revision: number }>(
    'UPDATE banks SET revision = revision + 1, updated_at = now() WHERE id = $1 RETURNING revision',
    [bankId],
  );
  const revision = Number(result.rows[0].revision);
  const added = change.added ?? [];
  const removed = change.removed ?? [];
  const imported = change.imported;
  await tx.query(
    `INSERT INTO bank_entry_changes (bank_id, revision, added_ids, import_id, first_id, last_id, removed_ids, entries)
     VALUES ($1, $2, $3::bigint[], $4, $5, $6, $7::bigint[], $8)`,
    [bankId, revision, added, imported?.importId ?? null, imported?.firstId ?? null, imported?.lastId ?? null, removed.map((entry) => entry.id), added.length + removed.length + (imported?.count ?? 0)],
  );
  if (removed.length > 0) {
    await tx.query(
      `INSERT INTO bank_entry_tombstones (bank_id, revision, signal_type, value, from_exchange)
       SELECT $1, $2, r.signal_type, r.value, r.from_exchange FROM jsonb_to_recordset($3::jsonb) AS r(signal_type text, value text, from_exchange boolean)`,
      [bankId, revision, JSON.stringify(removed.map((entry) => ({ signal_type: entry.signalType, value: entry.value, from_exchange: fromExchange(entry.source) })))],
    );
  }
  return revision;
}
