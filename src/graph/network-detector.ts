import { type AccountGraph, FEATURE_WEIGHTS, INTERACTION_KINDS, LABEL_CLEARED, LABEL_CONFIRMED, LABEL_NAMES, LABEL_SUSPECTED } from './account-graph.ts';
import { type EvasionLink, findBanEvasion } from './ban-evasion.ts';
import { graphFromEdges, leidenCpm } from './leiden.ts';
import { DETECTION_DEFAULTS } from './detection-defaults.ts';
import { type RiskCalibration, calibrateRisk, heldOutRecall, riskOf } from './risk-calibration.ts';
import { type DegreeNormalisation, type Expansion, type SeedGroup, expandSeeds, groupScores, groupSeeds, normaliser } from './seed-expansion.ts';
import { combineWithCandidates } from './seeded-candidates.ts';
import { discoverCandidateNetworks } from './seedless/discover.ts';
import type { DiscoveryOptions } from './seedless/discovery-options.ts';

export interface DetectionOptions {
  /** PageRank restart probability. */
  alpha?: number;
  epsilon?: number;
  /** Restart weight of each seed by its label; term-list matches are weak seeds of their own. */
  confirmedSeedWeight?: number;
  suspectedSeedWeight?: number;
  termSeedWeight?: number;
  /** Extra seeds (graph indexes) given by the operator for this run. */
  extraSeeds?: number[];
  /** How many leads to report, best first. */
  leadLimit?: number;
  /** How many accounts at most form the suspect subgraph that is split into networks. */
  suspectLimit?: number;
  /** A lead joins the suspect subgraph only with at least this share of the best lead of its own seed group. */
  suspectMinShare?: number;
  /** Suspects each seed group contributes at most, so one dense network cannot crowd out another. */
  suspectsPerGroup?: number;
  /** How scores are corrected for popularity; default `global` (see seed-expansion.ts). */
  normalisation?: DegreeNormalisation;
  /** Labelled seeds held out, one at a time, to calibrate risk; default 40. */
  holdOutLimit?: number;
  /** A reported network keeps a non-seed member only from this calibrated risk; default 0.2. */
  memberMinRisk?: number;
  /** CPM resolution: the least internal edge weight per pair of members a network must have. */
  resolution?: number;
  minNetworkSize?: number;
  /** Seed of the community detection's random order, for repeatable runs. */
  randomSeed?: number;
  /**
   * Seedless discovery's candidates joined with the seeded groups (seeded-candidates.ts): a
   * candidate holding a seed a person confirmed is reported as that seed's network. Default
   * true; the settings are discovery's own (known networks are kept here, since holding a seed
   * is the point).
   */
  seedlessCandidates?: boolean;
  discovery?: DiscoveryOptions;
}

export interface LeadReason {
  /** What carried suspicion to the account: a neighbour, a shared feature, or the account's own signal. */
  via: 'account' | 'feature' | 'signal';
  /** Share of the account's score that came this way (0..1), for neighbours and features. */
  share?: number;
  account?: string;
  accountLabel?: string;
  /** Interactions between the two, e.g. "follows", "messaged by". */
  interactions?: string[];
  feature?: { kind: string; value?: string };
  /** Seeds sharing the feature. */
  seedsSharing?: number;
  signal?: string;
  text: string;
}

export interface Lead {
  account: number;
  /** Personalised PageRank divided by the popularity normaliser: comparable across runs of one graph. */
  score: number;
  /** Calibrated probability (0..1) that the account is a network member; 0 without a calibration. */
  risk: number;
  reasons: LeadReason[];
}

export type NetworkRole = 'seller' | 'buyer' | 'member';

export interface NetworkMember {
  account: number;
  role: NetworkRole;
  score: number;
  inbound: number;
  outbound: number;
}

export interface NetworkSummary {
  size: number;
  sellers: number;
  buyers: number;
  seeds: number;
  confirmed: number;
  minors: number;
  internalEdges: number;
  density: number;
  sharedFeatures: { kind: string; value?: string; members: number }[];
  text: string;
}

