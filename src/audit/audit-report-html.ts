import { BAR_CHART_CSS, barChart, type ChartSeries } from '../reporting/bar-chart-html.ts';
import { readableTime } from '../reporting/dates.ts';
import { label, NONE_IN_PERIOD } from '../reporting/labels.ts';
import type { ExposureMetrics, RecommendationAuditReport } from './recommendation-audit.ts';
import { knownAndEstimatedHtml, limitsHtml } from './audit-report-limits-html.ts';
import { escapeHtml, percent } from '../reporting/html-text.ts';

/** The shares charted before and after the guardrail, under their labels from the shared label map. */
const SHARE_METRICS: (keyof ExposureMetrics)[] = ['suspectToSuspectShare', 'minorShownToSuspectShare', 'ordinaryExposureShare', 'minorExposureShare', 'suspectShownShare'];
const BEFORE_AFTER: ChartSeries[] = [
  { name: 'Before the guardrail', colour: '#8b1e3f' },
  { name: 'After the guardrail', colour: '#7fb3d5' },
];
const REMOVED: ChartSeries[] = [{ name: 'Suggestions removed', colour: '#8b1e3f' }];

const shareRows = (metrics: (keyof ExposureMetrics)[], before: ExposureMetrics, after: ExposureMetrics) =>
  metrics.map((key) => ({ label: label(key), values: [before[key] ?? 0, after[key] ?? 0] }));

/** A share metric prints as a percentage, the lift as a multiple, a count as a whole number. */
function metricText(key: keyof ExposureMetrics, value: number | null): string {
  if (value === null) return 'Not available';
  if (key.endsWith('Share')) return percent(value);
  if (key.endsWith('Lift')) return `${value.toFixed(2)}×`;
  return value.toLocaleString('en');
}

function metricsTable(report: RecommendationAuditReport): string {
  const keys = Object.keys(report.before) as (keyof ExposureMetrics)[];
  return `<table><thead><tr><th>Figure</th><th>Before the guardrail</th><th>After the guardrail</th></tr></thead><tbody>
${keys.map((key) => `<tr><td>${escapeHtml(label(key))}</td><td>${metricText(key, report.before[key])}</td><td>${metricText(key, report.after[key])}</td></tr>`).join('\n')}
</tbody></table>`;
}

export function renderAuditHtml(report: RecommendationAuditReport): string {
  const period = `${report.period.from ? readableTime(report.period.from) : 'the first impression'} to ${report.period.to ? readableTime(report.period.to) : 'the last impression'}`;
  const overall = barChart({ rows: shareRows(SHARE_METRICS, report.before, report.after), series: BEFORE_AFTER, format: percent });
  const bySurface = report.surfaces
    .map((surface) => barChart({ title: label(surface.surface), rows: shareRows(SHARE_METRICS.slice(0, 4), surface.before, surface.after), series: BEFORE_AFTER, format: percent }))
    .join('\n');
  const reasons = Object.entries(report.removedByReason).sort((a, b) => b[1] - a[1]);
  const reasonChart = barChart({ rows: reasons.map(([reason, count]) => ({ label: label(reason), values: [count] })), series: REMOVED });
  const lift = report.before.suspectToSuspectLift;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Recommendation audit</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 980px; margin: 2rem auto; color: #1d232a; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin-top: 1rem; width: 100%; } td, th { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; vertical-align: top; }
td:first-child, th:first-child { text-align: left; } td:not(:first-child) { white-space: nowrap; font-variant-numeric: tabular-nums; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 1rem; } .figure { background: #f6f8fa; padding: .8rem 1rem; border-radius: 6px; }
.figure b { display: block; font-size: 1.5rem; }
${BAR_CHART_CSS}
</style></head><body>
<h1>Recommendation audit</h1>
<p>Impressions from ${escapeHtml(period)}; generated ${escapeHtml(readableTime(report.generatedAt))}. An account is a suspect when it is confirmed, labelled suspect, a member of a detected network, a suspected ban evader, or has a detection risk of at least ${report.policy.suspectRisk}. "After" applies the guardrail as configured now to the same impressions. Leads with a risk below ${report.policy.highRisk} are kept from minors and suspects only, so ordinary viewers can still be shown them; lowering the guardrail's high-risk threshold removes them for everyone.</p>
<div class="figures">
<div class="figure"><b>${report.before.impressions.toLocaleString('en')}</b>impressions audited</div>
<div class="figure"><b>${lift === null ? 'Not available' : `${lift.toFixed(1)}×`}</b>how much more often suspect viewers were shown suspects than the base rate</div>
<div class="figure"><b>${percent(report.before.minorExposureShare)} → ${percent(report.after.minorExposureShare)}</b>minor viewers shown a suspect</div>
<div class="figure"><b>${percent(report.follows.fromRecommendationsShare)}</b>of follows between suspects came from recommendations (${report.follows.fromRecommendations.toLocaleString('en')} of ${report.follows.betweenSuspects.toLocaleString('en')})</div>
</div>
<h2>What these figures can and cannot show</h2>
${limitsHtml(report)}
<h2>Exposure before and after the guardrail</h2>
${overall}
<h2>Known and estimated</h2>
${knownAndEstimatedHtml(report)}
<h2>By surface</h2>
${bySurface || `<p class="none">${NONE_IN_PERIOD}</p>`}
<h2>What the guardrail removed</h2>
${reasonChart}
<h2>Ban evasion</h2>
<p>${report.evasion.links
  ? `${report.evasion.links} likely returns of removed accounts in the latest detection run${
      report.evasion.medianDaysToDetection === null
        ? ''
        : `; median ${report.evasion.medianDaysToDetection} days from the new account's creation to detection, in event time (the run read events up to ${escapeHtml(report.evasion.detectedAsOf ? readableTime(report.evasion.detectedAsOf) : 'an unknown time')})`
    }.`
  : 'No likely returns of removed accounts in the latest detection run.'}</p>
<h2>All figures</h2>
${metricsTable(report)}
</body></html>
`;
}
