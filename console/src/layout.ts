// A small deterministic force-directed layout (Fruchterman-Reingold with cooling) for network
// graphs of up to a few hundred accounts. The same graph and seed always give the same picture,
// so two reviewers looking at one network see the same shape.

export interface LayoutEdge {
  source: number;
  target: number;
  weight: number;
}

export interface LayoutOptions {
  seed: number;
  iterations?: number;
  /** Ideal distance between linked nodes, in layout units. */
  spacing?: number;
}

/** mulberry32: a tiny seeded generator, enough for starting positions. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** Positions as [x0, y0, x1, y1, …], centred on the origin. */
export function forceLayout(nodeCount: number, edges: readonly LayoutEdge[], options: LayoutOptions): Float64Array {
  const k = options.spacing ?? 40;
  const iterations = options.iterations ?? (nodeCount > 150 ? 220 : 300);
  const random = seededRandom(options.seed);
  const positions = new Float64Array(nodeCount * 2);
  const radius = k * Math.sqrt(nodeCount);
  for (let i = 0; i < nodeCount; i++) {
    // Uniform in a disk: no two nodes start on top of each other, and the shape does not favour an axis.
    const r = radius * Math.sqrt(random());
    const angle = random() * Math.PI * 2;
    positions[i * 2] = r * Math.cos(angle);
    positions[i * 2 + 1] = r * Math.sin(angle);
  }
  if (nodeCount < 2) return positions;

  // Heavier links pull harder, on a log scale so one very busy pair does not collapse the picture.
  const maxWeight = edges.reduce((max, edge) => Math.max(max, edge.weight), 1);
  const strength = edges.map((edge) => 0.5 + Math.log1p(Math.max(0, edge.weight)) / Math.log1p(maxWeight));
  const displacement = new Float64Array(nodeCount * 2);
  const k2 = k * k;
  const gravity = 0.04;
  let temperature = radius / 4;
  const cooling = temperature / (iterations + 1);

  for (let iteration = 0; iteration < iterations; iteration++) {
    displacement.fill(0);
    // Every pair repels: O(n²), which at 300 nodes is ~45k pairs per step and well under a second in all.
    for (let i = 0; i < nodeCount; i++) {
      const xi = positions[i * 2];
      const yi = positions[i * 2 + 1];
      for (let j = i + 1; j < nodeCount; j++) {
        let dx = xi - positions[j * 2];
        let dy = yi - positions[j * 2 + 1];
        let distance2 = dx * dx + dy * dy;
        if (distance2 < 1e-6) {
          // Coincident nodes: push apart in a fixed direction that depends only on the pair.
          dx = ((i * 7 + j * 13) % 11) - 5 || 1;
          dy = ((i * 3 + j * 5) % 7) - 3 || 1;
          distance2 = dx * dx + dy * dy;
        }
        const force = k2 / distance2;
        displacement[i * 2] += dx * force;
        displacement[i * 2 + 1] += dy * force;
        displacement[j * 2] -= dx * force;
        displacement[j * 2 + 1] -= dy * force;
      }
    }
    // Linked nodes attract with the square of their distance.
    edges.forEach((edge, index) => {
      const { source, target } = edge;
      if (source === target) return;
      const dx = positions[source * 2] - positions[target * 2];
      const dy = positions[source * 2 + 1] - positions[target * 2 + 1];
      const distance = Math.sqrt(dx * dx + dy * dy) || 1e-3;
      const force = (distance / k) * strength[index];
      displacement[source * 2] -= dx * force;
      displacement[source * 2 + 1] -= dy * force;
      displacement[target * 2] += dx * force;
      displacement[target * 2 + 1] += dy * force;
    });
    for (let i = 0; i < nodeCount; i++) {
      // A weak pull to the centre keeps unlinked nodes and separate pieces in view.
      const dx = displacement[i * 2] - positions[i * 2] * gravity * k / 10;
      const dy = displacement[i * 2 + 1] - positions[i * 2 + 1] * gravity * k / 10;
      const length = Math.sqrt(dx * dx + dy * dy);
      if (length === 0) continue;
      const step = Math.min(length, temperature);
      positions[i * 2] += (dx / length) * step;
      positions[i * 2 + 1] += (dy / length) * step;
    }
    temperature = Math.max(temperature - cooling, k / 50);
  }

  // Forces alone can leave two nodes with the same neighbours (two sellers sharing buyers) on top of
  // each other; a few collision passes separate them so each can be seen and clicked.
  const minimum = k * 0.6;
  for (let pass = 0; pass < 20; pass++) {
    let moved = false;
    for (let i = 0; i < nodeCount; i++) {
      for (let j = i + 1; j < nodeCount; j++) {
        const dx = positions[j * 2] - positions[i * 2];
        const dy = positions[j * 2 + 1] - positions[i * 2 + 1];
        const distance = Math.sqrt(dx * dx + dy * dy);
        if (distance >= minimum) continue;
        moved = true;
        const push = (minimum - distance) / 2;
        const ux = distance > 1e-6 ? dx / distance : 1;
        const uy = distance > 1e-6 ? dy / distance : 0;
        positions[i * 2] -= ux * push;
        positions[i * 2 + 1] -= uy * push;
        positions[j * 2] += ux * push;
        positions[j * 2 + 1] += uy * push;
      }
    }
    if (!moved) break;
  }

  let cx = 0;
  let cy = 0;
  for (let i = 0; i < nodeCount; i++) {
    cx += positions[i * 2];
    cy += positions[i * 2 + 1];
  }
  cx /= nodeCount;
  cy /= nodeCount;
  for (let i = 0; i < nodeCount; i++) {
    positions[i * 2] -= cx;
    positions[i * 2 + 1] -= cy;
  }
  return positions;
}
