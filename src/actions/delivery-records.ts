import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { type ActionFinishedPayload, finishedEventType } from './action-events.ts';
import { ACTION_COLUMNS, type ActionRow, UNFINISHED, eventIdentity } from './action-rows.ts';
import type { ActionStatus, AttemptOutcome, DeliveryOutcome } from './types.ts';
import { MAX_RESULT_BYTES } from './webhook-target.ts';

/** A delivery's outcome as the dispatcher saw it, not yet recorded. */
export interface Delivered {
  outcome: DeliveryOutcome;
  durationMs: number;
}

/** What recording needs to know of the dispatcher: who it is, its clock, and its retry budget. */
export interface RecordingPolicy {
  owner: string;
  now: () => Date;
  maxAttempts: number;
  /** The wait before the next attempt, given the attempt just made (counted within the budget) and the platform's Retry-After. */
  retryDelayMs: (attemptInBudget: number, retryAfterMs: number | undefined) => number;
}

export const attemptOutcomeOf = (outcome: DeliveryOutcome): AttemptOutcome =>
  outcome.kind === 'succeeded' ? (outcome.alreadyApplied ? 'already_applied' : 'succeeded') : outcome.kind;

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

const finishedEvent = (row: ActionRow): { type: string; subject: string; payload: ActionFinishedPayload } => ({
  type: finishedEventType(row.status),
  subject: `action:${row.id}`,
  payload: { ...eventIdentity(row), status: row.status, attempts: row.attempts },
});

/**
 * Writes attempts' outcomes and their actions' new states; returns events to publish after
 * commit and each new status (null where another dispatcher had taken the action over).
 */
export async function recordDeliveries(
  tx: SqlClient,
  events: EventLog,
  policy: RecordingPolicy,
  claimed: ActionRow[],
  delivered: Delivered[],
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
     SELECT ${ACTION_COLUMNS} FROM actions WHERE id IN (SELECT id FROM input) ORDER BY id FOR UPDATE`,
    [JSON.stringify(attempts)],
  );
  const current = new Map(locked.rows.map((row) => [Number(row.id), row]));
  const now = policy.now();
  const updates: { id: number; status: ActionStatus; next_attempt_at: Date | null; last_error: string | null; result: string | null; completed_at: Date | null }[] = [];
  const finished: ActionRow[] = [];
  const statuses = claimed.map((row, i): ActionStatus | null => {
    const { outcome } = delivered[i];
    const { id, attempt, error_code: errorCode } = attempts[i];
    const held = current.get(id);
    // Our lease ran out and another dispatcher took the action over: its attempt decides.
    if (!held || held.lease_owner !== policy.owner || held.attempts !== attempt) return null;
    let status: ActionStatus;
    let nextAttemptAt: Date | null = null;
    if (outcome.kind === 'succeeded') status = 'succeeded';
    else if (outcome.kind === 'permanent') status = 'dead';
    else if (attempt - held.attempts_at_requeue >= policy.maxAttempts) status = 'dead';
    else {
      status = 'retrying';
      nextAttemptAt = new Date(now.getTime() + policy.retryDelayMs(attempt - held.attempts_at_requeue, outcome.retryAfterMs));
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
  const appended = await events.appendMany(tx, finished.map(finishedEvent));
  // Each takedown once, in id order: two dispatchers settling the same two then never wait on each other.
  const parents = [...new Set(finished.flatMap((row) => (row.parent_id === null ? [] : [Number(row.parent_id)])))].sort((a, b) => a - b);
  for (const parentId of parents) {
    const parentEvent = await settleParent(tx, events, parentId, now);
    if (parentEvent) appended.push(parentEvent);
  }
  return { events: appended, statuses };
}

/** A network takedown finishes with its last member: succeeded, partial (some dead) or dead (all). */
async function settleParent(tx: SqlClient, events: EventLog, parentId: number, now: Date): Promise<DomainEvent | undefined> {
  const parent = (await tx.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = $1 FOR UPDATE`, [parentId])).rows[0];
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
  const { type, subject, payload } = finishedEvent({ ...parent, status, attempts });
  return events.append(tx, type, subject, payload);
}
