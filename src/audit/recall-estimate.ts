import type { SqlClient } from '../store/sql.ts';

/**
 * Detection recall as estimated by the latest detection run: the share of confirmed accounts
 * that detection finds again when they are hidden from it (leave-seeds-out), with an
 * uncertainty interval. Written by the detection run into
 * `detection_runs.calibration.recall` (src/graph/risk-calibration.ts, heldOutRecall); see readRecallEstimate.
 */
export interface RecallEstimate {
  runId: number;
  estimate: number;
  low: number;
  high: number;
  /** How many confirmed accounts were held out, when the run says. */
  heldOut: number | null;
  method: string | null;
}

const isShare = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;

/**
 * Reads the recall estimate from a run's calibration, or null when it is absent or does not make
 * sense. Null means "recall unknown": the audit then shows only what is known. An estimate of
 * 0 (nothing held out was found again) is unknown too, since dividing by it says nothing; a
 * lower bound of 0 is kept and leaves the estimates without an upper bound of their own.
 */
export function readRecallEstimate(runId: number, calibration: unknown): RecallEstimate | null {
  const recall = (calibration as { recall?: unknown } | null)?.recall as
    | { estimate?: unknown; low?: unknown; high?: unknown; heldOut?: unknown; method?: unknown }
    | undefined;
  if (!recall || typeof recall !== 'object') return null;
  const { estimate, low, high } = recall;
  if (!isShare(estimate) || !isShare(low) || !isShare(high)) return null;
  if (estimate <= 0 || low > estimate || high < estimate) return null;
  return {
    runId,
    estimate,
    low,
    high,
    heldOut: typeof recall.heldOut === 'number' && Number.isInteger(recall.heldOut) && recall.heldOut >= 0 ? recall.heldOut : null,
    method: typeof recall.method === 'string' ? recall.method.slice(0, 200) : null,
  };
}

export async function latestRecallEstimate(sql: SqlClient): Promise<RecallEstimate | null> {
  const latest = await sql.query<{ id: number; calibration: unknown }>('SELECT id, calibration FROM detection_runs ORDER BY id DESC LIMIT 1');
  const row = latest.rows[0];
  return row ? readRecallEstimate(Number(row.id), row.calibration) : null;
}
