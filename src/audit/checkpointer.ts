import type { AuditLog } from './audit-log.ts';
import type { CheckpointSigner, TrustedCheckpointKeys } from './audit-keys.ts';
import { type Checkpoint, type CheckpointProblem, type CheckpointSink, isProblem, type ParsedCheckpoint, readCheckpoint, readCheckpointFile, signCheckpoint } from './checkpoints.ts';
import type { AuditFailure, AuditReport, ChainStart } from './verify.ts';

export class AuditChainBrokenError extends Error {
  constructor(readonly failure: AuditFailure) {
    super(`audit log fails verification at entry ${failure.seq ?? `#${failure.position}`}: ${failure.reason}`);
    this.name = 'AuditChainBrokenError';
  }
}

export interface CheckpointOutcome {
  /** The checkpoint written, or undefined when the chain had not grown since the last one (or is empty). */
  checkpoint?: Checkpoint;
  report: AuditReport;
}

/**
 * Signs the chain's head and exports it to every sink. It signs only what it has verified:
 * the chain from the last checkpoint this process trusts (the newest stored one, or the whole
 * chain the first time) to the head; a broken chain gets no checkpoint and an error instead.
 */
export class AuditCheckpointer {
  private last?: ChainStart;
  private running?: Promise<CheckpointOutcome>;

  constructor(
    private readonly audit: AuditLog,
    readonly signer: CheckpointSigner | undefined,
    readonly trusted: TrustedCheckpointKeys,
    readonly sinks: CheckpointSink[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** One at a time: a call while another runs waits for that one. */
  checkpoint(): Promise<CheckpointOutcome> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<CheckpointOutcome> {
    if (!this.signer) throw new Error('no checkpoint signing key: set BULWARK_AUDIT_SIGNING_KEY');
    if (this.sinks.length === 0) throw new Error('nowhere to export checkpoints: set BULWARK_AUDIT_CHECKPOINT_FILE, BULWARK_AUDIT_CHECKPOINT_STORE or BULWARK_AUDIT_CHECKPOINT_WEBHOOK_URL');
    const stored = this.last ? undefined : await this.newest();
    const from = this.last ?? stored;
    let report = await this.audit.check({ from });
    // The stored checkpoint no longer matches: verify the whole chain to name the first entry that fails.
    if (report.failure && stored) report = await this.audit.check({ checkpoints: [stored] });
    if (report.failure) throw new AuditChainBrokenError(report.failure);
    const head = report.head;
    if (!head || (from && head.seq === from.headSeq)) {
      if (head) this.last = { count: report.entries, headSeq: head.seq, head: head.hash };
      return { report };
    }
    const checkpoint = signCheckpoint(this.signer, { count: report.entries, headSeq: head.seq, head: head.hash }, this.now());
    const failures: string[] = [];
    for (const sink of this.sinks) {
      try {
        await sink.append(checkpoint);
      } catch (error) {
        failures.push(`${sink.name}: ${(error as Error).message}`);
      }
    }
    if (failures.length === this.sinks.length) throw new Error(`no checkpoint sink took the checkpoint (${failures.join('; ')})`);
    this.last = { count: checkpoint.count, headSeq: checkpoint.headSeq, head: checkpoint.head };
    return { checkpoint, report };
  }

  /** Every checkpoint the sinks that can be read back hold, each checked against the trusted keys. */
  async stored(): Promise<(ParsedCheckpoint | CheckpointProblem)[]> {
    const all: (ParsedCheckpoint | CheckpointProblem)[] = [];
    for (const sink of this.sinks) {
      for (const line of await sink.lines()) all.push(readCheckpoint(line.text, line.source, this.trusted));
    }
    return all;
  }

  /** The newest trusted checkpoint stored (the one counting most entries). */
  async newest(): Promise<ParsedCheckpoint | undefined> {
    const good = (await this.stored()).filter((c): c is ParsedCheckpoint => !isProblem(c));
    return good.sort((a, b) => a.count - b.count).at(-1);
  }

  /**
   * The checkpoints to verify against: every line of a file, or `latest`, the last line of
   * the configured checkpoint file. Each is parsed and its signature checked; refusals are
   * returned as problems.
   */
  async load(spec: string): Promise<{ checkpoints: ParsedCheckpoint[]; problems: CheckpointProblem[] }> {
    let all: (ParsedCheckpoint | CheckpointProblem)[];
    if (spec === 'latest') {
      const stored = await this.stored();
      if (stored.length === 0) throw new Error(this.sinks.length ? `no checkpoints stored in ${this.sinks.map((sink) => sink.name).join(' or ')}` : 'no checkpoint file or store is configured (BULWARK_AUDIT_CHECKPOINT_FILE, BULWARK_AUDIT_CHECKPOINT_STORE)');
      // The newest trusted one across the sinks, and every refused one (an altered or forged line is news).
      const good = stored.filter((c): c is ParsedCheckpoint => !isProblem(c)).sort((a, b) => a.count - b.count);
      all = [...good.slice(-1), ...stored.filter(isProblem)];
    } else {
      all = await readCheckpointFile(spec, this.trusted);
    }
    return { checkpoints: all.filter((c): c is ParsedCheckpoint => !isProblem(c)), problems: all.filter(isProblem) };
  }

  /** Resolves when no checkpoint is being written (before the store closes). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Checkpoints on a timer; failures go to onError (a message with entry numbers, never content). */
  start(intervalMs: number, onError: (error: Error) => void): () => void {
    const tick = () => void this.checkpoint().catch((error: Error) => onError(error));
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    tick();
    return () => clearInterval(timer);
  }
}
