/** Undirected weighted graph in compressed sparse row form: each undirected edge {u,v} appears twice, as u->v and v->u, with the same weight. No self loops on input. */
export interface WeightedGraph {
  nodeCount: number;
  offsets: Int32Array; // length nodeCount + 1
  targets: Int32Array; // length offsets[nodeCount]
  weights: Float64Array; // same length as targets, > 0
}

export interface LeidenOptions {
  /** CPM resolution gamma: a community must have internal edge density above it. */
  resolution: number;
  /** Seed of the deterministic pseudo-random generator (random node order, randomness in refinement). Default 1. */
  seed?: number;
  /** Outer iterations (each = move, refine, aggregate until stable). Default 10; stop early when nothing changes. */
  maxIterations?: number;
  /** Per-node weights (default 1 each). */
  nodeWeights?: Float64Array;
}

export interface Partition {
  /** community id per node, ids dense 0..communityCount-1, numbered by descending community size */
  membership: Int32Array;
  communityCount: number;
  /** CPM quality of the returned membership */
  quality: number;
}

/**
 * Randomness of the refinement phase (theta in the paper, same default as its reference
 * implementation). Merges are drawn with probability proportional to exp(gain / theta), so
 * with gains measured in edge weight this is close to greedy while still letting the
 * refinement explore ties and near-ties.
 */
const REFINEMENT_RANDOMNESS = 0.01;

/**
 * A move must beat staying by more than this fraction of the magnitudes involved: gains are
 * differences of sums that are updated incrementally, and without a margin two moves whose
 * gains differ only by rounding could undo each other forever.
 */
const RELATIVE_TOLERANCE = 1e-12;

/** One level of the aggregation hierarchy: the input graph or a graph of refined communities. */
interface Level {
  nodeCount: number;
  offsets: Int32Array;
  targets: Int32Array;
  weights: Float64Array;
  nodeWeights: Float64Array;
}

type Random = () => number;

/**
 * Community detection by the Leiden algorithm (Traag, Waltman and van Eck, 2019) optimising
 * the Constant Potts Model: Q = sum over communities of w_in(c) - resolution * n_c(n_c-1)/2.
 * Unlike modularity, CPM has no resolution limit: a small dense group is kept apart from the
 * large sparse communities its members also belong to whenever its density exceeds the
 * resolution by more than theirs does.
 *
 * Every returned community induces a connected subgraph. Self loops, if any, are ignored:
 * they add the same amount to the quality of every partition.
 */
export function leidenCpm(graph: WeightedGraph, options: LeidenOptions): Partition {
  validateGraph(graph);
  const n = graph.nodeCount;
  const resolution = options.resolution;
  if (typeof resolution !== 'number' || !Number.isFinite(resolution) || resolution < 0) {
    throw new RangeError(`resolution must be a finite number >= 0, got ${resolution}`);
  }
  const maxIterations = options.maxIterations ?? 10;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`maxIterations must be an integer >= 1, got ${maxIterations}`);
  }
  const seed = options.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const nodeWeights = resolveNodeWeights(n, options.nodeWeights);
  if (n === 0) return { membership: new Int32Array(0), communityCount: 0, quality: 0 };

  const random = createRandom(seed);
  const base: Level = { nodeCount: n, offsets: graph.offsets, targets: graph.targets, weights: graph.weights, nodeWeights };
  let membership = identity(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const moves = runIteration(base, membership, resolution, random);
    const before = renumberDense(membership, n);
    // Stopping on a refinement that merges nothing (see runIteration) can leave a community
    // whose parts are only joined through nodes that moved away. Splitting it into its
    // components keeps the Leiden guarantee and can only raise CPM quality: no edge is lost
    // and the penalty on pairs across components disappears.
    const { labels, count } = connectedWithinCommunities(base, membership);
    membership = labels;
    if (moves === 0 && count === before) break;
  }
  const communityCount = numberBySize(membership, n);
  return { membership, communityCount, quality: qualityOf(base, membership, resolution) };
}

