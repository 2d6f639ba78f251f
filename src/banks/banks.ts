import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { SqlClient } from '../store/sql.ts';
import type { RawBankRow } from './import-formats.ts';
import { type BankMatchSettings, checkMatchSettings } from './match-settings.ts';
import { rowError } from './import-formats.ts';
import { type BankKind, checkBankKind, checkEnabledRatio, checkFloodLimit } from './bank-controls.ts';
import { type BankEntryChange, bumpRevision, REMOVED_ENTRY_COLUMNS, type RemovedEntryRow, toRemovedEntry } from './change-log.ts';
import { type DisableOptions, type EntryToggle, type Toggled, disableEntryIn, enableEntryIn, enableExpiredIn } from './entry-disabling.ts';

export interface Bank {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  /** How close matches must be in this bank, where it differs from the signal types' defaults. */
  matchSettings: BankMatchSettings;
  /** block, or allow: its matches suppress the same content's matches in the other banks. */
  kind: BankKind;
  /** The share of lookups the bank counts in (a coin per request seed); 1 is all of them. */
  enabledRatio: number;
  /** Distinct uploads an entry may match in an hour before quarantine; null: the server's default. */
  floodLimit: number | null;
  /** Served to peer platforms as a feed (src/exchange/publish/): the operator's choice, off by default. */
  published: boolean;
  /** Every match from the bank carries these beside its entry's own tags (rules select by match.tags). */
  tags: string[];
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface BankSummary extends Bank {
  entryCounts: Record<string, number>;
}

export interface BankEntry {
  id: number;
  bankId: number;
  signalType: string;
  value: string;
  source: string | null;
  tags: string[];
  importId: number | null;
  addedAt: Date;
  /** Null: the entry matches. 'infinity': disabled until someone re-enables it. A time: when it matches again. */
  disabledUntil: Date | 'infinity' | null;
  disabledReason: string | null;
}

export interface NewBankEntry {
  signalType: string;
  value: string;
  source?: string;
  tags?: string[];
}

export interface ImportOptions {
  /** Where the list came from (file name, exchange name); recorded with every entry. */
  sourceName: string;
  format: string;
  /** "skip" counts entries already in the bank (or repeated in the file); "error" refuses the import. */
  onDuplicate?: 'skip' | 'error';
  batchSize?: number;
  onProgress?: (rowsRead: number) => void;
}

export interface ImportResult {
  importId: number;
  rowsRead: number;
  rowsAdded: number;
  rowsDuplicate: number;
}

/**
 * Something that must hear when a bank's entries change (the matcher's indexes). A listener
 * may return a promise that settles once the change is visible to it: the service awaits it,
 * so whoever made the change (an import) reads its own writes. It must never reject.
 */
export interface BankChangeListener {
  bankChanged(change: BankChange): void | Promise<void>;
}

export type BankChange =
  | { kind: 'entries-added'; bankId: number; bankName: string; bankKind?: BankKind; revision: number; entries: { id: number; signalType: string; value: string }[] }
  /** until: the entry was disabled until then, rather than removed; matchers sweep it back in when the time comes. */
  | { kind: 'entry-removed'; bankId: number; revision: number; entryId: number; signalType: string; until?: Date }
  | { kind: 'settings-changed'; bankId: number; revision: number; enabled: boolean; matchSettings: BankMatchSettings; bankKind: BankKind; enabledRatio: number }
  | { kind: 'bulk-changed' | 'deleted'; bankId: number; revision: number };

const BANK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Rows an import checks between two turns of the event loop. */
const IMPORT_SLICE = 200;

interface BankRow {
  id: number;
  name: string;
  description: string;
  enabled: boolean;
  match_settings: BankMatchSettings;
  kind: BankKind;
  enabled_ratio: number;
  flood_limit: number | null;
  published: boolean;
  tags: string[];
  revision: number;
  created_at: Date;
  updated_at: Date;
}

export interface EntryRow {
  id: number;
  bank_id: number;
  signal_type: string;
  value: string;
  source: string | null;
  tags: string[];
  import_id: number | null;
  added_at: Date;
  disabled_until_ms: number | null;
  disabled_reason: string | null;
}

const toBank = (row: BankRow): Bank => ({
  id: row.id,
  name: row.name,
  description: row.description,
  enabled: row.enabled,
  matchSettings: row.match_settings,
  kind: row.kind,
  enabledRatio: Number(row.enabled_ratio),
  floodLimit: row.flood_limit === null ? null : Number(row.flood_limit),
  published: row.published,
  tags: row.tags,
  revision: row.revision,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const toEntry = (row: EntryRow): BankEntry => ({
  id: row.id,
  bankId: row.bank_id,
  signalType: row.signal_type,
  value: row.value,
  source: row.source,
  tags: row.tags,
  importId: row.import_id,
  addedAt: row.added_at,
  disabledUntil: untilOf(row.disabled_until_ms),
  disabledReason: row.disabled_reason,
});

/** 'infinity' arrives as Infinity milliseconds from both drivers; a time as a number. */
const untilOf = (ms: number | string | null): Date | 'infinity' | null => {
  if (ms === null) return null;
  const value = Number(ms);
  return Number.isFinite(value) ? new Date(value) : 'infinity';
};

const BANK_COLUMNS = 'id, name, description, enabled, match_settings, kind, enabled_ratio, flood_limit, published, tags, revision, created_at, updated_at';
/** The entry's columns, of the table under the given alias. */
export const entryColumns = (alias = '') => {
  const a = alias ? `${alias}.` : '';
  return `${a}id, ${a}bank_id, ${a}signal_type, ${a}value, ${a}source, ${a}tags, ${a}import_id, ${a}added_at, ` +
    `(extract(epoch FROM ${a}disabled_until) * 1000)::float8 AS disabled_until_ms, ${a}disabled_reason`;
};
const ENTRY_COLUMNS = entryColumns();
const INSERT_ENTRIES_FROM_JSON = `
  INSERT INTO bank_entries (bank_id, signal_type, value, source, tags, import_id)
  SELECT $1, r.signal_type, r.value, r.source, coalesce(r.tags, '{}'), $2
  FROM jsonb_to_recordset($3::jsonb) AS r(signal_type text, value text, source text, tags text[])
  ON CONFLICT (bank_id, signal_type, md5(value)) DO NOTHING`;
// Counting in SQL instead of returning every inserted row: drivers pay per row returned. The
// id range goes to the bank's change log, so matchers read an import's entries by key range.
const COUNT_INSERTED = (insert: string) => `WITH inserted AS (${insert} RETURNING id) SELECT count(*) AS added, min(id) AS first, max(id) AS last FROM inserted`;
const RETURN_INSERTED = (insert: string) => `${insert} RETURNING id, signal_type, value`;

export class BankService {
  private readonly listeners: BankChangeListener[] = [];

  private readonly now: () => Date;

  /** @param options.now the clock that says when a time-limited disable is over (tests inject their own). */
  constructor(private readonly sql: SqlClient, private readonly signals: SignalRegistry, options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
  }

  onChange(listener: BankChangeListener): void {
    this.listeners.push(listener);
  }

  private async emit(change: BankChange): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener.bankChanged(change)));
  }

