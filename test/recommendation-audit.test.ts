import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Bulwark, openBulwark } from '../src/app.ts';
import { renderAuditHtml } from '../src/audit/audit-report-html.ts';
import { readRecallEstimate } from '../src/audit/recall-estimate.ts';
import { auditRecommendations } from '../src/audit/recommendation-audit.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { storeTargets } from './helpers/stores.ts';

const targets = await storeTargets();

/** Backfilled history: every event is from spring 2025, long before the audit runs. */
const day = (n: number, minute = 0) => new Date(Date.UTC(2025, 2, 1 + n, 0, minute)).toISOString();

/**
 * Ground truth: a network of ten accounts (net-0..net-9) whose members are all shown each
 * other, and 30 ordinary accounts (the first ten minors) each shown one member. Only half of
 * the network (net-0..net-4) is flagged, as if detection had 50% recall. A removed account
 * comes back on day 9 on the same device; the platform's history runs to day 39.
 */
function platform(): PlatformEventInput[] {
  const events: PlatformEventInput[] = [];
  const push = (event: PlatformEventInput) => events.push({ ...event, event_id: `ev-${events.length}` });
  const network = Array.from({ length: 10 }, (_, i) => `net-${i}`);
  const ordinary = Array.from({ length: 30 }, (_, i) => `user-${i}`);
  for (const account of [...network, ...ordinary, 'removed']) push({ type: 'account_created', occurred_at: day(0), account });
  for (const minor of ordinary.slice(0, 10)) push({ type: 'account_attributes', occurred_at: day(1), account: minor, minor: true, minor_basis: 'declared' });
  for (const viewer of network) {
    for (const shown of network) if (shown !== viewer) push({ type: 'recommendation_impression', occurred_at: day(20), viewer, shown, surface: 'recommendation:suggested' });
  }
  ordinary.forEach((viewer, i) => push({ type: 'recommendation_impression', occurred_at: day(20, i), viewer, shown: network[i % 10], surface: 'search' }));
  push({ type: 'identifier', occurred_at: day(1), account: 'removed', kind: 'device', value: 'device-shared' });
  push({ type: 'account_deleted', occurred_at: day(5), account: 'removed', reason: 'enforcement' });
  push({ type: 'account_created', occurred_at: day(9), account: 'returned' });
  push({ type: 'identifier', occurred_at: day(9), account: 'returned', kind: 'device', value: 'device-shared' });
  // The newest event of the history: the run that finds the returning account reads up to here.
  push({ type: 'follow', occurred_at: day(39), actor: 'returned', target: 'user-20' });
  return events;
}

/** True counts, from the ground truth rather than from what Bulwark flags. */
const TRUTH = { networkAccounts: 10, networkToNetwork: 90, showingNetwork: 120, networkToMinors: 10 };

