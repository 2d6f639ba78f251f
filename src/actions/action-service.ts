import { conflict, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { ACTION_REQUESTED_EVENT, ACTION_REQUEUED_EVENT } from './action-events.ts';
import { ActionDispatcher, type ActionServiceOptions } from './action-dispatcher.ts';
import { ACTION_COLUMNS, type ActionRow, type AttemptRow, MEMBER_TYPE, PARENT_TYPE, eventIdentity, loadAction, noTargetError, toAttempt, toRecord } from './action-rows.ts';
import { type ValidActionRequest, validateActionRequest } from './request.ts';
import type { ActionAttempt, ActionRecord, ActionRequest, ActionStatus, ActionTargets } from './types.ts';

export {
  ACTION_DEAD_EVENT,
  ACTION_PARTIAL_EVENT,
  ACTION_REQUESTED_EVENT,
  ACTION_REQUEUED_EVENT,
  ACTION_SUCCEEDED_EVENT,
  type ActionFinishedPayload,
} from './action-events.ts';
export { ACTION_DELIVERY_CONCURRENCY, type ActionServiceOptions, type AttemptReport } from './action-dispatcher.ts';
export { noTargetError } from './action-rows.ts';

export interface ActionListFilter {
  caseId?: number;
  decisionId?: number;
  status?: ActionStatus;
  limit?: number;
  afterId?: number;
}

/**
 * Enforcement actions. An action is written in the transaction of the decision that caused
 * it, so it exists exactly when the decision does; its row is then the outbox entry that
 * dispatchers (action-dispatcher.ts) work from until the platform confirms it or it is
 * declared dead. This class records, reads and re-queues actions, and runs this process's dispatcher.
 */
export class ActionService {
  private readonly now: () => Date;
  private readonly dispatcher: ActionDispatcher;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly targets: ActionTargets,
    options: ActionServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.dispatcher = new ActionDispatcher(sql, events, targets, options);
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
    this.dispatcher.dispatchAfterCommit(tx);
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
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${ACTION_COLUMNS}
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
    const existing = await loadAction(tx, request.idempotencyKey, { by: 'key', children: true });
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
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${ACTION_COLUMNS}`,
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
    return loadAction(tx, id, { children: true });
  }

  /**
   * Delivers every action that is due: pending, or waiting to retry with its time come.
   * Concurrent calls in one process share a pass; several processes split the work (rows
   * are claimed with FOR UPDATE SKIP LOCKED under a lease). Returns the attempts made.
   */
  dispatchDue(): Promise<number> {
    return this.dispatcher.dispatchDue();
  }

  /** Resolves when nothing of this service is using the store (call after stopping, before closing the store). */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  /**
   * Dispatches on a timer, right after an action enqueued in this process commits, and when
   * action.requested or action.requeued events are published here. Returns a stop function.
   */
  start(intervalMs = 5000): () => void {
    return this.dispatcher.start(intervalMs);
  }

  async get(id: number): Promise<ActionRecord> {
    return loadAction(this.sql, id, { children: true, attempts: true });
  }

  /** Top-level actions (a network's members are in its children), oldest first, paged by afterId. */
  async list(filter: ActionListFilter = {}): Promise<ActionRecord[]> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500);
    const result = await this.sql.query<ActionRow>(
      `SELECT ${ACTION_COLUMNS} FROM actions
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
      const found = await tx.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = $1 FOR UPDATE`, [id]);
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
