import type { AuditLog } from '../audit/audit-log.ts';
import { conflict, invalid } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { Reviewer } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';
import { assertMaySee, assertNotExcluded } from './case-access.ts';
import type { CaseOpener } from './case-opening.ts';
import { caseRow, DECISION_COLUMNS, type DecisionRow, toDecision, toView } from './case-rows.ts';
import { ESCALATION_QUEUE } from './queues.ts';
import type { CaseSubjectType } from './subjects/subject-type.ts';
import type { CaseDetail, CaseSubject, DecisionView, EnforcementRequest, EnforcementSink, Policy, SubjectKind } from './types.ts';

export const CASE_DECIDED_EVENT = 'case.decided';

/** What a rule decided on its own: the firing, the case it opened (if any) and the actions it takes. */
export interface AutomatedDecisionInput {
  ruleId: string;
  eventSeq?: number;
  caseId?: number;
  subject: CaseSubject;
  actions: { type: EnforcementRequest['type']; target: CaseSubject }[];
  summary: string;
}

export interface DecideInput {
  verdict: string;
  policy?: string;
  note?: string;
}

export interface DecisionResult {
  decision: DecisionView;
  case: CaseDetail;
  /** The case opened in the escalation queue, for an escalation. */
  escalatedTo?: number;
}

/** Used until an operator's rule file declares its own policies. */
export const DEFAULT_POLICIES: Policy[] = [
  { id: 'csam', title: 'Child sexual abuse material', legal_ground: '18 U.S.C. 2258A (US); illegal content under DSA Art. 16 (EU)', subjects: ['content', 'account'] },
  { id: 'child-exploitation-network', title: 'Coordinated child exploitation activity', legal_ground: 'Terms of service; illegal content under DSA Art. 16 (EU)', subjects: ['network'] },
];

/** Actions that restrict content or accounts: a decision firing one must cite a policy. */
export const RESTRICTING_ACTIONS: ReadonlySet<string> = new Set(['remove_content', 'restrict_account', 'suspend_account', 'takedown_network', 'block_identifier']);

