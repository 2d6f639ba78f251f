import { notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import type { ActionAttempt, ActionRecord, ActionStatus, ActionType, AttemptOutcome } from './types.ts';

/** An actions row as the store returns it (ids of bigint columns may come back as strings). */
export interface ActionRow {
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

export interface AttemptRow {
  attempt: number;
  started_at: Date;
  outcome: AttemptOutcome;
  status_code: number | null;
  duration_ms: number | null;
  error_code: string | null;
}

export const ACTION_COLUMNS = `id, parent_id, type, target_kind, target_id, idempotency_key, status, attempts, attempts_at_requeue, requeues,
  next_attempt_at, lease_owner, lease_until, last_error, result, decided_by, automated, case_id, decision_id, rule_id, reason,
  identifiers, created_at, completed_at`;

/** A network takedown: delivered through one member action per account, and finished with the last of them. */
export const PARENT_TYPE: ActionType = 'takedown_network';
export const MEMBER_TYPE: ActionType = 'suspend_account';
export const UNFINISHED: readonly ActionStatus[] = ['pending', 'retrying'];

export const noTargetError = (type: ActionType) => `no target configured for ${type}`;

/** What every action event says about the action it is about. */
export const eventIdentity = (row: ActionRow) => ({
  action_id: Number(row.id),
  parent_id: row.parent_id === null ? null : Number(row.parent_id),
  type: row.type,
  target: { kind: row.target_kind, id: row.target_id },
  case_id: row.case_id === null ? null : Number(row.case_id),
  decision_id: row.decision_id === null ? null : Number(row.decision_id),
});

export const toRecord = (row: ActionRow): ActionRecord => ({
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

export const toAttempt = (row: AttemptRow): ActionAttempt => ({
  attempt: row.attempt,
  at: row.started_at,
  outcome: row.outcome,
  statusCode: row.status_code,
  durationMs: row.duration_ms,
  errorCode: row.error_code,
});

/** One action by id or idempotency key; a takedown with its members' statuses (and, asked, the members and attempts). */
export async function loadAction(client: SqlClient, key: number | string, options: { by?: 'id' | 'key'; children?: boolean; attempts?: boolean }): Promise<ActionRecord> {
  const byKey = options.by === 'key';
  const found = await client.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE ${byKey ? 'idempotency_key' : 'id'} = $1`, [key]);
  const row = found.rows[0];
  if (!row) throw notFound(byKey ? `no action with idempotency key ${JSON.stringify(key)}` : `no action with id ${key}`);
  const record = toRecord(row);
  if (options.attempts) record.attemptLog = await attemptsOf(client, record.id);
  if (record.type === PARENT_TYPE) {
    const children = await client.query<ActionRow>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE parent_id = $1 ORDER BY id`, [record.id]);
    const members = children.rows.map(toRecord);
    record.memberStatus = countStatuses(members);
    record.attempts = members.reduce((sum, m) => sum + m.attempts, 0);
    if (options.children) record.children = members;
  }
  return record;
}

async function attemptsOf(client: SqlClient, id: number): Promise<ActionAttempt[]> {
  const result = await client.query<AttemptRow>(
    'SELECT attempt, started_at, outcome, status_code, duration_ms, error_code FROM action_attempts WHERE action_id = $1 ORDER BY attempt',
    [id],
  );
  return result.rows.map(toAttempt);
}

function countStatuses(records: ActionRecord[]): Partial<Record<ActionStatus, number>> {
  const counts: Partial<Record<ActionStatus, number>> = {};
  for (const record of records) counts[record.status] = (counts[record.status] ?? 0) + 1;
  return counts;
}
