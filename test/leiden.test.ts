import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpmQuality, graphFromEdges, leidenCpm, type Partition, type WeightedGraph } from '../src/graph/leiden.ts';

// Every graph here is synthetic: random graphs and planted partitions from a seeded generator.

/** xorshift32 with a non-zero start; deterministic test data. */
function seededRandom(seed: number): () => number {
  let state = (seed * 2654435761) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

type Edge = [number, number];

/** Groups of consecutive nodes; each pair inside a group is linked with probability pIn, plus `noisePerNode` random edges per node on average anywhere. */
function plantedPartition(groups: number, groupSize: number, pIn: number, noisePerNode: number, seed: number): { graph: WeightedGraph; truth: Int32Array } {
  const random = seededRandom(seed);
  const n = groups * groupSize;
  const edges: Edge[] = [];
  const truth = new Int32Array(n);
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < groupSize; i++) {
      truth[g * groupSize + i] = g;
      for (let j = i + 1; j < groupSize; j++) if (random() < pIn) edges.push([g * groupSize + i, g * groupSize + j]);
    }
  }
  const noise = Math.round((noisePerNode * n) / 2);
  for (let k = 0; k < noise; k++) edges.push([Math.floor(random() * n), Math.floor(random() * n)]);
  return { graph: graphFromEdges(n, edges), truth };
}

function erdosRenyi(n: number, averageDegree: number, seed: number): WeightedGraph {
  const random = seededRandom(seed);
  const p = averageDegree / (n - 1);
  const edges: Edge[] = [];
  for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) if (random() < p) edges.push([u, v]);
  return graphFromEdges(n, edges);
}

function contingency(a: Int32Array, b: Int32Array): { table: Map<string, number>; rows: Map<number, number>; cols: Map<number, number> } {
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i], (rows.get(a[i]) ?? 0) + 1);
    cols.set(b[i], (cols.get(b[i]) ?? 0) + 1);
  }
  return { table, rows, cols };
}

/** Adjusted Rand index (Hubert and Arabie, 1985). */
function adjustedRand(a: Int32Array, b: Int32Array): number {
  const { table, rows, cols } = contingency(a, b);
  const pairs = (x: number) => (x * (x - 1)) / 2;
  let index = 0;
  for (const count of table.values()) index += pairs(count);
  let rowPairs = 0;
  for (const count of rows.values()) rowPairs += pairs(count);
  let colPairs = 0;
  for (const count of cols.values()) colPairs += pairs(count);
  const expected = (rowPairs * colPairs) / pairs(a.length);
  const maximum = (rowPairs + colPairs) / 2;
  return maximum === expected ? 1 : (index - expected) / (maximum - expected);
}

/** Normalised mutual information, arithmetic-mean normalisation. */
function normalizedMutualInformation(a: Int32Array, b: Int32Array): number {
  const { table, rows, cols } = contingency(a, b);
  const n = a.length;
  let mutual = 0;
  for (const [key, count] of table) {
    const [x, y] = key.split(',').map(Number);
    mutual += (count / n) * Math.log((count * n) / (rows.get(x)! * cols.get(y)!));
  }
  const entropy = (counts: Iterable<number>) => {
    let h = 0;
    for (const count of counts) h -= (count / n) * Math.log(count / n);
    return h;
  };
  const ha = entropy(rows.values());
  const hb = entropy(cols.values());
  return ha + hb === 0 ? 1 : (2 * mutual) / (ha + hb);
}

function membersOf(partition: Partition): number[][] {
  const members: number[][] = Array.from({ length: partition.communityCount }, () => []);
  partition.membership.forEach((c, v) => members[c].push(v));
  return members;
}

function isConnectedSubgraph(graph: WeightedGraph, nodes: number[]): boolean {
  const inside = new Set(nodes);
  const seen = new Set([nodes[0]]);
  const stack = [nodes[0]];
  while (stack.length > 0) {
    const v = stack.pop()!;
    for (let e = graph.offsets[v]; e < graph.offsets[v + 1]; e++) {
      const u = graph.targets[e];
      if (inside.has(u) && !seen.has(u)) {
        seen.add(u);
        stack.push(u);
      }
    }
  }
  return seen.size === inside.size;
}

