import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import { CASE_DECIDED_EVENT, type CaseService } from '../cases/case-service.ts';
import { NOTICE_QUEUE } from '../cases/queues.ts';
import { conflict, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import { OutboxConsumer } from '../events/outbox-consumer.ts';
import type { SqlClient } from '../store/sql.ts';
import type { TrustedFlaggerService } from './trusted-flaggers.ts';

export const NOTICE_RECEIVED_EVENT = 'notice.received';
export const NOTICE_DECIDED_EVENT = 'notice.decided';
export const NOTICE_TRACKER = 'legal.notice-tracker';

/**
 * Categories whose notices need no notifier name or email: the offences of Articles 3 to 7 of
 * Directive 2011/93/EU (DSA Art. 16(2)(c)).
 */
export const CHILD_ABUSE_CATEGORIES = ['csam', 'child_sexual_exploitation'] as const;

const id = z.string().regex(/^[\x21-\x7e]{1,200}$/);

/** What arrives; completeness is checked separately so that every missing element is named at once. */
export const noticeInputSchema = z.strictObject({
  explanation: z.string().max(10_000).optional().describe('Art. 16(2)(a): why the notifier considers the content illegal'),
  locations: z.array(z.string().max(2048)).max(20).optional().describe('Art. 16(2)(b): the exact URL(s)'),
  category: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a category is 1-64 of a-z 0-9 _ -').describe(`e.g. ${CHILD_ABUSE_CATEGORIES.join(', ')}`),
  notifier: z.strictObject({ name: z.string().max(200).optional(), email: z.string().max(320).optional() }).optional().describe('Art. 16(2)(c): not required for child sexual abuse notices'),
  good_faith: z.boolean().optional().describe('Art. 16(2)(d): the notifier confirms in good faith that the notice is accurate and complete'),
  subject: z.strictObject({ kind: z.enum(['content', 'account']), id }).optional().describe('What the location is on the platform, when the platform knows'),
  trusted_flagger: z.string().max(64).optional().describe('The registered trusted flagger the notice comes from'),
});
export type NoticeInput = z.input<typeof noticeInputSchema>;

export type NoticeChannel = 'api' | 'web_form' | 'trusted_flagger';

export interface NoticeView {
  id: number;
  category: string;
  locations: string[];
  subject: { kind: 'content' | 'account'; id: string } | null;
  trusted_flagger: string | null;
  channel: NoticeChannel;
  received_at: string;
  acknowledged_at: string | null;
  case_id: number | null;
  decided_at: string | null;
  decision: { id: number; verdict: string; policy: string | null; legal_ground: string | null } | null;
}

export interface NoticeOptions {
  /**
   * Patterns that turn a location into a subject, each with a named group `content` or
   * `account`, e.g. `^https://example\.social/p/(?<content>[\w-]+)`.
   */
  locationPatterns?: RegExp[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Location patterns from BULWARK_NOTICE_LOCATION_PATTERNS: regular expressions separated by
 * white space, each with a named group `content` or `account`.
 */
export function locationPatternsFromEnv(value: string | undefined): RegExp[] {
  return (value ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((source) => {
      let pattern: RegExp;
      try {
        pattern = new RegExp(source);
      } catch (error) {
        throw invalid(`BULWARK_NOTICE_LOCATION_PATTERNS: ${JSON.stringify(source)} is not a regular expression (${(error as Error).message})`);
      }
      if (!/\(\?<(content|account)>/.test(source)) throw invalid(`BULWARK_NOTICE_LOCATION_PATTERNS: ${JSON.stringify(source)} needs a named group (?<content>…) or (?<account>…)`);
      return pattern;
    });
}

interface NoticeRow {
  id: number;
  category: string;
  locations: string[];
  subject_kind: 'content' | 'account' | null;
  subject_id: string | null;
  flagger: string | null;
  channel: NoticeChannel;
  received_at: Date;
  acknowledged_at: Date | null;
  case_id: number | null;
  decided_at: Date | null;
  decision_id: number | null;
  verdict: string | null;
  policy: string | null;
  legal_ground: string | null;
}

const NOTICE_SELECT = `SELECT n.id, n.category, n.locations, n.subject_kind, n.subject_id, f.name AS flagger, n.channel, n.received_at, n.acknowledged_at,
  n.case_id, n.decided_at, n.decision_id, d.verdict, d.policy, d.legal_ground
  FROM notices n LEFT JOIN trusted_flaggers f ON f.id = n.trusted_flagger_id LEFT JOIN decisions d ON d.id = n.decision_id`;

const toView = (row: NoticeRow): NoticeView => ({
  id: Number(row.id),
  category: row.category,
  locations: row.locations,
  subject: row.subject_kind && row.subject_id ? { kind: row.subject_kind, id: row.subject_id } : null,
  trusted_flagger: row.flagger,
  channel: row.channel,
  received_at: row.received_at.toISOString(),
  acknowledged_at: row.acknowledged_at?.toISOString() ?? null,
  case_id: row.case_id === null ? null : Number(row.case_id),
  decided_at: row.decided_at?.toISOString() ?? null,
  decision: row.decision_id === null ? null : { id: Number(row.decision_id), verdict: row.verdict!, policy: row.policy, legal_ground: row.legal_ground },
});

/**
 * Notice and action (DSA Art. 16). A notice missing a required element is refused with every
 * missing element named; a complete one is acknowledged at once and becomes a case in the
 * notices queue (trusted flaggers first); the decision is recorded on the notice and
 * announced as notice.decided so the platform can tell the notifier.
 */
export class NoticeService {
  readonly tracker: OutboxConsumer;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly cases: CaseService,
    private readonly flaggers: TrustedFlaggerService,
    private readonly options: NoticeOptions = {},
  ) {
    this.tracker = new OutboxConsumer(sql, events, NOTICE_TRACKER, [CASE_DECIDED_EVENT], {
      batch: (tx, batch) => this.recordDecisions(tx, batch),
    });
  }

  async submit(raw: unknown, channel: Exclude<NoticeChannel, 'trusted_flagger'> = 'api'): Promise<{ notice: NoticeView; acknowledgement: string }> {
    const parsed = noticeInputSchema.safeParse(raw);
    if (!parsed.success) throw invalid(`invalid notice: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'notice'}: ${issue.message}`).join('; ')}`);
    const input = parsed.data;
    const complete = checkCompleteness(input);
    const subject = input.subject ?? this.resolveLocations(complete.locations);
    const { view, published } = await this.sql.transaction(async (tx) => {
      const flagger = input.trusted_flagger ? await this.flaggers.active(input.trusted_flagger, tx) : undefined;
      const inserted = await tx.query<{ id: number }>(
        `INSERT INTO notices (explanation, locations, subject_kind, subject_id, category, notifier_name, notifier_email, good_faith, trusted_flagger_id, channel, acknowledged_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9, now()) RETURNING id`,
        [complete.explanation, complete.locations, subject?.kind ?? null, subject?.id ?? null, input.category, input.notifier?.name?.trim() || null, input.notifier?.email?.trim() || null,
          flagger?.id ?? null, flagger ? 'trusted_flagger' : channel],
      );
      const noticeId = Number(inserted.rows[0].id);
      const published: DomainEvent[] = [];
      if (subject) published.push(...(await this.openCase(tx, noticeId, subject, { category: input.category, flagger: flagger?.name, ...complete })));
      // Ids and categories only: the notifier's name, email and explanation stay in the notice.
      await this.audit.append(tx, { actor: flagger ? `trusted_flagger:${flagger.name}` : `notifier:${channel}`, action: 'notice.received', subject: `notice:${noticeId}`, detail: { category: input.category, resolved: subject !== undefined } });
      published.push(await this.events.append(tx, NOTICE_RECEIVED_EVENT, `notice:${noticeId}`, { notice_id: noticeId, category: input.category, trusted_flagger: flagger?.name ?? null, subject: subject ?? null }));
      return { view: await this.view(tx, noticeId), published };
    });
    this.events.published(published);
    return { notice: view, acknowledgement: `Notice ${view.id} received on ${view.received_at}. We will tell you our decision${complete.hasEmail ? ' by email' : ''}.` };
  }

  /** The platform says what an unresolved notice points at; the case opens then. */
  async resolve(noticeId: number, subject: { kind: 'content' | 'account'; id: string }, actor = 'system'): Promise<NoticeView> {
    if (!/^[\x21-\x7e]{1,200}$/.test(subject.id)) throw invalid('a subject id is 1-200 printable ASCII characters without spaces');
    const { view, published } = await this.sql.transaction(async (tx) => {
      const found = await tx.query<{ subject_id: string | null; category: string; flagger: string | null; explanation: string; locations: string[] }>(
        `SELECT n.subject_id, n.category, f.name AS flagger, n.explanation, n.locations
         FROM notices n LEFT JOIN trusted_flaggers f ON f.id = n.trusted_flagger_id WHERE n.id = $1 FOR UPDATE OF n`,
        [noticeId],
      );
      const row = found.rows[0];
      if (!row) throw notFound(`no notice with id ${noticeId}`);
      if (row.subject_id !== null) throw conflict(`notice ${noticeId} already points at a subject`);
      await tx.query('UPDATE notices SET subject_kind = $2, subject_id = $3 WHERE id = $1', [noticeId, subject.kind, subject.id]);
      const published = await this.openCase(tx, noticeId, subject, { category: row.category, flagger: row.flagger ?? undefined, explanation: row.explanation, locations: row.locations });
      await this.audit.append(tx, { actor, action: 'notice.resolved', subject: `notice:${noticeId}`, detail: { subject } });
      return { view: await this.view(tx, noticeId), published };
    });
    this.events.published(published);
    return view;
  }

  async get(noticeId: number): Promise<NoticeView> {
    return this.view(this.sql, noticeId);
  }

  async list(filter: { unresolved?: boolean; afterId?: number; limit?: number } = {}): Promise<NoticeView[]> {
    const result = await this.sql.query<NoticeRow>(
      `${NOTICE_SELECT} WHERE n.id > $1 AND (NOT $2::boolean OR n.subject_id IS NULL) ORDER BY n.id LIMIT $3`,
      [filter.afterId ?? 0, filter.unresolved === true, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toView);
  }

  private async view(client: SqlClient, noticeId: number): Promise<NoticeView> {
    const result = await client.query<NoticeRow>(`${NOTICE_SELECT} WHERE n.id = $1`, [noticeId]);
    if (!result.rows[0]) throw notFound(`no notice with id ${noticeId}`);
    return toView(result.rows[0]);
  }

  private resolveLocations(locations: string[]): { kind: 'content' | 'account'; id: string } | undefined {
    for (const location of locations) {
      for (const pattern of this.options.locationPatterns ?? []) {
        const groups = pattern.exec(location)?.groups;
        if (groups?.content) return { kind: 'content', id: groups.content };
        if (groups?.account) return { kind: 'account', id: groups.account };
      }
    }
    return undefined;
  }

  /** The reviewer decides on what the notifier said and pointed at; their name and email stay out of the case. */
  private async openCase(
    tx: SqlClient,
    noticeId: number,
    subject: { kind: 'content' | 'account'; id: string },
    { category, flagger, explanation, locations }: { category: string; flagger: string | undefined; explanation: string; locations: string[] },
  ): Promise<DomainEvent[]> {
    const childAbuse = (CHILD_ABUSE_CATEGORIES as readonly string[]).includes(category);
    const opened = await this.cases.openIn(
      tx,
      {
        queue: NOTICE_QUEUE.name,
        subject,
        severity: childAbuse ? 'critical' : 'medium',
        priority: flagger ? 80 : 50,
        trustedFlagger: flagger !== undefined,
        reason: {
          rule: 'notice',
          summary: `notice ${noticeId} (${category})${flagger ? ` from trusted flagger ${flagger}` : ''} about ${locations.slice(0, 3).join(' ')}${locations.length > 3 ? ` and ${locations.length - 3} more` : ''}: "${explanation.slice(0, 500)}"`,
        },
      },
      flagger ? `trusted_flagger:${flagger}` : 'notice',
    );
    await tx.query('UPDATE notices SET case_id = $2 WHERE id = $1', [noticeId, opened.view.id]);
    return [opened.event];
  }

  /**
   * Decisions for a batch: which of their cases have notices waiting is read once for the
   * batch (almost no decision of a surge of matches answers a notice, issue 11). An
   * escalation moves notices to another case, so a batch with one is handled event by event.
   */
  private async recordDecisions(tx: SqlClient, events: DomainEvent[]): Promise<DomainEvent[]> {
    const payloads = events.map((event) => event.payload as { case_id: number | null; verdict: string });
    let waiting: Set<number> | undefined;
    if (!payloads.some((payload) => payload.verdict === 'escalate')) {
      const caseIds = payloads.flatMap((payload) => (payload.case_id === null ? [] : [payload.case_id]));
      if (caseIds.length === 0) return [];
      const rows = await tx.query<{ case_id: number }>('SELECT DISTINCT case_id FROM notices WHERE case_id = ANY($1::bigint[]) AND decided_at IS NULL', [caseIds]);
      waiting = new Set(rows.rows.map((row) => Number(row.case_id)));
    }
    const published: DomainEvent[] = [];
    for (const [i, event] of events.entries()) {
      const caseId = payloads[i].case_id;
      if (waiting && (caseId === null || !waiting.has(Number(caseId)))) continue;
      published.push(...(await this.recordDecision(tx, event)));
    }
    return published;
  }

  /** Follows the notice's case to its decision (through escalations) and announces it. */
  private async recordDecision(tx: SqlClient, event: DomainEvent): Promise<DomainEvent[]> {
    const payload = event.payload as { case_id: number | null; decision_id: number; verdict: string; policy: string | null; legal_ground: string | null };
    if (payload.case_id === null) return [];
    const notices = await tx.query<{ id: number }>('SELECT id FROM notices WHERE case_id = $1 AND decided_at IS NULL', [payload.case_id]);
    if (notices.rows.length === 0) return [];
    if (payload.verdict === 'escalate') {
      const escalated = await tx.query<{ id: number }>('SELECT id FROM cases WHERE escalated_from = $1 ORDER BY id DESC LIMIT 1', [payload.case_id]);
      if (escalated.rows[0]) await tx.query('UPDATE notices SET case_id = $2 WHERE case_id = $1 AND decided_at IS NULL', [payload.case_id, escalated.rows[0].id]);
      return [];
    }
    const published: DomainEvent[] = [];
    for (const notice of notices.rows) {
      await tx.query('UPDATE notices SET decided_at = now(), decision_id = $2 WHERE id = $1', [notice.id, payload.decision_id]);
      published.push(
        await this.events.append(tx, NOTICE_DECIDED_EVENT, `notice:${notice.id}`, {
          notice_id: Number(notice.id),
          decision_id: payload.decision_id,
          verdict: payload.verdict,
          policy: payload.policy,
          legal_ground: payload.legal_ground,
        }),
      );
    }
    return published;
  }
}

/** Every Art. 16(2) element the notice lacks, named together. */
function checkCompleteness(input: z.output<typeof noticeInputSchema>): { explanation: string; locations: string[]; hasEmail: boolean } {
  const missing: string[] = [];
  const problems: string[] = [];
  const explanation = input.explanation?.trim() ?? '';
  if (!explanation) missing.push('explanation (why the content is illegal)');
  const locations = (input.locations ?? []).map((location) => location.trim()).filter(Boolean);
  if (locations.length === 0) missing.push('locations (the exact URL of the content)');
  for (const location of locations) {
    try {
      const url = new URL(location);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`location ${JSON.stringify(location.slice(0, 100))} is not a web address`);
    } catch {
      problems.push(`location ${JSON.stringify(location.slice(0, 100))} is not a URL`);
    }
  }
  const childAbuse = (CHILD_ABUSE_CATEGORIES as readonly string[]).includes(input.category);
  const name = input.notifier?.name?.trim();
  const email = input.notifier?.email?.trim();
  if (!childAbuse && !input.trusted_flagger) {
    if (!name) missing.push("notifier's name");
    if (!email) missing.push("notifier's email");
  }
  if (email && !EMAIL.test(email)) problems.push("the notifier's email is not an email address");
  if (input.good_faith !== true) missing.push('good-faith statement (good_faith: true)');
  if (missing.length > 0 || problems.length > 0) {
    const parts = [...(missing.length ? [`missing ${missing.join(', ')}`] : []), ...problems];
    throw invalid(`the notice is incomplete: ${parts.join('; ')}`, { missing, problems });
  }
  return { explanation, locations, hasEmail: Boolean(email) };
}
