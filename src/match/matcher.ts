import type { BankChange, BankChangeListener, BankService } from '../banks/banks.ts';
import type { BankMatchSettings } from '../banks/match-settings.ts';
import { invalid } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { ComputedSignal, MatchPercent, SignalIndex } from '../signals/types.ts';
import type { SqlClient } from '../store/sql.ts';

export const DEFAULT_MIN_QUALITY = 50;

export interface MatchOptions {
  /** Largest distance that counts, per signal type; types not named use their default. */
  maxDistance?: Record<string, number>;
  /** Perceptual hashes below this quality are reported as low quality and not matched. */
  minQuality?: number;
  /** Restrict matching to these banks (by name). */
  banks?: string[];
  /**
   * For signal types that match sets of frames (vpdq), per type: the least percentage of the
   * query's frames and of the banked video's frames that must match (vpdq: 80 and 0).
   */
  minMatchPercent?: Record<string, Partial<MatchPercent>>;
}

/** A partial MatchPercent holding only the sides given, so that it overrides no other setting with undefined. */
export function definedPercent(query: number | undefined, compared: number | undefined): Partial<MatchPercent> {
  return { ...(query !== undefined ? { query } : {}), ...(compared !== undefined ? { compared } : {}) };
}

export type SignalStatus = 'matched' | 'no_match' | 'low_quality';

export interface SignalOutcome {
  signalType: string;
  value: string;
  quality?: number;
  /** For values that list frames (vpdq): how many. */
  frameCount?: number;
  status: SignalStatus;
}

export interface BankMatch {
  bank: string;
  bankId: number;
  entryId: number;
  signalType: string;
  value: string;
  distance: number;
  variant?: string;
  /** For vpdq: the percentage of the query's frames that matched, and of the banked video's. */
  matchPercent?: MatchPercent;
  source: string | null;
  tags: string[];
}

export interface MatchResult {
  matched: boolean;
  signals: SignalOutcome[];
  matches: BankMatch[];
}

interface BankSettingsRow {
  id: number;
  name: string;
  enabled: boolean;
  match_settings: BankMatchSettings;
  revision: number;
}

interface LoadedBank {
  id: number;
  name: string;
  enabled: boolean;
  matchSettings: BankMatchSettings;
  revision: number;
  stale: boolean;
  indexes: Map<string, SignalIndex>;
}

export interface MatcherOptions {
  /** How often to look for bank changes made by other processes (PostgreSQL deployments). */
  refreshIntervalMs?: number;
  /** Page size when loading a bank's entries into memory. */
  loadPageSize?: number;
}

/**
 * Keeps an in-memory index per bank and signal type, and answers which banks a set of
 * computed signals matches. Changes made through this process's BankService are applied
 * to the indexes at once; changes made elsewhere are noticed through each bank's
 * revision counter and the bank is reloaded.
 */
export class Matcher implements BankChangeListener {
  private readonly banks = new Map<number, LoadedBank>();
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly loadPageSize: number;

  constructor(
    private readonly sql: SqlClient,
    private readonly signals: SignalRegistry,
    private readonly bankService: BankService,
    options: MatcherOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1000;
    this.loadPageSize = options.loadPageSize ?? 50_000;
    bankService.onChange(this);
  }

  bankChanged(change: BankChange): void {
    const bank = this.banks.get(change.bankId);
    if (!bank) {
      this.lastRefresh = 0;
      return;
    }
    if (change.kind === 'deleted') {
      this.banks.delete(change.bankId);
      return;
    }
    // Apply in-process changes directly when nothing happened in between; otherwise reload.
    if (change.revision !== bank.revision + 1 || change.kind === 'bulk-changed') {
      bank.stale = true;
      this.lastRefresh = 0;
      return;
    }
    if (change.kind === 'entries-added') {
      for (const entry of change.entries) this.indexFor(bank, entry.signalType).add({ entryId: entry.id, value: entry.value });
    } else if (change.kind === 'entry-removed') {
      bank.indexes.get(change.signalType)?.remove(change.entryId);
    } else if (change.kind === 'settings-changed') {
      bank.enabled = change.enabled;
      bank.matchSettings = change.matchSettings;
    }
    bank.revision = change.revision;
  }

  /** Brings every index up to date with the store. */
  async refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.reloadChangedBanks().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  private async refreshIfDue(): Promise<void> {
    if (Date.now() - this.lastRefresh >= this.refreshIntervalMs) await this.refresh();
  }

  private async reloadChangedBanks(): Promise<void> {
    const startedAt = Date.now();
    const current = await this.sql.query<BankSettingsRow>(
      'SELECT id, name, enabled, match_settings, revision FROM banks',
    );
    const seen = new Set<number>();
    for (const row of current.rows) {
      seen.add(row.id);
      const loaded = this.banks.get(row.id);
      if (loaded && !loaded.stale && loaded.revision === row.revision) continue;
      await this.loadBank(row);
    }
    for (const id of this.banks.keys()) if (!seen.has(id)) this.banks.delete(id);
    this.lastRefresh = startedAt;
  }