export interface DetectedNetwork {
  members: NetworkMember[];
  summary: NetworkSummary;
}

export interface DetectionResult {
  seeds: number[];
  leads: Lead[];
  networks: DetectedNetwork[];
  evasions: EvasionLink[];
  /** How risk was estimated from held-out seeds; null with fewer than two live labelled seeds. */
  calibration: RiskCalibration | null;
  stats: { pushes: number; reached: number; suspects: number; seedGroups: number; candidates: number; pageRankMs: number; calibrationMs: number; communitiesMs: number; evasionMs: number };
}

const FOLLOW = 1 << INTERACTION_KINDS.indexOf('follow');
const MESSAGE = 1 << INTERACTION_KINDS.indexOf('message');
/** Feature kinds whose value can be shown to a reviewer; identifiers are hashes and say nothing. */
const SHOWN_FEATURE_VALUES = new Set(['hashtag', 'link', 'link_domain', 'term']);
const OFFSITE_KINDS = ['link', 'link_domain', 'identifier:offsite_handle'];

function describeKinds(kinds: number, outgoing: boolean): string[] {
  const verbs: Record<string, [string, string]> = {
    follow: ['follows', 'followed by'],
    message: ['messages', 'messaged by'],
    comment: ['comments on', 'commented on by'],
    like: ['likes', 'liked by'],
    share: ['shares', 'shared by'],
  };
  return INTERACTION_KINDS.filter((_, bit) => kinds & (1 << bit)).map((kind) => verbs[kind][outgoing ? 0 : 1]);
}

function featureLabel(graph: AccountGraph, feature: number): { kind: string; value?: string } {
  const kind = graph.featureKinds[feature];
  return SHOWN_FEATURE_VALUES.has(kind) ? { kind, value: graph.featureValues[feature] } : { kind };
}

/**
 * Seed expansion, then networks: personalised PageRank from the known accounts ranks every
 * other account by how much of the walk reaches it, through interactions and shared
 * features; the best-ranked accounts and the seeds are then split into dense communities
 * with Leiden on the Constant Potts Model, which (unlike modularity) does not hide a small
 * dense group inside the larger communities its members also belong to.
 */
