import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AccountGraphBuilder, INTERACTION_KINDS, LABEL_CONFIRMED } from '../src/graph/account-graph.ts';
import { findBanEvasion } from '../src/graph/ban-evasion.ts';
import { personalizedPageRank, type WalkGraph } from '../src/graph/personalized-pagerank.ts';

/** The textbook definition, by power iteration on a dense matrix: p = alpha * s + (1 - alpha) * p W. */
function pageRankByPowerIteration(graph: WalkGraph, seeds: Map<number, number>, alpha: number): Float64Array {
  const n = graph.degree.length;
  const restart = new Float64Array(n);
  let total = 0;
  for (const weight of seeds.values()) total += weight;
  for (const [node, weight] of seeds) restart[node] = weight / total;
  let p = Float64Array.from(restart);
  for (let iteration = 0; iteration < 2000; iteration++) {
    const next = new Float64Array(n);
    for (let u = 0; u < n; u++) next[u] += alpha * restart[u];
    for (let u = 0; u < n; u++) {
      if (graph.degree[u] === 0) {
        next[u] += (1 - alpha) * p[u];
        continue;
      }
      for (let k = graph.offsets[u]; k < graph.offsets[u + 1]; k++) next[graph.targets[k]] += ((1 - alpha) * p[u] * graph.weights[k]) / graph.degree[u];
    }
    p = next;
  }
  return p;
}

function walkGraph(n: number, edges: [number, number, number][]): WalkGraph {
  const offsets = new Int32Array(n + 1);
  for (const [u, v] of edges) {
    offsets[u + 1]++;
    offsets[v + 1]++;
  }
  for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
  const cursor = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n]);
  const weights = new Float64Array(offsets[n]);
  for (const [u, v, w] of edges) {
    targets[cursor[u]] = v;
    weights[cursor[u]++] = w;
    targets[cursor[v]] = u;
    weights[cursor[v]++] = w;
  }
  const degree = new Float64Array(n);
  for (let u = 0; u < n; u++) for (let k = offsets[u]; k < offsets[u + 1]; k++) degree[u] += weights[k];
  return { offsets, targets, weights, degree };
}

