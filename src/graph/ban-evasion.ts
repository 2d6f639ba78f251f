import { type AccountGraph, INTERACTION_KINDS, LABEL_CONFIRMED, LABEL_SUSPECTED } from './account-graph.ts';

const FOLLOW = 1 << INTERACTION_KINDS.indexOf('follow');

/**
 * How likely one shared identifier alone makes a new account its removed owner's return.
 * A device, email or phone hash is close to proof; an IP range is shared by whole
 * neighbourhoods and only counts beside other evidence.
 */
export const IDENTIFIER_EVIDENCE: Record<string, number> = {
  'identifier:device': 0.9,
  'identifier:email': 0.9,
  'identifier:phone': 0.85,
  'identifier:offsite_handle': 0.8,
  'identifier:ip24': 0.15,
};

export interface EvasionEvidence {
  kind: 'identifier' | 'followers' | 'following';
  /** identifier kind (device, email, ...) for identifier evidence */
  identifier?: string;
  /** accounts in common, for follower/following evidence */
  common?: number;
  jaccard?: number;
  weight: number;
}

export interface EvasionLink {
  account: number;
  removed: number;
  score: number;
  evidence: EvasionEvidence[];
}

export interface BanEvasionOptions {
  /** Links scoring below this are not reported. */
  minScore?: number;
  /** Fewest accounts in common before follower overlap counts at all. */
  minCommon?: number;
}

/**
 * Finds accounts that look like a removed account come back: created after the removal and
 * sharing its identifiers, or followed by (or following) the same accounts. Evidence is
 * combined as independent probabilities (noisy-or), so two weak signals can add up but an
 * IP range alone never flags anyone.
 */
export function findBanEvasion(graph: AccountGraph, options: BanEvasionOptions = {}): EvasionLink[] {
  const minScore = options.minScore ?? 0.5;
  const minCommon = options.minCommon ?? 3;
  const n = graph.accountCount;
  const removed: number[] = [];
  for (let a = 0; a < n; a++) {
    if (Number.isNaN(graph.deletedAt[a])) continue;
    if (graph.enforced[a] || graph.label[a] === LABEL_CONFIRMED || graph.label[a] === LABEL_SUSPECTED) removed.push(a);
  }
  const links: EvasionLink[] = [];
  const evidence = new Map<number, EvasionEvidence[]>();
  const common = new Map<number, number>();

  const isReturnCandidate = (candidate: number, removedAt: number) =>
    candidate !== -1 && Number.isNaN(graph.deletedAt[candidate]) && graph.createdAt[candidate] > removedAt;

  for (const r of removed) {
    const removedAt = graph.deletedAt[r];
    evidence.clear();
    const add = (candidate: number, item: EvasionEvidence) => {
      let list = evidence.get(candidate);
      if (!list) evidence.set(candidate, (list = []));
      list.push(item);
    };

    for (let k = graph.featuresOf.offsets[r]; k < graph.featuresOf.offsets[r + 1]; k++) {
      const feature = graph.featuresOf.targets[k];
      const weight = IDENTIFIER_EVIDENCE[graph.featureKinds[feature]];
      if (weight === undefined) continue;
      for (let m = graph.membersOf.offsets[feature]; m < graph.membersOf.offsets[feature + 1]; m++) {
        const candidate = graph.membersOf.targets[m];
        if (candidate === r || !isReturnCandidate(candidate, removedAt)) continue;
        add(candidate, { kind: 'identifier', identifier: graph.featureKinds[feature].slice('identifier:'.length), weight });
      }
    }

    // Same audience: the removed account's followers now follow the new one.
    overlap(graph.in, graph.out, r, removedAt, 'followers');
    // Same interests: the new account follows what the removed one followed.
    overlap(graph.out, graph.in, r, removedAt, 'following');

    for (const [candidate, items] of evidence) {
      let keep = 1;
      for (const item of items) keep *= 1 - item.weight;
      const score = 1 - keep;
      if (score >= minScore) links.push({ account: candidate, removed: r, score, evidence: items });
    }

    function overlap(
      first: AccountGraph['in'],
      second: AccountGraph['in'],
      account: number,
      since: number,
      kind: 'followers' | 'following',
    ) {
      common.clear();
      const own = countFollows(first, account);
      if (own < minCommon) return;
      for (let k = first.offsets[account]; k < first.offsets[account + 1]; k++) {
        if (!(first.kinds[k] & FOLLOW)) continue;
        const neighbour = first.targets[k];
        for (let j = second.offsets[neighbour]; j < second.offsets[neighbour + 1]; j++) {
          if (!(second.kinds[j] & FOLLOW)) continue;
          const candidate = second.targets[j];
          if (candidate !== account) common.set(candidate, (common.get(candidate) ?? 0) + 1);
        }
      }
      // Accounts that existed beside the removed one show how much overlap its circle has
      // anyway (members of one network follow the same sellers); a returning account has to
      // resemble it clearly more than they do.
      let baseline = 0;
      const jaccards = new Map<number, [number, number]>();
      for (const [candidate, shared] of common) {
        if (shared < minCommon) continue;
        const jaccard = shared / (own + countFollows(first, candidate) - shared);
        if (isReturnCandidate(candidate, since)) jaccards.set(candidate, [shared, jaccard]);
        else if (graph.createdAt[candidate] <= since || Number.isNaN(graph.createdAt[candidate])) baseline = Math.max(baseline, jaccard);
      }
      for (const [candidate, [shared, jaccard]] of jaccards) {
        const weight = Math.min(0.9, (jaccard - baseline) * 2);
        if (weight >= 0.1) add(candidate, { kind, common: shared, jaccard: Math.round(jaccard * 1000) / 1000, weight });
      }
    }
  }
  return mutualBest(links);
}

/**
 * A person who comes back usually comes back once. Links resting on shared identifiers are
 * kept as they are; links resting on overlap alone are kept only between a removed account
 * and the new account that are each other's best match.
 */
function mutualBest(links: EvasionLink[]): EvasionLink[] {
  links.sort((a, b) => b.score - a.score || a.account - b.account || a.removed - b.removed);
  const bestForAccount = new Map<number, EvasionLink>();
  const bestForRemoved = new Map<number, EvasionLink>();
  for (const link of links) {
    if (!bestForAccount.has(link.account)) bestForAccount.set(link.account, link);
    if (!bestForRemoved.has(link.removed)) bestForRemoved.set(link.removed, link);
  }
  return links.filter(
    (link) => link.evidence.some((item) => item.kind === 'identifier' && item.weight >= 0.5) || (bestForAccount.get(link.account) === link && bestForRemoved.get(link.removed) === link),
  );
}

function countFollows(csr: AccountGraph['in'], account: number): number {
  let count = 0;
  for (let k = csr.offsets[account]; k < csr.offsets[account + 1]; k++) if (csr.kinds[k] & FOLLOW) count++;
  return count;
}