export function detectNetworks(graph: AccountGraph, options: DetectionOptions = {}): DetectionResult {
  const n = graph.accountCount;
  const seedWeights = new Map<number, number>();
  const isSeed = new Uint8Array(n);
  // Seeds a person stands behind: confirmed by a reviewer or operator (not by a hash match's
  // automatic label), or given by the operator for this run. Only these can make a seedless
  // candidate a reported network (seeded-candidates.ts); every seed expands alike.
  const isConfirmedByPerson = new Uint8Array(n);
  for (let a = 0; a < n; a++) {
    const label = graph.label[a];
    if (label === LABEL_CONFIRMED) seedWeights.set(a, options.confirmedSeedWeight ?? 1);
    else if (label === LABEL_SUSPECTED) seedWeights.set(a, options.suspectedSeedWeight ?? 0.5);
    if (label === LABEL_CONFIRMED || label === LABEL_SUSPECTED) isSeed[a] = 1;
    if (label === LABEL_CONFIRMED && !graph.labelAutomatic[a]) isConfirmedByPerson[a] = 1;
  }
  for (const a of options.extraSeeds ?? []) {
    seedWeights.set(a, Math.max(seedWeights.get(a) ?? 0, options.confirmedSeedWeight ?? 1));
    isSeed[a] = 1;
    isConfirmedByPerson[a] = 1;
  }
  const termWeight = options.termSeedWeight ?? 0.2;
  const termMatched = new Uint8Array(n);
  const termSeeds = new Map<number, number>();
  for (let a = 0; a < n; a++) {
    if (graph.label[a] === LABEL_CLEARED || !graph.hasFeatureKind(a, 'term')) continue;
    termMatched[a] = 1;
    if (termWeight > 0 && !isSeed[a]) termSeeds.set(a, termWeight);
  }
  const seeds = [...isSeed.keys()].filter((a) => isSeed[a]);
  const emptyStats = { pushes: 0, reached: 0, suspects: 0, seedGroups: 0, candidates: 0, pageRankMs: 0, calibrationMs: 0, communitiesMs: 0, evasionMs: 0 };

  const evasionStart = performance.now();
  const evasions = findBanEvasion(graph);
  const evasionMs = performance.now() - evasionStart;
  if (seeds.length === 0 && termSeeds.size === 0) return { seeds, leads: [], networks: [], evasions, calibration: null, stats: { ...emptyStats, evasionMs } };

  const pageRankStart = performance.now();
  const alpha = options.alpha ?? 0.15;
  // Coarser than a single walk's default: a run makes one walk per seed group and one per
  // held-out seed, and at 1e-6 the planted-truth benchmark finds the same members in half the time.
  const epsilon = options.epsilon ?? 1e-6;
  const seedGroups: SeedGroup[] = groupSeeds(graph, seeds).map((list) => ({ kind: 'labelled', weights: new Map(list.map((a) => [a, seedWeights.get(a)!])) }));
  if (termSeeds.size > 0) seedGroups.push({ kind: 'terms', weights: termSeeds });
  const divisor = normaliser(graph, options.normalisation ?? 'global', alpha);
  // Minors near a network are its possible victims, not its members: they are counted in
  // each network's stored summary (minor-contacts.ts) and never ranked or grouped as suspects.
  const isCandidate = (node: number) =>
    node < n && !isSeed[node] && graph.label[node] !== LABEL_CLEARED && Number.isNaN(graph.deletedAt[node]) && !graph.minor[node];
  const heldOut = chooseHeldOut(graph, seeds, options.holdOutLimit ?? 40);
  const expansion = expandSeeds(graph, seedGroups, divisor, {
    alpha,
    epsilon,
    isCandidate,
    minShare: options.suspectMinShare ?? 0.02,
    perGroupLimit: options.suspectsPerGroup ?? 400,
    watch: heldOut,
  });
  const scores = expansion.score;
  const ranked = expansion.ranked;
  const pageRankMs = performance.now() - pageRankStart;

  const calibrationStart = performance.now();
  const leadLimit = options.leadLimit ?? DETECTION_DEFAULTS.leadLimit;
  const fitted = heldOut.length >= 2 ? calibrateRisk(heldOutScores(graph, seedGroups, expansion, heldOut, divisor, { alpha, epsilon }), Float64Array.from(ranked, (a) => scores[a])) : null;
  const calibration = fitted ? { ...fitted, recall: heldOutRecall(fitted.heldOutRanks, leadLimit) } : null;
  const calibrationMs = performance.now() - calibrationStart;
  const leads: Lead[] = ranked.slice(0, leadLimit).map((account) => ({
    account,
    score: scores[account],
    risk: riskOf(calibration, scores[account]),
    reasons: explain(graph, account, expansion.raw, isSeed, termMatched),
  }));

  const communitiesStart = performance.now();
  // Seeds score by the walks from the other seeds, so a seed's score means what anyone's does.
  const memberScores = Float64Array.from(scores);
  for (const seed of seeds) memberScores[seed] = expansion.raw[seed] / divisor[seed];
  const suspects = seeds.filter((a) => Number.isNaN(graph.deletedAt[a]) || expansion.raw[a] > 0);
  const taken = new Uint8Array(n);
  for (const a of suspects) taken[a] = 1;
  const suspectLimit = options.suspectLimit ?? 4000;
  for (const groupSuspects of expansion.suspectsByGroup) {
    for (const account of groupSuspects) {
      if (suspects.length >= suspectLimit) break;
      if (!taken[account]) {
        taken[account] = 1;
        suspects.push(account);
      }
    }
  }
  const risk = (account: number) => (isSeed[account] ? 1 : riskOf(calibration, scores[account]));
  const groups = findCommunities(graph, suspects, isSeed, calibration?.informative ? risk : null, options);
  const confirmedSeeds = seeds.filter((a) => isConfirmedByPerson[a]);
  const candidates = options.seedlessCandidates === false ? [] : seededCandidates(graph, confirmedSeeds, options.discovery);
  const minNetworkSize = options.minNetworkSize ?? DETECTION_DEFAULTS.minNetworkSize;
  const networks = combineWithCandidates({ groups, candidates, isSeed, isConfirmedByPerson, termMatched, minNetworkSize }).map((group) => describeNetwork(graph, group, memberScores, isSeed));
  const communitiesMs = performance.now() - communitiesStart;

  return {
    seeds,
    leads,
    networks,
    evasions,
    calibration,
    stats: { pushes: expansion.pushes, reached: ranked.length, suspects: suspects.length, seedGroups: seedGroups.length, candidates: candidates.length, pageRankMs, calibrationMs, communitiesMs, evasionMs },
  };
}

