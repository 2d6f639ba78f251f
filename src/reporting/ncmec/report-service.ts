import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.ts';
import { CASE_DECIDED_EVENT } from '../../cases/case-service.ts';
import { BulwarkError, conflict, notFound } from '../../errors.ts';
import type { EventLog } from '../../events/event-log.ts';
import { OutboxConsumer } from '../../events/outbox-consumer.ts';
import { MediaVault } from '../../media/media-vault.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { AccountDetailsSource } from './account-details.ts';
import { CyberTiplineClient, type CyberTiplineApi, NcmecApiError } from './client.ts';
import type { NcmecConfig } from './config.ts';
import { buildFileDetailsDocument, type ReportFile } from './report-builder.ts';
import { type HistoryEntry, ReportDrafter } from './report-drafts.ts';
import { type NcmecFigures, ncmecFigures } from './report-stats.ts';
import { iso, NCMEC_REPORT_STATUSES, type NcmecReportStatus, type NcmecReportView, type ReportRow, reportView } from './report-view.ts';
import { PreSubmission } from './pre-submission.ts';
import { type ReportHistoryEntry, reportHistory } from './report-history.ts';
import { REPORT } from './schema.ts';
import { CyberTiplineSchemaSource } from './schema-source.ts';
import { validateDocument } from './validator.ts';
import { serializeXml } from './xml.ts';
import { WebhookAccountDetails } from './webhook-account-details.ts';

export { NCMEC_REPORT_STATUSES, type NcmecReportStatus, type NcmecReportView };

/** The durable consumer that files reports for confirmed cases of the configured policies. */
export const NCMEC_AUTO_REPORTER = 'reporting.ncmec-auto';

export interface NcmecDocument {
  attempt: number;
  kind: 'report' | 'file_details';
  ncmec_report_id: string | null;
  ncmec_file_id: string | null;
  content_id: string | null;
  document: string;
  sent_at: string;
}

export interface NcmecAttemptReport {
  reportId: number;
  caseId: number;
  attempt: number;
  outcome: 'submitted' | 'failed' | 'retracted';
  ncmecReportId: string | null;
  error: string | null;
}

export interface NcmecReportServiceOptions {
  config: NcmecConfig;
  /** Opens the sealed media to upload (BULWARK_MEDIA_KEY); without it reports carry hashes only. */
  mediaKey?: string;
  /** The ISPWS transport; by default an HTTP client built from the configuration's URL and credentials. */
  api?: CyberTiplineApi;
  now?: () => Date;
  /** First retry delay (default 30 s), doubling per attempt up to maxDelayMs (default 1 h). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claimed report stays with one process before another may take it over (default 10 min). */
  leaseMs?: number;
  /** ISPWS call timeout (default 60 s). */
  timeoutMs?: number;
  /** Where an ISPWS call's deadline comes from instead of timeoutMs (CyberTiplineClientOptions.deadline). */
  deadline?: () => AbortSignal;
  random?: () => number;
  onError?: (error: unknown) => void;
  /** Hears every finished attempt: ids and codes only. */
  onAttempt?: (report: NcmecAttemptReport) => void;
  /** The platform's account-details callback; by default built from config.accountDetails. */
  accountDetails?: AccountDetailsSource;
  /** Operator-facing lines (a schema fetch that failed, xmllint missing); never report contents. Default stderr. */
  log?: (line: string) => void;
}

/** Events of a report's own record that the audit log also holds (as ncmec.report_<event>, with who did it). */
const AUDITED_EVENTS = new Set(['created', 'submitted', 'supplemented']);

class LeaseLost extends Error {}
class LocalFailure extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}


/**
 * CyberTipline reporting: builds a report from a confirmed case, validates it against the
 * transcribed schema when built and against NCMEC's XSD before each submission (an invalid
 * report is recorded, never sent; pre-submission.ts), and delivers it through
 * ISPWS (submit, upload, fileinfo, finish). A failure after a report was opened retracts it
 * and the whole sequence is retried later. Reports are claimed like outbox rows, so any
 * number of processes may deliver and a restart loses nothing.
 */
