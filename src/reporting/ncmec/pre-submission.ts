import type { AuditLog } from '../../audit/audit-log.ts';
import type { SqlClient } from '../../store/sql.ts';
import { type AccountDetailsSource, detailCounts } from './account-details.ts';
import type { ReportFile } from './report-builder.ts';
import { supplementReport } from './report-supplement.ts';
import type { CyberTiplineSchemaSource } from './schema-source.ts';
import { childText, parseXml, serializeXml } from './xml.ts';
import { validateWithXsd } from './xsd-validation.ts';

/** The report history's entries this stage writes (audit-log actions; details hold ids, reasons and counts only). */
export const HISTORY = {
  failedSchema: 'ncmec.report_failed_schema',
  fileDetailsFailedSchema: 'ncmec.file_details_failed_schema',
  schemaCheckSkipped: 'ncmec.schema_check_skipped',
  detailsSupplied: 'ncmec.account_details_supplied',
  detailsUnavailable: 'ncmec.account_details_unavailable',
} as const;

export interface PreSubmissionOptions {
  schema: CyberTiplineSchemaSource;
  /** The platform's callback; without it reports go with what Bulwark holds. */
  accountDetails?: AccountDetailsSource;
  /** Process log for what an operator must fix (xmllint missing); no report content. */
  log: (line: string) => void;
}

export interface ReportToSend {
  id: number;
  case_id: number;
  attempt: number;
  report_xml: string;
  files: Pick<ReportFile, 'content_id' | 'uploaded_at'>[];
}

export type PreparedReport =
  /** `supplemented`: the document carries account details the platform supplied, which must not be stored. */
  | { kind: 'send'; xml: string; supplemented: boolean }
  | { kind: 'invalid'; errors: string[] };

/**
 * What happens to a report between its claim and its submission: it is validated against
 * NCMEC's schema (live or bundled), and the platform is asked for the account's identifiers
 * and IP log, which go into the copy sent and nowhere else. Every outcome is written to the
 * report's history. Nothing here stops a valid report from going out: a callback that fails
 * leaves it as Bulwark built it.
 */
export class PreSubmission {
  constructor(
    private readonly sql: SqlClient,
    private readonly audit: AuditLog,
    private readonly options: PreSubmissionOptions,
  ) {}

  async prepareReport(report: ReportToSend): Promise<PreparedReport> {
    const schema = await this.options.schema.current();
    const checked = await validateWithXsd(report.report_xml, schema.path);
    if (checked.kind === 'invalid') {
      await this.history(report, HISTORY.failedSchema, { schema: schema.origin, errors: checked.errors });
      return { kind: 'invalid', errors: checked.errors };
    }
    if (checked.kind === 'unavailable') {
      // The law asks for the report as soon as reasonably possible; NCMEC validates it on arrival too.
      this.options.log(`ncmec: report ${report.id} was not validated before sending: ${checked.reason}`);
      await this.history(report, HISTORY.schemaCheckSkipped, { reason: checked.reason });
    }
    const source = this.options.accountDetails;
    const base = parseXml(report.report_xml);
    const reported = base.children.find((child) => child.name === 'personOrUserReported');
    const accountId = reported && childText(reported, 'espIdentifier');
    if (!source || !accountId) return { kind: 'send', xml: report.report_xml, supplemented: false };
    const outcome = await source.lookUp({
      report_id: report.id,
      case_id: report.case_id,
      account_id: accountId,
      content_ids: report.files.map((file) => file.content_id),
      incident_date_time: report.files.map((file) => file.uploaded_at).sort()[0] ?? childText(base.children.find((c) => c.name === 'incidentSummary')!, 'incidentDateTime') ?? '',
    });
    const withoutDetails = async (reason: string, errors?: string[]): Promise<PreparedReport> => {
      await this.history(report, HISTORY.detailsUnavailable, { reason, ...(errors ? { errors } : {}), sent_with: 'what Bulwark holds' });
      return { kind: 'send', xml: report.report_xml, supplemented: false };
    };
    if (outcome.kind === 'unavailable') return withoutDetails(outcome.reason);
    const xml = serializeXml(supplementReport(base, outcome.details));
    if (checked.kind === 'valid') {
      const again = await validateWithXsd(xml, schema.path);
      if (again.kind === 'invalid') return withoutDetails('the supplied details break the CyberTipline schema', again.errors);
    }
    await this.history(report, HISTORY.detailsSupplied, { counts: detailCounts(outcome.details), stored: false });
    return { kind: 'send', xml, supplemented: true };
  }

  /** False when a fileDetails document breaks the schema (the history says how); true when valid or not checkable. */
  async checkFileDetails(report: Pick<ReportToSend, 'id' | 'case_id' | 'attempt'>, xml: string): Promise<boolean> {
    const schema = await this.options.schema.current();
    const checked = await validateWithXsd(xml, schema.path);
    if (checked.kind === 'unavailable') this.options.log(`ncmec: file details of report ${report.id} were not validated before sending: ${checked.reason}`);
    if (checked.kind !== 'invalid') return true;
    await this.history(report, HISTORY.fileDetailsFailedSchema, { schema: schema.origin, errors: checked.errors });
    return false;
  }

  private async history(report: Pick<ReportToSend, 'id' | 'case_id' | 'attempt'>, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.sql.transaction((tx) =>
      this.audit.append(tx, { actor: 'system', action, subject: `case:${report.case_id}`, detail: { report_id: report.id, attempt: report.attempt, ...detail } }),
    );
  }
}