  /**
   * Tells this process's listeners (the matcher) that a transaction the caller has committed
   * changed the bank's entries through bumpRevision: they read the delta from the change log.
   */
  async publishCommitted(bankId: number, revision: number): Promise<void> {
    await this.emit({ kind: 'bulk-changed', bankId, revision });
  }

  async create(name: string, description = '', options: { kind?: string; tags?: string[] } = {}): Promise<Bank> {
    const kind = checkBankKind(options.kind ?? 'block');
    const tags = normalizeTags(options.tags ?? []);
    if (!BANK_NAME.test(name)) {
      throw invalid(`invalid bank name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit`, { name });
    }
    const existing = await this.sql.query('SELECT 1 FROM banks WHERE name = $1', [name]);
    if (existing.rows.length > 0) throw conflict(`a bank named ${JSON.stringify(name)} already exists`, { name });
    const result = await this.sql.query<BankRow>(
      `INSERT INTO banks (name, description, kind, tags) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING ${BANK_COLUMNS}`,
      [name, description, kind, tags],
    );
    if (result.rows.length === 0) throw conflict(`a bank named ${JSON.stringify(name)} already exists`, { name });
    return toBank(result.rows[0]);
  }

  async get(name: string): Promise<Bank> {
    const result = await this.sql.query<BankRow>(`SELECT ${BANK_COLUMNS} FROM banks WHERE name = $1`, [name]);
    if (result.rows.length === 0) throw notFound(`no bank named ${JSON.stringify(name)}`, { name });
    return toBank(result.rows[0]);
  }