/** CPM quality: sum over communities of internal edge weight minus resolution * n_c(n_c-1)/2, n_c the community's total node weight. */
export function cpmQuality(graph: WeightedGraph, membership: Int32Array, resolution: number, nodeWeights?: Float64Array): number {
  validateGraph(graph);
  const n = graph.nodeCount;
  if (membership.length !== n) throw new RangeError(`membership has ${membership.length} entries for ${n} nodes`);
  if (typeof resolution !== 'number' || !Number.isFinite(resolution)) throw new RangeError(`resolution must be finite, got ${resolution}`);
  const weights = resolveNodeWeights(n, nodeWeights);
  let labels = membership;
  let largest = -1;
  for (let v = 0; v < n; v++) {
    if (membership[v] < 0) throw new RangeError(`membership[${v}] is negative`);
    if (membership[v] > largest) largest = membership[v];
  }
  if (largest >= n) {
    // Arbitrary labels: compact them so the per-community arrays stay the size of the graph.
    const dense = new Map<number, number>();
    labels = new Int32Array(n);
    for (let v = 0; v < n; v++) {
      let id = dense.get(membership[v]);
      if (id === undefined) dense.set(membership[v], (id = dense.size));
      labels[v] = id;
    }
  }
  return qualityOf({ nodeCount: n, offsets: graph.offsets, targets: graph.targets, weights: graph.weights, nodeWeights: weights }, labels, resolution);
}

/** Helper for callers and tests: builds a WeightedGraph from an undirected edge list (parallel edges summed, self loops dropped). */
export function graphFromEdges(nodeCount: number, edges: Iterable<readonly [number, number, number?]>): WeightedGraph {
  if (!Number.isInteger(nodeCount) || nodeCount < 0 || nodeCount >= 2 ** 31 - 1) {
    throw new RangeError(`nodeCount must be an integer in [0, 2^31-1), got ${nodeCount}`);
  }
  // The iterable may be a one-shot generator, so it is read once into growable columns.
  let capacity = 1024;
  let sources: Int32Array = new Int32Array(capacity);
  let sinks: Int32Array = new Int32Array(capacity);
  let amounts: Float64Array = new Float64Array(capacity);
  let edgeCount = 0;
  let index = 0;
  for (const edge of edges) {
    const u = edge[0];
    const v = edge[1];
    const w = edge[2] ?? 1;
    if (!Number.isInteger(u) || u < 0 || u >= nodeCount || !Number.isInteger(v) || v < 0 || v >= nodeCount) {
      throw new RangeError(`edge ${index} (${u}, ${v}) has an endpoint outside 0..${nodeCount - 1}`);
    }
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) throw new RangeError(`edge ${index} has weight ${w}; weights must be finite and > 0`);
    index++;
    if (u === v) continue;
    if (edgeCount === capacity) {
      capacity *= 2;
      sources = grow(sources, capacity);
      sinks = grow(sinks, capacity);
      amounts = growFloat(amounts, capacity);
    }
    sources[edgeCount] = u;
    sinks[edgeCount] = v;
    amounts[edgeCount] = w;
    edgeCount++;
  }
  if (edgeCount > 2 ** 30 - 1) throw new RangeError(`too many edges: ${edgeCount}`);

  const offsets = new Int32Array(nodeCount + 1);
  for (let i = 0; i < edgeCount; i++) {
    offsets[sources[i] + 1]++;
    offsets[sinks[i] + 1]++;
  }
  for (let v = 0; v < nodeCount; v++) offsets[v + 1] += offsets[v];
  const cursor = offsets.slice(0, nodeCount);
  const targets = new Int32Array(2 * edgeCount);
  const weights = new Float64Array(2 * edgeCount);
  for (let i = 0; i < edgeCount; i++) {
    const u = sources[i];
    const v = sinks[i];
    targets[cursor[u]] = v;
    weights[cursor[u]++] = amounts[i];
    targets[cursor[v]] = u;
    weights[cursor[v]++] = amounts[i];
  }

  // Merge parallel edges in place: the write position never overtakes the read position.
  const seenInRow = new Int32Array(nodeCount).fill(-1);
  const slot = new Int32Array(nodeCount);
  let out = 0;
  let rowStart = 0;
  for (let u = 0; u < nodeCount; u++) {
    const rowEnd = offsets[u + 1];
    offsets[u] = out;
    for (let e = rowStart; e < rowEnd; e++) {
      const v = targets[e];
      if (seenInRow[v] === u) {
        weights[slot[v]] += weights[e];
      } else {
        seenInRow[v] = u;
        slot[v] = out;
        targets[out] = v;
        weights[out++] = weights[e];
      }
    }
    rowStart = rowEnd;
  }
  offsets[nodeCount] = out;
  return { nodeCount, offsets, targets: targets.slice(0, out), weights: weights.slice(0, out) };
}