/** Checks the shape promised by Partition: ids dense, community 0 the largest, ties in order of first node. */
function assertWellFormed(partition: Partition, nodeCount: number): void {
  assert.equal(partition.membership.length, nodeCount);
  const sizes = new Array<number>(partition.communityCount).fill(0);
  const firstNode = new Array<number>(partition.communityCount).fill(-1);
  partition.membership.forEach((c, v) => {
    assert.ok(Number.isInteger(c) && c >= 0 && c < partition.communityCount, `node ${v} has id ${c}`);
    sizes[c]++;
    if (firstNode[c] === -1) firstNode[c] = v;
  });
  for (let c = 0; c < partition.communityCount; c++) assert.ok(sizes[c] > 0, `community ${c} is empty`);
  for (let c = 1; c < partition.communityCount; c++) {
    assert.ok(sizes[c - 1] > sizes[c] || (sizes[c - 1] === sizes[c] && firstNode[c - 1] < firstNode[c]), `communities ${c - 1} and ${c} out of order`);
  }
}

/** Gain of moving v to each neighbouring or empty community, by the CPM formula written out independently. */
function bestSingleMoveGain(graph: WeightedGraph, membership: Int32Array, resolution: number, v: number): number {
  const size = new Map<number, number>();
  for (const c of membership) size.set(c, (size.get(c) ?? 0) + 1);
  const link = new Map<number, number>();
  for (let e = graph.offsets[v]; e < graph.offsets[v + 1]; e++) {
    const c = membership[graph.targets[e]];
    link.set(c, (link.get(c) ?? 0) + graph.weights[e]);
  }
  const own = membership[v];
  const stay = (link.get(own) ?? 0) - resolution * (size.get(own)! - 1);
  let best = -stay; // to a new community of its own
  for (const [c, w] of link) if (c !== own) best = Math.max(best, w - resolution * size.get(c)! - stay);
  return best;
}

test('planted partition: 20 groups of 30 nodes are recovered', () => {
  const { graph, truth } = plantedPartition(20, 30, 0.5, 2, 11);
  for (const seed of [1, 2, 3]) {
    const partition = leidenCpm(graph, { resolution: 0.1, seed });
    const ari = adjustedRand(partition.membership, truth);
    const nmi = normalizedMutualInformation(partition.membership, truth);
    assert.ok(ari > 0.95, `seed ${seed}: adjusted Rand ${ari}`);
    assert.ok(nmi > 0.95, `seed ${seed}: NMI ${nmi}`);
    assert.equal(partition.communityCount, 20);
  }
});

test('metrics used above: identical partitions score 1, unrelated ones near 0', () => {
  const truth = Int32Array.from({ length: 600 }, (_, v) => Math.floor(v / 30));
  const relabelled = truth.map((c) => 19 - c);
  assert.equal(adjustedRand(truth, relabelled), 1);
  assert.ok(Math.abs(normalizedMutualInformation(truth, relabelled) - 1) < 1e-12);
  const random = seededRandom(5);
  const shuffled = truth.map(() => Math.floor(random() * 20));
  assert.ok(Math.abs(adjustedRand(truth, shuffled)) < 0.05);
  assert.ok(normalizedMutualInformation(truth, shuffled) < 0.15);
});

