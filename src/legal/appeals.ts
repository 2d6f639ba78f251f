import { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.ts';
import type { CaseService } from '../cases/case-service.ts';
import { APPEAL_QUEUE } from '../cases/queues.ts';
import { RESTRICTING_ACTIONS } from '../cases/case-service.ts';
import type { CaseSubject } from '../cases/types.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';

export const APPEAL_RECEIVED_EVENT = 'appeal.received';
export const APPEAL_RESOLVED_EVENT = 'appeal.resolved';

/** DSA Art. 20(1): at least six months from the decision. */
export const APPEAL_WINDOW_MONTHS = 6;

export const appealInputSchema = z.strictObject({
  decision_id: z.number().int().positive(),
  appellant_id: z.string().regex(/^[\x21-\x7e]{1,200}$/, "the appellant's account id on the platform"),
  statement: z.string().trim().min(1, 'say why the decision is wrong').max(10_000),
});
export type AppealInput = z.input<typeof appealInputSchema>;

export interface AppealView {
  id: number;
  decision_id: number;
  case_id: number | null;
  appellant_id: string;
  received_at: string;
  review_case_id: number | null;
  status: 'pending' | 'upheld' | 'reversed';
  resolved_at: string | null;
  resolved_by: string | null;
}

interface AppealRow {
  id: number;
  decision_id: number;
  case_id: number | null;
  appellant_id: string;
  received_at: Date;
  review_case_id: number | null;
  status: AppealView['status'];
  resolved_at: Date | null;
  resolved_by: string | null;
}

const APPEAL_COLUMNS = 'id, decision_id, case_id, appellant_id, received_at, review_case_id, status, resolved_at, resolved_by';
const toView = (row: AppealRow): AppealView => ({
  id: Number(row.id),
  decision_id: Number(row.decision_id),
  case_id: row.case_id === null ? null : Number(row.case_id),
  appellant_id: row.appellant_id,
  received_at: row.received_at.toISOString(),
  review_case_id: row.review_case_id === null ? null : Number(row.review_case_id),
  status: row.status,
  resolved_at: row.resolved_at?.toISOString() ?? null,
  resolved_by: row.resolved_by,
});

/** The accounts a decision restricted: who may appeal it. */
export async function affectedAccounts(client: SqlClient, decisionId: number): Promise<string[]> {
  const result = await client.query<{ account_id: string }>(
    `SELECT DISTINCT coalesce(c.account_id, a.target_id) AS account_id
     FROM actions a LEFT JOIN content c ON a.target_kind = 'content' AND c.content_id = a.target_id
     WHERE a.decision_id = $1 AND a.target_kind IN ('content', 'account')
       AND a.type IN ('remove_content', 'restrict_account', 'suspend_account', 'block_identifier')`,
    [decisionId],
  );
  return result.rows.map((row) => row.account_id).filter((account): account is string => account !== null);
}

/**
 * Appeals (DSA Art. 20): the user a decision restricted may contest it within six months. The
 * appeal becomes a case for a reviewer other than the one who decided; reversing the decision
 * undoes its actions on the platform.
 */
export class AppealService {
  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly cases: CaseService,
  ) {}

  async submit(raw: unknown): Promise<AppealView> {
    const parsed = appealInputSchema.safeParse(raw);
    if (!parsed.success) throw invalid(`invalid appeal: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'appeal'}: ${issue.message}`).join('; ')}`);
    const input = parsed.data;
    const { view, published } = await this.sql.transaction(async (tx) => {
      const decision = await tx.query<{ id: number; case_id: number | null; reviewer_id: number | null; decided_at: Date; in_window: boolean; severity: string | null; subject_kind: string | null; subject_id: string | null; verdict: string; policy: string | null; decided_by: string }>(
        `SELECT d.id, d.case_id, d.reviewer_id, d.decided_at, d.decided_at > now() - make_interval(months => $2) AS in_window, c.severity, c.subject_kind, c.subject_id,
                d.verdict, d.policy, d.decided_by
         FROM decisions d LEFT JOIN cases c ON c.id = d.case_id WHERE d.id = $1`,
        [input.decision_id, APPEAL_WINDOW_MONTHS],
      );
      const row = decision.rows[0];
      if (!row) throw notFound(`no decision with id ${input.decision_id}`);
      if (!row.in_window) throw invalid(`decision ${input.decision_id} was made on ${row.decided_at.toISOString()}; appeals are taken for ${APPEAL_WINDOW_MONTHS} months`);
      const affected = await affectedAccounts(tx, input.decision_id);
      if (affected.length === 0) throw invalid(`decision ${input.decision_id} restricted no content or account, so there is nothing to appeal`);
      if (!affected.includes(input.appellant_id)) throw new BulwarkError('forbidden', `account ${input.appellant_id} is not affected by decision ${input.decision_id}`);
      const pending = await tx.query('SELECT 1 FROM appeals WHERE decision_id = $1 AND appellant_id = $2 AND status = $3', [input.decision_id, input.appellant_id, 'pending']);
      if (pending.rows.length > 0) throw conflict(`account ${input.appellant_id} already has a pending appeal against decision ${input.decision_id}`);
      const inserted = await tx.query<{ id: number }>('INSERT INTO appeals (decision_id, case_id, appellant_id, statement) VALUES ($1, $2, $3, $4) RETURNING id', [
        input.decision_id,
        row.case_id,
        input.appellant_id,
        input.statement,
      ]);
      const appealId = Number(inserted.rows[0].id);
      const opened = await this.cases.openIn(
        tx,
        {
          queue: APPEAL_QUEUE.name,
          subject: { kind: 'appeal', id: String(appealId) },
          severity: row.severity === 'critical' || row.severity === 'high' ? 'high' : 'medium',
          priority: 50,
          excludedReviewerId: row.reviewer_id ?? undefined,
          // The reviewer of the appeal needs what was decided and what the appellant says.
          reason: {
            rule: 'appeal',
            summary: `appeal by ${input.appellant_id} against decision ${input.decision_id} (${row.verdict}${row.policy ? ` under ${row.policy}` : ''} by ${row.decided_by}${row.subject_kind ? ` on ${row.subject_kind} ${row.subject_id}` : ''}): "${input.statement.slice(0, 500)}"`,
          },
        },
        `appellant:${input.appellant_id}`,
      );
      await tx.query('UPDATE appeals SET review_case_id = $2 WHERE id = $1', [appealId, opened.view.id]);
      await this.audit.append(tx, { actor: `appellant:${input.appellant_id}`, action: 'appeal.received', subject: `appeal:${appealId}`, detail: { decision_id: input.decision_id, review_case_id: opened.view.id } });
      const event = await this.events.append(tx, APPEAL_RECEIVED_EVENT, `appeal:${appealId}`, { appeal_id: appealId, decision_id: input.decision_id, appellant_id: input.appellant_id, review_case_id: opened.view.id });
      return { view: await this.view(tx, appealId), published: [opened.event, event] };
    });
    this.events.published(published);
    return view;
  }

  async get(appealId: number): Promise<AppealView> {
    return this.view(this.sql, appealId);
  }

  async list(filter: { status?: AppealView['status']; afterId?: number; limit?: number } = {}): Promise<AppealView[]> {
    const result = await this.sql.query<AppealRow>(
      `SELECT ${APPEAL_COLUMNS} FROM appeals WHERE id > $1 AND ($2::text IS NULL OR status = $2) ORDER BY id LIMIT $3`,
      [filter.afterId ?? 0, filter.status ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toView);
  }

  private async view(client: SqlClient, appealId: number): Promise<AppealView> {
    const result = await client.query<AppealRow>(`SELECT ${APPEAL_COLUMNS} FROM appeals WHERE id = $1`, [appealId]);
    if (!result.rows[0]) throw notFound(`no appeal with id ${appealId}`);
    return toView(result.rows[0]);
  }
}

/** The subject of the decision an appeal contests, for showing it to the appeal's reviewer. */
export async function appealedSubject(client: SqlClient, appealId: number): Promise<{ decisionId: number; caseId: number | null; subject: CaseSubject | null } | undefined> {
  const result = await client.query<{ decision_id: number; case_id: number | null; subject_kind: CaseSubject['kind'] | null; subject_id: string | null }>(
    'SELECT a.decision_id, a.case_id, c.subject_kind, c.subject_id FROM appeals a LEFT JOIN cases c ON c.id = a.case_id WHERE a.id = $1',
    [appealId],
  );
  const row = result.rows[0];
  if (!row) return undefined;
  return { decisionId: Number(row.decision_id), caseId: row.case_id === null ? null : Number(row.case_id), subject: row.subject_kind && row.subject_id ? { kind: row.subject_kind, id: row.subject_id } : null };
}

