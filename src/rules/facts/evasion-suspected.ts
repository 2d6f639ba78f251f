import { z } from 'zod';
import type { DomainEvent } from '../../events/event-log.ts';
import { EVASION_SUSPECTED_EVENT } from '../../graph/detection-service.ts';
import type { FactLookup, FactProvider, FactSpec, RuleEvent } from '../types.ts';
import { ACCOUNT_FACTS, EVENT_FACTS, accountFacts, parsePayload, ruleEvent, subjectOf } from './common.ts';

const payloadSchema = z.object({ account_id: z.string(), removed_account_id: z.string(), score: z.number() });

/** Network detection thinks an account is a removed account come back (emitted by detection runs). */
export class EvasionSuspectedFacts implements FactProvider {
  readonly eventType = EVASION_SUSPECTED_EVENT;
  readonly facts: readonly FactSpec[] = [
    ...EVENT_FACTS,
    { name: 'evasion.score', type: 'number', description: 'how strongly the evidence links the two accounts' },
    { name: 'evasion.removed_account', type: 'string', description: 'the removed account it is thought to be' },
    ...ACCOUNT_FACTS,
  ];

  async toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent> {
    const payload = parsePayload(payloadSchema, event);
    const subject = subjectOf('account', payload.account_id);
    return ruleEvent(event, subject, {
      'evasion.score': payload.score,
      'evasion.removed_account': payload.removed_account_id,
      ...(await accountFacts(lookup, payload.account_id, event.occurredAt)),
    });
  }
}
