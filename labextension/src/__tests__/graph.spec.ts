import {
  type IGraphLayout,
  type IGraphNode,
  type IPoint,
  layoutGraph,
  snippetOf
} from '../graph';
import type { CellStateName, ICellStatus, IStateMessage } from '../protocol';

interface IBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
  what: string;
}

type Status = ICellStatus & { reads?: { [name: string]: string } };

function state(cells: { [id: string]: Status }): IStateMessage {
  return { type: 'state', mode: 'lazy', full: true, cells, removed: [] };
}

function ok(reads: { [name: string]: string } = {}, extra: Partial<Status> = {}): Status {
  return { state: 'ok', reads, upstream: [...new Set(Object.values(reads))], ...extra };
}

const nodeBox = (n: IGraphNode): IBox => ({
  left: n.x - n.width / 2,
  right: n.x + n.width / 2,
  top: n.y - n.height / 2,
  bottom: n.y + n.height / 2,
  what: `node ${n.title}`
});

function labelBoxes(layout: IGraphLayout): IBox[] {
  return layout.edges
    .filter(e => e.label)
    .map(e => ({
      left: e.labelX - e.labelWidth / 2,
      right: e.labelX + e.labelWidth / 2,
      top: e.labelY - e.labelHeight / 2,
      bottom: e.labelY + e.labelHeight / 2,
      what: `label ${e.label} (${e.from}->${e.to})`
    }));
}

const overlap = (a: IBox, b: IBox) =>
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** Every pair of boxes that overlap, as readable strings (so a failure says which). */
function overlaps(boxes: IBox[], others: IBox[] | null = null): string[] {
  const found: string[] = [];
  if (others === null) {
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        if (overlap(boxes[i], boxes[j])) {
          found.push(`${boxes[i].what} / ${boxes[j].what}`);
        }
      }
    }
  } else {
    for (const a of boxes) {
      for (const b of others) {
        if (overlap(a, b)) {
          found.push(`${a.what} / ${b.what}`);
        }
      }
    }
  }
  return found;
}

/** Distance from `p` to the polyline `points`. */
function distanceToRoute(p: IPoint, points: IPoint[]): number {
  let best = Infinity;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    const t = len2 ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2)) : 0;
    best = Math.min(best, Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy)));
  }
  return best;
}

/** The checks every drawing must pass: nothing overlaps, edges go down through their label. */
function expectReadable(layout: IGraphLayout): void {
  const nodes = layout.nodes.map(nodeBox);
  const labels = labelBoxes(layout);
  expect(overlaps(nodes)).toEqual([]);
  expect(overlaps(labels)).toEqual([]);
  expect(overlaps(labels, nodes)).toEqual([]);
  const byId = new Map(layout.nodes.map(n => [n.id, n]));
  for (const edge of layout.edges) {
    const from = byId.get(edge.from)!;
    const to = byId.get(edge.to)!;
    expect(from.y).toBeLessThan(to.y);
    expect(edge.points.length).toBeGreaterThanOrEqual(2);
    if (edge.label) {
      expect(distanceToRoute({ x: edge.labelX, y: edge.labelY }, edge.points)).toBeLessThan(1);
    }
  }
  for (const box of [...nodes, ...labels]) {
    expect(box.left).toBeGreaterThanOrEqual(0);
    expect(box.top).toBeGreaterThanOrEqual(0);
    expect(box.right).toBeLessThanOrEqual(layout.width);
    expect(box.bottom).toBeLessThanOrEqual(layout.height);
  }
}

const NOTEBOOK = [
  { id: 'imp', source: 'import math' },
  { id: 'a', source: '\n  a = 1  \n' },
  { id: 'b', source: 'b = a * 10' },
  { id: 'c', source: 'c = a + b' },
  { id: 'p', source: "print('hello')" },
  { id: 'm', source: '%reactive' }
];

const NOTEBOOK_STATE = state({
  imp: ok(),
  a: ok(),
  b: ok({ a: 'a' }),
  c: ok({ a: 'a', b: 'b' }),
  p: ok(),
  m: ok()
});