/**
 * Discovery's candidates on the run's graph (known networks kept: holding a seed is the point
 * here), each with the seeds that turn to (follow or message) one of its sellers or two of its
 * members: a confirmed account that is a candidate's buyer is in that network even when its
 * own evidence kept it out of the candidate. `seeds` are the ones a person confirmed: a
 * suspected or hash-matched account that follows a seller is no reason to take it in.
 */
function seededCandidates(graph: AccountGraph, seeds: number[], discovery: DiscoveryOptions | undefined): number[][] {
  return discoverCandidateNetworks(graph, { ...discovery, maxConfirmedShare: Infinity }).candidates.map((candidate) => {
    const members = new Set(candidate.members.map((m) => m.account));
    const sellers = new Set(candidate.members.filter((m) => m.role === 'seller').map((m) => m.account));
    for (const seed of seeds) {
      if (members.has(seed)) continue;
      let turnedTo = 0;
      for (let k = graph.out.offsets[seed]; k < graph.out.offsets[seed + 1]; k++) {
        const target = graph.out.targets[k];
        if (graph.out.kinds[k] & (FOLLOW | MESSAGE) && members.has(target)) turnedTo += sellers.has(target) ? 2 : 1;
      }
      if (turnedTo >= 2) members.add(seed);
    }
    return [...members];
  });
}

/** Seeds to hold out for calibration: live labelled accounts, spread evenly over the list. */
function chooseHeldOut(graph: AccountGraph, seeds: number[], limit: number): number[] {
  const live = seeds.filter((a) => Number.isNaN(graph.deletedAt[a]));
  if (live.length <= limit) return live;
  return Array.from({ length: limit }, (_, i) => live[Math.floor((i * live.length) / limit)]);
}

/**
 * Each held-out seed's score when it is not a seed: the walk from the rest of its group,
 * and the other groups' walks (which never restarted at it) as they are.
 */
function heldOutScores(graph: AccountGraph, groups: SeedGroup[], expansion: Expansion, heldOut: number[], divisor: Float64Array, options: { alpha: number; epsilon: number }): number[] {
  return heldOut.map((seed, index) => {
    let best = 0;
    groups.forEach((group, g) => {
      if (!group.weights.has(seed) || group.kind === 'terms') {
        best = Math.max(best, expansion.watched[g][index]);
        return;
      }
      const rest = new Map(group.weights);
      rest.delete(seed);
      if (rest.size === 0) return;
      best = Math.max(best, groupScores(graph, rest, divisor, { alpha: options.alpha, epsilon: options.epsilon }).normalised(seed));
    });
    return best;
  });
}

