import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, conflict, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { MediaVault } from '../media/media-vault.ts';
import { blurredPreview, PREVIEW_MEDIA_TYPE } from '../media/preview.ts';
import type { Reviewer, ReviewerService } from '../reviewers/reviewer-service.ts';
import type { SqlClient } from '../store/sql.ts';
import { ESCALATION_QUEUE, maySeeQueue, type QueueRecord, type QueueStats, queueRecord, queueStats } from './queues.ts';
import type { CaseSubjectType } from './subjects/subject-type.ts';
import {
  type CaseDetail,
  type CaseReason,
  type CaseStatus,
  type CaseSubject,
  type CaseView,
  type DecisionView,
  type EnforcementRequest,
  type EnforcementSink,
  type Policy,
  SEVERITIES,
  type Severity,
  SUBJECT_KINDS,
  type SubjectKind,
} from './types.ts';

export const CASE_OPENED_EVENT = 'case.opened';
export const CASE_DECIDED_EVENT = 'case.decided';

export interface OpenCaseInput {
  queue: string;
  subject: CaseSubject;
  severity?: Severity;
  priority?: number;
  reason: { rule: string; summary: string; eventSeq?: number };
  trustedFlagger?: boolean;
  minorInvolved?: boolean;
  networkSize?: number | null;
  /** A reviewer who may not take the case (the one whose decision is appealed). */
  excludedReviewerId?: number;
}

/** What a rule decided on its own: the firing, the case it opened (if any) and the actions it takes. */
export interface AutomatedDecisionInput {
  ruleId: string;
  eventSeq?: number;
  caseId?: number;
  subject: CaseSubject;
  actions: { type: EnforcementRequest['type']; target: CaseSubject }[];
  summary: string;
}

export interface DecideInput {
  verdict: string;
  policy?: string;
  note?: string;
}

export interface CaseServiceOptions {
  /** How long a claimed case stays with a reviewer before it returns to its queue. */
  claimMs: number;
  /** How long a reveal keeps the original open for the one fetch it allows (default DEFAULT_REVEAL_MS). */
  revealMs?: number;
}

export const DEFAULT_REVEAL_MS = 2 * 60_000;

export const DEFAULT_CASE_OPTIONS: CaseServiceOptions = { claimMs: 15 * 60_000 };

/** Used until an operator's rule file declares its own policies. */
export const DEFAULT_POLICIES: Policy[] = [
  { id: 'csam', title: 'Child sexual abuse material', legal_ground: '18 U.S.C. 2258A (US); illegal content under DSA Art. 16 (EU)', subjects: ['content', 'account'] },
  { id: 'child-exploitation-network', title: 'Coordinated child exploitation activity', legal_ground: 'Terms of service; illegal content under DSA Art. 16 (EU)', subjects: ['network'] },
];

/** Actions that restrict content or accounts: a decision firing one must cite a policy. */
export const RESTRICTING_ACTIONS: ReadonlySet<string> = new Set(['remove_content', 'restrict_account', 'suspend_account', 'takedown_network', 'block_identifier']);

/** Cases opened in this process between refreshes of the planner's statistics on cases. */
const ANALYZE_EVERY = 2000;

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * Order within a queue, after trusted-flagger cases (which always come first): severity,
 * then whether a minor is involved, then the rule's priority, then the network's size.
 */
export function caseRank(severity: Severity, priority: number, minorInvolved: boolean, networkSize: number | null): number {
  return SEVERITY_RANK[severity] * 100_000 + (minorInvolved ? 50_000 : 0) + priority * 100 + Math.min(networkSize ?? 0, 99);
}

interface CaseRow {
  id: number;
  queue: string;
  subject_kind: SubjectKind;
  subject_id: string;
  status: CaseStatus;
  severity: Severity;
  priority: number;
  trusted_flagger: boolean;
  minor_involved: boolean;
  network_size: number | null;
  reasons: CaseReason[];
  created_at: Date;
  due_at: Date | null;
  claimed_by: number | null;
  claimed_by_name: string | null;
  claimed_until: Date | null;
  decided_at: Date | null;
  escalated_from: number | null;
  excluded_reviewer_id: number | null;
}

const CASE_SELECT = `SELECT c.id, c.queue, c.subject_kind, c.subject_id, c.status, c.severity, c.priority, c.trusted_flagger, c.minor_involved,
  c.network_size, c.reasons, c.created_at, c.due_at, c.claimed_by, r.username AS claimed_by_name, c.claimed_until, c.decided_at, c.escalated_from,
  c.excluded_reviewer_id
  FROM cases c LEFT JOIN reviewers r ON r.id = c.claimed_by`;

