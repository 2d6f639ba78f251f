import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderAuditCsv } from '../src/audit/audit-report-csv.ts';
import { barChart } from '../src/reporting/bar-chart-html.ts';
import { readableDay, readableTime } from '../src/reporting/dates.ts';
import { label, labelsFor } from '../src/reporting/labels.ts';

describe('report labels and dates', () => {
  it('puts every kind of code the reports carry into words', () => {
    assert.equal(label('STATEMENT_CATEGORY_PROTECTION_OF_MINORS'), 'Protection of minors');
    assert.equal(label('STATEMENT_CATEGORY_OTHER_VIOLATION_TC'), "Other violation of the provider's terms and conditions");
    assert.equal(label('KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS'), 'Grooming sexual enticement minors');
    assert.equal(label('DECISION_GROUND_ILLEGAL_CONTENT'), 'Illegal content');
    assert.equal(label('suspect_candidate_for_minor_viewer'), 'Suspect suggested to a minor');
    assert.equal(label('minorExposureShare'), 'Share of minor viewers shown at least one suspect');
    assert.equal(label('someNewMetricKey'), 'Some new metric key', 'a key nobody named yet is still words');
    assert.equal(label('recommendation:suggested'), 'Recommendation: suggested');
    assert.equal(label('term-alpha'), 'Term alpha');
    assert.equal(label('FR'), 'France (FR)');
    assert.equal(label('ZZ'), 'Zz', 'an unknown two-letter code is not called a country');
    assert.deepEqual(labelsFor(['csam', '', 'TOTAL']), { csam: 'Child sexual abuse material (CSAM)', TOTAL: 'Total' });
  });

  it('prints moments in UTC and says so', () => {
    assert.equal(readableTime('2026-12-07T10:20:00Z'), '7 December 2026, 10:20 UTC');
    assert.equal(readableTime(new Date('2030-03-01T00:00:00+01:00')), '28 February 2030, 23:00 UTC');
    assert.equal(readableTime('2026-12-07T10:20:05.250Z'), '7 December 2026, 10:20:05 UTC', 'seconds only when there are some');
    assert.equal(readableDay('2026-01-09T23:59:59Z'), '9 January 2026');
  });

  it('draws a chart with nothing in it as words, and sizes bars within their track', () => {
    const empty = barChart({ title: 'Appeal outcomes', rows: [{ label: 'Upheld', values: [0] }], series: [{ name: 'Count', colour: '#000' }] });
    assert.match(empty, /<p class="none">None in this period\.<\/p>/);
    assert.doesNotMatch(empty, /chart-bar/);
    const drawn = barChart({ rows: [{ label: 'A & B', values: [4] }, { label: 'C', values: [1] }], series: [{ name: 'Count', colour: '#000' }] });
    assert.deepEqual([...drawn.matchAll(/width:([\d.]+)%/g)].map((match) => match[1]), ['100.00', '25.00']);
    assert.match(drawn, /<div class="chart-label">A &amp; B<\/div>/);
  });

  it('writes the audit CSV under human headers and labels, with the codes beside them', () => {
    const metrics = { impressions: 10, suspectShownShare: 0.1, suspectViewers: 1, suspectToSuspectShare: 0.5, suspectToSuspectLift: null, suspectViewersShownMinors: 0, minorShownToSuspectShare: 0, ordinaryViewers: 3, ordinaryViewersExposed: 1, ordinaryExposureShare: 0.3333, minorViewers: 1, minorViewersExposed: 0, minorExposureShare: 0, suspectShownImpressions: 1, suspectToSuspectImpressions: 0, suspectShownToMinorImpressions: 0 };
    const csv = renderAuditCsv({
      generatedAt: '2026-12-07T10:20:00.000Z', period: { from: null, to: null }, policy: { suspectRisk: 0.5, highRisk: 0.8 }, accountsTracked: 5,
      before: metrics, after: { ...metrics, impressions: 8 }, surfaces: [{ surface: 'home_feed', before: metrics, after: metrics }],
      removedByReason: { candidate_high_risk: 2 }, follows: { betweenSuspects: 0, fromRecommendations: 0, fromRecommendationsShare: 0 }, evasion: { links: 0, medianDaysToDetection: null, detectedAsOf: null }, labels: {}, known: { flaggedAccounts: 5 }, estimated: null,
    });
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'Section,Figure,Code,Before the guardrail,After the guardrail');
    assert.ok(lines.includes('All surfaces,Impressions,impressions,10,8'));
    assert.ok(lines.includes('All surfaces,"Suspect viewers: suspects shown, relative to the base rate",suspectToSuspectLift,,'), 'a missing figure is an empty cell');
    assert.ok(lines.includes('Surface: Home feed,Suspect viewers,suspectViewers,1,1'));
    assert.ok(lines.includes('Suggestions removed by the guardrail,Suggested account has a high risk score,candidate_high_risk,2,'));
    assert.ok(csv.endsWith('\r\n'));
  });
});
