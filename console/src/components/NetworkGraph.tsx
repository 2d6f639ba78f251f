import { type PointerEvent as ReactPointerEvent, useEffect, useMemo, useRef, useState } from 'react';
import { formatScore, humanize } from '../format.ts';
import { forceLayout } from '../layout.ts';
import type { NetworkEdge, NetworkFacts, NetworkNode } from '../types.ts';

const SPACING = 40;
const PADDING = 30;
/** Past this many accounts the picture starts on the sellers, their buyers and any minors; other members are a count until expanded. */
const COLLAPSE_OVER = 40;
/** At most this many accounts are drawn at first however many sellers and buyers there are; the rest can be expanded. */
const FIRST_DRAWN = 80;
/** The minimum interactions a link needs to be drawn: the reviewer's choices. */
const STRENGTHS = [1, 2, 3, 5, 10, 20];

/**
 * What the picture starts on: every account of a small network; of a large one, sellers, then
 * buyers, then minors (the server lists members that way, strongest first), up to FIRST_DRAWN.
 */
function firstDrawn(nodes: NetworkNode[]): NetworkNode[] {
  if (nodes.length <= COLLAPSE_OVER) return nodes;
  const rank = (node: NetworkNode) => (node.role === 'seller' ? 0 : node.role === 'buyer' ? 1 : node.minor ? 2 : 3);
  return nodes
    .map((node, index) => ({ node, index }))
    .filter(({ node }) => rank(node) < 3)
    .sort((a, b) => rank(a.node) - rank(b.node) || a.index - b.index)
    .slice(0, FIRST_DRAWN)
    .map(({ node }) => node);
}

/**
 * Accounts outside the largest linked group (no drawn link, or links only among a few of their
 * own: their other links go to members not drawn) would drift to the edges of a force layout and
 * shrink the main picture to a blot; they are set in rows under it instead.
 */
function withUnlinkedInARow(positions: Float64Array, edges: readonly { source: number; target: number }[]): Float64Array {
  const count = positions.length / 2;
  const parent = Array.from({ length: count }, (_, index) => index);
  const root = (index: number): number => (parent[index] === index ? index : (parent[index] = root(parent[index])));
  for (const edge of edges) parent[root(edge.source)] = root(edge.target);
  const sizes = new Map<number, number>();
  for (let index = 0; index < count; index++) sizes.set(root(index), (sizes.get(root(index)) ?? 0) + 1);
  const [mainRoot, mainSize] = [...sizes.entries()].reduce((best, entry) => (entry[1] > best[1] ? entry : best));
  if (mainSize === count || mainSize < 2) return positions;
  const main = [...parent.keys()].filter((index) => root(index) === mainRoot);
  const apart = [...parent.keys()].filter((index) => root(index) !== mainRoot);
  const xs = main.map((index) => positions[index * 2]);
  const minX = Math.min(...xs);
  const perRow = Math.max(1, Math.floor((Math.max(...xs) - minX) / SPACING) + 1);
  const top = Math.max(...main.map((index) => positions[index * 2 + 1])) + SPACING * 1.5;
  const out = positions.slice();
  apart.forEach((index, n) => {
    out[index * 2] = minX + (n % perRow) * SPACING;
    out[index * 2 + 1] = top + Math.floor(n / perRow) * SPACING;
  });
  return out;
}

/** The weakest link strength that keeps a drawing to about one and a half links per account, so a large network is not a hairball. */
function readableStrength(edges: NetworkEdge[], drawn: Set<string>): number {
  const inside = edges.filter((edge) => drawn.has(edge.source) && drawn.has(edge.target));
  return STRENGTHS.find((strength) => inside.filter((edge) => edge.weight >= strength).length <= drawn.size * 1.5) ?? STRENGTHS[STRENGTHS.length - 1];
}

interface ViewBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Pan {
  pointerId: number;
  startX: number;
  startY: number;
  from: ViewBox;
  scale: number;
}

interface Drag {
  index: number;
  pointerId: number;
  startX: number;
  startY: number;
  moved: boolean;
}

/**
 * The account graph of a detected network, drawn from ids, roles and scores only: no media, no
 * names. Nodes can be dragged; hovering or clicking one shows its account.
 */
