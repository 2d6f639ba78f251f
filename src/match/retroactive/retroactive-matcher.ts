import type { BankChangeListener } from '../../banks/banks.ts';
import { invalid } from '../../errors.ts';
import type { EventLog } from '../../events/event-log.ts';
import type { SignalRegistry } from '../../signals/registry.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { MatchOptions } from '../matcher.ts';
import { type NextPosition, type RetroactiveHit, commitBatch } from './commit.ts';
import { type NewEntry, Pacer, type StoredScanner, scannerFor } from './scan.ts';
import { type CheckpointRow, type JobPosition, RetroactiveStore } from './store.ts';

export const DEFAULT_RETROACTIVE_DAYS = 90;
const DAY_MS = 86_400_000;

export interface RetroactiveOptions {
  /** Stored content received this many days before a job starts is matched (BULWARK_RETROACTIVE_DAYS, default 90). */
  days?: number;
  /** Stored signals scanned per batch (one transaction each). */
  batchSize?: number;
  /** Entries of exact types looked up per batch. */
  exactBatch?: number;
  /** Entries one job takes at most; a larger change is matched over several jobs. */
  maxJobEntries?: number;
  /** The request's thresholds the live matcher uses (BulwarkConfig.matchOptions), which win over a bank's. */
  matchOptions?: MatchOptions;
  /** The clock that places the window (tests inject their own). */
  now?: () => Date;
}

/** Where one bank's retroactive matching stands (GET /v1/retroactive/status). */
export interface RetroactiveBankStatus {
  bank: string;
  enabled: boolean;
  storeRevision: number;
  /** Revisions up to this one are matched; null before the stage first looked at the bank. */
  revision: number | null;
  revisionsBehind: number;
  entriesBehind: number;
  job: (JobPosition & { cutoff: Date }) | null;
  entriesDone: number;
  contentScanned: number;
  matches: number;
}

interface LoadedJob {
  to: number;
  entries: NewEntry[];
  exact: NewEntry[];
  phases: string[];
  scanners: Map<string, StoredScanner>;
}

/**
 * Retroactive matching: when entries arrive in a bank (an import, an exchange's fetch, an API
 * add, a reviewer's decision), content stored in the last `days` days is matched against only
 * those entries, and what matches is emitted as content.matched with `retroactive: true`.
 *
 * It follows each bank's change log (bank_entry_changes) with its own checkpoint. A job takes
 * the revisions after the checkpoint: exact entries are looked up by index, then for each
 * distance type the stored signals in the window are streamed in batches through an index
 * of the new entries. Each batch commits its matches with the job's position, so a restart
 * resumes where the last batch ended. Batches take turns with requests (ForegroundLoad) and
 * scanning gives the event loop back every few milliseconds: live matching never waits long.
 */