const toView = (row: CaseRow): CaseView => {
  const claimLive = row.status === 'claimed' && row.claimed_until !== null && row.claimed_until.getTime() > Date.now();
  return {
    id: Number(row.id),
    queue: row.queue,
    // A lapsed claim is open again: whoever asks next may take it.
    status: row.status === 'claimed' && !claimLive ? 'open' : row.status,
    subject: { kind: row.subject_kind, id: row.subject_id },
    severity: row.severity,
    priority: row.priority,
    trusted_flagger: row.trusted_flagger,
    minor_involved: row.minor_involved,
    network_size: row.network_size,
    created_at: row.created_at.toISOString(),
    due_at: row.due_at?.toISOString() ?? null,
    claimed_by: claimLive ? row.claimed_by_name : null,
    claimed_until: claimLive ? row.claimed_until!.toISOString() : null,
    decided_at: row.decided_at?.toISOString() ?? null,
    escalated_from: row.escalated_from === null ? null : Number(row.escalated_from),
    reasons: row.reasons,
  };
};

const DECISION_COLUMNS = 'id, case_id, verdict, policy, legal_ground, note, decided_by, automated, rule_id, decided_at';

interface DecisionRow {
  id: number;
  case_id: number | null;
  verdict: string;
  policy: string | null;
  legal_ground: string | null;
  note: string | null;
  decided_by: string;
  automated: boolean;
  rule_id: string | null;
  decided_at: Date;
}

export interface DecisionResult {
  decision: DecisionView;
  case: CaseDetail;
  /** The case opened in the escalation queue, for an escalation. */
  escalatedTo?: number;
}

/**
 * Cases and queues: rules and people open cases, reviewers claim them in priority order,
 * and decide them; a decision fires the subject's enforcement through the actions stage
 * and is written, with who, when, what and why, to the append-only audit log.
 */
export class CaseService {
  private readonly subjects = new Map<SubjectKind, CaseSubjectType>();
  private readonly queueCache = new Map<string, { record: QueueRecord; until: number }>();
  private openedSinceAnalyze = 0;

  constructor(
    private readonly sql: SqlClient,
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly reviewers: ReviewerService,
    private readonly enforcement: EnforcementSink,
    subjectTypes: CaseSubjectType[],
    private readonly policies: () => Policy[],
    private readonly vault: MediaVault | undefined,
    private readonly options: CaseServiceOptions = DEFAULT_CASE_OPTIONS,
  ) {
    for (const type of subjectTypes) this.subjects.set(type.kind, type);
  }

  /**
   * Queues change only when a rule file is activated; a rule runner opening thousands of cases
   * reads each queue's SLA from memory, at most a few seconds stale in other processes.
   */
  private async queue(client: SqlClient, name: string): Promise<QueueRecord | undefined> {
    const cached = this.queueCache.get(name);
    if (cached && cached.until > Date.now()) return cached.record;
    const record = await queueRecord(client, name);
    if (record) this.queueCache.set(name, { record, until: Date.now() + 5000 });
    return record;
  }

