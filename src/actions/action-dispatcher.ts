import { randomBytes } from 'node:crypto';
import { invalid } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { ACTION_REQUESTED_EVENT, ACTION_REQUEUED_EVENT } from './action-events.ts';
import { ACTION_COLUMNS, type ActionRow, PARENT_TYPE, noTargetError } from './action-rows.ts';
import { type Delivered, type RecordingPolicy, attemptOutcomeOf, recordDeliveries } from './delivery-records.ts';
import { type ActionDelivery, type ActionStatus, type ActionTargets, type ActionType, ACTION_TYPES, type AttemptOutcome, type DeliveryOutcome } from './types.ts';
import { failureCode } from './webhook-target.ts';

/** Deliveries one process makes at once (its dispatch batch). */
export const ACTION_DELIVERY_CONCURRENCY = 16;

export interface ActionServiceOptions {
  /** Attempts before an action is declared dead (default 20: with the 15-minute cap, a platform may be down for 1.5 to 3 hours); an operator's retry grants as many again. */
  maxAttempts?: number;
  /** First retry delay (default 2 s); doubles with every attempt, with jitter. */
  baseDelayMs?: number;
  /** Longest retry delay, also the cap on a platform's Retry-After (default 15 min). */
  maxDelayMs?: number;
  /** Longest one delivery may take, whatever the target (default 10 s). */
  timeoutMs?: number;
  /**
   * Where a delivery's deadline comes from, instead of timeoutMs: a signal that aborts (with a
   * TimeoutError) when the delivery has taken too long. Tests end a delivery this way on an
   * event rather than on the wall clock. The lease is still sized from timeoutMs.
   */
  deadline?: () => AbortSignal;
  now?: () => Date;
  /** Actions one dispatcher claims and delivers at once (default 16). */
  concurrency?: number;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
  /** Failures of background dispatch (start()); a database outage must not pass silently. */
  onError?: (error: unknown) => void;
  /** Hears each finished attempt (the CLI reports progress with it). */
  onAttempt?: (attempt: AttemptReport) => void;
}

export interface AttemptReport {
  actionId: number;
  type: ActionType;
  attempt: number;
  outcome: AttemptOutcome;
  status: ActionStatus | null;
  statusCode: number | null;
  errorCode: string | null;
  durationMs: number;
}

/**
 * Delivers due actions. Dispatchers in any number of processes claim due rows under a lease,
 * deliver them outside any transaction, and record every attempt (delivery-records.ts).
 */
