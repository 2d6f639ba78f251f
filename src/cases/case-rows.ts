import { notFound } from '../errors.ts';
import type { SqlClient } from '../store/sql.ts';
import type { CaseReason, CaseStatus, CaseView, DecisionView, Severity, SubjectKind } from './types.ts';

export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * Order within a queue, after trusted-flagger cases (which always come first): severity,
 * then whether a minor is involved, then the rule's priority, then the network's size.
 */
export function caseRank(severity: Severity, priority: number, minorInvolved: boolean, networkSize: number | null): number {
  return SEVERITY_RANK[severity] * 100_000 + (minorInvolved ? 50_000 : 0) + priority * 100 + Math.min(networkSize ?? 0, 99);
}

export interface CaseRow {
  id: number;
  queue: string;
  subject_kind: SubjectKind;
  subject_id: string;
  status: CaseStatus;
  severity: Severity;
  priority: number;
  trusted_flagger: boolean;
  minor_involved: boolean;
  network_size: number | null;
  reasons: CaseReason[];
  created_at: Date;
  due_at: Date | null;
  claimed_by: number | null;
  claimed_by_name: string | null;
  claimed_until: Date | null;
  decided_at: Date | null;
  escalated_from: number | null;
  excluded_reviewer_id: number | null;
}

export const CASE_SELECT = `SELECT c.id, c.queue, c.subject_kind, c.subject_id, c.status, c.severity, c.priority, c.trusted_flagger, c.minor_involved,
  c.network_size, c.reasons, c.created_at, c.due_at, c.claimed_by, r.username AS claimed_by_name, c.claimed_until, c.decided_at, c.escalated_from,
  c.excluded_reviewer_id
  FROM cases c LEFT JOIN reviewers r ON r.id = c.claimed_by`;

export const toView = (row: CaseRow): CaseView => {
  const claimLive = row.status === 'claimed' && row.claimed_until !== null && row.claimed_until.getTime() > Date.now();
  return {
    id: Number(row.id),
    queue: row.queue,
    // A lapsed claim is open again: whoever asks next may take it.
    status: row.status === 'claimed' && !claimLive ? 'open' : row.status,
    subject: { kind: row.subject_kind, id: row.subject_id },
    severity: row.severity,
    priority: row.priority,
    trusted_flagger: row.trusted_flagger,
    minor_involved: row.minor_involved,
    network_size: row.network_size,
    created_at: row.created_at.toISOString(),
    due_at: row.due_at?.toISOString() ?? null,
    claimed_by: claimLive ? row.claimed_by_name : null,
    claimed_until: claimLive ? row.claimed_until!.toISOString() : null,
    decided_at: row.decided_at?.toISOString() ?? null,
    escalated_from: row.escalated_from === null ? null : Number(row.escalated_from),
    reasons: row.reasons,
  };
};

export async function caseRow(client: SqlClient, id: number, lock = false): Promise<CaseRow> {
  if (!Number.isSafeInteger(id) || id < 1) throw notFound(`no case with id ${id}`);
  const result = await client.query<CaseRow>(`${CASE_SELECT} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [id]);
  if (!result.rows[0]) throw notFound(`no case with id ${id}`);
  return result.rows[0];
}

export const DECISION_COLUMNS = 'id, case_id, verdict, policy, legal_ground, note, decided_by, automated, rule_id, decided_at';

export interface DecisionRow {
  id: number;
  case_id: number | null;
  verdict: string;
  policy: string | null;
  legal_ground: string | null;
  note: string | null;
  decided_by: string;
  automated: boolean;
  rule_id: string | null;
  decided_at: Date;
}

export function toDecision(row: DecisionRow, actions: { id: number; type: string; target: { kind: string; id: string }; status: string }[]): DecisionView {
  return {
    id: Number(row.id),
    case_id: row.case_id === null ? null : Number(row.case_id),
    verdict: row.verdict,
    policy: row.policy,
    legal_ground: row.legal_ground,
    note: row.note,
    decided_by: row.decided_by,
    automated: row.automated,
    rule: row.rule_id,
    decided_at: row.decided_at.toISOString(),
    actions: actions.map((action) => ({ id: Number(action.id), type: action.type, target: action.target, status: action.status })),
  };
}