describe('personalised PageRank by pushing', () => {
  it('agrees with power iteration on random weighted graphs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.double({ min: 0.1, max: 5, noNaN: true })), { minLength: 1, maxLength: 150 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        (n, rawEdges, rawSeeds) => {
          const edges = rawEdges.map(([u, v, w]) => [u % n, v % n, w] as [number, number, number]).filter(([u, v]) => u !== v);
          const graph = walkGraph(n, edges);
          const seeds = new Map(rawSeeds.map((s) => [s % n, 1] as [number, number]));
          const pushed = personalizedPageRank(graph, seeds, { alpha: 0.2, epsilon: 1e-12 });
          const exact = pageRankByPowerIteration(graph, seeds, 0.2);
          for (let v = 0; v < n; v++) assert.ok(Math.abs(pushed.scores[v] - exact[v]) < 1e-6, `node ${v}: ${pushed.scores[v]} vs ${exact[v]}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stays local: a coarse epsilon touches only the seeds’ neighbourhood', () => {
    // A long path: with a coarse tolerance the far end is never reached.
    const n = 2000;
    const edges: [number, number, number][] = [];
    for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1, 1]);
    const result = personalizedPageRank(walkGraph(n, edges), new Map([[0, 1]]), { alpha: 0.15, epsilon: 1e-4 });
    assert.ok(result.reached.length < 100, `reached ${result.reached.length} nodes`);
    assert.equal(result.scores[n - 1], 0);
  });
});

describe('account graph', () => {
  it('merges interactions of several kinds between the same pair into one arc with every kind', () => {
    const builder = new AccountGraphBuilder();
    for (const id of [1, 2, 3]) builder.addAccount({ storeId: id, externalId: `a${id}` });
    builder.addInteraction(1, 2, 'follow', 1);
    builder.addInteraction(1, 2, 'message', 4);
    builder.addInteraction(2, 1, 'like', 1);
    builder.addInteraction(3, 3, 'like', 1);
    const graph = builder.build();
    const follow = 1 << INTERACTION_KINDS.indexOf('follow');
    const message = 1 << INTERACTION_KINDS.indexOf('message');
    assert.equal(graph.kindsFrom(0, 1), follow | message);
    assert.equal(graph.kindsFrom(1, 0), 1 << INTERACTION_KINDS.indexOf('like'));
    assert.equal(graph.kindsFrom(2, 2), 0, 'self interactions are dropped');
    assert.equal(graph.out.targets.length, 2);
    assert.equal(graph.in.offsets[1] - graph.in.offsets[0], 1);
  });

  it('links accounts through shared features, but not through features too common to mean anything', () => {
    const builder = new AccountGraphBuilder({ maxFeatureDegree: 3 });
    for (let id = 1; id <= 5; id++) builder.addAccount({ storeId: id, externalId: `a${id}` });
    builder.addFeature(1, 'hashtag', 'rare');
    builder.addFeature(2, 'hashtag', 'rare');
    for (let id = 1; id <= 5; id++) builder.addFeature(id, 'hashtag', 'everywhere');
    builder.addFeature(3, 'hashtag', 'alone');
    builder.addFeature(4, 'not-a-feature-kind', 'x');
    const graph = builder.build();
    assert.equal(graph.featureCount, 3);
    assert.equal(graph.usedFeatures, 1, 'only the rare tag links accounts');
    const neighbours = [...graph.walk.targets.subarray(graph.walk.offsets[0], graph.walk.offsets[1])];
    assert.equal(neighbours.length, 1);
    assert.ok(graph.isFeatureNode(neighbours[0]));
  });
});

describe('ban evasion', () => {
  const day = 86_400_000;
  function platform(setup: (b: AccountGraphBuilder) => void) {
    const builder = new AccountGraphBuilder();
    setup(builder);
    return builder.build();
  }

  it('links a new account to a removed one by device, and explains it', () => {
    const graph = platform((b) => {
      b.addAccount({ storeId: 1, externalId: 'removed', createdAt: 0, deletedAt: 10 * day, enforced: true });
      b.addAccount({ storeId: 2, externalId: 'returned', createdAt: 11 * day });
      b.addAccount({ storeId: 3, externalId: 'older', createdAt: 5 * day });
      b.addFeature(1, 'identifier:device', 'd1');
      b.addFeature(2, 'identifier:device', 'd1');
      b.addFeature(3, 'identifier:device', 'd1');
    });
    const links = findBanEvasion(graph);
    assert.deepEqual(links.map((l) => [graph.externalIds[l.account], graph.externalIds[l.removed]]), [['returned', 'removed']]);
    assert.deepEqual(links[0].evidence.map((e) => e.identifier), ['device']);
  });

  it('links by the same audience, and ignores a shared IP range alone and self-deleted accounts', () => {
    const graph = platform((b) => {
      b.addAccount({ storeId: 1, externalId: 'removed', createdAt: 0, deletedAt: 10 * day, label: LABEL_CONFIRMED });
      b.addAccount({ storeId: 2, externalId: 'returned', createdAt: 11 * day });
      b.addAccount({ storeId: 3, externalId: 'neighbour', createdAt: 11 * day });
      b.addAccount({ storeId: 4, externalId: 'left-on-their-own', createdAt: 0, deletedAt: 10 * day });
      b.addAccount({ storeId: 5, externalId: 'their-new-account', createdAt: 12 * day });
      b.addAccount({ storeId: 6, externalId: 'old-friend', createdAt: 0 });
      for (let f = 10; f < 30; f++) {
        b.addAccount({ storeId: f, externalId: `fan-${f}`, createdAt: 0 });
        if (f < 20) {
          b.addInteraction(f, 1, 'follow', 1);
          if (f < 18) b.addInteraction(f, 2, 'follow', 1);
          // An account that was there all along shares a little of the audience: the baseline.
          if (f < 12) b.addInteraction(f, 6, 'follow', 1);
        } else {
          b.addInteraction(f, 4, 'follow', 1);
          b.addInteraction(f, 5, 'follow', 1);
        }
      }
      b.addFeature(1, 'identifier:ip24', 'range');
      b.addFeature(3, 'identifier:ip24', 'range');
    });
    const links = findBanEvasion(graph);
    const pairs = links.map((l) => [graph.externalIds[l.account], graph.externalIds[l.removed]]);
    assert.deepEqual(pairs, [['returned', 'removed']], 'an IP range alone is not enough, and an account its owner deleted is not a removal');
    const returned = links[0];
    assert.equal(returned.evidence[0].kind, 'followers');
    assert.equal(returned.evidence[0].common, 8);
  });

  it('does not take a fellow member of the same circle for a returning account', () => {
    // Five old members follow the same three accounts; one is removed, and a new member who
    // follows the same three joins: the overlap is the circle's, not a person's.
    const graph = platform((b) => {
      for (let id = 1; id <= 3; id++) b.addAccount({ storeId: id, externalId: `hub-${id}`, createdAt: 0 });
      for (let id = 10; id <= 14; id++) b.addAccount({ storeId: id, externalId: `member-${id}`, createdAt: 0, ...(id === 10 ? { deletedAt: 10 * day, enforced: true } : {}) });
      b.addAccount({ storeId: 20, externalId: 'new-member', createdAt: 11 * day });
      for (const member of [10, 11, 12, 13, 14, 20]) for (let hub = 1; hub <= 3; hub++) b.addInteraction(member, hub, 'follow', 1);
    });
    assert.deepEqual(findBanEvasion(graph), []);
  });
});
