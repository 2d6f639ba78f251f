import type { AccountGraph } from '../account-graph.ts';
import { ROLE_NONE, type AccountEvidence } from './account-evidence.ts';
import type { FeatureWeights } from './feature-weights.ts';

/** Links shared by fewer accounts than this specificity implies are too common to tie a group together. */
export const LINK_TIE_SPECIFICITY = 0.5;

/**
 * Groups the accounts with a role into candidate networks: connected components of the
 * graph whose edges are interactions between such accounts and the suspicious features
 * (or specific off-platform links) they share. Accounts without a role never join, so a
 * dense benign community stays out however heavily its members message each other: it
 * has no evidence of its own to enter with. Groups are returned largest first.
 */
export function groupCandidates(graph: AccountGraph, evidence: AccountEvidence, weights: FeatureWeights, minSize: number): number[][] {
  const n = graph.accountCount;
  const parent = new Int32Array(n);
  for (let a = 0; a < n; a++) parent[a] = a;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  const inside = (a: number) => evidence.role[a] !== ROLE_NONE;

  for (let a = 0; a < n; a++) {
    if (!inside(a)) continue;
    for (let k = graph.out.offsets[a]; k < graph.out.offsets[a + 1]; k++) if (inside(graph.out.targets[k])) union(a, graph.out.targets[k]);
  }
  const { offsets, targets } = graph.membersOf;
  for (let f = 0; f < graph.featureCount; f++) {
    const ties = weights.suspicion[f] > 0 || (graph.featureKinds[f] === 'link' && weights.specificity[f] >= LINK_TIE_SPECIFICITY);
    if (!ties) continue;
    let first = -1;
    for (let k = offsets[f]; k < offsets[f + 1]; k++) {
      const account = targets[k];
      if (!inside(account)) continue;
      if (first < 0) first = account;
      else union(first, account);
    }
  }
  const groups = new Map<number, number[]>();
  for (let a = 0; a < n; a++) {
    if (!inside(a)) continue;
    const root = find(a);
    let group = groups.get(root);
    if (!group) groups.set(root, (group = []));
    group.push(a);
  }
  return [...groups.values()].filter((group) => group.length >= minSize).sort((x, y) => y.length - x.length || x[0] - y[0]);
}