  /** Called when this process activates a rule file, so its queues take effect at once. */
  forgetQueues(): void {
    this.queueCache.clear();
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

  async openIn(tx: SqlClient, input: OpenCaseInput, actor = 'system'): Promise<{ view: CaseView; created: boolean; event: DomainEvent }> {
    return (await this.openManyIn(tx, [{ input, actor }]))[0];
  }

  /**
   * openIn() for several cases, in order: new cases are written in one statement and their
   * audit entries and events in another (a rule runner's batch of firings, issue 11). A subject
   * that already has an undecided case in the queue (or gets one from an earlier item) gets
   * the reason added to it instead.
   */
  async openManyIn(tx: SqlClient, items: { input: OpenCaseInput; actor: string }[]): Promise<{ view: CaseView; created: boolean; event: DomainEvent }[]> {
    if (items.length === 0) return [];
    const rows = [];
    for (const [n, { input }] of items.entries()) {
      validateOpen(input);
      const queue = await this.queue(tx, input.queue);
      if (!queue) throw notFound(`no review queue named ${JSON.stringify(input.queue)}; queues come from the active rule file`);
      this.subjectType(input.subject.kind);
      const severity = input.severity ?? 'medium';
      const priority = input.priority ?? 50;
      const size = input.networkSize ?? null;
      const reason: CaseReason = { rule: input.reason.rule, summary: input.reason.summary, event_seq: input.reason.eventSeq ?? null, at: new Date().toISOString() };
      rows.push({
        n, queue: input.queue, subject_kind: input.subject.kind, subject_id: input.subject.id, severity, priority, trusted_flagger: input.trustedFlagger === true,
        minor_involved: input.minorInvolved === true, network_size: size, rank: caseRank(severity, priority, input.minorInvolved === true, size), reasons: [reason],
        sla_minutes: queue.sla_minutes, excluded_reviewer_id: input.excludedReviewerId ?? null,
      });
    }
    // A new case is one row; the partial unique index turns a second signal about the same
    // subject (even one arriving concurrently) into a reason added to the open case.
    const inserted = await tx.query<CaseRow>(
      `INSERT INTO cases (queue, subject_kind, subject_id, severity, priority, trusted_flagger, minor_involved, network_size, rank, reasons, due_at, excluded_reviewer_id)
       SELECT r.queue, r.subject_kind, r.subject_id, r.severity, r.priority, r.trusted_flagger, r.minor_involved, r.network_size, r.rank, r.reasons,
              now() + make_interval(mins => r.sla_minutes), r.excluded_reviewer_id
       FROM jsonb_to_recordset($1::jsonb) AS r(n int, queue text, subject_kind text, subject_id text, severity text, priority integer, trusted_flagger boolean,
              minor_involved boolean, network_size integer, rank integer, reasons jsonb, sla_minutes integer, excluded_reviewer_id integer)
       ORDER BY r.n
       ON CONFLICT (queue, subject_kind, subject_id) WHERE status <> 'decided' DO NOTHING
       RETURNING id, queue, subject_kind, subject_id, status, severity, priority, trusted_flagger, minor_involved, network_size, reasons,
                 created_at, due_at, claimed_by, NULL::text AS claimed_by_name, claimed_until, decided_at, escalated_from, excluded_reviewer_id`,
      [JSON.stringify(rows)],
    );
    const key = (queue: string, kind: string, id: string) => JSON.stringify([queue, kind, id]);
    const fresh = new Map(inserted.rows.map((row) => [key(row.queue, row.subject_kind, row.subject_id), row]));
    const opened: { view: CaseView; created: boolean; reason: CaseReason; actor: string }[] = [];
    for (const [n, { input, actor }] of items.entries()) {
      const reason = rows[n].reasons[0];
      const k = key(input.queue, input.subject.kind, input.subject.id);
      const row = fresh.get(k);
      // The first item of its subject took the new row; a later one adds its reason to it below.
      fresh.delete(k);
      opened.push({ view: toView(row ?? (await this.addReason(tx, input, reason))), created: row !== undefined, reason, actor });
    }
    this.openedSinceAnalyze += inserted.rows.length;
    if (this.openedSinceAnalyze >= ANALYZE_EVERY) {
      // Fresh planner statistics keep "next case" an index walk after a burst of new cases;
      // the embedded store has no autovacuum to refresh them.
      this.openedSinceAnalyze = 0;
      await tx.query('ANALYZE cases');
    }
    const written = await this.audit.appendManyWithEvents(
      tx,
      this.events,
      opened.map(({ view, created, reason, actor }) => ({
        record: { actor, action: created ? 'case.opened' : 'case.reason_added', subject: `case:${view.id}`, detail: { queue: view.queue, subject: view.subject, rule: reason.rule, severity: view.severity, priority: view.priority } },
        event: { type: CASE_OPENED_EVENT, subject: `case:${view.id}`, payload: { case_id: view.id, queue: view.queue, subject: view.subject, created, rule: reason.rule } },
      })),
    );
    return opened.map(({ view, created }, i) => ({ view, created, event: written[i].event }));
  }

  /** Adds a reason to the subject's undecided case in the queue, raising its severity, priority and flags to the new signal's where higher. */
  private async addReason(tx: SqlClient, input: OpenCaseInput, reason: CaseReason): Promise<CaseRow> {
    const severity = input.severity ?? 'medium';
    const priority = input.priority ?? 50;
    const existing = await tx.query<CaseRow>(`${CASE_SELECT} WHERE c.queue = $1 AND c.subject_kind = $2 AND c.subject_id = $3 AND c.status <> 'decided' FOR UPDATE OF c`, [
      input.queue,
      input.subject.kind,
      input.subject.id,
    ]);
    const current = existing.rows[0];
    if (!current) throw new BulwarkError('unavailable', 'the open case of this subject was decided while a reason was being added; retry');
    const merged = {
      severity: SEVERITY_RANK[severity] > SEVERITY_RANK[current.severity] ? severity : current.severity,
      priority: Math.max(priority, current.priority),
      trusted: current.trusted_flagger || input.trustedFlagger === true,
      minor: current.minor_involved || input.minorInvolved === true,
      size: Math.max(current.network_size ?? 0, input.networkSize ?? 0) || current.network_size || input.networkSize || null,
    };
    await tx.query(
      `UPDATE cases SET severity = $2, priority = $3, trusted_flagger = $4, minor_involved = $5, network_size = $6, rank = $7,
         reasons = reasons || $8::jsonb WHERE id = $1`,
      [current.id, merged.severity, merged.priority, merged.trusted, merged.minor, merged.size, caseRank(merged.severity, merged.priority, merged.minor, merged.size), JSON.stringify([reason])],
    );
    return { ...current, severity: merged.severity, priority: merged.priority, trusted_flagger: merged.trusted, minor_involved: merged.minor, network_size: merged.size, reasons: [...current.reasons, reason] };
  }

  async list(filter: { queue?: string; status?: CaseStatus; subject?: CaseSubject; afterId?: number; limit?: number } = {}): Promise<CaseView[]> {
    const result = await this.sql.query<CaseRow>(
      `${CASE_SELECT} WHERE ($1::text IS NULL OR c.queue = $1) AND ($2::text IS NULL OR c.status = $2)
         AND ($3::text IS NULL OR (c.subject_kind = $3 AND c.subject_id = $4)) AND c.id > $5 ORDER BY c.id LIMIT $6`,
      [filter.queue ?? null, filter.status ?? null, filter.subject?.kind ?? null, filter.subject?.id ?? null, filter.afterId ?? 0, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return result.rows.map(toView);
  }

  private async row(client: SqlClient, id: number, lock = false): Promise<CaseRow> {
    if (!Number.isSafeInteger(id) || id < 1) throw notFound(`no case with id ${id}`);
    const result = await client.query<CaseRow>(`${CASE_SELECT} WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`, [id]);
    if (!result.rows[0]) throw notFound(`no case with id ${id}`);
    return result.rows[0];
  }

  /** Refuses a reviewer the cases of queues they may not see, without saying whether the case exists. */
  private async assertMaySee(client: SqlClient, row: CaseRow, reviewer: Reviewer | undefined): Promise<void> {
    if (!reviewer) return;
    const queue = await queueRecord(client, row.queue);
    if (!queue || !maySeeQueue(reviewer, queue)) throw new BulwarkError('forbidden', `case ${row.id} is in a queue you may not see`);
  }

  /** The case with everything a reviewer needs to decide it; without a reviewer, as an API client sees it. */
  async detail(id: number, reviewer?: Reviewer): Promise<CaseDetail> {
    const row = await this.row(this.sql, id);
    await this.assertMaySee(this.sql, row, reviewer);
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
    return claimed === undefined ? undefined : this.describe(this.sql, await this.row(this.sql, claimed));
  }

  /** A lead takes a specific case, or a reviewer takes one they were sent. */
  async claim(id: number, reviewer: Reviewer): Promise<CaseDetail> {
    await this.sql.transaction(async (tx) => {
      const row = await this.row(tx, id, true);
      await this.assertMaySee(tx, row, reviewer);
      const view = toView(row);
      if (view.status === 'decided') throw conflict(`case ${id} is already decided`);
      this.assertNotExcluded(row, reviewer);
      if (view.status === 'claimed' && row.claimed_by !== reviewer.id && reviewer.role === 'reviewer') {
        throw conflict(`case ${id} is held by ${view.claimed_by} until ${view.claimed_until}`);
      }
      await this.take(tx, id, reviewer);
    });
    return this.describe(this.sql, await this.row(this.sql, id));
  }

  /** A lead hands a case to a reviewer who may see its queue; the claim runs from now. */
  async assign(id: number, lead: Reviewer, username: string): Promise<CaseDetail> {
    if (lead.role === 'reviewer') throw new BulwarkError('forbidden', 'only leads and admins assign cases');
    const assignee = await this.reviewers.get(username);
    if (assignee.disabledAt) throw invalid(`reviewer ${assignee.username} is disabled`);
    await this.sql.transaction(async (tx) => {
      const row = await this.row(tx, id, true);
      await this.assertMaySee(tx, row, lead);
      await this.assertMaySee(tx, row, assignee).catch(() => {
        throw invalid(`${assignee.username} may not see queue ${row.queue}`);
      });
      if (row.status === 'decided') throw conflict(`case ${id} is already decided`);
      this.assertNotExcluded(row, assignee);
      await tx.query(`UPDATE cases SET status = 'claimed', claimed_by = $2, claimed_until = now() + make_interval(secs => $3) WHERE id = $1`, [id, assignee.id, this.options.claimMs / 1000]);
      await this.audit.append(tx, { actor: lead.username, action: 'case.assigned', subject: `case:${id}`, detail: { to: assignee.username } });
    });
    return this.describe(this.sql, await this.row(this.sql, id));
  }

  private assertNotExcluded(row: CaseRow, reviewer: Pick<Reviewer, 'id' | 'username'>): void {
    if (row.excluded_reviewer_id !== null && row.excluded_reviewer_id === reviewer.id) {
      throw new BulwarkError('forbidden', `${reviewer.username} made the decision under appeal in case ${row.id}; another reviewer must decide it`);
    }
  }

  private async take(tx: SqlClient, id: number, reviewer: Reviewer): Promise<void> {
    await tx.query(`UPDATE cases SET status = 'claimed', claimed_by = $2, claimed_until = now() + make_interval(secs => $3) WHERE id = $1`, [id, reviewer.id, this.options.claimMs / 1000]);
    await this.audit.append(tx, { actor: reviewer.username, action: 'case.claimed', subject: `case:${id}` });
  }

  async release(id: number, reviewer: Reviewer): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const row = await this.row(tx, id, true);
      await this.assertMaySee(tx, row, reviewer);
      if (row.status !== 'claimed' || row.claimed_by !== reviewer.id) throw conflict(`case ${id} is not held by you`);
      await tx.query(`UPDATE cases SET status = 'open', claimed_by = NULL, claimed_until = NULL WHERE id = $1`, [id]);
      await this.audit.append(tx, { actor: reviewer.username, action: 'case.released', subject: `case:${id}` });
    });
  }

