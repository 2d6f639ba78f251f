import { escapeHtml } from './html-text.ts';
import { NONE_IN_PERIOD } from './labels.ts';

/**
 * Horizontal bar charts for the HTML reports, in HTML and CSS rather than SVG: each row is a
 * grid of label | track | value, so a long label wraps inside its own column instead of running
 * into the bars, and each bar is a percentage of its track, so it can never leave it. The
 * reports stay single files: no script, no external style sheet.
 */

/** One bar per series in each row, e.g. before and after the guardrail. */
export interface ChartSeries {
  name: string;
  /** CSS colour of the bar and its key swatch. */
  colour: string;
}

export interface ChartRow {
  label: string;
  /** One value per series, in the order of the series. */
  values: number[];
}

/** The style the charts need; a report puts it in its <style> once. */
export const BAR_CHART_CSS = `
.chart { margin: .5rem 0 1.5rem; }
.chart-title { font-weight: 600; margin: 1rem 0 .4rem; }
.chart-key { font-size: 13px; margin: 0 0 .4rem; }
.chart-key span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: -1px; }
.chart-key span:first-child { margin-left: 0; }
.chart-row { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr) minmax(3.5rem, max-content); column-gap: .8rem; align-items: center; padding: .25rem 0; border-bottom: 1px solid #eef0f2; }
.chart-label { font-size: 13px; line-height: 1.3; overflow-wrap: anywhere; }
.chart-track { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.chart-bar { height: 14px; max-width: 100%; border-radius: 2px; }
.chart-values { display: flex; flex-direction: column; gap: 2px; font-size: 12px; line-height: 14px; color: #57606a; font-variant-numeric: tabular-nums; white-space: nowrap; }
.none { color: #57606a; font-style: italic; }
`;

/**
 * A chart of `rows`, each bar a share of the largest value. A chart with nothing to show (no rows,
 * or every value zero) says so in words instead of drawing empty tracks.
 */
export function barChart(options: { title?: string; rows: ChartRow[]; series: ChartSeries[]; format?: (value: number) => string }): string {
  const format = options.format ?? ((value: number) => value.toLocaleString('en'));
  const title = options.title ? `<figcaption class="chart-title">${escapeHtml(options.title)}</figcaption>` : '';
  const figure = `<figure class="chart"${options.title ? ` aria-label="${escapeHtml(options.title)}"` : ''}>${title}`;
  const values = options.rows.flatMap((row) => row.values);
  if (values.every((value) => value === 0)) return `${figure}<p class="none">${NONE_IN_PERIOD}</p></figure>`;
  const max = Math.max(...values);
  const key =
    options.series.length > 1
      ? `<p class="chart-key">${options.series.map((series) => `<span style="background:${series.colour}"></span>${escapeHtml(series.name)}`).join(' ')}</p>`
      : '';
  const rows = options.rows
    .map((row) => {
      const bars = row.values
        .map((value, index) => {
          const series = options.series[index];
          const width = max > 0 ? (value / max) * 100 : 0;
          return `<div class="chart-bar" style="width:${width.toFixed(2)}%;background:${series.colour}" title="${escapeHtml(`${series.name}: ${format(value)}`)}"></div>`;
        })
        .join('');
      const printed = row.values.map((value) => `<span>${escapeHtml(format(value))}</span>`).join('');
      return `<div class="chart-row"><div class="chart-label">${escapeHtml(row.label)}</div><div class="chart-track">${bars}</div><div class="chart-values">${printed}</div></div>`;
    })
    .join('\n');
  return `${figure}${key}\n${rows}\n</figure>`;
}
