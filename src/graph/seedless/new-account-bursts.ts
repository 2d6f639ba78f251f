import type { AccountGraph } from '../account-graph.ts';
import type { ResolvedDiscoveryOptions } from './discovery-options.ts';
import type { FeatureWeights } from './feature-weights.ts';
import { audienceOf } from './seller-structure.ts';

/** Where a burst was seen: among a feature's users, or in a seller's audience. */
export type BurstGroup = { feature: number } | { seller: number };

export interface Burst {
  group: BurstGroup;
  /** Accounts created inside the window. */
  accounts: number[];
  windowStart: number;
  windowEnd: number;
  /** How many the platform's overall creation rate would put in such a window. */
  expected: number;
}

export interface BurstFindings {
  bursts: Burst[];
  /** Per account, the index (in bursts) of the largest burst it belongs to, or -1. */
  burstOf: Int32Array;
  /** Per seller, the index of the burst in its audience, or -1. */
  audienceBurst: Map<number, number>;
}

/**
 * Bursts of new accounts: many accounts created within a short window that share a
 * feature or turn to the same seller, far more than the platform's own creation in that window
 * would put there (so a launch day or a backfill is no burst), and more than chance would put in the densest of all
 * the windows looked at (a Poisson tail, corrected for their number). Event time throughout (the accounts' own creation
 * times), never the clock of the machine running the analysis.
 */
export function findBursts(graph: AccountGraph, weights: FeatureWeights, sellers: number[], options: ResolvedDiscoveryOptions, excluded: Uint8Array): BurstFindings {
  const n = graph.accountCount;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let a = 0; a < n; a++) {
    const t = graph.createdAt[a];
    if (Number.isNaN(t)) continue;
    if (t < first) first = t;
    if (t > last) last = t;
  }
  const burstOf = new Int32Array(n).fill(-1);
  const bursts: Burst[] = [];
  const audienceBurst = new Map<number, number>();
  const span = last - first;
  if (!(span > options.burstWindowMs)) return { bursts, burstOf, audienceBurst };
  const windows = span / options.burstWindowMs;
  // The platform's own creation times: a window's expected share is what the whole platform
  // created in it, so a launch day or a backfill (most accounts created at once) is no burst.
  const all = new Float64Array(n);
  let known = 0;
  for (let a = 0; a < n; a++) if (!Number.isNaN(graph.createdAt[a])) all[known++] = graph.createdAt[a];
  const platformTimes = all.subarray(0, known).sort();
  const createdBetween = (from: number, to: number) => countBelow(platformTimes, to, true) - countBelow(platformTimes, from, false);

  const consider = (group: BurstGroup, members: Iterable<number>): number => {
    const times: { account: number; time: number }[] = [];
    for (const account of members) {
      if (excluded[account] || Number.isNaN(graph.createdAt[account])) continue;
      times.push({ account, time: graph.createdAt[account] });
    }
    if (times.length < options.burstMinAccounts) return -1;
    times.sort((a, b) => a.time - b.time);
    // The largest window that beats the platform's own rate there by the lift.
    let bestStart = -1;
    let bestCount = 0;
    let bestExpected = 0;
    for (let begin = 0, end = 0; begin < times.length; begin++) {
      while (end < times.length && times[end].time - times[begin].time <= options.burstWindowMs) end++;
      const count = end - begin;
      if (count < options.burstMinAccounts || count <= bestCount) continue;
      const from = times[begin].time;
      const expected = (times.length * createdBetween(from, from + options.burstWindowMs)) / known;
      if (count < options.burstMinLift * expected) continue;
      bestStart = begin;
      bestCount = count;
      bestExpected = expected;
    }
    if (bestStart < 0) return -1;
    const expected = bestExpected;
    // The densest of many windows is dense by chance alone: the tail is corrected for the number of windows looked at.
    if (poissonTail(expected, bestCount) * windows > options.burstMaxPValue) return -1;
    const inside = times.slice(bestStart, bestStart + bestCount);
    const index = bursts.length;
    bursts.push({ group, accounts: inside.map((entry) => entry.account), windowStart: inside[0].time, windowEnd: inside[inside.length - 1].time, expected });
    for (const { account } of inside) {
      const current = burstOf[account];
      if (current < 0 || bursts[current].accounts.length < bestCount) burstOf[account] = index;
    }
    return index;
  };

  const { offsets, targets } = graph.membersOf;
  for (let f = 0; f < graph.featureCount; f++) {
    if (weights.specificity[f] === 0 || offsets[f + 1] - offsets[f] < options.burstMinAccounts) continue;
    consider({ feature: f }, targets.subarray(offsets[f], offsets[f + 1]));
  }
  for (const seller of sellers) {
    const audience = audienceOf(graph, seller);
    const index = consider({ seller }, audience);
    if (index >= 0 && bursts[index].accounts.length >= options.burstAudienceMinShare * audience.length) audienceBurst.set(seller, index);
  }
  return { bursts, burstOf, audienceBurst };
}

/** P(X >= k) for X ~ Poisson(mean), summed from k upwards until the terms vanish. */
export function poissonTail(mean: number, k: number): number {
  if (k <= 0) return 1;
  // log of the k-th term, then each next term from the previous one.
  let logTerm = -mean + k * Math.log(mean) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 1000; i++) {
    const term = Math.exp(logTerm);
    sum += term;
    if (term < sum * 1e-12) break;
    logTerm += Math.log(mean) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

function logFactorial(k: number): number {
  let sum = 0;
  for (let i = 2; i <= k; i++) sum += Math.log(i);
  return sum;
}

/** How many sorted values are below `value` (or at most `value` when inclusive). */
function countBelow(sorted: Float64Array, value: number, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value || (inclusive && sorted[mid] === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
