import type { EstimatedChange, EstimatedCount } from './exposure-estimate.ts';
import type { RecommendationAuditReport } from './recommendation-audit.ts';
import { escapeHtml, percent } from '../reporting/html-text.ts';

const count = (figure: EstimatedCount) => `${figure.estimate} (${figure.low} to ${figure.high})`;

function changeRow(label: string, change: EstimatedChange): string {
  const reduction = change.estimatedReduction;
  return `<tr><td>${escapeHtml(label)}</td><td>${change.before.known} → ${change.after.known}</td><td>${
    change.knownReduction === null ? 'n/a' : percent(change.knownReduction)
  }</td><td>${count(change.before)} → ${count(change.after)}</td><td>${
    reduction === null ? 'n/a' : `${percent(reduction.estimate)} (${percent(reduction.low)} to ${percent(reduction.high)})`
  }</td></tr>`;
}

/**
 * The report's "known and estimated" section: what Bulwark knows, and beside it (never mixed
 * in) what the figures would be at the recall the latest detection run measured.
 */
export function knownAndEstimatedHtml(report: RecommendationAuditReport): string {
  const known = `<p>Bulwark flags <b>${report.known.flaggedAccounts}</b> accounts as suspects now. Every figure above counts only these: impressions of accounts detection has not found are counted as ordinary.</p>`;
  const estimate = report.estimated;
  if (!estimate) {
    return `${known}
<p><b>Detection recall is unknown</b>: the latest detection run did not measure it (by hiding some confirmed accounts and seeing how many it finds again), so this report cannot say how many network accounts, or how much exposure, it does not see. The figures above are lower bounds on exposure and upper bounds on what the guardrail removed.</p>`;
  }
  const { recall } = estimate;
  return `${known}
<p>Detection run ${recall.runId} found again ${percent(recall.estimate)} (interval ${percent(recall.low)} to ${percent(recall.high)}) of the confirmed accounts hidden from it${
    recall.heldOut === null ? '' : ` (${recall.heldOut} held out)`
  }${recall.method ? `, by ${escapeHtml(recall.method)}` : ''}. If the accounts it misses are recommended like the ones it finds, the true figures are about:</p>
<table><thead><tr><th>Figure</th><th>Known: before → after</th><th>Known removed</th><th>Estimated: before → after (interval)</th><th>Estimated removed (interval)</th></tr></thead><tbody>
<tr><td>Network accounts</td><td>${estimate.networkAccounts.known}</td><td></td><td>${count(estimate.networkAccounts)}</td><td></td></tr>
${changeRow('Impressions showing a network account', estimate.impressionsShowingSuspects)}
${changeRow('Network accounts shown to network accounts', estimate.suspectToSuspectImpressions)}
${changeRow('Network accounts shown to minors', estimate.minorImpressionsShowingSuspects)}
</tbody></table>
<p>The guardrail can only remove accounts that are known, so the missed ones stay in the "after" figures. A pair of network accounts counts only when both are found, so that figure scales with recall squared.</p>`;
}

/** Plain words on what the audit's numbers can and cannot show, for the reader of a risk assessment. */
export function limitsHtml(report: RecommendationAuditReport): string {
  return `<ul>
<li><b>They can show</b> what the recommender did with the accounts Bulwark flags today, over the impressions the platform logged, and what the guardrail as configured now would have removed from those same impressions.</li>
<li><b>They cannot show</b> exposure to accounts detection has not found. "Suspect" means flagged by Bulwark, not a member of a network in fact: a fall to 0% after the guardrail means no <i>flagged</i> account was shown, not that no network account was.</li>
<li>${
    report.estimated
      ? 'The estimates assume the accounts detection misses are recommended like those it finds, and take recall from confirmed accounts hidden from detection; networks with no confirmed account at all are not in that measure, so true recall may be lower and the true figures higher than the interval.'
      : 'Without a measured recall there is no estimate of what is missed; the known figures are lower bounds.'
  }</li>
<li>"After" replays logged impressions through today's guardrail; it does not know what the recommender would have shown instead, or how accounts would have behaved.</li>
<li>Times are event times as the platform reported them (when an impression was shown, when an account was created), so imported history keeps its own dates; "days to detection" ends at the newest event the detection run could read.</li>
</ul>`;
}
