import { z } from 'zod';
import { TERM_MATCHED_EVENT } from '../../ingest/event-ingest.ts';
import type { DomainEvent } from '../../events/event-log.ts';
import type { FactLookup, FactProvider, FactSpec, RuleEvent } from '../types.ts';
import { ACCOUNT_FACTS, EVENT_FACTS, accountFacts, distinct, parsePayload, ruleEvent, subjectOf } from './common.ts';

export { TERM_MATCHED_EVENT };
const SURFACES = ['bio', 'comment', 'search', 'hashtag'] as const;

const payloadSchema = z.object({
  account_id: z.string(),
  matches: z.array(z.object({ list: z.string(), term_id: z.string(), surface: z.enum(SURFACES) })),
});

/** An account's text matched operator term lists (emitted by the platform-event ingest). */
export class TermMatchedFacts implements FactProvider {
  readonly eventType = TERM_MATCHED_EVENT;
  readonly facts: readonly FactSpec[] = [
    ...EVENT_FACTS,
    { name: 'terms.lists', type: 'list', description: 'term lists that matched' },
    { name: 'terms.count', type: 'number', description: 'term matches in the event' },
    { name: 'terms.surfaces', type: 'list', description: 'where the text was', values: SURFACES },
    ...ACCOUNT_FACTS,
  ];

  async toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent> {
    const payload = parsePayload(payloadSchema, event);
    const subject = subjectOf('account', payload.account_id);
    return ruleEvent(event, subject, {
      'terms.lists': distinct(payload.matches.map((match) => match.list)),
      'terms.count': payload.matches.length,
      'terms.surfaces': distinct(payload.matches.map((match) => match.surface)),
      ...(await accountFacts(lookup, payload.account_id, event.occurredAt)),
    });
  }
}