test('a near-clique of 40 whose members mostly link into larger sparse communities is kept together', () => {
  // 10 home communities of 600 nodes at density 0.07; 40 members (4 from each home) are also
  // linked to each other at density 0.97. Each member has more edges at home (about 42) than
  // in the group (about 38), but the group is far denser than any home.
  const random = seededRandom(23);
  const homes = 10;
  const homeSize = 600;
  const n = homes * homeSize;
  const edges: Edge[] = [];
  for (let h = 0; h < homes; h++) {
    for (let i = 0; i < homeSize; i++) for (let j = i + 1; j < homeSize; j++) if (random() < 0.07) edges.push([h * homeSize + i, h * homeSize + j]);
  }
  const dense: number[] = [];
  for (let h = 0; h < homes; h++) for (let i = 0; i < 4; i++) dense.push(h * homeSize + i * 100);
  for (let i = 0; i < dense.length; i++) for (let j = i + 1; j < dense.length; j++) if (random() < 0.97) edges.push([dense[i], dense[j]]);
  const graph = graphFromEdges(n, edges);
  const denseSet = new Set(dense);

  // The premise: a member's edges mostly go to its home community.
  let homeLinks = 0;
  let groupLinks = 0;
  for (const v of dense) {
    for (let e = graph.offsets[v]; e < graph.offsets[v + 1]; e++) {
      const u = graph.targets[e];
      if (Math.floor(u / homeSize) === Math.floor(v / homeSize)) homeLinks += graph.weights[e];
      else if (denseSet.has(u)) groupLinks += graph.weights[e];
    }
  }
  assert.ok(homeLinks > groupLinks, `home ${homeLinks} vs group ${groupLinks}`);

  const largestTogether = (partition: Partition) => {
    const counts = new Map<number, number>();
    for (const v of dense) counts.set(partition.membership[v], (counts.get(partition.membership[v]) ?? 0) + 1);
    return Math.max(...counts.values());
  };
  const planted = Int32Array.from({ length: n }, (_, v) => (denseSet.has(v) ? homes : Math.floor(v / homeSize)));
  for (const resolution of [0.05, 0.1, 0.2, 0.3]) {
    const partition = leidenCpm(graph, { resolution, seed: 3 });
    const together = largestTogether(partition);
    assert.ok(together >= 38, `resolution ${resolution}: only ${together} of 40 together`);
    const groupCommunity = partition.membership[dense[0]];
    const outsiders = partition.membership.filter((c, v) => c === groupCommunity && !denseSet.has(v)).length;
    assert.ok(outsiders <= 2, `resolution ${resolution}: ${outsiders} non-members joined the group`);
    // Near or above the homes' density, random fluctuations make sub-communities of the homes
    // worth more than the homes themselves; what Leiden finds is at least as good as the plant.
    assert.ok(partition.quality >= cpmQuality(graph, planted, resolution), `resolution ${resolution}: below the planted partition`);
  }

  // Well below the homes' density the members are worth more inside their homes: the
  // resolution is the density threshold a community has to clear.
  const low = leidenCpm(graph, { resolution: 0.01, seed: 3 });
  assert.ok(largestTogether(low) <= 10);
});