/**
 * One Leiden iteration starting from `membership` (dense labels on the input graph, updated
 * in place): move nodes, refine, aggregate on the refined partition with the moved partition
 * as the aggregate's starting point, until the moving phase leaves every aggregate node alone.
 * Returns how many node moves were made at all levels.
 */
function runIteration(base: Level, membership: Int32Array, resolution: number, random: Random): number {
  let level = base;
  let community: Int32Array = Int32Array.from(membership);
  // Which node of the current level each input node has been merged into.
  let nodeOf: Int32Array | null = null;
  let moves = 0;
  for (;;) {
    moves += moveNodes(level, community, resolution, random);
    const communityCount = renumberDense(community, level.nodeCount);
    if (communityCount === level.nodeCount) break;
    const { refined, count } = refine(level, community, communityCount, resolution, random);
    // A refinement that merges nothing would aggregate into the same graph and loop forever.
    if (count === level.nodeCount) break;
    const next = aggregate(level, refined, count, community);
    if (nodeOf === null) {
      nodeOf = refined;
    } else {
      for (let v = 0; v < base.nodeCount; v++) nodeOf[v] = refined[nodeOf[v]];
    }
    level = next.level;
    community = next.community;
  }
  for (let v = 0; v < base.nodeCount; v++) membership[v] = community[nodeOf === null ? v : nodeOf[v]];
  return moves;
}

/**
 * Fast local moving: visits nodes from a queue (initially all, in random order) and moves each
 * to the neighbouring or empty community with the largest quality gain. When a node moves,
 * its neighbours outside its new community are queued again, since only their options changed.
 */
function moveNodes(level: Level, community: Int32Array, resolution: number, random: Random): number {
  const { nodeCount: n, offsets, targets, weights, nodeWeights } = level;
  const communityWeight = new Float64Array(n);
  const communitySize = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    communityWeight[community[v]] += nodeWeights[v];
    communitySize[community[v]]++;
  }
  const empty = new Int32Array(n);
  let emptyCount = 0;
  for (let c = n - 1; c >= 0; c--) if (communitySize[c] === 0) empty[emptyCount++] = c;

  const queue = randomPermutation(n, random);
  const queued = new Uint8Array(n).fill(1);
  let head = 0;
  let queueLength = n;
  const link = new Float64Array(n);
  const touched = new Int32Array(n);
  let moves = 0;
  while (queueLength > 0) {
    const v = queue[head];
    head = head + 1 === n ? 0 : head + 1;
    queueLength--;
    queued[v] = 0;
    const own = community[v];
    const nv = nodeWeights[v];
    communityWeight[own] -= nv;
    communitySize[own]--;

    let touchedCount = 0;
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const u = targets[e];
      if (u === v) continue;
      const c = community[u];
      // Arc weights are > 0, so a zero entry means the community was not reached yet.
      if (link[c] === 0) touched[touchedCount++] = c;
      link[c] += weights[e];
    }
    const ownAlone = communitySize[own] === 0;
    const ownPenalty = ownAlone ? 0 : resolution * nv * communityWeight[own];
    const stayGain = link[own] - ownPenalty;
    const stayScale = link[own] + ownPenalty;
    let best = own;
    let bestGain = stayGain;
    let bestScale = stayScale;
    for (let i = 0; i < touchedCount; i++) {
      const c = touched[i];
      if (c !== own) {
        const penalty = resolution * nv * communityWeight[c];
        const gain = link[c] - penalty;
        if (gain > bestGain) {
          best = c;
          bestGain = gain;
          bestScale = link[c] + penalty;
        }
      }
      link[c] = 0;
    }
    link[own] = 0;
    let toEmpty = false;
    // Leaving for an empty community gains 0; when v was alone, staying already is that.
    if (!ownAlone && bestGain < 0) {
      best = empty[emptyCount - 1];
      bestGain = 0;
      bestScale = 0;
      toEmpty = true;
    }

    if (best !== own && bestGain - stayGain > RELATIVE_TOLERANCE * (bestScale + stayScale)) {
      if (toEmpty) emptyCount--;
      community[v] = best;
      communityWeight[best] += nv;
      communitySize[best]++;
      if (communitySize[own] === 0) {
        communityWeight[own] = 0;
        empty[emptyCount++] = own;
      }
      moves++;
      for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
        const u = targets[e];
        if (queued[u] === 0 && community[u] !== best) {
          queued[u] = 1;
          let tail = head + queueLength;
          if (tail >= n) tail -= n;
          queue[tail] = u;
          queueLength++;
        }
      }
    } else {
      communityWeight[own] += nv;
      communitySize[own]++;
    }
  }
  return moves;
}

