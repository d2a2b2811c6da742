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

/** Class on a cell whose last run was refused: its output is that refusal, not dimmed. */
export const REFUSED_CLASS = 'jp-reactive-refused';

/** Class on a cell the kernel reports `new` that still shows an output or count from before. */
export const NOT_RUN_CLASS = 'jp-reactive-notRun';

/** Class (with the edited class) on a cell whose source differs from the kernel's. */
export const DIVERGED_CLASS = 'jp-reactive-diverged';

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
  REFUSED_CLASS,
  NOT_RUN_CLASS,
  DIVERGED_CLASS,
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

/**
 * Why a cell's shown output may not be what a fresh top-to-bottom run shows. Every kernel
 * state but `ok` and `new`, plus two the view sees itself: `not-run` (the kernel has not run
 * it, yet it shows an output or count from before: after a restart, or a notebook opened
 * with old outputs) and `diverged` (the kernel has another view's source for it).
 */
export type MarkKind =
  | 'stale'
  | 'edited'
  | 'diverged'
  | 'not-run'
  | 'blocked'
  | 'error'
  | 'upstream-error'
  | 'untracked';

/** The kinds, in the order the status tooltip lists them. */
export const MARK_KINDS: readonly MarkKind[] = [
  'stale',
  'edited',
  'diverged',
  'not-run',
  'blocked',
  'error',
  'upstream-error',
  'untracked'
];

/** The kinds "Run Stale Cells" runs (the kernel's run_stale plans these). */
export const RUNNABLE_KINDS: ReadonlySet<MarkKind> = new Set<MarkKind>([
  'stale',
  'edited',
  'diverged',
  'not-run'
]);

/** How each kind is counted in the status tooltip: "2 stale", "1 failed". */
const COUNT_WORDS: Readonly<Record<MarkKind, string>> = {
  stale: 'stale',
  edited: 'edited',
  diverged: 'edited in another view',
  'not-run': 'not run since restart',
  blocked: 'blocked',
  error: 'failed',
  'upstream-error': 'upstream error',
  untracked: 'untracked'
};

/** What this view knows about a cell besides the kernel's entry. */
export interface ICellFacts {
  /** It shows an execution count or outputs. */
  showsOutput?: boolean;
  /** Its source here differs from the kernel's and this view has no edit of it pending. */
  diverged?: boolean;
  /** The kernel restarted (or changed) since this view connected. */
  restarted?: boolean;
}

/** A cell's mark: its kind, the first line of its tooltip's label and why. */
export interface IMark {
  kind: MarkKind;
  label: string;
  reason: string;
}

/** The reason given to a cell this view's source of which the kernel does not have. */
export const DIVERGED_REASON =
  "this view's source differs from the kernel's (edited in another tab or window)";

/** The mark a cell carries, or null when what it shows is what a fresh run shows. */
export function markFor(
  status: ICellStatus | undefined,
  facts: ICellFacts = {}
): IMark | null {
  if (facts.diverged) {
    return { kind: 'diverged', label: 'Edited', reason: DIVERGED_REASON };
  }
  if (!status || status.state === 'ok') {
    return null;
  }
  if (status.state === 'new') {
    if (!facts.showsOutput) {
      return null; // never run, shows nothing: nothing on screen lies
    }
    return facts.restarted
      ? {
          kind: 'not-run',
          label: 'Not run since the kernel restarted',
          reason: 'the output shown is from before'
        }
      : {
          kind: 'not-run',
          label: 'Not run by this kernel',
          reason: 'the output shown is from an earlier session'
        };
  }
  const label = LABELS[status.state];
  if (!label) {
    return null; // a state this frontend does not know
  }
  return { kind: status.state, label, reason: status.reason ?? '' };
}

/** The classes a cell with this status (and these facts) carries. */
export function classesFor(status: ICellStatus | undefined, facts: ICellFacts = {}): string[] {
  const classes: string[] = [];
  const mark = markFor(status, facts);
  if (mark?.kind === 'diverged') {
    classes.push(STATE_CLASSES.edited!, DIVERGED_CLASS);
  } else if (mark?.kind === 'not-run') {
    classes.push(NOT_RUN_CLASS);
  } else if (status) {
    const cls = STATE_CLASSES[status.state];
    if (cls) {
      classes.push(cls);
    }
  }
  if (status?.refused && mark?.kind !== 'diverged') {
    classes.push(REFUSED_CLASS);
  }
  if (status?.manual) {
    classes.push(MANUAL_CLASS);
  }
  return classes;
}

/** "Label: reason", or just one of them when the reason says no more than the label. */
function stateLine(label: string, reason: string | undefined): string {
  const text = (reason ?? '').trim();
  if (!text) {
    return label;
  }
  const norm = (t: string) => t.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  if (norm(text) === norm(label)) {
    return label;
  }
  if (text.toLowerCase().startsWith(label.toLowerCase() + ':')) {
    return text[0].toUpperCase() + text.slice(1); // "Not run yet: run it first"
  }
  return `${label}: ${text}`;
}

/** The tooltip of a cell with this status: its mark (or state) and why, what its last
 * run was seen to change in place, or ''. */
export function tooltipFor(status: ICellStatus | undefined, facts: ICellFacts = {}): string {
  const parts: string[] = [];
  const mark = markFor(status, facts);
  if (mark) {
    parts.push(stateLine(mark.label, mark.reason));
    if (mark.kind === 'diverged' && status && status.state !== 'ok') {
      parts.push(`The kernel's source: ${stateLine(LABELS[status.state] ?? status.state, status.reason)}`);
    }
  } else if (status && status.state !== 'ok') {
    const label = LABELS[status.state] ?? String(status.state);
    parts.push(stateLine(label, status.reason));
  } else if (status?.reason) {
    // e.g. "re-ran, values unchanged: dependents kept" (early cutoff)
    parts.push(`Up to date: ${status.reason}`);
  }
  if (status?.manual) {
    parts.push('Manual: not re-run automatically (tag reactive-manual)');
  }
  for (const effect of status?.effects ?? []) {
    parts.push(`Last run ${effect}`);
  }
  return parts.join('\n');
}