test('every community induces a connected subgraph on random graphs', () => {
  let checked = 0;
  for (const averageDegree of [1.5, 3, 8]) {
    for (const graphSeed of [1, 2, 3]) {
      const graph = erdosRenyi(400, averageDegree, graphSeed * 97 + averageDegree);
      for (const resolution of [0, 0.005, 0.02, 0.1, 0.5]) {
        const partition = leidenCpm(graph, { resolution, seed: graphSeed });
        for (const nodes of membersOf(partition)) {
          assert.ok(isConnectedSubgraph(graph, nodes), `degree ${averageDegree}, resolution ${resolution}: community of ${nodes.length} is disconnected`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 1000);
});

test('returned quality is the CPM quality of the membership and beats singletons and one community', () => {
  const cases: Array<{ graph: WeightedGraph; nodeWeights?: Float64Array }> = [
    { graph: erdosRenyi(300, 4, 7) },
    { graph: plantedPartition(8, 25, 0.4, 3, 8).graph },
    {
      graph: graphFromEdges(
        200,
        (function* () {
          const random = seededRandom(9);
          for (let k = 0; k < 800; k++) yield [Math.floor(random() * 200), Math.floor(random() * 200), 0.5 + 3 * random()] as const;
        })(),
      ),
      nodeWeights: Float64Array.from({ length: 200 }, (_, v) => 1 + (v % 3)),
    },
  ];
  for (const { graph, nodeWeights } of cases) {
    const n = graph.nodeCount;
    for (const resolution of [0.01, 0.1, 0.4]) {
      const partition = leidenCpm(graph, { resolution, nodeWeights });
      assert.equal(partition.quality, cpmQuality(graph, partition.membership, resolution, nodeWeights));
      const singletons = cpmQuality(graph, Int32Array.from({ length: n }, (_, v) => v), resolution, nodeWeights);
      const allInOne = cpmQuality(graph, new Int32Array(n), resolution, nodeWeights);
      assert.ok(partition.quality >= singletons, `resolution ${resolution}: ${partition.quality} < singletons ${singletons}`);
      assert.ok(partition.quality >= allInOne, `resolution ${resolution}: ${partition.quality} < one community ${allInOne}`);
    }
  }
});

test('cpmQuality matches a hand computation, with and without node weights', () => {
  // Triangle 0-1-2 (weights 1, 2, 3) and edge 3-4 (weight 5); communities {0,1,2} and {3,4}.
  const graph = graphFromEdges(5, [
    [0, 1, 1],
    [1, 2, 2],
    [0, 2, 3],
    [3, 4, 5],
  ]);
  const membership = Int32Array.from([0, 0, 0, 1, 1]);
  assert.equal(cpmQuality(graph, membership, 0.5), 6 + 5 - 0.5 * (3 + 1));
  const nodeWeights = Float64Array.from([1, 1, 2, 3, 1]);
  // sizes 4 and 4: pairs 6 each
  assert.equal(cpmQuality(graph, membership, 0.5, nodeWeights), 11 - 0.5 * 12);
  // Labels need not be dense.
  assert.equal(cpmQuality(graph, Int32Array.from([7, 7, 7, 1000, 1000]), 0.5), cpmQuality(graph, membership, 0.5));
  assert.throws(() => cpmQuality(graph, new Int32Array(4), 0.5), RangeError);
  assert.throws(() => cpmQuality(graph, Int32Array.from([0, 0, -1, 1, 1]), 0.5), RangeError);
});

test('after convergence no single node move improves quality', () => {
  for (const [graph, resolution] of [
    [erdosRenyi(250, 5, 31), 0.03],
    [plantedPartition(10, 20, 0.35, 4, 32).graph, 0.1],
    [erdosRenyi(150, 12, 33), 0.2],
  ] as const) {
    const partition = leidenCpm(graph, { resolution, maxIterations: 1000 });
    for (let v = 0; v < graph.nodeCount; v++) {
      const gain = bestSingleMoveGain(graph, partition.membership, resolution, v);
      assert.ok(gain <= 1e-9, `node ${v} could gain ${gain}`);
    }
  }
});

test('finds the optimum on small graphs (exhaustive check over all partitions)', () => {
  // Restricted growth strings enumerate each set partition of n nodes exactly once.
  function bestQuality(graph: WeightedGraph, resolution: number): number {
    const n = graph.nodeCount;
    const labels = new Int32Array(n);
    let best = -Infinity;
    const visit = (i: number, used: number) => {
      if (i === n) {
        best = Math.max(best, cpmQuality(graph, labels, resolution));
        return;
      }
      for (let c = 0; c <= used; c++) {
        labels[i] = c;
        visit(i + 1, Math.max(used, c + 1));
      }
    };
    visit(0, 0);
    return best;
  }
  let compared = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const random = seededRandom(seed + 500);
    const n = 6 + (seed % 3);
    const edges: Array<readonly [number, number, number]> = [];
    for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) if (random() < 0.45) edges.push([u, v, 1 + Math.floor(random() * 3)]);
    const graph = graphFromEdges(n, edges);
    for (const resolution of [0.3, 1, 2]) {
      const found = leidenCpm(graph, { resolution, seed }).quality;
      assert.ok(Math.abs(found - bestQuality(graph, resolution)) < 1e-9, `seed ${seed}, resolution ${resolution}: ${found} is not optimal`);
      compared++;
    }
  }
  assert.equal(compared, 36);
});

test('membership ids are dense and numbered by descending community size', () => {
  for (const [graph, resolution] of [
    [plantedPartition(6, 10, 0.6, 1, 41).graph, 0.2],
    [erdosRenyi(300, 2, 42), 0.05],
    [graphFromEdges(10, []), 0.1],
  ] as const) {
    const partition = leidenCpm(graph, { resolution });
    assertWellFormed(partition, graph.nodeCount);
  }
  // Sizes 5, 3, 3, 1 with the tie broken by first node.
  const graph = graphFromEdges(12, [
    [0, 1], [1, 2], [2, 0],
    [3, 4], [4, 5], [5, 6], [6, 7], [7, 3], [3, 5], [4, 6], [5, 7], [6, 3], [7, 4],
    [8, 9], [9, 10], [10, 8],
  ]);
  const partition = leidenCpm(graph, { resolution: 0.5 });
  assert.deepEqual([...partition.membership], [1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2, 3]);
  assert.equal(partition.communityCount, 4);
});

test('deterministic for a fixed seed; other seeds also give valid partitions', () => {
  const graph = erdosRenyi(500, 6, 51);
  const first = leidenCpm(graph, { resolution: 0.05, seed: 9 });
  const second = leidenCpm(graph, { resolution: 0.05, seed: 9 });
  assert.deepEqual(second.membership, first.membership);
  assert.equal(second.quality, first.quality);
  assert.equal(second.communityCount, first.communityCount);
  const qualities = new Set<number>();
  for (const seed of [1, 2, 3, 4]) {
    const partition = leidenCpm(graph, { resolution: 0.05, seed });
    assertWellFormed(partition, graph.nodeCount);
    qualities.add(partition.quality);
  }
  // The seed really is used: the random order changes which local optimum is reached.
  assert.ok(qualities.size > 1);
});

test('edge cases: empty graph, one node, isolated nodes, disconnected components', () => {
  const empty = leidenCpm(graphFromEdges(0, []), { resolution: 0.1 });
  assert.deepEqual(empty, { membership: new Int32Array(0), communityCount: 0, quality: 0 });

  const one = leidenCpm(graphFromEdges(1, []), { resolution: 0.1 });
  assert.deepEqual([...one.membership], [0]);
  assert.equal(one.communityCount, 1);
  assert.equal(one.quality, 0);

  const isolated = leidenCpm(graphFromEdges(4, []), { resolution: 0 });
  assert.deepEqual([...isolated.membership], [0, 1, 2, 3]);

  // Two 5-cliques, a triangle and two isolated nodes, with no edge between the parts: even at
  // resolution 0, where joining them would cost nothing, the parts stay apart.
  const edges: Edge[] = [];
  for (const base of [0, 5]) for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) edges.push([base + i, base + j]);
  edges.push([10, 11], [11, 12], [12, 10]);
  const graph = graphFromEdges(15, edges);
  for (const resolution of [0, 0.3, 0.9]) {
    const partition = leidenCpm(graph, { resolution });
    assert.deepEqual([...partition.membership], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4], `resolution ${resolution}`);
    assert.equal(partition.quality, 10 + 10 + 3 - resolution * (10 + 10 + 3));
  }
  // Above density 1 nothing is worth joining.
  assert.equal(leidenCpm(graph, { resolution: 1.5 }).communityCount, 15);
});

