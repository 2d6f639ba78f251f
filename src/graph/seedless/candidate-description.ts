import { type AccountGraph, LABEL_CONFIRMED, LABEL_SUSPECTED } from '../account-graph.ts';
import { type AccountEvidence, DERIVED_DECAY, ROLE_NAMES, ROLE_SELLER } from './account-evidence.ts';
import type { ResolvedDiscoveryOptions } from './discovery-options.ts';
import { type FeatureWeights, usersOf } from './feature-weights.ts';
import type { Burst, BurstFindings } from './new-account-bursts.ts';
import { type SellerStructure, TURN_TO_KINDS } from './seller-structure.ts';

export const SIGNALS = ['coded_feature', 'shared_link', 'seller', 'buyer', 'new_account_burst', 'hash_match', 'tie'] as const;
export type SignalName = (typeof SIGNALS)[number];

export interface FeatureRef {
  kind: string;
  /** Hashtags, links and domains as written; searches as the hash they are stored as; terms as list:term-id, never the term. */
  value: string;
}

export interface MemberEvidence {
  signal: SignalName;
  /** Evidence units this contributed to the member's score. */
  weight: number;
  text: string;
  feature?: FeatureRef & { accounts: number; origin: 'term_list' | 'co_occurrence' | 'shared_link' };
  accounts?: string[];
  count?: number;
}

export interface CandidateMember {
  account: number;
  externalId: string;
  role: 'seller' | 'buyer' | 'member';
  score: number;
  evidence: MemberEvidence[];
}

export interface CandidateFeature extends FeatureRef {
  origin: 'term_list' | 'co_occurrence' | 'shared_link';
  /** Evidence one use gives (kind weight x specificity x suspicion); for a shared link, kind weight x specificity squared. */
  weight: number;
  specificity: number;
  suspicion: number;
  /** Members of this candidate holding it, and accounts holding it anywhere. */
  members: number;
  accounts: number;
  aliasOf?: FeatureRef;
}

export interface CandidateBurst {
  via: FeatureRef | { seller: string };
  members: number;
  accounts: number;
  expected: number;
  from: string;
  to: string;
}

export interface CandidateSummary {
  size: number;
  sellers: number;
  buyers: number;
  /** Members already labelled by a reviewer: a candidate is about the ones no one has confirmed. */
  confirmedMembers: number;
  suspectedMembers: number;
  /** Minors contacted (src/graph/minor-contacts.ts): counted when the candidate is stored, absent before. */
  minorContacts?: number;
  /** Members showing each signal. */
  signals: Record<SignalName, number>;
  features: CandidateFeature[];
  bursts: CandidateBurst[];
  text: string;
}

export interface CandidateNetwork {
  /** Always 'candidate': discovery never confirms; a reviewer decides. */
  status: 'candidate';
  /** Sum of member scores, each capped at 2 units: more independent evidence ranks a candidate higher. Not a probability. */
  score: number;
  members: CandidateMember[];
  summary: CandidateSummary;
}