export class RetroactiveMatcher implements BankChangeListener {
  private readonly store: RetroactiveStore;
  private readonly days: number;
  private readonly batchSize: number;
  private readonly exactBatch: number;
  private readonly maxJobEntries: number;
  private readonly now: () => Date;
  private readonly jobs = new Map<number, LoadedJob>();
  private draining: Promise<void> | undefined;
  private again = false;
  private nextBank = 0;
  /** Why the last pass stopped early; cleared by a pass that finishes. */
  lastError: string | undefined;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly signals: SignalRegistry,
    private readonly options: RetroactiveOptions = {},
  ) {
    this.store = new RetroactiveStore(sql);
    this.days = options.days ?? DEFAULT_RETROACTIVE_DAYS;
    if (!(this.days > 0)) throw invalid(`the retroactive matching window is a number of days above 0, got ${this.days}`);
    this.batchSize = options.batchSize ?? (sql.driver === 'pglite' ? 20_000 : 200_000);
    this.exactBatch = options.exactBatch ?? 1_000;
    this.maxJobEntries = options.maxJobEntries ?? 1_000_000;
    this.now = options.now ?? (() => new Date());
  }

  /** A bank changed in this process: look at it soon (changes elsewhere are found by the poll). */
  bankChanged(): void {
    if (this.listening) void this.drain().catch(() => undefined);
  }

  private listening = false;
  private stopped = false;

  /** Runs whenever a bank changes here, and every pollMs for changes made by other processes; returns a stop function. */
  start(pollMs = 1000): () => void {
    this.listening = true;
    this.stopped = false;
    const poll = setInterval(() => void this.drain().catch(() => undefined), pollMs);
    poll.unref();
    void this.drain().catch(() => undefined);
    return () => {
      this.listening = false;
      this.stopped = true;
      clearInterval(poll);
    };
  }

  /** Works until every enabled bank is matched up to the revision it had when the pass looked; concurrent calls share a pass. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        try {
          while (!this.stopped && (await this.events.foreground.turn(() => this.step()))) {
            // Another batch.
          }
          this.lastError = undefined;
        } catch (error) {
          this.lastError = error instanceof Error ? error.message : String(error);
          throw error;
        }
      } while (this.again);
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /** Settles when the pass under way (if any) has ended: a stopped stage ends after its current batch. */
  async idle(): Promise<void> {
    await this.draining?.catch(() => undefined);
  }

  /** Does one piece of work (starts a job, or matches one batch); false when there was none. */
  async step(): Promise<boolean> {
    const pending = await this.store.pending();
    if (pending.length === 0) return false;
    const bank = pending.find((row) => row.bankId >= this.nextBank) ?? pending[0];
    this.nextBank = bank.bankId + 1;
    if (bank.revision === null) {
      await this.store.ensureCheckpoint(bank.bankId);
      return true;
    }
    if (!bank.job) {
      await this.startJob(bank, bank.revision);
      return true;
    }
    await this.runBatch(bank, bank.job);
    return true;
  }

  private async startJob(bank: CheckpointRow, from: number): Promise<void> {
    const to = await this.store.jobEnd(bank.bankId, from, bank.storeRevision, this.maxJobEntries);
    const job = await this.loadJob(bank.bankId, from, to);
    const cutoff = new Date(this.now().getTime() - this.days * DAY_MS);
    const first = job.phases.length === 0 ? null : await this.phaseStart(job.phases[0], cutoff);
    // Only if no one else started it: the checkpoint must still be where this process read it.
    await this.sql.query(
      first
        ? `UPDATE retroactive_checkpoints SET job_to = $3, job_cutoff = $4, job_phase = $5, job_after = $6, job_entries = $7, updated_at = now()
           WHERE bank_id = $1 AND revision = $2 AND job_to IS NULL`
        : 'UPDATE retroactive_checkpoints SET revision = $3, updated_at = now() WHERE bank_id = $1 AND revision = $2 AND job_to IS NULL',
      first ? [bank.bankId, from, to, cutoff, first.phase, first.after, job.entries.length] : [bank.bankId, from, to],
    );
  }

  private async phaseStart(phase: string, cutoff: Date): Promise<{ phase: string; after: number }> {
    return { phase, after: phase === 'exact' ? 0 : await this.store.windowStart(cutoff) };
  }

  private async loadJob(bankId: number, from: number, to: number): Promise<LoadedJob> {
    const cached = this.jobs.get(bankId);
    if (cached && cached.to === to) return cached;
    const entries = await this.store.newEntries(bankId, from, to);
    const exact = entries.filter((entry) => this.signals.get(entry.signalType).matching === 'exact');
    const distanceTypes = [...new Set(entries.filter((entry) => this.signals.get(entry.signalType).matching === 'distance').map((entry) => entry.signalType))].sort();
    const job: LoadedJob = { to, entries, exact, phases: [...(exact.length > 0 ? ['exact'] : []), ...distanceTypes.map((type) => `scan:${type}`)], scanners: new Map() };
    this.jobs.set(bankId, job);
    return job;
  }

  private scanner(bank: CheckpointRow, job: LoadedJob, signalType: string): StoredScanner {
    let scanner = job.scanners.get(signalType);
    if (!scanner) {
      const type = this.signals.get(signalType);
      const settings = bank.matchSettings;
      const maxDistance = this.options.matchOptions?.maxDistance?.[signalType] ?? settings.maxDistance?.[signalType] ?? type.defaultMaxDistance;
      const percent = { ...settings.minMatchPercent?.[signalType], ...this.options.matchOptions?.minMatchPercent?.[signalType] };
      const entries = job.entries.filter((entry) => entry.signalType === signalType);
      scanner = scannerFor(type, entries, { maxDistance, ...(Object.keys(percent).length > 0 ? { minMatchPercent: percent } : {}) });
      job.scanners.set(signalType, scanner);
    }
    return scanner;
  }

  private async nextPhase(job: LoadedJob, phase: string, cutoff: Date): Promise<NextPosition> {
    const following = job.phases[job.phases.indexOf(phase) + 1];
    return following ? this.phaseStart(following, cutoff) : null;
  }

  private async runBatch(bank: CheckpointRow, position: JobPosition): Promise<void> {
    const job = await this.loadJob(bank.bankId, bank.revision!, position.to);
    let hits: RetroactiveHit[] = [];
    let next: NextPosition;
    let scanned = 0;
    if (position.phase === 'exact') {
      const from = firstAfter(job.exact, position.after);
      const chunk = job.exact.slice(from, from + this.exactBatch);
      hits = (await this.store.exactHits(chunk, position.cutoff)).map((hit) => ({ ...hit, distance: 0 }));
      const rest = from + chunk.length < job.exact.length;
      next = rest ? { phase: 'exact', after: chunk[chunk.length - 1].id } : await this.nextPhase(job, 'exact', position.cutoff);
    } else {
      const signalType = position.phase.slice('scan:'.length);
      const page = await this.store.scanPage(signalType, this.signals.get(signalType).hex256 === true, position.after, position.cutoff, this.batchSize);
      scanned = page.ids.length;
      const found = page.ids.length > 0 ? await this.scanner(bank, job, signalType).scan(page, new Pacer()) : [];
      const contentOf = await this.store.contentOf([...new Set(found.map((hit) => hit.signalId))]);
      hits = found.flatMap((hit) => {
        const contentId = contentOf.get(hit.signalId);
        return contentId === undefined ? [] : [{ contentId, entryId: hit.entryId, distance: hit.distance }];
      });
      next = page.ids.length === this.batchSize ? { phase: position.phase, after: page.last } : await this.nextPhase(job, position.phase, position.cutoff);
    }
    const outcome = await commitBatch(this.sql, this.events, bank.bankId, position, hits, next, { content: scanned });
    if (outcome.moved || !next) this.jobs.delete(bank.bankId);
    this.events.published(outcome.events);
  }

  async status(): Promise<RetroactiveBankStatus[]> {
    const [rows, lag] = await Promise.all([this.store.checkpoints(), this.store.lagEntries()]);
    return rows.map((row) => ({
      bank: row.bank,
      enabled: row.enabled,
      storeRevision: row.storeRevision,
      revision: row.revision,
      revisionsBehind: row.storeRevision - (row.revision ?? 0),
      entriesBehind: lag.get(row.bankId) ?? 0,
      job: row.job,
      entriesDone: row.entriesDone,
      contentScanned: row.contentScanned,
      matches: row.matches,
    }));
  }

  /** The window in days. */
  get windowDays(): number {
    return this.days;
  }
}

/** The position of the first entry (in id order) whose id is above `after`. */
function firstAfter(entries: NewEntry[], after: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle].id <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** BULWARK_RETROACTIVE_DAYS from the environment, or undefined for the default. */
export function retroactiveDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.BULWARK_RETROACTIVE_DAYS;
  if (text === undefined || text === '') return undefined;
  const days = Number(text);
  if (!(days > 0)) throw invalid(`BULWARK_RETROACTIVE_DAYS is a number of days above 0, got ${JSON.stringify(text)}`);
  return days;
}
