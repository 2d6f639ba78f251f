export interface WalkGraph {
  offsets: Int32Array;
  targets: Int32Array;
  weights: Float32Array | Float64Array;
  /** Weighted degree of each node (sum of its arc weights). */
  degree: Float64Array;
}

export interface PersonalizedPageRankOptions {
  /** Probability of restarting at a seed at each step: higher keeps the ranking closer to the seeds. */
  alpha?: number;
  /**
   * Residual per unit of degree below which a node is not pushed further. The work done is
   * bounded by 1 / (epsilon * alpha) degree units whatever the graph's size, which is what
   * makes this local.
   */
  epsilon?: number;
}

export interface PersonalizedPageRank {
  scores: Float64Array;
  /** Nodes with a non-zero score, in the order they were first reached. */
  reached: Int32Array;
  pushes: number;
}

/**
 * Personalised PageRank by residual pushing (Andersen, Chung and Lang, 2006): starts with
 * all mass on the seeds and repeatedly moves a node's residual to its neighbours in
 * proportion to edge weight, keeping alpha of it. Only the part of the graph near the
 * seeds is ever touched.
 */
export function personalizedPageRank(graph: WalkGraph, seeds: ReadonlyMap<number, number>, options: PersonalizedPageRankOptions = {}): PersonalizedPageRank {
  const alpha = options.alpha ?? 0.15;
  const epsilon = options.epsilon ?? 1e-7;
  const nodeCount = graph.degree.length;
  const scores = new Float64Array(nodeCount);
  const residual = new Float64Array(nodeCount);
  const queued = new Uint8Array(nodeCount);
  const seen = new Uint8Array(nodeCount);
  const reached: number[] = [];
  let queue = new Int32Array(Math.max(16, seeds.size * 2));
  let head = 0;
  let tail = 0;
  const enqueue = (node: number) => {
    if (tail === queue.length) {
      // Compact the consumed prefix first; grow only when the live part is actually full.
      if (head > queue.length / 2) {
        queue.copyWithin(0, head, tail);
        tail -= head;
        head = 0;
      } else {
        const grown = new Int32Array(queue.length * 2);
        grown.set(queue.subarray(head, tail));
        tail -= head;
        head = 0;
        queue = grown;
      }
    }
    queue[tail++] = node;
    queued[node] = 1;
  };

  let total = 0;
  for (const weight of seeds.values()) total += weight;
  if (total <= 0) return { scores, reached: new Int32Array(0), pushes: 0 };
  for (const [node, weight] of seeds) {
    if (node < 0 || node >= nodeCount || weight <= 0) continue;
    residual[node] += weight / total;
    if (!seen[node]) {
      seen[node] = 1;
      reached.push(node);
    }
    if (!queued[node]) enqueue(node);
  }

  const { offsets, targets, weights, degree } = graph;
  let pushes = 0;
  while (head < tail) {
    const u = queue[head++];
    queued[u] = 0;
    const r = residual[u];
    const d = degree[u];
    if (d === 0) {
      // A seed with no edges keeps its mass: it is still the most suspicious node there is.
      scores[u] += r;
      residual[u] = 0;
      continue;
    }
    if (r < epsilon * d) continue;
    pushes++;
    scores[u] += alpha * r;
    residual[u] = 0;
    const share = ((1 - alpha) * r) / d;
    for (let k = offsets[u]; k < offsets[u + 1]; k++) {
      const v = targets[k];
      residual[v] += share * weights[k];
      if (!seen[v]) {
        seen[v] = 1;
        reached.push(v);
      }
      if (!queued[v] && residual[v] >= epsilon * degree[v]) enqueue(v);
    }
  }
  return { scores, reached: Int32Array.from(reached), pushes };
}

/**
 * Global PageRank by power iteration with a uniform restart: how much of an unbiased walk
 * every node gets. Dividing a personalised score by it asks "how much more does the walk
 * from the seeds reach this account than a walk from anywhere would", which is what keeps
 * accounts everyone follows from ranking as suspects just for being popular.
 */
export function globalPageRank(graph: WalkGraph, options: { alpha?: number; iterations?: number } = {}): Float64Array {
  const alpha = options.alpha ?? 0.15;
  const n = graph.degree.length;
  const { offsets, targets, weights, degree } = graph;
  let rank = new Float64Array(n).fill(1 / n);
  let next = new Float64Array(n);
  for (let iteration = 0; iteration < (options.iterations ?? 30); iteration++) {
    // Mass on nodes without edges restarts like everyone's restart share.
    let dangling = 0;
    for (let u = 0; u < n; u++) if (degree[u] === 0) dangling += rank[u];
    next.fill((alpha + (1 - alpha) * dangling) / n);
    for (let u = 0; u < n; u++) {
      const d = degree[u];
      if (d === 0) continue;
      const share = ((1 - alpha) * rank[u]) / d;
      for (let k = offsets[u]; k < offsets[u + 1]; k++) next[targets[k]] += share * weights[k];
    }
    [rank, next] = [next, rank];
  }
  return rank;
}
