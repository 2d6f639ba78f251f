import type { BankKind } from '../banks/bank-controls.ts';
import type { BankMatchSettings } from '../banks/match-settings.ts';
import type { SqlClient } from '../store/sql.ts';

export interface BankRow {
  id: number;
  name: string;
  enabled: boolean;
  match_settings: BankMatchSettings;
  kind: BankKind;
  enabled_ratio: number;
  revision: number;
}

/** One revision's row of bank_entry_changes (migration 0016). */
export interface BankChangeRow {
  revision: number;
  addedIds: number[];
  importId: number | null;
  firstId: number | null;
  lastId: number | null;
  removedIds: number[];
  entries: number;
}

/** Entries of one signal type, in id order. */
export interface EntryGroup {
  signalType: string;
  ids: number[];
  values: string[];
}

const BANK_COLUMNS = 'id, name, enabled, match_settings, kind, enabled_ratio, revision';
/** Indexes hold the entries that match: a disabled one comes back through the revision that enables it. */
const ENABLED = 'disabled_until IS NULL';

/**
 * What the matcher reads from the store: banks and their revisions, what each revision
 * changed, and entries in pages. Pages are kept small because each is parsed on the thread
 * that answers queries, between two of them.
 */
export class BankIndexStore {
  constructor(private readonly sql: SqlClient, private readonly pageSize: number) {}

  async banks(): Promise<BankRow[]> {
    return (await this.sql.query<BankRow>(`SELECT ${BANK_COLUMNS} FROM banks`)).rows.map(toBankRow);
  }

  async bank(id: number): Promise<BankRow | undefined> {
    const row = (await this.sql.query<BankRow>(`SELECT ${BANK_COLUMNS} FROM banks WHERE id = $1`, [id])).rows[0];
    return row && toBankRow(row);
  }

  /** The change-log rows of revisions after `after` up to `upTo`, in order. */
  async changes(bankId: number, after: number, upTo: number): Promise<BankChangeRow[]> {
    const result = await this.sql.query<{ revision: number; added_ids: unknown[]; import_id: number | null; first_id: number | null; last_id: number | null; removed_ids: unknown[]; entries: number }>(
      `SELECT revision, added_ids, import_id, first_id, last_id, removed_ids, entries FROM bank_entry_changes
       WHERE bank_id = $1 AND revision > $2 AND revision <= $3 ORDER BY revision`,
      [bankId, after, upTo],
    );
    return result.rows.map((row) => ({
      revision: Number(row.revision),
      // bigint[] arrives as strings from pg and as bigints or numbers from PGlite.
      addedIds: row.added_ids.map(Number),
      importId: row.import_id === null ? null : Number(row.import_id),
      firstId: row.first_id === null ? null : Number(row.first_id),
      lastId: row.last_id === null ? null : Number(row.last_id),
      removedIds: row.removed_ids.map(Number),
      entries: Number(row.entries),
    }));
  }

  /** Per bank, how many revisions after the given one the change log holds and how many entries they changed. */
  async lag(applied: Map<number, number>): Promise<Map<number, { revisions: number; entries: number }>> {
    if (applied.size === 0) return new Map();
    const result = await this.sql.query<{ bank_id: number; revisions: number; entries: number }>(
      `SELECT c.bank_id, count(*) AS revisions, coalesce(sum(c.entries), 0) AS entries
       FROM bank_entry_changes c JOIN unnest($1::int[], $2::bigint[]) AS a(bank_id, applied) ON a.bank_id = c.bank_id
       WHERE c.revision > a.applied GROUP BY c.bank_id`,
      [[...applied.keys()], [...applied.values()]],
    );
    return new Map(result.rows.map((row) => [Number(row.bank_id), { revisions: Number(row.revisions), entries: Number(row.entries) }]));
  }

  /** Every entry of the bank, a page at a time. */
  entries(bankId: number): AsyncGenerator<EntryGroup[]> {
    return this.pages('bank_id = $1', [bankId]);
  }

  /** The entries a change added that are still in the bank, a page at a time. */
  async *added(bankId: number, change: BankChangeRow): AsyncGenerator<EntryGroup[]> {
    for (let i = 0; i < change.addedIds.length; i += this.pageSize) {
      yield* this.pages('bank_id = $1 AND id = ANY($2::bigint[])', [bankId, change.addedIds.slice(i, i + this.pageSize)]);
    }
    if (change.importId !== null && change.firstId !== null && change.lastId !== null) yield* this.imported(change.importId, change.firstId, change.lastId);
  }

  /**
   * An import's rows, read by windows of the primary key: a window of pageSize ids holds at most
   * pageSize rows, so each read is a short index range whatever the planner knows. (Asked for the
   * import's rows ordered by id with a limit, a planner without statistics on rows just written
   * sorts the whole import for every page.) Rows of other imports that drew ids from the same
   * sequence meanwhile are filtered out by import_id, which belongs to one bank.
   */
  private async *imported(importId: number, firstId: number, lastId: number): AsyncGenerator<EntryGroup[]> {
    for (let from = firstId - 1; from < lastId; from += this.pageSize) {
      const page = await this.sql.query<{ signal_type: string; ids: number[]; vals: string[] }>(
        `SELECT signal_type, json_agg(id ORDER BY id) AS ids, json_agg(value ORDER BY id) AS vals
         FROM bank_entries WHERE id > $1 AND id <= $2 AND import_id = $3 AND ${ENABLED} GROUP BY signal_type`,
        [from, Math.min(from + this.pageSize, lastId), importId],
      );
      if (page.rows.length > 0) yield page.rows.map((group) => ({ signalType: group.signal_type, ids: group.ids.map(Number), values: group.vals }));
    }
  }

  private async *pages(where: string, params: unknown[]): AsyncGenerator<EntryGroup[]> {
    let afterId = 0;
    const at = params.length + 1;
    for (;;) {
      // One row per signal type and page: drivers pay per row, so aggregating makes loading
      // several times faster than reading an entry a row.
      const page = await this.sql.query<{ signal_type: string; ids: number[]; vals: string[]; n: number; last: number }>(
        `SELECT signal_type, json_agg(id ORDER BY id) AS ids, json_agg(value ORDER BY id) AS vals, count(*) AS n, max(id) AS last
         FROM (SELECT id, signal_type, value FROM bank_entries WHERE ${where} AND ${ENABLED} AND id > $${at} ORDER BY id LIMIT $${at + 1}) page
         GROUP BY signal_type`,
        [...params, afterId, this.pageSize],
      );
      let loaded = 0;
      for (const group of page.rows) {
        loaded += Number(group.n);
        afterId = Math.max(afterId, Number(group.last));
      }
      if (page.rows.length > 0) yield page.rows.map((group) => ({ signalType: group.signal_type, ids: group.ids.map(Number), values: group.vals }));
      if (loaded < this.pageSize) return;
    }
  }
}

const toBankRow = (row: BankRow): BankRow => ({ ...row, id: Number(row.id), revision: Number(row.revision), enabled_ratio: Number(row.enabled_ratio) });
