/**
 * Scoring a detection run against the synthetic platform's planted truth, and the simple
 * baselines it is compared with. Used by bench/network-detection.ts.
 */
import type { UndirectedGraph } from 'graphology';
import type { SyntheticPlatform } from '../src/demo/synthetic-platform.ts';
import type { AccountGraph } from '../src/graph/account-graph.ts';
import type { DetectionResult } from '../src/graph/network-detector.ts';

export const fmt = (x: number, digits = 3) => x.toFixed(digits);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** Seeds are buyers of seeded networks (the accounts a hash match typically exposes first), spread over each list. */
export function pickSeeds(platform: SyntheticPlatform, perNetwork: number): Set<string> {
  const seeds = new Set<string>();
  const removed = new Set(platform.truth.removed);
  for (const network of platform.truth.networks) {
    if (!network.seeded) continue;
    const candidates = network.buyers.filter((a) => !removed.has(a));
    for (let i = 0; i < perNetwork && i < candidates.length; i++) seeds.add(candidates[Math.floor(((i + 0.5) * candidates.length) / perNetwork)]);
  }
  return seeds;
}

export function precisionRecallAt(ranked: string[], relevant: Set<string>, k: number): { precision: number; recall: number } {
  const top = ranked.slice(0, k);
  const hits = top.filter((a) => relevant.has(a)).length;
  return { precision: hits / Math.max(1, top.length), recall: hits / Math.max(1, relevant.size) };
}

const arcs = (graph: AccountGraph, a: number) => graph.out.offsets[a + 1] - graph.out.offsets[a] + graph.in.offsets[a + 1] - graph.in.offsets[a];

export function degreeRanking(graph: AccountGraph, exclude: Set<string>): string[] {
  const order = [...Array(graph.accountCount).keys()].filter((a) => !exclude.has(graph.externalIds[a]) && Number.isNaN(graph.deletedAt[a]));
  order.sort((a, b) => arcs(graph, b) - arcs(graph, a));
  return order.map((a) => graph.externalIds[a]);
}

export function bfsRanking(graph: AccountGraph, seeds: number[], exclude: Set<string>): string[] {
  const distance = new Int32Array(graph.accountCount).fill(-1);
  const queue = [...seeds];
  for (const s of seeds) distance[s] = 0;
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head];
    for (const csr of [graph.out, graph.in]) {
      for (let k = csr.offsets[u]; k < csr.offsets[u + 1]; k++) {
        const v = csr.targets[k];
        if (distance[v] === -1) {
          distance[v] = distance[u] + 1;
          queue.push(v);
        }
      }
    }
  }
  return queue
    .filter((a) => distance[a] > 0 && !exclude.has(graph.externalIds[a]) && Number.isNaN(graph.deletedAt[a]))
    .sort((a, b) => distance[a] - distance[b] || arcs(graph, b) - arcs(graph, a))
    .map((a) => graph.externalIds[a]);
}

export function toGraphology(graph: AccountGraph, Graph: new () => UndirectedGraph): UndirectedGraph {
  const g = new Graph();
  for (let a = 0; a < graph.accountCount; a++) g.addNode(a);
  for (let u = 0; u < graph.accountCount; u++) {
    for (let k = graph.out.offsets[u]; k < graph.out.offsets[u + 1]; k++) {
      const v = graph.out.targets[k];
      if (g.hasEdge(u, v)) g.updateEdgeAttribute(u, v, 'weight', (w: number) => w + graph.out.weights[k]);
      else g.addEdge(u, v, { weight: graph.out.weights[k] });
    }
  }
  return g;
}

export interface TruthReport {
  /** Per planted network: recall of its live, non-seed members in reported networks. */
  recall: { shape: string; seeded: boolean; recall: number }[];
  memberPrecision: number;
  mostlyBenign: number;
  celebritiesFlagged: number;
  goalsMet: boolean;
}