/**
 * Refinement: inside each community S of the moved partition, starts from singletons and lets
 * each still-singleton node that is well connected to S (weight to the rest of S at least
 * resolution * n_v * (n_S - n_v)) join a well-connected refined community of S, drawn at
 * random among those it does not lose quality by joining. Because a node only joins a
 * community it has an edge to, every refined community is connected, which is what carries
 * the connectivity guarantee through aggregation.
 */
function refine(level: Level, community: Int32Array, communityCount: number, resolution: number, random: Random): { refined: Int32Array; count: number } {
  const { nodeCount: n, offsets, targets, weights, nodeWeights } = level;
  const communityWeight = new Float64Array(communityCount);
  for (let v = 0; v < n; v++) communityWeight[community[v]] += nodeWeights[v];
  // Weight from each node to the rest of its (moved-partition) community.
  const inside = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const c = community[v];
    let sum = 0;
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const u = targets[e];
      if (u !== v && community[u] === c) sum += weights[e];
    }
    inside[v] = sum;
  }

  const refined = identity(n);
  const refinedWeight = Float64Array.from(nodeWeights);
  // Weight from each refined community to the rest of its parent community.
  const refinedOutside = Float64Array.from(inside);
  const refinedSize = new Int32Array(n).fill(1);
  const link = new Float64Array(n);
  const touched = new Int32Array(n);
  const candidates = new Int32Array(n + 1);
  const gains = new Float64Array(n + 1);
  const order = randomPermutation(n, random);
  for (let i = 0; i < n; i++) {
    const v = order[i];
    const own = refined[v];
    if (refinedSize[own] !== 1) continue;
    const parent = community[v];
    const parentWeight = communityWeight[parent];
    const nv = nodeWeights[v];
    if (inside[v] < resolution * nv * (parentWeight - nv)) continue;

    let touchedCount = 0;
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const u = targets[e];
      if (u === v || community[u] !== parent) continue;
      const c = refined[u];
      if (link[c] === 0) touched[touchedCount++] = c;
      link[c] += weights[e];
    }
    let candidateCount = 1;
    candidates[0] = own;
    gains[0] = 0;
    let maxGain = 0;
    for (let t = 0; t < touchedCount; t++) {
      const c = touched[t];
      const wc = refinedWeight[c];
      if (refinedOutside[c] >= resolution * wc * (parentWeight - wc)) {
        const gain = link[c] - resolution * nv * wc;
        if (gain >= 0) {
          candidates[candidateCount] = c;
          gains[candidateCount++] = gain;
          if (gain > maxGain) maxGain = gain;
        }
      }
    }
    if (candidateCount > 1) {
      // Shifted by the largest gain so exp cannot overflow.
      let total = 0;
      for (let k = 0; k < candidateCount; k++) {
        gains[k] = Math.exp((gains[k] - maxGain) / REFINEMENT_RANDOMNESS);
        total += gains[k];
      }
      let draw = random() * total;
      let chosen = candidates[candidateCount - 1];
      for (let k = 0; k < candidateCount; k++) {
        draw -= gains[k];
        if (draw < 0) {
          chosen = candidates[k];
          break;
        }
      }
      if (chosen !== own) {
        refinedOutside[chosen] += inside[v] - 2 * link[chosen];
        refinedWeight[chosen] += nv;
        refinedSize[chosen]++;
        refinedSize[own] = 0;
        refined[v] = chosen;
      }
    }
    for (let t = 0; t < touchedCount; t++) link[touched[t]] = 0;
  }
  const count = renumberDense(refined, n);
  return { refined, count };
}