  /**
   * Media is for the reviewer holding the case, and for leads. The claim must still be live:
   * once it lapses the case is back in its queue and its media closes to the former holder.
   */
  private assertMayOpenMedia(row: CaseRow, reviewer: Reviewer): void {
    if (reviewer.role !== 'reviewer') return;
    const holder = row.status === 'claimed' && row.claimed_by === reviewer.id;
    if (!holder) throw new BulwarkError('forbidden', `claim case ${row.id} to see its media`);
    const live = row.claimed_until !== null && row.claimed_until.getTime() > Date.now();
    if (!live) throw new BulwarkError('forbidden', `your claim on case ${row.id} has lapsed and the case is back in its queue; claim it again to see its media`);
  }

  /** The content whose media the case shows, for a reviewer who may open it; not found when Bulwark holds none. */
  private async mediaOf(client: SqlClient, id: number, reviewer: Reviewer): Promise<{ row: CaseRow; contentId: string }> {
    const row = await this.row(client, id);
    await this.assertMaySee(client, row, reviewer);
    this.assertMayOpenMedia(row, reviewer);
    const contentId = await this.subjectType(row.subject_kind).mediaContentId?.(client, row.subject_id);
    if (contentId === undefined || !this.vault || !(await this.vault.has(client, contentId))) throw notFound(`Bulwark holds no media for case ${id}`);
    return { row, contentId };
  }

