import type { BankChange } from '../banks/banks.ts';
import type { BankKind } from '../banks/bank-controls.ts';
import type { BankMatchSettings } from '../banks/match-settings.ts';
import { batchOf } from '../signals/index-batch.ts';
import type { SignalRegistry } from '../signals/registry.ts';
import type { SignalIndex, SignalIndexBatch } from '../signals/types.ts';
import { type BankChangeRow, type BankIndexStore, type BankRow, type EntryGroup } from './bank-store.ts';

/** A bank as queries see it: replaced or changed only in synchronous steps, so always whole. */
export interface LoadedBank {
  id: number;
  name: string;
  enabled: boolean;
  matchSettings: BankMatchSettings;
  kind: BankKind;
  enabledRatio: number;
  /** The store revision every index of the bank reflects. */
  revision: number;
  indexes: Map<string, SignalIndex>;
}

/** Changes about to become visible (see IndexSyncOptions.beforeApply). */
export interface IndexUpdate {
  bank: string;
  bankId: number;
  fromRevision: number;
  toRevision: number;
  /** Entries added and removed by the revisions applied (for a reload: entries loaded). */
  entries: number;
  /** A whole new copy of the bank replaces the old one, rather than a delta applied to it. */
  reload: boolean;
}

export interface IndexSyncOptions {
  /**
   * Awaited in the background task that applies an update, after it is prepared and just
   * before it becomes visible; never on a query's path. Tests hold it to query mid-update.
   */
  beforeApply?: (update: IndexUpdate) => Promise<void> | void;
}

interface Progress {
  name: string | undefined;
  /** The changed() call that last touched the bank, so a check that read the store before it does not forget the bank. */
  lastChange: number;
  storeRevision: number;
  /** Entries the store's change log holds beyond the applied revision, as last read. */
  entriesBehind: number | null;
  syncing: Promise<void> | undefined;
  again: boolean;
  reloading: boolean;
  error: string | undefined;
}

export interface BankIndexStatus {
  bank: string;
  enabled: boolean;
  /** The revision the indexes reflect; null before the bank's first load completes. */
  revision: number | null;
  storeRevision: number;
  revisionsBehind: number;
  entriesBehind: number | null;
  /** Changes of the store are being read and prepared. */
  catchingUp: boolean;
  /** A whole new copy is being loaded, or an index is folding changes in (merging segments) in the background. */
  rebuilding: boolean;
  error?: string;
  indexes: { signalType: string; size: number; rebuilding: boolean }[];
}

type DirectChange = Extract<BankChange, { kind: 'entries-added' | 'entry-removed' | 'settings-changed' }>;

const contiguous = (changes: BankChangeRow[], from: number, to: number) =>
  changes.length === to - from && changes.every((change, i) => change.revision === from + 1 + i);

/**
 * Keeps each bank's in-memory indexes in step with the store without ever making a query wait.
 * A change made through this process is applied at once when it follows the applied revision.
 * Otherwise the bank catches up in the background: the change log (bank_entry_changes) says
 * which entries revisions after the applied one added and removed; they are read and prepared
 * off to the side (PDQ builds their index on a worker thread) and then applied in one
 * synchronous step. A bank whose log has a gap is loaded anew beside the old copy, which keeps
 * answering until the new one replaces it in one assignment. One catch-up runs per bank at a
 * time, and no change is applied directly while it runs.
 */
export class IndexSync {
  readonly banks = new Map<number, LoadedBank>();
  private readonly progress = new Map<number, Progress>();
  private changes = 0;

  constructor(private readonly store: BankIndexStore, private readonly signals: SignalRegistry, private readonly options: IndexSyncOptions = {}) {}

  private progressOf(bankId: number): Progress {
    let progress = this.progress.get(bankId);
    if (!progress) this.progress.set(bankId, (progress = { name: undefined, lastChange: 0, storeRevision: 0, entriesBehind: null, syncing: undefined, again: false, reloading: false, error: undefined }));
    return progress;
  }

