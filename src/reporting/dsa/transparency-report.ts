import { invalid } from '../../errors.ts';
import type { SqlClient } from '../../store/sql.ts';

export interface TransparencyFigures {
  period: { from: string; to: string };
  notices: { total: number; by_category: Record<string, number>; by_trusted_flagger: number; by_others: number; acted_on_illegal_content: number; acted_on_terms: number; processed_by_automated_means: number; median_hours_to_action: number | null };
  decisions: { total: number; restrictive: number; automated: number; human: number; by_ground: Record<string, number>; by_category: Record<string, number> };
  restrictions: { content_removed: number; account_suspended: number; service_restricted: number; statements: number };
  account_suspensions: number;
  appeals: { received: number; upheld: number; reversed: number; pending: number; median_hours_to_resolve: number | null };
  orders: { total: number; by_kind: Record<string, number>; by_member_state: Record<string, number>; median_hours_to_acknowledge: number | null; median_hours_to_effect: number | null };
  automated_means: { detection: number; decision_fully_automated: number; share_of_statements_detected_automatically: number | null };
}

export interface TransparencyReport {
  figures: TransparencyFigures;
  csv: string;
  html: string;
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const hours = (ms: number) => ms / 3_600_000;
const round = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);
const count = (rows: { key: string; n: number | string }[]) => Object.fromEntries(rows.map((row) => [row.key, Number(row.n)]));

/** Parses an ISO 8601 bound that states its offset (Z or ±hh:mm), so the period is unambiguous. */
export function parseBound(text: string, name: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) throw invalid(`${name} must be an ISO 8601 time with an offset, e.g. 2025-01-01T00:00:00Z`, { [name]: text });
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw invalid(`${name} is not a valid time`, { [name]: text });
  return date;
}

