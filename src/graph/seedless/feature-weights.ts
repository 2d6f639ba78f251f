import type { AccountGraph } from '../account-graph.ts';
import type { ResolvedDiscoveryOptions } from './discovery-options.ts';

/**
 * How much each shared feature (hashtag, search, off-platform link, term match) says.
 *
 * Specificity is inverse document frequency scaled to 0..1: log(N / users) / log(N). A
 * hashtag used by 40 of 20,000 accounts scores 0.63, one used by 4,000 scores 0.16, and
 * one used by more than `maxFeatureAccounts` scores 0 (it links nothing).
 *
 * Suspicion says whether the feature is coded: 1 for a match of the operator's term
 * lists; for a hashtag, search or link, the share of its users who already carry
 * suspicion, when that share is far above the base rate (co-occurrence expansion). The
 * expansion runs a bounded number of rounds, each damped, and a feature whose users are
 * nearly all users of one suspicious feature is an alias of it (the hashtag that itself
 * matched a term), not a second piece of evidence.
 */
export interface FeatureWeights {
  specificity: Float32Array;
  suspicion: Float32Array;
  /** kind weight x specificity x suspicion: the evidence one use of the feature gives. */
  evidence: Float32Array;
  /** The suspicious feature this one repeats, or -1. */
  aliasOf: Int32Array;
  /** 0 for term matches, the expansion round that gave the feature its suspicion, or 255 for none. */
  round: Uint8Array;
  /** Users of the feature that carried suspicion when it was weighed. */
  suspiciousUsers: Int32Array;
}

export const NOT_SUSPICIOUS = 255;

export function usersOf(graph: AccountGraph, feature: number): number {
  return graph.membersOf.offsets[feature + 1] - graph.membersOf.offsets[feature];
}

export function weighFeatures(graph: AccountGraph, options: ResolvedDiscoveryOptions): FeatureWeights {
  const n = graph.accountCount;
  const count = graph.featureCount;
  const specificity = new Float32Array(count);
  const suspicion = new Float32Array(count);
  const aliasOf = new Int32Array(count).fill(-1);
  const round = new Uint8Array(count).fill(NOT_SUSPICIOUS);
  const suspiciousUsers = new Int32Array(count);
  const logN = Math.log(Math.max(n, 2));
  const counted = (f: number) => options.kindWeights[graph.featureKinds[f]] !== undefined;
  for (let f = 0; f < count; f++) {
    const users = usersOf(graph, f);
    if (!counted(f) || users > options.maxFeatureAccounts || users === 0) continue;
    specificity[f] = Math.max(0, Math.log(n / users) / logN);
    if (graph.featureKinds[f] === 'term') {
      suspicion[f] = 1;
      round[f] = 0;
      suspiciousUsers[f] = users;
    }
  }

  for (let r = 1; r <= options.coOccurrenceRounds; r++) {
    const marked = markAccounts(graph, suspicion);
    let markedCount = 0;
    for (let a = 0; a < n; a++) markedCount += marked[a];
    if (markedCount === 0) break;
    const baseRate = markedCount / n;
    const damping = options.coOccurrenceDamping ** (r - 1);
    const found: [number, number, number][] = [];
    for (let f = 0; f < count; f++) {
      if (round[f] !== NOT_SUSPICIOUS || specificity[f] === 0) continue;
      const { offsets, targets } = graph.membersOf;
      let inside = 0;
      for (let k = offsets[f]; k < offsets[f + 1]; k++) inside += marked[targets[k]];
      const users = offsets[f + 1] - offsets[f];
      const share = inside / users;
      if (inside < options.coOccurrenceMinUsers || share < baseRate * options.coOccurrenceMinLift) continue;
      found.push([f, inside, Math.min(options.coOccurrenceCap, share) * damping]);
    }
    // Decided after the scan, so a round's findings do not feed the same round.
    for (const [f, inside, value] of found) {
      round[f] = r;
      suspiciousUsers[f] = inside;
      const alias = aliasTarget(graph, f, suspicion, options.aliasShare);
      if (alias >= 0) aliasOf[f] = alias;
      else suspicion[f] = value;
    }
    if (found.length === 0) break;
  }

  const evidence = new Float32Array(count);
  for (let f = 0; f < count; f++) evidence[f] = (options.kindWeights[graph.featureKinds[f]] ?? 0) * specificity[f] * suspicion[f];
  return { specificity, suspicion, evidence, aliasOf, round, suspiciousUsers };
}

/** Accounts holding at least one suspicious feature. */
export function markAccounts(graph: AccountGraph, suspicion: Float32Array): Uint8Array {
  const marked = new Uint8Array(graph.accountCount);
  const { offsets, targets } = graph.featuresOf;
  for (let a = 0; a < graph.accountCount; a++) {
    for (let k = offsets[a]; k < offsets[a + 1]; k++) {
      if (suspicion[targets[k]] > 0) {
        marked[a] = 1;
        break;
      }
    }
  }
  return marked;
}

/** The suspicious feature that (nearly) all of this feature's users also hold, or -1. */
function aliasTarget(graph: AccountGraph, feature: number, suspicion: Float32Array, aliasShare: number): number {
  const together = new Map<number, number>();
  const members = graph.membersOf;
  for (let k = members.offsets[feature]; k < members.offsets[feature + 1]; k++) {
    const account = members.targets[k];
    for (let j = graph.featuresOf.offsets[account]; j < graph.featuresOf.offsets[account + 1]; j++) {
      const other = graph.featuresOf.targets[j];
      if (other !== feature && suspicion[other] > 0) together.set(other, (together.get(other) ?? 0) + 1);
    }
  }
  const users = usersOf(graph, feature);
  let best = -1;
  let bestCount = 0;
  for (const [other, shared] of together) {
    if (shared > bestCount || (shared === bestCount && other < best)) {
      best = other;
      bestCount = shared;
    }
  }
  return bestCount >= aliasShare * users ? best : -1;
}
