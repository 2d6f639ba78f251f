import { invalid, notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import { type BankChange, type EntryRow, entryColumns } from './banks.ts';
import { bumpRevision } from './change-log.ts';

export interface DisableOptions {
  /** When the entry matches again; null or absent (and no forSeconds): not until it is re-enabled. */
  until?: Date | null;
  /** Instead of until: for this long from now, by the service's clock. */
  forSeconds?: number;
  /** Why, for whoever looks at the entry later: 'false positive (case 12)', 'flood'. */
  reason: string;
  /** The bank the entry must be in (the API names it in the path). */
  bank?: string;
  /** Leave an entry that is already disabled as it is (its time and reason too). */
  onlyIfEnabled?: boolean;
}

/** An entry switched on or off in a transaction, and what tells this process's matcher after commit. */
export interface EntryToggle<Entry> {
  entry: Entry;
  /** Whether the entry went from matching to not, or back. */
  changed: boolean;
  published: () => Promise<void> | void;
}

export type Toggled = { entry: EntryRow; change?: BankChange };

async function lockedEntry(tx: SqlClient, entryId: number, bank: string | undefined): Promise<EntryRow & { bank_name: string }> {
  if (!Number.isSafeInteger(entryId) || entryId < 1) throw notFound(`no bank entry ${entryId}`, { entry_id: entryId });
  const found = await tx.query<EntryRow & { bank_name: string }>(
    `SELECT ${entryColumns('e')}, b.name AS bank_name FROM bank_entries e JOIN banks b ON b.id = e.bank_id WHERE e.id = $1 FOR UPDATE OF e`,
    [entryId],
  );
  const row = found.rows[0];
  if (!row || (bank !== undefined && row.bank_name !== bank)) {
    throw notFound(bank === undefined ? `no bank entry ${entryId}` : `bank ${JSON.stringify(bank)} has no entry ${entryId}`, { entry_id: entryId, ...(bank ? { bank } : {}) });
  }
  return row;
}

export async function disableEntryIn(tx: SqlClient, entryId: number, options: DisableOptions, now: Date): Promise<Toggled> {
  const reason = options.reason?.trim() ?? '';
  if (reason.length === 0 || reason.length > 500 || /[\u0000-\u001f]/.test(reason)) throw invalid('reason must be 1-500 printable characters', { reason: options.reason });
  if (options.until && options.forSeconds !== undefined) throw invalid('give until or forSeconds, not both');
  if (options.forSeconds !== undefined && (!Number.isFinite(options.forSeconds) || options.forSeconds <= 0)) throw invalid(`forSeconds must be positive, got ${options.forSeconds}`);
  const until = options.forSeconds !== undefined ? new Date(now.getTime() + options.forSeconds * 1000) : (options.until ?? null);
  if (until !== null && (!(until instanceof Date) || Number.isNaN(until.getTime()))) throw invalid('until must be a time', { until: String(until) });
  if (until !== null && until.getTime() <= now.getTime()) throw invalid(`until must be in the future, got ${until.toISOString()}`, { until: until.toISOString() });
  const row = await lockedEntry(tx, entryId, options.bank);
  const wasEnabled = row.disabled_until_ms === null;
  if (!wasEnabled && options.onlyIfEnabled) return { entry: row };
  const updated = await tx.query<EntryRow>(
    `UPDATE bank_entries SET disabled_until = coalesce($2::timestamptz, 'infinity'), disabled_reason = $3 WHERE id = $1 RETURNING ${entryColumns()}`,
    [entryId, until, reason],
  );
  if (!wasEnabled) return { entry: updated.rows[0] };
  // Out of the indexes as a removal: every matcher applies it as a delta.
  const revision = await bumpRevision(tx, row.bank_id, { removed: [{ id: entryId, signalType: row.signal_type, value: row.value, source: row.source }] });
  const change: BankChange = { kind: 'entry-removed', bankId: row.bank_id, revision, entryId, signalType: row.signal_type, ...(until ? { until } : {}) };
  return { entry: updated.rows[0], change };
}

export async function enableEntryIn(tx: SqlClient, entryId: number, options: { bank?: string; floodExempt?: boolean }): Promise<Toggled> {
  const row = await lockedEntry(tx, entryId, options.bank);
  const updated = await tx.query<EntryRow>(
    `UPDATE bank_entries SET disabled_until = NULL, disabled_reason = NULL, flood_exempt = flood_exempt OR $2 WHERE id = $1 RETURNING ${entryColumns()}`,
    [entryId, options.floodExempt === true],
  );
  if (row.disabled_until_ms === null) return { entry: updated.rows[0] };
  const revision = await bumpRevision(tx, row.bank_id, { added: [entryId] });
  return {
    entry: updated.rows[0],
    change: { kind: 'entries-added', bankId: row.bank_id, bankName: row.bank_name, revision, entries: [{ id: entryId, signalType: row.signal_type, value: row.value }] },
  };
}

/** Re-enables the entries whose disable ran out by `now`: one revision per bank. */
export async function enableExpiredIn(tx: SqlClient, now: Date): Promise<{ count: number; changes: BankChange[] }> {
  const expired = await tx.query<{ id: number; bank_id: number; bank_name: string; signal_type: string; value: string }>(
    `UPDATE bank_entries e SET disabled_until = NULL, disabled_reason = NULL FROM banks b
     WHERE b.id = e.bank_id AND e.disabled_until IS NOT NULL AND e.disabled_until <= $1
     RETURNING e.id, e.bank_id, b.name AS bank_name, e.signal_type, e.value`,
    [now],
  );
  const byBank = new Map<number, typeof expired.rows>();
  for (const row of expired.rows) {
    const bankId = Number(row.bank_id);
    byBank.set(bankId, [...(byBank.get(bankId) ?? []), row]);
  }
  const changes: BankChange[] = [];
  for (const [bankId, rows] of [...byBank].sort(([a], [b]) => a - b)) {
    const revision = await bumpRevision(tx, bankId, { added: rows.map((row) => Number(row.id)) });
    changes.push({ kind: 'entries-added', bankId, bankName: rows[0].bank_name, revision, entries: rows.map((row) => ({ id: Number(row.id), signalType: row.signal_type, value: row.value })) });
  }
  return { count: expired.rows.length, changes };
}

/** The earliest time a time-limited disable runs out, if any (matchers sweep when it passes). */
export async function nextExpiry(client: SqlClient): Promise<Date | undefined> {
  const result = await client.query<{ next_ms: number | null }>(
    `SELECT (extract(epoch FROM min(disabled_until)) * 1000)::float8 AS next_ms FROM bank_entries WHERE disabled_until IS NOT NULL AND disabled_until < 'infinity'`,
  );
  const next = result.rows[0]?.next_ms;
  return next === null || next === undefined ? undefined : new Date(Number(next));
}