export interface DescriptionInputs {
  graph: AccountGraph;
  weights: FeatureWeights;
  evidence: AccountEvidence;
  sellers: SellerStructure;
  bursts: BurstFindings;
  options: ResolvedDiscoveryOptions;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const MEMBER_SCORE_CAP = 2;
const FEATURES_SHOWN = 20;

function featureRef(graph: AccountGraph, feature: number): FeatureRef {
  return { kind: graph.featureKinds[feature], value: graph.featureValues[feature] };
}

function describeFeature(ref: FeatureRef): string {
  return ref.kind === 'search' ? `search ${ref.value.slice(0, 12)}…` : `${ref.kind} ${ref.value}`;
}

function burstVia(inputs: DescriptionInputs, burst: Burst): CandidateBurst['via'] {
  return 'feature' in burst.group ? featureRef(inputs.graph, burst.group.feature) : { seller: inputs.graph.externalIds[burst.group.seller] };
}

export function describeMember(inputs: DescriptionInputs, account: number): CandidateMember {
  const { graph, weights, evidence, sellers, bursts, options } = inputs;
  const signal = options.signalWeights;
  const items: MemberEvidence[] = [];
  const coded: number[] = [];
  for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
    const f = graph.featuresOf.targets[k];
    if (weights.suspicion[f] > 0 && weights.aliasOf[f] < 0) coded.push(f);
  }
  // Term matches count in full; co-occurring features strongest first, each next at a fraction
  // of the one before (account-evidence.ts), and each item shows what it added.
  coded.sort((x, y) => weights.evidence[y] - weights.evidence[x]);
  let derivedRank = 0;
  for (const f of coded) {
    const ref = featureRef(graph, f);
    const origin = weights.round[f] === 0 ? 'term_list' : 'co_occurrence';
    const weight = round(origin === 'term_list' ? weights.evidence[f] : weights.evidence[f] * DERIVED_DECAY ** derivedRank++);
    if (weight <= 0) continue;
    items.push({
      signal: 'coded_feature',
      weight,
      feature: { ...ref, accounts: usersOf(graph, f), origin },
      text: `${origin === 'term_list' ? 'matched an operator term list' : `used a feature that co-occurs with term matches${derivedRank > 1 ? ` (co-occurring feature ${derivedRank}, counted at ${DERIVED_DECAY}^${derivedRank - 1})` : ''}`}: ${describeFeature(ref)} (${usersOf(graph, f)} accounts)`,
    });
  }
  const link = evidence.sharedLinkFeature[account];
  if (link >= 0) {
    const ref = featureRef(graph, link);
    items.push({ signal: 'shared_link', weight: round(evidence.sharedLink[account]), feature: { ...ref, accounts: usersOf(graph, link), origin: 'shared_link' }, text: `points to ${ref.value}, shared by ${usersOf(graph, link)} accounts` });
  }
  if (evidence.role[account] === ROLE_SELLER) {
    const audienceBurst = bursts.audienceBurst.has(account) ? signal.burstAudience : 0;
    items.push({
      signal: 'seller',
      weight: round(signal.seller + audienceBurst),
      count: sellers.audience[account],
      text: `${sellers.audience[account]} accounts follow or message it, it turns to ${sellers.turnsTo[account]}, and it points off the platform${audienceBurst ? '; its audience holds a burst of new accounts' : ''}`,
    });
  }
  if (evidence.buyerOf[account] > 0) {
    const turnedTo: string[] = [];
    for (let k = graph.out.offsets[account]; k < graph.out.offsets[account + 1]; k++) {
      const other = graph.out.targets[k];
      if (graph.out.kinds[k] & TURN_TO_KINDS && evidence.role[other] === ROLE_SELLER) turnedTo.push(graph.externalIds[other]);
    }
    items.push({ signal: 'buyer', weight: signal.buyer, accounts: turnedTo, text: `follows or messages flagged seller${turnedTo.length === 1 ? '' : 's'} ${turnedTo.join(', ')}` });
  }
  const burstIndex = bursts.burstOf[account];
  if (burstIndex >= 0) {
    const burst = bursts.bursts[burstIndex];
    const via = burstVia(inputs, burst);
    items.push({
      signal: 'new_account_burst',
      weight: signal.burst,
      count: burst.accounts.length,
      text: `one of ${burst.accounts.length} accounts created between ${new Date(burst.windowStart).toISOString()} and ${new Date(burst.windowEnd).toISOString()} sharing ${'seller' in via ? `seller ${via.seller}` : describeFeature(via)} (${burst.expected.toFixed(1)} expected)`,
    });
  }
  const uploads = options.hashMatches.get(account);
  if (uploads) items.push({ signal: 'hash_match', weight: signal.hashMatch, count: uploads, text: `${uploads} upload${uploads === 1 ? '' : 's'} matched a hash bank` });
  if (evidence.ties[account] > 0) items.push({ signal: 'tie', weight: round(evidence.ties[account] * signal.tie), count: evidence.ties[account], text: `interacts with ${evidence.ties[account]}${evidence.ties[account] >= 2 ? ' or more' : ''} flagged account${evidence.ties[account] === 1 ? '' : 's'}` });
  items.sort((a, b) => b.weight - a.weight);
  return { account, externalId: graph.externalIds[account], role: ROLE_NAMES[evidence.role[account]] as CandidateMember['role'], score: round(evidence.score[account]), evidence: items };
}