  private forget(bankId: number): void {
    this.banks.delete(bankId);
    this.progress.delete(bankId);
  }

  /** A change this process made: applied now when it follows on, else caught up in the background (the promise says when). */
  changed(change: BankChange): void | Promise<void> {
    if (change.kind === 'deleted') return this.forget(change.bankId);
    const progress = this.progressOf(change.bankId);
    progress.lastChange = ++this.changes;
    progress.storeRevision = Math.max(progress.storeRevision, change.revision);
    // An import does not list its entries: they are read from the store like another process's.
    if (change.kind === 'bulk-changed') return this.sync(change.bankId);
    let bank = this.banks.get(change.bankId);
    if (!progress.syncing) {
      // Revision 1 of a bank is its first change since creation: its settings are the defaults
      // and its entries are these, so the bank can be known at once (a reviewer's first confirmation).
      // Its kind, set at creation, comes with the change.
      if (!bank && change.kind === 'entries-added' && change.revision === 1 && change.bankKind) {
        bank = { id: change.bankId, name: change.bankName, enabled: true, matchSettings: {}, kind: change.bankKind, enabledRatio: 1, revision: 0, indexes: new Map() };
        this.banks.set(bank.id, bank);
      }
      if (bank && change.revision === bank.revision + 1) {
        // The two kinds handled above share one union member, which TypeScript cannot narrow away.
        this.applyDirect(bank, change as DirectChange);
        return;
      }
    }
    return this.sync(change.bankId);
  }

  private applyDirect(bank: LoadedBank, change: DirectChange): void {
    if (change.kind === 'entries-added') {
      for (const entry of change.entries) this.indexFor(bank, entry.signalType).add({ entryId: entry.id, value: entry.value });
    } else if (change.kind === 'entry-removed') {
      bank.indexes.get(change.signalType)?.remove(change.entryId);
    } else {
      bank.enabled = change.enabled;
      bank.matchSettings = change.matchSettings;
      bank.kind = change.bankKind;
      bank.enabledRatio = change.enabledRatio;
    }
    bank.revision = change.revision;
    this.maintain(bank);
  }

  private indexFor(bank: LoadedBank, signalType: string): SignalIndex {
    let index = bank.indexes.get(signalType);
    if (!index) bank.indexes.set(signalType, (index = this.signals.get(signalType).createIndex([])));
    return index;
  }

  /**
   * Reads every bank's revision and how far behind this process is, and starts catching up
   * the banks behind; returns their catch-ups (which never reject).
   */
  async check(): Promise<Promise<void>[]> {
    const startedAt = this.changes;
    const rows = await this.store.banks();
    const seen = new Set(rows.map((row) => row.id));
    for (const id of [...this.progress.keys(), ...this.banks.keys()]) {
      if (!seen.has(id) && (this.progress.get(id)?.lastChange ?? 0) <= startedAt) this.forget(id);
    }
    const behind = rows.filter((row) => (this.banks.get(row.id)?.revision ?? -1) < row.revision);
    for (const row of rows) {
      const progress = this.progressOf(row.id);
      progress.name = row.name;
      progress.storeRevision = Math.max(progress.storeRevision, row.revision);
    }
    for (const row of rows) if ((this.banks.get(row.id)?.revision ?? -1) >= row.revision) this.progressOf(row.id).entriesBehind = 0;
    const applied = new Map(behind.filter((row) => this.banks.has(row.id)).map((row) => [row.id, this.banks.get(row.id)!.revision]));
    const lag = await this.store.lag(applied);
    for (const [id, revision] of applied) {
      const progress = this.progressOf(id);
      const known = lag.get(id);
      // A log with a gap cannot say how many entries are missing.
      progress.entriesBehind = known && known.revisions === progress.storeRevision - revision ? known.entries : null;
    }
    return behind.map((row) => this.sync(row.id));
  }

