import type { ReportQuality } from './quality.ts';
import type { HistoryEntry } from './report-drafts.ts';
import type { ReportFile } from './report-facts.ts';

export const NCMEC_REPORT_STATUSES = ['draft', 'held', 'invalid', 'queued', 'submitting', 'submitted', 'failed', 'retracted'] as const;
export type NcmecReportStatus = (typeof NCMEC_REPORT_STATUSES)[number];

export const iso = (date: Date | null) => (date ? new Date(date).toISOString() : null);

export interface NcmecReportView {
  id: number;
  /** The case the report was opened for; case_ids lists every case it carries. */
  case_id: number;
  decision_id: number;
  case_ids: number[];
  /** The reported account (the platform's id). */
  account_id: string | null;
  status: NcmecReportStatus;
  /** Completeness 0-100 and what is missing; the floor below which a lead must confirm. */
  quality: { score: number | null; floor: number; below_floor: boolean; missing: ReportQuality['missing']; checks: ReportQuality['checks'] };
  /** Held below the floor: a lead's confirmation sends it before hold_until. */
  needs_confirmation: boolean;
  confirmed_by: string | null;
  confirmed_at: string | null;
  first_decided_at: string | null;
  /** When a queued report is due (gathering ends), and the latest it may wait for anything. */
  gather_until: string | null;
  hold_until: string | null;
  history: HistoryEntry[];
  requested_by: string;
  ncmec_report_id: string | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  validation_errors: string[];
  files: (Pick<ReportFile, 'content_id' | 'file_name' | 'viewed_by_esp' | 'uploaded_at' | 'upload_time_source' | 'media_held' | 'case_id'> & { ncmec_file_id: string | null })[];
  retracted_report_ids: string[];
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  /** The <report> document; only when asked for. */
  xml?: string;
}

/** A row of ncmec_reports as read. */
export interface ReportRow {
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
  account_id: string | null;
  first_decided_at: Date | null;
  gather_until: Date | null;
  hold_until: Date | null;
  completeness: number | null;
  quality: Partial<ReportQuality>;
  confirmed_by: string | null;
  confirmed_at: Date | null;
  history: HistoryEntry[];
  /** Every case the report carries (read with the row for views). */
  case_ids?: number[];
}

/** A report as the API, CLI and console show it: the document only when asked for. */
export function reportView(row: ReportRow, floor: number, includeXml = false): NcmecReportView {
  const score = row.completeness === null ? null : Number(row.completeness);
  return {
    id: Number(row.id),
    case_id: Number(row.case_id),
    decision_id: Number(row.decision_id),
    case_ids: row.case_ids ?? [Number(row.case_id)],
    account_id: row.account_id,
    status: row.status,
    quality: { score, floor, below_floor: score !== null && score < floor, missing: row.quality.missing ?? [], checks: row.quality.checks ?? [] },
    needs_confirmation: row.status === 'held',
    confirmed_by: row.confirmed_by,
    confirmed_at: iso(row.confirmed_at),
    first_decided_at: iso(row.first_decided_at),
    gather_until: iso(row.gather_until),
    hold_until: iso(row.hold_until),
    history: row.history,
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
      upload_time_source: file.upload_time_source,
      media_held: file.media_held,
      case_id: file.case_id,
      ncmec_file_id: row.file_ids[file.content_id] ?? null,
    })),
    retracted_report_ids: row.retracted_ids,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    submitted_at: iso(row.submitted_at),
    ...(includeXml ? { xml: row.report_xml } : {}),
  };
}