export function describeCandidate(inputs: DescriptionInputs, group: number[]): CandidateNetwork {
  const { graph, weights, evidence, bursts } = inputs;
  const members = group.map((account) => describeMember(inputs, account));
  members.sort((a, b) => roleOrder(a.role) - roleOrder(b.role) || b.score - a.score || a.externalId.localeCompare(b.externalId));

  const signals = Object.fromEntries(SIGNALS.map((name) => [name, 0])) as Record<SignalName, number>;
  for (const member of members) for (const name of new Set(member.evidence.map((item) => item.signal))) signals[name]++;

  const featureMembers = new Map<number, number>();
  for (const account of group) {
    for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
      const f = graph.featuresOf.targets[k];
      const shared = weights.suspicion[f] > 0 || (graph.featureKinds[f] === 'link' && weights.specificity[f] > 0);
      if (shared) featureMembers.set(f, (featureMembers.get(f) ?? 0) + 1);
    }
  }
  const linkWeight = inputs.options.kindWeights.link ?? 0;
  const features: CandidateFeature[] = [...featureMembers]
    .filter(([, count]) => count >= 2)
    .map(([f, count]) => {
      const suspicious = weights.suspicion[f] > 0;
      const origin: CandidateFeature['origin'] = !suspicious ? 'shared_link' : weights.round[f] === 0 ? 'term_list' : 'co_occurrence';
      const alias = weights.aliasOf[f];
      return {
        ...featureRef(graph, f),
        origin,
        weight: round(suspicious ? weights.evidence[f] : linkWeight * weights.specificity[f] ** 2),
        specificity: round(weights.specificity[f]),
        suspicion: round(weights.suspicion[f]),
        members: count,
        accounts: usersOf(graph, f),
        ...(alias >= 0 ? { aliasOf: featureRef(graph, alias) } : {}),
      };
    })
    .sort((a, b) => b.members * Math.max(b.weight, 0.01) - a.members * Math.max(a.weight, 0.01) || a.value.localeCompare(b.value))
    .slice(0, FEATURES_SHOWN);

  const burstMembers = new Map<number, number>();
  for (const account of group) if (bursts.burstOf[account] >= 0) burstMembers.set(bursts.burstOf[account], (burstMembers.get(bursts.burstOf[account]) ?? 0) + 1);
  const candidateBursts: CandidateBurst[] = [...burstMembers]
    .map(([index, count]) => {
      const burst = bursts.bursts[index];
      return { via: burstVia(inputs, burst), members: count, accounts: burst.accounts.length, expected: round(burst.expected), from: new Date(burst.windowStart).toISOString(), to: new Date(burst.windowEnd).toISOString() };
    })
    .sort((a, b) => b.members - a.members);

  // Minors contacted are counted when the candidate is stored, as for every network (minor-contacts.ts).
  let confirmedMembers = 0;
  let suspectedMembers = 0;
  for (const account of group) {
    if (graph.label[account] === LABEL_CONFIRMED) confirmedMembers++;
    if (graph.label[account] === LABEL_SUSPECTED) suspectedMembers++;
  }
  const sellers = members.filter((m) => m.role === 'seller').length;
  const buyers = members.filter((m) => m.role === 'buyer').length;
  const score = round(group.reduce((sum, account) => sum + Math.min(evidence.score[account], MEMBER_SCORE_CAP), 0));
  const evidenceText = SIGNALS.filter((name) => signals[name] > 0).map((name) => `${signals[name]} ${name.replaceAll('_', ' ')}`).join(', ');
  const topFeatures = features.slice(0, 3).map((f) => `${describeFeature(f)} (${f.members} here, ${f.accounts} overall)`);
  return {
    status: 'candidate',
    score,
    members,
    summary: {
      size: group.length,
      sellers,
      buyers,
      confirmedMembers,
      suspectedMembers,
      signals,
      features,
      bursts: candidateBursts,
      text:
        `candidate network of ${group.length} accounts (${sellers} sellers, ${buyers} buyers), not confirmed; evidence: ${evidenceText}` +
        (topFeatures.length ? `; shared: ${topFeatures.join(', ')}` : ''),
    },
  };
}

function roleOrder(role: string): number {
  return role === 'seller' ? 0 : role === 'buyer' ? 1 : 2;
}
