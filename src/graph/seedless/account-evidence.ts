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
  const derived: number[] = [];
  for (let a = 0; a < n; a++) {
    if (excluded[a]) continue;
    derived.length = 0;
    for (let k = graph.featuresOf.offsets[a]; k < graph.featuresOf.offsets[a + 1]; k++) {
      const f = graph.featuresOf.targets[k];
      if (weights.suspicion[f] > 0) {
        if (weights.aliasOf[f] >= 0) continue;
        if (weights.round[f] === 0) coded[a] += weights.evidence[f];
        else derived.push(weights.evidence[f]);
      } else if (graph.featureKinds[f] === 'link' && weights.specificity[f] > 0 && graph.membersOf.offsets[f + 1] - graph.membersOf.offsets[f] >= 2) {
        // Squared: a link a handful of accounts share says much more than one dozens of profiles point to.
        const value = linkWeight * weights.specificity[f] ** 2;
        // A seller-shaped account's link counts only beside another seller's: a shop whose page a
        // friend or a staff account also links is ordinary; storefronts of one operation are not.
        const shared = sellers.isSeller[a] ? sharesLinkWithSeller(graph, a, f, sellers) : sharesLinkWithRelated(graph, a, f);
        if (value > sharedLink[a] && shared) {
          sharedLink[a] = value;
          sharedLinkFeature[a] = f;
        }
      }
    }
    coded[a] += derivedEvidence(derived);
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
  const viaCorroborated = new Uint8Array(n);
  const corroboratedSeller = new Uint8Array(n);
  for (const seller of sellers.sellers) {
    if (role[seller] !== ROLE_SELLER) continue;
    const corroborated = isCorroboratedSeller(graph, seller, sellers, bursts, options, coded);
    corroboratedSeller[seller] = corroborated ? 1 : 0;
    for (let k = graph.in.offsets[seller]; k < graph.in.offsets[seller + 1]; k++) {
      const buyer = graph.in.targets[k];
      if (!(graph.in.kinds[k] & TURN_TO_KINDS) || excluded[buyer]) continue;
      buyerOf[buyer]++;
      if (corroborated) viaCorroborated[buyer] = 1;
    }
  }
  for (let a = 0; a < n; a++) {
    if (buyerOf[a] === 0) continue;
    // Turning to a seller whose only evidence is its shape and a link (any shop with a staff
    // account) is what its ordinary customers do: it adds to the buyer's evidence but takes
    // in no one who has none of their own beyond that interaction. The tie counted for the
    // same interaction is not counted again.
    if (!viaCorroborated[a]) {
      const tiedToSellersOnly = ties[a] > 0 && ties[a] <= countFlaggedSellersTurnedTo(graph, a, role, corroboratedSeller);
      const own = score[a] - (tiedToSellersOnly ? ties[a] * signal.tie : 0);
      if (own + signal.buyer < options.memberThreshold) {
        buyerOf[a] = 0;
        // Flagged only by its ties to such sellers: the same customer's follow, counted as a tie.
        if (role[a] === ROLE_MEMBER && own < options.memberThreshold) role[a] = ROLE_NONE;
        continue;
      }
    }
    score[a] += signal.buyer;
    if (role[a] === ROLE_NONE || role[a] === ROLE_MEMBER) role[a] = ROLE_BUYER;
  }
  return { coded, sharedLink, sharedLinkFeature, ties, buyerOf, score, role };
}

/**
 * Whether a flagged seller's audience is evidence about its members: the shape (many turn
 * to it, it points off the platform) plus a link shared with a related account is what an
 * ordinary shop and its staff account look like, so it is not. What is: a burst of new
 * accounts in its audience (buyers recruited at once), another seller-shaped account
 * pointing to the same off-platform place (several storefronts of one operation), or coded
 * features that alone reach the member threshold.
 */
function isCorroboratedSeller(graph: AccountGraph, seller: number, sellers: SellerStructure, bursts: BurstFindings, options: ResolvedDiscoveryOptions, coded: Float32Array): boolean {
  if (bursts.audienceBurst.has(seller) || options.hashMatches.has(seller) || coded[seller] >= options.memberThreshold) return true;
  for (let k = graph.featuresOf.offsets[seller]; k < graph.featuresOf.offsets[seller + 1]; k++) {
    const f = graph.featuresOf.targets[k];
    if (graph.featureKinds[f] === 'link' && sharesLinkWithSeller(graph, seller, f, sellers)) return true;
  }
  return false;
}

/** Flagged, uncorroborated sellers the account follows or messages (its ties to them are the buyer signal again). */
function countFlaggedSellersTurnedTo(graph: AccountGraph, account: number, role: Uint8Array, corroboratedSeller: Uint8Array): number {
  let count = 0;
  for (let k = graph.out.offsets[account]; k < graph.out.offsets[account + 1]; k++) {
    const other = graph.out.targets[k];
    if (graph.out.kinds[k] & TURN_TO_KINDS && role[other] === ROLE_SELLER && !corroboratedSeller[other]) count++;
  }
  return count;
}

/**
 * Evidence of the co-occurring (derived) features an account uses, in a list it may reorder:
 * the strongest counts in full, each next one half as much as the one before. Hashtags that
 * co-occur with term matches because some network members also belong to an ordinary
 * community are that community's hashtags: an account active in it uses several of them,
 * and that is one piece of evidence (being in the community), not one per hashtag. A member
 * who uses the coded vocabulary itself carries term matches, which add up in full.
 */
export function derivedEvidence(values: number[]): number {
  values.sort((x, y) => y - x);
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] * DERIVED_DECAY ** i;
  return total;
}

/** Weight of each next co-occurring feature relative to the one before it. */
export const DERIVED_DECAY = 0.5;

/** Share of a link's holders that must be seller-shaped for it to be a storefront several sellers share. */
const STOREFRONT_SELLER_SHARE = 0.5;

/**
 * Whether the link is a storefront the account shares with other sellers: another seller-
 * shaped account points to it, and sellers are at least half of those that do. A shop's
 * address is posted by its own accounts; a club's or a town's site that two popular members
 * also link is posted by dozens of ordinary ones.
 */
function sharesLinkWithSeller(graph: AccountGraph, account: number, feature: number, sellers: SellerStructure): boolean {
  let sellerHolders = 0;
  for (let m = graph.membersOf.offsets[feature]; m < graph.membersOf.offsets[feature + 1]; m++) sellerHolders += sellers.isSeller[graph.membersOf.targets[m]];
  const holders = graph.membersOf.offsets[feature + 1] - graph.membersOf.offsets[feature];
  return sellerHolders >= 2 && sellers.isSeller[account] === 1 && sellerHolders >= STOREFRONT_SELLER_SHARE * holders;
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