test('node weights enter the size penalty, and aggregated nodes carry their sum', () => {
  const pair = graphFromEdges(2, [[0, 1]]);
  // gain of joining: 1 - 0.5 * n0 * n1
  assert.equal(leidenCpm(pair, { resolution: 0.5 }).communityCount, 1);
  assert.equal(leidenCpm(pair, { resolution: 0.5, nodeWeights: Float64Array.from([2, 2]) }).communityCount, 2);

  // A 6-clique of unit nodes has density 1: it holds together up to resolution 1, and with
  // every node weighing 2 only up to 15 / (12 * 11 / 2) = 0.227.
  const clique: Edge[] = [];
  for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) clique.push([i, j]);
  const graph = graphFromEdges(6, clique);
  const heavy = new Float64Array(6).fill(2);
  assert.equal(leidenCpm(graph, { resolution: 0.2, nodeWeights: heavy }).communityCount, 1);
  assert.ok(leidenCpm(graph, { resolution: 0.3, nodeWeights: heavy }).communityCount > 1);
  assert.equal(leidenCpm(graph, { resolution: 0.9 }).communityCount, 1);
});

test('graphFromEdges sums parallel edges, drops self loops, stores both directions', () => {
  const graph = graphFromEdges(4, [[0, 1, 2], [1, 0, 3], [2, 2, 7], [1, 3], [3, 1, 0.5]]);
  assert.equal(graph.nodeCount, 4);
  assert.equal(graph.offsets.length, 5);
  const arcs = new Map<string, number>();
  for (let u = 0; u < 4; u++) for (let e = graph.offsets[u]; e < graph.offsets[u + 1]; e++) arcs.set(`${u}>${graph.targets[e]}`, graph.weights[e]);
  assert.deepEqual(Object.fromEntries(arcs), { '0>1': 5, '1>0': 5, '1>3': 1.5, '3>1': 1.5 });
  assert.throws(() => graphFromEdges(3, [[0, 3]]), RangeError);
  assert.throws(() => graphFromEdges(3, [[0, 1, -1]]), RangeError);
  assert.throws(() => graphFromEdges(3, [[0, 1.5]]), RangeError);
});