/** How many cells carry each kind of mark. */
export type MarkCounts = Partial<Record<MarkKind, number>>;

/** Count marks by kind (nulls are cells that carry none). */
export function countMarks(marks: Iterable<IMark | null | undefined>): MarkCounts {
  const counts: MarkCounts = {};
  for (const mark of marks) {
    if (mark) {
      counts[mark.kind] = (counts[mark.kind] ?? 0) + 1;
    }
  }
  return counts;
}

/** The counts from the kernel's state alone (what a view with no outputs would show). */
export function stateCounts(state: IStateMessage | null): MarkCounts {
  return countMarks(Object.values(state?.cells ?? {}).map(s => markFor(s)));
}

/** How many cells are out of date (of the given kinds; all by default). */
export function outOfDateCount(
  counts: MarkCounts,
  kinds: Iterable<MarkKind> = MARK_KINDS
): number {
  let n = 0;
  for (const kind of kinds) {
    n += counts[kind] ?? 0;
  }
  return n;
}

/** "2 stale, 1 blocked, 1 failed" ('' when nothing is out of date). */
export function countsText(counts: MarkCounts): string {
  return MARK_KINDS.filter(k => (counts[k] ?? 0) > 0)
    .map(k => {
      const n = counts[k]!;
      const word = k === 'upstream-error' && n > 1 ? 'upstream errors' : COUNT_WORDS[k];
      return `${n} ${word}`;
    })
    .join(', ');
}

/** The short count shown in the status bar and the toolbar: "4 out of date" or ''. */
export function countLabel(counts: MarkCounts): string {
  const n = outOfDateCount(counts);
  return n ? `${n} out of date` : '';
}

/** The status-bar text for a notebook's state (counts: its marks, as this view shows them). */
export function statusText(
  state: IStateMessage | null,
  counts: MarkCounts = stateCounts(state)
): string {
  if (!state) {
    return 'Reactive';
  }
  const label = countLabel(counts);
  return label ? `Reactive: ${state.mode} · ${label}` : `Reactive: ${state.mode}`;
}

/** The status-bar tooltip: the counts per kind, or that every cell is up to date. */
export function statusTitle(
  state: IStateMessage | null,
  counts: MarkCounts = stateCounts(state)
): string {
  if (!state) {
    return 'Reactive kernel: connecting…';
  }
  return `Reactive kernel, mode ${state.mode}.\n${countsTitle(counts)}`;
}

/** The counts per kind and what a click does, or "All cells up to date." */
export function countsTitle(counts: MarkCounts): string {
  const text = countsText(counts);
  return text ? `${text}; click to run stale cells.` : 'All cells up to date.';
}

/** The label of the "Run Stale Cells" command, with how many cells it would run. */
export function runStaleLabel(counts: MarkCounts): string {
  const n = outOfDateCount(counts, RUNNABLE_KINDS);
  return n ? `Run Stale Cells (${n})` : 'Run Stale Cells';
}

/** One link of a cell's popup: the names it reads from one upstream cell. */
export interface IUpstreamLink {
  /** The upstream cell's id. */
  id: string;
  names: string[];
  /** "`a`, `b` ← cell 1 · a = 1" */
  text: string;
}

/**
 * The cells a cell reads from, one link per cell, in the order of its `reads` (then any
 * `upstream` cell not in them), each saying which names come from it.
 */
export function upstreamLinks(
  state: IStateMessage | null,
  id: string
): IUpstreamLink[] {
  const status = state?.cells[id];
  if (!status) {
    return [];
  }
  const byCell = new Map<string, string[]>();
  for (const [name, definer] of Object.entries(status.reads ?? {})) {
    if (typeof definer === 'string') {
      byCell.set(definer, [...(byCell.get(definer) ?? []), name]);
    }
  }
  for (const up of status.upstream ?? []) {
    if (!byCell.has(up)) {
      byCell.set(up, []);
    }
  }
  return [...byCell.entries()].map(([cell, names]) => {
    const target = state?.cells[cell]?.name ?? 'a cell above';
    const what = names.map(n => `\`${n}\``).join(', ');
    return { id: cell, names, text: what ? `${what} ← ${target}` : `← ${target}` };
  });
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

/** What a marked cell's popup shows. */
export interface IPopupContent {
  /** The cell's name ("cell 4 · df = …"), or "This cell" when the kernel gives none. */
  title: string;
  /** Its mark and the full reason, one line each (the tooltip without the effects). */
  reasons: string[];
  /** What its last run was seen to do in place ("changed `a` in place (through `b`)"). */
  effects: string[];
  links: IUpstreamLink[];
}

/** The popup of cell `id`: its name, why it is marked, its effects and its inputs' cells. */
export function popupContent(
  state: IStateMessage | null,
  id: string,
  facts: ICellFacts = {}
): IPopupContent {
  const status = state?.cells[id];
  const reasons = tooltipFor(status ? { ...status, effects: [] } : undefined, facts);
  return {
    title: status?.name ?? 'This cell',
    reasons: reasons ? reasons.split('\n') : ['Up to date'],
    effects: [...(status?.effects ?? [])],
    links: upstreamLinks(state, id)
  };
}
