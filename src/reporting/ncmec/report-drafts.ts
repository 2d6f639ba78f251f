import type { AuditLog } from '../../audit/audit-log.ts';
import { BulwarkError, conflict } from '../../errors.ts';
import type { MediaVault } from '../../media/media-vault.ts';
import type { SqlClient } from '../../store/sql.ts';
import type { NcmecConfig } from './config.ts';
import { assessReport, type ReportQuality } from './quality.ts';
import { buildReportDocument } from './report-builder.ts';
import { type DecidedCase, gatherReportFacts, loadDecidedCase, type ReportFile } from './report-facts.ts';
import { PERSON_OR_USER_REPORTED, REPORT } from './schema.ts';
import { validateDocument } from './validator.ts';
import { parseXml, serializeXml, textEl, type XmlElement } from './xml.ts';

/** Statuses of a report nothing has been sent for yet: later decisions about its account join it. */
export const PENDING_STATUSES = ['draft', 'held', 'queued', 'invalid'] as const;
/** Statuses of a report that is (being) sent: never changed, never repeated. */
const SENT_STATUSES = ['submitting', 'submitted', 'failed', 'retracted'];

export interface HistoryEntry {
  at: string;
  event: string;
  detail?: Record<string, unknown>;
}

/** The columns of ncmec_reports drafting reads and writes. */
export interface DraftRow {
  id: number;
  case_id: number;
  account_id: string | null;
  status: string;
  files: ReportFile[];
  confirmed_by: string | null;
  gather_until: Date | null;
  hold_until: Date | null;
}

export interface DraftOutcome<Row> {
  row: Row;
  created: boolean;
  /** The case joined a report that already existed (a supplement), or was found in one. */
  supplemented: boolean;
}

export interface DraftOptions {
  /** Keep a new report as a draft until someone queues it. */
  draft?: boolean;
  /** Filed by the auto-reporter: a new report gathers for the group window before it is due. */
  gather?: boolean;
}

const entry = (at: Date, event: string, detail?: Record<string, unknown>): HistoryEntry => ({ at: at.toISOString(), event, ...(detail ? { detail } : {}) });

/**
 * Turns decided cases into CyberTipline report drafts, one per reported account: a case joins
 * the account's unsent report if there is one (which is then rebuilt), else opens a new one
 * that names the account's earlier reports. A report being sent or sent is never touched.
 */
export class ReportDrafter {
  constructor(
    private readonly audit: AuditLog,
    private readonly config: NcmecConfig,
    private readonly vault: MediaVault | undefined,
    private readonly now: () => Date,
  ) {}

  async draft<Row extends DraftRow>(tx: SqlClient, caseId: number, requestedBy: string, options: DraftOptions = {}): Promise<DraftOutcome<Row>[]> {
    const decided = await loadDecidedCase(tx, caseId, this.config.reportableVerdicts);
    if (decided.accounts.length === 0) throw conflict(`case ${caseId} names no account to report (a network without members)`);
    const outcomes: DraftOutcome<Row>[] = [];
    const skipped: string[] = [];
    for (const account of decided.accounts) {
      const linked = await tx.query<Row>(
        `SELECT r.* FROM ncmec_report_cases l JOIN ncmec_reports r ON r.id = l.report_id WHERE l.case_id = $1 AND l.account_id IN ($2, '') ORDER BY r.id LIMIT 1`,
        [caseId, account],
      );
      if (linked.rows[0]) {
        outcomes.push({ row: linked.rows[0], created: false, supplemented: false });
        continue;
      }
      const pending = await tx.query<Row>(`SELECT * FROM ncmec_reports WHERE account_id = $1 AND status = ANY($2::text[]) FOR UPDATE`, [account, [...PENDING_STATUSES]]);
      if (pending.rows[0]) {
        await this.link(tx, pending.rows[0].id, decided, account);
        const row = await this.rebuild<Row>(tx, pending.rows[0], [entry(this.now(), 'supplemented', { case_id: caseId, decision_id: decided.decision_id, requested_by: requestedBy })]);
        await this.audit.append(tx, { actor: requestedBy, action: 'ncmec.report_supplemented', subject: `case:${caseId}`, detail: { report_id: Number(row.id), status: row.status } });
        outcomes.push({ row, created: false, supplemented: true });
        continue;
      }
      try {
        outcomes.push({ row: await this.open<Row>(tx, decided, account, requestedBy, options), created: true, supplemented: false });
      } catch (error) {
        if (!(error instanceof BulwarkError) || error.kind !== 'conflict') throw error;
        const earlier = await this.latestSent<Row>(tx, account);
        if (earlier) {
          // All this decision confirms was reported already: the case is recorded against that report, which stays as sent.
          await this.link(tx, earlier.id, decided, account);
          await tx.query(`UPDATE ncmec_reports SET history = history || $2::jsonb WHERE id = $1`, [earlier.id, JSON.stringify([entry(this.now(), 'case_already_reported', { case_id: caseId })])]);
          outcomes.push({ row: earlier, created: false, supplemented: true });
        } else if (decided.subject.kind === 'network') {
          // A member with no confirmed material gets no report of its own; the others name it.
          skipped.push(account);
        } else {
          throw error;
        }
      }
    }
    if (outcomes.length === 0) throw conflict(`case ${caseId}: no member (${skipped.join(', ')}) has content Bulwark holds to report`);
    return outcomes;
  }

