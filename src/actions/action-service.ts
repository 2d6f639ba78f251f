import { randomBytes } from 'node:crypto';
import { conflict, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { type ValidActionRequest, validateActionRequest } from './request.ts';
import {
  type ActionAttempt,
  type ActionDelivery,
  type ActionRecord,
  type ActionRequest,
  type ActionStatus,
  type ActionTargets,
  type ActionType,
  ACTION_TYPES,
  type AttemptOutcome,
  type DeliveryOutcome,
} from './types.ts';
import { MAX_RESULT_BYTES, failureCode } from './webhook-target.ts';

/** Deliveries one process makes at once (its dispatch batch). */
export const ACTION_DELIVERY_CONCURRENCY = 16;

export const ACTION_REQUESTED_EVENT = 'action.requested';
export const ACTION_SUCCEEDED_EVENT = 'action.succeeded';
export const ACTION_DEAD_EVENT = 'action.dead';
export const ACTION_PARTIAL_EVENT = 'action.partial';
export const ACTION_REQUEUED_EVENT = 'action.requeued';

/** What later stages (statements of reasons, transparency reports) read from the outbox when an action finishes. */
export interface ActionFinishedPayload {
  action_id: number;
  parent_id: number | null;
  type: ActionType;
  target: { kind: string; id: string };
  case_id: number | null;
  decision_id: number | null;
  status: ActionStatus;
  attempts: number;
}

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

export interface ActionListFilter {
  caseId?: number;
  decisionId?: number;
  status?: ActionStatus;
  limit?: number;
  afterId?: number;
}

interface ActionRow {
  id: number;
  parent_id: number | null;
  type: ActionType;
  target_kind: 'content' | 'account' | 'network';
  target_id: string;
  idempotency_key: string;
  status: ActionStatus;
  attempts: number;
  attempts_at_requeue: number;
  requeues: number;
  next_attempt_at: Date | null;
  lease_owner: string | null;
  lease_until: Date | null;
  last_error: string | null;
  result: unknown;
  decided_by: string;
  automated: boolean;
  case_id: number | null;
  decision_id: number | null;
  rule_id: string | null;
  reason: ActionRecord['reason'];
  identifiers: ActionRecord['identifiers'];
  created_at: Date;
  completed_at: Date | null;
}

interface AttemptRow {
  attempt: number;
  started_at: Date;
  outcome: AttemptOutcome;
  status_code: number | null;
  duration_ms: number | null;
  error_code: string | null;
}

const COLUMNS = `id, parent_id, type, target_kind, target_id, idempotency_key, status, attempts, attempts_at_requeue, requeues,
  next_attempt_at, lease_owner, lease_until, last_error, result, decided_by, automated, case_id, decision_id, rule_id, reason,
  identifiers, created_at, completed_at`;

const PARENT_TYPE: ActionType = 'takedown_network';
const MEMBER_TYPE: ActionType = 'suspend_account';
const UNFINISHED: readonly ActionStatus[] = ['pending', 'retrying'];

/** What every action event says about the action it is about. */
const eventIdentity = (row: ActionRow) => ({
  action_id: Number(row.id),
  parent_id: row.parent_id === null ? null : Number(row.parent_id),
  type: row.type,
  target: { kind: row.target_kind, id: row.target_id },
  case_id: row.case_id === null ? null : Number(row.case_id),
  decision_id: row.decision_id === null ? null : Number(row.decision_id),
});

export const noTargetError = (type: ActionType) => `no target configured for ${type}`;

const toRecord = (row: ActionRow): ActionRecord => ({
  id: Number(row.id),
  type: row.type,
  target: { kind: row.target_kind, id: row.target_id },
  parentId: row.parent_id === null ? null : Number(row.parent_id),
  idempotencyKey: row.idempotency_key,
  status: row.status,
  attempts: row.attempts,
  requeues: row.requeues,
  nextAttemptAt: row.next_attempt_at,
  lastError: row.last_error,
  result: row.result ?? null,
  createdAt: row.created_at,
  completedAt: row.completed_at,
  decidedBy: row.decided_by,
  automated: row.automated,
  caseId: row.case_id === null ? null : Number(row.case_id),
  decisionId: row.decision_id === null ? null : Number(row.decision_id),
  ruleId: row.rule_id,
  reason: row.reason ?? {},
  identifiers: row.identifiers ?? null,
});

const toAttempt = (row: AttemptRow): ActionAttempt => ({
  attempt: row.attempt,
  at: row.started_at,
  outcome: row.outcome,
  statusCode: row.status_code,
  durationMs: row.duration_ms,
  errorCode: row.error_code,
});

/** Keeps a target's answer only if it is small JSON; anything else is described instead. */
function capResult(result: unknown): string | null {
  if (result === undefined || result === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch {
    return JSON.stringify({ unserializable: true });
  }
  if (text === undefined) return null;
  if (Buffer.byteLength(text) > MAX_RESULT_BYTES) return JSON.stringify({ truncated: true, limit_bytes: MAX_RESULT_BYTES });
  return text;
}

const attemptOutcomeOf = (outcome: DeliveryOutcome): AttemptOutcome =>
  outcome.kind === 'succeeded' ? (outcome.alreadyApplied ? 'already_applied' : 'succeeded') : outcome.kind;

const finishedEventType = (status: ActionStatus) =>
  status === 'succeeded' ? ACTION_SUCCEEDED_EVENT : status === 'partial' ? ACTION_PARTIAL_EVENT : ACTION_DEAD_EVENT;

/**
 * Enforcement actions and their delivery. An action is written in the transaction of the
 * decision that caused it, so it exists exactly when the decision does; its row is then the
 * outbox entry that dispatchers work from until the platform confirms it or it is declared
 * dead. Dispatchers in any number of processes claim due rows under a lease, deliver them
 * outside any transaction, and record every attempt.
 */
export class ActionService {
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
  private dispatching: Promise<number> | undefined;
  private again = false;
  private running = 0;
  /** Checks for just-enqueued actions becoming visible; idle() waits for them. */

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
  }

  /**
   * Records an action inside the caller's transaction. The same idempotency key twice gives
   * back the action already recorded (a different type or target under one key is refused).
   * The action.requested event it appends is the caller's to publish after commit.
   */
  async enqueue(tx: SqlClient, request: ActionRequest): Promise<ActionRecord> {
    return (await this.enqueueMany(tx, [request]))[0];
  }

  /**
   * enqueue() for several actions, in order: single actions are written together in one
   * statement (a rule runner's batch of firings, issue 11), a network takedown with its members.
   */
  async enqueueMany(tx: SqlClient, requests: ActionRequest[]): Promise<ActionRecord[]> {
    const valid = requests.map(validateActionRequest);
    const now = this.now();
    const records: ActionRecord[] = new Array(valid.length);
    const singles = valid.flatMap((request, i) => (request.type === PARENT_TYPE ? [] : [{ request, i }]));
    if (singles.length > 0) {
      const written = await this.insertSingles(tx, singles.map(({ request }) => request), now);
      for (const [k, { i }] of singles.entries()) records[i] = written[k];
    }
    for (const [i, request] of valid.entries()) if (request.type === PARENT_TYPE) records[i] = await this.insertTakedown(tx, request, now);
    // Delivered as soon as the caller's transaction commits, whether or not the caller publishes its events.
    if (this.running > 0) tx.afterCommit(() => this.running > 0 && void this.dispatchDue().catch(this.onError));
    return records;
  }

  /**
   * Single actions, each with its action.requested event made from the row's id, in one
   * statement. A key already taken (earlier, or by an earlier request of the same call) gives
   * back that action. jsonb orders keys itself: the payload is the same as append()'s.
   */
  private async insertSingles(tx: SqlClient, requests: ValidActionRequest[], now: Date): Promise<ActionRecord[]> {
    if (!tx.mayWriteEvents) throw new Error(`${ACTION_REQUESTED_EVENT} appended outside a transaction that holds the outbox writer lock`);
    const input = requests.map((request, n) => ({
      n,
      type: request.type,
      target_kind: request.target.kind,
      target_id: request.target.id,
      idempotency_key: request.idempotencyKey,
      last_error: this.targets.targetFor(request.type) ? null : noTargetError(request.type),
      decided_by: request.decidedBy,
      automated: request.automated,
      case_id: request.caseId,
      decision_id: request.decisionId,
      rule_id: request.ruleId,
      reason: request.reason,
      identifiers: request.identifiers ?? null,
      event_payload: { type: request.type, target: request.target, case_id: request.caseId, decision_id: request.decisionId },
    }));
    const inserted = await tx.query<ActionRow>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(n int, type text, target_kind text, target_id text, idempotency_key text, last_error text,
           decided_by text, automated boolean, case_id bigint, decision_id bigint, rule_id text, reason jsonb, identifiers jsonb, event_payload jsonb)
       ), inserted AS (
         INSERT INTO actions (type, target_kind, target_id, idempotency_key, status, next_attempt_at, last_error, decided_by, automated,
                              case_id, decision_id, rule_id, reason, identifiers, created_at)
         SELECT type, target_kind, target_id, idempotency_key, 'pending', $2, last_error, decided_by, automated, case_id, decision_id, rule_id, reason, identifiers, $2
         FROM input ORDER BY n
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}
       ), appended AS (
         INSERT INTO events (type, subject, payload)
         SELECT $3, 'action:' || i.id, jsonb_build_object('action_id', i.id) || r.event_payload
         FROM inserted i JOIN (SELECT DISTINCT ON (idempotency_key) * FROM input ORDER BY idempotency_key, n) r ON r.idempotency_key = i.idempotency_key
         ORDER BY i.id
       )
       SELECT * FROM inserted`,
      [JSON.stringify(input), now, ACTION_REQUESTED_EVENT],
    );
    const byKey = new Map(inserted.rows.map((row) => [row.idempotency_key, row]));
    const records: ActionRecord[] = [];
    for (const request of requests) {
      const row = byKey.get(request.idempotencyKey);
      // Written now: the first request of its key; a later one of the same key finds it below.
      if (row) {
        byKey.delete(request.idempotencyKey);
        records.push(toRecord(row));
      } else records.push(await this.existing(tx, request));
    }
    return records;
  }

  /** The action already recorded under the request's key, refused if it is not the same action. */
  private async existing(tx: SqlClient, request: ValidActionRequest): Promise<ActionRecord> {
    const existing = await this.load(tx, request.idempotencyKey, { by: 'key', children: true });
    if (existing.type !== request.type || existing.target.kind !== request.target.kind || existing.target.id !== request.target.id) {
      throw conflict(`idempotency key ${JSON.stringify(request.idempotencyKey)} already names a different action`, { action_id: existing.id });
    }
    return existing;
  }

  /** A network takedown: its row, a member action per account, then its event (which counts them). */
  private async insertTakedown(tx: SqlClient, valid: ValidActionRequest, now: Date): Promise<ActionRecord> {
    const missingTarget = this.targets.targetFor(MEMBER_TYPE) ? null : noTargetError(MEMBER_TYPE);
    const inserted = await tx.query<ActionRow>(
      `INSERT INTO actions (type, target_kind, target_id, idempotency_key, status, next_attempt_at, last_error, decided_by, automated,
                            case_id, decision_id, rule_id, reason, identifiers, created_at)
       VALUES ($1, $2, $3, $4, 'pending', NULL, NULL, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
      [
        valid.type,
        valid.target.kind,
        valid.target.id,
        valid.idempotencyKey,
        valid.decidedBy,
        valid.automated,
        valid.caseId,
        valid.decisionId,
        valid.ruleId,
        JSON.stringify(valid.reason),
        valid.identifiers ? JSON.stringify(valid.identifiers) : null,
        now,
      ],
    );
    const row = inserted.rows[0];
    if (!row) return this.existing(tx, valid);
    const id = Number(row.id);
    // Each member's action carries the takedown's decision, copied from its row.
    await tx.query(
      `INSERT INTO actions (parent_id, type, target_kind, target_id, idempotency_key, status, next_attempt_at, last_error, decided_by,
                            automated, case_id, decision_id, rule_id, reason, created_at)
       SELECT p.id, $2, 'account', m.value, p.idempotency_key || '/member:' || m.value, 'pending', $3, $4, p.decided_by, p.automated, p.case_id,
              p.decision_id, p.rule_id, p.reason, $3
       FROM actions p, jsonb_array_elements_text($5::jsonb) WITH ORDINALITY AS m(value, n) WHERE p.id = $1 ORDER BY m.n
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [id, MEMBER_TYPE, now, missingTarget, JSON.stringify(valid.members)],
    );
    await this.events.append(tx, ACTION_REQUESTED_EVENT, `action:${id}`, {
      action_id: id,
      type: valid.type,
      target: valid.target,
      case_id: valid.caseId,
      decision_id: valid.decisionId,
      members: valid.members!.length,
    });
    return this.load(tx, id, { children: true });
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

  /** Resolves when nothing of this service is using the store (call after stopping, before closing the store). */
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
    this.running++;
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
      this.running--;
      clearInterval(timer);
      unsubscribe();
    };
  }

  async get(id: number): Promise<ActionRecord> {
    return this.load(this.sql, id, { children: true, attempts: true });
  }

  /** Top-level actions (a network's members are in its children), oldest first, paged by afterId. */
  async list(filter: ActionListFilter = {}): Promise<ActionRecord[]> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500);
    const result = await this.sql.query<ActionRow>(
      `SELECT ${COLUMNS} FROM actions
       WHERE parent_id IS NULL AND id > $1 AND ($2::bigint IS NULL OR case_id = $2) AND ($3::bigint IS NULL OR decision_id = $3)
         AND ($4::text IS NULL OR status = $4)
       ORDER BY id LIMIT $5`,
      [filter.afterId ?? 0, filter.caseId ?? null, filter.decisionId ?? null, filter.status ?? null, limit],
    );
    const records = result.rows.map(toRecord);
    await this.addMemberStatus(this.sql, records);
    return records;
  }

  /**
   * An operator re-queues a dead action with a fresh attempt budget (for a network: every
   * dead member). The idempotency key stays, so the platform still applies it at most once.
   */
  async retry(id: number, requestedBy = 'operator'): Promise<ActionRecord> {
    const published: DomainEvent[] = [];
    await this.sql.transaction(async (tx) => {
      const found = await tx.query<ActionRow>(`SELECT ${COLUMNS} FROM actions WHERE id = $1 FOR UPDATE`, [id]);
      const row = found.rows[0];
      if (!row) throw notFound(`no action with id ${id}`);
      const now = this.now();
      let requeued: number;
      if (row.type === PARENT_TYPE) {
        if (row.status !== 'dead' && row.status !== 'partial') throw conflict(`action ${id} is ${row.status}; only a dead or partial network takedown is re-queued`, { status: row.status });
        const children = await tx.query(
          `UPDATE actions SET status = 'pending', next_attempt_at = $2, attempts_at_requeue = attempts, requeues = requeues + 1, completed_at = NULL,
                              lease_owner = NULL, lease_until = NULL
           WHERE parent_id = $1 AND status = 'dead'`,
          [id, now],
        );
        requeued = children.rowCount;
        await tx.query(`UPDATE actions SET status = 'pending', requeues = requeues + 1, completed_at = NULL WHERE id = $1`, [id]);
      } else {
        if (row.status !== 'dead') throw conflict(`action ${id} is ${row.status}; only a dead action is re-queued`, { status: row.status });
        await tx.query(
          `UPDATE actions SET status = 'pending', next_attempt_at = $2, attempts_at_requeue = attempts, requeues = requeues + 1, completed_at = NULL,
                              lease_owner = NULL, lease_until = NULL
           WHERE id = $1`,
          [id, now],
        );
        requeued = 1;
        if (row.parent_id !== null) {
          await tx.query(`UPDATE actions SET status = 'pending', completed_at = NULL WHERE id = $1 AND status <> 'pending'`, [row.parent_id]);
        }
      }
      published.push(
        await this.events.append(tx, ACTION_REQUEUED_EVENT, `action:${id}`, {
          ...eventIdentity(row),
          previous_status: row.status,
          requeued,
          requested_by: requestedBy,
        }),
      );
    });
    this.events.published(published);
    return this.get(id);
  }

  // ---- dispatch ----

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
         RETURNING ${COLUMNS.split(',').map((c) => `a.${c.trim()}`).join(', ')}`,
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
  private async deliver(row: ActionRow): Promise<{ outcome: DeliveryOutcome; durationMs: number }> {
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
  private async recordAll(rows: ActionRow[], delivered: { outcome: DeliveryOutcome; durationMs: number }[]): Promise<(ActionStatus | null)[]> {
    let together: { events: DomainEvent[]; statuses: (ActionStatus | null)[] } | undefined;
    try {
      together = await this.sql.transaction((tx) => this.record(tx, rows, delivered), { background: true });
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
        const { events, statuses: [status] } = await this.sql.transaction((tx) => this.record(tx, [row], [delivered[i]]), { background: true });
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

  private noteAttempt(row: ActionRow, { outcome, durationMs }: { outcome: DeliveryOutcome; durationMs: number }, status: ActionStatus | null): void {
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

  /**
   * Writes attempts' outcomes and their actions' new states; returns events to publish after
   * commit and each new status (null where another dispatcher had taken the action over).
   */
  private async record(
    tx: SqlClient,
    claimed: ActionRow[],
    delivered: { outcome: DeliveryOutcome; durationMs: number }[],
  ): Promise<{ events: DomainEvent[]; statuses: (ActionStatus | null)[] }> {
    const attempts = claimed.map((row, i) => {
      const { outcome, durationMs } = delivered[i];
      return { id: Number(row.id), attempt: row.attempts, outcome: attemptOutcomeOf(outcome), status_code: outcome.statusCode ?? null, duration_ms: durationMs, error_code: outcome.kind === 'succeeded' ? null : outcome.errorCode.slice(0, 200) };
    });
    // The attempts' outcomes and the locks on their actions in one statement.
    const locked = await tx.query<ActionRow>(
      `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, attempt integer, outcome text, status_code integer, duration_ms integer, error_code text)),
       noted AS (
         UPDATE action_attempts a SET outcome = r.outcome, status_code = r.status_code, duration_ms = r.duration_ms, error_code = r.error_code
         FROM input r WHERE a.action_id = r.id AND a.attempt = r.attempt
       )
       SELECT ${COLUMNS} FROM actions WHERE id IN (SELECT id FROM input) ORDER BY id FOR UPDATE`,
      [JSON.stringify(attempts)],
    );
    const current = new Map(locked.rows.map((row) => [Number(row.id), row]));
    const now = this.now();
    const updates: { id: number; status: ActionStatus; next_attempt_at: Date | null; last_error: string | null; result: string | null; completed_at: Date | null }[] = [];
    const finished: ActionRow[] = [];
    const statuses = claimed.map((row, i): ActionStatus | null => {
      const { outcome } = delivered[i];
      const { id, attempt, error_code: errorCode } = attempts[i];
      const held = current.get(id);
      // Our lease ran out and another dispatcher took the action over: its attempt decides.
      if (!held || held.lease_owner !== this.owner || held.attempts !== attempt) return null;
      let status: ActionStatus;
      let nextAttemptAt: Date | null = null;
      if (outcome.kind === 'succeeded') status = 'succeeded';
      else if (outcome.kind === 'permanent') status = 'dead';
      else if (attempt - held.attempts_at_requeue >= this.maxAttempts) status = 'dead';
      else {
        status = 'retrying';
        nextAttemptAt = new Date(now.getTime() + this.retryDelayMs(attempt - held.attempts_at_requeue, outcome.retryAfterMs));
      }
      const done = status !== 'retrying';
      const result = outcome.kind === 'succeeded' ? capResult(outcome.result) : null;
      updates.push({ id, status, next_attempt_at: nextAttemptAt, last_error: errorCode, result, completed_at: done ? now : null });
      if (done) finished.push({ ...held, status, attempts: attempt });
      return status;
    });
    if (updates.length > 0) {
      await tx.query(
        `UPDATE actions a SET status = r.status, next_attempt_at = r.next_attempt_at, last_error = r.last_error, result = COALESCE(r.result::jsonb, a.result),
                              completed_at = r.completed_at, lease_owner = NULL, lease_until = NULL
         FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, status text, next_attempt_at timestamptz, last_error text, result text, completed_at timestamptz)
         WHERE a.id = r.id`,
        [JSON.stringify(updates)],
      );
    }
    const events = await this.events.appendMany(tx, finished.map((row) => this.finishedEvent(row)));
    // Each takedown once, in id order: two dispatchers settling the same two then never wait on each other.
    const parents = [...new Set(finished.flatMap((row) => (row.parent_id === null ? [] : [Number(row.parent_id)])))].sort((a, b) => a - b);
    for (const parentId of parents) {
      const parentEvent = await this.settleParent(tx, parentId, now);
      if (parentEvent) events.push(parentEvent);
    }
    return { events, statuses };
  }

  private finishedEvent(row: ActionRow): { type: string; subject: string; payload: ActionFinishedPayload } {
    return { type: finishedEventType(row.status), subject: `action:${row.id}`, payload: { ...eventIdentity(row), status: row.status, attempts: row.attempts } };
  }

  private async appendFinished(tx: SqlClient, row: ActionRow): Promise<DomainEvent> {
    const { type, subject, payload } = this.finishedEvent(row);
    return this.events.append(tx, type, subject, payload);
  }

  /** A network takedown finishes with its last member: succeeded, partial (some dead) or dead (all). */
  private async settleParent(tx: SqlClient, parentId: number, now: Date): Promise<DomainEvent | undefined> {
    const parent = (await tx.query<ActionRow>(`SELECT ${COLUMNS} FROM actions WHERE id = $1 FOR UPDATE`, [parentId])).rows[0];
    if (!parent) return undefined;
    // Read after taking the parent's lock, so the member that finishes last always sees the others finished.
    const counts = await tx.query<{ status: ActionStatus; n: number; attempts: number }>(
      'SELECT status, count(*) AS n, sum(attempts) AS attempts FROM actions WHERE parent_id = $1 GROUP BY status',
      [parentId],
    );
    const by = new Map(counts.rows.map((r) => [r.status, Number(r.n)]));
    if (UNFINISHED.some((status) => (by.get(status) ?? 0) > 0)) return undefined;
    const dead = by.get('dead') ?? 0;
    const total = [...by.values()].reduce((a, b) => a + b, 0);
    const status: ActionStatus = dead === 0 ? 'succeeded' : dead === total ? 'dead' : 'partial';
    if (parent.status === status && parent.completed_at) return undefined;
    const attempts = counts.rows.reduce((sum, r) => sum + Number(r.attempts), 0);
    const lastError = dead > 0 ? `${dead} of ${total} members failed` : null;
    await tx.query('UPDATE actions SET status = $2, completed_at = $3, attempts = $4, last_error = $5 WHERE id = $1', [parentId, status, now, attempts, lastError]);
    return this.appendFinished(tx, { ...parent, status, attempts });
  }

  // ---- reading ----

  private async load(client: SqlClient, key: number | string, options: { by?: 'id' | 'key'; children?: boolean; attempts?: boolean }): Promise<ActionRecord> {
    const byKey = options.by === 'key';
    const found = await client.query<ActionRow>(`SELECT ${COLUMNS} FROM actions WHERE ${byKey ? 'idempotency_key' : 'id'} = $1`, [key]);
    const row = found.rows[0];
    if (!row) throw notFound(byKey ? `no action with idempotency key ${JSON.stringify(key)}` : `no action with id ${key}`);
    const record = toRecord(row);
    if (options.attempts) record.attemptLog = await this.attemptsOf(client, record.id);
    if (record.type === PARENT_TYPE) {
      const children = await client.query<ActionRow>(`SELECT ${COLUMNS} FROM actions WHERE parent_id = $1 ORDER BY id`, [record.id]);
      const members = children.rows.map(toRecord);
      record.memberStatus = countStatuses(members);
      record.attempts = members.reduce((sum, m) => sum + m.attempts, 0);
      if (options.children) record.children = members;
    }
    return record;
  }

  private async attemptsOf(client: SqlClient, id: number): Promise<ActionAttempt[]> {
    const result = await client.query<AttemptRow>(
      'SELECT attempt, started_at, outcome, status_code, duration_ms, error_code FROM action_attempts WHERE action_id = $1 ORDER BY attempt',
      [id],
    );
    return result.rows.map(toAttempt);
  }

  /** Deliverable actions (network members counted, not their takedowns) by status. */
  async statusCounts(): Promise<Partial<Record<ActionStatus, number>>> {
    const result = await this.sql.query<{ status: ActionStatus; n: number }>(
      `SELECT status, count(*) AS n FROM actions WHERE type <> $1 GROUP BY status`,
      [PARENT_TYPE],
    );
    return Object.fromEntries(result.rows.map((row) => [row.status, Number(row.n)]));
  }

  /** Attempts of every member of a network takedown, by member action id. */
  async memberAttempts(parentId: number): Promise<Map<number, ActionAttempt[]>> {
    const result = await this.sql.query<AttemptRow & { action_id: number }>(
      `SELECT t.action_id, t.attempt, t.started_at, t.outcome, t.status_code, t.duration_ms, t.error_code
       FROM action_attempts t JOIN actions a ON a.id = t.action_id WHERE a.parent_id = $1 ORDER BY t.action_id, t.attempt`,
      [parentId],
    );
    const byAction = new Map<number, ActionAttempt[]>();
    for (const row of result.rows) {
      const id = Number(row.action_id);
      if (!byAction.has(id)) byAction.set(id, []);
      byAction.get(id)!.push(toAttempt(row));
    }
    return byAction;
  }

  private async addMemberStatus(client: SqlClient, records: ActionRecord[]): Promise<void> {
    const parents = records.filter((r) => r.type === PARENT_TYPE);
    if (parents.length === 0) return;
    const counts = await client.query<{ parent_id: number; status: ActionStatus; n: number; attempts: number }>(
      `SELECT parent_id, status, count(*) AS n, sum(attempts) AS attempts FROM actions WHERE parent_id = ANY($1::bigint[]) GROUP BY parent_id, status`,
      [parents.map((p) => p.id)],
    );
    for (const parent of parents) {
      const rows = counts.rows.filter((r) => Number(r.parent_id) === parent.id);
      parent.memberStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      parent.attempts = rows.reduce((sum, r) => sum + Number(r.attempts), 0);
    }
  }
}

function countStatuses(records: ActionRecord[]): Partial<Record<ActionStatus, number>> {
  const counts: Partial<Record<ActionStatus, number>> = {};
  for (const record of records) counts[record.status] = (counts[record.status] ?? 0) + 1;
  return counts;
}
