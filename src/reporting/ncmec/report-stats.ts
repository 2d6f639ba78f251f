import { invalid } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';
import { median, medianHours } from '../medians.ts';

/** How CyberTipline reporting went in [from, to): an event exactly at `to` belongs to the next period. */
export interface NcmecFigures {
  period: { from: string; to: string };
  /** Reports finished at NCMEC in the period. */
  sent: number;
  /** Median completeness (0-100) of those reports; null when none was sent or none was scored. */
  median_completeness: number | null;
  /** Median time from a report's first decision to its submission, in hours (two decimals). */
  median_hours_decision_to_submission: number | null;
  /** Of the reports sent, how many went out below the quality floor because the hold limit passed unconfirmed. */
  sent_unconfirmed_after_max_hold: number;
  /** Reports opened at NCMEC and retracted in the period (a failed attempt, or one cut off by a stop). */
  retractions: number;
}

/** Reports sent, their median completeness, decision-to-submission time and retractions, in [from, to). */
export async function ncmecFigures(sql: SqlClient, from: Date, to: Date): Promise<NcmecFigures> {
  if (!(from < to)) throw invalid('from must be before to');
  const sent = await sql.query<{ completeness: number | null; first_decided_at: Date | null; submitted_at: Date; unconfirmed: boolean }>(
    `SELECT completeness, first_decided_at, submitted_at, history @> '[{"event": "max_hold_reached"}]'::jsonb AS unconfirmed
     FROM ncmec_reports WHERE submitted_at >= $1 AND submitted_at < $2`,
    [from, to],
  );
  const retracted = await sql.query<{ n: string }>(
    `SELECT count(*) AS n FROM ncmec_reports r, jsonb_array_elements(r.history) h
     WHERE h->>'event' = 'retracted' AND (h->>'at')::timestamptz >= $1 AND (h->>'at')::timestamptz < $2`,
    [from, to],
  );
  const scored = sent.rows.filter((row) => row.completeness !== null).map((row) => Number(row.completeness));
  return {
    period: { from: from.toISOString(), to: to.toISOString() },
    sent: sent.rows.length,
    median_completeness: median(scored),
    median_hours_decision_to_submission: medianHours(sent.rows.map((row) => [row.first_decided_at && new Date(row.first_decided_at), new Date(row.submitted_at)])),
    sent_unconfirmed_after_max_hold: sent.rows.filter((row) => row.unconfirmed).length,
    retractions: Number(retracted.rows[0].n),
  };
}