/** The neighbours and features that carried the most score to an account, and its own signals. */
function explain(graph: AccountGraph, account: number, scores: Float64Array, isSeed: Uint8Array, termMatched: Uint8Array): LeadReason[] {
  const { offsets, targets, weights, degree } = graph.walk;
  const inflow = new Map<number, number>();
  let total = 0;
  for (let k = offsets[account]; k < offsets[account + 1]; k++) {
    const neighbour = targets[k];
    if (scores[neighbour] <= 0 || degree[neighbour] === 0) continue;
    const amount = (scores[neighbour] * weights[k]) / degree[neighbour];
    inflow.set(neighbour, (inflow.get(neighbour) ?? 0) + amount);
    total += amount;
  }
  const top = [...inflow.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  const reasons: LeadReason[] = top.map(([neighbour, amount]) => {
    const share = total > 0 ? Math.round((amount / total) * 1000) / 1000 : 0;
    if (!graph.isFeatureNode(neighbour)) {
      const interactions = [...describeKinds(graph.kindsFrom(account, neighbour), true), ...describeKinds(graph.kindsFrom(neighbour, account), false)];
      const label = LABEL_NAMES[graph.label[neighbour]];
      const who = isSeed[neighbour] ? `${label} account` : 'suspected-by-proximity account';
      return {
        via: 'account',
        share,
        account: graph.externalIds[neighbour],
        accountLabel: label,
        interactions,
        text: `${interactions.join(', ') || 'linked to'} ${who} ${graph.externalIds[neighbour]}`,
      };
    }
    const feature = neighbour - graph.accountCount;
    let seedsSharing = 0;
    for (let m = graph.membersOf.offsets[feature]; m < graph.membersOf.offsets[feature + 1]; m++) if (isSeed[graph.membersOf.targets[m]]) seedsSharing++;
    const shown = featureLabel(graph, feature);
    return {
      via: 'feature',
      share,
      feature: shown,
      seedsSharing,
      text: `shares ${shown.kind.replace('identifier:', 'identifier ')}${shown.value ? ` ${shown.value}` : ''} with ${seedsSharing} seed account${seedsSharing === 1 ? '' : 's'}`,
    };
  });
  if (termMatched[account]) reasons.push({ via: 'signal', signal: 'term_match', text: 'matched an operator term list' });
  return reasons;
}

/** Dense groups of suspects (Leiden CPM), each without the members the calibration gives almost no chance. */
function findCommunities(
  graph: AccountGraph,
  suspects: number[],
  isSeed: Uint8Array,
  risk: ((account: number) => number) | null,
  options: DetectionOptions,
): number[][] {
  if (suspects.length < 2) return [];
  const local = new Map<number, number>();
  suspects.forEach((account, index) => local.set(account, index));
  const edges: [number, number, number][] = [];
  const { offsets, targets, weights } = graph.walk;
  for (let i = 0; i < suspects.length; i++) {
    const account = suspects[i];
    for (let k = offsets[account]; k < offsets[account + 1]; k++) {
      const neighbour = targets[k];
      const j = local.get(neighbour);
      // Each undirected arc appears at both ends; keep it once.
      if (j !== undefined && i < j) edges.push([i, j, weights[k]]);
    }
  }
  // Shared features among suspects, spread over the pairs that share them.
  const featureMembers = new Map<number, number[]>();
  for (let i = 0; i < suspects.length; i++) {
    const account = suspects[i];
    for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
      const feature = graph.featuresOf.targets[k];
      let members = featureMembers.get(feature);
      if (!members) featureMembers.set(feature, (members = []));
      members.push(i);
    }
  }
  for (const [feature, members] of featureMembers) {
    if (members.length < 2 || members.length > 200) continue;
    const weight = FEATURE_WEIGHTS[graph.featureKinds[feature]] / (members.length - 1);
    for (let x = 0; x < members.length; x++) for (let y = x + 1; y < members.length; y++) edges.push([members[x], members[y], weight]);
  }
  const subgraph = graphFromEdges(suspects.length, edges);
  const partition = leidenCpm(subgraph, { resolution: options.resolution ?? DETECTION_DEFAULTS.resolution, seed: options.randomSeed ?? 1 });
  const groups: number[][] = Array.from({ length: partition.communityCount }, () => []);
  for (let i = 0; i < suspects.length; i++) groups[partition.membership[i]].push(suspects[i]);
  // Members the calibration gives almost no chance are left out: a seed's own benign circle
  // is dense around it but scores like anyone else. Which groups are networks (a seed or
  // many term matches inside, and evidence beyond one account) is seeded-candidates.ts's call.
  const minRisk = options.memberMinRisk ?? 0.2;
  return risk ? groups.map((group) => group.filter((account) => isSeed[account] || risk(account) >= minRisk)) : groups;
}