export class ActionDispatcher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly deadline: () => AbortSignal;
  private readonly concurrency: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly onAttempt: ((attempt: AttemptReport) => void) | undefined;
  /** Names this dispatcher on the rows it has claimed. */
  private readonly owner = `dispatcher-${randomBytes(6).toString('hex')}`;
  private readonly recording: RecordingPolicy;
  private dispatching: Promise<number> | undefined;
  private again = false;
  private started = 0;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly targets: ActionTargets,
    options: ActionServiceOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 20;
    this.baseDelayMs = options.baseDelayMs ?? 2000;
    this.maxDelayMs = options.maxDelayMs ?? 15 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.deadline = options.deadline ?? (() => AbortSignal.timeout(this.timeoutMs));
    this.concurrency = options.concurrency ?? ACTION_DELIVERY_CONCURRENCY;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? ((error) => process.stderr.write(`bulwark: action dispatch failed: ${(error as Error)?.message ?? String(error)}\n`));
    this.onAttempt = options.onAttempt;
    if (!(this.maxAttempts >= 1)) throw invalid('maxAttempts must be at least 1');
    this.recording = { owner: this.owner, now: this.now, maxAttempts: this.maxAttempts, retryDelayMs: (attempt, retryAfterMs) => this.retryDelayMs(attempt, retryAfterMs) };
  }

  /** Where start() runs here, delivers as soon as tx commits (actions it enqueued), whether or not its caller publishes its events. */
  dispatchAfterCommit(tx: SqlClient): void {
    if (this.started > 0) tx.afterCommit(() => this.started > 0 && void this.dispatchDue().catch(this.onError));
  }

  /**
   * Delivers every action that is due: pending, or waiting to retry with its time come.
   * Concurrent calls in one process share a pass; several processes split the work (rows
   * are claimed with FOR UPDATE SKIP LOCKED under a lease). Returns the attempts made.
   */
  dispatchDue(): Promise<number> {
    if (this.dispatching) {
      this.again = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      let total = 0;
      do {
        this.again = false;
        total += await this.pass();
      } while (this.again);
      return total;
    })().finally(() => {
      this.dispatching = undefined;
    });
    return this.dispatching;
  }

  /** Resolves when no dispatch pass is using the store (call after stopping, before closing the store). */
  async idle(): Promise<void> {
    while (this.dispatching) {
      await this.dispatching.catch(() => undefined);
    }
  }

  /**
   * Dispatches on a timer, right after an action enqueued in this process commits, and when
   * action.requested or action.requeued events are published here. Returns a stop function.
   */
  start(intervalMs = 5000): () => void {
    this.started++;
    const tick = () => {
      void this.dispatchDue().catch(this.onError);
    };
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    const unsubscribe = this.events.subscribe((event) => {
      if (event.type === ACTION_REQUESTED_EVENT || event.type === ACTION_REQUEUED_EVENT) tick();
    });
    tick();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.started--;
      clearInterval(timer);
      unsubscribe();
    };
  }

  private async pass(): Promise<number> {
    const deliverable = ACTION_TYPES.filter((type) => type !== PARENT_TYPE && this.targets.targetFor(type));
    const undeliverable = ACTION_TYPES.filter((type) => type !== PARENT_TYPE && !this.targets.targetFor(type));
    if (undeliverable.length > 0) await this.noteMissingTargets(undeliverable);
    if (deliverable.length === 0) return 0;
    // Within one pass an action is tried once, even when its retry falls due at once (zero delays).
    // Only those still due are excluded from later claims: an action that finished is no longer
    // due, and naming every action tried made each claim of a long pass scan a list as long as
    // the pass (quadratic: 8 ms a claim after a surge of 2,000 matched uploads).
    const stillDue: number[] = [];
    let tried = 0;
    for (;;) {
      // The claim and the records give way to requests in flight like the outbox consumers
      // (src/events/foreground-load.ts); the deliveries themselves, mostly waiting on the
      // platform's endpoint, do not count as background work holding the line. The records
      // take one turn together: one turn each queued every record behind whole consumer batches.
      const claimed = await this.events.foreground.turn(() => this.claim(deliverable, stillDue));
      const delivered = await Promise.all(claimed.map((row) => this.deliver(row)));
      const statuses = await this.events.foreground.turn(() => this.recordAll(claimed, delivered));
      claimed.forEach((row, i) => {
        if (statuses[i] === 'retrying' || statuses[i] === null) stillDue.push(Number(row.id));
      });
      tried += claimed.length;
      if (claimed.length === 0) return tried;
    }
  }

  /**
   * Due actions that no process has tried yet say why they wait when this one cannot
   * deliver them; they stay queued. Anything another process has claimed or tried keeps the
   * error it recorded (a process without targets, such as a CLI command, must not hide it).
   */
  private async noteMissingTargets(types: ActionType[]): Promise<void> {
    await this.sql.query(
      `UPDATE actions SET last_error = 'no target configured for ' || type
       WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND status = 'pending' AND type = ANY($2::text[])
         AND attempts = attempts_at_requeue AND last_error IS NULL AND (lease_until IS NULL OR lease_until <= $1)`,
      [this.now(), types],
    );
  }

  private async claim(types: ActionType[], excluding: number[]): Promise<ActionRow[]> {
    const now = this.now();
    const leaseUntil = new Date(now.getTime() + this.timeoutMs * 2 + 60_000);
    return this.sql.transaction(async (tx) => {
      const claimed = await tx.query<ActionRow>(
        `WITH due AS (
           SELECT id FROM actions
           WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND status IN ('pending', 'retrying')
             AND (lease_until IS NULL OR lease_until <= $1) AND type = ANY($2::text[]) AND NOT (id = ANY($3::bigint[]))
           ORDER BY next_attempt_at, id LIMIT $4
           FOR UPDATE SKIP LOCKED)
         UPDATE actions a SET attempts = a.attempts + 1, lease_owner = $5, lease_until = $6
         FROM due WHERE a.id = due.id
         RETURNING ${ACTION_COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ')}`,
        [now, types, excluding, this.concurrency, this.owner, leaseUntil],
      );
      if (claimed.rows.length === 0) return [];
      const ids = claimed.rows.map((row) => Number(row.id));
      // An attempt still in flight on a row whose lease ran out belonged to a dispatcher that vanished.
      await tx.query(`UPDATE action_attempts SET outcome = 'lease_expired' WHERE action_id = ANY($1::bigint[]) AND outcome = 'in_flight'`, [ids]);
      await tx.query(
        `INSERT INTO action_attempts (action_id, attempt, started_at, outcome)
         SELECT id, attempt, $3, 'in_flight' FROM unnest($1::bigint[], $2::int[]) AS c(id, attempt)`,
        [ids, claimed.rows.map((row) => row.attempts), now],
      );
      return claimed.rows.sort((a, b) => Number(a.id) - Number(b.id));
    }, { background: true });
  }

  private delivery(row: ActionRow): ActionDelivery {
    return {
      id: Number(row.id),
      type: row.type,
      target: { kind: row.target_kind, id: row.target_id },
      idempotencyKey: row.idempotency_key,
      decidedBy: row.decided_by,
      automated: row.automated,
      reason: row.reason ?? {},
      ...(row.identifiers ? { identifiers: row.identifiers } : {}),
      ...(row.parent_id !== null ? { parentId: Number(row.parent_id) } : {}),
      attempt: row.attempts,
    };
  }

  /** Delivers one claimed action to its target; the outcome, not yet recorded. */
  private async deliver(row: ActionRow): Promise<Delivered> {
    const target = this.targets.targetFor(row.type);
    const started = performance.now();
    let outcome: DeliveryOutcome;
    if (!target) {
      outcome = { kind: 'retry', errorCode: noTargetError(row.type) };
    } else {
      const signal = this.deadline();
      // A target that ignores its signal must still not hold the dispatcher past the timeout.
      const abandoned = new Promise<DeliveryOutcome>((resolve) => {
        signal.addEventListener('abort', () => resolve({ kind: 'retry', errorCode: failureCode(signal.reason, signal) }), { once: true });
      });
      try {
        outcome = await Promise.race([target.deliver(this.delivery(row), signal), abandoned]);
      } catch (error) {
        outcome = { kind: 'retry', errorCode: failureCode(error, signal) };
      }
    }
    return { outcome, durationMs: Math.round(performance.now() - started) };
  }

  /**
   * Records a turn's outcomes; returns the new statuses (null where another dispatcher took the
   * action over). Together, in one transaction of a few statements (issue 11: three per delivery
   * before); should that fail, each in a transaction of its own, so that one action's failure
   * keeps no other's outcome from being recorded. The first failure there is thrown after all.
   */
  private async recordAll(rows: ActionRow[], delivered: Delivered[]): Promise<(ActionStatus | null)[]> {
    const record = (tx: SqlClient, some: ActionRow[], theirs: Delivered[]) => recordDeliveries(tx, this.events, this.recording, some, theirs);
    let together: { events: DomainEvent[]; statuses: (ActionStatus | null)[] } | undefined;
    try {
      together = await this.sql.transaction((tx) => record(tx, rows, delivered), { background: true });
    } catch (error) {
      this.onError(new Error(`recording ${rows.length} deliveries together failed, recording each alone: ${(error as Error)?.message ?? String(error)}`));
    }
    if (together) {
      this.events.published(together.events);
      rows.forEach((row, i) => this.noteAttempt(row, delivered[i], together.statuses[i]));
      return together.statuses;
    }
    const statuses: (ActionStatus | null)[] = [];
    let failure: unknown;
    for (const [i, row] of rows.entries()) {
      try {
        const { events, statuses: [status] } = await this.sql.transaction((tx) => record(tx, [row], [delivered[i]]), { background: true });
        this.events.published(events);
        this.noteAttempt(row, delivered[i], status);
        statuses.push(status);
      } catch (error) {
        failure ??= error;
        statuses.push(null);
      }
    }
    if (failure !== undefined) throw failure;
    return statuses;
  }

  private noteAttempt(row: ActionRow, { outcome, durationMs }: Delivered, status: ActionStatus | null): void {
    this.onAttempt?.({
      actionId: Number(row.id),
      type: row.type,
      attempt: row.attempts,
      outcome: attemptOutcomeOf(outcome),
      status,
      statusCode: outcome.statusCode ?? null,
      errorCode: outcome.kind === 'succeeded' ? null : outcome.errorCode,
      durationMs,
    });
  }

  private retryDelayMs(attemptInBudget: number, retryAfterMs: number | undefined): number {
    const exponential = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attemptInBudget - 1, 40));
    // Half fixed, half random: delays still grow with every attempt, and dispatchers that
    // failed together do not all come back at the same moment.
    const jittered = exponential / 2 + (this.random() * exponential) / 2;
    return Math.round(Math.min(this.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0)));
  }
}
