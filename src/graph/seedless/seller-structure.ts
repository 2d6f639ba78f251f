import { type AccountGraph, INTERACTION_KINDS } from '../account-graph.ts';
import type { ResolvedDiscoveryOptions } from './discovery-options.ts';

export const TURN_TO_KINDS = (1 << INTERACTION_KINDS.indexOf('follow')) | (1 << INTERACTION_KINDS.indexOf('message'));
/** Feature kinds that point off the platform. */
export const OFFSITE_KINDS = new Set(['link', 'identifier:offsite_handle']);

/**
 * Bipartite seller-buyer structure: a seller is an account many others turn to (follow or
 * message) far more than it turns to anyone, that points off the platform. An account
 * everyone follows is popular, not a seller, so the audience has an upper bound; and the
 * shape alone (a small shop, a local club) is ordinary, which is why a seller becomes
 * evidence only beside something else (a shared link, a burst of new accounts in its
 * audience, coded terms).
 */
export interface SellerStructure {
  /** Distinct accounts that follow or message the account. */
  audience: Int32Array;
  /** Distinct accounts it follows or messages. */
  turnsTo: Int32Array;
  isSeller: Uint8Array;
  sellers: number[];
}

export function findSellerStructure(graph: AccountGraph, options: ResolvedDiscoveryOptions, excluded: Uint8Array): SellerStructure {
  const n = graph.accountCount;
  const audience = new Int32Array(n);
  const turnsTo = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    for (let k = graph.in.offsets[a]; k < graph.in.offsets[a + 1]; k++) if (graph.in.kinds[k] & TURN_TO_KINDS) audience[a]++;
    for (let k = graph.out.offsets[a]; k < graph.out.offsets[a + 1]; k++) if (graph.out.kinds[k] & TURN_TO_KINDS) turnsTo[a]++;
  }
  const isSeller = new Uint8Array(n);
  const sellers: number[] = [];
  for (let a = 0; a < n; a++) {
    if (excluded[a] || audience[a] < options.sellerMinAudience || audience[a] > options.sellerMaxAudience) continue;
    if (audience[a] < options.sellerMinAsymmetry * turnsTo[a]) continue;
    if (!pointsOffsite(graph, a)) continue;
    isSeller[a] = 1;
    sellers.push(a);
  }
  return { audience, turnsTo, isSeller, sellers };
}

export function pointsOffsite(graph: AccountGraph, account: number): boolean {
  for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
    if (OFFSITE_KINDS.has(graph.featureKinds[graph.featuresOf.targets[k]])) return true;
  }
  return false;
}

/** Accounts that follow or message the given account. */
export function audienceOf(graph: AccountGraph, account: number): number[] {
  const result: number[] = [];
  for (let k = graph.in.offsets[account]; k < graph.in.offsets[account + 1]; k++) if (graph.in.kinds[k] & TURN_TO_KINDS) result.push(graph.in.targets[k]);
  return result;
}
