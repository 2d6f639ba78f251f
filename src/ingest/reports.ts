import { z } from 'zod';
import { invalid } from '../errors.ts';
import type { EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';

export const REPORT_RECEIVED_EVENT = 'report.received';

const id = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'an id is 1-200 printable ASCII characters without spaces');

/** A report the platform forwards: a user's, or a trusted flagger's (which rules put first). */
export const reportSchema = z.strictObject({
  reporter_kind: z.enum(['user', 'trusted_flagger']),
  reporter_id: id.optional().describe("The platform's id of the reporting user; stored only as given"),
  flagger: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/).optional().describe('Which trusted flagger, for trusted_flagger reports'),
  category: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a category is 1-64 of a-z 0-9 _ -'),
  subject: z.strictObject({ kind: z.enum(['content', 'account']), id }),
  account_id: id.optional().describe('The account the reported content belongs to, when known'),
});
export type ReportInput = z.input<typeof reportSchema>;

export interface ReportRecord {
  id: number;
  receivedAt: Date;
}

/** Takes reports about content and accounts and hands them to the rules as report.received events. */
export class ReportService {
  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
  ) {}

  async submit(raw: unknown): Promise<ReportRecord> {
    const parsed = reportSchema.safeParse(raw);
    if (!parsed.success) throw invalid(`invalid report: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'report'}: ${issue.message}`).join('; ')}`);
    const report = parsed.data;
    if (report.reporter_kind === 'trusted_flagger' && !report.flagger) throw invalid('a trusted_flagger report must name the flagger');
    const contentId = report.subject.kind === 'content' ? report.subject.id : undefined;
    const accountId = report.subject.kind === 'account' ? report.subject.id : report.account_id;
    const { record, event } = await this.sql.transaction(async (tx) => {
      const inserted = await tx.query<{ id: number; received_at: Date }>(
        `INSERT INTO reports (reporter_kind, reporter_id, flagger, category, subject_kind, subject_id, content_id, account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, received_at`,
        [report.reporter_kind, report.reporter_id ?? null, report.flagger ?? null, report.category, report.subject.kind, report.subject.id, contentId ?? null, accountId ?? null],
      );
      const reportId = Number(inserted.rows[0].id);
      const event = await this.events.append(tx, REPORT_RECEIVED_EVENT, `${report.subject.kind}:${report.subject.id}`, {
        report_id: reportId,
        reporter_kind: report.reporter_kind,
        flagger: report.flagger ?? null,
        category: report.category,
        subject: report.subject,
        content_id: contentId ?? null,
        account_id: accountId ?? null,
      });
      return { record: { id: reportId, receivedAt: inserted.rows[0].received_at }, event };
    });
    this.events.published([event]);
    return record;
  }
}
