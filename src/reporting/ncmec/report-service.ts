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
import { buildFileDetailsDocument, buildReportDocument, loadReportFacts, type ReportFile } from './report-builder.ts';
import { PreSubmission } from './pre-submission.ts';
import { type ReportHistoryEntry, reportHistory } from './report-history.ts';
import { REPORT } from './schema.ts';
import { CyberTiplineSchemaSource } from './schema-source.ts';
import { validateDocument } from './validator.ts';
import { serializeXml } from './xml.ts';
import { WebhookAccountDetails } from './webhook-account-details.ts';

export const NCMEC_REPORT_STATUSES = ['draft', 'invalid', 'queued', 'submitting', 'submitted', 'failed', 'retracted'] as const;
export type NcmecReportStatus = (typeof NCMEC_REPORT_STATUSES)[number];

/** The durable consumer that files reports for confirmed cases of the configured policies. */
export const NCMEC_AUTO_REPORTER = 'reporting.ncmec-auto';

export interface NcmecReportView {
  id: number;
  case_id: number;
  decision_id: number;
  status: NcmecReportStatus;
  requested_by: string;
  ncmec_report_id: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  validation_errors: string[];
  files: (Pick<ReportFile, 'content_id' | 'file_name' | 'viewed_by_esp' | 'uploaded_at' | 'media_held'> & { ncmec_file_id: string | null })[];
  retracted_report_ids: string[];
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  /** The <report> document; only when asked for. */
  xml?: string;
}

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

interface ReportRow {
  id: number;
  case_id: number;
  decision_id: number;
  status: NcmecReportStatus;
  requested_by: string;
  report_xml: string;
  files: ReportFile[];
  validation_errors: string[];
  ncmec_report_id: string | null;
  open_report_id: string | null;
  file_ids: Record<string, string>;
  retracted_ids: string[];
  attempts: number;
  next_attempt_at: Date | null;
  lease_owner: string | null;
  lease_until: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  submitted_at: Date | null;
}

