import type { z } from 'zod';
import { invalid } from '../../errors.ts';
import type { DomainEvent } from '../../events/event-log.ts';
import type { FactLookup, FactSpec, Facts, RuleEvent, Subject, SubjectKind } from '../types.ts';

/** Facts every event has. */
export const EVENT_FACTS: readonly FactSpec[] = [
  { name: 'event.type', type: 'string', description: 'the event type, e.g. content.matched' },
  { name: 'subject.kind', type: 'string', description: 'what the event is about', values: ['content', 'account', 'network'] },
  { name: 'subject.id', type: 'string', description: 'the id of what the event is about' },
];

/** The context of the event's account, from the account graph. */
export const ACCOUNT_FACTS: readonly FactSpec[] = [
  { name: 'account.id', type: 'string', description: 'the platform’s id of the account' },
  { name: 'account.minor', type: 'boolean', description: 'the platform says the account is a minor’s (null when it has not said)' },
  { name: 'account.label', type: 'string', description: 'the latest label given to the account', values: ['confirmed', 'suspected', 'cleared'] },
  { name: 'account.risk', type: 'number', description: 'risk from the latest network detection run, 0-1 (null when not a lead)' },
  { name: 'account.in_network', type: 'boolean', description: 'a member of a network found by the latest detection run' },
  { name: 'account.network_size', type: 'number', description: 'members of that network (null when in none)' },
  { name: 'account.evasion_suspected', type: 'boolean', description: 'the latest detection run thinks the account is a removed account come back' },
  { name: 'account.age_days', type: 'number', description: 'whole days from the account’s creation (or first sighting) to the event' },
  { name: 'account.verified', type: 'boolean', description: 'the platform verified the account (null when it has not said)' },
];

export const CONTENT_ID_FACT: FactSpec = { name: 'content.id', type: 'string', description: 'the platform’s id of the content' };
export const CONTENT_TYPE_FACT: FactSpec = { name: 'content.type', type: 'string', description: 'the content type the platform gave (photo, video, …)' };

const DAY_MS = 86_400_000;

export function eventFacts(type: string, subject: Subject): Facts {
  return { 'event.type': type, 'subject.kind': subject.kind, 'subject.id': subject.id };
}

/** A rule event with the facts every event has, then the provider's own. */
export function ruleEvent(event: DomainEvent, subject: Subject, facts: Facts): RuleEvent {
  return { seq: event.seq, type: event.type, at: event.occurredAt, subject, facts: { ...eventFacts(event.type, subject), ...facts } };
}

/** Account facts; an account the graph has never seen has its id and nulls, not an error. */
export async function accountFacts(lookup: FactLookup, accountId: string | null, at: Date): Promise<Facts> {
  const known = accountId === null ? undefined : await lookup.account(accountId);
  return {
    'account.id': accountId,
    'account.minor': known?.minor ?? null,
    'account.label': known?.label ?? null,
    'account.risk': known?.risk ?? null,
    'account.in_network': known ? known.networkId !== null : null,
    'account.network_size': known?.networkSize ?? null,
    'account.evasion_suspected': known ? known.evasionSuspected : null,
    'account.age_days': known ? Math.max(0, Math.floor((at.getTime() - known.since.getTime()) / DAY_MS)) : null,
    'account.verified': known?.verified ?? null,
  };
}

/** Reads a payload, refusing one that is not the shape its event type promises. */
export function parsePayload<T>(schema: z.ZodType<T>, event: DomainEvent): T {
  const result = schema.safeParse(event.payload);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length ? issue.path.join('.') : '(payload)';
  throw invalid(`${event.type} event${event.seq ? ` ${event.seq}` : ''} has a bad payload: ${where}: ${issueText(issue)}`, { type: event.type, seq: event.seq, path: where });
}

/** Zod's message, with "missing" for an absent field. */
export const issueText = (issue: z.core.$ZodIssue): string => (issue.code === 'invalid_type' && / received undefined$/.test(issue.message) ? 'missing' : issue.message);

export const subjectOf = (kind: SubjectKind, id: string | number): Subject => ({ kind, id: String(id) });

/** Distinct values in first-seen order. */
export const distinct = (values: Iterable<string>): string[] => [...new Set(values)];
