import { createHash } from 'node:crypto';
import { bankCountsFor } from '../banks/bank-controls.ts';
import type { BankChange, BankChangeListener, BankEntry, BankService } from '../banks/banks.ts';
import { nextExpiry } from '../banks/entry-disabling.ts';
import { invalid } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { ComputedSignal, MatchPercent, SignalIndex } from '../signals/types.ts';
import type { SqlClient } from '../store/sql.ts';
import { type SuppressedMatch, suppressAllowed } from './allow-banks.ts';
import { BankIndexStore } from './bank-store.ts';
import { type BankIndexStatus, IndexSync, type IndexSyncOptions, type LoadedBank } from './bank-sync.ts';

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
  /**
   * What decides, for a bank with an enabled_ratio below 1, whether it counts for this lookup:
   * the same seed always gets the same answer. Content ingest passes the content id; absent,
   * a hash of the query's signals.
   */
  seed?: string;
  /**
   * A stored content row to read in the same round trip as the matched entries, when there are
   * any (content ingest: whether the upload is a duplicate). The result's `alongside` holds it.
   */
  alongside?: ContentAlongside;
}

/** A content row read beside the matched entries: its id and the columns wanted. */
export interface ContentAlongside {
  contentId: string;
  /** Plain column names of the content table, comma-separated. */
  columns: string;
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
  /** Where the entry came from, when exchanges brought it (one per item holding its hash). */
  provenance?: EntryProvenance[];
  /** Found after the upload, when the entry arrived (retroactive matching), not when the content was submitted. */
  retroactive?: true;
}

/** An exchange item that holds a bank entry: which exchange, who at the source, its key and labels. */
export interface EntryProvenance {
  exchange: string;
  member: string | null;
  itemKey: string;
  tags: string[];
}

/** A matched bank entry as the match reports it: the entry, and where exchanges brought it from. */
export type MatchedEntry = BankEntry & { bankTags?: string[]; provenance?: EntryProvenance[] };

/**
 * Looks matched entries up by id (with their provenance, where the exchange stage is there to
 * say); given `alongside`, also the content row it names (null when there is none), in the
 * same query. A lookup that cannot read it leaves `content` undefined.
 */
export type MatchedEntryLookup = (entryIds: number[], alongside?: ContentAlongside) => Promise<{ entries: MatchedEntry[]; content?: Record<string, unknown> | null }>;

export interface MatchResult {
  matched: boolean;
  signals: SignalOutcome[];
  matches: BankMatch[];
  /** Matches an allow bank set aside (allow-banks.ts); they are not in matches. */
  suppressed: SuppressedMatch[];
  /** The row options.alongside asked for: null when it does not exist, absent when it was not read (no hits). */
  alongside?: Record<string, unknown> | null;
}

export interface MatcherOptions extends IndexSyncOptions {
  /** How often a query may start a look for bank changes made by other processes (PostgreSQL deployments). */
  refreshIntervalMs?: number;
  /** Entries per page when reading a bank or a change from the store. */
  loadPageSize?: number;
  /** The clock that says when a time-limited disable of an entry is over (tests inject their own). */
  now?: () => Date;
}

/** One bank's index of one signal type, for /healthz and metrics. */
export interface IndexStats {
  bank: string;
  signalType: string;
  size: number;
  revision: number | null;
  storeRevision: number;
  revisionsBehind: number;
  entriesBehind: number | null;
  rebuilding: boolean;
}

/**
 * Keeps an in-memory index per bank and signal type, and answers which banks a set of
 * computed signals matches. A query never waits for the indexes to change: it runs against
 * the last complete state of each bank, while IndexSync (bank-sync.ts) applies changes made
 * here at once and catches up with changes made elsewhere in the background, noticed through
 * each bank's revision when a query finds the last look older than refreshIntervalMs.
 */
