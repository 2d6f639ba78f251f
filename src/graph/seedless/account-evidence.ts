import type { AccountGraph } from '../account-graph.ts';
import type { ResolvedDiscoveryOptions } from './discovery-options.ts';
import type { FeatureWeights } from './feature-weights.ts';
import type { BurstFindings } from './new-account-bursts.ts';
import { type SellerStructure, TURN_TO_KINDS } from './seller-structure.ts';

export const ROLE_NONE = 0;
export const ROLE_MEMBER = 1;
export const ROLE_SELLER = 2;
export const ROLE_BUYER = 3;
export const ROLE_NAMES = ['none', 'member', 'seller', 'buyer'] as const;

/** Ties that count: one flagged neighbour is a hint, two are corroboration; more say no more. */
const MAX_TIES = 2;

/**
 * Each account's evidence, as flat arrays (the per-member explanation is built later, only
 * for the accounts that end up in a candidate). In two passes: the account's own signals
 * first; then, for accounts with some evidence of their own, ties to accounts the first pass
 * flagged, and for the audience of flagged sellers, the buyer role.
 */
export interface AccountEvidence {
  coded: Float32Array;
  /** Evidence of the best shared off-platform link that is not itself suspicious. */
  sharedLink: Float32Array;
  sharedLinkFeature: Int32Array;
  ties: Uint8Array;
  /** Flagged sellers the account follows or messages. */
  buyerOf: Int32Array;
  score: Float32Array;
  role: Uint8Array;
}

export function weighAccounts(
  graph: AccountGraph,
  weights: FeatureWeights,
  sellers: SellerStructure,
  bursts: BurstFindings,
  options: ResolvedDiscoveryOptions,
  excluded: Uint8Array,
): AccountEvidence {
  const n = graph.accountCount;
  const signal = options.signalWeights;
  const coded = new Float32Array(n);
  const sharedLink = new Float32Array(n);
  const sharedLinkFeature = new Int32Array(n).fill(-1);
  const score = new Float32Array(n);
  const linkWeight = options.kindWeights.link ?? 0;
  for (let a = 0; a < n; a++) {
    if (excluded[a]) continue;
    for (let k = graph.featuresOf.offsets[a]; k < graph.featuresOf.offsets[a + 1]; k++) {
      const f = graph.featuresOf.targets[k];
      if (weights.suspicion[f] > 0) {
        if (weights.aliasOf[f] < 0) coded[a] += weights.evidence[f];
      } else if (graph.featureKinds[f] === 'link' && weights.specificity[f] > 0 && graph.membersOf.offsets[f + 1] - graph.membersOf.offsets[f] >= 2) {
        // Squared: a link a handful of accounts share says much more than one dozens of profiles point to.
        const value = linkWeight * weights.specificity[f] ** 2;
        if (value > sharedLink[a] && sharesLinkWithRelated(graph, a, f)) {
          sharedLink[a] = value;
          sharedLinkFeature[a] = f;
        }
      }
    }
    let own = coded[a] + sharedLink[a];
    if (bursts.burstOf[a] >= 0) own += signal.burst;
    const uploads = options.hashMatches.get(a);
    if (uploads) own += signal.hashMatch;
    if (sellers.isSeller[a]) own += signal.seller + (bursts.audienceBurst.has(a) ? signal.burstAudience : 0);
    score[a] = own;
  }

  const firstPass = new Uint8Array(n);
  for (let a = 0; a < n; a++) if (score[a] >= options.memberThreshold) firstPass[a] = 1;
  const ties = new Uint8Array(n);
  const seen = new Set<number>();
  for (let a = 0; a < n; a++) {
    if (excluded[a] || score[a] === 0) continue;
    seen.clear();
    let neighbours = 0;
    for (const csr of [graph.out, graph.in]) {
      neighbours += csr.offsets[a + 1] - csr.offsets[a];
      for (let k = csr.offsets[a]; k < csr.offsets[a + 1]; k++) {
        const other = csr.targets[k];
        if (firstPass[other] && !excluded[other]) seen.add(other);
      }
    }
    if (seen.size >= options.tieMinShare * neighbours) ties[a] = Math.min(MAX_TIES, seen.size);
  }
  for (let a = 0; a < n; a++) score[a] += ties[a] * signal.tie;

  const role = new Uint8Array(n);
  for (let a = 0; a < n; a++) if (score[a] >= options.memberThreshold) role[a] = sellers.isSeller[a] ? ROLE_SELLER : ROLE_MEMBER;
  const buyerOf = new Int32Array(n);
  for (const seller of sellers.sellers) {
    if (role[seller] !== ROLE_SELLER) continue;
    for (let k = graph.in.offsets[seller]; k < graph.in.offsets[seller + 1]; k++) {
      const buyer = graph.in.targets[k];
      if (graph.in.kinds[k] & TURN_TO_KINDS && !excluded[buyer]) buyerOf[buyer]++;
    }
  }
  for (let a = 0; a < n; a++) {
    if (buyerOf[a] === 0) continue;
    score[a] += signal.buyer;
    if (role[a] === ROLE_NONE || role[a] === ROLE_MEMBER) role[a] = ROLE_BUYER;
  }
  return { coded, sharedLink, sharedLinkFeature, ties, buyerOf, score, role };
}

/** How many other holders of a link are looked at for a related one. */
const MAX_HOLDERS_CHECKED = 50;

/** Share of the smaller neighbourhood two link holders must have in common to be related. */
const RELATED_OVERLAP = 0.1;

/**
 * Whether another holder of the link is related to the account: they have neighbours in
 * common, at least two and at least a tenth of the smaller neighbourhood (a star's sellers
 * share buyers). A popular site linked from many profiles ties no one together, nor do two
 * popular accounts of one community whose audiences overlap by chance.
 */
export function sharesLinkWithRelated(graph: AccountGraph, account: number, feature: number): boolean {
  const around = new Set<number>();
  for (const csr of [graph.out, graph.in]) for (let k = csr.offsets[account]; k < csr.offsets[account + 1]; k++) around.add(csr.targets[k]);
  let checked = 0;
  for (let m = graph.membersOf.offsets[feature]; m < graph.membersOf.offsets[feature + 1] && checked < MAX_HOLDERS_CHECKED; m++) {
    const holder = graph.membersOf.targets[m];
    if (holder === account) continue;
    checked++;
    const theirs = new Set<number>();
    for (const csr of [graph.out, graph.in]) for (let k = csr.offsets[holder]; k < csr.offsets[holder + 1]; k++) theirs.add(csr.targets[k]);
    let common = 0;
    for (const other of theirs) if (around.has(other)) common++;
    if (common >= 2 && common >= RELATED_OVERLAP * Math.min(around.size, theirs.size)) return true;
  }
  return false;
}
