/**
 * Network detection, measured on a seeded synthetic platform with planted networks.
 *
 * Quality (default): the shapes of issue 14's independent evaluation are planted (stars of
 * several sizes, a ring of sellers, a camouflaged star, sparse networks tied by coded
 * hashtags, unseeded networks, one bridged to a seeded one) among celebrities most accounts
 * follow and dense benign communities. The events are streamed into the in-memory graph
 * (the same analysis a stored run does; --store also sends them through the embedded
 * store's ingest and a stored run, and prints that run's calibration), two buyers of each
 * seeded network are confirmed, and the run is scored per planted network beside simple
 * baselines on the same graph: rank by degree, breadth-first search from the seeds, and
 * graphology's Louvain (modularity) community of the seeds (up to 100k accounts). The
 * three popularity corrections are compared on the same graph.
 *
 * Scale (--scale N): N accounts of the classic platform streamed straight into the
 * in-memory analysis, with peak memory; and graphology building the same graph and
 * running its (unpersonalised) PageRank at a smaller size, as the reference for choosing
 * typed arrays over it.
 *
 *   node --import tsx bench/network-detection.ts [--accounts 20000] [--seeds-per-network 2] [--store] [--scale 1000000] [--skip-quality] [--skip-reference] [--database-url postgres://...]
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type { UndirectedGraph } from 'graphology';
import { openBulwark } from '../src/app.ts';
import { syntheticPlatform } from '../src/demo/synthetic-platform.ts';
import { ISSUE_14_NETWORKS } from '../src/demo/synthetic-shapes.ts';
import { EventStreamGraph } from '../src/graph/event-stream-graph.ts';
import { discoverCandidateNetworks } from '../src/graph/seedless/discover.ts';
import { TermMatcher } from '../src/terms/term-matcher.ts';
import { type DetectionResult, detectNetworks } from '../src/graph/network-detector.ts';
import { personalizedPageRank } from '../src/graph/personalized-pagerank.ts';
import type { DegreeNormalisation } from '../src/graph/seed-expansion.ts';
import type { PlatformEventInput } from '../src/ingest/platform-events.ts';
import { bfsRanking, celebrityRanks, degreeRanking, fmt, pickSeeds, precisionRecallAt, toGraphology, truthReport } from './network-truth.ts';

// graphology's packages are CommonJS; require gives their functions without interop guesswork.
const require = createRequire(import.meta.url);
const { UndirectedGraph: Graph } = require('graphology') as typeof import('graphology');
const louvain = require('graphology-communities-louvain') as (graph: UndirectedGraph, options?: object) => Record<string, number>;
const pagerank = require('graphology-metrics/centrality/pagerank') as (graph: UndirectedGraph, options?: object) => Record<string, number>;

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '20000' },
    'seeds-per-network': { type: 'string', default: '2' },
    celebrities: { type: 'string', default: '10' },
    store: { type: 'boolean', default: false },
    scale: { type: 'string' },
    'graphology-accounts': { type: 'string', default: '100000' },
    'database-url': { type: 'string' },
    'skip-quality': { type: 'boolean', default: false },
    'skip-reference': { type: 'boolean', default: false },
  },
});

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
sampler.unref();

// ---------------------------------------------------------------- quality
if (!values['skip-quality']) {
  const accounts = Number(values.accounts);
  const denseCommunities = Math.max(4, Math.round(accounts / 4000));
  console.log(`\n== quality: ${accounts.toLocaleString()} ordinary accounts, ${ISSUE_14_NETWORKS.length} planted networks of issue 14's shapes, ${values.celebrities} celebrities, ${denseCommunities} dense benign communities ==`);
  let started = performance.now();
  const platform = syntheticPlatform({ seed: 11, accounts, networks: 0, plantedNetworks: ISSUE_14_NETWORKS, celebrities: Number(values.celebrities), denseCommunities });
  // The operator's (placeholder) term list is matched as on a stored platform, where terms
  // are matched at ingest: detection and seedless discovery see the same graph.
  const terms = new TermMatcher([{ name: 'codes', action: 'signal', terms: [{ id: 'a', term: 'term-alpha' }, { id: 'b', term: 'term-bravo' }] }]);
  const stream = new EventStreamGraph({ terms });
  let events = 0;
  for (const event of platform.events()) {
    stream.add(event);
    events++;
  }
  console.log(`generated and streamed ${events.toLocaleString()} events in ${fmt((performance.now() - started) / 1000, 1)} s`);
  const seeds = pickSeeds(platform, Number(values['seeds-per-network']));
  for (const seed of seeds) stream.label(seed, 'confirmed');
  const graph = stream.build();
  const removed = new Set(platform.truth.removed);
  const planted = new Set(platform.truth.networks.filter((n) => n.seeded).flatMap((n) => n.members).filter((a) => !seeds.has(a) && !removed.has(a)));
  const k = planted.size;

  const runs = new Map<DegreeNormalisation, DetectionResult>();
  const corrections: DegreeNormalisation[] = accounts <= 100_000 ? ['global', 'degree', 'none'] : ['global'];
  for (const normalisation of corrections) {
    started = performance.now();
    const result = detectNetworks(graph, { leadLimit: k * 2, normalisation });
    const seconds = (performance.now() - started) / 1000;
    runs.set(normalisation, result);
    console.log(
      `\ndetection (popularity correction: ${normalisation}) in ${fmt(seconds, 2)} s: ${result.stats.seedGroups} seed groups, ${result.stats.candidates} seedless candidates considered, PageRank ${result.stats.pageRankMs.toFixed(0)} ms, ` +
        `calibration ${result.stats.calibrationMs.toFixed(0)} ms, communities ${result.stats.communitiesMs.toFixed(0)} ms on ${result.stats.suspects} suspects, evasion ${result.stats.evasionMs.toFixed(0)} ms; ` +
        `${result.networks.length} networks; celebrities in the top 50 leads: ${celebrityRanks(graph, result, platform, 50)}`,
    );
    const c = result.calibration;
    if (c) {
      console.log(
        `  risk calibration: ${c.reachedHeldOut}/${c.heldOut} held-out seeds reached, ranks ${c.heldOutRanks.slice(0, 12).join(', ')}${c.heldOutRanks.length > 12 ? ', ...' : ''}; ` +
          `labelled share ${fmt(c.labelledShare, 4)}, slope ${fmt(c.slope, 2)}; score at risk 0.2: ${c.scoreAtRisk['0.2']?.toExponential(2) ?? 'never'}, 0.5: ${c.scoreAtRisk['0.5']?.toExponential(2) ?? 'never'}`,
      );
      const top = result.leads.slice(0, k);
      const bins = [0.5, 0.2, 0.05];
      console.log(
        `  calibration check on the truth: ${bins
          .map((lo, i) => {
            const hi = i === 0 ? 1.01 : bins[i - 1];
            const inBin = top.filter((lead) => lead.risk >= lo && lead.risk < hi);
            const hits = inBin.filter((lead) => planted.has(graph.externalIds[lead.account])).length;
            return `risk ${lo}-${Math.min(1, hi)}: ${hits}/${inBin.length} are members`;
          })
          .join('; ')}`,
      );
    }
    truthReport(graph, result, platform, seeds, true);
  }

  const result = runs.get('global')!;
  const seedIndexes = graph.externalIds.flatMap((id, index) => (seeds.has(id) ? [index] : []));
  const exclude = new Set(seeds);
  const rows: [string, { precision: number; recall: number }][] = [
    ...[...runs.entries()].map(([name, run]) => [`Bulwark (PPR, correction: ${name})`, precisionRecallAt(run.leads.map((l) => graph.externalIds[l.account]), planted, k)] as [string, { precision: number; recall: number }]),
    ['baseline: BFS from seeds', precisionRecallAt(bfsRanking(graph, seedIndexes, exclude), planted, k)],
    ['baseline: degree', precisionRecallAt(degreeRanking(graph, exclude), planted, k)],
  ];
  console.log(`\nleads: members of seeded networks to find (not seeds, not removed): ${k}; ${seeds.size} seeds`);
  console.log(`method                                precision@${k}  recall@${k}`);
  for (const [name, s] of rows) console.log(`${name.padEnd(38)}${fmt(s.precision).padStart(12)}${fmt(s.recall).padStart(11)}`);

  // Seedless discovery (src/graph/seedless/): candidate networks from the same events with no
  // seed at all, on a graph that also matches the operator's (placeholder) terms; the goal for
  // unseeded networks is judged here, since seeded detection never reports them by design.
  {
    started = performance.now();
    const termStream = new EventStreamGraph({ terms });
    for (const event of platform.events()) termStream.add(event);
    const termGraph = termStream.build();
    const buildSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const found = discoverCandidateNetworks(termGraph);
    const inCandidates = new Set(found.candidates.flatMap((candidate) => candidate.members.map((member) => member.externalId)));
    const allMembers = new Set(platform.truth.networks.flatMap((network) => network.members));
    const precision = [...inCandidates].filter((a) => allMembers.has(a)).length / Math.max(1, inCandidates.size);
    console.log(`
seedless discovery (no seeds): ${found.candidates.length} candidate networks, ${inCandidates.size} accounts, member precision ${fmt(precision)} (goal >= 0.9); ${fmt((performance.now() - started) / 1000, 2)} s (+${fmt(buildSeconds, 1)} s to stream a term-matching graph)`);
    for (const network of platform.truth.networks) {
      const live = network.members.filter((a) => !removed.has(a));
      const share = live.filter((a) => inCandidates.has(a)).length / Math.max(1, live.length);
      console.log(`  ${network.shape.padEnd(12)} ${network.seeded ? 'seeded  ' : 'unseeded'} ${String(live.length).padStart(4)} members: ${(100 * share).toFixed(0).padStart(3)}% in candidates${network.seeded ? '' : ' (goal >= 50%)'}`);
    }
  }

  // Reference: Louvain (modularity) over the whole interaction graph; a planted network's
  // community is the one holding most of its seeds.
  if (accounts <= 100_000) {
    started = performance.now();
    const g = toGraphology(graph, Graph);
    const communities = louvain(g, { getEdgeWeight: 'weight', rng: (() => { let s = 1; return () => ((s = (s * 16807) % 2147483647) / 2147483647); })() });
    const louvainMs = performance.now() - started;
    const seeded = platform.truth.networks.filter((n) => n.seeded);
    let louvainRecall = 0;
    let louvainPurity = 0;
    for (const truth of seeded) {
      const members = new Set(truth.members.filter((a) => !removed.has(a)));
      const counts = new Map<number, number>();
      for (let a = 0; a < graph.accountCount; a++) if (seeds.has(graph.externalIds[a]) && members.has(graph.externalIds[a])) counts.set(communities[a], (counts.get(communities[a]) ?? 0) + 1);
      const community = [...counts.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
      const inside = graph.externalIds.filter((_, a) => communities[a] === community);
      const overlap = inside.filter((a) => members.has(a)).length;
      louvainRecall += overlap / members.size;
      louvainPurity += overlap / Math.max(1, inside.length);
    }
    const report = truthReport(graph, result, platform, seeds, false);
    const ours = report.recall.filter((r) => r.seeded);
    console.log(`\nseeded networks (mean over ${seeded.length})                 member recall   precision`);
    console.log(`Bulwark (seed groups + Leiden CPM, global correction) ${fmt(ours.reduce((s, r) => s + r.recall, 0) / ours.length).padStart(9)}${fmt(report.memberPrecision).padStart(12)}`);
    console.log(`reference: graphology Louvain, seeds' community      ${fmt(louvainRecall / seeded.length).padStart(9)}${fmt(louvainPurity / seeded.length).padStart(12)}   (${louvainMs.toFixed(0)} ms incl. building the graphology graph)`);
  }

  const flaggedPairs = new Set(result.evasions.map((e) => `${graph.externalIds[e.account]}>${graph.externalIds[e.removed]}`));
  const flaggedAccounts = new Set(result.evasions.map((e) => graph.externalIds[e.account]));
  const caughtPair = (e: { returned: string; removed: string }) => flaggedPairs.has(`${e.returned}>${e.removed}`);
  const caught = platform.truth.evasions.filter(caughtPair).length;
  const decoysFlagged = platform.truth.decoys.filter((d) => flaggedAccounts.has(d)).length;
  const truePairs = new Set(platform.truth.evasions.map((e) => `${e.returned}>${e.removed}`));
  const correct = [...flaggedPairs].filter((pair) => truePairs.has(pair)).length;
  console.log(`\nban evasion: recall ${caught}/${platform.truth.evasions.length} = ${fmt(caught / Math.max(1, platform.truth.evasions.length))}, precision ${correct}/${result.evasions.length} = ${fmt(correct / Math.max(1, result.evasions.length))}, decoys flagged ${decoysFlagged}/${platform.truth.decoys.length}`);
  const byVia = new Map<string, [number, number]>();
  for (const e of platform.truth.evasions) {
    const key = e.via.join('+');
    const entry = byVia.get(key) ?? [0, 0];
    entry[1]++;
    if (caughtPair(e)) entry[0]++;
    byVia.set(key, entry);
  }
  console.log(`  recall by planted evidence: ${[...byVia.entries()].map(([via, [hit, all]]) => `${via} ${hit}/${all}`).join(', ')}`);

  if (values.store) {
    // The same platform through the real ingest and a stored run, as an operator would run it.
    const all: PlatformEventInput[] = [...platform.events()];
    const schema = `bench_${Date.now()}`;
    const bulwark = await openBulwark(values['database-url'] ? { databaseUrl: values['database-url'], schema } : {});
    started = performance.now();
    for (let i = 0; i < all.length; i += 5000) await bulwark.platformEvents.apply(all.slice(i, i + 5000) as never);
    const ingestSeconds = (performance.now() - started) / 1000;
    console.log(`\nstore ingest (${bulwark.sql.driver}, batches of 5,000): ${Math.round(all.length / ingestSeconds).toLocaleString()} events/s (${fmt(ingestSeconds, 1)} s)`);
    for (const seed of seeds) await bulwark.accounts.label(seed, 'confirmed', 'bench');
    const run = await bulwark.detection.run({ leadLimit: k * 2 });
    console.log(
      `stored run ${run.runId}: load ${fmt(run.timings.loadMs / 1000, 2)} s, analysis ${fmt(run.timings.analysisMs / 1000, 2)} s, save ${fmt(run.timings.saveMs / 1000, 2)} s; ` +
        `${run.networks.length} networks; calibration: ${run.calibration ? `${run.calibration.reachedHeldOut}/${run.calibration.heldOut} held-out seeds, labelled share ${fmt(run.calibration.labelledShare, 4)}` : 'none'}`,
    );
    if (values['database-url']) await bulwark.sql.query(`DROP SCHEMA ${schema} CASCADE`);
    await bulwark.close();
  }
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
  const leadScore = precisionRecallAt(result.leads.map((l) => graph.externalIds[l.account]), planted, planted.size);
  const truePairs = new Set(platform.truth.evasions.map((e) => `${e.returned}>${e.removed}`));
  const found = result.evasions.filter((e) => truePairs.has(`${graph.externalIds[e.account]}>${graph.externalIds[e.removed]}`)).length;
  console.log(
    `quality at this scale: leads precision@${planted.size} ${fmt(leadScore.precision)}; ban evasion recall ${fmt(found / Math.max(1, truePairs.size))}, precision ${fmt(found / Math.max(1, result.evasions.length))}`,
  );
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(`peak RSS: ${mb(peakRss)}`);
}

// ---------------------------------------------------------------- reference: graphology
if (!values['skip-reference']) {
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
  const g = toGraphology(graph, Graph);
  const theirsBuild = performance.now() - started;
  started = performance.now();
  pagerank(g, { getEdgeWeight: 'weight', maxIterations: 1000, tolerance: 1e-6 });
  const theirsPr = performance.now() - started;
  console.log(`                          build graph   PageRank`);
  console.log(`Bulwark typed arrays      ${(oursBuild / 1000).toFixed(2).padStart(9)} s ${(oursPpr / 1000).toFixed(3).padStart(8)} s  (personalised, push, epsilon 1e-7; build includes features)`);
  console.log(`graphology 0.26           ${(theirsBuild / 1000).toFixed(2).padStart(9)} s ${(theirsPr / 1000).toFixed(3).padStart(8)} s  (global, to tolerance 1e-6; no restart vector; interactions only)`);
}
clearInterval(sampler);
