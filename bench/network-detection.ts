/**
 * Network detection, measured on a seeded synthetic platform with planted networks.
 *
 * Quality (default): the platform's events go through the real ingest into the embedded
 * store, a few members of each planted network are labelled, and a detection run is
 * scored against the truth, beside simple baselines on the same graph: rank by degree,
 * breadth-first search from the seeds, and graphology's Louvain (modularity) community of
 * the seeds.
 *
 * Scale (--scale N): N accounts streamed straight into the in-memory analysis (the store's
 * ingest rate is measured in the quality part and printed beside), then PageRank,
 * networks and ban evasion, with peak memory; and graphology building the same graph and
 * running its (unpersonalised) PageRank at a smaller size, as the reference for choosing
 * typed arrays over it.
 *
 *   node --import tsx bench/network-detection.ts [--accounts 30000] [--networks 15] [--scale 1000000] [--skip-quality] [--database-url postgres://...]
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { UndirectedGraph } from 'graphology';
import { openBulwark } from '../src/app.ts';
import { type SyntheticPlatform, syntheticPlatform } from '../src/demo/synthetic-platform.ts';
import type { AccountGraph } from '../src/graph/account-graph.ts';
import { EventStreamGraph } from '../src/graph/event-stream-graph.ts';
import { detectNetworks } from '../src/graph/network-detector.ts';
import { personalizedPageRank } from '../src/graph/personalized-pagerank.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';

// graphology's packages are CommonJS; require gives their functions without interop guesswork.
const require = createRequire(import.meta.url);
const { UndirectedGraph: Graph } = require('graphology') as typeof import('graphology');
const louvain = require('graphology-communities-louvain') as (graph: UndirectedGraph, options?: object) => Record<string, number>;
const pagerank = require('graphology-metrics/centrality/pagerank') as (graph: UndirectedGraph, options?: object) => Record<string, number>;

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '30000' },
    networks: { type: 'string', default: '15' },
    'seeds-per-network': { type: 'string', default: '3' },
    scale: { type: 'string' },
    'graphology-accounts': { type: 'string', default: '100000' },
    'database-url': { type: 'string' },
    'skip-quality': { type: 'boolean', default: false },
  },
});

const fmt = (x: number, digits = 3) => x.toFixed(digits);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
sampler.unref();

function pickSeeds(platform: SyntheticPlatform, perNetwork: number): Set<string> {
  const seeds = new Set<string>();
  const removed = new Set(platform.truth.removed);
  for (const network of platform.truth.networks) {
    // Seeds are buyers: the accounts a hash match typically exposes first.
    const candidates = network.buyers.filter((a) => !removed.has(a));
    for (let i = 0; i < perNetwork && i < candidates.length; i++) seeds.add(candidates[Math.floor((i * candidates.length) / perNetwork)]);
  }
  return seeds;
}

function score(ranked: string[], relevant: Set<string>, k: number): { precision: number; recall: number } {
  const top = ranked.slice(0, k);
  const hits = top.filter((a) => relevant.has(a)).length;
  return { precision: hits / Math.max(1, top.length), recall: hits / Math.max(1, relevant.size) };
}

function degreeRanking(graph: AccountGraph, exclude: Set<string>): string[] {
  const order = [...Array(graph.accountCount).keys()].filter((a) => !exclude.has(graph.externalIds[a]) && Number.isNaN(graph.deletedAt[a]));
  const degree = (a: number) => graph.out.offsets[a + 1] - graph.out.offsets[a] + graph.in.offsets[a + 1] - graph.in.offsets[a];
  order.sort((a, b) => degree(b) - degree(a));
  return order.map((a) => graph.externalIds[a]);
}

function bfsRanking(graph: AccountGraph, seeds: number[], exclude: Set<string>): string[] {
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
  const degree = (a: number) => graph.out.offsets[a + 1] - graph.out.offsets[a] + graph.in.offsets[a + 1] - graph.in.offsets[a];
  return queue
    .filter((a) => distance[a] > 0 && !exclude.has(graph.externalIds[a]) && Number.isNaN(graph.deletedAt[a]))
    .sort((a, b) => distance[a] - distance[b] || degree(b) - degree(a))
    .map((a) => graph.externalIds[a]);
}

function toGraphology(graph: AccountGraph): UndirectedGraph {
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

// ---------------------------------------------------------------- quality
if (!values['skip-quality']) {
  const accounts = Number(values.accounts);
  const networks = Number(values.networks);
  console.log(`\n== quality: ${accounts.toLocaleString()} ordinary accounts, ${networks} planted networks ==`);
  let started = performance.now();
  const platform = syntheticPlatform({ seed: 11, accounts, networks });
  const events: PlatformEventInput[] = [...platform.events()];
  console.log(`generated ${events.length.toLocaleString()} events in ${fmt((performance.now() - started) / 1000, 1)} s`);

  const schema = `bench_${Date.now()}`;
  const bulwark = await openBulwark(values['database-url'] ? { databaseUrl: values['database-url'], schema } : {});
  started = performance.now();
  for (let i = 0; i < events.length; i += 5000) await bulwark.platformEvents.apply(events.slice(i, i + 5000) as never);
  const ingestSeconds = (performance.now() - started) / 1000;
  console.log(`store ingest (${bulwark.sql.driver}, batches of 5,000): ${Math.round(events.length / ingestSeconds).toLocaleString()} events/s (${fmt(ingestSeconds, 1)} s)`);

  const seeds = pickSeeds(platform, Number(values['seeds-per-network']));
  for (const seed of seeds) await bulwark.accounts.label(seed, 'confirmed', 'bench');
  const removed = new Set(platform.truth.removed);
  const planted = new Set(platform.truth.networks.flatMap((n) => n.members).filter((a) => !seeds.has(a) && !removed.has(a)));
  const k = planted.size;

  started = performance.now();
  const run = await bulwark.detection.run({ leadLimit: k * 2 });
  console.log(
    `detection run: load ${fmt(run.timings.loadMs / 1000, 2)} s, analysis ${fmt(run.timings.analysisMs / 1000, 2)} s ` +
      `(PageRank ${run.timings.pageRankMs.toFixed(0)} ms, communities ${run.timings.communitiesMs.toFixed(0)} ms, evasion ${run.timings.evasionMs.toFixed(0)} ms), save ${fmt(run.timings.saveMs / 1000, 2)} s`,
  );
  const { leads } = await bulwark.detection.leads({ limit: k * 2 });
  const graph = await bulwark.detection.loadGraph();
  const seedIndexes = graph.externalIds.flatMap((id, index) => (seeds.has(id) ? [index] : []));
  const exclude = new Set(seeds);

  const rows: [string, { precision: number; recall: number }][] = [
    ['Bulwark (personalised PageRank)', score(leads.map((l) => l.account), planted, k)],
    ['baseline: BFS from seeds', score(bfsRanking(graph, seedIndexes, exclude), planted, k)],
    ['baseline: degree', score(degreeRanking(graph, exclude), planted, k)],
  ];
  console.log(`\nplanted members to find (not seeds, not removed): ${k}; ${seeds.size} seeds`);
  console.log(`method                                precision@${k}  recall@${k}`);
  for (const [name, s] of rows) console.log(`${name.padEnd(38)}${fmt(s.precision).padStart(12)}${fmt(s.recall).padStart(11)}`);

  // Networks: for each planted network, the detected network that holds most of it.
  const detected = await bulwark.detection.networks();
  let recovered = 0;
  let purity = 0;
  let sellersFound = 0;
  let sellersTotal = 0;
  for (const truth of platform.truth.networks) {
    const members = new Set(truth.members.filter((a) => !removed.has(a)));
    let best = { overlap: 0, size: 1, sellers: 0 };
    for (const network of detected) {
      const overlap = network.members.filter((m) => members.has(m.account)).length;
      if (overlap > best.overlap) {
        const sellerSet = new Set(truth.sellers);
        best = { overlap, size: network.members.length, sellers: network.members.filter((m) => m.role === 'seller' && sellerSet.has(m.account)).length };
      }
    }
    recovered += best.overlap / members.size;
    purity += best.overlap / best.size;
    sellersFound += best.sellers;
    sellersTotal += truth.sellers.filter((a) => !removed.has(a)).length;
  }
  const n = platform.truth.networks.length;

  // Reference: Louvain (modularity) over the whole interaction graph; a planted network's
  // community is the one holding most of its seeds.
  started = performance.now();
  const g = toGraphology(graph);
  const communities = louvain(g, { getEdgeWeight: 'weight', rng: (() => { let s = 1; return () => ((s = (s * 16807) % 2147483647) / 2147483647); })() });
  const louvainMs = performance.now() - started;
  let louvainRecall = 0;
  let louvainPurity = 0;
  for (const truth of platform.truth.networks) {
    const members = new Set(truth.members.filter((a) => !removed.has(a)));
    const counts = new Map<number, number>();
    for (let a = 0; a < graph.accountCount; a++) if (seeds.has(graph.externalIds[a]) && members.has(graph.externalIds[a])) counts.set(communities[a], (counts.get(communities[a]) ?? 0) + 1);
    const community = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
    const inside = graph.externalIds.filter((_, a) => communities[a] === community);
    const overlap = inside.filter((a) => members.has(a)).length;
    louvainRecall += overlap / members.size;
    louvainPurity += overlap / Math.max(1, inside.length);
  }
  console.log(`\nnetworks (mean over ${n} planted)          member recall   purity`);
  console.log(`Bulwark (seed expansion + Leiden CPM)     ${fmt(recovered / n).padStart(13)}${fmt(purity / n).padStart(9)}   sellers named: ${sellersFound}/${sellersTotal}; ${detected.length} networks reported`);
  console.log(`reference: graphology Louvain, seeds' community ${fmt(louvainRecall / n).padStart(6)}${fmt(louvainPurity / n).padStart(9)}   (${louvainMs.toFixed(0)} ms incl. building the graphology graph)`);

  const evasions = await bulwark.detection.evasions();
  const flaggedPairs = new Set(evasions.map((e) => `${e.account}>${e.removedAccount}`));
  const flaggedAccounts = new Set(evasions.map((e) => e.account));
  const caughtPair = (e: { returned: string; removed: string }) => flaggedPairs.has(`${e.returned}>${e.removed}`);
  const caught = platform.truth.evasions.filter(caughtPair).length;
  const decoysFlagged = platform.truth.decoys.filter((d) => flaggedAccounts.has(d)).length;
  const truePairs = new Set(platform.truth.evasions.map((e) => `${e.returned}>${e.removed}`));
  const correct = evasions.filter((e) => truePairs.has(`${e.account}>${e.removedAccount}`)).length;
  console.log(`\nban evasion: recall ${caught}/${platform.truth.evasions.length} = ${fmt(caught / Math.max(1, platform.truth.evasions.length))}, precision ${correct}/${evasions.length} = ${fmt(correct / Math.max(1, evasions.length))}, decoys flagged ${decoysFlagged}/${platform.truth.decoys.length}`);
  const byVia = new Map<string, [number, number]>();
  for (const e of platform.truth.evasions) {
    const key = e.via.join('+');
    const entry = byVia.get(key) ?? [0, 0];
    entry[1]++;
    if (caughtPair(e)) entry[0]++;
    byVia.set(key, entry);
  }
  console.log(`  recall by planted evidence: ${[...byVia.entries()].map(([via, [hit, all]]) => `${via} ${hit}/${all}`).join(', ')}`);
  if (values['database-url']) await bulwark.sql.query(`DROP SCHEMA ${schema} CASCADE`);
  await bulwark.close();
}

// ---------------------------------------------------------------- scale
if (values.scale) {
  const accounts = Number(values.scale);
  console.log(`\n== scale: ${accounts.toLocaleString()} accounts, streamed into the in-memory analysis ==`);
  const platform = syntheticPlatform({ seed: 5, accounts, networks: Math.max(10, Math.round(accounts / 20000)), impressionViewers: 1000 });
  const stream = new EventStreamGraph();
  let started = performance.now();
  for (const event of platform.events()) stream.add(event);
  const streamSeconds = (performance.now() - started) / 1000;
  console.log(`events: ${stream.events.toLocaleString()} (${stream.interactionCount.toLocaleString()} interactions) in ${fmt(streamSeconds, 1)} s, generation included: ${Math.round(stream.events / streamSeconds).toLocaleString()} events/s`);
  for (const seed of pickSeeds(platform, 3)) stream.label(seed, 'confirmed');
  started = performance.now();
  const graph = stream.build();
  const buildSeconds = (performance.now() - started) / 1000;
  console.log(`graph: ${graph.accountCount.toLocaleString()} accounts, ${graph.out.targets.length.toLocaleString()} distinct directed interactions, ${graph.usedFeatures.toLocaleString()} linking features; built in ${fmt(buildSeconds, 1)} s`);
  started = performance.now();
  const result = detectNetworks(graph, { leadLimit: 10_000 });
  const analysisSeconds = (performance.now() - started) / 1000;
  console.log(
    `analysis: ${fmt(analysisSeconds, 2)} s (PageRank ${result.stats.pageRankMs.toFixed(0)} ms over ${result.stats.reached.toLocaleString()} reached nodes, ` +
      `communities ${result.stats.communitiesMs.toFixed(0)} ms on ${result.stats.suspects} suspects, evasion ${result.stats.evasionMs.toFixed(0)} ms); ` +
      `${result.networks.length} networks, ${result.evasions.length} evasion links`,
  );
  const seeds = new Set(result.seeds.map((a) => graph.externalIds[a]));
  const removed = new Set(platform.truth.removed);
  const planted = new Set(platform.truth.networks.flatMap((n) => n.members).filter((a) => !seeds.has(a) && !removed.has(a)));
  const leadScore = score(result.leads.map((l) => graph.externalIds[l.account]), planted, planted.size);
  const truePairs = new Set(platform.truth.evasions.map((e) => `${e.returned}>${e.removed}`));
  const found = result.evasions.filter((e) => truePairs.has(`${graph.externalIds[e.account]}>${graph.externalIds[e.removed]}`)).length;
  console.log(
    `quality at this scale: leads precision@${planted.size} ${fmt(leadScore.precision)}; ban evasion recall ${fmt(found / Math.max(1, truePairs.size))}, precision ${fmt(found / Math.max(1, result.evasions.length))}`,
  );
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(`peak RSS: ${mb(peakRss)}`);
}

// ---------------------------------------------------------------- reference: graphology
{
  const accounts = Number(values['graphology-accounts']);
  console.log(`\n== reference: graphology vs typed arrays, ${accounts.toLocaleString()} accounts ==`);
  const platform = syntheticPlatform({ seed: 3, accounts, networks: 5, impressionViewers: 100 });
  const stream = new EventStreamGraph();
  for (const event of platform.events()) stream.add(event);
  let started = performance.now();
  const graph = stream.build();
  const oursBuild = performance.now() - started;
  started = performance.now();
  const seeds = new Map([...pickSeeds(platform, 3)].map((id) => [graph.externalIds.indexOf(id), 1] as [number, number]));
  personalizedPageRank(graph.walk, seeds, { epsilon: 1e-7 });
  const oursPpr = performance.now() - started;
  started = performance.now();
  const g = toGraphology(graph);
  const theirsBuild = performance.now() - started;
  started = performance.now();
  pagerank(g, { getEdgeWeight: 'weight', maxIterations: 1000, tolerance: 1e-6 });
  const theirsPr = performance.now() - started;
  console.log(`                          build graph   PageRank`);
  console.log(`Bulwark typed arrays      ${(oursBuild / 1000).toFixed(2).padStart(9)} s ${(oursPpr / 1000).toFixed(3).padStart(8)} s  (personalised, push, epsilon 1e-7; build includes features)`);
  console.log(`graphology 0.26           ${(theirsBuild / 1000).toFixed(2).padStart(9)} s ${(theirsPr / 1000).toFixed(3).padStart(8)} s  (global, to tolerance 1e-6; no restart vector; interactions only)`);
}
clearInterval(sampler);