describe('layoutGraph: nodes and edges', () => {
  it('draws an edge per (definer, reader) pair, labelled with the names read', () => {
    const layout = layoutGraph(NOTEBOOK_STATE, NOTEBOOK);
    const edges = layout.edges.map(e => [e.from, e.to, e.label]);
    expect(edges).toEqual([
      ['a', 'b', 'a'],
      ['a', 'c', 'a'],
      ['b', 'c', 'b']
    ]);
    expect(layout.edges.map(e => e.names)).toEqual([['a'], ['a'], ['b']]);
  });

  it('joins several names read along one edge into one sorted label', () => {
    const cells = [
      { id: 'load', source: 'df, cols, n = load()' },
      { id: 'use', source: 'summary(n, df, cols)' }
    ];
    const layout = layoutGraph(
      state({ load: ok(), use: ok({ n: 'load', df: 'load', cols: 'load' }) }),
      cells
    );
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0].names).toEqual(['cols', 'df', 'n']);
    expect(layout.edges[0].label).toBe('cols, df, n');
  });

  it('hides cells without any edge and counts them; shows them all on request', () => {
    const layout = layoutGraph(NOTEBOOK_STATE, NOTEBOOK);
    expect(layout.nodes.map(n => n.id)).toEqual(['a', 'b', 'c']);
    expect(layout.hidden).toBe(3);

    const all = layoutGraph(NOTEBOOK_STATE, NOTEBOOK, { showAll: true });
    expect(all.nodes.map(n => n.id)).toEqual(['imp', 'a', 'b', 'c', 'p', 'm']);
    expect(all.hidden).toBe(0);
    expect(all.edges).toHaveLength(3);
    expectReadable(all);
  });

  it('titles nodes by their position and shows their first source line', () => {
    const layout = layoutGraph(NOTEBOOK_STATE, NOTEBOOK);
    expect(layout.nodes.map(n => [n.title, n.snippet, n.index])).toEqual([
      ['cell 2', 'a = 1', 1],
      ['cell 3', 'b = a * 10', 2],
      ['cell 4', 'c = a + b', 3]
    ]);
    expectReadable(layout);
    // Positions in the notebook, markdown cells counted, as the kernel names cells.
    const numbered = NOTEBOOK.map((c, i) => ({ ...c, position: 2 * i + 1 }));
    expect(layoutGraph(NOTEBOOK_STATE, numbered).nodes.map(n => n.title)).toEqual([
      'cell 3',
      'cell 5',
      'cell 7'
    ]);
  });

  it('carries each cell’s state and the kernel’s reason', () => {
    const states: CellStateName[] = [
      'ok',
      'stale',
      'edited',
      'new',
      'blocked',
      'error',
      'upstream-error',
      'untracked'
    ];
    const cells = states.map((s, i) => ({ id: `c${i}`, source: `x${i} = x0` }));
    const statuses: { [id: string]: Status } = {};
    states.forEach((s, i) => {
      statuses[`c${i}`] = {
        state: s,
        reason: `because ${s}`,
        reads: i ? { x0: 'c0' } : {}
      };
    });
    const layout = layoutGraph(state(statuses), cells);
    expect(layout.nodes.map(n => n.state)).toEqual(states);
    expect(layout.nodes.map(n => n.reason)).toEqual(states.map(s => `because ${s}`));
  });

  it('tolerates cells the kernel does not know and reads from unknown cells', () => {
    const cells = [
      { id: 'x', source: 'x = 1' },
      { id: 'y', source: 'y = x + ghost' },
      { id: 'fresh', source: 'z = y' }
    ];
    const layout = layoutGraph(
      state({
        x: ok(),
        // `ghost` is defined by a cell that is no longer in the notebook.
        y: ok({ x: 'x', ghost: 'deleted-cell' }, { upstream: ['x', 'deleted-cell'] }),
        // A cell the kernel has but the notebook no longer shows.
        gone: ok({ x: 'x' }),
        // Reads itself (`n += 1`): no edge.
        x2: { state: 'ok', reads: { n: 'x2' } }
      }),
      cells,
      { showAll: true }
    );
    expect(layout.edges.map(e => [e.from, e.to, e.label])).toEqual([['x', 'y', 'x']]);
    const fresh = layout.nodes.find(n => n.id === 'fresh')!;
    expect(fresh.state).toBe('new');
    expect(fresh.reason).toMatch(/not yet seen/);
    expectReadable(layout);

    // No state yet at all: nothing to draw, every cell counted as hidden.
    expect(layoutGraph(null, cells)).toMatchObject({ nodes: [], edges: [], hidden: 3 });
    // Entries without `reads` or `upstream`, and malformed `reads`.
    const odd = layoutGraph(
      state({
        x: { state: 'ok' },
        y: { state: 'stale', reads: 'x' as unknown as { [name: string]: string } }
      }),
      cells
    );
    expect(odd).toMatchObject({ nodes: [], edges: [], hidden: 3 });
  });

  it('falls back to `upstream` for edges, without labels, when the kernel sends no reads', () => {
    const cells = [
      { id: 'a', source: 'a = 1' },
      { id: 'b', source: 'b = a' }
    ];
    const layout = layoutGraph(
      state({ a: { state: 'ok', upstream: [] }, b: { state: 'stale', upstream: ['a'] } }),
      cells
    );
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0]).toMatchObject({ from: 'a', to: 'b', label: '', names: [] });
    expect(layout.edges[0].labelWidth).toBe(0);
    expectReadable(layout);
  });
});