  /**
   * The reviewer asks to see the case's media as it is: counted as one exposure, logged as
   * `media.revealed` (the only thing that makes media "viewed", e.g. for NCMEC), and opens the
   * original to this reviewer for one fetch within `revealMs`.
   */
  async reveal(id: number, reviewer: Reviewer): Promise<{ exposureToday: number }> {
    return this.sql.transaction(async (tx) => {
      const { row, contentId } = await this.mediaOf(tx, id, reviewer);
      const exposureToday = await this.reviewers.recordExposure(tx, reviewer.id);
      await tx.query(
        `INSERT INTO media_reveals (case_id, reviewer_id, content_id, open_until) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (case_id, reviewer_id) DO UPDATE SET content_id = EXCLUDED.content_id, open_until = EXCLUDED.open_until`,
        [id, reviewer.id, contentId, (this.options.revealMs ?? DEFAULT_REVEAL_MS) / 1000],
      );
      await this.audit.append(tx, {
        actor: reviewer.username,
        action: 'media.revealed',
        subject: `case:${id}`,
        detail: { subject: { kind: row.subject_kind, id: row.subject_id }, content_id: contentId },
      });
      return { exposureToday };
    });
  }

  /**
   * A blurred, greyscale preview of the case's media (see media/preview.ts), for whoever may
   * open it. Logged as `media.previewed`; it is not an exposure and not a view.
   */
  async preview(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    const { contentId } = await this.mediaOf(this.sql, id, reviewer);
    const opened = await this.vault!.open(this.sql, contentId);
    if (!opened) throw notFound(`Bulwark holds no media for case ${id}`);
    const media = await blurredPreview(opened.media);
    await this.sql.transaction((tx) => this.audit.append(tx, { actor: reviewer.username, action: 'media.previewed', subject: `case:${id}`, detail: { content_id: contentId } }));
    return { mediaType: PREVIEW_MEDIA_TYPE, media };
  }

