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
  manual?: boolean;
  /** The cells it reads from (its downstream cells are those listing it here). */
  upstream?: string[];
  /** What its last run was seen to do in place, e.g. "changed `a` in place (through `b`)". */
  effects?: string[];
  /** Its stable human name, e.g. "cell 4 · df = df[df.y > 0]" (kernels before names: absent). */
  name?: string;
  /** The names it reads from other cells, each with the id of the cell defining it. */
  reads?: { [name: string]: string };
  /** FNV-1a of the source the kernel has for it (see `sourceHash`). */
  source_hash?: string;
  /** Its last run was refused: its output is a fresh BlockedCellError, not an old output. */
  refused?: boolean;
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
  /** Every cell's id, Markdown and raw cells too: the kernel numbers cells by it. */
  order?: string[];
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
  /**
   * Those of `cells` that are still in the notebook, as Markdown or raw cells: their code
   * is gone, the cell is not (the kernel ignores fields it does not know; it may word its
   * reasons by this).
   */
  converted?: string[];
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

/**
 * FNV-1a (32 bits) of a source over its UTF-16 code units, as 8 lowercase hex digits: the
 * kernel's `source_hash`, so that a view can tell whether the kernel has the source it shows.
 */
export function sourceHash(source: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) {
    h = Math.imul(h ^ source.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** How long a sent source waits for the kernel to confirm it before a differing
 * `source_hash` counts as another view's edit. */
export const CONFIRM_GRACE_MS = 3000;

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
  /**
   * The full `sync` for these cells; the mirror now holds them. `layout`: the ids of every
   * cell of the notebook, code or not, so that the kernel's "cell 4" is the fourth cell.
   */
  sync(cells: ICellSnapshot[], now = 0, layout?: readonly string[]): ISyncMessage {
    this._known = new Map(cells.map(c => [c.id, { ...c }]));
    this._order = cells.map(c => c.id);
    this._layout = layout ? [...layout] : [...this._order];
    this._sent.clear();
    for (const c of cells) {
      this._sent.set(c.id, { hash: sourceHash(c.source), at: now });
    }
    const msg: ISyncMessage = { type: 'sync', cells: cells.map(c => ({ ...c })) };
    if (layout) {
      msg.order = [...layout];
    }
    return msg;
  }

  /** Forget everything (a new kernel needs a full sync). */
  clear(): void {
    this._known.clear();
    this._order = [];
    this._layout = [];
    this._sent.clear();
  }

  get size(): number {
    return this._known.size;
  }

  has(id: string): boolean {
    return this._known.has(id);
  }

  /** The source last sent to the kernel for this cell (undefined: never sent). */
  sentSource(id: string): string | undefined {
    return this._known.get(id)?.source;
  }

  /**
   * Note the kernel's state entries: a `source_hash` equal to the one last sent confirms
   * that the kernel has that source.
   */
  confirm(cells: { [id: string]: ICellStatus }): void {
    for (const [id, status] of Object.entries(cells)) {
      const sent = this._sent.get(id);
      if (sent && status?.source_hash === sent.hash) {
        this._sent.delete(id);
      }
    }
  }

  /**
   * Whether a source sent for this cell may not have reached the kernel yet (sent less than
   * `CONFIRM_GRACE_MS` before `now` and not confirmed): a `source_hash` the kernel reports
   * meanwhile may predate it.
   */
  awaiting(id: string, now: number): boolean {
    const sent = this._sent.get(id);
    return !!sent && now - sent.at < CONFIRM_GRACE_MS;
  }

  /**
   * Cells the kernel knows that are gone from `cells`: a `delete` message (sent at once), or
   * null. The mirror forgets them. `nonCode`: ids of the notebook's Markdown and raw cells,
   * so that a code cell turned into one is reported as `converted`, not only deleted.
   */
  deletions(cells: ICellSnapshot[], nonCode?: ReadonlySet<string>): IDeleteMessage | null {
    const present = new Set(cells.map(c => c.id));
    const gone = this._order.filter(id => !present.has(id));
    if (!gone.length) {
      return null;
    }
    for (const id of gone) {
      this._known.delete(id);
      this._sent.delete(id);
    }
    this._order = this._order.filter(id => present.has(id));
    const msg: IDeleteMessage = { type: 'delete', cells: gone };
    const converted = nonCode ? gone.filter(id => nonCode.has(id)) : [];
    if (converted.length) {
      msg.converted = converted;
    }
    return msg;
  }

  /**
   * The `update` that brings the kernel to `cells` (changed sources or manual flags, the new
   * order when cells moved or were added, deletions not yet sent, always as a list), or
   * null when nothing changed. The mirror then holds `cells`. `force`: ids of cells to send
   * even if unchanged since last sent (the kernel has another view's source for them).
   * `layout`: every cell's id, code or not (see `sync`); its change is sent as the order.
   */
  update(
    cells: ICellSnapshot[],
    force: ReadonlySet<string> = new Set(),
    now = 0,
    layout?: readonly string[]
  ): IUpdateMessage | null {
    const msg: IUpdateMessage = { type: 'update' };
    const present = new Set(cells.map(c => c.id));
    const deleted = this._order.filter(id => !present.has(id));
    const changed = cells.filter(c => {
      const old = this._known.get(c.id);
      return (
        force.has(c.id) || !old || old.source !== c.source || old.manual !== c.manual
      );
    });
    const order = cells.map(c => c.id);
    const kept = this._order.filter(id => present.has(id));
    const sameOrder =
      kept.length === order.length && kept.every((id, i) => id === order[i]);
    const sameLayout =
      !layout ||
      (layout.length === this._layout.length && layout.every((id, i) => id === this._layout[i]));
    if (!sameOrder || !sameLayout) {
      msg.order = layout ? [...layout] : order;
    }
    if (layout) {
      this._layout = [...layout];
    }
    if (changed.length) {
      msg.cells = changed.map(c => ({ ...c }));
    }
    // `deleted` is always present (possibly empty): the kernel's first comm release
    // rejected an update without it.
    msg.deleted = deleted;
    this._known = new Map(cells.map(c => [c.id, { ...c }]));
    this._order = order;
    for (const id of deleted) {
      this._sent.delete(id);
    }
    for (const c of changed) {
      this._sent.set(c.id, { hash: sourceHash(c.source), at: now });
    }
    return msg.order || msg.cells || deleted.length ? msg : null;
  }

  private _known = new Map<string, ICellSnapshot>();
  private _order: string[] = [];
  private _layout: string[] = [];
  /** Sources sent and not yet confirmed by the kernel: their hash and when they were sent. */
  private _sent = new Map<string, { hash: string; at: number }>();
}

/**
 * Whether this view shows a source for a cell that the kernel does not have, although this
 * view has sent all its edits of it: another view (tab, window) sent its own since. False
 * while the kernel cannot tell (no `source_hash`), while this view has an edit not sent
 * yet, or while a sent source may not have reached the kernel (`awaiting`).
 */
export function divergesFromKernel(
  current: string,
  sent: string | undefined,
  kernelHash: string | undefined,
  awaiting: boolean,
  hash: (source: string) => string = sourceHash
): boolean {
  if (!kernelHash || sent === undefined || sent !== current || awaiting) {
    return false;
  }
  return hash(current) !== kernelHash;
}
