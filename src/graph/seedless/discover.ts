import { type AccountGraph, LABEL_CLEARED, LABEL_CONFIRMED } from '../account-graph.ts';
import { ROLE_BUYER, weighAccounts } from './account-evidence.ts';
import { groupCandidates } from './candidate-grouping.ts';
import { splitGroup } from './candidate-splitting.ts';
import { type CandidateNetwork, describeCandidate } from './candidate-description.ts';
import { type DiscoveryOptions, type ResolvedDiscoveryOptions, resolveDiscoveryOptions } from './discovery-options.ts';
import { type FeatureWeights, weighFeatures } from './feature-weights.ts';
import { findBursts } from './new-account-bursts.ts';
import { findSellerStructure } from './seller-structure.ts';

export interface DiscoveryResult {
  /** Candidate networks, best-evidenced first. Every one is status 'candidate': for review, never confirmed. */
  candidates: CandidateNetwork[];
  /** The settings the run used, defaults filled in (hashMatches reduced to a count). */
  options: Omit<ResolvedDiscoveryOptions, 'hashMatches'> & { hashMatchedAccounts: number };
  /** Weights of every feature, for callers that show or measure them (bench, tests). */
  featureWeights: FeatureWeights;
  stats: {
    accounts: number;
    termMatchedAccounts: number;
    suspiciousFeatures: number;
    sellers: number;
    bursts: number;
    flaggedAccounts: number;
    groups: number;
    /** Groups left out because most of their members are already confirmed (a known network). */
    knownGroups: number;
    ms: number;
  };
}

/**
 * Seedless discovery: finds networks no one has confirmed from what the accounts
 * themselves show (coded terms and the hashtags and searches that go with them, seller-
 * buyer structure pointing off the platform, bursts of new accounts, shared off-platform
 * links, hash matches), weighting each shared feature by how unusual it is, and reports
 * them as candidates with the evidence behind every member.
 *
 * Call with a graph from NetworkDetectionService.loadGraph or EventStreamGraph.build, and
 * optionally the accounts whose uploads matched a hash bank:
 *
 *   const { candidates } = discoverCandidateNetworks(graph, { hashMatches });
 *
 * Settings and defaults: discovery-options.ts. Runs in time linear in the graph's
 * interactions and feature memberships (plus sorting each feature's users by creation
 * time); nothing grows with the square of a popular feature's users.
 */
export function discoverCandidateNetworks(graph: AccountGraph, options: DiscoveryOptions = {}): DiscoveryResult {
  const started = performance.now();
  const resolved = resolveDiscoveryOptions(graph.accountCount, options);
  const n = graph.accountCount;
  // Cleared accounts were looked at and found fine; deleted ones are gone; minors near a
  // network are its possible victims, never its members.
  const excluded = new Uint8Array(n);
  for (let a = 0; a < n; a++) if (graph.label[a] === LABEL_CLEARED || !Number.isNaN(graph.deletedAt[a]) || graph.minor[a]) excluded[a] = 1;

  const weights = weighFeatures(graph, resolved);
  const sellers = findSellerStructure(graph, resolved, excluded);
  const bursts = findBursts(graph, weights, sellers.sellers, resolved, excluded);
  const evidence = weighAccounts(graph, weights, sellers, bursts, resolved, excluded);
  const connected = groupCandidates(graph, evidence, weights, resolved.minCandidateSize);
  const isBuyerOnly = (account: number) => evidence.role[account] === ROLE_BUYER && evidence.score[account] - resolved.signalWeights.buyer < resolved.memberThreshold;
  const groups = connected.flatMap((group) => splitGroup(graph, group, weights, resolved.splitShare, resolved.minCandidateSize, isBuyerOnly));

  const inputs = { graph, weights, evidence, sellers, bursts, options: resolved };
  let knownGroups = 0;
  const candidates: CandidateNetwork[] = [];
  for (const group of groups) {
    const confirmed = group.reduce((sum, account) => sum + (graph.label[account] === LABEL_CONFIRMED ? 1 : 0), 0);
    if (confirmed >= resolved.maxConfirmedShare * group.length) {
      knownGroups++;
      continue;
    }
    candidates.push(describeCandidate(inputs, group));
  }
  candidates.sort((a, b) => b.score - a.score || b.summary.size - a.summary.size);

  let termMatchedAccounts = 0;
  let flaggedAccounts = 0;
  for (let a = 0; a < n; a++) {
    if (evidence.role[a]) flaggedAccounts++;
    if (!excluded[a] && graph.hasFeatureKind(a, 'term')) termMatchedAccounts++;
  }
  const { hashMatches, ...shown } = resolved;
  return {
    candidates: candidates.slice(0, resolved.candidateLimit),
    options: { ...shown, hashMatchedAccounts: hashMatches.size },
    featureWeights: weights,
    stats: {
      accounts: n,
      termMatchedAccounts,
      suspiciousFeatures: weights.suspicion.reduce((sum, value) => sum + (value > 0 ? 1 : 0), 0),
      sellers: sellers.sellers.length,
      bursts: bursts.bursts.length,
      flaggedAccounts,
      groups: groups.length,
      knownGroups,
      ms: performance.now() - started,
    },
  };
}