test('invalid options and graphs are rejected', () => {
  const graph = graphFromEdges(3, [[0, 1], [1, 2]]);
  assert.throws(() => leidenCpm(graph, { resolution: -0.1 }), RangeError);
  assert.throws(() => leidenCpm(graph, { resolution: Number.NaN }), RangeError);
  assert.throws(() => leidenCpm(graph, { resolution: 0.1, maxIterations: 0 }), RangeError);
  assert.throws(() => leidenCpm(graph, { resolution: 0.1, nodeWeights: new Float64Array(2) }), RangeError);
  assert.throws(() => leidenCpm(graph, { resolution: 0.1, nodeWeights: Float64Array.from([1, -1, 1]) }), RangeError);
  const broken: WeightedGraph = { nodeCount: 3, offsets: Int32Array.from([0, 1, 2, 3]), targets: Int32Array.from([1, 5, 1]), weights: new Float64Array(3).fill(1) };
  assert.throws(() => leidenCpm(broken, { resolution: 0.1 }), RangeError);
});

test('runs on 100k nodes and 1M edges (planted groups of 100)', () => {
  const n = 100_000;
  const groupSize = 100;
  const edgeCount = 1_000_000;
  const random = seededRandom(77);
  const sources = new Int32Array(edgeCount);
  const sinks = new Int32Array(edgeCount);
  const seen = new Set<number>();
  for (let k = 0; k < edgeCount; ) {
    const u = Math.floor(random() * n);
    const v = random() < 0.9 ? Math.floor(u / groupSize) * groupSize + Math.floor(random() * groupSize) : Math.floor(random() * n);
    const key = u < v ? u * n + v : v * n + u;
    if (u === v || seen.has(key)) continue;
    seen.add(key);
    sources[k] = u;
    sinks[k++] = v;
  }
  const graph = graphFromEdges(
    n,
    (function* () {
      for (let k = 0; k < edgeCount; k++) yield [sources[k], sinks[k]] as const;
    })(),
  );
  assert.equal(graph.targets.length, 2 * edgeCount);
  const partition = leidenCpm(graph, { resolution: 0.05 });
  assertWellFormed(partition, n);
  const truth = Int32Array.from({ length: n }, (_, v) => Math.floor(v / groupSize));
  assert.ok(adjustedRand(partition.membership, truth) > 0.95);
});
