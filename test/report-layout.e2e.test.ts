import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { renderAuditHtml } from '../src/audit/audit-report-html.ts';
import type { ExposureMetrics, RecommendationAuditReport } from '../src/audit/recommendation-audit.ts';
import { type TransparencyFigures, transparencyHtml } from '../src/reporting/dsa/transparency-report.ts';
import { browserSkip, launchChromium, screenshot } from './helpers/browser.ts';

/**
 * The HTML reports in Chromium at a narrow and a wide window: every chart label stays clear of
 * its bars, no bar leaves its track, nothing scrolls sideways, and the page shows labels, not
 * codes. The figures are written out here rather than computed, so the test needs no store and
 * can pick the awkward cases: long category names, many rows, an empty section.
 */

const metrics = (scale: number): ExposureMetrics => ({
  impressions: Math.round(48_210 * scale),
  suspectShownShare: 0.012 * scale,
  suspectViewers: 57,
  suspectToSuspectShare: 0.31 * scale,
  suspectToSuspectLift: scale > 0 ? 25.8 : null,
  suspectViewersShownMinors: Math.round(23 * scale),
  minorShownToSuspectShare: 0.044 * scale,
  ordinaryViewers: 4_120,
  ordinaryViewersExposed: Math.round(312 * scale),
  ordinaryExposureShare: 0.0757 * scale,
  minorViewers: 402,
  minorViewersExposed: Math.round(34 * scale),
  minorExposureShare: 0.0846 * scale,
  suspectShownImpressions: Math.round(578 * scale),
  suspectToSuspectImpressions: Math.round(180 * scale),
  suspectShownToMinorImpressions: Math.round(40 * scale),
});

const auditReport: RecommendationAuditReport = {
  generatedAt: '2026-12-07T10:20:00.000Z',
  period: { from: '2026-11-01T00:00:00.000Z', to: null },
  policy: { suspectRisk: 0.5, highRisk: 0.8 },
  accountsTracked: 4_579,
  before: metrics(1),
  after: metrics(0.02),
  surfaces: [
    { surface: 'people_you_may_know', before: metrics(1.2), after: metrics(0) },
    { surface: 'home_feed', before: metrics(0.7), after: metrics(0.01) },
  ],
  removedByReason: {
    candidate_in_suspect_network: 1_204,
    suspect_candidate_for_minor_viewer: 311,
    minor_candidate_for_suspect_viewer: 187,
    candidate_suspected_ban_evasion: 42,
    content_matched_bank: 3,
  },
  follows: { betweenSuspects: 33, fromRecommendations: 22, fromRecommendationsShare: 0.6667 },
  evasion: { links: 4, medianDaysToDetection: 2.5, detectedAsOf: '2026-12-01T00:00:00.000Z' },
  labels: {},
  known: { flaggedAccounts: 57 },
  estimated: null,
};

const transparencyFigures: TransparencyFigures = {
  period: { from: '2030-02-28T23:00:00.000Z', to: '2030-03-31T22:00:00.000Z' },
  reporting_period: '2030-02-28/2030-03-31',
  notices: {
    total: 1_310,
    by_category: {
      STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS: 12,
      STATEMENT_CATEGORY_PROTECTION_OF_MINORS: 1_180,
      csam: 96,
      'term-alpha': 22,
    },
    by_trusted_flagger: 140,
    by_others: 1_170,
    acted_on_illegal_content: 1_022,
    acted_on_terms: 80,
    processed_by_automated_means: 960,
    median_hours_to_action: 3.5,
  },
  decisions: {
    total: 1_400,
    restrictive: 1_102,
    automated: 880,
    human: 222,
    by_ground: { DECISION_GROUND_ILLEGAL_CONTENT: 1_022, DECISION_GROUND_INCOMPATIBLE_CONTENT: 80 },
    by_category: { STATEMENT_CATEGORY_PROTECTION_OF_MINORS: 1_090, STATEMENT_CATEGORY_OTHER_VIOLATION_TC: 12 },
  },
  restrictions: { content_removed: 1_050, account_suspended: 410, service_restricted: 3, statements: 1_102 },
  account_suspensions: 410,
  // Nothing was appealed: the appeal chart is an empty section.
  appeals: { received: 0, upheld: 0, reversed: 0, pending: 0, median_hours_to_resolve: null },
  orders: {
    total: 9,
    by_kind: { act_against_illegal_content: 7, provide_information: 2 },
    by_member_state: { DE: 4, FR: 2, NL: 1, PL: 1, IE: 1 },
    median_hours_to_acknowledge: 1,
    median_hours_to_effect: 6,
  },
  automated_means: { detection: 900, decision_fully_automated: 880, share_of_statements_detected_automatically: 0.82 },
  ncmec: { period: { from: '2030-02-28T23:00:00.000Z', to: '2030-03-31T22:00:00.000Z' }, sent: 12, median_completeness: 56, median_hours_decision_to_submission: 1.25, sent_unconfirmed_after_max_hold: 1, retractions: 0 },
  annex_i: [],
  labels: {},
};