describe('recommendation audit: what is known and what is estimated', () => {
  it('reads the recall estimate defensively', () => {
    assert.deepEqual(readRecallEstimate(4, { recall: { estimate: 0.6, low: 0.5, high: 0.7, heldOut: 12, method: 'leave-seeds-out' } }), {
      runId: 4,
      estimate: 0.6,
      low: 0.5,
      high: 0.7,
      heldOut: 12,
      method: 'leave-seeds-out',
    });
    for (const stats of [{}, null, { recall: 0.6 }, { recall: { estimate: 1.7, low: 0.5, high: 0.9 } }, { recall: { estimate: 0.6, low: 0.7, high: 0.9 } }, { recall: { estimate: 0, low: 0, high: 0.1 } }, { recall: { estimate: '0.6', low: 0.5, high: 0.7 } }]) {
      assert.equal(readRecallEstimate(1, stats), null, JSON.stringify(stats));
    }
  });

  for (const target of targets) {
    describe(`on ${target.name}`, () => {
      let bulwark: Bulwark;
      before(async () => {
        bulwark = await openBulwark({ ...target.location(), guardrailRefreshMs: 60_000, identifierKey: 'test-key' });
        await bulwark.platformEvents.ingest(platform());
        for (let i = 0; i < 5; i++) await bulwark.accounts.label(`net-${i}`, 'confirmed', 'review');
      });
      after(async () => {
        await bulwark.close();
        await target.cleanup();
      });

      it('without a measured recall, shows only known figures and says recall is unknown', async () => {
        const report = await auditRecommendations(bulwark.sql, bulwark.guardrail);
        assert.equal(report.known.flaggedAccounts, 5);
        assert.equal(report.estimated, null);
        assert.equal(report.before.suspectToSuspectImpressions, 20, 'only pairs of flagged accounts are known: 5 x 4');
        assert.equal(report.evasion.links, 0);
        const html = renderAuditHtml(report);
        assert.match(html, /What these figures can and cannot show/);
        assert.match(html, /Detection recall is unknown/);
        assert.doesNotMatch(html, /true figures are about/);
      });

      it('beside the known figures, estimates the true ones from the latest run’s recall, and counts days in event time', async () => {
        const run = await bulwark.sql.query<{ id: number }>(
          `INSERT INTO detection_runs (started_at, parameters, stats, calibration) VALUES (now(), '{}', '{}', $1::jsonb) RETURNING id`,
          [JSON.stringify({ recall: { estimate: 0.5, low: 0.4, high: 0.6, heldOut: 40, method: 'leave-seeds-out' } })],
        );
        await bulwark.sql.query(
          `INSERT INTO evasion_links (run_id, account_id, removed_account_id, score, evidence)
           SELECT $1, n.id, r.id, 0.9, '[]' FROM accounts n, accounts r WHERE n.external_id = 'returned' AND r.external_id = 'removed'`,
          [run.rows[0].id],
        );
        const report = await auditRecommendations(bulwark.sql, bulwark.guardrail);
        const estimated = report.estimated;
        assert.ok(estimated, 'the run measured recall, so there is an estimate');
        assert.equal(estimated.recall.runId, Number(run.rows[0].id));

        // Known and estimated stay apart; the known figures undercount the ground truth and the
        // estimate's interval holds it.
        const within = (figure: { low: number; high: number }, truth: number, name: string) =>
          assert.ok(figure.low <= truth && truth <= figure.high, `${name}: truth ${truth} outside ${figure.low}..${figure.high}`);
        assert.equal(estimated.networkAccounts.known, 5);
        assert.ok(estimated.networkAccounts.known < TRUTH.networkAccounts);
        assert.equal(estimated.networkAccounts.estimate, 10);
        within(estimated.networkAccounts, TRUTH.networkAccounts, 'network accounts');

        const pairs = estimated.suspectToSuspectImpressions;
        assert.equal(pairs.before.known, 20);
        assert.equal(pairs.before.estimate, 80, 'a pair is known only when both ends are found: 20 / 0.5^2');
        within(pairs.before, TRUTH.networkToNetwork, 'network shown to network');
        // The guardrail removes the flagged pairs; the unflagged ones stay.
        const trueAfter = TRUTH.networkToNetwork - (pairs.before.known - pairs.after.known);
        within(pairs.after, trueAfter, 'network shown to network after the guardrail');
        assert.ok(pairs.after.estimate > pairs.after.known);
        assert.ok(pairs.estimatedReduction && pairs.knownReduction !== null && pairs.estimatedReduction.estimate < pairs.knownReduction);

        const shown = estimated.impressionsShowingSuspects;
        assert.equal(shown.before.known, report.before.suspectShownImpressions);
        assert.ok(shown.before.known < TRUTH.showingNetwork);
        within(shown.before, TRUTH.showingNetwork, 'impressions showing network accounts');
        within(estimated.minorImpressionsShowingSuspects.before, TRUTH.networkToMinors, 'network accounts shown to minors');

        // Backfilled history: 30 days from the return (day 9) to the newest event the run read
        // (day 39), not the ~20 months to the wall clock.
        assert.equal(report.evasion.links, 1);
        assert.equal(report.evasion.medianDaysToDetection, 30);
        assert.equal(report.evasion.detectedAsOf, day(39));

        const html = renderAuditHtml(report);
        assert.match(html, /Known and estimated/);
        assert.match(html, /Bulwark flags <b>5<\/b> accounts/);
        assert.match(html, /found again 50\.0% \(interval 40\.0% to 60\.0%\)/);
        assert.match(html, /median 30 days/);
      });
    });
  }
});
