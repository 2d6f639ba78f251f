import type { ActionAttempt, ActionRecord } from './types.ts';

// The wire format (HTTP, CLI --json) is snake_case with ISO 8601 UTC timestamps, as elsewhere.

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export const actionAttemptJson = (attempt: ActionAttempt) => ({
  attempt: attempt.attempt,
  at: attempt.at.toISOString(),
  outcome: attempt.outcome,
  status_code: attempt.statusCode,
  duration_ms: attempt.durationMs,
  error_code: attempt.errorCode,
});

export interface ActionJson {
  id: number;
  type: string;
  target: { kind: string; id: string };
  parent_id: number | null;
  idempotency_key: string;
  status: string;
  attempts: number;
  requeues: number;
  next_attempt_at: string | null;
  last_error: string | null;
  result: unknown;
  created_at: string;
  completed_at: string | null;
  decided_by: string;
  automated: boolean;
  case_id: number | null;
  decision_id: number | null;
  rule_id: string | null;
  reason: object;
  identifiers?: { kind: string; hash: string }[];
  member_status?: Record<string, number>;
  children?: ActionJson[];
  attempt_log?: ReturnType<typeof actionAttemptJson>[];
}

export function actionJson(action: ActionRecord, memberAttempts?: Map<number, ActionAttempt[]>): ActionJson {
  const attempts = action.attemptLog ?? memberAttempts?.get(action.id);
  return {
    id: action.id,
    type: action.type,
    target: action.target,
    parent_id: action.parentId,
    idempotency_key: action.idempotencyKey,
    status: action.status,
    attempts: action.attempts,
    requeues: action.requeues,
    next_attempt_at: iso(action.nextAttemptAt),
    last_error: action.lastError,
    result: action.result,
    created_at: action.createdAt.toISOString(),
    completed_at: iso(action.completedAt),
    decided_by: action.decidedBy,
    automated: action.automated,
    case_id: action.caseId,
    decision_id: action.decisionId,
    rule_id: action.ruleId,
    reason: action.reason,
    ...(action.identifiers ? { identifiers: action.identifiers } : {}),
    ...(action.memberStatus ? { member_status: action.memberStatus as Record<string, number> } : {}),
    ...(action.children ? { children: action.children.map((child) => actionJson(child, memberAttempts)) } : {}),
    ...(attempts ? { attempt_log: attempts.map(actionAttemptJson) } : {}),
  };
}
