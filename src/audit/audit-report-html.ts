import type { ExposureMetrics, RecommendationAuditReport } from './recommendation-audit.ts';
import { knownAndEstimatedHtml, limitsHtml } from './audit-report-limits-html.ts';
import { escapeHtml, percent } from './html-text.ts';

const SHARE_METRICS: { key: keyof ExposureMetrics; label: string }[] = [
  { key: 'suspectToSuspectShare', label: 'Suspect viewers: share of suggestions that are suspects' },
  { key: 'minorShownToSuspectShare', label: 'Suspect viewers: share of suggestions that are minors' },
  { key: 'ordinaryExposureShare', label: 'Ordinary viewers shown at least one suspect' },
  { key: 'minorExposureShare', label: 'Minor viewers shown at least one suspect' },
  { key: 'suspectShownShare', label: 'All suggestions that are suspects (base rate)' },
];

/** Horizontal paired bars, before (dark) and after (light) the guardrail; plain SVG so the file stands alone. */
function pairedBars(rows: { label: string; before: number; after?: number }[], format: (value: number) => string): string {
  const rowHeight = rows.some((row) => row.after !== undefined) ? 46 : 26;
  const labelWidth = 360;
  const barWidth = 360;
  const max = Math.max(1e-9, ...rows.flatMap((row) => [row.before, row.after ?? 0]));
  const height = rows.length * rowHeight + 30;
  const bars = rows
    .map((row, index) => {
      const y = 10 + index * rowHeight;
      const w1 = (row.before / max) * barWidth;
      const first = `<text x="0" y="${y + 14}" class="label">${escapeHtml(row.label)}</text>
<rect x="${labelWidth}" y="${y}" width="${w1.toFixed(1)}" height="16" class="before"><title>${format(row.before)}</title></rect>
<text x="${labelWidth + w1 + 6}" y="${y + 13}" class="value">${format(row.before)}</text>`;
      if (row.after === undefined) return first;
      const w2 = (row.after / max) * barWidth;
      return `${first}
<rect x="${labelWidth}" y="${y + 18}" width="${w2.toFixed(1)}" height="16" class="after"><title>after: ${format(row.after)}</title></rect>
<text x="${labelWidth + w2 + 6}" y="${y + 31}" class="value">${format(row.after)}</text>`;
    })
    .join('\n');
  return `<svg role="img" width="${labelWidth + barWidth + 80}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 80} ${height}">${bars}</svg>`;
}

function metricsTable(report: RecommendationAuditReport): string {
  const keys = Object.keys(report.before) as (keyof ExposureMetrics)[];
  const cell = (value: number | null) => (value === null ? 'n/a' : Number.isInteger(value) ? String(value) : value.toFixed(4));
  return `<table><thead><tr><th>Metric</th><th>Before guardrail</th><th>After guardrail</th></tr></thead><tbody>
${keys.map((key) => `<tr><td>${escapeHtml(key)}</td><td>${cell(report.before[key])}</td><td>${cell(report.after[key])}</td></tr>`).join('\n')}
</tbody></table>`;
}

export function renderAuditHtml(report: RecommendationAuditReport): string {
  const period = `${report.period.from ?? 'the first impression'} to ${report.period.to ?? 'the last impression'}`;
  const overall = pairedBars(
    SHARE_METRICS.map(({ key, label }) => ({ label, before: report.before[key] as number, after: report.after[key] as number })),
    percent,
  );
  const bySurface = report.surfaces
    .map(
      (surface) => `<h3>${escapeHtml(surface.surface)}</h3>
${pairedBars(
  SHARE_METRICS.slice(0, 4).map(({ key, label }) => ({ label, before: surface.before[key] as number, after: surface.after[key] as number })),
  percent,
)}`,
    )
    .join('\n');
  const reasons = Object.entries(report.removedByReason).sort((a, b) => b[1] - a[1]);
  const reasonChart = reasons.length > 0 ? pairedBars(reasons.map(([reason, count]) => ({ label: reason, before: count })), (v) => String(v)) : '<p>The guardrail removed nothing.</p>';
  const lift = report.before.suspectToSuspectLift;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Recommendation audit</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 980px; margin: 2rem auto; color: #1d232a; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; }
.label { font-size: 13px; fill: #1d232a; } .value { font-size: 12px; fill: #57606a; }
.before { fill: #8b1e3f; } .after { fill: #7fb3d5; }
.key span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }
table { border-collapse: collapse; margin-top: 1rem; } td, th { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; } td:first-child, th:first-child { text-align: left; }
.figures { display: flex; gap: 1.5rem; flex-wrap: wrap; } .figure { background: #f6f8fa; padding: .8rem 1rem; border-radius: 6px; min-width: 180px; }
.figure b { display: block; font-size: 1.5rem; }
</style></head><body>
<h1>Recommendation audit</h1>
<p>Impressions from ${escapeHtml(period)}, generated ${escapeHtml(report.generatedAt)}. An account is a suspect when it is confirmed, labelled suspect, a member of a detected network, a suspected ban evader, or has a detection risk of at least ${report.policy.suspectRisk}. "After" applies the guardrail as configured now to the same impressions. Leads with a risk below ${report.policy.highRisk} are kept from minors and suspects only, so ordinary viewers can still be shown them; lowering the guardrail's high-risk threshold removes them for everyone.</p>
<div class="figures">
<div class="figure"><b>${report.before.impressions}</b>impressions audited</div>
<div class="figure"><b>${lift === null ? 'n/a' : `${lift.toFixed(1)}x`}</b>how much more often suspect viewers were shown suspects than the base rate</div>
<div class="figure"><b>${percent(report.before.minorExposureShare)} → ${percent(report.after.minorExposureShare)}</b>minor viewers shown a suspect</div>
<div class="figure"><b>${percent(report.follows.fromRecommendationsShare)}</b>of follows between suspects came from recommendations (${report.follows.fromRecommendations} of ${report.follows.betweenSuspects})</div>
</div>
<h2>What these figures can and cannot show</h2>
${limitsHtml(report)}
<h2>Exposure before and after the guardrail</h2>
<p class="key"><span class="before" style="background:#8b1e3f"></span>before <span style="background:#7fb3d5"></span>after</p>
${overall}
<h2>Known and estimated</h2>
${knownAndEstimatedHtml(report)}
<h2>By surface</h2>
${bySurface || '<p>No impressions.</p>'}
<h2>What the guardrail removed</h2>
${reasonChart}
<h2>Ban evasion</h2>
<p>${report.evasion.links} likely returns of removed accounts in the latest detection run${
  report.evasion.medianDaysToDetection === null
    ? ''
    : `; median ${report.evasion.medianDaysToDetection} days from the new account's creation to detection, in event time (the run read events up to ${escapeHtml(report.evasion.detectedAsOf ?? '')})`
}.</p>
<h2>All figures</h2>
${metricsTable(report)}
</body></html>
`;
}
