import { z } from 'zod';
import { REPORT_RECEIVED_EVENT } from '../../ingest/reports.ts';
import type { DomainEvent } from '../../events/event-log.ts';
import type { FactLookup, FactProvider, FactSpec, RuleEvent } from '../types.ts';
import { ACCOUNT_FACTS, CONTENT_ID_FACT, CONTENT_TYPE_FACT, EVENT_FACTS, accountFacts, parsePayload, ruleEvent, subjectOf } from './common.ts';

export { REPORT_RECEIVED_EVENT };
const REPORTER_KINDS = ['user', 'trusted_flagger'] as const;

const payloadSchema = z.object({
  report_id: z.number(),
  reporter_kind: z.enum(REPORTER_KINDS),
  flagger: z.string().nullish(),
  category: z.string(),
  subject: z.object({ kind: z.enum(['content', 'account']), id: z.string() }),
  content_id: z.string().nullish(),
  account_id: z.string().nullish(),
});

/**
 * A user or a trusted flagger reported content or an account. A report on content also
 * brings its uploader's account facts when the store knows the content.
 */
export class ReportReceivedFacts implements FactProvider {
  readonly eventType = REPORT_RECEIVED_EVENT;
  readonly facts: readonly FactSpec[] = [
    ...EVENT_FACTS,
    { name: 'report.reporter_kind', type: 'string', description: 'who reported', values: REPORTER_KINDS },
    { name: 'report.trusted_flagger', type: 'boolean', description: 'the reporter is a trusted flagger' },
    { name: 'report.flagger', type: 'string', description: 'which trusted flagger (null for user reports)' },
    { name: 'report.category', type: 'string', description: 'the category the reporter chose' },
    { ...CONTENT_ID_FACT, description: 'the reported content (null when the report is about an account alone)' },
    { ...CONTENT_TYPE_FACT, description: 'its content type, when the store knows the content' },
    ...ACCOUNT_FACTS,
  ];

  async toRuleEvent(event: DomainEvent, lookup: FactLookup): Promise<RuleEvent> {
    const payload = parsePayload(payloadSchema, event);
    const subject = subjectOf(payload.subject.kind, payload.subject.id);
    const contentId = payload.content_id ?? (subject.kind === 'content' ? subject.id : null);
    const content = contentId !== null && lookup.content ? await lookup.content(contentId) : undefined;
    const accountId = payload.account_id ?? (subject.kind === 'account' ? subject.id : (content?.accountId ?? null));
    return ruleEvent(event, subject, {
      'report.reporter_kind': payload.reporter_kind,
      'report.trusted_flagger': payload.reporter_kind === 'trusted_flagger',
      'report.flagger': payload.flagger ?? null,
      'report.category': payload.category,
      'content.id': contentId,
      'content.type': content?.type ?? null,
      ...(await accountFacts(lookup, accountId, event.occurredAt)),
    });
  }
}