/** Decisions on cases, by reviewers and by rules, for CaseService. */
export class CaseDecider {
  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly enforcement: EnforcementSink,
    private readonly policies: () => Policy[],
    private readonly subjectType: (kind: SubjectKind) => CaseSubjectType,
    private readonly opener: CaseOpener,
  ) {}

  /**
   * Records the reviewer's decision and fires its enforcement, all in one transaction: the
   * decision, the actions (delivered later by the actions stage, never lost), labels,
   * local-bank entries, the audit entry and the event for reporting stages.
   */
  async decide(id: number, reviewer: Reviewer, input: DecideInput): Promise<Omit<DecisionResult, 'case'>> {
    const published: DomainEvent[] = [];
    const afterCommit: (() => void)[] = [];
    const result = await this.sql.transaction(async (tx) => {
      const row = await caseRow(tx, id, true);
      await assertMaySee(tx, row, reviewer);
      const view = toView(row);
      if (view.status === 'decided') throw conflict(`case ${id} is already decided`);
      if (view.status !== 'claimed' || row.claimed_by !== reviewer.id) throw conflict(`case ${id} is not claimed by you; claim it first`);
      assertNotExcluded(row, reviewer);
      const type = this.subjectType(row.subject_kind);
      const option = type.options.find((candidate) => candidate.verdict === input.verdict);
      if (!option) throw invalid(`verdict ${JSON.stringify(input.verdict)} is not one of ${type.options.map((o) => o.verdict).join(', ')}`, { verdict: input.verdict });
      const policy = this.policyFor(option.actions.some((action) => RESTRICTING_ACTIONS.has(action)), input.policy);
      const note = input.note?.trim() ? input.note.trim().slice(0, 4000) : undefined;
      const inserted = await tx.query<DecisionRow>(
        `INSERT INTO decisions (case_id, verdict, policy, legal_ground, note, decided_by, reviewer_id, automated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, false) RETURNING ${DECISION_COLUMNS}`,
        [id, option.verdict, policy?.id ?? null, policy?.legal_ground ?? null, note ?? null, reviewer.username, reviewer.id],
      );
      const decisionId = Number(inserted.rows[0].id);
      await tx.query(`UPDATE cases SET status = 'decided', decided_at = now(), claimed_until = NULL WHERE id = $1`, [id]);
      const effects = await type.apply({ tx, caseId: id, decisionId, subject: view.subject, option, policy, decidedBy: reviewer.username, note });
      published.push(...effects.published);
      afterCommit.push(...effects.afterCommit);
      const actions = await this.enforcement.enqueueMany(tx, effects.actions);
      let escalatedTo: number | undefined;
      if (option.verdict === 'escalate') {
        const escalated = await this.opener.openIn(tx, {
          queue: ESCALATION_QUEUE.name,
          subject: view.subject,
          severity: view.severity,
          priority: view.priority,
          trustedFlagger: view.trusted_flagger,
          minorInvolved: view.minor_involved,
          networkSize: view.network_size,
          excludedReviewerId: row.excluded_reviewer_id ?? undefined,
          reason: { rule: 'escalation', summary: `escalated by ${reviewer.username} from case ${id}${note ? `: ${note}` : ''}` },
        }, reviewer.username);
        await tx.query('UPDATE cases SET escalated_from = $2 WHERE id = $1', [escalated.view.id, id]);
        published.push(escalated.event);
        escalatedTo = escalated.view.id;
      }
      await this.audit.append(tx, {
        actor: reviewer.username,
        action: 'case.decided',
        subject: `case:${id}`,
        detail: { decision_id: decisionId, verdict: option.verdict, policy: policy?.id ?? null, actions: actions.map((action) => action.id), ...(escalatedTo ? { escalated_to: escalatedTo } : {}) },
      });
      published.push(
        await this.events.append(tx, CASE_DECIDED_EVENT, `case:${id}`, {
          case_id: id,
          decision_id: decisionId,
          subject: view.subject,
          verdict: option.verdict,
          policy: policy?.id ?? null,
          legal_ground: policy?.legal_ground ?? null,
          decided_by: reviewer.username,
          automated: false,
          actions: actions.map((action) => ({ id: action.id, type: action.type, target: action.target })),
        }),
      );
      return { decision: toDecision(inserted.rows[0], actions), escalatedTo };
    });
    this.events.published(published);
    for (const notify of afterCommit) notify();
    return result;
  }

  /**
   * decideAutomatically() for several firings, in order: the decisions in one statement, their
   * actions in one, their audit entries and events in one (a rule runner's batch, issue 11).
   */
  async decideManyAutomatically(tx: SqlClient, inputs: AutomatedDecisionInput[]): Promise<{ decision: DecisionView; event: DomainEvent }[]> {
    if (inputs.length === 0) return [];
    const inserted = await tx.query<DecisionRow>(
      `INSERT INTO decisions (case_id, verdict, decided_by, automated, rule_id, event_seq, note)
       SELECT r.case_id, 'automated', 'rule:' || r.rule_id, true, r.rule_id, r.event_seq, r.note
       FROM jsonb_to_recordset($1::jsonb) AS r(n int, case_id bigint, rule_id text, event_seq bigint, note text) ORDER BY r.n
       RETURNING ${DECISION_COLUMNS}`,
      [JSON.stringify(inputs.map((input, n) => ({ n, case_id: input.caseId ?? null, rule_id: input.ruleId, event_seq: input.eventSeq ?? null, note: input.summary.slice(0, 4000) })))],
    );
    // Identities are drawn in the order rows are inserted: the i-th smallest id is the i-th input's.
    const decisions = inserted.rows.sort((a, b) => Number(a.id) - Number(b.id));
    if (decisions.length !== inputs.length) throw new Error(`${inputs.length} decisions written, ${decisions.length} returned`);
    const requests: EnforcementRequest[] = [];
    for (const [i, input] of inputs.entries()) {
      const decisionId = Number(decisions[i].id);
      for (const action of input.actions) {
        requests.push({
          type: action.type,
          target: action.target,
          decidedBy: `rule:${input.ruleId}`,
          automated: true,
          caseId: input.caseId,
          decisionId,
          ruleId: input.ruleId,
          reason: { verdict: 'automated', note: input.summary },
          ...(action.type === 'takedown_network' ? { members: await networkMembers(tx, action.target.id) } : {}),
          // A replayed event must not act twice.
          idempotencyKey: `rule:${input.ruleId}:${input.eventSeq ?? decisionId}:${action.type}:${action.target.kind}:${action.target.id}`,
        });
      }
    }
    const enqueued = await this.enforcement.enqueueMany(tx, requests);
    let next = 0;
    const acted = inputs.map((input) => enqueued.slice(next, (next += input.actions.length)));
    const written = await this.audit.appendManyWithEvents(
      tx,
      this.events,
      inputs.map((input, i) => {
        const decisionId = Number(decisions[i].id);
        const actions = acted[i];
        return {
          record: {
            actor: `rule:${input.ruleId}`,
            action: 'rule.acted',
            subject: `${input.subject.kind}:${input.subject.id}`,
            detail: { decision_id: decisionId, event_seq: input.eventSeq ?? null, case_id: input.caseId ?? null, actions: actions.map((a) => a.id) },
          },
          event: {
            type: CASE_DECIDED_EVENT,
            subject: input.caseId ? `case:${input.caseId}` : `${input.subject.kind}:${input.subject.id}`,
            payload: {
              case_id: input.caseId ?? null,
              decision_id: decisionId,
              subject: input.subject,
              verdict: 'automated',
              policy: null,
              legal_ground: null,
              decided_by: `rule:${input.ruleId}`,
              automated: true,
              actions: actions.map((action) => ({ id: action.id, type: action.type, target: action.target })),
            },
          },
        };
      }),
    );
    return inputs.map((_, i) => ({ decision: toDecision(decisions[i], acted[i]), event: written[i].event }));
  }

  private policyFor(restricts: boolean, id: string | undefined): Policy | undefined {
    const policies = this.policies();
    if (id === undefined || id === '') {
      if (restricts) throw invalid(`a decision that restricts content or accounts must cite a policy: one of ${policies.map((p) => p.id).join(', ')}`);
      return undefined;
    }
    const policy = policies.find((candidate) => candidate.id === id);
    if (!policy) throw invalid(`unknown policy ${JSON.stringify(id)}; policies are ${policies.map((p) => p.id).join(', ')}`, { policy: id });
    return policy;
  }

  async decisions(client: SqlClient, caseId: number): Promise<DecisionView[]> {
    const rows = await client.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE case_id = $1 ORDER BY id`,
      [caseId],
    );
    const views: DecisionView[] = [];
    for (const row of rows.rows) views.push(toDecision(row, await this.enforcement.list({ decisionId: Number(row.id) })));
    return views;
  }
}

async function networkMembers(client: SqlClient, networkId: string): Promise<string[]> {
  const result = await client.query<{ external_id: string }>(
    'SELECT a.external_id FROM network_members m JOIN accounts a ON a.id = m.account_id WHERE m.network_id = $1 ORDER BY a.external_id',
    [Number(networkId)],
  );
  return result.rows.map((row) => row.external_id);
}