  /**
   * The case's original media, once per reveal: only to a reviewer (or lead) who revealed it in
   * the last `revealMs`, and only while they may still open it. Logged as `media.accessed`.
   */
  async media(id: number, reviewer: Reviewer): Promise<{ mediaType: string; media: Buffer }> {
    const contentId = await this.sql.transaction(async (tx) => {
      const { contentId } = await this.mediaOf(tx, id, reviewer);
      const used = await tx.query('DELETE FROM media_reveals WHERE case_id = $1 AND reviewer_id = $2 AND content_id = $3 AND open_until > now() RETURNING 1', [id, reviewer.id, contentId]);
      if (used.rows.length === 0) throw new BulwarkError('forbidden', `reveal the media of case ${id} first (POST /console/api/cases/${id}/reveal); each reveal opens the original once`);
      await this.audit.append(tx, { actor: reviewer.username, action: 'media.accessed', subject: `case:${id}`, detail: { content_id: contentId } });
      return contentId;
    });
    const opened = await this.vault!.open(this.sql, contentId);
    if (!opened) throw notFound(`Bulwark holds no media for case ${id}`);
    return opened;
  }

  /**
   * Records the reviewer's decision and fires its enforcement, all in one transaction: the
   * decision, the actions (delivered later by the actions stage, never lost), labels,
   * local-bank entries, the audit entry and the event for reporting stages.
   */
  async decide(id: number, reviewer: Reviewer, input: DecideInput): Promise<DecisionResult> {
    const published: DomainEvent[] = [];
    const afterCommit: (() => void)[] = [];
    const result = await this.sql.transaction(async (tx) => {
      const row = await this.row(tx, id, true);
      await this.assertMaySee(tx, row, reviewer);
      const view = toView(row);
      if (view.status === 'decided') throw conflict(`case ${id} is already decided`);
      if (view.status !== 'claimed' || row.claimed_by !== reviewer.id) throw conflict(`case ${id} is not claimed by you; claim it first`);
      this.assertNotExcluded(row, reviewer);
      const type = this.subjectType(row.subject_kind);
      const option = type.options.find((candidate) => candidate.verdict === input.verdict);
      if (!option) throw invalid(`verdict ${JSON.stringify(input.verdict)} is not one of ${type.options.map((o) => o.verdict).join(', ')}`, { verdict: input.verdict });
      const policy = this.policyFor(option.actions.some((action) => RESTRICTING_ACTIONS.has(action)), input.policy);
      const note = input.note?.trim() ? input.note.trim().slice(0, 4000) : undefined;
      const inserted = await tx.query<DecisionRow>(
        `INSERT INTO decisions (case_id, verdict, policy, legal_ground, note, decided_by, reviewer_id, automated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, false) RETURNING ${DECISION_COLUMNS}`,
        [id, option.verdict, policy?.id ?? null, policy?.legal_ground ?? null, note ?? null, reviewer.username, reviewer.id],
      );
      const decisionId = Number(inserted.rows[0].id);
      await tx.query(`UPDATE cases SET status = 'decided', decided_at = now(), claimed_until = NULL WHERE id = $1`, [id]);
      const effects = await type.apply({ tx, caseId: id, decisionId, subject: view.subject, option, policy, decidedBy: reviewer.username, note });
      published.push(...effects.published);
      afterCommit.push(...effects.afterCommit);
      const actions = await this.enforcement.enqueueMany(tx, effects.actions);
      let escalatedTo: number | undefined;
      if (option.verdict === 'escalate') {
        const escalated = await this.openIn(tx, {
          queue: ESCALATION_QUEUE.name,
          subject: view.subject,
          severity: view.severity,
          priority: view.priority,
          trustedFlagger: view.trusted_flagger,
          minorInvolved: view.minor_involved,
          networkSize: view.network_size,
          excludedReviewerId: row.excluded_reviewer_id ?? undefined,
          reason: { rule: 'escalation', summary: `escalated by ${reviewer.username} from case ${id}${note ? `: ${note}` : ''}` },
        }, reviewer.username);
        await tx.query('UPDATE cases SET escalated_from = $2 WHERE id = $1', [escalated.view.id, id]);
        published.push(escalated.event);
        escalatedTo = escalated.view.id;
      }
      await this.audit.append(tx, {
        actor: reviewer.username,
        action: 'case.decided',
        subject: `case:${id}`,
        detail: { decision_id: decisionId, verdict: option.verdict, policy: policy?.id ?? null, actions: actions.map((action) => action.id), ...(escalatedTo ? { escalated_to: escalatedTo } : {}) },
      });
      published.push(
        await this.events.append(tx, CASE_DECIDED_EVENT, `case:${id}`, {
          case_id: id,
          decision_id: decisionId,
          subject: view.subject,
          verdict: option.verdict,
          policy: policy?.id ?? null,
          legal_ground: policy?.legal_ground ?? null,
          decided_by: reviewer.username,
          automated: false,
          actions: actions.map((action) => ({ id: action.id, type: action.type, target: action.target })),
        }),
      );
      return { decision: toDecision(inserted.rows[0], actions), escalatedTo };
    });
    this.events.published(published);
    for (const notify of afterCommit) notify();
    return { ...result, case: await this.describe(this.sql, await this.row(this.sql, id)) };
  }