export class NcmecReportService {
  private readonly vault: MediaVault | undefined;
  private readonly api: CyberTiplineApi | undefined;
  private readonly now: () => Date;
  private readonly owner = `ncmec-${randomBytes(6).toString('hex')}`;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly drafter: ReportDrafter;
  private submitting: Promise<number> | undefined;
  private again = false;
  private readonly preSubmission: PreSubmission;

  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
    private readonly events: EventLog,
    private readonly options: NcmecReportServiceOptions,
  ) {
    this.vault = options.mediaKey ? new MediaVault(options.mediaKey) : undefined;
    const { baseUrl, username, password } = options.config;
    this.api = options.api ?? (username && password ? new CyberTiplineClient({ baseUrl, username, password, timeoutMs: options.timeoutMs, deadline: options.deadline }) : undefined);
    this.now = options.now ?? (() => new Date());
    this.baseDelayMs = options.baseDelayMs ?? 30_000;
    this.maxDelayMs = options.maxDelayMs ?? 60 * 60_000;
    this.leaseMs = options.leaseMs ?? 10 * 60_000;
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? (() => undefined);
    this.drafter = new ReportDrafter(audit, options.config, this.vault, this.now);
    const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const { config } = options;
    const schema = new CyberTiplineSchemaSource({ mode: config.schema ?? 'live', baseUrl, username, password, timeoutMs: options.timeoutMs, deadline: options.deadline, now: this.now, log });
    const accountDetails = options.accountDetails ?? (config.accountDetails ? new WebhookAccountDetails(config.accountDetails) : undefined);
    this.preSubmission = new PreSubmission(sql, audit, { schema, accountDetails, log });
  }

  /** Whether delivery can happen here: ISPWS credentials (or a transport) are configured. */
  get canSubmit(): boolean {
    return this.api !== undefined;
  }

  /**
   * Files a decided case: its confirmed material goes into the reported account's unsent report
   * (supplementing it) or a new one; a network case makes one report per member. An invalid
   * report is kept with its reasons and never sent; one below the quality floor is held for a
   * lead. Asking again for the same case returns its report(s).
   */
  async createFromCase(caseId: number, requestedBy: string, options: { draft?: boolean } = {}): Promise<{ report: NcmecReportView; created: boolean; reports: NcmecReportView[] }> {
    const result = await this.sql.transaction((tx) => this.createIn(tx, caseId, requestedBy, options));
    if (result.reports.some((report) => report.status === 'queued')) this.kick();
    return result;
  }

  async createIn(tx: SqlClient, caseId: number, requestedBy: string, options: { draft?: boolean; gather?: boolean } = {}): Promise<{ report: NcmecReportView; created: boolean; reports: NcmecReportView[] }> {
    const outcomes = await this.drafter.draft<ReportRow>(tx, caseId, requestedBy, options);
    const reports = await this.withCases(tx, outcomes.map((outcome) => outcome.row));
    return { report: reports[0], created: outcomes.some((outcome) => outcome.created), reports };
  }

  async get(id: number, options: { includeXml?: boolean } = {}): Promise<NcmecReportView> {
    const result = await this.sql.query<ReportRow>('SELECT * FROM ncmec_reports WHERE id = $1', [id]);
    if (!result.rows[0]) throw notFound(`no NCMEC report ${id}`);
    return (await this.withCases(this.sql, result.rows, options.includeXml))[0];
  }

  async list(filter: { status?: NcmecReportStatus; caseId?: number; accountId?: string; afterId?: number; limit?: number; newestFirst?: boolean } = {}): Promise<NcmecReportView[]> {
    const result = await this.sql.query<ReportRow>(
      `SELECT * FROM ncmec_reports r WHERE ($1::text IS NULL OR status = $1)
         AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM ncmec_report_cases l WHERE l.report_id = r.id AND l.case_id = $2))
         AND ($5::text IS NULL OR account_id = $5) AND id > $3 ORDER BY id ${filter.newestFirst ? 'DESC' : ''} LIMIT $4`,
      [filter.status ?? null, filter.caseId ?? null, filter.afterId ?? 0, Math.min(filter.limit ?? 100, 1000), filter.accountId ?? null],
    );
    return this.withCases(this.sql, result.rows);
  }

  /** Reports sent, their median completeness, decision-to-submission time and retractions in [from, to). */
  figures(from: Date, to: Date): Promise<NcmecFigures> {
    return ncmecFigures(this.sql, from, to);
  }

  private async withCases(client: SqlClient, rows: ReportRow[], includeXml = false): Promise<NcmecReportView[]> {
    const links = await client.query<{ report_id: number; case_id: number }>(
      'SELECT report_id, case_id FROM ncmec_report_cases WHERE report_id = ANY($1::bigint[]) ORDER BY decided_at, case_id',
      [rows.map((row) => row.id)],
    );
    return rows.map((row) => {
      const caseIds = links.rows.filter((link) => Number(link.report_id) === Number(row.id)).map((link) => Number(link.case_id));
      return reportView({ ...row, case_ids: caseIds.length > 0 ? [...new Set(caseIds)] : [Number(row.case_id)] }, this.options.config.qualityFloor, includeXml);
    });
  }

  /**
   * What happened to a report, oldest first (docs/ncmec.md, "History"): the audit log's
   * entries about it (schema checks, the platform's account details, submission) and the
   * report's own record of its gathering, holds, confirmations and retractions.
   */
  async history(id: number): Promise<ReportHistoryEntry[]> {
    const report = await this.get(id);
    const own = report.history
      .filter((entry) => !AUDITED_EVENTS.has(entry.event))
      .map((entry): ReportHistoryEntry => ({ at: entry.at, actor: 'bulwark', action: `ncmec.${entry.event}`, detail: entry.detail ?? {} }));
    return [...(await reportHistory(this.sql, id)), ...own].sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Every document sent for a report, as sent (without the platform's account details), oldest first. */
  async documents(id: number): Promise<NcmecDocument[]> {
    await this.get(id);
    const result = await this.sql.query<NcmecDocument & { sent_at: Date }>(
      'SELECT attempt, kind, ncmec_report_id, ncmec_file_id, content_id, document, sent_at FROM ncmec_documents WHERE report_id = $1 ORDER BY id',
      [id],
    );
    return result.rows.map((row) => ({ ...row, sent_at: new Date(row.sent_at).toISOString() }));
  }

  /**
   * Sends a report again now: a failed, retracted, queued or draft one is due at once (a draft
   * below the quality floor is held for a lead instead); an invalid one is rebuilt from its
   * cases with the current configuration first.
   */
  async retry(id: number, actor = 'system'): Promise<NcmecReportView> {
    const row = await this.sql.transaction(async (tx) => {
      const current = await this.lockedReport(tx, id);
      if (current.status === 'submitted') throw conflict(`NCMEC report ${id} was already submitted (NCMEC id ${current.ncmec_report_id})`);
      if (current.status === 'submitting') throw conflict(`NCMEC report ${id} is being submitted`);
      const now = this.now();
      let updated: ReportRow;
      if (current.status === 'invalid' || current.status === 'draft') {
        updated = await this.drafter.rebuild<ReportRow>(tx, { ...current, gather_until: now }, [{ at: now.toISOString(), event: 'retried', detail: { by: actor } }], { requeue: true });
      } else if (current.status === 'held') {
        throw conflict(`NCMEC report ${id} is held below the quality floor (completeness ${current.completeness}); a lead confirms it (POST /v1/ncmec/reports/${id}/confirm) or it is sent at ${iso(current.hold_until)}`);
      } else {
        updated = (await tx.query<ReportRow>(`UPDATE ncmec_reports SET next_attempt_at = $2, updated_at = $2 WHERE id = $1 RETURNING *`, [id, now])).rows[0];
      }
      await this.audit.append(tx, { actor, action: 'ncmec.report_retried', subject: `case:${current.case_id}`, detail: { report_id: id, status: updated.status } });
      return updated;
    });
    if (row.status === 'queued' || row.status === 'failed' || row.status === 'retracted') this.kick();
    return this.get(Number(row.id));
  }

  /**
   * A lead's word that a report held below the quality floor may go out as it is: it is
   * queued at once (or when its gathering window ends). Only a lead or admin may confirm.
   */
  async confirm(id: number, confirmer: { username: string; role: string }): Promise<NcmecReportView> {
    if (confirmer.role !== 'lead' && confirmer.role !== 'admin') throw new BulwarkError('forbidden', `only a lead confirms a report below the quality floor; ${confirmer.username} is a ${confirmer.role}`);
    const row = await this.sql.transaction(async (tx) => {
      const current = await this.lockedReport(tx, id);
      if (current.status !== 'held') throw conflict(`NCMEC report ${id} is ${current.status}; only a report held below the quality floor needs confirming`);
      const now = this.now();
      const due = current.gather_until && current.gather_until > now ? current.gather_until : now;
      const history: HistoryEntry[] = [{ at: now.toISOString(), event: 'confirmed', detail: { by: confirmer.username, completeness: current.completeness } }];
      const updated = await tx.query<ReportRow>(
        `UPDATE ncmec_reports SET status = 'queued', confirmed_by = $2, confirmed_at = $3, next_attempt_at = $4, history = history || $5::jsonb, updated_at = $3 WHERE id = $1 RETURNING *`,
        [id, confirmer.username, now, due, JSON.stringify(history)],
      );
      await this.audit.append(tx, { actor: confirmer.username, action: 'ncmec.report_confirmed', subject: `case:${current.case_id}`, detail: { report_id: id, completeness: current.completeness } });
      return updated.rows[0];
    });
    this.kick();
    return this.get(Number(row.id));
  }

  private async lockedReport(tx: SqlClient, id: number): Promise<ReportRow> {
    const found = await tx.query<ReportRow>('SELECT * FROM ncmec_reports WHERE id = $1 FOR UPDATE', [id]);
    if (!found.rows[0]) throw notFound(`no NCMEC report ${id}`);
    return found.rows[0];
  }

  /**
   * Delivers every report that is due. Concurrent calls in one process share a pass;
   * several processes split the work. Returns the attempts made.
   */
  submitDue(): Promise<number> {
    if (!this.api) return Promise.resolve(0);
    if (this.submitting) {
      this.again = true;
      return this.submitting;
    }
    this.submitting = (async () => {
      let total = 0;
      do {
        this.again = false;
        const tried: number[] = [];
        for (;;) {
          const claimed = await this.claim(tried);
          if (claimed.length === 0) break;
          tried.push(...claimed.map((row) => Number(row.id)));
          await Promise.all(claimed.map((row) => this.attempt(row)));
          total += claimed.length;
        }
      } while (this.again);
      return total;
    })().finally(() => {
      this.submitting = undefined;
    });
    return this.submitting;
  }

  /** Delivers on a timer and right after a report is queued here; returns a stop function. */
  start(intervalMs = 30_000): () => void {
    const tick = () => void this.submitDue().catch(this.onError);
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    this.kicks++;
    tick();
    return () => {
      clearInterval(timer);
      this.kicks--;
    };
  }

  private kicks = 0;
  private kick(): void {
    if (this.kicks > 0) void this.submitDue().catch(this.onError);
  }

  /** Resolves when no delivery pass of this service is running. */
  async idle(): Promise<void> {
    while (this.submitting) await this.submitting.catch(() => undefined);
  }

  /** Files a report for each case.decided event with a reportable verdict and an auto-reported policy. */
  autoReporter(): OutboxConsumer {
    return new OutboxConsumer(this.sql, this.events, NCMEC_AUTO_REPORTER, [CASE_DECIDED_EVENT], async (tx, event) => {
      const payload = event.payload as { case_id: number; verdict: string; policy: string | null; subject: { kind: string } };
      const { reportableVerdicts, autoReportPolicies } = this.options.config;
      if (!reportableVerdicts.includes(payload.verdict) || !payload.policy || !autoReportPolicies.includes(payload.policy)) return;
      if (payload.subject.kind !== 'content' && payload.subject.kind !== 'account' && payload.subject.kind !== 'network') return;
      try {
        // Gathered: the report waits out the group window so the account's later decisions join it.
        await this.createIn(tx, payload.case_id, 'auto:case.decided', { gather: true });
      } catch (error) {
        // A case that cannot be reported (no content held, decided otherwise since) must not stop the outbox.
        if (error instanceof BulwarkError) this.onError(error);
        else throw error;
      }
    });
  }

  private async claim(tried: number[]): Promise<ReportRow[]> {
    const now = this.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    return this.sql.transaction(async (tx) => {
      // A held report is claimed once its hold limit passes: the law's "as soon as reasonably
      // possible" outweighs the quality floor, and its history records that it went unconfirmed.
      const claimed = await tx.query<ReportRow>(
        `WITH due AS (
           SELECT id, status AS was FROM ncmec_reports
           WHERE ((status IN ('held', 'queued', 'failed', 'retracted') AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1))
                  OR (status = 'submitting' AND lease_until <= $1))
             AND NOT (id = ANY($2::bigint[]))
           ORDER BY next_attempt_at, id LIMIT 4
           FOR UPDATE SKIP LOCKED)
         UPDATE ncmec_reports r SET status = 'submitting', attempts = r.attempts + 1, lease_owner = $3, lease_until = $4, updated_at = $1,
           history = CASE WHEN due.was = 'held' THEN r.history || jsonb_build_array(jsonb_build_object('at', $5::text, 'event', 'max_hold_reached',
             'detail', jsonb_build_object('completeness', r.completeness, 'floor', $6::int))) ELSE r.history END
         FROM due WHERE r.id = due.id RETURNING r.*`,
        [now, tried, this.owner, leaseUntil, now.toISOString(), this.options.config.qualityFloor],
      );
      return claimed.rows;
    });
  }

  /** Writes to a claimed row only while this process still holds its lease. */
  private async whileLeased(client: SqlClient, id: number, set: string, params: unknown[]): Promise<void> {
    const result = await client.query(`UPDATE ncmec_reports SET ${set}, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'submitting'`, [id, this.owner, this.now(), ...params]);
    if (result.rowCount === 0) throw new LeaseLost();
  }

  private async attempt(claimed: ReportRow): Promise<void> {
    let row = claimed;
    const api = this.api!;
    const id = Number(row.id);
    const attempt = row.attempts;
    let opened: string | undefined;
    const retracted: string[] = [];
    const report = (outcome: NcmecAttemptReport['outcome'], ncmecReportId: string | null, error: string | null) =>
      this.options.onAttempt?.({ reportId: id, caseId: Number(row.case_id), attempt, outcome, ncmecReportId, error });
    try {
      if (row.open_report_id) {
        // A report left open by an attempt that was cut off: retract it, unless it was in fact finished.
        const code = await api.retract(row.open_report_id);
        if (code === 5102) {
          await this.markSubmitted(row, row.open_report_id, row.file_ids);
          report('submitted', row.open_report_id, null);
          return;
        }
        if (code === 0) retracted.push(row.open_report_id);
        await this.whileLeased(this.sql, id, `open_report_id = NULL, retracted_ids = retracted_ids || $4::jsonb, history = history || $5::jsonb`, [
          JSON.stringify(retracted),
          JSON.stringify(retracted.map((ncmecReportId) => this.historyEntry('retracted', { ncmec_report_id: ncmecReportId, cause: 'left open by a stopped attempt' }))),
        ]);
        retracted.length = 0;
      }
      const current = await this.drafter.withCurrentPriorReports(this.sql, row);
      if (current) {
        await this.whileLeased(this.sql, id, 'report_xml = $4', [current]);
        row = { ...row, report_xml: current };
      }
      const prepared = await this.preSubmission.prepareReport({ id, case_id: Number(row.case_id), attempt, report_xml: row.report_xml, files: row.files });
      if (prepared.kind === 'invalid') {
        // Kept with its reasons, never sent; a retry rebuilds it from its case.
        await this.whileLeased(this.sql, id, `status = 'invalid', validation_errors = $4, next_attempt_at = NULL, last_error = $5, lease_owner = NULL, lease_until = NULL`, [
          JSON.stringify(prepared.errors),
          'report invalid against the CyberTipline schema',
        ]);
        report('failed', null, 'report invalid');
        return;
      }
      // Only Bulwark's own document is kept (below): the platform's account details are sent, not stored.
      const { reportId } = await api.submit(prepared.xml);
      opened = reportId;
      await this.sql.transaction(async (tx) => {
        await this.whileLeased(tx, id, 'open_report_id = $4', [reportId]);
        await this.keep(tx, id, attempt, 'report', reportId, null, null, row.report_xml);
      });
      const fileIds: Record<string, string> = {};
      const uploaded: { file: ReportFile; fileId: string }[] = [];
      for (const file of row.files.filter((candidate) => candidate.media_held)) {
        const media = this.vault ? await this.vault.open(this.sql, file.content_id) : undefined;
        if (!media) throw new LocalFailure(`media of ${file.content_id} unavailable`);
        const { fileId } = await api.upload(reportId, file.file_name, media.mediaType, media.media);
        fileIds[file.content_id] = fileId;
        uploaded.push({ file, fileId });
        await this.whileLeased(this.sql, id, 'file_ids = $4', [JSON.stringify(fileIds)]);
      }
      for (const { file, fileId } of uploaded) {
        const xml = serializeXml(buildFileDetailsDocument(reportId, fileId, file));
        if (!(await this.preSubmission.checkFileDetails({ id, case_id: Number(row.case_id), attempt }, xml))) throw new LocalFailure('file details invalid');
        await api.fileInfo(xml);
        await this.keep(this.sql, id, attempt, 'file_details', reportId, fileId, file.content_id, xml);
      }
      await api.finish(reportId);
      await this.markSubmitted(row, reportId, fileIds);
      report('submitted', reportId, null);
    } catch (error) {
      if (error instanceof LeaseLost) {
        // Another process has taken the report over; what this attempt opened must not stay open.
        if (opened) await api.retract(opened).catch(() => undefined);
        return;
      }
      const code = error instanceof NcmecApiError || error instanceof LocalFailure ? error.code : 'internal error';
      if (!(error instanceof NcmecApiError) && !(error instanceof LocalFailure)) this.onError(error);
      let stillOpen = opened;
      if (opened) {
        try {
          const retractCode = await api.retract(opened);
          if (retractCode === 5102) {
            // The finish went through though its answer was lost: the report is delivered.
            await this.markSubmitted(row, opened, row.file_ids).catch(this.onError);
            report('submitted', opened, null);
            return;
          }
          retracted.push(opened);
          stillOpen = undefined;
        } catch {
          // Left open; the next attempt retracts it first.
        }
      }
      const status: NcmecReportStatus = opened && !stillOpen ? 'retracted' : 'failed';
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt - 1, 20)) * (0.75 + this.random() * 0.25);
      const history = [
        this.historyEntry('attempt_failed', { attempt, error: code }),
        ...retracted.map((ncmecReportId) => this.historyEntry('retracted', { ncmec_report_id: ncmecReportId, cause: code })),
      ];
      await this.sql
        .query(
          `UPDATE ncmec_reports SET status = $3, open_report_id = $4, retracted_ids = retracted_ids || $5::jsonb, next_attempt_at = $6, last_error = $7,
             lease_owner = NULL, lease_until = NULL, updated_at = $8, history = history || $9::jsonb
           WHERE id = $1 AND lease_owner = $2 AND status = 'submitting'`,
          [id, this.owner, status, stillOpen ?? null, JSON.stringify(retracted), new Date(this.now().getTime() + delay), code, this.now(), JSON.stringify(history)],
        )
        .catch(this.onError);
      report(status === 'retracted' ? 'retracted' : 'failed', opened ?? null, code);
    }
  }

  private async keep(client: SqlClient, id: number, attempt: number, kind: 'report' | 'file_details', ncmecReportId: string, fileId: string | null, contentId: string | null, document: string) {
    await client.query(
      `INSERT INTO ncmec_documents (report_id, attempt, kind, ncmec_report_id, ncmec_file_id, content_id, document, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, attempt, kind, ncmecReportId, fileId, contentId, document, this.now()],
    );
  }

  private async markSubmitted(row: ReportRow, ncmecReportId: string, fileIds: Record<string, string>) {
    await this.sql.transaction(async (tx) => {
      await this.whileLeased(
        tx,
        Number(row.id),
        `status = 'submitted', ncmec_report_id = $4, open_report_id = NULL, file_ids = $5, submitted_at = $3, next_attempt_at = NULL, last_error = NULL, lease_owner = NULL, lease_until = NULL, history = history || $6::jsonb`,
        [ncmecReportId, JSON.stringify(fileIds), JSON.stringify([this.historyEntry('submitted', { ncmec_report_id: ncmecReportId, attempt: row.attempts })])],
      );
      await this.audit.append(tx, { actor: 'system', action: 'ncmec.report_submitted', subject: `case:${row.case_id}`, detail: { report_id: Number(row.id), ncmec_report_id: ncmecReportId } });
    });
  }

  private historyEntry(event: string, detail: Record<string, unknown>): HistoryEntry {
    return { at: this.now().toISOString(), event, detail };
  }

}
