/** What the platform can be asked to do. */
/** What the platform can be asked to do; the last three undo the first ones when an appeal reverses a decision. */
export type ActionType =
  | 'remove_content'
  | 'restrict_account'
  | 'suspend_account'
  | 'takedown_network'
  | 'block_identifier'
  | 'restore_content'
  | 'reinstate_account'
  | 'unblock_identifier';
export const ACTION_TYPES: readonly ActionType[] = [
  'remove_content',
  'restrict_account',
  'suspend_account',
  'takedown_network',
  'block_identifier',
  'restore_content',
  'reinstate_account',
  'unblock_identifier',
];

export type TargetKind = 'content' | 'account' | 'network';

/** The kind of target each action type acts on. */
export const TARGET_KIND_OF: Readonly<Record<ActionType, TargetKind>> = {
  remove_content: 'content',
  restrict_account: 'account',
  suspend_account: 'account',
  takedown_network: 'network',
  block_identifier: 'account',
  restore_content: 'content',
  reinstate_account: 'account',
  unblock_identifier: 'account',
};

export type ActionStatus = 'pending' | 'retrying' | 'succeeded' | 'dead' | 'partial' /* parent only: some children dead */;
export const ACTION_STATUSES: readonly ActionStatus[] = ['pending', 'retrying', 'succeeded', 'dead', 'partial'];

export interface ActionReason {
  policy?: string;
  verdict?: string;
  legal_ground?: string;
  note?: string;
}

export interface IdentifierHash {
  kind: string;
  hash: string;
}

export interface ActionRequest {
  type: ActionType;
  target: { kind: TargetKind; id: string };
  /** Who decided: a reviewer username, or `rule:<rule-id>` for automated actions. */
  decidedBy: string;
  automated: boolean;
  caseId?: number;
  decisionId?: number;
  ruleId?: string;
  /** With ruleId, the outbox event the rule acted on; part of the default idempotency key. */
  eventSeq?: number;
  reason: ActionReason;
  /** takedown_network: the member account ids (external ids). Each becomes its own suspend_account child action. */
  members?: string[];
  /** block_identifier: the keyed hashes of the account's identifiers (kind + hash), from account_features. */
  identifiers?: IdentifierHash[];
  /** Caller-chosen idempotency key; default derived from decisionId (or ruleId + eventSeq), type and target. */
  idempotencyKey?: string;
}

export type AttemptOutcome = 'in_flight' | 'succeeded' | 'already_applied' | 'retry' | 'permanent' | 'lease_expired';

export interface ActionAttempt {
  attempt: number;
  at: Date;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number | null;
  errorCode: string | null;
}

export interface ActionRecord {
  id: number;
  type: ActionType;
  target: { kind: TargetKind; id: string };
  parentId: number | null;
  idempotencyKey: string;
  status: ActionStatus;
  /** Delivery attempts made so far (for a network takedown: its members' attempts together). */
  attempts: number;
  /** Times an operator re-queued it after it was dead. */
  requeues: number;
  nextAttemptAt: Date | null;
  /** A status code, 'timeout', a network error code, or a configuration problem; never a response body. */
  lastError: string | null;
  /** The JSON the platform answered on success, size-capped. */
  result: unknown;
  createdAt: Date;
  completedAt: Date | null;
  decidedBy: string;
  automated: boolean;
  caseId: number | null;
  decisionId: number | null;
  ruleId: string | null;
  reason: ActionReason;
  identifiers: IdentifierHash[] | null;
  /** Network takedowns: how many members are in each status. */
  memberStatus?: Partial<Record<ActionStatus, number>>;
  /** Network takedowns, from get(): one suspend_account child per member, with its own status and result. */
  children?: ActionRecord[];
  /** From get(): every delivery attempt, oldest first. */
  attemptLog?: ActionAttempt[];
}

/** What a target is given to carry out one attempt. */
export interface ActionDelivery {
  id: number;
  type: ActionType;
  target: { kind: TargetKind; id: string };
  idempotencyKey: string;
  decidedBy: string;
  automated: boolean;
  reason: ActionReason;
  identifiers?: IdentifierHash[];
  parentId?: number;
  /** 1 for the first attempt; rises with every retry. */
  attempt: number;
}

/**
 * How an attempt went. `retry` is for failures that may pass (timeouts, overload, the
 * platform being down); `permanent` for answers that will not change by asking again.
 */
export type DeliveryOutcome =
  | { kind: 'succeeded'; statusCode?: number; result?: unknown; alreadyApplied?: boolean }
  | { kind: 'retry'; statusCode?: number; errorCode: string; retryAfterMs?: number }
  | { kind: 'permanent'; statusCode?: number; errorCode: string };

/** Something that carries actions out: a webhook, a queue, an internal API. */
export interface ActionTarget {
  deliver(delivery: ActionDelivery, signal: AbortSignal): Promise<DeliveryOutcome>;
}

/** Which target carries out each action type; undefined means none is configured. */
export interface ActionTargets {
  targetFor(type: ActionType): ActionTarget | undefined;
}
