/**
 * The notebook's cell dependency graph, laid out for drawing.
 *
 * Pure: the kernel's `state` message and the notebook's code cells go in, boxes and edge
 * routes come out, placed by dagre (a layered layout: definers above their readers, edge
 * labels as boxes of their own so they never sit on a node or on another label). The view
 * (graphview.ts) only draws what this returns.
 */
import { Graph, layout } from '@dagrejs/dagre';

import type { CellStateName, ICellStatus, IStateMessage } from './protocol';

/** One code cell of the notebook, in notebook order. */
export interface IGraphCell {
  id: string;
  source: string;
  /**
   * Its 1-based position in the notebook, markdown cells counted (as the kernel numbers
   * cells in its messages); by default its position among the cells given.
   */
  position?: number;
}

/** What a piece of text is drawn as (the view measures each with its own font). */
export type TextKind = 'title' | 'snippet' | 'label';

export interface IGraphOptions {
  /** Show cells without any edge too (by default they are hidden and counted). */
  showAll?: boolean;
  /** The drawn width of a text, in px; by default an estimate for a 12 px font. */
  measure?: (text: string, kind: TextKind) => number;
}

export interface IPoint {
  x: number;
  y: number;
}

/** A cell's box; `x`, `y` are its centre (as dagre gives them). */
export interface IGraphNode {
  id: string;
  /** 0-based position among the cells given (the notebook's code cells). */
  index: number;
  /** "cell 4": its position in the notebook, as the kernel names cells. */
  title: string;
  /** Its first non-empty source line, at most {@link SNIPPET_MAX} characters. */
  snippet: string;
  /** The kernel's state of the cell; `new` when the kernel does not know the cell yet. */
  state: CellStateName;
  /** Why the kernel gave it that state (empty when it said nothing). */
  reason: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Names read by `to` from cells defined in `from`; `labelX`, `labelY` is the label's centre. */
export interface IGraphEdge {
  from: string;
  to: string;
  /** The names read along this edge, sorted (empty when the kernel sent no `reads`). */
  names: string[];
  /** `names` joined by ", ". */
  label: string;
  /** The route from the definer's box to the reader's box. */
  points: IPoint[];
  labelX: number;
  labelY: number;
  labelWidth: number;
  labelHeight: number;
}

export interface IGraphLayout {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
  /** How many code cells are not drawn (no edge, and `showAll` not set). */
  hidden: number;
  width: number;
  height: number;
}

/** Longest snippet shown in a node, "…" included (as the kernel's cell names). */
export const SNIPPET_MAX = 40;

/** Box metrics, in px. */
export const NODE_PADDING_X = 10;
export const NODE_HEIGHT = 44;
export const NODE_MIN_WIDTH = 90;
export const LABEL_PADDING_X = 4;
export const LABEL_HEIGHT = 18;

/** A monospace 12 px character is about 0.6 em wide; round up so estimates never fall short. */
const ESTIMATED_CHAR_WIDTH = 7.5;

function estimate(text: string): number {
  return text.length * ESTIMATED_CHAR_WIDTH;
}

/** The first non-empty line of `source`, trimmed and shortened to `max` characters. */
export function snippetOf(source: string, max = SNIPPET_MAX): string {
  const line = source.split(/\r\n|\r|\n/).find(l => l.trim() !== '');
  if (line === undefined) {
    return '';
  }
  const text = line.trim();
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The edges of the graph as reader → {definer → names}: from `reads` when the kernel sends
 * it, else from `upstream` (edges without names). Self-reads and cells that are not among
 * `known` are left out.
 */
export function dependencies(
  cells: { [id: string]: ICellStatus },
  known: ReadonlySet<string>
): Map<string, Map<string, string[]>> {
  const result = new Map<string, Map<string, string[]>>();
  for (const [reader, status] of Object.entries(cells)) {
    if (!known.has(reader) || !status || typeof status !== 'object') {
      continue;
    }
    const from = new Map<string, string[]>();
    const reads = (status as { reads?: unknown }).reads;
    if (reads && typeof reads === 'object' && !Array.isArray(reads)) {
      for (const [name, definer] of Object.entries(reads as object)) {
        if (typeof definer !== 'string' || definer === reader || !known.has(definer)) {
          continue;
        }
        const names = from.get(definer) ?? [];
        names.push(name);
        from.set(definer, names);
      }
    } else if (Array.isArray(status.upstream)) {
      for (const definer of status.upstream) {
        if (typeof definer === 'string' && definer !== reader && known.has(definer)) {
          from.set(definer, from.get(definer) ?? []);
        }
      }
    }
    for (const names of from.values()) {
      names.sort();
    }
    if (from.size) {
      result.set(reader, from);
    }
  }
  return result;
}

/**
 * Lay out the dependency graph of `cells` (the notebook's code cells, in order) as the
 * kernel's `state` describes it. Nodes are the cells with an edge (all cells with
 * `showAll`); edges go from the defining cell to the reading cell, top to bottom.
 */
export function layoutGraph(
  state: IStateMessage | null,
  cells: readonly IGraphCell[],
  options: IGraphOptions = {}
): IGraphLayout {
  const measure = options.measure ?? estimate;
  const statuses = state?.cells ?? {};
  const known = new Set(cells.map(c => c.id));
  const deps = dependencies(statuses, known);

  const connected = new Set<string>();
  for (const [reader, from] of deps) {
    connected.add(reader);
    for (const definer of from.keys()) {
      connected.add(definer);
    }
  }
  const shown = cells
    .map((cell, index) => ({ cell, index }))
    .filter(({ cell }) => options.showAll || connected.has(cell.id));

  const nodes: IGraphNode[] = shown.map(({ cell, index }) => {
    const status = statuses[cell.id] as ICellStatus | undefined;
    const title = `cell ${cell.position ?? index + 1}`;
    const snippet = snippetOf(cell.source);
    const width = Math.max(
      NODE_MIN_WIDTH,
      Math.ceil(Math.max(measure(title, 'title'), measure(snippet, 'snippet'))) +
        2 * NODE_PADDING_X
    );
    return {
      id: cell.id,
      index,
      title,
      snippet,
      state: status?.state ?? 'new',
      reason: status
        ? typeof status.reason === 'string'
          ? status.reason
          : ''
        : 'not yet seen by the kernel',
      x: 0,
      y: 0,
      width,
      height: NODE_HEIGHT
    };
  });

  // Edges in notebook order (by reader, then definer), so that ties in dagre's ordering
  // follow the notebook.
  const position = new Map(cells.map((c, i) => [c.id, i]));
  const byPosition = (a: string, b: string) => position.get(a)! - position.get(b)!;
  const edges: IGraphEdge[] = [];
  for (const reader of [...deps.keys()].sort(byPosition)) {
    const from = deps.get(reader)!;
    for (const definer of [...from.keys()].sort(byPosition)) {
      const names = from.get(definer)!;
      const label = names.join(', ');
      edges.push({
        from: definer,
        to: reader,
        names,
        label,
        points: [],
        labelX: 0,
        labelY: 0,
        labelWidth: label ? Math.ceil(measure(label, 'label')) + 2 * LABEL_PADDING_X : 0,
        labelHeight: label ? LABEL_HEIGHT : 0
      });
    }
  }

  if (!nodes.length) {
    return { nodes, edges, hidden: cells.length, width: 0, height: 0 };
  }

  // First pass: dagre's ranks. Second pass: the same graph, with cells of one rank kept in
  // notebook order left to right (dagre's ordering constraints; crossings are minimised
  // around them).
  let g = build(nodes, edges);
  layout(g);
  const ranks = new Map<number, IGraphNode[]>();
  for (const node of nodes) {
    const rank = (g.node(node.id) as { rank?: number }).rank ?? 0;
    ranks.set(rank, [...(ranks.get(rank) ?? []), node]);
  }
  const constraints: { left: string; right: string }[] = [];
  for (const row of ranks.values()) {
    row.sort((a, b) => a.index - b.index);
    for (let i = 1; i < row.length; i++) {
      constraints.push({ left: row[i - 1].id, right: row[i].id });
    }
  }
  if (constraints.length) {
    g = build(nodes, edges);
    layout(g, { constraints });
  }

  for (const node of nodes) {
    const placed = g.node(node.id) as { x: number; y: number };
    node.x = placed.x;
    node.y = placed.y;
  }
  for (const edge of edges) {
    const placed = g.edge(edge.from, edge.to) as {
      points?: IPoint[];
      x?: number;
      y?: number;
    };
    edge.points = (placed.points ?? []).map(p => ({ x: p.x, y: p.y }));
    if (typeof placed.x === 'number' && typeof placed.y === 'number') {
      edge.labelX = placed.x;
      edge.labelY = placed.y;
    } else {
      const mid = edge.points[Math.floor(edge.points.length / 2)] ?? { x: 0, y: 0 };
      edge.labelX = mid.x;
      edge.labelY = mid.y;
    }
  }
  const size = g.graph() as { width?: number; height?: number };
  return {
    nodes,
    edges,
    hidden: cells.length - nodes.length,
    width: Math.ceil(size.width ?? 0),
    height: Math.ceil(size.height ?? 0)
  };
}

/** The dagre graph of these nodes and edges, top to bottom, labels centred on their edge. */
function build(nodes: IGraphNode[], edges: IGraphEdge[]): Graph {
  const g = new Graph();
  g.setGraph({
    rankdir: 'TB',
    nodesep: 24,
    edgesep: 12,
    ranksep: 36,
    marginx: 12,
    marginy: 12
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    g.setNode(node.id, { width: node.width, height: node.height });
  }
  for (const edge of edges) {
    g.setEdge(edge.from, edge.to, {
      width: edge.labelWidth,
      height: edge.labelHeight,
      labelpos: 'c'
    });
  }
  return g;
}
