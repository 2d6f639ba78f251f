import type { BankMatchSettings } from '../../banks/match-settings.ts';
import type { SqlClient } from '../../store/sql.ts';
import { BankIndexStore } from '../bank-store.ts';
import type { NewEntry, StoredPage } from './scan.ts';

/** A bank and where its retroactive matching stands (retroactive_checkpoints, migration 0020). */
export interface CheckpointRow {
  bankId: number;
  bank: string;
  enabled: boolean;
  matchSettings: BankMatchSettings;
  /** The bank's revision in the store. */
  storeRevision: number;
  /** Every revision up to this one has been matched; null when the bank has no checkpoint yet. */
  revision: number | null;
  job: JobPosition | null;
  entriesDone: number;
  contentScanned: number;
  matches: number;
}

/** A job in progress: revisions after the checkpoint up to `to`, and how far it got. */
export interface JobPosition {
  to: number;
  cutoff: Date;
  /** 'exact', or 'scan:<signal type>'. */
  phase: string;
  /** Exact phase: entry ids up to this are done. Scan phase: content_signals ids up to this. */
  after: number;
  entries: number;
}

interface RawCheckpoint {
  bank_id: number;
  name: string;
  enabled: boolean;
  match_settings: BankMatchSettings;
  store_revision: number;
  revision: number | null;
  job_to: number | null;
  job_cutoff: Date | null;
  job_phase: string | null;
  job_after: number | null;
  job_entries: number | null;
  entries_done: number | null;
  content_scanned: number | null;
  matches: number | null;
}

const toCheckpoint = (row: RawCheckpoint): CheckpointRow => ({
  bankId: Number(row.bank_id),
  bank: row.name,
  enabled: row.enabled,
  matchSettings: row.match_settings,
  storeRevision: Number(row.store_revision),
  revision: row.revision === null ? null : Number(row.revision),
  job:
    row.job_to === null || row.job_cutoff === null || row.job_phase === null
      ? null
      : { to: Number(row.job_to), cutoff: new Date(row.job_cutoff), phase: row.job_phase, after: Number(row.job_after), entries: Number(row.job_entries) },
  entriesDone: Number(row.entries_done ?? 0),
  contentScanned: Number(row.content_scanned ?? 0),
  matches: Number(row.matches ?? 0),
});

const CHECKPOINT_SELECT = `
  SELECT b.id AS bank_id, b.name, b.enabled, b.match_settings, b.revision AS store_revision, c.revision, c.job_to, c.job_cutoff,
         c.job_phase, c.job_after, c.job_entries, c.entries_done, c.content_scanned, c.matches
  FROM banks b LEFT JOIN retroactive_checkpoints c ON c.bank_id = b.id`;

/** What retroactive matching reads from the store; writes that go with emitted events are in commit.ts. */
export class RetroactiveStore {
  private readonly changes: BankIndexStore;

  constructor(private readonly sql: SqlClient) {
    this.changes = new BankIndexStore(sql, 5000);
  }

  async checkpoints(): Promise<CheckpointRow[]> {
    return (await this.sql.query<RawCheckpoint>(`${CHECKPOINT_SELECT} ORDER BY b.name`)).rows.map(toCheckpoint);
  }

  /** Enabled banks with revisions not yet matched, or a job under way. */
  async pending(): Promise<CheckpointRow[]> {
    // Allow banks only set matches aside at upload; content matching one later is no news.
    const result = await this.sql.query<RawCheckpoint>(`${CHECKPOINT_SELECT} WHERE b.enabled AND b.kind = 'block' AND (c.bank_id IS NULL OR b.revision > c.revision OR c.job_to IS NOT NULL) ORDER BY b.id`);
    return result.rows.map(toCheckpoint);
  }

  async checkpoint(bankId: number): Promise<CheckpointRow | undefined> {
    const row = (await this.sql.query<RawCheckpoint>(`${CHECKPOINT_SELECT} WHERE b.id = $1`, [bankId])).rows[0];
    return row && toCheckpoint(row);
  }

  /** A bank created since the stage began starts at revision 0: all of its entries are new. */
  async ensureCheckpoint(bankId: number): Promise<void> {
    await this.sql.query('INSERT INTO retroactive_checkpoints (bank_id, revision) VALUES ($1, 0) ON CONFLICT (bank_id) DO NOTHING', [bankId]);
  }

  /** Entries per bank added by revisions after each checkpoint (status). */
  async lagEntries(): Promise<Map<number, number>> {
    const result = await this.sql.query<{ bank_id: number; entries: number }>(
      `SELECT c.bank_id, coalesce(sum(x.entries), 0) AS entries FROM retroactive_checkpoints c
       JOIN bank_entry_changes x ON x.bank_id = c.bank_id AND x.revision > c.revision GROUP BY c.bank_id`,
    );
    return new Map(result.rows.map((row) => [Number(row.bank_id), Number(row.entries)]));
  }