class LeaseLost extends Error {}
class LocalFailure extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);

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
   * Builds and records a report about a decided case. An invalid report is kept with its
   * reasons and never sent; a valid one is queued (or kept as a draft). A case has one live
   * report: asking again returns it.
   */
  async createFromCase(caseId: number, requestedBy: string, options: { draft?: boolean } = {}): Promise<{ report: NcmecReportView; created: boolean }> {
    const result = await this.sql.transaction((tx) => this.createIn(tx, caseId, requestedBy, options));
    if (result.created && result.report.status === 'queued') this.kick();
    return result;
  }

  async createIn(tx: SqlClient, caseId: number, requestedBy: string, options: { draft?: boolean } = {}): Promise<{ report: NcmecReportView; created: boolean }> {
    const existing = await tx.query<ReportRow>(`SELECT * FROM ncmec_reports WHERE case_id = $1 AND status <> 'invalid'`, [caseId]);
    if (existing.rows[0]) return { report: this.view(existing.rows[0]), created: false };
    const built = await this.build(tx, caseId);
    const now = this.now();
    const status: NcmecReportStatus = built.errors.length > 0 ? 'invalid' : options.draft ? 'draft' : 'queued';
    const inserted = await tx.query<ReportRow>(
      `INSERT INTO ncmec_reports (case_id, decision_id, status, requested_by, report_xml, files, validation_errors, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *`,
      [caseId, built.decisionId, status, requestedBy, built.xml, JSON.stringify(built.files), JSON.stringify(built.errors), status === 'queued' ? now : null, now],
    );
    const row = inserted.rows[0];
    await this.audit.append(tx, { actor: requestedBy, action: 'ncmec.report_created', subject: `case:${caseId}`, detail: { report_id: Number(row.id), status } });
    return { report: this.view(row), created: true };
  }

  private async build(tx: SqlClient, caseId: number) {
    const facts = await loadReportFacts(tx, caseId, this.options.config.reportableVerdicts);
    // Only media this process can open will be uploaded; the rest is described by its hashes.
    for (const file of facts.files) file.media_held = file.media_held && this.vault !== undefined && (await this.vault.has(tx, file.content_id));
    const document = buildReportDocument(facts, this.options.config.reporter);
    return { decisionId: facts.decision_id, files: facts.files, xml: serializeXml(document), errors: validateDocument(document, REPORT) };
  }

  async get(id: number, options: { includeXml?: boolean } = {}): Promise<NcmecReportView> {
    const result = await this.sql.query<ReportRow>('SELECT * FROM ncmec_reports WHERE id = $1', [id]);
    if (!result.rows[0]) throw notFound(`no NCMEC report ${id}`);
    return this.view(result.rows[0], options.includeXml);
  }

  async list(filter: { status?: NcmecReportStatus; caseId?: number; afterId?: number; limit?: number } = {}): Promise<NcmecReportView[]> {
    const result = await this.sql.query<ReportRow>(
      `SELECT * FROM ncmec_reports WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR case_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
      [filter.status ?? null, filter.caseId ?? null, filter.afterId ?? 0, Math.min(filter.limit ?? 100, 1000)],
    );
    return result.rows.map((row) => this.view(row));
  }

  /** What happened to a report, oldest first (docs/ncmec.md, "History"). */
  async history(id: number): Promise<ReportHistoryEntry[]> {
    await this.get(id);
    return reportHistory(this.sql, id);
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
   * Sends a report again now: a failed, retracted, queued or draft one is due at once; an
   * invalid one is rebuilt from its case with the current configuration first.
   */
  async retry(id: number, actor = 'system'): Promise<NcmecReportView> {
    const row = await this.sql.transaction(async (tx) => {
      const found = await tx.query<ReportRow>('SELECT * FROM ncmec_reports WHERE id = $1 FOR UPDATE', [id]);
      const current = found.rows[0];
      if (!current) throw notFound(`no NCMEC report ${id}`);
      if (current.status === 'submitted') throw conflict(`NCMEC report ${id} was already submitted (NCMEC id ${current.ncmec_report_id})`);
      if (current.status === 'submitting') throw conflict(`NCMEC report ${id} is being submitted`);
      const now = this.now();
      let updated: ReportRow;
      if (current.status === 'invalid') {
        const live = await tx.query(`SELECT 1 FROM ncmec_reports WHERE case_id = $1 AND status <> 'invalid'`, [current.case_id]);
        if (live.rows.length > 0) throw conflict(`case ${current.case_id} already has a live NCMEC report`);
        const built = await this.build(tx, Number(current.case_id));
        const status = built.errors.length > 0 ? 'invalid' : 'queued';
        updated = (
          await tx.query<ReportRow>(
            `UPDATE ncmec_reports SET status = $2, decision_id = $3, report_xml = $4, files = $5, validation_errors = $6, next_attempt_at = $7, updated_at = $8 WHERE id = $1 RETURNING *`,
            [id, status, built.decisionId, built.xml, JSON.stringify(built.files), JSON.stringify(built.errors), status === 'queued' ? now : null, now],
          )
        ).rows[0];
      } else {
        updated = (await tx.query<ReportRow>(`UPDATE ncmec_reports SET status = CASE WHEN status = 'draft' THEN 'queued' ELSE status END, next_attempt_at = $2, updated_at = $2 WHERE id = $1 RETURNING *`, [id, now])).rows[0];
      }
      await this.audit.append(tx, { actor, action: 'ncmec.report_retried', subject: `case:${current.case_id}`, detail: { report_id: id, status: updated.status } });
      return updated;
    });
    if (row.status !== 'invalid') this.kick();
    return this.view(row);
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
      if (payload.subject.kind !== 'content' && payload.subject.kind !== 'account') return;
      try {
        const { report, created } = await this.createIn(tx, payload.case_id, 'auto:case.decided');
        if (created && report.status === 'queued') queueMicrotask(() => this.kick());
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
      const claimed = await tx.query<ReportRow>(
        `WITH due AS (
           SELECT id FROM ncmec_reports
           WHERE ((status IN ('queued', 'failed', 'retracted') AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1))
                  OR (status = 'submitting' AND lease_until <= $1))
             AND NOT (id = ANY($2::bigint[]))
           ORDER BY next_attempt_at, id LIMIT 4
           FOR UPDATE SKIP LOCKED)
         UPDATE ncmec_reports r SET status = 'submitting', attempts = r.attempts + 1, lease_owner = $3, lease_until = $4, updated_at = $1
         FROM due WHERE r.id = due.id RETURNING r.*`,
        [now, tried, this.owner, leaseUntil],
      );
      return claimed.rows;
    });
  }

  /** Writes to a claimed row only while this process still holds its lease. */
  private async whileLeased(client: SqlClient, id: number, set: string, params: unknown[]): Promise<void> {
    const result = await client.query(`UPDATE ncmec_reports SET ${set}, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'submitting'`, [id, this.owner, this.now(), ...params]);
    if (result.rowCount === 0) throw new LeaseLost();
  }

  private async attempt(row: ReportRow): Promise<void> {
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
        await this.whileLeased(this.sql, id, `open_report_id = NULL, retracted_ids = retracted_ids || $4::jsonb`, [JSON.stringify(retracted)]);
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
      await this.sql
        .query(
          `UPDATE ncmec_reports SET status = $3, open_report_id = $4, retracted_ids = retracted_ids || $5::jsonb, next_attempt_at = $6, last_error = $7,
             lease_owner = NULL, lease_until = NULL, updated_at = $8
           WHERE id = $1 AND lease_owner = $2 AND status = 'submitting'`,
          [id, this.owner, status, stillOpen ?? null, JSON.stringify(retracted), new Date(this.now().getTime() + delay), code, this.now()],
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
      await this.whileLeased(tx, Number(row.id), `status = 'submitted', ncmec_report_id = $4, open_report_id = NULL, file_ids = $5, submitted_at = $3, next_attempt_at = NULL, last_error = NULL, lease_owner = NULL, lease_until = NULL`, [
        ncmecReportId,
        JSON.stringify(fileIds),
      ]);
      await this.audit.append(tx, { actor: 'system', action: 'ncmec.report_submitted', subject: `case:${row.case_id}`, detail: { report_id: Number(row.id), ncmec_report_id: ncmecReportId } });
    });
  }

  private view(row: ReportRow, includeXml = false): NcmecReportView {
    return {
      id: Number(row.id),
      case_id: Number(row.case_id),
      decision_id: Number(row.decision_id),
      status: row.status,
      requested_by: row.requested_by,
      ncmec_report_id: row.ncmec_report_id,
      attempts: row.attempts,
      next_attempt_at: iso(row.next_attempt_at),
      last_error: row.last_error,
      validation_errors: row.validation_errors,
      files: row.files.map((file) => ({
        content_id: file.content_id,
        file_name: file.file_name,
        viewed_by_esp: file.viewed_by_esp,
        uploaded_at: file.uploaded_at,
        media_held: file.media_held,
        ncmec_file_id: row.file_ids[file.content_id] ?? null,
      })),
      retracted_report_ids: row.retracted_ids,
      created_at: iso(row.created_at)!,
      updated_at: iso(row.updated_at)!,
      submitted_at: iso(row.submitted_at),
      ...(includeXml ? { xml: row.report_xml } : {}),
    };
  }
}

