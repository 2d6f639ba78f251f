import type { AuditLog } from '../audit/audit-log.ts';
import { BulwarkError, invalid, notFound } from '../errors.ts';
import type { DomainEvent, EventLog } from '../events/event-log.ts';
import type { SqlClient } from '../store/sql.ts';
import { CASE_SELECT, type CaseRow, caseRank, SEVERITY_RANK, toView } from './case-rows.ts';
import { type QueueRecord, queueRecord } from './queues.ts';
import type { CaseSubjectType } from './subjects/subject-type.ts';
import { type CaseReason, type CaseSubject, type CaseView, SEVERITIES, type Severity, SUBJECT_KINDS, type SubjectKind } from './types.ts';

export const CASE_OPENED_EVENT = 'case.opened';

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

export interface OpenedCase {
  view: CaseView;
  created: boolean;
  event: DomainEvent;
}

/** Cases opened in this process between refreshes of the planner's statistics on cases. */
const ANALYZE_EVERY = 2000;

/** Opens cases for CaseService, keeping the queues it has read and how many cases it opened since the last ANALYZE. */
export class CaseOpener {
  private readonly queueCache = new Map<string, { record: QueueRecord; until: number }>();
  private openedSinceAnalyze = 0;

  constructor(
    private readonly events: EventLog,
    private readonly audit: AuditLog,
    private readonly subjectType: (kind: SubjectKind) => CaseSubjectType,
  ) {}

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

  forgetQueues(): void {
    this.queueCache.clear();
  }

  async openIn(tx: SqlClient, input: OpenCaseInput, actor = 'system'): Promise<OpenedCase> {
    return (await this.openManyIn(tx, [{ input, actor }]))[0];
  }

  /**
   * openIn() for several cases, in order: new cases are written in one statement and their
   * audit entries and events in another (a rule runner's batch of firings, issue 11). A subject
   * that already has an undecided case in the queue (or gets one from an earlier item) gets
   * the reason added to it instead.
   */
  async openManyIn(tx: SqlClient, items: { input: OpenCaseInput; actor: string }[]): Promise<OpenedCase[]> {
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
}

const SUBJECT_ID = /^[\x21-\x7e]{1,200}$/;

function validateOpen(input: OpenCaseInput): void {
  if (!SUBJECT_KINDS.includes(input.subject.kind)) throw invalid(`a case subject is one of ${SUBJECT_KINDS.join(', ')}`);
  if (!SUBJECT_ID.test(input.subject.id)) throw invalid('a subject id is 1-200 printable ASCII characters without spaces');
  if (input.severity !== undefined && !SEVERITIES.includes(input.severity)) throw invalid(`severity is one of ${SEVERITIES.join(', ')}`);
  if (input.priority !== undefined && (!Number.isInteger(input.priority) || input.priority < 0 || input.priority > 100)) throw invalid('priority is an integer from 0 to 100');
  if (!input.reason.rule || !input.reason.summary) throw invalid('a case needs a reason: the rule (or person) and a summary');
}
