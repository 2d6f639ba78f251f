import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { MediaVault } from '../media/media-vault.ts';
import type { Reviewer, ReviewerService } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';
import { assertMaySee, assertNotExcluded } from './case-access.ts';
import { type AutomatedDecisionInput, CaseDecider, type DecideInput, type DecisionResult } from './case-decisions.ts';
import { CaseMedia, DEFAULT_REVEAL_MS } from './case-media.ts';
import { CaseOpener, type OpenCaseInput, type OpenedCase } from './case-opening.ts';
import { CASE_SELECT, type CaseRow, caseRow, toView } from './case-rows.ts';
import { maySeeQueue, type QueueStats, queueRecord, queueStats } from './queues.ts';
import type { CaseSubjectType } from './subjects/subject-type.ts';
import type { CaseDetail, CaseStatus, CaseSubject, CaseView, DecisionView, EnforcementSink, Policy, SubjectKind } from './types.ts';

export { type AutomatedDecisionInput, CASE_DECIDED_EVENT, type DecideInput, type DecisionResult, DEFAULT_POLICIES, RESTRICTING_ACTIONS } from './case-decisions.ts';
export { DEFAULT_REVEAL_MS } from './case-media.ts';
export { CASE_OPENED_EVENT, type OpenCaseInput } from './case-opening.ts';
export { caseRank } from './case-rows.ts';

export interface CaseServiceOptions {
  /** How long a claimed case stays with a reviewer before it returns to its queue. */
  claimMs: number;
  /** How long a reveal keeps the original open for the one fetch it allows (default DEFAULT_REVEAL_MS). */
  revealMs?: number;
}

export const DEFAULT_CASE_OPTIONS: CaseServiceOptions = { claimMs: 15 * 60_000 };

/**
 * Cases and queues: rules and people open cases, reviewers claim them in priority order,
 * and decide them; a decision fires the subject's enforcement through the actions stage
 * and is written, with who, when, what and why, to the append-only audit log.
 */