/**
 * Builds the graph whose nodes are the refined communities, summing node weights and the
 * weights of edges between them. Edges inside a refined community are dropped: they count
 * the same in every partition of the aggregate, and the quality is always measured on the
 * input graph. Each aggregate node starts in the moved-partition community of its members.
 */
function aggregate(level: Level, refined: Int32Array, count: number, community: Int32Array): { level: Level; community: Int32Array } {
  const { nodeCount: n, offsets, targets, weights, nodeWeights } = level;
  const memberStart = new Int32Array(count + 1);
  for (let v = 0; v < n; v++) memberStart[refined[v] + 1]++;
  for (let c = 0; c < count; c++) memberStart[c + 1] += memberStart[c];
  const fill = memberStart.slice(0, count);
  const members = new Int32Array(n);
  for (let v = 0; v < n; v++) members[fill[refined[v]]++] = v;

  const newWeights = new Float64Array(count);
  const newCommunity = new Int32Array(count);
  const newOffsets = new Int32Array(count + 1);
  // Each aggregate arc comes from at least one arc of this level, so this bounds the size.
  const newTargets = new Int32Array(offsets[n]);
  const newArcWeights = new Float64Array(offsets[n]);
  const link = new Float64Array(count);
  const touched = new Int32Array(count);
  let out = 0;
  for (let c = 0; c < count; c++) {
    let touchedCount = 0;
    let weight = 0;
    for (let m = memberStart[c]; m < memberStart[c + 1]; m++) {
      const v = members[m];
      weight += nodeWeights[v];
      for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
        const d = refined[targets[e]];
        if (d === c) continue;
        if (link[d] === 0) touched[touchedCount++] = d;
        link[d] += weights[e];
      }
    }
    newWeights[c] = weight;
    newCommunity[c] = community[members[memberStart[c]]];
    for (let t = 0; t < touchedCount; t++) {
      const d = touched[t];
      newTargets[out] = d;
      newArcWeights[out++] = link[d];
      link[d] = 0;
    }
    newOffsets[c + 1] = out;
  }
  return {
    level: { nodeCount: count, offsets: newOffsets, targets: newTargets.slice(0, out), weights: newArcWeights.slice(0, out), nodeWeights: newWeights },
    community: newCommunity,
  };
}

/** Relabels each community with its connected components, as dense labels in node order. */
function connectedWithinCommunities(level: Level, community: Int32Array): { labels: Int32Array; count: number } {
  const { nodeCount: n, offsets, targets } = level;
  const labels = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1) continue;
    const c = community[start];
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const v = stack[--top];
      for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
        const u = targets[e];
        if (labels[u] === -1 && community[u] === c) {
          labels[u] = count;
          stack[top++] = u;
        }
      }
    }
    count++;
  }
  return { labels, count };
}