export function NetworkGraph({ network }: { network: NetworkFacts }) {
  const [expanded, setExpanded] = useState(false);
  const collapsed = useMemo(() => firstDrawn(network.nodes), [network.nodes]);
  const nodes = expanded ? network.nodes : collapsed;
  const hiddenCount = network.nodes.length - nodes.length;
  const [minStrength, setMinStrength] = useState(() => readableStrength(network.edges, new Set(collapsed.map((node) => node.id))));
  const indexById = useMemo(() => new Map(nodes.map((node, index) => [node.id, index])), [nodes]);
  // The layout takes every link between drawn accounts, so filtering links by strength does not move anyone.
  const drawnEdges = useMemo(
    () =>
      network.edges.flatMap((edge) => {
        const source = indexById.get(edge.source);
        const target = indexById.get(edge.target);
        return source === undefined || target === undefined ? [] : [{ source, target, weight: edge.weight, kind: edge.kind }];
      }),
    [network.edges, indexById],
  );
  const layoutEdges = useMemo(() => drawnEdges.filter((edge) => edge.weight >= minStrength), [drawnEdges, minStrength]);
  // Links per account over the whole network, for the table: not only the drawn ones.
  const allLinks = useMemo(() => {
    const counts = new Map<string, number>();
    for (const edge of network.edges) for (const id of [edge.source, edge.target]) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }, [network.edges]);
  const drawnMinors = nodes.some((node) => node.minor);
  const drawnRoles = new Set(nodes.map((node) => node.role));
  const initial = useMemo(
    () => withUnlinkedInARow(forceLayout(nodes.length, drawnEdges, { seed: network.network_id * 2654435761, spacing: SPACING }), drawnEdges),
    [nodes.length, drawnEdges, network.network_id],
  );
  // Positions are mutated in place while dragging; `version` re-renders. A new layout (more accounts drawn) starts afresh.
  const positions = useRef<Float64Array>(initial);
  const layoutOf = useRef(initial);
  if (layoutOf.current !== initial) {
    layoutOf.current = initial;
    positions.current = initial.slice();
  }
  const [, setVersion] = useState(0);
  const [hovered, setHovered] = useState<number | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  useEffect(() => {
    setHovered(null);
    setSelected(null);
  }, [nodes]);
  const drag = useRef<Drag | null>(null);
  const svg = useRef<SVGSVGElement>(null);

  // The fitted view comes from the initial layout only, so dragging a node does not rescale the picture.
  const fitted = useMemo((): ViewBox => {
    let minX = -SPACING;
    let minY = -SPACING;
    let maxX = SPACING;
    let maxY = SPACING;
    for (let i = 0; i < nodes.length; i++) {
      minX = Math.min(minX, initial[i * 2]);
      maxX = Math.max(maxX, initial[i * 2]);
      minY = Math.min(minY, initial[i * 2 + 1]);
      maxY = Math.max(maxY, initial[i * 2 + 1]);
    }
    const width = maxX - minX + PADDING * 2;
    // Sellers are named to the right of their dot: leave room for the longest name, in the picture's
    // own units (a name is about 7.5 px a character on a drawing about 600 px wide).
    const longestName = Math.max(0, ...nodes.filter((node) => node.role === 'seller').map((node) => node.id.length));
    const nameRoom = longestName ? (width * (longestName * 7.5 + 24)) / 600 : 0;
    return { x: minX - PADDING, y: minY - PADDING, width: width + nameRoom, height: maxY - minY + PADDING * 2 };
  }, [initial, nodes]);
  const [viewBox, setViewBox] = useState<ViewBox>(fitted);
  useEffect(() => setViewBox(fitted), [fitted]);
  const pan = useRef<Pan | null>(null);

  // Wheel zoom around the pointer. React's wheel listeners are passive, so this one is added by hand.
  useEffect(() => {
    const element = svg.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      const matrix = element.getScreenCTM();
      if (!matrix) return;
      event.preventDefault();
      const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
      setViewBox((view) => zoomed(view, fitted, Math.exp(event.deltaY * 0.0015), point.x, point.y));
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [fitted]);

  const maxWeight = useMemo(() => layoutEdges.reduce((max, edge) => Math.max(max, edge.weight), 1), [layoutEdges]);
  const degree = useMemo(() => {
    const counts = new Array<number>(nodes.length).fill(0);
    for (const edge of layoutEdges) {
      counts[edge.source]++;
      counts[edge.target]++;
    }
    return counts;
  }, [layoutEdges, nodes.length]);
  // Sellers are drawn last so the busy middle of a network never hides them.
  const drawOrder = useMemo(() => {
    const rank = { member: 0, buyer: 1, seller: 2 } as const;
    return nodes.map((_, index) => index).sort((a, b) => (rank[nodes[a].role] ?? 0) - (rank[nodes[b].role] ?? 0) || a - b);
  }, [nodes]);
  const maxScore = useMemo(() => nodes.reduce((max, node) => Math.max(max, node.score), 0) || 1, [nodes]);
  // Sizes are kept in screen pixels: zooming in spreads a crowded middle apart instead of enlarging it.
  // One unit is about one pixel of the drawing area (about 600 by 520 pixels at 1280 wide).
  const unit = Math.max(viewBox.width / 600, viewBox.height / 520);
  const sizeBoost = nodes.length < 50 ? 1.6 : nodes.length < 150 ? 1.25 : 1;
  const baseRadius = 7 * sizeBoost * unit;

  const toSvgPoint = (event: ReactPointerEvent) => {
    const matrix = svg.current?.getScreenCTM();
    if (!matrix) return null;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return { x: point.x, y: point.y };
  };

  const onPointerDown = (event: ReactPointerEvent<SVGGElement>, index: number) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { index, pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, moved: false };
  };
  const onPointerMove = (event: ReactPointerEvent<SVGGElement>) => {
    const current = drag.current;
    if (!current || current.pointerId !== event.pointerId) return;
    if (!current.moved && Math.hypot(event.clientX - current.startX, event.clientY - current.startY) < 3) return;
    current.moved = true;
    const point = toSvgPoint(event);
    if (!point) return;
    positions.current[current.index * 2] = point.x;
    positions.current[current.index * 2 + 1] = point.y;
    setVersion((v) => v + 1);
  };
  const onPointerUp = (event: ReactPointerEvent<SVGGElement>, index: number) => {
    const current = drag.current;
    if (!current || current.pointerId !== event.pointerId) return;
    drag.current = null;
    // A press without movement is a click: it pins the node's details.
    if (!current.moved) setSelected((was) => (was === index ? null : index));
  };

  // Dragging the background pans.
  const onBackgroundDown = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (event.button !== 0 || event.target !== event.currentTarget) return;
    const matrix = svg.current?.getScreenCTM();
    if (!matrix) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    pan.current = { pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, from: viewBox, scale: matrix.a };
  };
  const onBackgroundMove = (event: ReactPointerEvent<SVGSVGElement>) => {
    const current = pan.current;
    if (!current || current.pointerId !== event.pointerId) return;
    const dx = (event.clientX - current.startX) / current.scale;
    const dy = (event.clientY - current.startY) / current.scale;
    setViewBox({ ...current.from, x: current.from.x - dx, y: current.from.y - dy });
  };
  const onBackgroundUp = () => {
    pan.current = null;
  };
  const zoomBy = (factor: number) => setViewBox((view) => zoomed(view, fitted, factor, view.x + view.width / 2, view.y + view.height / 2));

  const shown = hovered ?? selected;
  // Name the selected account and as many sellers as fit without one name covering another;
  // zooming in makes room for more.
  const labelled: number[] = [];
  const placed: { left: number; right: number; top: number; bottom: number }[] = [];
  const candidates = [...(selected !== null ? [selected] : []), ...drawOrder.filter((index) => nodes[index].role === 'seller' && index !== selected).reverse()];
  for (const index of candidates) {
    const left = positions.current[index * 2] + baseRadius * 1.5;
    const box = { left, right: left + (nodes[index].id.length * 7.5 + 4) * unit, top: positions.current[index * 2 + 1] - 9 * unit, bottom: positions.current[index * 2 + 1] + 6 * unit };
    if (placed.some((other) => box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom)) continue;
    placed.push(box);
    labelled.push(index);
  }
  const x = (i: number) => positions.current[i * 2];
  const y = (i: number) => positions.current[i * 2 + 1];

  return (
    <div className="network">
      <dl className="counts" data-testid="network-counts">
        <div>
          <dt>Accounts</dt>
          <dd>{network.size}</dd>
        </div>
        <div>
          <dt>Sellers</dt>
          <dd>{network.sellers}</dd>
        </div>
        <div>
          <dt>Buyers</dt>
          <dd>{network.buyers}</dd>
        </div>
        <div className={network.minors_contacted > 0 ? 'alert' : undefined}>
          <dt>Minors contacted</dt>
          <dd>{network.minors_contacted}</dd>
        </div>
      </dl>
      <div className="graph-area">
        <svg
          ref={svg}
          className="graph"
          data-testid="network-graph"
          viewBox={`${viewBox.x} ${viewBox.y} ${viewBox.width} ${viewBox.height}`}
          preserveAspectRatio="xMidYMid meet"
          onPointerDown={onBackgroundDown}
          onPointerMove={onBackgroundMove}
          onPointerUp={onBackgroundUp}
          onPointerCancel={onBackgroundUp}
          role="group"
          aria-label={`Account graph of network ${network.network_id}: ${nodes.length} of ${network.nodes.length} accounts drawn, ${layoutEdges.length} links. Select an account to see its details.`}
        >
          <g className="edges">
            {layoutEdges.map((edge, index) => {
              const strength = Math.log1p(edge.weight) / Math.log1p(maxWeight);
              const touches = shown !== null && (edge.source === shown || edge.target === shown);
              return (
                <line
                  key={index}
                  x1={x(edge.source)}
                  y1={y(edge.source)}
                  x2={x(edge.target)}
                  y2={y(edge.target)}
                  className={touches ? `edge edge-${edge.kind} active` : `edge edge-${edge.kind}`}
                  strokeWidth={(0.6 + 2.4 * strength) * unit}
                  strokeOpacity={touches ? 0.9 : 0.25 + 0.45 * strength}
                />
              );
            })}
          </g>
          <g className="nodes">
            {drawOrder.map((index) => {
              const node = nodes[index];
              const radius = baseRadius * (node.role === 'member' ? 0.8 : 1) * (0.8 + 0.5 * (node.score / maxScore));
              return (
                <g
                  key={node.id}
                  className={`node role-${node.role}${index === selected ? ' selected' : ''}${node.minor ? ' minor' : ''}`}
                  transform={`translate(${x(index)} ${y(index)})`}
                  data-testid="graph-node"
                  data-account-id={node.id}
                  data-role={node.role}
                  tabIndex={0}
                  role="button"
                  aria-pressed={index === selected}
                  aria-label={`${node.id}, ${node.role}${node.minor ? ', minor' : ''}`}
                  onPointerDown={(event) => onPointerDown(event, index)}
                  onPointerMove={onPointerMove}
                  onPointerUp={(event) => onPointerUp(event, index)}
                  onPointerCancel={() => (drag.current = null)}
                  onPointerEnter={() => setHovered(index)}
                  onPointerLeave={() => setHovered((was) => (was === index ? null : was))}
                  onFocus={() => setHovered(index)}
                  onBlur={() => setHovered((was) => (was === index ? null : was))}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter' || event.key === ' ') {
                      event.preventDefault();
                      setSelected((was) => (was === index ? null : index));
                    }
                  }}
                >
                  {node.minor && <circle className="minor-ring" r={radius + 3.5 * unit} />}
                  <circle className="dot" r={radius} />
                  {node.role === 'seller' && <circle className="seller-core" r={radius * 0.35} />}
                </g>
              );
            })}
          </g>
          {/* Names of sellers and of the selected account, in their own layer so they never take a click meant for a node. */}
          <g className="labels" aria-hidden="true">
            {labelled.map((index) => (
              <text key={nodes[index].id} className="node-label" x={x(index) + baseRadius * 1.5 + 2 * unit} y={y(index) + 4 * unit} fontSize={12 * unit}>
                {nodes[index].id}
              </text>
            ))}
          </g>
        </svg>
        <aside className="graph-side">
          <div className="zoom" role="group" aria-label="Zoom">
            <button type="button" onClick={() => zoomBy(1 / 1.5)} aria-label="Zoom in">
              +
            </button>
            <button type="button" onClick={() => zoomBy(1.5)} aria-label="Zoom out">
              −
            </button>
            <button type="button" onClick={() => setViewBox(fitted)}>
              Fit
            </button>
          </div>
          <p className="muted small">Wheel to zoom, drag the background to pan.</p>
          <div className="graph-filters">
            <p className="small" data-testid="graph-drawn">
              {nodes.length} of {network.nodes.length} accounts drawn
              {hiddenCount > 0 ? `; ${hiddenCount} other members are not drawn.` : '.'}
            </p>
            {collapsed.length < network.nodes.length && (
              <button type="button" onClick={() => setExpanded((was) => !was)} data-testid="graph-expand">
                {expanded ? 'Draw sellers, buyers and minors only' : `Draw all ${network.nodes.length} accounts`}
              </button>
            )}
            <label className="small">
              Links with at least{' '}
              <select value={minStrength} onChange={(event) => setMinStrength(Number(event.target.value))} data-testid="graph-strength">
                {STRENGTHS.map((strength) => (
                  <option key={strength} value={strength}>
                    {strength} {strength === 1 ? 'interaction' : 'interactions'}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <Legend roles={drawnRoles} minors={drawnMinors} links={layoutEdges.length > 0} />
          {!drawnMinors && network.minors_contacted > 0 && (
            <p className="muted small" data-testid="graph-minors-note">
              The {network.minors_contacted} minors contacted are not members of the network, so they are counted above, not drawn.
            </p>
          )}
          <NodeDetails node={shown === null ? null : nodes[shown]} degree={shown === null ? 0 : degree[shown]} pinned={shown !== null && shown === selected} />
        </aside>
      </div>
      <details className="members">
        <summary>All {network.nodes.length} accounts as a table</summary>
        <table className="data compact">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Role</th>
              <th scope="col" className="num">Score</th>
              <th scope="col">Label</th>
              <th scope="col">Minor</th>
              <th scope="col" className="num">Links</th>
            </tr>
          </thead>
          <tbody>
            {network.nodes.map((node) => (
              <tr key={node.id}>
                <td>
                  <code>{node.id}</code>
                </td>
                <td>{humanize(node.role)}</td>
                <td className="num">{formatScore(node.score)}</td>
                <td>{node.label ?? '–'}</td>
                <td>{node.minor ? 'yes' : '–'}</td>
                <td className="num">{allLinks.get(node.id) ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}

/** The view scaled by factor around (cx, cy), between 1/20 of the fitted view and 1.5 times it. */
function zoomed(view: ViewBox, fitted: ViewBox, factor: number, cx: number, cy: number): ViewBox {
  const width = Math.min(fitted.width * 1.5, Math.max(fitted.width / 20, view.width * factor));
  const applied = width / view.width;
  return { x: cx - (cx - view.x) * applied, y: cy - (cy - view.y) * applied, width, height: view.height * applied };
}

/** The legend names only what the picture draws, so it never promises a kind of account that is not there. */
function Legend({ roles, minors, links }: { roles: Set<string>; minors: boolean; links: boolean }) {
  const entries = [
    {
      kind: 'seller',
      shown: roles.has('seller'),
      text: 'Seller',
      icon: (
        <>
          <circle cx="9" cy="9" r="6" className="legend-seller" />
          <circle cx="9" cy="9" r="2" className="seller-core" />
        </>
      ),
    },
    { kind: 'buyer', shown: roles.has('buyer'), text: 'Buyer', icon: <circle cx="9" cy="9" r="6" className="legend-buyer" /> },
    { kind: 'member', shown: roles.has('member'), text: 'Member', icon: <circle cx="9" cy="9" r="5" className="legend-member" /> },
    {
      kind: 'minor',
      shown: minors,
      text: 'Minor (dashed ring)',
      icon: (
        <>
          <circle cx="9" cy="9" r="4" className="legend-member" />
          <circle cx="9" cy="9" r="7.5" className="minor-ring" strokeWidth="2" />
        </>
      ),
    },
    { kind: 'link', shown: links, text: 'Thicker link: more interactions', icon: <line x1="1" y1="13" x2="17" y2="5" className="edge" strokeWidth="3" strokeOpacity="0.7" /> },
  ];
  return (
    <ul className="legend" aria-label="Legend" data-testid="graph-legend">
      {entries
        .filter((entry) => entry.shown)
        .map((entry) => (
          <li key={entry.kind} data-legend={entry.kind}>
            <svg width="18" height="18" aria-hidden="true">
              {entry.icon}
            </svg>
            {entry.text}
          </li>
        ))}
    </ul>
  );
}

function NodeDetails({ node, degree, pinned }: { node: NetworkNode | null; degree: number; pinned: boolean }) {
  if (!node) {
    return (
      <p className="muted small node-hint" aria-live="polite">
        Hover or click an account to see it. Drag to move it.
      </p>
    );
  }
  return (
    <div className="node-details" data-testid="graph-node-details" aria-live="polite">
      <h3>
        <code data-testid="graph-node-account">{node.id}</code>
      </h3>
      <dl className="facts">
        <dt>Role</dt>
        <dd>{humanize(node.role)}</dd>
        <dt>Score</dt>
        <dd>{formatScore(node.score)}</dd>
        <dt>Label</dt>
        <dd>{node.label ?? '–'}</dd>
        <dt>Minor</dt>
        <dd>{node.minor ? <strong className="minor-text">yes</strong> : 'no'}</dd>
        <dt>Links</dt>
        <dd>{degree}</dd>
      </dl>
      {pinned && <p className="muted small">Pinned. Click it again to unpin.</p>}
    </div>
  );
}
