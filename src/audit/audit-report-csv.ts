import { toCsv } from '../reporting/csv.ts';
import { label } from '../reporting/labels.ts';
import type { ExposureMetrics, RecommendationAuditReport } from './recommendation-audit.ts';

export const AUDIT_CSV_HEADER = ['Section', 'Figure', 'Code', 'Before the guardrail', 'After the guardrail'] as const;

/**
 * The recommendation audit as a spreadsheet: the exposure figures for all surfaces and for each
 * one, then the suggestions removed by reason. Figures are under their labels from the shared
 * label map, with the JSON's code beside them so a reader can join the two.
 */
export function renderAuditCsv(report: RecommendationAuditReport): string {
  const metricRows = (section: string, before: ExposureMetrics, after: ExposureMetrics) =>
    (Object.keys(before) as (keyof ExposureMetrics)[]).map((key) => [section, label(key), key, before[key], after[key]]);
  return toCsv([
    AUDIT_CSV_HEADER,
    ...metricRows('All surfaces', report.before, report.after),
    ...report.surfaces.flatMap((surface) => metricRows(`Surface: ${label(surface.surface)}`, surface.before, surface.after)),
    ...Object.entries(report.removedByReason).map(([reason, count]) => ['Suggestions removed by the guardrail', label(reason), reason, count, '']),
  ]);
}
