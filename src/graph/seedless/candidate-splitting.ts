import type { AccountGraph } from '../account-graph.ts';
import { graphFromEdges, leidenCpm } from '../leiden.ts';
import { LINK_TIE_SPECIFICITY } from './candidate-grouping.ts';
import type { FeatureWeights } from './feature-weights.ts';

/** Past this many members of a group, a feature's pairs are not spelled out (they would grow with the square). */
const MAX_PAIRED_MEMBERS = 300;

/**
 * Splits a connected group where it is two or more dense parts joined by a few accounts (two
 * stars bridged by shared buyers), and leaves it whole where it is evenly connected (a
 * sparse network tied by the same few hashtags). Leiden on the Constant Potts Model with
 * the resolution at `share` of the group's own density: an evenly connected group scores
 * best whole at any share below 1, while parts much denser than the whole score better
 * apart. Members left in parts smaller than `minSize`, or in parts of buyers alone, rejoin
 * the part they are most tied to, so splitting never drops an account.
 */
export function splitGroup(graph: AccountGraph, group: number[], weights: FeatureWeights, share: number, minSize: number, isBuyerOnly: (account: number) => boolean, seed = 1): number[][] {
  if (group.length < 2 * minSize || share <= 0) return [group];
  const local = new Map<number, number>();
  group.forEach((account, index) => local.set(account, index));
  const edges: [number, number, number][] = [];
  for (let i = 0; i < group.length; i++) {
    const account = group[i];
    for (let k = graph.out.offsets[account]; k < graph.out.offsets[account + 1]; k++) {
      const j = local.get(graph.out.targets[k]);
      if (j !== undefined) edges.push([i, j, 1]);
    }
  }
  const holders = new Map<number, number[]>();
  for (let i = 0; i < group.length; i++) {
    const account = group[i];
    for (let k = graph.featuresOf.offsets[account]; k < graph.featuresOf.offsets[account + 1]; k++) {
      const f = graph.featuresOf.targets[k];
      if (weights.suspicion[f] === 0 && !(graph.featureKinds[f] === 'link' && weights.specificity[f] > 0)) continue;
      // A listed term ties together everyone who uses the scene's vocabulary, whichever
      // operation they belong to: it brought them into the group, but says nothing about
      // where the group divides. Hashtags that co-occur with it, links and interactions do.
      if (weights.round[f] === 0) continue;
      let list = holders.get(f);
      if (!list) holders.set(f, (list = []));
      list.push(i);
    }
  }
  for (const [f, members] of holders) {
    if (members.length < 2 || members.length > MAX_PAIRED_MEMBERS) continue;
    const weight = Math.max(weights.specificity[f], 0.1);
    for (let x = 0; x < members.length; x++) for (let y = x + 1; y < members.length; y++) edges.push([members[x], members[y], weight]);
  }
  const subgraph = graphFromEdges(group.length, edges);
  let total = 0;
  for (let k = 0; k < subgraph.weights.length; k++) total += subgraph.weights[k];
  const density = total / 2 / ((group.length * (group.length - 1)) / 2);
  if (!(density > 0)) return [group];
  const partition = leidenCpm(subgraph, { resolution: share * density, seed });
  const parts: number[][] = Array.from({ length: partition.communityCount }, () => []);
  for (let i = 0; i < group.length; i++) parts[partition.membership[i]].push(i);
  // A part of buyers alone is the audience of a seller kept elsewhere: it rejoins, like a part too small.
  const kept = parts.filter((part) => part.length >= minSize && part.some((i) => !isBuyerOnly(group[i])));
  if (kept.length <= 1) return [group];

  let partOf = new Int32Array(group.length).fill(-1);
  kept.forEach((part, index) => {
    for (const i of part) partOf[i] = index;
  });
  // Parts that share a specific off-platform link are one operation (a star's sellers each with their
  // own buyers, sharing one shop link): they are put back together. Coded terms and the
  // hashtags that go with them are not: they are the vocabulary of a whole scene, which
  // separate operations share (the way buyers find any of them), so parts Leiden found apart
  // stay apart however many terms they have in common.
  const parent = kept.map((_, index) => index);
  const root = (p: number): number => (parent[p] === p ? p : (parent[p] = root(parent[p])));
  const union = (a: number, b: number) => {
    const ra = root(a);
    const rb = root(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (const [f, members] of holders) {
    if (graph.featureKinds[f] !== 'link' || weights.specificity[f] < LINK_TIE_SPECIFICITY) continue;
    let first = -1;
    for (const i of members) {
      if (partOf[i] < 0) continue;
      if (first < 0) first = partOf[i];
      else union(first, partOf[i]);
    }
  }
  const merged = new Map<number, number[]>();
  kept.forEach((part, index) => {
    const r = root(index);
    merged.set(r, [...(merged.get(r) ?? []), ...part]);
  });
  if (merged.size <= 1) return [group];
  kept.splice(0, kept.length, ...merged.values());
  partOf = new Int32Array(group.length).fill(-1);
  kept.forEach((part, index) => {
    for (const i of part) partOf[i] = index;
  });
  // Leftovers rejoin the kept part they have most edge weight to (the largest part when they have none).
  for (let i = 0; i < group.length; i++) {
    if (partOf[i] >= 0) continue;
    const tie = new Float64Array(kept.length);
    for (let k = subgraph.offsets[i]; k < subgraph.offsets[i + 1]; k++) {
      const part = partOf[subgraph.targets[k]];
      if (part >= 0) tie[part] += subgraph.weights[k];
    }
    let best = 0;
    for (let p = 1; p < kept.length; p++) if (tie[p] > tie[best]) best = p;
    kept[best].push(i);
  }
  return kept.map((part) => part.map((i) => group[i]));
}
