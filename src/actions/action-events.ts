import type { ActionStatus, ActionType } from './types.ts';

export const ACTION_REQUESTED_EVENT = 'action.requested';
export const ACTION_SUCCEEDED_EVENT = 'action.succeeded';
export const ACTION_DEAD_EVENT = 'action.dead';
export const ACTION_PARTIAL_EVENT = 'action.partial';
export const ACTION_REQUEUED_EVENT = 'action.requeued';

/** What later stages (statements of reasons, transparency reports) read from the outbox when an action finishes. */
export interface ActionFinishedPayload {
  action_id: number;
  parent_id: number | null;
  type: ActionType;
  target: { kind: string; id: string };
  case_id: number | null;
  decision_id: number | null;
  status: ActionStatus;
  attempts: number;
}

export const finishedEventType = (status: ActionStatus) =>
  status === 'succeeded' ? ACTION_SUCCEEDED_EVENT : status === 'partial' ? ACTION_PARTIAL_EVENT : ACTION_DEAD_EVENT;