/**
 * Sellers are members many other members turn to (follow or message) and who point off the
 * platform; buyers are members who turn to a seller. Everyone else is a member.
 */
function describeNetwork(
  graph: AccountGraph,
  group: number[],
  scores: Float64Array,
  isSeed: Uint8Array,
): DetectedNetwork {
  const inGroup = new Set(group);
  const inbound = new Map<number, number>();
  const outbound = new Map<number, number>();
  let internalEdges = 0;
  for (const account of group) {
    let out = 0;
    for (let k = graph.out.offsets[account]; k < graph.out.offsets[account + 1]; k++) {
      const target = graph.out.targets[k];
      const kinds = graph.out.kinds[k];
      if (inGroup.has(target)) {
        internalEdges++;
        if (kinds & (FOLLOW | MESSAGE)) out++;
      }
    }
    outbound.set(account, out);
    let incoming = 0;
    for (let k = graph.in.offsets[account]; k < graph.in.offsets[account + 1]; k++) {
      if (inGroup.has(graph.in.targets[k]) && graph.in.kinds[k] & (FOLLOW | MESSAGE)) incoming++;
    }
    inbound.set(account, incoming);
  }
  const sellerFloor = Math.max(3, Math.ceil(group.length * 0.1));
  const sellers = new Set(
    group.filter((account) => inbound.get(account)! >= sellerFloor && inbound.get(account)! > outbound.get(account)! && OFFSITE_KINDS.some((kind) => graph.hasFeatureKind(account, kind))),
  );
  const members: NetworkMember[] = group.map((account) => {
    let role: NetworkRole = 'member';
    if (sellers.has(account)) role = 'seller';
    else {
      for (let k = graph.out.offsets[account]; k < graph.out.offsets[account + 1]; k++) {
        if (sellers.has(graph.out.targets[k]) && graph.out.kinds[k] & (FOLLOW | MESSAGE)) {
          role = 'buyer';
          break;
        }
      }
    }
    return { account, role, score: scores[account], inbound: inbound.get(account)!, outbound: outbound.get(account)! };
  });
  members.sort((a, b) => (a.role === b.role ? b.score - a.score : roleOrder(a.role) - roleOrder(b.role)));

  const featureCounts = new Map<number, number>();
  for (const account of group) {
    for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
      const feature = graph.featuresOf.targets[k];
      featureCounts.set(feature, (featureCounts.get(feature) ?? 0) + 1);
    }
  }
  const shared: NetworkSummary['sharedFeatures'] = [];
  for (const [feature, count] of featureCounts) {
    if (count >= Math.max(2, Math.ceil(group.length * 0.2))) shared.push({ ...featureLabel(graph, feature), members: count });
  }
  shared.sort((a, b) => b.members - a.members);
  const sellerCount = sellers.size;
  const buyerCount = members.filter((member) => member.role === 'buyer').length;
  const seedCount = group.filter((account) => isSeed[account]).length;
  const confirmed = group.filter((account) => graph.label[account] === LABEL_CONFIRMED).length;
  const minors = group.filter((account) => graph.minor[account]).length;
  const possible = group.length * (group.length - 1);
  const summary: NetworkSummary = {
    size: group.length,
    sellers: sellerCount,
    buyers: buyerCount,
    seeds: seedCount,
    confirmed,
    minors,
    internalEdges,
    density: possible > 0 ? Math.round((internalEdges / possible) * 10000) / 10000 : 0,
    sharedFeatures: shared.slice(0, 10),
    text:
      `${group.length} accounts (${confirmed} confirmed, ${seedCount} seeds): ${sellerCount} seller${sellerCount === 1 ? '' : 's'}, ${buyerCount} buyer${buyerCount === 1 ? '' : 's'}` +
      (minors > 0 ? `; ${minors} member${minors === 1 ? ' is a minor' : 's are minors'}` : ''),
  };
  return { members, summary };
}

function roleOrder(role: NetworkRole): number {
  return role === 'seller' ? 0 : role === 'buyer' ? 1 : 2;
}