  /** Builds the report again from every case it carries, and sets its status and quality. */
  async rebuild<Row extends DraftRow>(tx: SqlClient, row: DraftRow, events: HistoryEntry[] = [], options: { requeue?: boolean } = {}): Promise<Row> {
    const links = await tx.query<{ case_id: number }>('SELECT case_id FROM ncmec_report_cases WHERE report_id = $1 ORDER BY decided_at, case_id', [row.id]);
    // An invalid report from before migration 0023 has no links: its own case is all it carries.
    const caseIds = links.rows.length > 0 ? links.rows.map((link) => Number(link.case_id)) : [Number(row.case_id)];
    const cases: DecidedCase[] = [];
    for (const caseId of caseIds) cases.push(await loadDecidedCase(tx, caseId, this.config.reportableVerdicts));
    const built = await this.build(tx, row.account_id ?? cases[0].accounts[0] ?? null, cases, row.id);
    const now = this.now();
    let status: string;
    if (built.errors.length > 0) status = 'invalid';
    else if (row.status === 'draft' && !options.requeue) status = 'draft';
    else status = this.belowFloor(built.quality, row.confirmed_by) ? 'held' : 'queued';
    const history = [...events];
    if (status === 'held' && row.status !== 'held') history.push(entry(now, 'held_below_floor', { completeness: built.quality.score, floor: this.config.qualityFloor }));
    if (status === 'queued' && row.status === 'held') history.push(entry(now, 'floor_met', { completeness: built.quality.score }));
    const updated = await tx.query<Row>(
      `UPDATE ncmec_reports SET status = $2, decision_id = $3, report_xml = $4, files = $5, validation_errors = $6, completeness = $7, quality = $8,
         first_decided_at = $9, next_attempt_at = $10, history = history || $11::jsonb, updated_at = $12
       WHERE id = $1 RETURNING *`,
      [
        row.id, status, built.decisionId, built.xml, JSON.stringify(built.files), JSON.stringify(built.errors), built.quality.score, JSON.stringify(built.quality),
        built.firstDecidedAt, this.dueAt(status, row.gather_until, row.hold_until), JSON.stringify(history), now,
      ],
    );
    return updated.rows[0];
  }

  private belowFloor(quality: ReportQuality, confirmedBy: string | null): boolean {
    return quality.score < this.config.qualityFloor && !confirmedBy;
  }

  /** A queued report is due when its gathering ends; a held one when its hold limit passes. */
  private dueAt(status: string, gatherUntil: Date | null, holdUntil: Date | null): Date | null {
    if (status === 'queued') return gatherUntil ?? this.now();
    if (status === 'held') return holdUntil ?? this.now();
    return null;
  }

