/**
 * The kernel <-> frontend protocol (docs/protocol.md), as types and pure payload builders.
 *
 * Nothing here touches JupyterLab: the widget glue feeds plain snapshots in and sends what
 * comes out over the comm.
 */

/** The comm target the reactive kernel registers. */
export const COMM_TARGET = 'reactive_kernel';

/** `kernel_info_reply.implementation` of a reactive kernel. */
export const KERNEL_IMPLEMENTATION = 'reactive_kernel';

/** Protocol version this frontend speaks. */
export const PROTOCOL_VERSION = 1;

/** The cell tag that opts a cell out of automatic runs. */
export const MANUAL_TAG = 'reactive-manual';

export type Mode = 'auto' | 'lazy' | 'off';
export const MODES: readonly Mode[] = ['auto', 'lazy', 'off'];

export type CellStateName =
  | 'ok'
  | 'stale'
  | 'edited'
  | 'new'
  | 'blocked'
  | 'error'
  | 'upstream-error'
  | 'untracked';

/** One cell's entry in a `state` message. */
export interface ICellStatus {
  state: CellStateName;
  reason?: string;
  label?: string;
  manual?: boolean;
  /** The cells it reads from (its downstream cells are those listing it here). */
  upstream?: string[];
  /** What its last run was seen to do in place, e.g. "changed `a` in place (through `b`)". */
  effects?: string[];
}

/**
 * Cell states. A `full` message holds every cell; otherwise only the cells whose entry
 * changed since the previous message, and the ids of cells `removed` from the kernel's graph.
 */
export interface IStateMessage {
  type: 'state';
  mode: Mode;
  full: boolean;
  cells: { [id: string]: ICellStatus };
  removed: string[];
}

export interface IRunMessage {
  type: 'run';
  cells: string[];
  request?: unknown;
  blocked?: string;
}

/** The kernel could not handle a message of ours (it does not say which). */
export interface IErrorMessage {
  type: 'error';
  message: string;
}

export type KernelMessage = IStateMessage | IRunMessage | IErrorMessage;

/** What the kernel is told about one code cell. */
export interface ICellSnapshot {
  id: string;
  source: string;
  manual: boolean;
}

export interface ISyncMessage {
  type: 'sync';
  cells: ICellSnapshot[];
}

export interface IUpdateMessage {
  type: 'update';
  order?: string[];
  cells?: ICellSnapshot[];
  deleted?: string[];
}

export interface IDeleteMessage {
  type: 'delete';
  cells: string[];
}

export interface IModeMessage {
  type: 'mode';
  mode: Mode;
}

export interface IPlanMessage {
  type: 'plan';
  cell: string;
  request: string;
}

export interface IRunStaleMessage {
  type: 'run_stale';
  request: string;
}

export interface IStateRequestMessage {
  type: 'state';
}

export type FrontendMessage =
  | ISyncMessage
  | IUpdateMessage
  | IDeleteMessage
  | IModeMessage
  | IPlanMessage
  | IRunStaleMessage
  | IStateRequestMessage;

/** The data of the `comm_open` this frontend sends. */
export function openData(runsCells = true): {
  protocol: number;
  runs_cells: boolean;
} {
  return { protocol: PROTOCOL_VERSION, runs_cells: runsCells };
}

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

/** Whether a cell's tags opt it out of automatic runs. */
export function isManual(tags: unknown): boolean {
  return Array.isArray(tags) && tags.includes(MANUAL_TAG);
}

/** The cell's tags with the manual tag set or removed (a new array; order kept). */
export function withManualTag(tags: unknown, manual: boolean): string[] {
  const list = Array.isArray(tags)
    ? tags.filter((t): t is string => typeof t === 'string')
    : [];
  const rest = list.filter(t => t !== MANUAL_TAG);
  return manual ? [...rest, MANUAL_TAG] : rest;
}