export class Matcher implements BankChangeListener {
  private readonly sync: IndexSync;
  private lastCheck = 0;
  private checking: Promise<void> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly now: () => Date;
  /** The earliest end of a time-limited entry disable, as last read or heard; the first query after it sweeps. */
  private nextExpiryMs: number | undefined;
  private sweeping: Promise<void> | undefined;
  /**
   * Set by the first refresh. Until then nothing is loaded and bank changes are not applied
   * (that refresh reads the store as it then is): a worker process, which matches nothing,
   * never holds the indexes in memory, and a first query loads them before it runs.
   */
  private loading: Promise<void> | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly signals: SignalRegistry,
    private readonly bankService: BankService,
    options: MatcherOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1000;
    this.now = options.now ?? (() => new Date());
    this.sync = new IndexSync(new BankIndexStore(sql, options.loadPageSize ?? 5000), signals, options);
    bankService.onChange(this);
  }

  private get banks(): Map<number, LoadedBank> {
    return this.sync.banks;
  }

  private entryLookup: MatchedEntryLookup = async (entryIds) => ({ entries: await this.bankService.entriesByIds(entryIds) });

  /** Looks matched entries up with where they came from (the exchange stage): added to each match that has any. */
  describeProvenanceWith(lookup: MatchedEntryLookup): void {
    this.entryLookup = lookup;
  }

  bankChanged(change: BankChange): void | Promise<void> {
    if (!this.loading) return;
    if (change.kind === 'entry-removed' && change.until) this.nextExpiryMs = Math.min(this.nextExpiryMs ?? Infinity, change.until.getTime());
    return this.sync.changed(change);
  }

  /** Brings every index up to date with the store, waiting until it is (start-up, tests, the CLI). */
  async refresh(): Promise<void> {
    const run = this.refreshNow();
    this.loading ??= run;
    await run;
  }

  /** Whether any query or refresh has loaded the indexes yet (a worker's stay unloaded). */
  get loaded(): boolean {
    return this.loading !== undefined;
  }

  private async refreshNow(): Promise<void> {
    this.lastCheck = Date.now();
    await this.readNextExpiry();
    this.sweepIfDue();
    await this.sweeping;
    await Promise.all(await this.sync.check());
  }

  /** Reads the store's revisions now and starts catching up, without waiting for it (status). */
  async checkStore(): Promise<void> {
    this.lastCheck = Date.now();
    await this.sync.check();
  }

  private async readNextExpiry(): Promise<void> {
    this.nextExpiryMs = (await nextExpiry(this.sql))?.getTime();
  }

  /**
   * Entries disabled for a time come back once it is over, by the injected clock: the first query
   * after it re-enables them in the store (in the background, one sweep at a time; in whichever
   * process gets there first), and every process's indexes take them back as a revision.
   */
  private sweepIfDue(): void {
    if (this.sweeping || this.nextExpiryMs === undefined || this.now().getTime() < this.nextExpiryMs) return;
    this.sweeping = this.bankService.enableExpired().then(() => this.readNextExpiry()).then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      this.sweeping = undefined;
    });
  }

  private checkIfDue(): void {
    this.sweepIfDue();
    if (this.checking || Date.now() - this.lastCheck < this.refreshIntervalMs) return;
    this.lastCheck = Date.now();
    this.checking = Promise.all([this.sync.check(), this.readNextExpiry()]).then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      this.checking = undefined;
    });
  }

  /** Settles when the look for changes a query started, and the catch-ups it set off, are done (tests, benchmarks). */
  async idle(): Promise<void> {
    await this.checking;
    await this.sweeping;
    await this.sync.idle();
  }

  /** Each bank's indexes: sizes, the revision applied, the store's, and what is running to close the gap. */
  status(): BankIndexStatus[] {
    return this.sync.status();
  }

  /** How many entries of each signal type are in memory, per bank, and how far behind the store (for health and metrics). */
  stats(): IndexStats[] {
    return this.sync.status().flatMap((bank) =>
      bank.indexes.map((index) => ({
        bank: bank.bank,
        signalType: index.signalType,
        size: index.size,
        revision: bank.revision,
        storeRevision: bank.storeRevision,
        revisionsBehind: bank.revisionsBehind,
        entriesBehind: bank.entriesBehind,
        rebuilding: bank.rebuilding,
      })),
    );
  }

  /** The live index of one bank and signal type (benchmarks, tests). */
  index(bankName: string, signalType: string): SignalIndex | undefined {
    return [...this.banks.values()].find((bank) => bank.name === bankName)?.indexes.get(signalType);
  }

  /** Merges each of the bank's indexes into one structure in the background now, due or not; queries keep running meanwhile. */
  async rebuild(bankName: string): Promise<void> {
    const bank = [...this.banks.values()].find((candidate) => candidate.name === bankName);
    if (!bank) throw invalid(`unknown bank: ${bankName}`, { banks: [bankName] });
    await Promise.all([...bank.indexes.values()].map((index) => index.rebuild?.() ?? index.maintain?.()));
  }

  /** Banks by name that this process does not know yet: looked for in the store once, then refused. */
  private async unknownBanks(names: Set<string>): Promise<string[]> {
    const missing = () => {
      const known = new Set([...this.banks.values()].map((bank) => bank.name));
      return [...names].filter((name) => !known.has(name));
    };
    if (missing().length === 0) return [];
    // Only a request naming a bank this process has not loaded waits, and only for that bank.
    await this.sync.check();
    const pending = this.sync.status().filter((bank) => names.has(bank.bank) && bank.revision === null);
    await Promise.all(pending.map((bank) => this.sync.pending(bank.bank)));
    return missing();
  }

  async match(computed: ComputedSignal[], options: MatchOptions = {}): Promise<MatchResult> {
    if (this.loading) this.checkIfDue();
    else await this.refresh();
    const minQuality = options.minQuality ?? DEFAULT_MIN_QUALITY;
    const bankFilter = options.banks ? new Set(options.banks) : undefined;
    if (bankFilter) {
      const unknown = await this.unknownBanks(bankFilter);
      if (unknown.length > 0) throw invalid(`unknown bank${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { banks: unknown });
    }
    const hits: (Omit<BankMatch, 'source' | 'tags'> & { allow: boolean })[] = [];
    const signals: SignalOutcome[] = [];
    let seed = options.seed;
    const counts = (bank: LoadedBank) => bank.enabledRatio >= 1 || bankCountsFor(bank.id, bank.enabledRatio, (seed ??= querySeed(computed)));
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
        if (!bank.enabled || (bankFilter && !bankFilter.has(bank.name)) || !counts(bank)) continue;
        const index = bank.indexes.get(type.name);
        if (!index || index.size === 0) continue;
        // The request's options win over the bank's settings, which win over the type's defaults.
        const settings = bank.matchSettings;
        const maxDistance = options.maxDistance?.[type.name] ?? settings.maxDistance?.[type.name] ?? type.defaultMaxDistance;
        const minMatchPercent = { ...settings.minMatchPercent?.[type.name], ...options.minMatchPercent?.[type.name] };
        const query = { value: signal.value, variants: signal.variants, maxDistance, ...(Object.keys(minMatchPercent).length > 0 ? { minMatchPercent } : {}) };
        for (const hit of index.search(query)) {
          hits.push({
            allow: bank.kind === 'allow',
            bank: bank.name, bankId: bank.id, entryId: hit.entryId, signalType: type.name, value: '', distance: hit.distance,
            ...(hit.variant ? { variant: hit.variant } : {}),
            ...(hit.matchPercent ? { matchPercent: hit.matchPercent } : {}),
          });
        }
      }
    }
    const looked = hits.length > 0 ? await this.entryLookup(hits.map((hit) => hit.entryId), options.alongside) : undefined;
    const entries = new Map((looked?.entries ?? []).map((entry) => [entry.id, entry]));
    const found: BankMatch[] = [];
    const allowMatches: BankMatch[] = [];
    const now = this.now().getTime();
    for (const { allow, ...hit } of hits) {
      const entry = entries.get(hit.entryId);
      // An entry removed or disabled by another process since the index was built is no match.
      if (!entry || (entry.disabledUntil !== null && (entry.disabledUntil === 'infinity' || entry.disabledUntil.getTime() > now))) continue;
      (allow ? allowMatches : found).push({ ...hit, value: entry.value, source: entry.source, tags: withBankTags(entry), ...(entry.provenance ? { provenance: entry.provenance } : {}) });
    }
    const { matches, suppressed } = suppressAllowed(found, allowMatches);
    matches.sort(byCloseness);
    suppressed.sort(byCloseness);
    for (const outcome of signals) if (matches.some((match) => match.signalType === outcome.signalType)) outcome.status = 'matched';
    return { matched: matches.length > 0, signals, matches, suppressed, ...(looked?.content !== undefined ? { alongside: looked.content } : {}) };
  }
}

/** A match carries its entry's tags and its bank's (so a rule can act on a whole list by tag). */
const withBankTags = (entry: MatchedEntry): string[] => (entry.bankTags?.length ? [...new Set([...entry.tags, ...entry.bankTags])] : entry.tags);

const byCloseness = (a: BankMatch, b: BankMatch) => a.distance - b.distance || a.bank.localeCompare(b.bank) || a.entryId - b.entryId;

/** The default seed of a lookup: its signals, so the same content gets the same coin. */
function querySeed(computed: ComputedSignal[]): string {
  const hash = createHash('sha256');
  for (const signal of computed) hash.update(`${signal.signalType}\u0000${signal.value}\u0000`);
  return hash.digest('hex');
}
