import type { AccountGraph } from './account-graph.ts';
import { globalPageRank, personalizedPageRank } from './personalized-pagerank.ts';

/**
 * How a personalised score is made comparable between accounts of different popularity:
 * - `global`: divided by the account's global PageRank (how much a walk from anywhere reaches it);
 * - `degree`: divided by its weighted degree (the walk's stationary share without restarts);
 * - `none`: raw, which ranks accounts everyone follows as suspects (kept for comparison).
 */
export type DegreeNormalisation = 'global' | 'degree' | 'none';

export interface SeedGroup {
  /** Restart weight per node. */
  weights: Map<number, number>;
  /** Labelled seeds grouped by neighbourhood, or the weak seeds of the operator's term lists. */
  kind: 'labelled' | 'terms';
}

export interface ExpansionOptions {
  alpha?: number;
  epsilon?: number;
  normalisation?: DegreeNormalisation;
  /** Which nodes may be ranked (not seeds, not minors, not cleared or deleted accounts). */
  isCandidate: (node: number) => boolean;
  /** A group's lead joins the suspects with at least this share of that group's best lead. */
  minShare: number;
  /** Suspects each group may contribute at most. */
  perGroupLimit: number;
  /** Nodes whose normalised score from every group is wanted (the seeds, for calibration). */
  watch?: number[];
}

export interface Expansion {
  /** Best normalised score over the groups, per node; 0 where no walk arrived. */
  score: Float64Array;
  /** Sum of the groups' raw personalised scores, for explaining what carried suspicion where. */
  raw: Float64Array;
  /** Candidates reached by any group, best combined score first. */
  ranked: number[];
  /** Per group, the candidates it puts forward as suspects. */
  suspectsByGroup: number[][];
  pushes: number;
  /** The normalisation's divisor per node (1 for `none`). */
  divisor: Float64Array;
  /** Per group, the normalised score of each watched node. */
  watched: Float64Array[];
}

/** Accounts with more interactions than this are hubs: sharing one says nothing about two seeds being in one network. */
const HUB_ARCS = 300;

/**
 * Labelled seeds in one neighbourhood form one group: adjacent seeds, and seeds that share
 * a non-hub account neighbour (two buyers of one seller). Each group is expanded on its own,
 * so a dense network near some seeds cannot crowd out a sparse one near others.
 */
export function groupSeeds(graph: AccountGraph, seeds: number[], maxGroups = 32): number[][] {
  const parent = new Map<number, number>(seeds.map((s) => [s, s]));
  const find = (x: number): number => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const union = (x: number, y: number) => parent.set(find(x), find(y));
  const ownerOf = new Map<number, number>();
  const { offsets, targets } = graph.walk;
  for (const seed of seeds) {
    for (let k = offsets[seed]; k < offsets[seed + 1]; k++) {
      const neighbour = targets[k];
      if (neighbour >= graph.accountCount) continue;
      if (parent.has(neighbour)) union(seed, neighbour);
      if (offsets[neighbour + 1] - offsets[neighbour] > HUB_ARCS) continue;
      const owner = ownerOf.get(neighbour);
      if (owner === undefined) ownerOf.set(neighbour, seed);
      else union(seed, owner);
    }
  }
  const groups = new Map<number, number[]>();
  for (const seed of seeds) {
    const root = find(seed);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root)!.push(seed);
  }
  const list = [...groups.values()].sort((a, b) => b.length - a.length || a[0] - b[0]);
  // Past the cap, the smallest groups share walks: slower expansions, not lost seeds.
  for (let i = maxGroups; i < list.length; i++) list[maxGroups - 1 - ((i - maxGroups) % maxGroups)].push(...list[i]);
  return list.slice(0, maxGroups);
}

export function normaliser(graph: AccountGraph, normalisation: DegreeNormalisation, alpha: number): Float64Array {
  const n = graph.walk.degree.length;
  if (normalisation === 'none') return new Float64Array(n).fill(1);
  if (normalisation === 'degree') return Float64Array.from(graph.walk.degree, (d) => Math.max(d, 1));
  const rank = globalPageRank(graph.walk, { alpha });
  // Scaled so an average node divides by 1: scores stay in the raw scores' range.
  for (let v = 0; v < n; v++) rank[v] *= n;
  return rank;
}

/** Normalised personalised scores from one group's seeds (restart weights sum to one). */
export function groupScores(graph: AccountGraph, weights: Map<number, number>, divisor: Float64Array, options: { alpha?: number; epsilon?: number }) {
  const ppr = personalizedPageRank(graph.walk, weights, { alpha: options.alpha, epsilon: options.epsilon });
  return { raw: ppr.scores, reached: ppr.reached, pushes: ppr.pushes, normalised: (node: number) => ppr.scores[node] / divisor[node] };
}

export function expandSeeds(graph: AccountGraph, groups: SeedGroup[], divisor: Float64Array, options: ExpansionOptions): Expansion {
  const nodes = graph.walk.degree.length;
  const score = new Float64Array(nodes);
  const raw = new Float64Array(nodes);
  const seen = new Uint8Array(nodes);
  const reachedAll: number[] = [];
  const suspectsByGroup: number[][] = [];
  const watched: Float64Array[] = [];
  let pushes = 0;
  for (const group of groups) {
    const walk = groupScores(graph, group.weights, divisor, options);
    pushes += walk.pushes;
    watched.push(Float64Array.from(options.watch ?? [], (node) => walk.normalised(node)));
    const candidates: number[] = [];
    const mine = new Map<number, number>();
    for (const node of walk.reached) {
      raw[node] += walk.raw[node];
      if (!options.isCandidate(node) || walk.raw[node] <= 0) continue;
      const x = walk.normalised(node);
      mine.set(node, x);
      candidates.push(node);
      if (x > score[node]) score[node] = x;
      if (!seen[node]) {
        seen[node] = 1;
        reachedAll.push(node);
      }
    }
    candidates.sort((a, b) => mine.get(b)! - mine.get(a)! || a - b);
    const best = candidates.length > 0 ? mine.get(candidates[0])! : 0;
    const suspects: number[] = [];
    for (const node of candidates) {
      if (suspects.length >= options.perGroupLimit || mine.get(node)! < best * options.minShare) break;
      suspects.push(node);
    }
    suspectsByGroup.push(suspects);
  }
  reachedAll.sort((a, b) => score[b] - score[a] || a - b);
  return { score, raw, ranked: reachedAll, suspectsByGroup, pushes, divisor, watched };
}