/**
 * Recall per planted network (share of its live members, seeds left out, that sit in any
 * reported network), member precision (share of reported non-seed members that are
 * planted), reported networks that are mostly benign, and celebrities put in a network or
 * given risk >= 0.2.
 */
export function truthReport(graph: AccountGraph, result: DetectionResult, platform: SyntheticPlatform, seeds: Set<string>, print: boolean): TruthReport {
  const removed = new Set(platform.truth.removed);
  const id = (a: number) => graph.externalIds[a];
  const reported = new Set(result.networks.flatMap((network) => network.members.map((m) => id(m.account))));
  const planted = new Set(platform.truth.networks.flatMap((n) => n.members));
  const celebrities = new Set(platform.truth.celebrities);
  const dense = new Set(platform.truth.denseCommunities.flat());
  const rows = platform.truth.networks.map((network, index) => {
    const live = network.members.filter((a) => !removed.has(a) && !seeds.has(a));
    const found = live.filter((a) => reported.has(a)).length;
    const name = `${index + 1}. ${network.shape} ${network.sellers.length}/${network.buyers.length}${network.bridgedTo !== undefined ? ` (bridged to ${network.bridgedTo + 1})` : ''}`;
    return { name, shape: network.shape, seeded: network.seeded, live: live.length, found, recall: found / Math.max(1, live.length) };
  });
  const nonSeedReported = [...reported].filter((a) => !seeds.has(a));
  const memberPrecision = nonSeedReported.filter((a) => planted.has(a)).length / Math.max(1, nonSeedReported.length);
  const mostlyBenign = result.networks.filter((network) => network.members.filter((m) => planted.has(id(m.account))).length < network.members.length / 2).length;
  const risky = new Set(result.leads.filter((lead) => lead.risk >= 0.2).map((lead) => id(lead.account)));
  const celebritiesFlagged = [...celebrities].filter((c) => reported.has(c) || risky.has(c)).length;
  const denseReported = nonSeedReported.filter((a) => dense.has(a)).length;
  const seededOk = rows.every((row) => !row.seeded || row.recall >= 0.7);
  const goalsMet = seededOk && memberPrecision >= 0.9 && mostlyBenign === 0 && celebritiesFlagged === 0;
  if (print) {
    console.log(`  planted network                      seeded   live  found  recall   goal`);
    for (const row of rows) {
      console.log(`  ${row.name.padEnd(36)} ${(row.seeded ? 'yes' : 'no').padStart(6)} ${String(row.live).padStart(6)} ${String(row.found).padStart(6)} ${pct(row.recall).padStart(7)}   ${row.seeded ? '>= 70%' : '>= 50% as candidates (see seedless discovery below)'}`);
    }
    console.log(`  member precision ${pct(memberPrecision)} (${nonSeedReported.length} non-seed members reported; goal >= 90%)`);
    console.log(`  mostly-benign networks reported: ${mostlyBenign} of ${result.networks.length} (goal 0); dense benign community members reported: ${denseReported} of ${dense.size}`);
    console.log(`  celebrities flagged (in a network or risk >= 0.2): ${celebritiesFlagged} of ${celebrities.size} (goal 0)`);
    console.log(`  goals (seeded recall >= 70%, precision >= 90%, no mostly-benign network, no celebrity): ${goalsMet ? 'MET' : 'NOT MET'}`);
  }
  return { recall: rows.map(({ shape, seeded, recall }) => ({ shape, seeded, recall })), memberPrecision, mostlyBenign, celebritiesFlagged, goalsMet };
}

/** Where the celebrities rank among the leads: the degree correction's job is to keep them out of the top. */
export function celebrityRanks(graph: AccountGraph, result: DetectionResult, platform: SyntheticPlatform, top: number): number {
  const celebrities = new Set(platform.truth.celebrities);
  return result.leads.slice(0, top).filter((lead) => celebrities.has(graph.externalIds[lead.account])).length;
}
