import { randomUUID } from 'node:crypto';
import type { BankService } from '../banks/banks.ts';
import { bumpRevision } from '../banks/change-log.ts';
import { BulwarkError } from '../errors.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { SqlClient } from '../store/sql.ts';
import { type ExchangeCheckpoint, ExchangeError, type FetchPage, type SignalExchange } from './exchange.ts';
import { type ExchangeWithState, ExchangeStore, type SkippedItem } from './exchange-store.ts';
import { checkItem, type CheckedItem, itemName } from './item-check.ts';
import { applyItems, type EntryChanges, releaseUnseenItems } from './item-store.ts';
import { FeedbackSender } from './feedback.ts';
import { exchangeUrlPolicy } from './guarded-fetch.ts';
import type { ExchangeTypeRegistry } from './types/registry.ts';

export interface FetcherOptions {
  types: ExchangeTypeRegistry;
  /** The clock every stored time and every due time is read from (tests inject a fake one). */
  now?: () => Date;
  /**
   * How exchanges reach their sources; default the guarded fetch (src/exchange/guarded-fetch.ts:
   * BULWARK_EXCHANGE_ALLOWED_HOSTS and the types' own hosts, no private addresses, same-host redirects).
   */
  fetch?: typeof globalThis.fetch;
  /** Where credentials come from (ExchangeType.credentialsFromEnv). */
  env?: NodeJS.ProcessEnv;
  /** How long after a successful fetch the exchange is fetched again (default 15 minutes). */
  pollIntervalMs?: number;
  /** The first wait after a retryable failure, doubled after each further one up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A page with more items than this is refused whole (never half-applied): the exchange must page smaller. */
  maxPageItems?: number;
  /** How often the background loop looks for due exchanges (default 5 s). */
  tickMs?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 15 * 60_000;
export const DEFAULT_MAX_PAGE_ITEMS = 100_000;

/** What one run of an exchange did. */
export interface FetchRunResult {
  exchange: string;
  pages: number;
  items: number;
  skipped: number;
  entriesAdded: number;
  entriesRemoved: number;
  /** The error that ended the run, if one did (also in the exchange's status). */
  error?: string;
  /** Whether the exchange is stopped until its configuration changes or an operator fetches. */
  stopped?: boolean;
}

export interface FetchProgress {
  pages: number;
  items: number;
  progressAt: string | null;
}

/** A page the fetcher will not apply: the exchange is stopped until an operator acts. */
class RefusedPage extends Error {}

/** Another process took the exchange's lease over (this one stalled past it): this run ends, nothing recorded. */
class LeaseLost extends Error {}

/** How long a run holds its exchange without applying a page before another process may take it over. */
const LEASE_MS = 2 * 60_000;

/**
 * Runs every enabled exchange in the background, each on its own schedule: one exchange's
 * slow or failing source never holds up another's. A run resumes from the stored checkpoint
 * and applies each page with its checkpoint in one transaction, so a restart at any point
 * resumes after the last page applied, with nothing lost or applied twice.
 */
export class ExchangeFetcher {
  readonly store: ExchangeStore;
  private readonly now: () => Date;
  private readonly fetch: typeof globalThis.fetch;
  private readonly running = new Map<string, Promise<FetchRunResult>>();
  private readonly abort = new AbortController();
  /** This fetcher's name on the leases it takes. */
  private readonly owner = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  /** Sends reviewers' verdicts back to the sources, on the same schedule as the fetches. */
  readonly feedback: FeedbackSender;
  private sending: Promise<number> | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly banks: BankService,
    private readonly signals: SignalRegistry,
    readonly options: FetcherOptions,
  ) {
    this.store = new ExchangeStore(sql);
    this.now = options.now ?? (() => new Date());
    this.fetch = options.fetch ?? exchangeUrlPolicy(options.types, options.env ?? process.env).fetch();
    this.feedback = new FeedbackSender(sql, {
      types: options.types,
      now: this.now,
      fetch: this.fetch,
      env: options.env ?? process.env,
      initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
    });
  }

