import type { DomainEvent } from '../events/event-log.ts';

/** What a case or an action is about. */
export type SubjectKind = 'content' | 'account' | 'network';
export const SUBJECT_KINDS: readonly SubjectKind[] = ['content', 'account', 'network'];

export interface Subject {
  kind: SubjectKind;
  id: string;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type ActionType = 'remove_content' | 'restrict_account' | 'suspend_account' | 'takedown_network' | 'block_identifier';

/** Each action type and what it acts on when a rule does not say. */
export const ACTION_DEFAULT_TARGETS: Readonly<Record<ActionType, SubjectKind>> = {
  remove_content: 'content',
  restrict_account: 'account',
  suspend_account: 'account',
  takedown_network: 'network',
  block_identifier: 'account',
};
export const ACTION_TYPES = Object.keys(ACTION_DEFAULT_TARGETS) as ActionType[];

// ---- Facts -------------------------------------------------------------------------------

export type FactValue = string | number | boolean | string[] | null;
export type Facts = Record<string, FactValue>;
export type FactType = 'string' | 'number' | 'boolean' | 'list';

export interface FactSpec {
  /** Dotted name rules refer to, e.g. "match.banks". */
  name: string;
  type: FactType;
  description: string;
  /** For closed vocabularies (labels, reporter kinds): the only values a rule may compare with. */
  values?: readonly string[];
}

/** A domain event as rules see it: its subject and flat, typed facts. */
export interface RuleEvent {
  seq?: number;
  type: string;
  at: Date;
  subject: Subject;
  facts: Facts;
}

/** What Bulwark knows about an account, for account facts. */
export interface AccountFacts {
  minor: boolean | null;
  label: 'confirmed' | 'suspected' | 'cleared' | null;
  risk: number | null;
  networkId: number | null;
  networkSize: number | null;
  evasionSuspected: boolean;
  /** When the platform created the account, or when Bulwark first saw it if the platform never said. */
  since: Date;
  verified: boolean | null;
}

/** What Bulwark knows about a detected network, for network facts. */
export interface NetworkFacts {
  id: number;
  size: number;
  status: string;
  /** Members whose account is labelled confirmed now. */
  confirmedMembers: number;
  /** Distinct minor accounts with an interaction to or from any member. */
  minorsContacted: number;
  /** Mean of the members' risk; null when none has one. */
  meanRisk: number | null;
}

/** What a submitted piece of content is, for reports that name it. */
export interface ContentFacts {
  type: string;
  accountId: string;
}

/** Reads the context facts of an event's account, network or content from the store. */
export interface FactLookup {
  account(externalId: string): Promise<AccountFacts | undefined>;
  network(networkId: number): Promise<NetworkFacts | undefined>;
  /** Optional: without it, a report on content knows only the content's id. */
  content?(contentId: string): Promise<ContentFacts | undefined>;
}

/**
 * Turns one event type into a RuleEvent. The extension point of the rules stage: a new
 * event type rules can listen to is one new provider, registered in the registry.
 */
export interface FactProvider {
  readonly eventType: string;
  /** Every fact this provider sets (each RuleEvent it returns has exactly these keys). */
  readonly facts: readonly FactSpec[];
  toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent>;
}

// ---- Rule files --------------------------------------------------------------------------

export interface QueueConfig {
  name: string;
  description: string;
  slaMinutes: number;
  /** Only reviewers of this team (and admins) see the queue. */
  team?: string;
}

export interface Policy {
  id: string;
  title: string;
  legalGround?: string;
  /** The subjects the policy is for; the console starts a case of that kind on it. Absent: any subject. */
  subjects?: SubjectKind[];
}

export type Operator = 'equals' | 'not_equals' | 'in' | 'contains' | 'contains_any' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';

export type OperandValue = string | number | boolean | (string | number)[];

export interface FactTest {
  fact: string;
  op: Operator;
  value: OperandValue;
}

export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | FactTest;

export interface CaseSpec {
  queue: string;
  severity: Severity;
  priority: number;
  /** Absent: the event's own subject. */
  subject?: SubjectKind;
}

export interface ActionSpec {
  type: ActionType;
  target: SubjectKind;
}

export interface Rule {
  id: string;
  description?: string;
  on: string[];
  /** Absent: the rule fires on every event of its types. */
  when?: Condition;
  then: { case?: CaseSpec; actions: ActionSpec[] };
}

export interface RuleSet {
  version: 1;
  queues: QueueConfig[];
  policies: Policy[];
  rules: Rule[];
}

// ---- Evaluation --------------------------------------------------------------------------

export interface Firing {
  rule: string;
  eventSeq?: number;
  eventType: string;
  subject: Subject;
  case?: { queue: string; severity: Severity; priority: number; subject: Subject };
  actions: { type: ActionType; target: Subject }[];
  /** Actions the rule asks for whose target this particular event does not name (e.g. a report without an account). */
  skipped?: { type: ActionType; target: SubjectKind; reason: string }[];
  /** One line: which facts made the rule fire. */
  summary: string;
}

/** Where a rule-file error is: 1-based line and column, and the path inside the file. */
export interface RuleFileError {
  file: string;
  line: number;
  column: number;
  /** e.g. "rules[2].when.all[0]" */
  path: string;
  message: string;
}