function qualityOf(level: Level, labels: Int32Array, resolution: number): number {
  const { nodeCount: n, offsets, targets, weights, nodeWeights } = level;
  let internal = 0;
  const communityWeight = new Float64Array(n);
  for (let v = 0; v < n; v++) {
    const c = labels[v];
    communityWeight[c] += nodeWeights[v];
    for (let e = offsets[v], end = offsets[v + 1]; e < end; e++) {
      const u = targets[e];
      if (u !== v && labels[u] === c) internal += weights[e];
    }
  }
  let pairs = 0;
  for (let c = 0; c < n; c++) pairs += (communityWeight[c] * (communityWeight[c] - 1)) / 2;
  // Every internal edge was counted from both ends.
  return internal / 2 - resolution * pairs;
}

/** Relabels in place to 0..k-1 in order of first appearance; labels must be in 0..n-1. */
function renumberDense(labels: Int32Array, n: number): number {
  const map = new Int32Array(n).fill(-1);
  let count = 0;
  for (let v = 0; v < labels.length; v++) {
    let id = map[labels[v]];
    if (id === -1) id = map[labels[v]] = count++;
    labels[v] = id;
  }
  return count;
}

/** Relabels dense labels in place so that 0 is the community with most nodes; ties keep the order of their first node. */
function numberBySize(labels: Int32Array, n: number): number {
  const count = renumberDense(labels, n);
  const size = new Int32Array(count);
  for (let v = 0; v < n; v++) size[labels[v]]++;
  // First-appearance labels already order ties by first node, so a stable sort keeps that.
  const order = Array.from({ length: count }, (_, c) => c).sort((a, b) => size[b] - size[a] || a - b);
  const rank = new Int32Array(count);
  for (let r = 0; r < count; r++) rank[order[r]] = r;
  for (let v = 0; v < n; v++) labels[v] = rank[labels[v]];
  return count;
}

function validateGraph(graph: WeightedGraph): void {
  const { nodeCount: n, offsets, targets, weights } = graph;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`nodeCount must be an integer >= 0, got ${n}`);
  if (offsets.length !== n + 1) throw new RangeError(`offsets has length ${offsets.length}, expected ${n + 1}`);
  if (offsets[0] !== 0) throw new RangeError('offsets[0] must be 0');
  for (let v = 0; v < n; v++) if (offsets[v + 1] < offsets[v]) throw new RangeError(`offsets decrease at node ${v}`);
  const arcs = offsets[n];
  if (targets.length !== arcs || weights.length !== arcs) {
    throw new RangeError(`targets (${targets.length}) and weights (${weights.length}) must both have offsets[nodeCount] = ${arcs} entries`);
  }
  for (let e = 0; e < arcs; e++) {
    if (targets[e] < 0 || targets[e] >= n) throw new RangeError(`targets[${e}] = ${targets[e]} is not a node`);
    if (!(weights[e] > 0) || weights[e] === Infinity) throw new RangeError(`weights[${e}] = ${weights[e]}; weights must be finite and > 0`);
  }
}

function resolveNodeWeights(n: number, nodeWeights: Float64Array | undefined): Float64Array {
  if (nodeWeights === undefined) return new Float64Array(n).fill(1);
  if (nodeWeights.length !== n) throw new RangeError(`nodeWeights has ${nodeWeights.length} entries for ${n} nodes`);
  for (let v = 0; v < n; v++) {
    if (!(nodeWeights[v] >= 0) || nodeWeights[v] === Infinity) throw new RangeError(`nodeWeights[${v}] = ${nodeWeights[v]}; node weights must be finite and >= 0`);
  }
  return nodeWeights;
}

/**
 * xorshift32 (Marsaglia, 2003) seeded through the murmur3 finaliser, so that nearby seeds
 * such as 1 and 2 do not start with nearly identical states. Returns values in (0, 1).
 */
function createRandom(seed: number): Random {
  let h = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  let state = h >>> 0 || 0x6d2b79f5;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

function randomPermutation(n: number, random: Random): Int32Array {
  const order = identity(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

function grow(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

function growFloat(a: Float64Array, capacity: number): Float64Array {
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}
