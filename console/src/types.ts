// The review console API contract (docs/console-api.md), as the browser sees it.

export type Role = 'reviewer' | 'lead' | 'admin';

export interface Reviewer {
  username: string;
  role: Role;
  teams: string[];
}

export interface LoginAnswer {
  reviewer: Reviewer;
  csrf_token: string;
}

export interface SessionAnswer extends LoginAnswer {
  exposure_today: number;
}

export interface Queue {
  name: string;
  description: string;
  team: string | null;
  sla_minutes: number;
  open: number;
  claimed: number;
  overdue: number;
  oldest_open_at: string | null;
  decided_24h: number;
  median_decision_seconds_24h: number | null;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type SubjectKind = 'content' | 'account' | 'network' | 'appeal' | 'bank_entry' | 'network_candidate';
export type NodeRole = 'seller' | 'buyer' | 'member';

export interface CaseReason {
  rule: string;
  summary: string;
  event_seq: number | null;
  at: string;
}

export interface ContentFacts {
  content_id: string;
  account_id: string;
  content_type: string;
  media_available: boolean;
  signals: { signal_type: string; value: string; quality?: number }[];
  matches: { bank: string; signal_type: string; distance: number; tags: string[]; provenance?: { exchange: string; member: string | null; item_key: string; tags: string[] }[] }[];
}

export interface AccountFacts {
  account_id: string;
  label: string | null;
  minor: boolean | null;
  risk: number | null;
  network_id: number | null;
  created_at: string | null;
  evasion_of: string | null;
  labels: { label: string; source: string; at: string }[];
}

export interface NetworkNode {
  id: string;
  role: NodeRole;
  label: string | null;
  score: number;
  minor: boolean;
}

export interface NetworkEdge {
  source: string;
  target: string;
  kind: string;
  weight: number;
}

export interface NetworkFacts {
  network_id: number;
  size: number;
  sellers: number;
  buyers: number;
  minors_contacted: number;
  nodes: NetworkNode[];
  edges: NetworkEdge[];
}

export interface DecisionOption {
  verdict: string;
  label: string;
  key: string;
  actions: string[];
}

export interface Policy {
  id: string;
  title: string;
  legal_ground: string;
  /** The subject kinds the policy is for; absent: any. */
  subjects?: SubjectKind[];
}

export interface DecisionAction {
  id: number;
  type: string;
  target: { kind: string; id: string };
  status: string;
}

export interface Decision {
  id: number;
  case_id: number;
  verdict: string;
  policy: string | null;
  legal_ground: string | null;
  note: string | null;
  decided_by: string;
  automated: boolean;
  rule: string | null;
  decided_at: string;
  actions: DecisionAction[];
}

/** A bank entry the flood guard took out of matching (docs/banks.md). */
export interface BankEntryFacts {
  entry_id: number;
  bank: string;
  signal_type: string;
  value: string;
  source: string | null;
  tags: string[];
  disabled_until: string | null;
  disabled_reason: string | null;
  uploads_by_hour: { hour: string; uploads: number }[];
  sample_content_ids: string[];
}

export interface CaseDetail {
  id: number;
  queue: string;
  status: 'open' | 'claimed' | 'decided';
  subject: { kind: SubjectKind; id: string };
  severity: Severity;
  priority: number;
  trusted_flagger: boolean;
  minor_involved: boolean;
  network_size: number | null;
  created_at: string;
  due_at: string | null;
  claimed_by: string | null;
  claimed_until: string | null;
  reasons: CaseReason[];
  content: ContentFacts | null;
  account: AccountFacts | null;
  network: NetworkFacts | null;
  bank_entry?: BankEntryFacts | null;
  decision_options: DecisionOption[];
  policies: Policy[];
  decisions: Decision[];
}

export interface DecisionAnswer {
  decision: Decision;
  case: CaseDetail;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
}

/** A CyberTipline report as the console shows it to leads: state and completeness, never the document. */
export interface NcmecReportSummary {
  id: number;
  account_id: string | null;
  case_ids: number[];
  status: string;
  files: number;
  files_viewed: number;
  quality: { score: number | null; floor: number; missing: { item: string; detail: string }[] };
  needs_confirmation: boolean;
  confirmed_by: string | null;
  hold_until: string | null;
  ncmec_report_id: string | null;
  created_at: string;
}