  /**
   * The last revision a job starting after `from` takes: every revision up to the store's, or
   * fewer so that their entries stay within maxEntries (at least one revision, however large).
   */
  async jobEnd(bankId: number, from: number, upTo: number, maxEntries: number): Promise<number> {
    const result = await this.sql.query<{ within: number | null; over: number | null }>(
      `SELECT max(revision) FILTER (WHERE running <= $4) AS within, min(revision) FILTER (WHERE running > $4) AS over FROM (
         SELECT revision, sum(entries) OVER (ORDER BY revision) AS running FROM bank_entry_changes WHERE bank_id = $1 AND revision > $2 AND revision <= $3
       ) r`,
      [bankId, from, upTo, maxEntries],
    );
    const { within, over } = result.rows[0] ?? { within: null, over: null };
    // Nothing beyond the limit: all of it (revisions missing from the log changed nothing this stage can see).
    if (over === null) return upTo;
    // The first revision alone is beyond the limit: it is taken whole, so that the job makes progress.
    if (within === null) return Number(over);
    return Number(over) - 1;
  }

  /** Entries that revisions (from, to] added and that are still in the bank, by id. */
  async newEntries(bankId: number, from: number, to: number): Promise<NewEntry[]> {
    const entries: NewEntry[] = [];
    for (const change of await this.changes.changes(bankId, from, to)) {
      for await (const groups of this.changes.added(bankId, change)) {
        for (const group of groups) group.ids.forEach((id, i) => entries.push({ id, signalType: group.signalType, value: group.values[i] }));
      }
    }
    const seen = new Set<number>();
    return entries.filter((entry) => !seen.has(entry.id) && seen.add(entry.id)).sort((a, b) => a.id - b.id);
  }

  /** Where a scan of signals received at or after the cutoff starts: just before the first such id. */
  async windowStart(cutoff: Date): Promise<number> {
    const result = await this.sql.query<{ first: number | null }>('SELECT min(id) AS first FROM content_signals WHERE received_at >= $1', [cutoff]);
    const first = result.rows[0]?.first;
    return first === null || first === undefined ? Number.MAX_SAFE_INTEGER : Number(first) - 1;
  }

  /** Stored content in the window whose exact signal equals one of the entries (the index on md5(value)). */
  async exactHits(entries: NewEntry[], cutoff: Date): Promise<{ contentId: string; entryId: number }[]> {
    if (entries.length === 0) return [];
    const result = await this.sql.query<{ content_id: string; entry_id: number }>(
      `SELECT cs.content_id, e.id AS entry_id
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS e(id, signal_type, value)
       JOIN content_signals cs ON cs.exact AND cs.signal_type = e.signal_type AND md5(cs.value) = md5(e.value) AND cs.value = e.value
       WHERE cs.received_at >= $4`,
      [entries.map((entry) => entry.id), entries.map((entry) => entry.signalType), entries.map((entry) => entry.value), cutoff],
    );
    return result.rows.map((row) => ({ contentId: row.content_id, entryId: Number(row.entry_id) }));
  }

  /**
   * The next page of stored values of one distance type in the window, as one row: drivers
   * pay per row, and 256-bit hashes come as one string of hex digits to decode at once.
   */
  async scanPage(signalType: string, hex256: boolean, after: number, cutoff: Date, limit: number): Promise<StoredPage & { last: number }> {
    // No ORDER BY inside the aggregates: it made PostgreSQL sort each page again, on disk. The
    // aggregates read the same rows in the same order, so ids and values still pair up.
    const values = hex256 ? "string_agg(value, '') AS hex" : 'json_agg(value) AS vals';
    const result = await this.sql.query<{ ids: string | null; hex?: string | null; vals?: string[] | null; last: number | null }>(
      `SELECT string_agg(id::text, ',') AS ids, ${values}, max(id) AS last
       FROM (SELECT id, value FROM content_signals WHERE NOT exact AND signal_type = $1 AND id > $2 AND received_at >= $3 ORDER BY id LIMIT $4) page`,
      [signalType, after, cutoff, limit],
    );
    const row = result.rows[0];
    if (!row || row.ids === null) return { ids: [], last: after };
    const ids = row.ids.split(',').map(Number);
    return { ids, last: Number(row.last), ...(hex256 ? { hex: row.hex ?? '' } : { values: row.vals ?? [] }) };
  }

  /** The content each matched signal row belongs to. */
  async contentOf(signalIds: number[]): Promise<Map<number, string>> {
    if (signalIds.length === 0) return new Map();
    const result = await this.sql.query<{ id: number; content_id: string }>('SELECT id, content_id FROM content_signals WHERE id = ANY($1::bigint[])', [signalIds]);
    return new Map(result.rows.map((row) => [Number(row.id), row.content_id]));
  }
}
