import { invalid } from '../errors.ts';
import { ACTION_TYPES, type ActionReason, type ActionRequest, type ActionType, type IdentifierHash, TARGET_KIND_OF, type TargetKind } from './types.ts';

/** An action request checked and completed: the shape that is stored. */
export interface ValidActionRequest {
  type: ActionType;
  target: { kind: TargetKind; id: string };
  decidedBy: string;
  automated: boolean;
  caseId: number | null;
  decisionId: number | null;
  ruleId: string | null;
  reason: ActionReason;
  members: string[] | null;
  identifiers: IdentifierHash[] | null;
  idempotencyKey: string;
}

const TARGET_ID = /^[\x21-\x7e]{1,200}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,300}$/;
const IDENTIFIER_KIND = /^[a-z0-9_:]{1,64}$/;
// Keyed hashes only: a raw e-mail address or phone number must never reach the platform from here.
const IDENTIFIER_HASH = /^[0-9a-f]{16,128}$/;
const REASON_FIELDS = ['policy', 'verdict', 'legal_ground', 'note'] as const;
const MAX_MEMBERS = 10_000;
const MAX_IDENTIFIERS = 1_000;

const positiveId = (value: unknown, field: string): number | null => {
  if (value === undefined || value === null) return null;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw invalid(`${field} is a positive integer`, { field });
  return value as number;
};

const text = (value: unknown, field: string, max: number): string => {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw invalid(`${field} is a non-empty string of at most ${max} characters`, { field });
  return value;
};

/**
 * The idempotency key an action gets when the caller gives none: the same decision (or the
 * same rule firing on the same event) asking for the same thing against the same target
 * always yields the same key, so a repeated request is recognised.
 */
export function defaultIdempotencyKey(request: Pick<ActionRequest, 'type' | 'target' | 'decisionId' | 'ruleId' | 'eventSeq'>): string {
  const what = `${request.type}:${request.target.kind}:${request.target.id}`;
  if (request.decisionId !== undefined && request.decisionId !== null) return `decision:${request.decisionId}:${what}`;
  if (request.ruleId && request.eventSeq !== undefined && request.eventSeq !== null) return `rule:${request.ruleId}:event:${request.eventSeq}:${what}`;
  throw invalid('an action needs an idempotency key: give idempotencyKey, decisionId, or ruleId with eventSeq');
}

export function validateActionRequest(request: ActionRequest): ValidActionRequest {
  if (typeof request !== 'object' || request === null) throw invalid('an action request is an object');
  if (!ACTION_TYPES.includes(request.type)) throw invalid(`type is one of ${ACTION_TYPES.join(', ')}`, { field: 'type' });
  const kind = TARGET_KIND_OF[request.type];
  if (request.target?.kind !== kind) throw invalid(`${request.type} acts on a ${kind}`, { field: 'target.kind' });
  if (typeof request.target.id !== 'string' || !TARGET_ID.test(request.target.id)) throw invalid('target.id is 1-200 printable ASCII characters without spaces', { field: 'target.id' });
  const decidedBy = text(request.decidedBy, 'decidedBy', 200);
  if (typeof request.automated !== 'boolean') throw invalid('automated is true or false', { field: 'automated' });
  const caseId = positiveId(request.caseId, 'caseId');
  const decisionId = positiveId(request.decisionId, 'decisionId');
  positiveId(request.eventSeq, 'eventSeq');
  const ruleId = request.ruleId === undefined || request.ruleId === null ? null : text(request.ruleId, 'ruleId', 200);

  if (typeof request.reason !== 'object' || request.reason === null || Array.isArray(request.reason)) throw invalid('reason is an object', { field: 'reason' });
  const reason: ActionReason = {};
  for (const field of REASON_FIELDS) {
    const value = request.reason[field];
    if (value === undefined || value === null) continue;
    reason[field] = text(value, `reason.${field}`, field === 'note' ? 2000 : 200);
  }

  let members: string[] | null = null;
  if (request.type === 'takedown_network') {
    if (!Array.isArray(request.members) || request.members.length === 0) throw invalid('a network takedown names its members', { field: 'members' });
    if (request.members.length > MAX_MEMBERS) throw invalid(`a network takedown has at most ${MAX_MEMBERS} members`, { field: 'members' });
    for (const member of request.members) {
      if (typeof member !== 'string' || !TARGET_ID.test(member)) throw invalid('each member is an account id of 1-200 printable ASCII characters', { field: 'members' });
    }
    members = [...new Set(request.members)];
  } else if (request.members !== undefined) {
    throw invalid('members belong to takedown_network only', { field: 'members' });
  }

  let identifiers: IdentifierHash[] | null = null;
  if (request.type === 'block_identifier' || request.type === 'unblock_identifier') {
    // The platform holds the account's identifiers itself; Bulwark's hashes (possibly none
    // yet) only add what it has seen, so an empty list is still a valid request.
    if (request.identifiers !== undefined && !Array.isArray(request.identifiers)) throw invalid('identifiers is a list of { kind, hash }', { field: 'identifiers' });
    if ((request.identifiers ?? []).length > MAX_IDENTIFIERS) throw invalid(`at most ${MAX_IDENTIFIERS} identifiers`, { field: 'identifiers' });
    const seen = new Set<string>();
    identifiers = [];
    for (const identifier of request.identifiers ?? []) {
      if (typeof identifier?.kind !== 'string' || !IDENTIFIER_KIND.test(identifier.kind)) throw invalid('identifier kind is lower-case letters, digits, _ and :', { field: 'identifiers' });
      if (typeof identifier.hash !== 'string' || !IDENTIFIER_HASH.test(identifier.hash)) throw invalid('identifier hash is the keyed hash (lower-case hex), never the identifier itself', { field: 'identifiers' });
      const key = `${identifier.kind}\u0000${identifier.hash}`;
      if (seen.has(key)) continue;
      seen.add(key);
      identifiers.push({ kind: identifier.kind, hash: identifier.hash });
    }
  } else if (request.identifiers !== undefined) {
    throw invalid('identifiers belong to block_identifier and unblock_identifier only', { field: 'identifiers' });
  }

  const idempotencyKey = request.idempotencyKey === undefined ? defaultIdempotencyKey(request) : request.idempotencyKey;
  if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)) throw invalid('idempotencyKey is 1-300 printable ASCII characters without spaces', { field: 'idempotencyKey' });

  return { type: request.type, target: { kind, id: request.target.id }, decidedBy, automated: request.automated, caseId, decisionId, ruleId, reason, members, identifiers, idempotencyKey };
}
