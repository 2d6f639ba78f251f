import type { SqlClient } from '../../store/sql.ts';

export interface ReportHistoryEntry {
  at: string;
  actor: string;
  /** e.g. ncmec.report_created, ncmec.account_details_supplied, ncmec.report_failed_schema. */
  action: string;
  /** Ids, reasons and counts; never report contents. */
  detail: Record<string, unknown>;
}

/**
 * What happened to one report, oldest first: the audit log's ncmec.* entries that name it.
 * The audit log is the history because it is append-only and already says who did what.
 */
export async function reportHistory(sql: SqlClient, reportId: number): Promise<ReportHistoryEntry[]> {
  const result = await sql.query<{ at: Date; actor: string; action: string; detail: Record<string, unknown> }>(
    `SELECT at, actor, action, detail FROM audit_log WHERE action LIKE 'ncmec.%' AND detail->>'report_id' = $1 ORDER BY seq`,
    [String(reportId)],
  );
  return result.rows.map((row) => ({ at: new Date(row.at).toISOString(), actor: row.actor, action: row.action, detail: row.detail }));
}