  /**
   * A rule acting on its own: recorded as a decision by `rule:<id>`, with the event that made
   * it fire, in the transaction that handles that event.
   */
  async decideAutomatically(tx: SqlClient, input: AutomatedDecisionInput): Promise<{ decision: DecisionView; event: DomainEvent }> {
    return (await this.decideManyAutomatically(tx, [input]))[0];
  }

  /**
   * decideAutomatically() for several firings, in order: the decisions in one statement, their
   * actions in one, their audit entries and events in one (a rule runner's batch, issue 11).
   */
  async decideManyAutomatically(tx: SqlClient, inputs: AutomatedDecisionInput[]): Promise<{ decision: DecisionView; event: DomainEvent }[]> {
    if (inputs.length === 0) return [];
    const inserted = await tx.query<DecisionRow>(
      `INSERT INTO decisions (case_id, verdict, decided_by, automated, rule_id, event_seq, note)
       SELECT r.case_id, 'automated', 'rule:' || r.rule_id, true, r.rule_id, r.event_seq, r.note
       FROM jsonb_to_recordset($1::jsonb) AS r(n int, case_id bigint, rule_id text, event_seq bigint, note text) ORDER BY r.n
       RETURNING ${DECISION_COLUMNS}`,
      [JSON.stringify(inputs.map((input, n) => ({ n, case_id: input.caseId ?? null, rule_id: input.ruleId, event_seq: input.eventSeq ?? null, note: input.summary.slice(0, 4000) })))],
    );
    // Identities are drawn in the order rows are inserted: the i-th smallest id is the i-th input's.
    const decisions = inserted.rows.sort((a, b) => Number(a.id) - Number(b.id));
    if (decisions.length !== inputs.length) throw new Error(`${inputs.length} decisions written, ${decisions.length} returned`);
    const requests: EnforcementRequest[] = [];
    for (const [i, input] of inputs.entries()) {
      const decisionId = Number(decisions[i].id);
      for (const action of input.actions) {
        requests.push({
          type: action.type,
          target: action.target,
          decidedBy: `rule:${input.ruleId}`,
          automated: true,
          caseId: input.caseId,
          decisionId,
          ruleId: input.ruleId,
          reason: { verdict: 'automated', note: input.summary },
          ...(action.type === 'takedown_network' ? { members: await networkMembers(tx, action.target.id) } : {}),
          // A replayed event must not act twice.
          idempotencyKey: `rule:${input.ruleId}:${input.eventSeq ?? decisionId}:${action.type}:${action.target.kind}:${action.target.id}`,
        });
      }
    }
    const enqueued = await this.enforcement.enqueueMany(tx, requests);
    let next = 0;
    const acted = inputs.map((input) => enqueued.slice(next, (next += input.actions.length)));
    const written = await this.audit.appendManyWithEvents(
      tx,
      this.events,
      inputs.map((input, i) => {
        const decisionId = Number(decisions[i].id);
        const actions = acted[i];
        return {
          record: {
            actor: `rule:${input.ruleId}`,
            action: 'rule.acted',
            subject: `${input.subject.kind}:${input.subject.id}`,
            detail: { decision_id: decisionId, event_seq: input.eventSeq ?? null, case_id: input.caseId ?? null, actions: actions.map((a) => a.id) },
          },
          event: {
            type: CASE_DECIDED_EVENT,
            subject: input.caseId ? `case:${input.caseId}` : `${input.subject.kind}:${input.subject.id}`,
            payload: {
              case_id: input.caseId ?? null,
              decision_id: decisionId,
              subject: input.subject,
              verdict: 'automated',
              policy: null,
              legal_ground: null,
              decided_by: `rule:${input.ruleId}`,
              automated: true,
              actions: actions.map((action) => ({ id: action.id, type: action.type, target: action.target })),
            },
          },
        };
      }),
    );
    return inputs.map((_, i) => ({ decision: toDecision(decisions[i], acted[i]), event: written[i].event }));
  }