/**
 * What in the page breaks the layout rules, as readable lines; empty when nothing does. Passed to
 * the page as source text: tsx's name-keeping helpers do not exist inside the page.
 */
const LAYOUT_PROBLEMS = `(() => {
  const problems = [];
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const rows = [...document.querySelectorAll('.chart-row')];
  if (rows.length === 0) problems.push('no chart rows');
  for (const row of rows) {
    const label = row.querySelector('.chart-label');
    const name = label.textContent.trim();
    // The text's own box: a label that overflowed its column would still have a column-sized element box.
    const range = document.createRange();
    range.selectNodeContents(label);
    const labelBox = range.getBoundingClientRect();
    const track = row.querySelector('.chart-track').getBoundingClientRect();
    const values = row.querySelector('.chart-values').getBoundingClientRect();
    if (labelBox.width === 0) problems.push(name + ': label has no width');
    if (overlaps(labelBox, values)) problems.push(name + ': label overlaps its values');
    for (const bar of row.querySelectorAll('.chart-bar')) {
      const box = bar.getBoundingClientRect();
      if (overlaps(labelBox, box)) problems.push(name + ': label overlaps its bar');
      if (overlaps(values, box)) problems.push(name + ': value overlaps its bar');
      if (box.right > track.right + 0.5 || box.left < track.left - 0.5) problems.push(name + ': bar leaves its track');
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  return problems;
})()`;

const layoutProblems = (page: Page) => page.evaluate<string[]>(LAYOUT_PROBLEMS);

describe('HTML reports in Chromium', { skip: browserSkip() }, () => {
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
  });

  const reports = [
    { name: 'transparency-report', html: () => transparencyHtml(transparencyFigures) },
    { name: 'recommendation-audit', html: () => renderAuditHtml(auditReport) },
  ];
  for (const report of reports) {
    it(`${report.name}: labels clear of their bars, no sideways scroll, no raw codes, at 800 and 1400 px`, async () => {
      await page.setContent(report.html());
      for (const width of [800, 1400]) {
        await page.setViewportSize({ width, height: 900 });
        assert.deepEqual(await layoutProblems(page), [], `${report.name} at ${width} px`);
        await screenshot(page, `${report.name}-${width}`);
      }
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /\b[A-Z]+(?:_[A-Z]+)+\b/, 'no UPPER_SNAKE enum codes');
      assert.doesNotMatch(text, /\b[a-z]+(?:_[a-z]+)+\b/, 'no snake_case reason codes');
      assert.doesNotMatch(text, /\b[a-z]+[A-Z][a-zA-Z]*\b/, 'no camelCase keys');
      assert.doesNotMatch(text, /\d{4}-\d{2}-\d{2}T\d{2}:/, 'no raw ISO timestamps');
      assert.match(text, / UTC\b/, 'times say their zone');
    });
  }

  it('names an empty section in words and prints labels from the shared map', async () => {
    await page.setContent(transparencyHtml(transparencyFigures));
    const appeals = await page.locator('figure[aria-label="Appeal outcomes"]').innerText();
    assert.match(appeals, /None in this period\./);
    const categories = await page.locator('figure[aria-label="Notices by category"] .chart-label').allInnerTexts();
    assert.deepEqual(categories, ['Protection of minors', 'Child sexual abuse material (CSAM)', 'Term alpha', 'Negative effects on civic discourse or elections']);
    const states = await page.locator('figure[aria-label="Orders by Member State"] .chart-label').allInnerTexts();
    assert.equal(states[0], 'Germany (DE)');
    await page.setContent(renderAuditHtml(auditReport));
    const reasons = await page.locator('.chart-label', { hasText: 'Minor suggested to a suspect' }).count();
    assert.equal(reasons, 1);
  });
});