  /** Catches the bank up with the store in the background; one run per bank, which runs again if asked meanwhile. */
  sync(bankId: number): Promise<void> {
    const progress = this.progressOf(bankId);
    if (progress.syncing) {
      progress.again = true;
      return progress.syncing;
    }
    const run = async () => {
      for (;;) {
        progress.again = false;
        try {
          await this.catchUp(bankId, progress);
          progress.error = undefined;
        } catch (error) {
          progress.error = error instanceof Error ? error.message : String(error);
        }
        // Decided and cleared in one step: a change arriving later starts a new run instead of
        // being handed this finished one.
        if (!progress.again) {
          progress.syncing = undefined;
          return;
        }
      }
    };
    progress.syncing = run();
    return progress.syncing;
  }

  private async catchUp(bankId: number, progress: Progress): Promise<void> {
    const row = await this.store.bank(bankId);
    if (!row) return this.forget(bankId);
    progress.name = row.name;
    progress.storeRevision = Math.max(progress.storeRevision, row.revision);
    const bank = this.banks.get(bankId);
    if (!bank) return this.reload(row, progress);
    if (bank.revision >= row.revision) return;
    const changes = await this.store.changes(bankId, bank.revision, row.revision);
    if (!contiguous(changes, bank.revision, row.revision)) return this.reload(row, progress);
    await this.applyChanges(bank, row, changes, true);
    if (bank.revision === progress.storeRevision) progress.entriesBehind = 0;
  }

  /**
   * Reads what the changes added, prepares it beside the live indexes, and applies additions,
   * removals and the new revision in one synchronous step.
   */
  private async applyChanges(bank: LoadedBank, row: BankRow, changes: BankChangeRow[], visible: boolean): Promise<void> {
    const staged = new Map<string, { index: SignalIndex; batch: SignalIndexBatch; isNew: boolean }>();
    const stage = (signalType: string) => {
      let entry = staged.get(signalType);
      if (!entry) {
        const existing = bank.indexes.get(signalType);
        const index = existing ?? this.signals.get(signalType).createIndex([]);
        staged.set(signalType, (entry = { index, batch: batchOf(index), isNew: !existing }));
      }
      return entry.batch;
    };
    for (const signalType of bank.indexes.keys()) stage(signalType);
    for (const change of changes) {
      for (const id of change.removedIds) for (const { batch } of staged.values()) batch.remove(id);
      for await (const page of this.store.added(bank.id, change)) await addPage(page, stage);
    }
    await Promise.all([...staged.values()].map(({ batch }) => batch.prepare()));
    const entries = changes.reduce((sum, change) => sum + change.entries, 0);
    if (visible) await this.options.beforeApply?.({ bank: row.name, bankId: bank.id, fromRevision: bank.revision, toRevision: row.revision, entries, reload: false });
    for (const [signalType, { index, batch, isNew }] of staged) {
      batch.apply();
      if (isNew && index.size > 0) bank.indexes.set(signalType, index);
    }
    settle(bank, row);
    if (visible) this.maintain(bank);
  }

  /**
   * Loads the bank anew beside the copy queries use, brings it up to the latest revision, and
   * then replaces the old copy in one assignment.
   */
  private async reload(row: BankRow, progress: Progress): Promise<void> {
    progress.reloading = true;
    try {
      const fresh: LoadedBank = {
        id: row.id, name: row.name, enabled: row.enabled, matchSettings: row.match_settings, kind: row.kind, enabledRatio: row.enabled_ratio, revision: row.revision, indexes: new Map(),
      };
      const batches = new Map<string, SignalIndexBatch>();
      let loaded = 0;
      for await (const page of this.store.entries(row.id)) {
        loaded += await addPage(page, (signalType) => {
          const index = this.indexFor(fresh, signalType);
          // Indexes without batches take entries a page at a time: the copy is nobody's yet.
          if (!index.batch) return index;
          let batch = batches.get(signalType);
          if (!batch) batches.set(signalType, (batch = batchOf(index)));
          return batch;
        });
      }
      await Promise.all([...batches.values()].map((batch) => batch.prepare()));
      for (const batch of batches.values()) batch.apply();
      await Promise.all([...fresh.indexes.values()].map((index) => index.maintain?.()));
      // Entries committed while loading may be in the copy or not; the log's revisions since the
      // one read before loading add what is missing and remove what went.
      for (;;) {
        const now = await this.store.bank(row.id);
        if (!now) return this.forget(row.id);
        if (now.revision <= fresh.revision) break;
        const changes = await this.store.changes(row.id, fresh.revision, now.revision);
        if (!contiguous(changes, fresh.revision, now.revision)) return await this.reload(now, progress);
        await this.applyChanges(fresh, now, changes, false);
      }
      const old = this.banks.get(row.id);
      await this.options.beforeApply?.({ bank: row.name, bankId: row.id, fromRevision: old?.revision ?? 0, toRevision: fresh.revision, entries: loaded, reload: true });
      this.banks.set(row.id, fresh);
      if (fresh.revision === progress.storeRevision) progress.entriesBehind = 0;
      this.maintain(fresh);
    } finally {
      progress.reloading = false;
    }
  }