  private policyFor(restricts: boolean, id: string | undefined): Policy | undefined {
    const policies = this.policies();
    if (id === undefined || id === '') {
      if (restricts) throw invalid(`a decision that restricts content or accounts must cite a policy: one of ${policies.map((p) => p.id).join(', ')}`);
      return undefined;
    }
    const policy = policies.find((candidate) => candidate.id === id);
    if (!policy) throw invalid(`unknown policy ${JSON.stringify(id)}; policies are ${policies.map((p) => p.id).join(', ')}`, { policy: id });
    return policy;
  }

  async decisions(client: SqlClient, caseId: number): Promise<DecisionView[]> {
    const rows = await client.query<DecisionRow>(
      `SELECT ${DECISION_COLUMNS} FROM decisions WHERE case_id = $1 ORDER BY id`,
      [caseId],
    );
    const views: DecisionView[] = [];
    for (const row of rows.rows) views.push(toDecision(row, await this.enforcement.list({ decisionId: Number(row.id) })));
    return views;
  }
}

function toDecision(row: DecisionRow, actions: { id: number; type: string; target: { kind: string; id: string }; status: string }[]): DecisionView {
  return {
    id: Number(row.id),
    case_id: row.case_id === null ? null : Number(row.case_id),
    verdict: row.verdict,
    policy: row.policy,
    legal_ground: row.legal_ground,
    note: row.note,
    decided_by: row.decided_by,
    automated: row.automated,
    rule: row.rule_id,
    decided_at: row.decided_at.toISOString(),
    actions: actions.map((action) => ({ id: Number(action.id), type: action.type, target: action.target, status: action.status })),
  };
}

async function networkMembers(client: SqlClient, networkId: string): Promise<string[]> {
  const result = await client.query<{ external_id: string }>(
    'SELECT a.external_id FROM network_members m JOIN accounts a ON a.id = m.account_id WHERE m.network_id = $1 ORDER BY a.external_id',
    [Number(networkId)],
  );
  return result.rows.map((row) => row.external_id);
}

const SUBJECT_ID = /^[\x21-\x7e]{1,200}$/;

function validateOpen(input: OpenCaseInput): void {
  if (!SUBJECT_KINDS.includes(input.subject.kind)) throw invalid(`a case subject is one of ${SUBJECT_KINDS.join(', ')}`);
  if (!SUBJECT_ID.test(input.subject.id)) throw invalid('a subject id is 1-200 printable ASCII characters without spaces');
  if (input.severity !== undefined && !SEVERITIES.includes(input.severity)) throw invalid(`severity is one of ${SEVERITIES.join(', ')}`);
  if (input.priority !== undefined && (!Number.isInteger(input.priority) || input.priority < 0 || input.priority > 100)) throw invalid('priority is an integer from 0 to 100');
  if (!input.reason.rule || !input.reason.summary) throw invalid('a case needs a reason: the rule (or person) and a summary');
}