export class CaseService {
  private readonly subjects = new Map<SubjectKind, CaseSubjectType>();
  private readonly opener: CaseOpener;
  private readonly decider: CaseDecider;
  private readonly caseMedia: CaseMedia;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly reviewers: ReviewerService,
    enforcement: EnforcementSink,
    subjectTypes: CaseSubjectType[],
    private readonly policies: () => Policy[],
    vault: MediaVault | undefined,
    private readonly options: CaseServiceOptions = DEFAULT_CASE_OPTIONS,
  ) {
    for (const type of subjectTypes) this.subjects.set(type.kind, type);
    const subjectType = (kind: SubjectKind) => this.subjectType(kind);
    this.opener = new CaseOpener(events, audit, subjectType);
    this.decider = new CaseDecider(sql, events, audit, enforcement, policies, subjectType, this.opener);
    this.caseMedia = new CaseMedia(sql, audit, reviewers, vault, subjectType, options.revealMs ?? DEFAULT_REVEAL_MS);
  }

  /** Called when this process activates a rule file, so its queues take effect at once. */
  forgetQueues(): void {
    this.opener.forgetQueues();
  }

  /** Adds a kind of case after construction (one whose type needs this service, like appeals). */
  registerSubject(type: CaseSubjectType): void {
    this.subjects.set(type.kind, type);
  }

  private subjectType(kind: SubjectKind): CaseSubjectType {
    const type = this.subjects.get(kind);
    if (!type) throw invalid(`cases about ${kind} are not supported`);
    return type;
  }

  /** Opens a case, or adds the reason to the undecided case the subject already has in that queue. */
  async open(input: OpenCaseInput, actor = 'system'): Promise<CaseView> {
    const { view, event } = await this.sql.transaction((tx) => this.openIn(tx, input, actor));
    this.events.published([event]);
    return view;
  }

  async openIn(tx: SqlClient, input: OpenCaseInput, actor = 'system'): Promise<OpenedCase> {
    return this.opener.openIn(tx, input, actor);
  }

  async openManyIn(tx: SqlClient, items: { input: OpenCaseInput; actor: string }[]): Promise<OpenedCase[]> {
    return this.opener.openManyIn(tx, items);
  }

  async list(filter: { queue?: string; status?: CaseStatus; subject?: CaseSubject; afterId?: number; limit?: number } = {}): Promise<CaseView[]> {
    const result = await this.sql.query<CaseRow>(
      `${CASE_SELECT} WHERE ($1::text IS NULL OR c.queue = $1) AND ($2::text IS NULL OR c.status = $2)
         AND ($3::text IS NULL OR (c.subject_kind = $3 AND c.subject_id = $4)) AND c.id > $5 ORDER BY c.id LIMIT $6`,
      [filter.queue ?? null, filter.status ?? null, filter.subject?.kind ?? null, filter.subject?.id ?? null, filter.afterId ?? 0, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toView);
  }

  /** The case with everything a reviewer needs to decide it; without a reviewer, as an API client sees it. */
  async detail(id: number, reviewer?: Reviewer): Promise<CaseDetail> {
    const row = await caseRow(this.sql, id);
    await assertMaySee(this.sql, row, reviewer);
    return this.describe(this.sql, row);
  }

  /** What reviewers see of a subject, by its kind (an appeal shows the subject of the decision it contests). */
  async subjectSections(client: SqlClient, subject: CaseSubject): Promise<Pick<CaseDetail, 'content' | 'account' | 'network' | 'bank_entry'>> {
    return this.subjectType(subject.kind).describe(client, subject.id);
  }

  private async describe(client: SqlClient, row: CaseRow): Promise<CaseDetail> {
    const type = this.subjectType(row.subject_kind);
    const sections = await type.describe(client, row.subject_id);
    return { ...toView(row), ...sections, decision_options: type.options, policies: this.policies(), decisions: await this.decisions(client, Number(row.id)) };
  }

  async queues(reviewer?: Reviewer): Promise<QueueStats[]> {
    const all = await queueStats(this.sql);
    return reviewer ? all.filter((queue) => maySeeQueue(reviewer, queue)) : all;
  }

  /**
   * Gives the reviewer the most urgent case of the queue: the one they already hold, else the
   * first open one (or one whose claim lapsed). Undefined when the queue is empty.
   */
  async claimNext(reviewer: Reviewer, queueName: string): Promise<CaseDetail | undefined> {
    const queue = await queueRecord(this.sql, queueName);
    if (!queue) throw notFound(`no review queue named ${JSON.stringify(queueName)}`);
    if (!maySeeQueue(reviewer, queue)) throw new BulwarkError('forbidden', `queue ${queueName} is not open to you`);
    const claimed = await this.sql.transaction(async (tx) => {
      const held = await tx.query<{ id: number }>(
        `SELECT id FROM cases WHERE queue = $1 AND status = 'claimed' AND claimed_by = $2 AND claimed_until > now() ORDER BY claimed_until LIMIT 1`,
        [queueName, reviewer.id],
      );
      let id = held.rows[0]?.id;
      if (id === undefined) {
        const next = await tx.query<{ id: number }>(
          `SELECT id FROM cases WHERE queue = $1 AND (status = 'open' OR (status = 'claimed' AND claimed_until <= now()))
             AND (excluded_reviewer_id IS NULL OR excluded_reviewer_id <> $2)
           ORDER BY trusted_flagger DESC, rank DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [queueName, reviewer.id],
        );
        id = next.rows[0]?.id;
        if (id === undefined) return undefined;
        await this.take(tx, Number(id), reviewer);
      }
      return Number(id);
    });
    // Described after commit: the actions stage reads through its own connection.
    return claimed === undefined ? undefined : this.describe(this.sql, await caseRow(this.sql, claimed));
  }

  /** A lead takes a specific case, or a reviewer takes one they were sent. */
  async claim(id: number, reviewer: Reviewer): Promise<CaseDetail> {
    await this.sql.transaction(async (tx) => {
      const row = await caseRow(tx, id, true);
      await assertMaySee(tx, row, reviewer);
      const view = toView(row);
      if (view.status === 'decided') throw conflict(`case ${id} is already decided`);
      assertNotExcluded(row, reviewer);
      if (view.status === 'claimed' && row.claimed_by !== reviewer.id && reviewer.role === 'reviewer') {
        throw conflict(`case ${id} is held by ${view.claimed_by} until ${view.claimed_until}`);
      }
      await this.take(tx, id, reviewer);
    });
    return this.describe(this.sql, await caseRow(this.sql, id));
  }

  /** A lead hands a case to a reviewer who may see its queue; the claim runs from now. */
  async assign(id: number, lead: Reviewer, username: string): Promise<CaseDetail> {
    if (lead.role === 'reviewer') throw new BulwarkError('forbidden', 'only leads and admins assign cases');
    const assignee = await this.reviewers.get(username);
    if (assignee.disabledAt) throw invalid(`reviewer ${assignee.username} is disabled`);
    await this.sql.transaction(async (tx) => {
      const row = await caseRow(tx, id, true);
      await assertMaySee(tx, row, lead);
      await assertMaySee(tx, row, assignee).catch(() => {
        throw invalid(`${assignee.username} may not see queue ${row.queue}`);
      });
      if (row.status === 'decided') throw conflict(`case ${id} is already decided`);
      assertNotExcluded(row, assignee);
      await tx.query(`UPDATE cases SET status = 'claimed', claimed_by = $2, claimed_until = now() + make_interval(secs => $3) WHERE id = $1`, [id, assignee.id, this.options.claimMs / 1000]);
      await this.audit.append(tx, { actor: lead.username, action: 'case.assigned', subject: `case:${id}`, detail: { to: assignee.username } });
    });
    return this.describe(this.sql, await caseRow(this.sql, id));
  }

  private async take(tx: SqlClient, id: number, reviewer: Reviewer): Promise<void> {
    await tx.query(`UPDATE cases SET status = 'claimed', claimed_by = $2, claimed_until = now() + make_interval(secs => $3) WHERE id = $1`, [id, reviewer.id, this.options.claimMs / 1000]);
    await this.audit.append(tx, { actor: reviewer.username, action: 'case.claimed', subject: `case:${id}` });
  }

  async release(id: number, reviewer: Reviewer): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const row = await caseRow(tx, id, true);
      await assertMaySee(tx, row, reviewer);
      if (row.status !== 'claimed' || row.claimed_by !== reviewer.id) throw conflict(`case ${id} is not held by you`);
      await tx.query(`UPDATE cases SET status = 'open', claimed_by = NULL, claimed_until = NULL WHERE id = $1`, [id]);
      await this.audit.append(tx, { actor: reviewer.username, action: 'case.released', subject: `case:${id}` });
    });
  }

  async reveal(id: number, reviewer: Reviewer): Promise<{ exposureToday: number }> {
    return this.caseMedia.reveal(id, reviewer);
  }

  async preview(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    return this.caseMedia.preview(id, reviewer);
  }

  async media(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    return this.caseMedia.media(id, reviewer);
  }

  async decide(id: number, reviewer: Reviewer, input: DecideInput): Promise<DecisionResult> {
    const result = await this.decider.decide(id, reviewer, input);
    return { ...result, case: await this.describe(this.sql, await caseRow(this.sql, id)) };
  }

  /**
   * A rule acting on its own: recorded as a decision by `rule:<id>`, with the event that made
   * it fire, in the transaction that handles that event.
   */
  async decideAutomatically(tx: SqlClient, input: AutomatedDecisionInput): Promise<{ decision: DecisionView; event: DomainEvent }> {
    return (await this.decideManyAutomatically(tx, [input]))[0];
  }

  async decideManyAutomatically(tx: SqlClient, inputs: AutomatedDecisionInput[]): Promise<{ decision: DecisionView; event: DomainEvent }[]> {
    return this.decider.decideManyAutomatically(tx, inputs);
  }

  async decisions(client: SqlClient, caseId: number): Promise<DecisionView[]> {
    return this.decider.decisions(client, caseId);
  }
}