/** The Art. 15 / 24 figures for [from, to): an event exactly at `to` belongs to the next period. */
export async function transparencyFigures(sql: SqlClient, from: Date, to: Date): Promise<TransparencyFigures> {
  if (!(from < to)) throw invalid('from must be before to');
  const p = [from, to];
  const notices = await sql.query<{ category: string; trusted: boolean; received_at: Date; decided_at: Date | null; automated: boolean | null; restrictive: boolean; ground: string | null }>(
    `SELECT n.category, n.trusted_flagger_id IS NOT NULL AS trusted, n.received_at, d.decided_at, d.automated,
       EXISTS (SELECT 1 FROM dsa_statements s WHERE s.decision_id = n.decision_id) AS restrictive,
       (SELECT s.payload->>'decision_ground' FROM dsa_statements s WHERE s.decision_id = n.decision_id ORDER BY s.id LIMIT 1) AS ground
     FROM notices n LEFT JOIN decisions d ON d.id = n.decision_id
     WHERE n.received_at >= $1 AND n.received_at < $2`,
    p,
  );
  const acted = notices.rows.filter((row) => row.restrictive && row.decided_at);
  const decisions = await sql.query<{ automated: boolean; restrictive: boolean; ground: string | null; category: string | null }>(
    `SELECT d.automated, s.decision_id IS NOT NULL AS restrictive, s.payload->>'decision_ground' AS ground, s.payload->>'category' AS category
     FROM decisions d LEFT JOIN LATERAL (SELECT decision_id, payload FROM dsa_statements WHERE decision_id = d.id ORDER BY id LIMIT 1) s ON true
     WHERE d.decided_at >= $1 AND d.decided_at < $2`,
    p,
  );
  const restrictive = decisions.rows.filter((row) => row.restrictive);
  const tally = (values: (string | null)[]) => values.reduce<Record<string, number>>((acc, v) => ((acc[v ?? 'unknown'] = (acc[v ?? 'unknown'] ?? 0) + 1), acc), {});
  const statements = await sql.query<{ removed: boolean; suspended: boolean; restricted: boolean; detected: boolean; fully: boolean }>(
    `SELECT payload ? 'decision_visibility' AS removed, payload ? 'decision_account' AS suspended, payload ? 'decision_provision' AS restricted,
       payload->>'automated_detection' = 'Yes' AS detected, payload->>'automated_decision' = 'AUTOMATED_DECISION_FULLY' AS fully
     FROM dsa_statements WHERE decided_at >= $1 AND decided_at < $2`,
    p,
  );
  const s = statements.rows;
  const appealsReceived = await sql.query<{ n: string }>('SELECT count(*) AS n FROM appeals WHERE received_at >= $1 AND received_at < $2', p);
  const resolved = await sql.query<{ status: string; received_at: Date; resolved_at: Date }>(
    `SELECT status, received_at, resolved_at FROM appeals WHERE resolved_at >= $1 AND resolved_at < $2 AND status IN ('upheld', 'reversed')`,
    p,
  );
  const pending = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM appeals WHERE received_at < $2 AND (resolved_at IS NULL OR resolved_at >= $2) AND received_at >= $1`, p);
  const orders = await sql.query<{ kind: string; member_state: string; received_at: Date; acknowledged_at: Date | null; given_effect_at: Date | null }>(
    'SELECT kind, member_state, received_at, acknowledged_at, given_effect_at FROM authority_orders WHERE received_at >= $1 AND received_at < $2',
    p,
  );
  const suspended = s.filter((row) => row.suspended).length;
  return {
    period: { from: from.toISOString(), to: to.toISOString() },
    notices: {
      total: notices.rows.length,
      by_category: tally(notices.rows.map((row) => row.category)),
      by_trusted_flagger: notices.rows.filter((row) => row.trusted).length,
      by_others: notices.rows.filter((row) => !row.trusted).length,
      acted_on_illegal_content: acted.filter((row) => row.ground === 'DECISION_GROUND_ILLEGAL_CONTENT').length,
      acted_on_terms: acted.filter((row) => row.ground === 'DECISION_GROUND_INCOMPATIBLE_CONTENT').length,
      processed_by_automated_means: notices.rows.filter((row) => row.automated === true).length,
      median_hours_to_action: round(median(acted.map((row) => hours(row.decided_at!.getTime() - row.received_at.getTime())))),
    },
    decisions: {
      total: decisions.rows.length,
      restrictive: restrictive.length,
      automated: restrictive.filter((row) => row.automated).length,
      human: restrictive.filter((row) => !row.automated).length,
      by_ground: tally(restrictive.map((row) => row.ground)),
      by_category: tally(restrictive.map((row) => row.category)),
    },
    restrictions: { content_removed: s.filter((row) => row.removed).length, account_suspended: suspended, service_restricted: s.filter((row) => row.restricted).length, statements: s.length },
    account_suspensions: suspended,
    appeals: {
      received: Number(appealsReceived.rows[0].n),
      upheld: resolved.rows.filter((row) => row.status === 'upheld').length,
      reversed: resolved.rows.filter((row) => row.status === 'reversed').length,
      pending: Number(pending.rows[0].n),
      median_hours_to_resolve: round(median(resolved.rows.map((row) => hours(row.resolved_at.getTime() - row.received_at.getTime())))),
    },
    orders: {
      total: orders.rows.length,
      by_kind: tally(orders.rows.map((row) => row.kind)),
      by_member_state: tally(orders.rows.map((row) => row.member_state)),
      median_hours_to_acknowledge: round(median(orders.rows.filter((row) => row.acknowledged_at).map((row) => hours(row.acknowledged_at!.getTime() - row.received_at.getTime())))),
      median_hours_to_effect: round(median(orders.rows.filter((row) => row.given_effect_at).map((row) => hours(row.given_effect_at!.getTime() - row.received_at.getTime())))),
    },
    automated_means: {
      detection: s.filter((row) => row.detected).length,
      decision_fully_automated: s.filter((row) => row.fully).length,
      share_of_statements_detected_automatically: s.length ? round(s.filter((row) => row.detected).length / s.length) : null,
    },
  };
}

const csvCell = (value: unknown) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/**
 * One CSV (RFC 4180, CRLF, UTF-8), one row per figure, grouped by the sections of the
 * Commission's quantitative template (Implementing Regulation (EU) 2024/2835, Annex I).
 * The template's exact cell labels could not be retrieved; see docs/dsa.md.
 */
export function transparencyCsv(f: TransparencyFigures): string {
  const rows: unknown[][] = [['section', 'indicator', 'breakdown', 'value']];
  const add = (section: string, indicator: string, breakdown: string, value: unknown) => rows.push([section, indicator, breakdown, value]);
  add('Identification', 'Reporting period start', '', f.period.from);
  add('Identification', 'Reporting period end (exclusive)', '', f.period.to);
  const orders = 'Orders from Member States authorities (Art. 9 and 10)';
  add(orders, 'Number of orders received', 'total', f.orders.total);
  for (const [kind, n] of Object.entries(f.orders.by_kind)) add(orders, 'Number of orders received', `type: ${kind}`, n);
  for (const [state, n] of Object.entries(f.orders.by_member_state)) add(orders, 'Number of orders received', `Member State: ${state}`, n);
  add(orders, 'Median time to inform the authority of receipt (hours)', '', f.orders.median_hours_to_acknowledge);
  add(orders, 'Median time to give effect to the order (hours)', '', f.orders.median_hours_to_effect);
  const notices = 'Notices submitted in accordance with Art. 16';
  add(notices, 'Number of notices', 'total', f.notices.total);
  for (const [category, n] of Object.entries(f.notices.by_category)) add(notices, 'Number of notices', `category: ${category}`, n);
  add(notices, 'Number of notices submitted by trusted flaggers', '', f.notices.by_trusted_flagger);
  add(notices, 'Number of notices submitted by others', '', f.notices.by_others);
  add(notices, 'Actions taken on the basis of the law', '', f.notices.acted_on_illegal_content);
  add(notices, 'Actions taken on the basis of the terms and conditions', '', f.notices.acted_on_terms);
  add(notices, 'Number of notices processed by automated means', '', f.notices.processed_by_automated_means);
  add(notices, 'Median time to take action (hours)', '', f.notices.median_hours_to_action);
  const own = 'Content moderation decisions';
  add(own, 'Number of decisions', 'total', f.decisions.total);
  add(own, 'Number of restrictive decisions', 'total', f.decisions.restrictive);
  add(own, 'Number of restrictive decisions', 'automated means', f.decisions.automated);
  add(own, 'Number of restrictive decisions', 'human review', f.decisions.human);
  for (const [ground, n] of Object.entries(f.decisions.by_ground)) add(own, 'Number of restrictive decisions', `ground: ${ground}`, n);
  for (const [category, n] of Object.entries(f.decisions.by_category)) add(own, 'Number of restrictive decisions', `category: ${category}`, n);
  add(own, 'Restrictions by type', 'removal of content', f.restrictions.content_removed);
  add(own, 'Restrictions by type', 'suspension of the account', f.restrictions.account_suspended);
  add(own, 'Restrictions by type', 'partial suspension of the service', f.restrictions.service_restricted);
  const complaints = 'Complaints through the internal complaint-handling system (Art. 20)';
  add(complaints, 'Number of complaints received', '', f.appeals.received);
  add(complaints, 'Decisions upheld', '', f.appeals.upheld);
  add(complaints, 'Decisions reversed', '', f.appeals.reversed);
  add(complaints, 'Complaints pending at period end', '', f.appeals.pending);
  add(complaints, 'Median time to decide (hours)', '', f.appeals.median_hours_to_resolve);
  add('Suspensions (Art. 23, Art. 24(1)(b))', 'Number of account suspensions', '', f.account_suspensions);
  const automated = 'Use of automated means';
  add(automated, 'Statements where content was detected by automated means', '', f.automated_means.detection);
  add(automated, 'Statements where the decision was fully automated', '', f.automated_means.decision_fully_automated);
  add(automated, 'Share of statements detected by automated means', '', f.automated_means.share_of_statements_detected_automatically);
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Horizontal bars in plain SVG, so the file stands alone. */
function bars(title: string, rows: { label: string; value: number }[]): string {
  const labelWidth = 300;
  const barWidth = 360;
  const max = Math.max(1, ...rows.map((row) => row.value));
  const height = rows.length * 26 + 20;
  const body = rows
    .map((row, index) => {
      const y = 10 + index * 26;
      const w = (row.value / max) * barWidth;
      return `<text x="0" y="${y + 13}" class="label">${escapeHtml(row.label)}</text><rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="16" class="bar"><title>${row.value}</title></rect><text x="${labelWidth + w + 6}" y="${y + 13}" class="value">${row.value}</text>`;
    })
    .join('\n');
  return `<h3>${escapeHtml(title)}</h3><svg role="img" aria-label="${escapeHtml(title)}" width="${labelWidth + barWidth + 60}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 60} ${height}">${body}</svg>`;
}

const hoursText = (value: number | null) => (value === null ? 'n/a' : `${value} h`);

export function transparencyHtml(f: TransparencyFigures): string {
  const table = (rows: [string, string | number][]) =>
    `<table><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Transparency report ${escapeHtml(f.period.from)} to ${escapeHtml(f.period.to)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .8rem;text-align:left}td{text-align:right}.label{font-size:13px}.value{font-size:12px;fill:#333}.bar{fill:#2f5d8a}</style></head>
<body><h1>Transparency report</h1><p>Period (UTC): ${escapeHtml(f.period.from)} up to, not including, ${escapeHtml(f.period.to)}. DSA Articles 15 and 24.</p>
<h2>Notices (Art. 16)</h2>${table([
    ['Notices received', f.notices.total], ['From trusted flaggers', f.notices.by_trusted_flagger], ['From others', f.notices.by_others],
    ['Acted on: illegal content', f.notices.acted_on_illegal_content], ['Acted on: terms and conditions', f.notices.acted_on_terms],
    ['Processed by automated means', f.notices.processed_by_automated_means], ['Median time from notice to action', hoursText(f.notices.median_hours_to_action)],
  ])}${bars('Notices by category', Object.entries(f.notices.by_category).map(([label, value]) => ({ label, value })))}
<h2>Decisions</h2>${table([['Decisions', f.decisions.total], ['Restrictive decisions', f.decisions.restrictive], ['By automated means', f.decisions.automated], ['By human review', f.decisions.human]])}
${bars('Restrictive decisions by means', [{ label: 'Automated', value: f.decisions.automated }, { label: 'Human review', value: f.decisions.human }])}
${bars('Restrictive decisions by ground', Object.entries(f.decisions.by_ground).map(([label, value]) => ({ label, value })))}
${bars('Restrictions by type', [{ label: 'Removal of content', value: f.restrictions.content_removed }, { label: 'Suspension of the account', value: f.restrictions.account_suspended }, { label: 'Partial suspension of the service', value: f.restrictions.service_restricted }])}
<h2>Appeals (Art. 20)</h2>${table([['Received', f.appeals.received], ['Upheld', f.appeals.upheld], ['Reversed', f.appeals.reversed], ['Pending', f.appeals.pending], ['Median handling time', hoursText(f.appeals.median_hours_to_resolve)]])}
${bars('Appeal outcomes', [{ label: 'Upheld', value: f.appeals.upheld }, { label: 'Reversed', value: f.appeals.reversed }])}
<h2>Orders from authorities (Art. 9 and 10)</h2>${table([['Orders received', f.orders.total], ['Median time to acknowledge', hoursText(f.orders.median_hours_to_acknowledge)], ['Median time to give effect', hoursText(f.orders.median_hours_to_effect)]])}
${bars('Orders by Member State', Object.entries(f.orders.by_member_state).map(([label, value]) => ({ label, value })))}
<h2>Automated means</h2>${table([['Statements with automated detection', f.automated_means.detection], ['Statements with fully automated decision', f.automated_means.decision_fully_automated], ['Account suspensions', f.account_suspensions]])}
</body></html>
`;
}

export async function transparencyReport(sql: SqlClient, period: { from: Date; to: Date }): Promise<TransparencyReport> {
  const figures = await transparencyFigures(sql, period.from, period.to);
  return { figures, csv: transparencyCsv(figures), html: transparencyHtml(figures) };
}
