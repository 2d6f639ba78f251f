import type { DomainEvent } from '../../events/event-log.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { CaseDetail, CaseSubject, DecisionOption, EnforcementRequest, Policy, SubjectKind } from '../types.ts';

export interface DecisionContext {
  tx: SqlClient;
  caseId: number;
  decisionId: number;
  subject: CaseSubject;
  option: DecisionOption;
  policy: Policy | undefined;
  decidedBy: string;
  note?: string;
}

export interface DecisionEffects {
  actions: EnforcementRequest[];
  /** Domain events appended in the transaction, to publish after commit. */
  published: DomainEvent[];
  /** In-process notifications that must wait for commit (the matcher learning a new bank entry). */
  afterCommit: (() => void)[];
}

/**
 * What a case can be about. Each kind says what reviewers see, what they may decide and
 * what a decision does; a new kind of case (a URL, a live stream) is one new implementation.
 */
export interface CaseSubjectType {
  readonly kind: SubjectKind;
  readonly options: DecisionOption[];
  describe(client: SqlClient, id: string): Promise<Pick<CaseDetail, 'content' | 'account' | 'network' | 'bank_entry'>>;
  /** The content whose media reviewers of this case may reveal, if any. */
  mediaContentId?(client: SqlClient, id: string): Promise<string | undefined>;
  apply(context: DecisionContext): Promise<DecisionEffects>;
}

export const DISMISS: DecisionOption = { verdict: 'dismiss', label: 'Dismiss: not violating', key: 'd', actions: [] };
export const ESCALATE: DecisionOption = { verdict: 'escalate', label: 'Escalate to a lead', key: 'e', actions: [] };

export const noEffects = (): DecisionEffects => ({ actions: [], published: [], afterCommit: [] });

export function request(context: DecisionContext, type: EnforcementRequest['type'], target: EnforcementRequest['target'], extra: Partial<EnforcementRequest> = {}): EnforcementRequest {
  return {
    type,
    target,
    decidedBy: context.decidedBy,
    automated: false,
    caseId: context.caseId,
    decisionId: context.decisionId,
    reason: { verdict: context.option.verdict, policy: context.policy?.id, legal_ground: context.policy?.legal_ground, note: context.note },
    ...extra,
  };
}