  private async open<Row extends DraftRow>(tx: SqlClient, decided: DecidedCase, account: string, requestedBy: string, options: DraftOptions): Promise<Row> {
    const built = await this.build(tx, account, [decided]);
    const now = this.now();
    const decidedAt = new Date(built.firstDecidedAt).getTime();
    const holdUntil = new Date(decidedAt + this.config.maxHoldMs);
    // Filed by hand, a report is due at once; filed automatically, it waits for the account's further material.
    const gatherUntil = options.gather ? new Date(Math.min(decidedAt + this.config.groupWindowMs, holdUntil.getTime())) : now;
    const status = built.errors.length > 0 ? 'invalid' : options.draft ? 'draft' : this.belowFloor(built.quality, null) ? 'held' : 'queued';
    const history = [entry(now, 'created', { case_id: decided.case_id, requested_by: requestedBy, completeness: built.quality.score, ...(built.prior.length ? { prior_reports: built.prior } : {}) })];
    if (status === 'held') history.push(entry(now, 'held_below_floor', { completeness: built.quality.score, floor: this.config.qualityFloor }));
    const inserted = await tx.query<Row>(
      `INSERT INTO ncmec_reports (case_id, decision_id, status, requested_by, report_xml, files, validation_errors, next_attempt_at, created_at, updated_at,
         account_id, first_decided_at, gather_until, hold_until, completeness, quality, history)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
      [
        decided.case_id, built.decisionId, status, requestedBy, built.xml, JSON.stringify(built.files), JSON.stringify(built.errors), this.dueAt(status, gatherUntil, holdUntil), now,
        account, built.firstDecidedAt, gatherUntil, holdUntil, built.quality.score, JSON.stringify(built.quality), JSON.stringify(history),
      ],
    );
    const row = inserted.rows[0];
    await this.link(tx, row.id, decided, account);
    await this.audit.append(tx, { actor: requestedBy, action: 'ncmec.report_created', subject: `case:${decided.case_id}`, detail: { report_id: Number(row.id), status, account_reported: true } });
    return row;
  }

  private async link(tx: SqlClient, reportId: number, decided: DecidedCase, account: string): Promise<void> {
    await tx.query(`INSERT INTO ncmec_report_cases (report_id, case_id, account_id, decision_id, decided_at, added_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
      reportId, decided.case_id, account, decided.decision_id, decided.decided_at, this.now(),
    ]);
  }

  private async latestSent<Row>(tx: SqlClient, account: string): Promise<(Row & { id: number }) | undefined> {
    const found = await tx.query<Row & { id: number }>(`SELECT * FROM ncmec_reports WHERE account_id = $1 AND status = ANY($2::text[]) ORDER BY id DESC LIMIT 1`, [account, SENT_STATUSES]);
    return found.rows[0];
  }

  private async build(tx: SqlClient, account: string | null, cases: DecidedCase[], reportId?: number) {
    // What earlier reports about the account carry is not repeated; their NCMEC ids are named.
    const earlier = account
      ? (
          await tx.query<{ ncmec_report_id: string | null; files: ReportFile[] }>(
            `SELECT ncmec_report_id, files FROM ncmec_reports WHERE account_id = $1 AND status = ANY($2::text[]) AND id <> $3 ORDER BY id`,
            [account, SENT_STATUSES, reportId ?? 0],
          )
        ).rows
      : [];
    const prior = earlier.map((report) => report.ncmec_report_id).filter((id): id is string => id !== null);
    const facts = await gatherReportFacts(tx, account, cases, {
      alreadyReported: new Set(earlier.flatMap((report) => report.files.map((file) => file.content_id))),
      priorReports: prior,
      policyAnnotations: this.config.policyAnnotations,
    });
    // Only media this process can open will be uploaded; the rest is described by its hashes.
    for (const file of facts.files) file.media_held = file.media_held && this.vault !== undefined && (await this.vault.has(tx, file.content_id));
    const document = buildReportDocument(facts, this.config.reporter);
    return {
      decisionId: facts.decision_id,
      firstDecidedAt: facts.decided_at,
      files: facts.files,
      xml: serializeXml(document),
      errors: validateDocument(document, REPORT),
      quality: assessReport(document, facts.files, { inNetwork: facts.in_network }),
      prior,
    };
  }

  /**
   * The report's document naming every earlier report of its account that NCMEC has numbered
   * since it was built (one still in flight then had no id yet); undefined when nothing changed.
   */
  async withCurrentPriorReports(client: SqlClient, row: { id: number; account_id: string | null; report_xml: string }): Promise<string | undefined> {
    if (!row.account_id) return undefined;
    const earlier = await client.query<{ ncmec_report_id: string }>(
      `SELECT ncmec_report_id FROM ncmec_reports WHERE account_id = $1 AND id < $2 AND ncmec_report_id IS NOT NULL ORDER BY id`,
      [row.account_id, row.id],
    );
    const document = parseXml(row.report_xml);
    const person = document.children.find((child) => child.name === 'personOrUserReported');
    if (!person) return undefined;
    const named = new Set(person.children.filter((child) => child.name === 'priorCTReports').map((child) => child.text));
    const added = earlier.rows.map((r) => r.ncmec_report_id).filter((id) => /^\d{1,18}$/.test(id) && !named.has(id));
    if (added.length === 0) return undefined;
    // Inserted where the schema's sequence puts priorCTReports, whatever else the person carries.
    const order = PERSON_OR_USER_REPORTED.children.map((rule) => rule.name);
    const place = order.indexOf('priorCTReports');
    const at = person.children.findIndex((child) => order.indexOf(child.name) > place);
    const elements = added.map((id) => textEl('priorCTReports', id) as XmlElement);
    person.children.splice(at < 0 ? person.children.length : at, 0, ...elements);
    return serializeXml(document);
  }
}