  async list(): Promise<BankSummary[]> {
    const banks = await this.sql.query<BankRow>(`SELECT ${BANK_COLUMNS} FROM banks ORDER BY name`);
    const counts = await this.sql.query<{ bank_id: number; signal_type: string; n: number }>(
      'SELECT bank_id, signal_type, count(*) AS n FROM bank_entries GROUP BY bank_id, signal_type',
    );
    return banks.rows.map((row) => ({
      ...toBank(row),
      entryCounts: Object.fromEntries(counts.rows.filter((c) => c.bank_id === row.id).map((c) => [c.signal_type, c.n])),
    }));
  }

  /**
   * Changes what is given; matchSettings, when given, replaces the bank's settings whole, and a
   * floodLimit of null returns the bank to the server's default.
   */
  async update(name: string, changes: BankChanges): Promise<Bank> {
    const bank = await this.get(name);
    const matchSettings = changes.matchSettings ? checkMatchSettings(changes.matchSettings, this.signals) : undefined;
    const kind = changes.kind === undefined ? null : checkBankKind(changes.kind);
    const ratio = changes.enabledRatio === undefined ? null : checkEnabledRatio(changes.enabledRatio);
    const floodLimit = changes.floodLimit === undefined ? undefined : checkFloodLimit(changes.floodLimit);
    const tags = changes.tags === undefined ? null : normalizeTags(changes.tags);
    // One statement, so the revision and its (empty) change-log row commit together.
    const result = await this.sql.query<BankRow>(
      `WITH updated AS (
         UPDATE banks SET description = coalesce($2, description), enabled = coalesce($3, enabled),
           match_settings = coalesce($4::jsonb, match_settings), kind = coalesce($5, kind), enabled_ratio = coalesce($6, enabled_ratio),
           flood_limit = CASE WHEN $7 THEN $8::integer ELSE flood_limit END, published = coalesce($9, published), tags = coalesce($10::text[], tags), revision = revision + 1, updated_at = now()
         WHERE id = $1 RETURNING ${BANK_COLUMNS}
       ), logged AS (INSERT INTO bank_entry_changes (bank_id, revision) SELECT id, revision FROM updated)
       SELECT * FROM updated`,
      [bank.id, changes.description ?? null, changes.enabled ?? null, matchSettings ? JSON.stringify(matchSettings) : null, kind, ratio, floodLimit !== undefined, floodLimit ?? null, changes.published ?? null, tags],
    );
    const updated = toBank(result.rows[0]);
    await this.emit({
      kind: 'settings-changed', bankId: updated.id, revision: updated.revision, enabled: updated.enabled, matchSettings: updated.matchSettings,
      bankKind: updated.kind, enabledRatio: updated.enabledRatio,
    });
    return updated;
  }