  private async loadBank(row: BankSettingsRow): Promise<void> {
    // Entries stream page by page into the indexes, so a bank of millions never sits in
    // memory as one object per entry.
    const loading: LoadedBank = { id: row.id, name: row.name, enabled: row.enabled, matchSettings: row.match_settings, revision: row.revision, stale: false, indexes: new Map() };
    let afterId = 0;
    for (;;) {
      // One row per signal type and page: drivers pay per row, so aggregating makes loading
      // several times faster than reading an entry a row.
      const page = await this.sql.query<{ signal_type: string; ids: number[]; vals: string[]; n: number; last: number }>(
        `SELECT signal_type, json_agg(id ORDER BY id) AS ids, json_agg(value ORDER BY id) AS vals, count(*) AS n, max(id) AS last
         FROM (SELECT id, signal_type, value FROM bank_entries WHERE bank_id = $1 AND id > $2 ORDER BY id LIMIT $3) page
         GROUP BY signal_type`,
        [row.id, afterId, this.loadPageSize],
      );
      let loaded = 0;
      for (const group of page.rows) {
        const index = this.indexFor(loading, group.signal_type);
        group.ids.forEach((entryId, i) => index.add({ entryId, value: group.vals[i] }));
        loaded += group.n;
        afterId = Math.max(afterId, group.last);
      }
      if (loaded < this.loadPageSize) break;
    }
    for (const index of loading.indexes.values()) index.compact?.();
    // The revision read before loading may be older than what was loaded; that only causes
    // one more reload later, never a missed entry.
    this.banks.set(row.id, loading);
  }

  private indexFor(bank: LoadedBank, signalType: string): SignalIndex {
    let index = bank.indexes.get(signalType);
    if (!index) bank.indexes.set(signalType, (index = this.signals.get(signalType).createIndex([])));
    return index;
  }

  /** How many entries of each signal type are in memory, per bank (for health and metrics). */
  stats(): { bank: string; signalType: string; size: number }[] {
    return [...this.banks.values()].flatMap((bank) =>
      [...bank.indexes].map(([signalType, index]) => ({ bank: bank.name, signalType, size: index.size })),
    );
  }

  async match(computed: ComputedSignal[], options: MatchOptions = {}): Promise<MatchResult> {
    await this.refreshIfDue();
    const minQuality = options.minQuality ?? DEFAULT_MIN_QUALITY;
    const bankFilter = options.banks ? new Set(options.banks) : undefined;
    if (bankFilter) {
      const known = new Set([...this.banks.values()].map((bank) => bank.name));
      const unknown = [...bankFilter].filter((name) => !known.has(name));
      if (unknown.length > 0) throw invalid(`unknown bank${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { banks: unknown });
    }
    const hits: Omit<BankMatch, 'source' | 'tags'>[] = [];
    const signals: SignalOutcome[] = [];
    for (const signal of computed) {
      const type = this.signals.get(signal.signalType);
      const outcome: SignalOutcome = { signalType: type.name, value: signal.value, status: 'no_match' };
      if (signal.quality !== undefined) outcome.quality = signal.quality;
      if (signal.frameCount !== undefined) outcome.frameCount = signal.frameCount;
      signals.push(outcome);
      if (signal.quality !== undefined && signal.quality < minQuality) {
        outcome.status = 'low_quality';
        continue;
      }
      for (const bank of this.banks.values()) {
        if (!bank.enabled || (bankFilter && !bankFilter.has(bank.name))) continue;
        const index = bank.indexes.get(type.name);
        if (!index || index.size === 0) continue;
        // The request's options win over the bank's settings, which win over the type's defaults.
        const settings = bank.matchSettings;
        const maxDistance = options.maxDistance?.[type.name] ?? settings.maxDistance?.[type.name] ?? type.defaultMaxDistance;
        const minMatchPercent = { ...settings.minMatchPercent?.[type.name], ...options.minMatchPercent?.[type.name] };
        const query = { value: signal.value, variants: signal.variants, maxDistance, ...(Object.keys(minMatchPercent).length > 0 ? { minMatchPercent } : {}) };
        for (const hit of index.search(query)) {
          outcome.status = 'matched';
          hits.push({
            bank: bank.name, bankId: bank.id, entryId: hit.entryId, signalType: type.name, value: '', distance: hit.distance,
            ...(hit.variant ? { variant: hit.variant } : {}),
            ...(hit.matchPercent ? { matchPercent: hit.matchPercent } : {}),
          });
        }
      }
    }
    const entries = new Map((await this.bankService.entriesByIds(hits.map((hit) => hit.entryId))).map((entry) => [entry.id, entry]));
    const matches: BankMatch[] = [];
    for (const hit of hits) {
      const entry = entries.get(hit.entryId);
      // An entry removed by another process since the index was built is no match.
      if (!entry) continue;
      matches.push({ ...hit, value: entry.value, source: entry.source, tags: entry.tags });
    }
    matches.sort((a, b) => a.distance - b.distance || a.bank.localeCompare(b.bank) || a.entryId - b.entryId);
    return { matched: matches.length > 0, signals, matches };
  }
}