/** Parse a comm message's data; `null` for anything this frontend does not understand. */
export function parseKernelMessage(data: unknown): KernelMessage | null {
  if (!data || typeof data !== 'object') {
    return null;
  }
  const msg = data as { [key: string]: unknown };
  if (msg.type === 'state') {
    const cells =
      msg.cells && typeof msg.cells === 'object' && !Array.isArray(msg.cells)
        ? (msg.cells as { [id: string]: ICellStatus })
        : {};
    return {
      type: 'state',
      mode: isMode(msg.mode) ? msg.mode : 'auto',
      full: msg.full !== false, // kernels before partial updates sent every cell, always
      cells,
      removed: Array.isArray(msg.removed)
        ? msg.removed.filter((c): c is string => typeof c === 'string')
        : []
    };
  }
  if (msg.type === 'run') {
    const cells = Array.isArray(msg.cells)
      ? msg.cells.filter((c): c is string => typeof c === 'string')
      : [];
    return {
      type: 'run',
      cells,
      request: msg.request,
      blocked: typeof msg.blocked === 'string' ? msg.blocked : ''
    };
  }
  if (msg.type === 'error') {
    return { type: 'error', message: String(msg.message ?? '') };
  }
  return null;
}

/**
 * Every cell's state after `update`: the update itself if it is full, else `current` with
 * the update's cells replaced and its removed cells dropped (`current` is left unchanged).
 * Null when a partial update arrives with nothing to apply it to: ask for the full state.
 */
export function mergeState(
  current: IStateMessage | null,
  update: IStateMessage
): IStateMessage | null {
  if (update.full) {
    return update;
  }
  if (!current) {
    return null;
  }
  const cells = { ...current.cells, ...update.cells };
  for (const id of update.removed) {
    delete cells[id];
  }
  return { type: 'state', mode: update.mode, full: true, cells, removed: [] };
}

/**
 * What the kernel was last told about the notebook, and the messages that bring it up to
 * date. Pure bookkeeping: the glue hands it snapshots of the notebook's code cells.
 */
export class NotebookMirror {
  /** The full `sync` for these cells; the mirror now holds them. */
  sync(cells: ICellSnapshot[]): ISyncMessage {
    this._known = new Map(cells.map(c => [c.id, { ...c }]));
    this._order = cells.map(c => c.id);
    return { type: 'sync', cells: cells.map(c => ({ ...c })) };
  }

  /** Forget everything (a new kernel needs a full sync). */
  clear(): void {
    this._known.clear();
    this._order = [];
  }

  get size(): number {
    return this._known.size;
  }

  has(id: string): boolean {
    return this._known.has(id);
  }

  /**
   * Cells the kernel knows that are gone from `cells`: a `delete` message (sent at once), or
   * null. The mirror forgets them.
   */
  deletions(cells: ICellSnapshot[]): IDeleteMessage | null {
    const present = new Set(cells.map(c => c.id));
    const gone = this._order.filter(id => !present.has(id));
    if (!gone.length) {
      return null;
    }
    for (const id of gone) {
      this._known.delete(id);
    }
    this._order = this._order.filter(id => present.has(id));
    return { type: 'delete', cells: gone };
  }

  /**
   * The `update` that brings the kernel to `cells` (changed sources or manual flags, the new
   * order when cells moved or were added, deletions not yet sent, always as a list), or
   * null when nothing
   * changed. The mirror then holds `cells`.
   */
  update(cells: ICellSnapshot[]): IUpdateMessage | null {
    const msg: IUpdateMessage = { type: 'update' };
    const present = new Set(cells.map(c => c.id));
    const deleted = this._order.filter(id => !present.has(id));
    const changed = cells.filter(c => {
      const old = this._known.get(c.id);
      return !old || old.source !== c.source || old.manual !== c.manual;
    });
    const order = cells.map(c => c.id);
    const kept = this._order.filter(id => present.has(id));
    const sameOrder =
      kept.length === order.length && kept.every((id, i) => id === order[i]);
    if (!sameOrder) {
      msg.order = order;
    }
    if (changed.length) {
      msg.cells = changed.map(c => ({ ...c }));
    }
    // `deleted` is always present (possibly empty): the kernel's first comm release
    // rejected an update without it.
    msg.deleted = deleted;
    this._known = new Map(cells.map(c => [c.id, { ...c }]));
    this._order = order;
    return msg.order || msg.cells || deleted.length ? msg : null;
  }

  private _known = new Map<string, ICellSnapshot>();
  private _order: string[] = [];
}