  /** Starts each index's upkeep in the background; a failure is reported in the status. */
  private maintain(bank: LoadedBank): void {
    for (const index of bank.indexes.values()) {
      index.maintain?.().catch((error: unknown) => {
        this.progressOf(bank.id).error = `index upkeep failed: ${error instanceof Error ? error.message : String(error)}`;
      });
    }
  }

  /** Settles when no catch-up is running. */
  async idle(): Promise<void> {
    for (let running = this.running(); running.length > 0; running = this.running()) await Promise.all(running);
  }

  private running(): Promise<void>[] {
    return [...this.progress.values()].flatMap((progress) => (progress.syncing ? [progress.syncing] : []));
  }

  /** The catch-up running now for the bank of that name, if any. */
  pending(name: string): Promise<void> | undefined {
    return [...this.progress.values()].find((progress) => progress.name === name)?.syncing;
  }

  status(): BankIndexStatus[] {
    const ids = new Set([...this.banks.keys(), ...this.progress.keys()]);
    return [...ids].flatMap((id) => {
      const bank = this.banks.get(id);
      const progress = this.progressOf(id);
      const name = bank?.name ?? progress.name;
      if (name === undefined) return [];
      const revision = bank?.revision ?? null;
      const storeRevision = Math.max(progress.storeRevision, revision ?? 0);
      const revisionsBehind = storeRevision - (revision ?? 0);
      const indexes = [...(bank?.indexes ?? [])].map(([signalType, index]) => ({ signalType, size: index.size, rebuilding: index.maintaining ?? false }));
      return [{
        bank: name,
        enabled: bank?.enabled ?? true,
        revision,
        storeRevision,
        revisionsBehind,
        entriesBehind: revisionsBehind === 0 && revision !== null ? 0 : progress.entriesBehind,
        catchingUp: progress.syncing !== undefined,
        rebuilding: progress.reloading || indexes.some((index) => index.rebuilding),
        ...(progress.error ? { error: progress.error } : {}),
        indexes,
      }];
    }).sort((a, b) => a.bank.localeCompare(b.bank));
  }
}

function settle(bank: LoadedBank, row: BankRow): void {
  bank.name = row.name;
  bank.enabled = row.enabled;
  bank.matchSettings = row.match_settings;
  bank.kind = row.kind;
  bank.enabledRatio = row.enabled_ratio;
  bank.revision = row.revision;
}

/** Entries parsed between two turns of the event loop, so that queries interleave with a catch-up. */
const PARSE_SLICE = 1000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Hands a page's entries to whatever takes them for their signal type; returns how many there were. */
async function addPage(page: EntryGroup[], target: (signalType: string) => { add: SignalIndex['add'] }): Promise<number> {
  let count = 0;
  for (const group of page) {
    const into = target(group.signalType);
    for (let i = 0; i < group.ids.length; i++) {
      into.add({ entryId: group.ids[i], value: group.values[i] });
      if (++count % PARSE_SLICE === 0) await nextTurn();
    }
  }
  return count;
}
