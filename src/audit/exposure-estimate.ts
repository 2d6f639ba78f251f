import type { RecallEstimate } from './recall-estimate.ts';

/** A count Bulwark knows, beside an estimate of the true count and its interval. */
export interface EstimatedCount {
  known: number;
  estimate: number;
  low: number;
  high: number;
}

/** A count before and after the guardrail, and the share of it the guardrail removed. */
export interface EstimatedChange {
  before: EstimatedCount;
  after: EstimatedCount;
  /** Share of the known count the guardrail removed; null when nothing was known. */
  knownReduction: number | null;
  /** Share of the estimated true count it removed, with its interval. */
  estimatedReduction: { estimate: number; low: number; high: number } | null;
}

export interface ExposureEstimate {
  recall: RecallEstimate;
  /** Flagged accounts, and the network accounts there would be if recall is as estimated. */
  networkAccounts: EstimatedCount;
  /** Impressions that showed a network account, to anyone. */
  impressionsShowingSuspects: EstimatedChange;
  /** Impressions that showed a network account to a network account: both ends must be found. */
  suspectToSuspectImpressions: EstimatedChange;
  /** Impressions that showed a network account to a minor. */
  minorImpressionsShowingSuspects: EstimatedChange;
}

export interface KnownExposure {
  flaggedAccounts: number;
  accounts: number;
  impressions: number;
  showingSuspects: { before: number; after: number };
  suspectToSuspect: { before: number; after: number };
  minorShownSuspects: { before: number; after: number };
}

const round = (value: number) => Math.round(value * 10000) / 10000;

/**
 * Scales what is known by detection recall. Assumes the accounts detection missed are shown
 * and shown to as often as those it found (missing at random); an impression needs `ends`
 * network accounts found to be counted (1: the account shown; 2: viewer and account shown),
 * so a known count stands for known / recall^ends true ones. The guardrail removes only what
 * is known, so the missed share stays after it. The interval comes from recall's interval
 * alone (sampling noise in the impressions is not included) and is capped at `cap`.
 */
function scale(known: { before: number; after: number }, recall: RecallEstimate, ends: number, cap: number): EstimatedChange {
  const before = (r: number) => (r > 0 ? Math.min(cap, known.before / r ** ends) : cap);
  const after = (r: number) => (r > 0 ? Math.min(cap, known.after + known.before * (1 / r ** ends - 1)) : cap);
  const count = (f: (r: number) => number, k: number): EstimatedCount => ({
    known: k,
    estimate: Math.round(f(recall.estimate)),
    low: Math.round(f(recall.high)),
    high: Math.round(f(recall.low)),
  });
  const removedShare = known.before > 0 ? (known.before - known.after) / known.before : null;
  // What the guardrail removed is all known; as a share of the estimated true count it is smaller.
  const reduction = (r: number) => (before(r) > 0 ? round((known.before - known.after) / before(r)) : 0);
  return {
    before: count(before, known.before),
    after: count(after, known.after),
    knownReduction: removedShare === null ? null : round(removedShare),
    estimatedReduction:
      removedShare === null ? null : { estimate: reduction(recall.estimate), low: reduction(recall.low), high: reduction(recall.high) },
  };
}

export function estimateExposure(known: KnownExposure, recall: RecallEstimate): ExposureEstimate {
  const accounts = (r: number) => (r > 0 ? Math.min(known.accounts, known.flaggedAccounts / r) : known.accounts);
  return {
    recall,
    networkAccounts: {
      known: known.flaggedAccounts,
      estimate: Math.round(accounts(recall.estimate)),
      low: Math.round(accounts(recall.high)),
      high: Math.round(accounts(recall.low)),
    },
    impressionsShowingSuspects: scale(known.showingSuspects, recall, 1, known.impressions),
    suspectToSuspectImpressions: scale(known.suspectToSuspect, recall, 2, known.impressions),
    minorImpressionsShowingSuspects: scale(known.minorShownSuspects, recall, 1, known.impressions),
  };
}
