/**
 * How the kernel's per-cell state shows: CSS classes on the cell node, tooltips, the
 * status-bar text and the hover highlights. Pure functions of the `state` message.
 */
import type { CellStateName, ICellStatus, IStateMessage, Mode } from './protocol';

/** Class on the notebook node while it is connected to a reactive kernel. */
export const REACTIVE_NOTEBOOK_CLASS = 'jp-mod-reactive';

/** Class on a cell that reads from the hovered cell (directly or not). */
export const DOWNSTREAM_CLASS = 'jp-reactive-downstream';

/** Class on a cell the hovered cell reads from (directly or not). */
export const UPSTREAM_CLASS = 'jp-reactive-upstream';

/** Class on the hovered cell while its relatives are highlighted. */
export const HOVERED_CLASS = 'jp-reactive-hovered';

/** Class on a cell that opted out of automatic runs. */
export const MANUAL_CLASS = 'jp-reactive-manual';

/** The class each non-ok state puts on its cell. */
export const STATE_CLASSES: Readonly<Record<CellStateName, string | null>> = {
  ok: null,
  new: 'jp-reactive-new',
  stale: 'jp-reactive-stale',
  edited: 'jp-reactive-edited',
  blocked: 'jp-reactive-blocked',
  error: 'jp-reactive-error',
  'upstream-error': 'jp-reactive-upstreamError',
  untracked: 'jp-reactive-untracked'
};

/** Every class this extension may put on a cell node (to clear them). */
export const ALL_CELL_CLASSES: readonly string[] = [
  ...Object.values(STATE_CLASSES).filter((c): c is string => !!c),
  MANUAL_CLASS,
  DOWNSTREAM_CLASS,
  UPSTREAM_CLASS,
  HOVERED_CLASS
];

const LABELS: Readonly<Record<CellStateName, string>> = {
  ok: 'Up to date',
  new: 'Not run yet',
  stale: 'Stale',
  edited: 'Edited',
  blocked: 'Blocked',
  error: 'Failed',
  'upstream-error': 'Upstream error',
  untracked: 'Untracked'
};

/** States counted as "stale" in the status bar: cells whose output is out of date. */
export const OUT_OF_DATE: ReadonlySet<CellStateName> = new Set<CellStateName>([
  'stale',
  'edited'
]);

/** The classes a cell with this status carries (unknown states get none). */
export function classesFor(status: ICellStatus | undefined): string[] {
  if (!status) {
    return [];
  }
  const classes: string[] = [];
  const cls = STATE_CLASSES[status.state];
  if (cls) {
    classes.push(cls);
  }
  if (status.manual) {
    classes.push(MANUAL_CLASS);
  }
  return classes;
}

/** The tooltip of a cell with this status: the state and the kernel's reason, what its last
 * run was seen to change in place, or ''. */
export function tooltipFor(status: ICellStatus | undefined): string {
  if (!status) {
    return '';
  }
  const parts: string[] = [];
  if (status.state !== 'ok') {
    const label = LABELS[status.state] ?? String(status.state);
    parts.push(status.reason ? `${label}: ${status.reason}` : label);
  } else if (status.reason) {
    // e.g. "re-ran, values unchanged: dependents kept" (early cutoff)
    parts.push(`Up to date: ${status.reason}`);
  }
  if (status.manual) {
    parts.push('Manual: not re-run automatically (tag reactive-manual)');
  }
  for (const effect of status.effects ?? []) {
    parts.push(`Last run ${effect}`);
  }
  return parts.join('\n');
}

/** How many cells are out of date. */
export function staleCount(state: IStateMessage | null): number {
  if (!state) {
    return 0;
  }
  return Object.values(state.cells).filter(s => OUT_OF_DATE.has(s.state)).length;
}

/** The status-bar text for a notebook's state. */
export function statusText(state: IStateMessage | null): string {
  if (!state) {
    return 'Reactive';
  }
  const n = staleCount(state);
  return n ? `Reactive: ${state.mode} · ${n} stale` : `Reactive: ${state.mode}`;
}

/** The status-bar tooltip. */
export function statusTitle(state: IStateMessage | null): string {
  if (!state) {
    return 'Reactive kernel: connecting…';
  }
  const n = staleCount(state);
  const counts = n
    ? `${n} cell${n === 1 ? '' : 's'} out of date (stale or edited).`
    : 'All cells up to date.';
  return `Reactive kernel, mode ${state.mode}. ${counts} Click to run stale cells.`;
}

/** The mode the toolbar toggle switches to. */
export function nextMode(mode: Mode | undefined): Mode {
  return mode === 'auto' ? 'lazy' : 'auto';
}

/**
 * The cells to highlight while `id` is hovered: everything upstream and downstream of it,
 * following the kernel's (direct) edges transitively. Downstream edges are the upstream
 * edges reversed.
 */
export function relatives(
  state: IStateMessage | null,
  id: string
): { upstream: Set<string>; downstream: Set<string> } {
  const cells = state?.cells ?? {};
  const readers = new Map<string, string[]>();
  for (const [reader, status] of Object.entries(cells)) {
    for (const source of status.upstream ?? []) {
      readers.set(source, [...(readers.get(source) ?? []), reader]);
    }
  }
  const walk = (next: (cell: string) => string[]): Set<string> => {
    const seen = new Set<string>();
    const todo = [...next(id)];
    while (todo.length) {
      const cell = todo.pop()!;
      if (cell === id || seen.has(cell)) {
        continue;
      }
      seen.add(cell);
      todo.push(...next(cell));
    }
    return seen;
  };
  return {
    upstream: walk(cell => cells[cell]?.upstream ?? []),
    downstream: walk(cell => readers.get(cell) ?? [])
  };
}