describe('layoutGraph: a readable drawing', () => {
  it('fans out without overlaps: one cell read by six cells through different names', () => {
    // Labels wider than the readers' boxes (a reader calling a function reads the globals
    // its body reads): only dagre's label boxes keep them apart.
    const names = [
      'customer_records',
      'order_history_frame',
      'price_table',
      'regional_targets',
      'exchange_rates_daily',
      'discount_rules'
    ];
    const cells = [
      { id: 'src', source: 'customer_records, order_history_frame, ... = load()' },
      ...names.map((n, i) => ({ id: `r${i}`, source: `report${i}()` }))
    ];
    const statuses: { [id: string]: Status } = { src: ok() };
    names.forEach((n, i) => (statuses[`r${i}`] = ok({ [n]: 'src' })));
    const layout = layoutGraph(state(statuses), cells);
    expect(layout.nodes).toHaveLength(7);
    expect(layout.edges.map(e => e.label)).toEqual(names);
    expectReadable(layout);
    // The readers keep notebook order, left to right.
    const xs = layout.nodes.filter(n => n.id !== 'src').map(n => n.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
  });

  it('lays a chain out top to bottom without overlaps', () => {
    const cells = Array.from({ length: 8 }, (_, i) => ({
      id: `k${i}`,
      source: i ? `v${i} = v${i - 1} + 1` : 'v0 = 0'
    }));
    const statuses: { [id: string]: Status } = {};
    cells.forEach((c, i) => (statuses[c.id] = ok(i ? { [`v${i - 1}`]: `k${i - 1}` } : {})));
    const layout = layoutGraph(state(statuses), cells);
    expect(layout.nodes).toHaveLength(8);
    expectReadable(layout);
    const ys = layout.nodes.map(n => n.y);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(new Set(ys).size).toBe(8);
  });

  it('keeps a denser graph readable: diamonds, long edges and multi-name labels', () => {
    // n -> xs -> ys -> total -> mean, with n also read by mean and ys read by the plot.
    const cells = [
      { id: 'n', source: 'n = 50' },
      { id: 'xs', source: 'xs = list(range(n))' },
      { id: 'ys', source: 'ys = [x * x for x in xs]' },
      { id: 'total', source: 'total = sum(ys)' },
      { id: 'mean', source: 'mean = total / n' },
      { id: 'plot', source: 'plot(xs, ys, mean)' },
      { id: 'print', source: 'print(mean)' }
    ];
    const layout = layoutGraph(
      state({
        n: ok(),
        xs: ok({ n: 'n' }),
        ys: ok({ xs: 'xs' }),
        total: ok({ ys: 'ys' }),
        mean: ok({ total: 'total', n: 'n' }),
        plot: ok({ xs: 'xs', ys: 'ys', mean: 'mean' }),
        print: ok({ mean: 'mean' })
      }),
      cells
    );
    expect(layout.edges).toHaveLength(9);
    expectReadable(layout);
  });

  it('measures text with the given function (the view passes its font metrics)', () => {
    const seen: string[] = [];
    const layout = layoutGraph(NOTEBOOK_STATE, NOTEBOOK, {
      measure: (text, kind) => {
        seen.push(`${kind}:${text}`);
        return kind === 'label' ? 100 : 300;
      }
    });
    expect(seen).toContain('label:a');
    expect(seen).toContain('snippet:b = a * 10');
    expect(seen).toContain('title:cell 3');
    expect(layout.edges[0].labelWidth).toBeGreaterThanOrEqual(100);
    expect(layout.nodes[0].width).toBeGreaterThanOrEqual(300);
    expectReadable(layout);
  });
});

describe('snippetOf', () => {
  it('is the first non-empty line, trimmed, shortened with an ellipsis', () => {
    expect(snippetOf('\n\n   df = load()  \nmore')).toBe('df = load()');
    expect(snippetOf('')).toBe('');
    expect(snippetOf('  \n\t\n')).toBe('');
    const long = 'x = ' + 'a'.repeat(60);
    const cut = snippetOf(long);
    expect(cut).toHaveLength(40);
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, 39))).toBe(true);
    expect(snippetOf('y = 1\r\nz = 2')).toBe('y = 1');
  });
});
