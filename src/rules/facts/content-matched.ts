import { z } from 'zod';
import type { DomainEvent } from '../../events/event-log.ts';
import { CONTENT_MATCHED_EVENT } from '../../ingest/content.ts';
import type { SignalRegistry } from '../../signals/registry.ts';
import type { FactLookup, FactProvider, FactSpec, RuleEvent } from '../types.ts';
import { ACCOUNT_FACTS, CONTENT_ID_FACT, CONTENT_TYPE_FACT, EVENT_FACTS, accountFacts, distinct, parsePayload, ruleEvent, subjectOf } from './common.ts';

const payloadSchema = z.object({
  content_id: z.string(),
  account_id: z.string(),
  content_type: z.string(),
  matches: z.array(z.object({ bank: z.string(), signal_type: z.string(), distance: z.number(), tags: z.array(z.string()).default([]) })),
  suppressed: z.array(z.object({ bank: z.string(), suppressed_by: z.object({ bank: z.string() }) })).default([]),
  retroactive: z.boolean().optional(),
});

/** Uploaded content matched one or more banks (emitted by the content ingest). */
export class ContentMatchedFacts implements FactProvider {
  readonly eventType = CONTENT_MATCHED_EVENT;
  readonly facts: readonly FactSpec[] = [
    ...EVENT_FACTS,
    CONTENT_ID_FACT,
    CONTENT_TYPE_FACT,
    { name: 'match.banks', type: 'list', description: 'banks the content matched' },
    { name: 'match.signal_types', type: 'list', description: 'signal types that matched (pdq, md5, sha256, …)' },
    { name: 'match.exact', type: 'boolean', description: 'some match is on an exact signal type (md5, sha256): the very same file' },
    { name: 'match.min_distance', type: 'number', description: 'the smallest distance among the matches (0 for exact ones)' },
    { name: 'match.tags', type: 'list', description: 'tags of the matched bank entries' },
    { name: 'match.suppressed_by', type: 'list', description: 'allow banks that set aside some of the matches (docs/banks.md)' },
    {
      name: 'match.retroactive',
      type: 'boolean',
      description: 'the content was stored before the entries it matched arrived, and matched them later (retroactive matching), not at upload',
    },
    ...ACCOUNT_FACTS,
  ];

  /** @param signals tells exact signal types (md5, sha256) from distance ones (pdq). */
  constructor(private readonly signals: SignalRegistry) {}

  private isExact(signalType: string): boolean {
    return this.signals.names.includes(signalType) && this.signals.get(signalType).matching === 'exact';
  }

  async toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent> {
    const payload = parsePayload(payloadSchema, event);
    const subject = subjectOf('content', payload.content_id);
    const at = event.occurredAt;
    const matches = payload.matches;
    return ruleEvent(event, subject, {
      'content.id': payload.content_id,
      'content.type': payload.content_type,
      'match.banks': distinct(matches.map((match) => match.bank)),
      'match.signal_types': distinct(matches.map((match) => match.signal_type)),
      'match.exact': matches.some((match) => this.isExact(match.signal_type)),
      'match.min_distance': matches.length ? Math.min(...matches.map((match) => match.distance)) : null,
      'match.tags': distinct(matches.flatMap((match) => match.tags)),
      'match.suppressed_by': distinct(payload.suppressed.map((match) => match.suppressed_by.bank)),
      'match.retroactive': payload.retroactive === true,
      ...(await accountFacts(lookup, payload.account_id, at)),
    });
  }
}
