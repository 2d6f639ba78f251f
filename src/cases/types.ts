import type { ActionType } from '../actions/types.ts';
import type { SqlClient } from '../store/sql.ts';

export type SubjectKind = 'content' | 'account' | 'network' | 'appeal' | 'bank_entry' | 'network_candidate';
export const SUBJECT_KINDS: readonly SubjectKind[] = ['content', 'account', 'network', 'appeal', 'bank_entry', 'network_candidate'];
export interface CaseSubject {
  kind: SubjectKind;
  id: string;
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type CaseStatus = 'open' | 'claimed' | 'decided';

/** What a decision can ask the platform to do: the actions stage's action types. */
export type EnforcementType = ActionType;

export interface Policy {
  id: string;
  title: string;
  legal_ground: string;
  /** The subject kinds the policy is meant for (the console's default for such a case); absent: any. */
  subjects?: SubjectKind[];
}

/** What a reviewer may decide on a case, and the enforcement each verdict fires. */
export interface DecisionOption {
  verdict: string;
  label: string;
  /** The console's keyboard shortcut. */
  key: string;
  actions: EnforcementType[];
}

export interface CaseReason {
  rule: string;
  summary: string;
  event_seq: number | null;
  at: string;
}

/**
 * A case as reviewers and the API see it. Its fields are the wire format (snake_case) of
 * the console API and `/v1/cases`, documented in docs/console-api.md.
 */
export interface CaseView {
  id: number;
  queue: string;
  status: CaseStatus;
  subject: CaseSubject;
  severity: Severity;
  priority: number;
  trusted_flagger: boolean;
  minor_involved: boolean;
  network_size: number | null;
  created_at: string;
  due_at: string | null;
  claimed_by: string | null;
  claimed_until: string | null;
  decided_at: string | null;
  escalated_from: number | null;
  reasons: CaseReason[];
}

export interface ContentSection {
  content_id: string;
  account_id: string;
  content_type: string;
  media_available: boolean;
  signals: { signal_type: string; value: string; quality?: number }[];
  /** provenance: the exchange items the matched entry came from, where it has any. */
  matches: { bank: string; signal_type: string; distance: number; tags: string[]; provenance?: { exchange: string; member: string | null; item_key: string; tags: string[] }[] }[];
}

export interface AccountSection {
  account_id: string;
  label: string | null;
  minor: boolean | null;
  risk: number | null;
  network_id: number | null;
  created_at: string | null;
  evasion_of: string | null;
  labels: { label: string; source: string; at: string }[];
}

export interface NetworkSection {
  network_id: number;
  size: number;
  sellers: number;
  buyers: number;
  minors_contacted: number;
  nodes: { id: string; role: 'seller' | 'buyer' | 'member'; label: string | null; score: number; minor: boolean }[];
  edges: { source: string; target: string; kind: string; weight: number }[];
  /** Set when the case is about a candidate from seedless discovery: nobody has confirmed it, and this is the evidence. */
  candidate?: { candidate_id: number; status: string; score: number; text: string; features: { kind: string; value: string; origin: string; members: number; accounts: number; weight: number }[] };
}

export interface ActionSummary {
  id: number;
  type: string;
  target: { kind: string; id: string };
  status: string;
}

export interface DecisionView {
  id: number;
  case_id: number | null;
  verdict: string;
  policy: string | null;
  legal_ground: string | null;
  note: string | null;
  decided_by: string;
  automated: boolean;
  rule: string | null;
  decided_at: string;
  actions: ActionSummary[];
}

/** A bank entry under review (a flood quarantine): the entry, and what it matched lately. */
export interface BankEntrySection {
  entry_id: number;
  bank: string;
  signal_type: string;
  value: string;
  source: string | null;
  tags: string[];
  disabled_until: string | null;
  disabled_reason: string | null;
  /** Distinct uploads matched per hour, newest first. */
  uploads_by_hour: { hour: string; uploads: number }[];
  /** Some of the uploads it matched in those hours, to look at before deciding. */
  sample_content_ids: string[];
}

export interface CaseDetail extends CaseView {
  content: ContentSection | null;
  account: AccountSection | null;
  network: NetworkSection | null;
  bank_entry?: BankEntrySection | null;
  decision_options: DecisionOption[];
  policies: Policy[];
  decisions: DecisionView[];
}

/** An enforcement request, as the actions stage takes it. */
export interface EnforcementRequest {
  type: EnforcementType;
  target: { kind: SubjectKind; id: string };
  decidedBy: string;
  automated: boolean;
  caseId?: number;
  decisionId?: number;
  ruleId?: string;
  reason: { policy?: string; verdict?: string; legal_ground?: string; note?: string };
  members?: string[];
  identifiers?: { kind: string; hash: string }[];
  idempotencyKey?: string;
}

/** The actions stage, as cases need it: record requests in the deciding transaction, read their state. */
export interface EnforcementSink {
  enqueue(tx: SqlClient, request: EnforcementRequest): Promise<{ id: number; type: string; target: { kind: string; id: string }; status: string }>;
  /** enqueue() for several, in order, written together where it can (a rule runner's batch). */
  enqueueMany(tx: SqlClient, requests: EnforcementRequest[]): Promise<{ id: number; type: string; target: { kind: string; id: string }; status: string }[]>;
  list(filter: { decisionId?: number; caseId?: number; limit?: number }): Promise<{ id: number; type: string; target: { kind: string; id: string }; status: string }[]>;
}