  /** Gives a bank a new name; its entries, settings and history stay. Matchers learn the name with the revision. */
  async rename(name: string, newName: string): Promise<Bank> {
    if (!BANK_NAME.test(newName)) {
      throw invalid(`invalid bank name ${JSON.stringify(newName)}: use 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit`, { name: newName });
    }
    const bank = await this.get(name);
    if (newName === name) return bank;
    const revision = await this.sql.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM banks WHERE name = $1', [newName]);
      if (taken.rows.length > 0) throw conflict(`a bank named ${JSON.stringify(newName)} already exists`, { name: newName });
      await tx.query('UPDATE banks SET name = $2 WHERE id = $1', [bank.id, newName]);
      return bumpRevision(tx, bank.id);
    });
    await this.emit({ kind: 'bulk-changed', bankId: bank.id, revision });
    return this.get(newName);
  }

  async delete(name: string): Promise<void> {
    const bank = await this.get(name);
    await this.sql.query('DELETE FROM banks WHERE id = $1', [bank.id]);
    await this.emit({ kind: 'deleted', bankId: bank.id, revision: bank.revision + 1 });
  }

  async addEntry(bankName: string, entry: NewBankEntry): Promise<BankEntry> {
    const bank = await this.get(bankName);
    const { signalType, value } = this.signals.normalize(entry.signalType, entry.value);
    const tags = normalizeTags(entry.tags ?? []);
    const { row, revision } = await this.sql.transaction(async (tx) => {
      const inserted = await tx.query<EntryRow>(
        `INSERT INTO bank_entries (bank_id, signal_type, value, source, tags) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (bank_id, signal_type, md5(value)) DO NOTHING RETURNING ${ENTRY_COLUMNS}`,
        [bank.id, signalType, value, entry.source ?? null, tags],
      );
      if (inserted.rows.length === 0) {
        throw conflict(`bank ${JSON.stringify(bankName)} already has ${signalType} ${value}`, { bank: bankName, signal_type: signalType, value });
      }
      return { row: inserted.rows[0], revision: await bumpRevision(tx, bank.id, { added: [inserted.rows[0].id] }) };
    });
    await this.emit({ kind: 'entries-added', bankId: bank.id, bankName: bank.name, bankKind: bank.kind, revision, entries: [{ id: row.id, signalType, value }] });
    return toEntry(row);
  }

  /**
   * Adds entries inside the caller's transaction (a reviewer's decision), creating the bank
   * if it does not exist; entries already present are skipped. Call the returned function
   * after commit so this process's matcher sees them at once.
   */
  async addEntriesIn(tx: SqlClient, bankName: string, entries: NewBankEntry[], description = ''): Promise<{ added: number; published: () => Promise<void> | void }> {
    if (!BANK_NAME.test(bankName)) throw invalid(`invalid bank name ${JSON.stringify(bankName)}`, { name: bankName });
    const rows = entries.map((entry) => ({ ...this.signals.normalize(entry.signalType, entry.value), source: entry.source ?? null, tags: normalizeTags(entry.tags ?? []) }));
    await tx.query('INSERT INTO banks (name, description) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [bankName, description]);
    const bank = await tx.query<{ id: number; kind: BankKind }>('SELECT id, kind FROM banks WHERE name = $1', [bankName]);
    const bankId = bank.rows[0].id;
    const inserted = await tx.query<{ id: number; signal_type: string; value: string }>(
      `INSERT INTO bank_entries (bank_id, signal_type, value, source, tags)
       SELECT $1, r.signal_type, r.value, r.source, coalesce(r.tags, '{}') FROM jsonb_to_recordset($2::jsonb) AS r(signal_type text, value text, source text, tags text[])
       ON CONFLICT (bank_id, signal_type, md5(value)) DO NOTHING RETURNING id, signal_type, value`,
      [bankId, JSON.stringify(rows.map((row) => ({ signal_type: row.signalType, value: row.value, source: row.source, tags: row.tags })))],
    );
    if (inserted.rows.length === 0) return { added: 0, published: () => undefined };
    const revision = await bumpRevision(tx, bankId, { added: inserted.rows.map((row) => Number(row.id)) });
    const change: BankChange = { kind: 'entries-added', bankId, bankName, bankKind: bank.rows[0].kind, revision, entries: inserted.rows.map((row) => ({ id: Number(row.id), signalType: row.signal_type, value: row.value })) };
    return { added: inserted.rows.length, published: () => this.emit(change) };
  }

  async removeEntry(bankName: string, signalType: string, rawValue: string): Promise<void> {
    const bank = await this.get(bankName);
    const { signalType: type, value } = this.signals.normalize(signalType, rawValue);
    const { entryId, revision } = await this.sql.transaction(async (tx) => {
      const deleted = await tx.query<RemovedEntryRow>(
        `DELETE FROM bank_entries WHERE bank_id = $1 AND signal_type = $2 AND md5(value) = md5($3::text) AND value = $3 RETURNING ${REMOVED_ENTRY_COLUMNS}`,
        [bank.id, type, value],
      );
      if (deleted.rows.length === 0) throw notFound(`bank ${JSON.stringify(bankName)} has no ${type} ${value}`, { bank: bankName, signal_type: type, value });
      return { entryId: Number(deleted.rows[0].id), revision: await bumpRevision(tx, bank.id, { removed: deleted.rows.map(toRemovedEntry) }) };
    });
    await this.emit({ kind: 'entry-removed', bankId: bank.id, revision, entryId, signalType: type });
  }

  async removeEntryById(bankName: string, entryId: number): Promise<void> {
    const bank = await this.get(bankName);
    const found = await this.sql.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM bank_entries WHERE bank_id = $1 AND id = $2`, [bank.id, entryId]);
    if (found.rows.length === 0) throw notFound(`bank ${JSON.stringify(bankName)} has no entry ${entryId}`, { bank: bankName, entry_id: entryId });
    await this.removeEntry(bankName, found.rows[0].signal_type, found.rows[0].value);
  }

  /** Removes these entries of the bank in one transaction; returns how many there were. */
  async removeEntriesById(bankName: string, entryIds: number[]): Promise<number> {
    const bank = await this.get(bankName);
    if (entryIds.length === 0) return 0;
    const { removed, revision } = await this.sql.transaction(async (tx) => {
      const deleted = await tx.query<RemovedEntryRow>(
        `DELETE FROM bank_entries WHERE bank_id = $1 AND id = ANY($2::bigint[]) RETURNING ${REMOVED_ENTRY_COLUMNS}`,
        [bank.id, entryIds],
      );
      return { removed: deleted.rows, revision: deleted.rows.length > 0 ? await bumpRevision(tx, bank.id, { removed: deleted.rows.map(toRemovedEntry) }) : bank.revision };
    });
    // One revision removed them all: a single removal applies directly, several are read back from the change log.
    if (removed.length === 1) await this.emit({ kind: 'entry-removed', bankId: bank.id, revision, entryId: Number(removed[0].id), signalType: removed[0].signal_type });
    else if (removed.length > 1) await this.emit({ kind: 'bulk-changed', bankId: bank.id, revision });
    return removed.length;
  }

  /**
   * Switches an entry off without removing it: it stops matching in every process (the bank's
   * indexes drop it as a revision), until `until` (a time, by this service's clock) or, with
   * until null or absent, until enableEntry. Disabling a disabled entry changes its time and
   * reason only. With `bank`, the entry must be in that bank. The exchange stage calls this
   * when a reviewer finds an exchanged entry a false positive; the exchange's copy is untouched.
   */
  async disableEntry(entryId: number, options: DisableOptions): Promise<BankEntry> {
    const { entry, published } = await this.sql.transaction((tx) => this.disableEntryIn(tx, entryId, options));
    await published();
    return entry;
  }

  /** disableEntry inside the caller's transaction (a reviewer's decision); call published() after commit. */
  async disableEntryIn(tx: SqlClient, entryId: number, options: DisableOptions): Promise<EntryToggle<BankEntry>> {
    const toggled = await disableEntryIn(tx, entryId, options, this.now());
    return this.toggled(toggled);
  }

  /**
   * Switches a disabled entry back on in every process (a no-op for an enabled one). floodExempt:
   * a reviewer kept the entry after a flood quarantine, so the flood guard leaves it alone.
   */
  async enableEntry(entryId: number, options: { bank?: string; floodExempt?: boolean } = {}): Promise<BankEntry> {
    const { entry, published } = await this.sql.transaction((tx) => this.enableEntryIn(tx, entryId, options));
    await published();
    return entry;
  }

  async enableEntryIn(tx: SqlClient, entryId: number, options: { bank?: string; floodExempt?: boolean } = {}): Promise<EntryToggle<BankEntry>> {
    return this.toggled(await enableEntryIn(tx, entryId, options));
  }

  private toggled(toggled: Toggled): EntryToggle<BankEntry> {
    const change = toggled.change;
    return { entry: toEntry(toggled.entry), changed: change !== undefined, published: () => (change ? this.emit(change) : undefined) };
  }

  /** Re-enables every entry whose time-limited disable is over by this service's clock; returns how many. */
  async enableExpired(): Promise<number> {
    const { count, changes } = await this.sql.transaction((tx) => enableExpiredIn(tx, this.now()));
    for (const change of changes) await this.emit(change);
    return count;
  }

  async listEntries(bankName: string, options: { afterId?: number; limit?: number; signalType?: string } = {}): Promise<BankEntry[]> {
    const bank = await this.get(bankName);
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 10_000);
    const result = await this.sql.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM bank_entries WHERE bank_id = $1 AND id > $2 AND ($3::text IS NULL OR signal_type = $3)
       ORDER BY id LIMIT $4`,
      [bank.id, options.afterId ?? 0, options.signalType ?? null, limit],
    );
    return result.rows.map(toEntry);
  }

  /** Every entry of a bank, in pages, in the order they were added. */
  async *exportEntries(bankName: string, pageSize = 5000): AsyncGenerator<BankEntry> {
    let afterId = 0;
    for (;;) {
      const page = await this.listEntries(bankName, { afterId, limit: pageSize });
      yield* page;
      if (page.length < pageSize) return;
      afterId = page[page.length - 1].id;
    }
  }

  async entriesByIds(ids: number[], client: SqlClient = this.sql): Promise<(BankEntry & { bankName: string; bankTags: string[] })[]> {
    if (ids.length === 0) return [];
    const result = await client.query<EntryRow & { bank_name: string; bank_tags: string[] }>(
      `SELECT ${entryColumns('e')}, b.name AS bank_name, b.tags AS bank_tags
       FROM bank_entries e JOIN banks b ON b.id = e.bank_id WHERE e.id = ANY($1::bigint[])`,
      [ids],
    );
    return result.rows.map((row) => ({ ...toEntry(row), bankName: row.bank_name, bankTags: row.bank_tags }));
  }

  /**
   * Imports rows in one transaction: every row is validated, and the first bad row (or,
   * with onDuplicate "error", the first duplicate) aborts the whole import with its line
   * number, leaving the bank as it was.
   */
  async importRows(bankName: string, rows: AsyncIterable<RawBankRow> | Iterable<RawBankRow>, options: ImportOptions): Promise<ImportResult> {
    const bank = await this.get(bankName);
    const batchSize = options.batchSize ?? 5000;
    const onDuplicate = options.onDuplicate ?? 'skip';
    const result = await this.sql.transaction(async (tx) => {
      const created = await tx.query<{ id: number }>(
        `INSERT INTO bank_imports (bank_id, source_name, format, rows_read, rows_added, rows_duplicate)
         VALUES ($1, $2, $3, 0, 0, 0) RETURNING id`,
        [bank.id, options.sourceName, options.format],
      );
      const importId = created.rows[0].id;
      let rowsRead = 0;
      let rowsAdded = 0;
      const ids = { first: Infinity, last: -Infinity };
      const widen = (first: number | null, last: number | null) => {
        if (first !== null) ids.first = Math.min(ids.first, Number(first));
        if (last !== null) ids.last = Math.max(ids.last, Number(last));
      };
      let batch: (RawBankRow & { normalizedValue: string; normalizedType: string })[] = [];

      const flush = async () => {
        if (batch.length === 0) return;
        const payload = batch.map((row) => ({ signal_type: row.normalizedType, value: row.normalizedValue, source: row.source ?? null, tags: row.tags }));
        const params = [bank.id, importId, JSON.stringify(payload)];
        if (onDuplicate === 'skip') {
          const counted = (await tx.query<{ added: number; first: number | null; last: number | null }>(COUNT_INSERTED(INSERT_ENTRIES_FROM_JSON), params)).rows[0];
          rowsAdded += Number(counted.added);
          widen(counted.first, counted.last);
        }
        const inserted = onDuplicate === 'error' ? await tx.query<{ id: number; signal_type: string; value: string }>(RETURN_INSERTED(INSERT_ENTRIES_FROM_JSON), params) : undefined;
        if (inserted) {
          rowsAdded += inserted.rows.length;
          for (const row of inserted.rows) widen(row.id, row.id);
        }
        if (inserted && inserted.rows.length < batch.length) {
          const added = new Set(inserted.rows.map((row) => `${row.signal_type}\u0000${row.value}`));
          const seen = new Set<string>();
          for (const row of batch) {
            const key = `${row.normalizedType}\u0000${row.normalizedValue}`;
            if (!added.has(key) || seen.has(key)) throw rowError(row.line, `duplicate entry: ${row.normalizedType} ${row.normalizedValue} is already in bank ${JSON.stringify(bankName)}`);
            seen.add(key);
          }
        }
        batch = [];
        options.onProgress?.(rowsRead);
      };

      for await (const row of rows) {
        rowsRead++;
        try {
          const normalized = this.signals.normalize(row.signalType, row.value);
          batch.push({ ...row, tags: normalizeTags(row.tags), normalizedType: normalized.signalType, normalizedValue: normalized.value });
        } catch (error) {
          if (error instanceof BulwarkError) throw rowError(row.line, error.message);
          throw error;
        }
        if (batch.length >= batchSize) await flush();
        // Rows from memory or a parsed body come without a pause: checking thousands in one go
        // would hold up the queries this process answers meanwhile.
        else if (rowsRead % IMPORT_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await flush();
      const rowsDuplicate = rowsRead - rowsAdded;
      await tx.query('UPDATE bank_imports SET rows_read = $2, rows_added = $3, rows_duplicate = $4 WHERE id = $1', [
        importId,
        rowsRead,
        rowsAdded,
        rowsDuplicate,
      ]);
      const added = rowsAdded > 0 ? { importId, firstId: ids.first, lastId: ids.last, count: rowsAdded } : undefined;
      const revision = await bumpRevision(tx, bank.id, { imported: added });
      return { importId, rowsRead, rowsAdded, rowsDuplicate, revision };
      // An import of millions of rows runs for minutes and appends no event: outbox readers need not wait for it.
    }, { writesEvents: false });
    await this.emit({ kind: 'bulk-changed', bankId: bank.id, revision: result.revision });
    const { revision: _revision, ...summary } = result;
    return summary;
  }
}

export interface BankChanges {
  description?: string;
  enabled?: boolean;
  matchSettings?: BankMatchSettings;
  kind?: string;
  enabledRatio?: number;
  floodLimit?: number | null;
  /** Served to peer platforms as a feed (src/exchange/publish/). */
  published?: boolean;
  /** Replaces the bank's tags (which every match from it carries). */
  tags?: string[];
}

function normalizeTags(tags: string[]): string[] {
  const clean = tags.map((tag) => tag.trim()).filter((tag) => tag.length > 0);
  for (const tag of clean) {
    if (tag.length > 64 || /[\u0000-\u001f]/.test(tag)) throw invalid(`invalid tag ${JSON.stringify(tag.slice(0, 64))}: at most 64 printable characters`);
  }
  return [...new Set(clean)];
}
