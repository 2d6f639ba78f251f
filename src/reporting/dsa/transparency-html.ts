import { BAR_CHART_CSS, barChart, type ChartSeries } from '../bar-chart-html.ts';
import { escapeHtml } from '../html-text.ts';
import { readableDay, readableTime } from '../dates.ts';
import { label, NONE_IN_PERIOD } from '../labels.ts';
import type { TransparencyFigures } from './transparency-report.ts';

const NOT_COLLECTED = 'Not collected by Bulwark';
const COUNT: ChartSeries[] = [{ name: 'Count', colour: '#2f5d8a' }];

/** A median over nothing is not zero hours: the period had nothing to take it from. */
const hoursText = (value: number | null) => (value === null ? NONE_IN_PERIOD : `${value} h`);

/** A tally keyed by codes, as chart rows under their labels, largest first. */
const tallyRows = (tally: Record<string, number>) =>
  Object.entries(tally)
    .sort(([a, x], [b, y]) => y - x || label(a).localeCompare(label(b)))
    .map(([code, value]) => ({ label: label(code), values: [value] }));

const chart = (title: string, rows: { label: string; values: number[] }[]) => barChart({ title, rows, series: COUNT });

function table(rows: [string, string | number][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'number' ? v.toLocaleString('en') : v)}</td></tr>`).join('')}</tbody></table>`;
}

/** The report a person reads: the same figures as the JSON and CSV, under the same labels. */
export function transparencyHtml(f: TransparencyFigures): string {
  const from = readableTime(f.period.from);
  const to = readableTime(f.period.to);
  const notHeld = [...new Set(f.annex_i.filter((row) => row.value === null && row.contextual_information.startsWith(NOT_COLLECTED)).map((row) => `${row.section} ${row.indicator}`))];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Transparency report, ${escapeHtml(readableDay(f.period.from))} to ${escapeHtml(readableDay(new Date(new Date(f.period.to).getTime() - 1)))}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 900px; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
h2 { margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; max-width: 40rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .8rem; text-align: left; vertical-align: top; }
td { text-align: right; white-space: nowrap; }
${BAR_CHART_CSS}
</style></head>
<body><h1>Transparency report</h1>
<p>From ${escapeHtml(from)} up to, not including, ${escapeHtml(to)}. DSA Articles 15 and 24.</p>
<h2>Notices (Art. 16)</h2>${table([
    ['Notices received', f.notices.total], ['From trusted flaggers', f.notices.by_trusted_flagger], ['From others', f.notices.by_others],
    ['Acted on: illegal content', f.notices.acted_on_illegal_content], ['Acted on: terms and conditions', f.notices.acted_on_terms],
    ['Processed by automated means', f.notices.processed_by_automated_means], ['Median time from notice to action', hoursText(f.notices.median_hours_to_action)],
  ])}
${chart('Notices by category', tallyRows(f.notices.by_category))}
<h2>Decisions</h2>${table([['Decisions', f.decisions.total], ['Restrictive decisions', f.decisions.restrictive], ['By automated means', f.decisions.automated], ['By human review', f.decisions.human]])}
${chart('Restrictive decisions by means', [{ label: 'Automated', values: [f.decisions.automated] }, { label: 'Human review', values: [f.decisions.human] }])}
${chart('Restrictive decisions by ground', tallyRows(f.decisions.by_ground))}
${chart('Restrictive decisions by category', tallyRows(f.decisions.by_category))}
${chart('Restrictions by type', [
    { label: 'Removal of content', values: [f.restrictions.content_removed] },
    { label: 'Suspension of the account', values: [f.restrictions.account_suspended] },
    { label: 'Partial suspension of the service', values: [f.restrictions.service_restricted] },
  ])}
<h2>Appeals (Art. 20)</h2>${table([['Received', f.appeals.received], ['Upheld', f.appeals.upheld], ['Reversed', f.appeals.reversed], ['Pending', f.appeals.pending], ['Median handling time', hoursText(f.appeals.median_hours_to_resolve)]])}
${chart('Appeal outcomes', [{ label: 'Upheld', values: [f.appeals.upheld] }, { label: 'Reversed', values: [f.appeals.reversed] }])}
<h2>Orders from authorities (Art. 9 and 10)</h2>${table([['Orders received', f.orders.total], ['Median time to acknowledge', hoursText(f.orders.median_hours_to_acknowledge)], ['Median time to give effect', hoursText(f.orders.median_hours_to_effect)]])}
${chart('Orders by kind', tallyRows(f.orders.by_kind))}
${chart('Orders by Member State', tallyRows(f.orders.by_member_state))}
<h2>Automated means</h2>${table([['Statements with automated detection', f.automated_means.detection], ['Statements with fully automated decision', f.automated_means.decision_fully_automated], ['Account suspensions', f.account_suspensions]])}
<h2>Reports to NCMEC (CyberTipline)</h2>${table([
    ['Reports sent', f.ncmec.sent], ['Median completeness (0-100)', f.ncmec.median_completeness ?? NONE_IN_PERIOD], ['Median time from decision to submission', hoursText(f.ncmec.median_hours_decision_to_submission)],
    ['Sent unconfirmed after the hold limit', f.ncmec.sent_unconfirmed_after_max_hold], ['Retractions', f.ncmec.retractions],
  ])}
<h2>Not held by Bulwark</h2><p>The Annex I template of Implementing Regulation (EU) 2024/2835 also asks for the figures below, which the operator supplies from elsewhere. The CSV version of this report leaves them empty.</p>
${notHeld.length ? `<ul>${notHeld.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>` : '<p>Bulwark holds every figure the template asks for.</p>'}
</body></html>
`;
}