  /** Sends the feedback that is due; one pass at a time. */
  sendFeedback(): Promise<number> {
    this.sending ??= this.feedback.sendDue(this.abort.signal).finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Starts looking for due exchanges every tickMs; returns the function that stops it. */
  start(): () => void {
    const tick = () => {
      void this.tick().catch(() => undefined);
      void this.sendFeedback().catch(() => undefined);
    };
    this.timer = setInterval(tick, this.options.tickMs ?? 5000);
    this.timer.unref();
    tick();
    return () => this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
  }

  /** Starts a run of every due exchange not already running, and settles when those runs end. */
  async tick(): Promise<FetchRunResult[]> {
    const now = this.now();
    const due = (await this.store.list()).filter((exchange) => isDue(exchange, now) && !this.running.has(exchange.name));
    return Promise.all(due.map((exchange) => this.track(exchange.name, () => this.run(exchange))));
  }

  /** Settles when every run under way has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values(), this.sending].map((run) => run?.catch(() => undefined)));
  }

  /**
   * An operator's fetch: runs the exchange now, due or not, stopped or not (after any run
   * already under way), and reports each applied page.
   */
  async fetchNow(name: string, onProgress?: (progress: FetchProgress) => void): Promise<FetchRunResult> {
    await this.running.get(name)?.catch(() => undefined);
    return this.track(name, async () => {
      const exchange = await this.store.find(name);
      if (!exchange) throw new BulwarkError('not_found', `no exchange named ${JSON.stringify(name)}`, { name });
      return this.run(exchange, onProgress);
    });
  }

  private track(name: string, work: () => Promise<FetchRunResult>): Promise<FetchRunResult> {
    const run = work().finally(() => {
      if (this.running.get(name) === run) this.running.delete(name);
    });
    this.running.set(name, run);
    return run;
  }

  private async run(exchange: ExchangeWithState, onProgress?: (progress: FetchProgress) => void): Promise<FetchRunResult> {
    const result: FetchRunResult = { exchange: exchange.name, pages: 0, items: 0, skipped: 0, entriesAdded: 0, entriesRemoved: 0 };
    if (!(await this.store.claim(exchange.id, this.owner, new Date(), this.leaseEnd()))) {
      return { ...result, error: 'another process is fetching this exchange now' };
    }
    try {
      return await this.runClaimed(exchange, result, onProgress);
    } finally {
      await this.store.release(exchange.id, this.owner).catch(() => undefined);
    }
  }

  /** Leases run on the wall clock: they are between processes, which share no fake clock. */
  private leaseEnd(): Date {
    return new Date(Date.now() + LEASE_MS);
  }

  private async runClaimed(exchange: ExchangeWithState, result: FetchRunResult, onProgress?: (progress: FetchProgress) => void): Promise<FetchRunResult> {
    await this.store.recordAttempt(exchange.id, this.now());
    try {
      const source = this.open(exchange);
      let checkpoint = exchange.state.checkpoint;
      let generation = exchange.state.fullReadGeneration;
      const stale = checkpoint !== null && source.isStale?.(checkpoint, this.now()) === true;
      if (stale || (checkpoint === null && generation === null)) {
        generation = await this.sql.transaction((tx) => this.store.startFullRead(tx, exchange.id, stale));
        checkpoint = null;
      }
      for await (const page of source.fetch(checkpoint, this.abort.signal)) {
        const applied = await this.applyPage(exchange, page, generation);
        generation = applied.generation;
        result.pages++;
        result.items += applied.items;
        result.skipped += applied.skipped;
        result.entriesAdded += applied.changes.added.length;
        result.entriesRemoved += applied.changes.removed.length;
        onProgress?.({ pages: result.pages, items: result.items, progressAt: page.checkpoint.progressAt });
        if (this.abort.signal.aborted) throw new ExchangeError('the server is stopping', true);
      }
      const finished = await this.finish(exchange, generation);
      result.entriesRemoved += finished.removed.length;
      return result;
    } catch (error) {
      if (error instanceof LeaseLost) return { ...result, error: error.message };
      return { ...result, ...(await this.recordFailure(exchange, error)) };
    }
  }

  private open(exchange: ExchangeWithState): SignalExchange {
    const type = this.options.types.get(exchange.type);
    const config = type.parseConfig(exchange.config);
    const credentials = type.credentialsFromEnv(exchange.name, this.options.env ?? process.env);
    return type.create(config, { fetch: this.fetch, now: this.now, credentials });
  }

  /** One page and its checkpoint, in one transaction; a checkpoint that goes back refuses the page whole. */
  private async applyPage(exchange: ExchangeWithState, page: FetchPage, generationBefore: number | null) {
    const maxItems = this.options.maxPageItems ?? DEFAULT_MAX_PAGE_ITEMS;
    if (!Array.isArray(page.items)) throw new RefusedPage('the exchange sent a page without a list of items');
    if (page.items.length > maxItems) throw new RefusedPage(`a page of ${page.items.length} items is more than the ${maxItems} one transaction takes; nothing of it was applied`);
    const progressAt = checkpointTime(page.checkpoint);
    const at = this.now().toISOString();
    const skipped: SkippedItem[] = (page.skipped ?? []).map((skip) => ({ item: itemName(skip.item), reason: String(skip.reason).slice(0, 500), at }));
    // The last item of a key wins, as it would had the page come as two.
    const byKey = new Map<string, CheckedItem>();
    for (const item of page.items) {
      const checked = checkItem(item, this.signals);
      if (checked.ok) byKey.set(checked.item.key, checked.item);
      else skipped.push({ item: itemName(item?.key), reason: checked.reason.slice(0, 500), at });
    }
    const { generation, changes, revision } = await this.sql.transaction(async (tx) => {
      const current = await this.store.find(exchange.name, tx, true);
      if (!current || current.id !== exchange.id) throw new RefusedPage('the exchange was removed while it was fetching');
      if (!(await this.store.renew(tx, exchange.id, this.owner, this.leaseEnd()))) throw new LeaseLost('another process took this fetch over; nothing of the page was applied');
      const before = current.state.progressAt;
      if (before && (progressAt === null || progressAt.getTime() < before.getTime())) {
        throw new RefusedPage(`the exchange sent a checkpoint that goes back (from ${before.toISOString()} to ${progressAt?.toISOString() ?? 'none'}); nothing of its page was applied`);
      }
      let generation = current.state.fullReadGeneration ?? generationBefore;
      if (page.startsFullList) generation = await this.store.startFullRead(tx, exchange.id, false);
      const changes = await applyItems(tx, { exchangeId: exchange.id, exchangeName: exchange.name, bankId: exchange.bankId, generation }, [...byKey.values()]);
      const revision = await this.bump(tx, exchange.bankId, changes);
      await this.store.saveCheckpoint(tx, exchange.id, { checkpoint: page.checkpoint, progressAt, items: byKey.size, skipped });
      return { generation, changes, revision };
    }, { writesEvents: false });
    if (revision !== undefined) await this.banks.publishCommitted(exchange.bankId, revision);
    return { generation, changes, items: byKey.size, skipped: skipped.length };
  }

  private async bump(tx: SqlClient, bankId: number, changes: EntryChanges): Promise<number | undefined> {
    if (changes.added.length === 0 && changes.removed.length === 0) return undefined;
    return bumpRevision(tx, bankId, changes);
  }

  /** The source is read to its end: a whole read lets go of what it no longer holds, and the run counts as a success. */
  private async finish(exchange: ExchangeWithState, generation: number | null): Promise<{ removed: EntryChanges['removed'] }> {
    const now = this.now();
    const { removed, revision } = await this.sql.transaction(async (tx) => {
      const current = await this.store.find(exchange.name, tx, true);
      if (!current || current.id !== exchange.id) throw new RefusedPage('the exchange was removed while it was fetching');
      if (!(await this.store.renew(tx, exchange.id, this.owner, this.leaseEnd()))) throw new LeaseLost('another process took this fetch over');
      const active = current.state.fullReadGeneration ?? generation;
      const released = active !== null ? await releaseUnseenItems(tx, exchange.id, active) : { removed: [] };
      const revision = await this.bump(tx, exchange.bankId, { added: [], removed: released.removed });
      await this.store.recordSuccess(tx, exchange.id, now, new Date(now.getTime() + (this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS)));
      return { removed: released.removed, revision };
    }, { writesEvents: false });
    if (revision !== undefined) await this.banks.publishCommitted(exchange.bankId, revision);
    return { removed };
  }

  private async recordFailure(exchange: ExchangeWithState, error: unknown): Promise<Pick<FetchRunResult, 'error' | 'stopped'>> {
    const message = error instanceof Error ? error.message : String(error);
    // A source that is down or busy is tried again later; an answer no retry can fix (bad
    // credentials, a malformed feed, a checkpoint going back) waits for an operator.
    const retryable = error instanceof ExchangeError ? error.retryable : !(error instanceof RefusedPage || error instanceof BulwarkError);
    const failures = (await this.store.find(exchange.name))?.state.consecutiveFailures ?? 0;
    const nextAttemptAt = retryable ? new Date(this.now().getTime() + this.backoffMs(failures + 1, error)) : null;
    await this.store.recordFailure(exchange.id, { message, stop: !retryable, nextAttemptAt }).catch(() => undefined);
    return { error: message, stopped: !retryable };
  }

  /** Doubles from initialBackoffMs with each failure in a row, up to maxBackoffMs; never sooner than the source's Retry-After. */
  backoffMs(failures: number, error?: unknown): number {
    const initial = this.options.initialBackoffMs ?? 30_000;
    const max = this.options.maxBackoffMs ?? 3_600_000;
    const backoff = Math.min(max, initial * 2 ** Math.min(failures - 1, 30));
    const retryAfter = error instanceof ExchangeError ? (error.retryAfterMs ?? 0) : 0;
    return Math.max(backoff, retryAfter);
  }
}

function isDue(exchange: ExchangeWithState, now: Date): boolean {
  if (!exchange.enabled || exchange.state.stopped) return false;
  return exchange.state.nextAttemptAt === null || exchange.state.nextAttemptAt.getTime() <= now.getTime();
}

function checkpointTime(checkpoint: ExchangeCheckpoint): Date | null {
  if (typeof checkpoint !== 'object' || checkpoint === null || typeof checkpoint.state !== 'object' || checkpoint.state === null) {
    throw new RefusedPage('the exchange sent a page without a checkpoint');
  }
  if (checkpoint.progressAt === null) return null;
  const time = new Date(checkpoint.progressAt);
  if (!Number.isFinite(time.getTime())) throw new RefusedPage(`the exchange sent a checkpoint time that is not a time: ${JSON.stringify(String(checkpoint.progressAt).slice(0, 60))}`);
  return time;
}
