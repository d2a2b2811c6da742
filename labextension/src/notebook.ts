/**
 * The glue between one notebook document and a reactive kernel: the comm, the mirror of the
 * notebook the kernel knows, the marks on the cells, and the cells this client runs.
 *
 * One `ReactiveNotebook` exists per document context (all views of a notebook share the
 * kernel connection, so they must share one comm too). The kernel decides everything; this
 * class reports the notebook as it is and executes what it is told to.
 */
import type { ISessionContext } from '@jupyterlab/apputils';
import { Notification } from '@jupyterlab/apputils';
import { type Cell, CodeCell, type ICodeCellModel } from '@jupyterlab/cells';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  type INotebookCellExecutor,
  type INotebookModel,
  type NotebookPanel,
  runCell as defaultRunCell
} from '@jupyterlab/notebook';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';

import { Debouncer } from './debounce';
import {
  ALL_CELL_CLASSES,
  classesFor,
  countMarks,
  DOWNSTREAM_CLASS,
  HOVERED_CLASS,
  type ICellFacts,
  type IMark,
  type MarkCounts,
  markFor,
  MARK_KINDS,
  popupContent,
  REACTIVE_NOTEBOOK_CLASS,
  relatives,
  tooltipFor,
  UPSTREAM_CLASS
} from './marks';
import { CellPopup } from './popup';
import {
  COMM_TARGET,
  CONFIRM_GRACE_MS,
  divergesFromKernel,
  type FrontendMessage,
  type ICellSnapshot,
  type IRunMessage,
  type IStateMessage,
  isManual,
  isMode,
  KERNEL_IMPLEMENTATION,
  type Mode,
  NotebookMirror,
  openData,
  mergeState,
  parseKernelMessage,
  sourceHash,
  withManualTag
} from './protocol';
import { PendingRequests, RunQueue, splitPlan } from './runqueue';

/** How long to wait, after the last keystroke, before sending an `update`. */
export const UPDATE_DELAY_MS = 400;

/** How long to wait for the kernel's `plan` answer before letting it run the cell itself. */
export const PLAN_TIMEOUT_MS = 5000;

/** How long to wait for the answer to "run stale cells". */
export const RUN_STALE_TIMEOUT_MS = 30000;

/** How long after a change of the notebook (outputs cleared, a count set) marks are redone. */
export const MARKS_DELAY_MS = 100;

type Context = DocumentRegistry.IContext<INotebookModel>;

/** Whether the cell's last run was stopped by the user (its output ends in KeyboardInterrupt). */
function interrupted(cell: Cell): boolean {
  if (cell.isDisposed || cell.model.type !== 'code') {
    return false;
  }
  const outputs = (cell.model as ICodeCellModel).outputs;
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs.get(i);
    if (output.type === 'error') {
      return (output.toJSON() as { ename?: string }).ename === 'KeyboardInterrupt';
    }
  }
  return false;
}

export class ReactiveNotebook implements IDisposable {
  constructor(readonly context: Context) {
    this._queue = new RunQueue({
      run: id => this._runDriven(id),
      order: () => this._snapshot().map(c => c.id)
    });
    this._debouncer = new Debouncer(() => this._sendUpdate(), UPDATE_DELAY_MS);
    const sc = context.sessionContext;
    sc.kernelChanged.connect(this._onKernelChanged, this);
    sc.statusChanged.connect(this._onStatusChanged, this);
    void context.ready.then(() => {
      if (this.isDisposed) {
        return;
      }
      context.model.contentChanged.connect(this._onContentChanged, this);
      context.model.cells.changed.connect(this._onCellsChanged, this);
      void this._connect();
    });
  }

  /** Emitted when the state, the mode or whether the kernel is reactive changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether the notebook's kernel is reactive and the comm is up (a state arrived). */
  get active(): boolean {
    return this._comm !== null && this._state !== null;
  }

  /** The kernel's last `state` message, while active. */
  get state(): IStateMessage | null {
    return this.active ? this._state : null;
  }

  get mode(): Mode | undefined {
    return this._state?.mode;
  }

  /** How many cells of this notebook carry each kind of mark (as this view shows them). */
  get counts(): MarkCounts {
    return this.active ? this._counts : {};
  }

  /** The mark a cell carries in this view, or null. */
  markOf(id: string): IMark | null {
    return this._marks.get(id) ?? null;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The views of this notebook. */
  get panels(): readonly NotebookPanel[] {
    return [...this._panels];
  }

  /** Show marks on another view of the notebook. */
  addPanel(panel: NotebookPanel): void {
    if (this._panels.has(panel)) {
      return;
    }
    this._panels.add(panel);
    panel.content.toggleClass(REACTIVE_NOTEBOOK_CLASS, this._comm !== null);
    const node = panel.content.node;
    const over = (event: MouseEvent) => this._onMouseOver(panel, event);
    const leave = () => this._clearHover(panel);
    const click = (event: MouseEvent) => this._onClick(panel, event);
    node.addEventListener('mouseover', over);
    node.addEventListener('mouseleave', leave);
    node.addEventListener('click', click);
    panel.disposed.connect(() => {
      node.removeEventListener('mouseover', over);
      node.removeEventListener('mouseleave', leave);
      node.removeEventListener('click', click);
      if (this._popup?.panel === panel) {
        this._closePopup();
      }
      this._panels.delete(panel);
      if (!this._panels.size) {
        this.dispose();
      }
    });
    this._applyMarks();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._disconnect(true);
    this._closePopup();
    if (this._marksTimer !== null) {
      clearTimeout(this._marksTimer);
      this._marksTimer = null;
    }
    this._debouncer.dispose();
    this._queue.dispose();
    Signal.clearData(this);
  }

  // -- commands --------------------------------------------------------------------------

  /** Switch the mode, remember it in the notebook metadata, tell the kernel. */
  setMode(mode: Mode): void {
    const model = this.context.model;
    const old = model.getMetadata('reactive');
    const meta = old && typeof old === 'object' && !Array.isArray(old) ? old : {};
    model.setMetadata('reactive', { ...meta, mode });
    this._send({ type: 'mode', mode });
  }

  /** Toggle the `reactive-manual` tag of a code cell (and tell the kernel at once). */
  toggleManual(cell: Cell): boolean {
    const model = cell.model;
    const tags = model.getMetadata('tags');
    const manual = !isManual(tags);
    const next = withManualTag(tags, manual);
    if (next.length) {
      model.setMetadata('tags', next);
    } else {
      model.deleteMetadata('tags');
    }
    this.flush();
    return manual;
  }

  /** Ask the kernel for every stale cell that can run, and run them, each in its cell. */
  runStale(): Promise<boolean> {
    if (!this.active) {
      return Promise.resolve(false);
    }
    return this._queue.enqueue(async () => {
      this.flush();
      let answer: IRunMessage;
      try {
        answer = await this._ask({ type: 'run_stale' }, RUN_STALE_TIMEOUT_MS);
      } catch (reason) {
        Notification.warning(
          `Could not run stale cells: ${(reason as Error).message}`,
          { autoClose: 5000 }
        );
        return false;
      }
      if (answer.blocked) {
        Notification.warning(answer.blocked, { autoClose: 8000 });
      }
      if (!answer.cells.length) {
        if (!answer.blocked) {
          Notification.info('No stale cells to run.', { autoClose: 3000 });
        }
        return !answer.blocked;
      }
      return this._queue.runNow(answer.cells);
    }, false);
  }

  /**
   * Send pending edits and deletions now (before anything runs), and this view's source of
   * every cell whose kernel source came from another view: what runs is what this view
   * shows.
   */
  flush(): void {
    if (this._deletionTimer !== null) {
      clearTimeout(this._deletionTimer);
      this._deletionTimer = null;
    }
    this._debouncer.cancel();
    if (!this._comm) {
      return;
    }
    this._checkDeletions();
    this._sendUpdate(this._divergedIds());
  }

  /**
   * The cell executor's entry point for a code cell of this notebook (Shift+Enter, the run
   * button, Run All...): run the cells the kernel plans before it (stale inputs and, in
   * auto mode, other out-of-date cells above it), each in its own cell, then run the cell
   * as JupyterLab does, even when one of those failed. What else must run comes from the
   * kernel's `run` messages.
   */
  runCell(options: INotebookCellExecutor.IRunCellOptions): Promise<boolean> {
    if (!this.active || options.cell.model.type !== 'code') {
      return defaultRunCell(options);
    }
    const id = options.cell.model.id;
    const cell = options.cell;
    // Like JupyterLab's own queue, a cell waiting for its turn shows [*].
    const waiting = this._queue.busy;
    if (waiting) {
      cell.setPrompt('*');
    }
    const restorePrompt = () => {
      if (!cell.isDisposed) {
        const count = (cell.model as ICodeCellModel).executionCount;
        cell.setPrompt(count === null ? '' : `${count}`);
      }
    };
    const result = this._queue.enqueue<boolean | null>(async () => {
      const epoch = this._queue.epoch;
      this._queue.ran(id);
      const sc = this.context.sessionContext;
      if (this.active && !sc.isTerminating && !sc.pendingInput && !sc.hasNoKernel) {
        this.flush();
        let plan: IRunMessage | null = null;
        try {
          plan = await this._ask({ type: 'plan', cell: id }, PLAN_TIMEOUT_MS);
        } catch {
          plan = null; // the kernel will pull stale inputs itself, inside this cell
        }
        if (plan && !plan.blocked) {
          // In auto mode `before` may also hold unrelated out-of-date cells above this one.
          const { before } = splitPlan(plan.cells, id);
          if (before.length && !(await this._queue.runNow(before))) {
            // One of them failed (the kernel sends what is still to run after it). Run the
            // requested cell anyway: the kernel runs it if it does not need the failed
            // cell, else refuses it with an error naming that cell, in this cell.
            if (this._queue.epoch !== epoch) {
              return null; // aborted meanwhile (interrupted, kernel restarted)
            }
          }
        }
        // A blocked plan: run it anyway, the kernel refuses it with a clear error.
      }
      // It runs now: the kernel may have listed it meanwhile (after a failed input).
      this._queue.ran(id);
      let ok: boolean;
      try {
        ok = await defaultRunCell(options);
      } catch (reason) {
        this._queue.abort();
        throw reason;
      }
      if (!ok && interrupted(cell)) {
        // The user stopped it: like the kernel on its own, run nothing more (not the rest
        // of the batch, not what the kernel listed after it).
        this._queue.abort();
      }
      return ok;
    }, null);
    return result.then(ran => {
      if (ran === null) {
        restorePrompt(); // dropped: the batch was stopped (interrupted, restarted, threw)
        return false;
      }
      return ran;
    });
  }

  // -- connection ------------------------------------------------------------------------

  private _onKernelChanged(
    sc: ISessionContext,
    change: { oldValue: Kernel.IKernelConnection | null }
  ): void {
    if (change.oldValue) {
      this._restarted = true; // outputs shown now come from the previous kernel
    }
    this._disconnect(false);
    void this._connect();
  }

  private _onStatusChanged(sc: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._restarted = true;
      this._disconnect(false);
      this._reconnect = true;
    } else if (this._reconnect && (status === 'idle' || status === 'busy')) {
      this._reconnect = false;
      void this._connect();
    }
  }

  private async _connect(): Promise<void> {
    const generation = ++this._generation;
    const kernel = this.context.sessionContext.session?.kernel;
    if (!kernel || this._disposed) {
      return;
    }
    let info: KernelMessage.IInfoReply;
    try {
      info = await kernel.info;
      await this.context.ready;
    } catch {
      return;
    }
    if (generation !== this._generation || this._disposed || kernel.isDisposed) {
      return;
    }
    if (info.implementation !== KERNEL_IMPLEMENTATION) {
      return; // a plain kernel: show nothing
    }
    let comm: Kernel.IComm;
    try {
      comm = kernel.createComm(COMM_TARGET);
    } catch (reason) {
      console.warn('reactive-kernel: cannot open the comm', reason);
      return;
    }
    this._comm = comm;
    comm.onMsg = msg => this._onCommMsg(comm, msg);
    comm.onClose = () => {
      if (this._comm === comm) {
        this._disconnect(false);
      }
    };
    this._setReactive(true);
    comm.open(openData(true));
    const remembered = (this.context.model.getMetadata('reactive') as any)?.mode;
    if (isMode(remembered)) {
      this._send({ type: 'mode', mode: remembered });
    }
    this._send(this._mirror.sync(this._snapshot(), Date.now(), this._layout()));
    this._scheduleMarksAfterGrace();
  }

  /** Forget the comm and every mark (kernel restart, change, close). */
  private _disconnect(closeComm: boolean): void {
    this._generation++;
    const comm = this._comm;
    this._comm = null;
    if (comm && closeComm && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // the kernel is gone
      }
    }
    this._mirror.clear();
    this._hashes.clear();
    this._requests.rejectAll(new Error('the reactive kernel went away'));
    this._queue.abort();
    this._debouncer.cancel();
    const had = this._state !== null;
    this._state = null;
    this._setReactive(false);
    this._applyMarks();
    if (had || comm) {
      this._changed.emit();
    }
  }

  private _setReactive(on: boolean): void {
    for (const panel of this._panels) {
      panel.content.toggleClass(REACTIVE_NOTEBOOK_CLASS, on);
    }
  }

  private _onCommMsg(comm: Kernel.IComm, msg: KernelMessage.ICommMsgMsg): void {
    if (comm !== this._comm) {
      return;
    }
    const data = parseKernelMessage(msg.content.data);
    if (!data) {
      return;
    }
    if (data.type === 'state') {
      const merged = mergeState(this._state, data);
      if (!merged) {
        this._send({ type: 'state' }); // an update to nothing: ask for every cell's state
        return;
      }
      this._state = merged;
      this._mirror.confirm(data.cells);
      this._applyMarks();
      this._changed.emit();
      return;
    }
    if (data.type === 'error') {
      // The kernel does not say which message failed: give up on the pending requests,
      // so that runs fall back to the kernel's own handling instead of waiting.
      console.warn(`reactive-kernel: the kernel says: ${data.message}`);
      this._requests.rejectAll(new Error(data.message));
      return;
    }
    if (this._requests.resolve(data.request, data)) {
      return;
    }
    if (data.request === undefined || data.request === null) {
      // Cells the kernel wants run to keep the notebook consistent (after a cell this
      // client ran, a failed run, a deletion, an edit or a mode switch it reported): run
      // them once this client's runs are done, each in its own cell.
      if (!data.blocked && data.cells.length) {
        this._queue.defer(data.cells);
      }
    }
    // Otherwise: the answer to a request given up on; ignore it.
  }

  private _send(msg: FrontendMessage): void {
    const comm = this._comm;
    if (!comm || comm.isDisposed) {
      return;
    }
    try {
      comm.send(msg as any);
    } catch (reason) {
      console.warn('reactive-kernel: cannot send', msg.type, reason);
    }
  }

  private _ask(
    msg: { type: 'plan'; cell: string } | { type: 'run_stale' },
    timeout: number
  ): Promise<IRunMessage> {
    if (!this._comm) {
      return Promise.reject(new Error('not connected'));
    }
    const { id, promise } = this._requests.create();
    this._send({ ...msg, request: id });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this._requests.forget(id);
        reject(new Error('the kernel did not answer in time'));
      }, timeout);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }

  // -- the notebook as the kernel should know it -----------------------------------------

  private _snapshot(): ICellSnapshot[] {
    const cells = this.context.model?.cells;
    const out: ICellSnapshot[] = [];
    if (!cells) {
      return out;
    }
    for (let i = 0; i < cells.length; i++) {
      const cell = cells.get(i);
      if (cell.type === 'code') {
        out.push({
          id: cell.id,
          source: cell.sharedModel.getSource(),
          manual: isManual(cell.getMetadata('tags'))
        });
      }
    }
    return out;
  }

  private _onContentChanged(): void {
    if (!this._comm) {
      return;
    }
    // A move is a removal and an insertion of the same id: look at deletions once the
    // change is complete, so that only real deletions are sent (at once, not debounced).
    if (this._deletionTimer === null) {
      this._deletionTimer = setTimeout(() => {
        this._deletionTimer = null;
        this._checkDeletions();
      }, 0);
    }
    this._debouncer.schedule();
    this._scheduleMarks();
  }

  /** Redo the marks soon (outputs or counts changed: a cell may show or stop showing an
   * old output; a source was typed: a pending edit is not another view's). */
  private _scheduleMarks(delay = MARKS_DELAY_MS): void {
    if (this._marksTimer !== null || this._disposed) {
      return;
    }
    this._marksTimer = setTimeout(() => {
      this._marksTimer = null;
      this._applyMarks();
    }, delay);
  }

  /** After sending sources, look again once the kernel has had time to confirm them. */
  private _scheduleMarksAfterGrace(): void {
    setTimeout(() => {
      if (!this._disposed) {
        this._applyMarks();
      }
    }, CONFIRM_GRACE_MS + 50);
  }

  private _onCellsChanged(): void {
    // New cell widgets are created after the model changes: mark them once they exist.
    setTimeout(() => this._applyMarks(), 0);
  }

  private _checkDeletions(): void {
    const msg = this._mirror.deletions(this._snapshot(), this._nonCodeIds());
    if (msg) {
      this._send(msg);
    }
  }

  /** Every cell's id in notebook order, code or not: the kernel numbers cells by it. */
  private _layout(): string[] {
    const cells = this.context.model?.cells;
    const ids: string[] = [];
    for (let i = 0; cells && i < cells.length; i++) {
      ids.push(cells.get(i).id);
    }
    return ids;
  }

  /** Ids of the notebook's Markdown and raw cells (a code cell converted keeps its id). */
  private _nonCodeIds(): Set<string> {
    const ids = new Set<string>();
    const cells = this.context.model?.cells;
    for (let i = 0; cells && i < cells.length; i++) {
      const cell = cells.get(i);
      if (cell.type !== 'code') {
        ids.add(cell.id);
      }
    }
    return ids;
  }

  private _sendUpdate(force?: ReadonlySet<string>): void {
    if (!this._comm) {
      return;
    }
    const msg = this._mirror.update(this._snapshot(), force, Date.now(), this._layout());
    if (msg) {
      this._send(msg);
      if (msg.cells?.length) {
        this._scheduleMarksAfterGrace();
      }
    }
  }

  /** Code cells whose source here differs from the kernel's, with no edit of ours pending. */
  private _divergedIds(): Set<string> {
    const ids = new Set<string>();
    const state = this.state;
    if (!state) {
      return ids;
    }
    const now = Date.now();
    for (const cell of this._snapshot()) {
      if (this._diverges(cell.id, cell.source, state, now)) {
        ids.add(cell.id);
      }
    }
    return ids;
  }

  private _diverges(id: string, source: string, state: IStateMessage, now: number): boolean {
    return divergesFromKernel(
      source,
      this._mirror.sentSource(id),
      state.cells[id]?.source_hash,
      this._mirror.awaiting(id, now),
      s => this._hash(id, s)
    );
  }

  /** The hash of a cell's source, cached while the source stays the same. */
  private _hash(id: string, source: string): string {
    const cached = this._hashes.get(id);
    if (cached && cached.source === source) {
      return cached.hash;
    }
    const hash = sourceHash(source);
    this._hashes.set(id, { source, hash });
    return hash;
  }

  // -- running ---------------------------------------------------------------------------

  private _findCell(id: string): Cell | null {
    for (const panel of this._panels) {
      const cell = panel.content.widgets.find(w => w.model.id === id);
      if (cell) {
        return cell;
      }
    }
    return null;
  }

  /** Execute one cell as the kernel asked (`driven`: no pulls, no cascade). */
  private async _runDriven(id: string): Promise<boolean> {
    const cell = this._findCell(id);
    if (!cell || cell.model.type !== 'code') {
      return true; // deleted meanwhile: nothing to do
    }
    if (this.state?.cells[id]?.state === 'ok') {
      // Up to date since it was listed: a cell above re-ran to equal values (early cutoff).
      return true;
    }
    const sc = this.context.sessionContext;
    if (!this._comm || !sc.session?.kernel || sc.isTerminating || sc.pendingInput) {
      return false;
    }
    const panel = [...this._panels][0];
    const deletedCells = this.context.model.deletedCells;
    try {
      const reply = await CodeCell.execute(cell as CodeCell, sc, {
        deletedCells,
        recordTiming: panel?.content.notebookConfig.recordTiming ?? false,
        reactive: { driven: true }
      });
      deletedCells.splice(0, deletedCells.length);
      if (reply?.content.status === 'error' && reply.content.ename === 'KeyboardInterrupt') {
        // The user stopped it: run nothing more, not even what the kernel listed after it.
        this._queue.abort();
        return false;
      }
      if (cell.isDisposed) {
        return false;
      }
      return !reply || reply.content.status === 'ok';
    } catch {
      return false;
    }
  }

  // -- marks -----------------------------------------------------------------------------

  /** What this view knows of a cell besides the kernel's entry (see `ICellFacts`). */
  private _facts(
    model: { id: string; type: string; sharedModel: { getSource(): string } },
    state: IStateMessage,
    now: number
  ): ICellFacts {
    if (model.type !== 'code') {
      return {};
    }
    const code = model as unknown as ICodeCellModel;
    return {
      showsOutput: code.executionCount !== null || code.outputs.length > 0,
      diverged: this._diverges(model.id, model.sharedModel.getSource(), state, now),
      restarted: this._restarted
    };
  }

  private _applyMarks(): void {
    const state = this.state;
    const now = Date.now();
    const facts = new Map<string, ICellFacts>();
    const marks = new Map<string, IMark | null>();
    const cells = this.context.model?.cells;
    for (let i = 0; state && cells && i < cells.length; i++) {
      const model = cells.get(i);
      if (model.type !== 'code') {
        continue;
      }
      const f = this._facts(model, state, now);
      facts.set(model.id, f);
      marks.set(model.id, markFor(state.cells[model.id], f));
    }
    this._marks = marks;
    const counts = countMarks(marks.values());
    const countsChanged = MARK_KINDS.some(k => counts[k] !== this._counts[k]);
    this._counts = counts;
    for (const panel of this._panels) {
      for (const cell of panel.content.widgets) {
        const id = cell.model.id;
        const status = cell.model.type === 'code' ? state?.cells[id] : undefined;
        const f = facts.get(id) ?? {};
        const want = new Set(classesFor(status, f));
        for (const cls of ALL_CELL_CLASSES) {
          if (cls === DOWNSTREAM_CLASS || cls === UPSTREAM_CLASS || cls === HOVERED_CLASS) {
            if (!state) {
              cell.removeClass(cls);
            }
            continue;
          }
          cell.toggleClass(cls, want.has(cls));
        }
        const tip = tooltipFor(status, f);
        const prompt = cell.promptNode;
        if (prompt) {
          if (tip) {
            prompt.setAttribute('title', tip);
          } else {
            prompt.removeAttribute('title');
          }
        }
        const data = cell.node.dataset;
        if (status && status.state !== 'ok') {
          data.reactiveState = status.state;
        } else {
          delete data.reactiveState;
        }
        const mark = marks.get(id);
        if (mark) {
          data.reactiveMark = mark.kind;
        } else {
          delete data.reactiveMark;
        }
      }
      const hovered = this._hovered.get(panel);
      if (hovered && state) {
        this._highlight(panel, hovered);
      }
    }
    this._refreshPopup();
    if (countsChanged) {
      this._changed.emit();
    }
  }

  // -- the popup of a marked cell ---------------------------------------------------------

  /** A click on a marked cell's prompt (or its badge) opens its popup. */
  private _onClick(panel: NotebookPanel, event: MouseEvent): void {
    const target = event.target as HTMLElement | null;
    const prompt = target?.closest?.('.jp-InputPrompt');
    const node = prompt?.closest('.jp-Cell') as HTMLElement | null | undefined;
    if (!prompt || !node || !this.state) {
      return;
    }
    if (!node.dataset.reactiveMark && !node.dataset.reactiveState) {
      return;
    }
    const cell = panel.content.widgets.find(w => w.node === node);
    if (!cell) {
      return;
    }
    if (this._popup && this._popup.cellId === cell.model.id && this._popup.panel === panel) {
      this._closePopup(); // a second click closes it
      return;
    }
    this._openPopup(panel, cell, prompt as HTMLElement);
  }

  private _popupContentFor(id: string) {
    const state = this.state;
    const model = this._modelOf(id);
    const f = state && model ? this._facts(model, state, Date.now()) : {};
    return popupContent(state, id, f);
  }

  private _modelOf(id: string) {
    const cells = this.context.model?.cells;
    for (let i = 0; cells && i < cells.length; i++) {
      if (cells.get(i).id === id) {
        return cells.get(i);
      }
    }
    return null;
  }

  private _openPopup(panel: NotebookPanel, cell: Cell, anchor: HTMLElement): void {
    this._closePopup();
    const id = cell.model.id;
    const popup = new CellPopup(panel, id, anchor, {
      onLink: target => {
        this._closePopup();
        this._goTo(panel, target);
      },
      onClose: () => {
        if (this._popup === popup) {
          this._popup = null;
        }
      }
    });
    this._popup = popup;
    popup.render(this._popupContentFor(id));
  }

  private _refreshPopup(): void {
    const popup = this._popup;
    if (!popup) {
      return;
    }
    const node = popup.panel.content.widgets.find(w => w.model.id === popup.cellId)?.node;
    if (!this.state || !node || (!node.dataset.reactiveMark && !node.dataset.reactiveState)) {
      this._closePopup(); // gone, or up to date now: nothing left to explain
      return;
    }
    popup.render(this._popupContentFor(popup.cellId));
  }

  private _closePopup(): void {
    const popup = this._popup;
    this._popup = null;
    popup?.dispose();
  }

  /** Scroll to a cell and make it the active one. */
  private _goTo(panel: NotebookPanel, id: string): void {
    const notebook = panel.content;
    const index = notebook.widgets.findIndex(w => w.model.id === id);
    if (index < 0) {
      return;
    }
    notebook.deselectAll();
    notebook.activeCellIndex = index;
    notebook.mode = 'command';
    void notebook.scrollToItem(index, 'center');
    notebook.node.focus();
  }

  private _onMouseOver(panel: NotebookPanel, event: MouseEvent): void {
    if (!this.state) {
      return;
    }
    const node = (event.target as HTMLElement | null)?.closest?.('.jp-Cell');
    const cell = node
      ? panel.content.widgets.find(w => w.node === node) ?? null
      : null;
    if (!cell) {
      return;
    }
    if (this._hovered.get(panel) === cell) {
      return;
    }
    this._hovered.set(panel, cell);
    this._highlight(panel, cell);
  }

  private _highlight(panel: NotebookPanel, hovered: Cell): void {
    const { upstream, downstream } = relatives(this.state, hovered.model.id);
    const any = upstream.size > 0 || downstream.size > 0;
    for (const cell of panel.content.widgets) {
      const id = cell.model.id;
      cell.toggleClass(UPSTREAM_CLASS, upstream.has(id));
      cell.toggleClass(DOWNSTREAM_CLASS, downstream.has(id));
      cell.toggleClass(HOVERED_CLASS, any && cell === hovered);
    }
  }

  private _clearHover(panel: NotebookPanel): void {
    this._hovered.delete(panel);
    for (const cell of panel.content.widgets) {
      cell.removeClass(UPSTREAM_CLASS);
      cell.removeClass(DOWNSTREAM_CLASS);
      cell.removeClass(HOVERED_CLASS);
    }
  }

  private _marks = new Map<string, IMark | null>();
  private _counts: MarkCounts = {};
  private _hashes = new Map<string, { source: string; hash: string }>();
  private _marksTimer: ReturnType<typeof setTimeout> | null = null;
  private _restarted = false;
  private _popup: CellPopup | null = null;
  private _panels = new Set<NotebookPanel>();
  private _hovered = new Map<NotebookPanel, Cell>();
  private _comm: Kernel.IComm | null = null;
  private _state: IStateMessage | null = null;
  private _mirror = new NotebookMirror();
  private _requests = new PendingRequests<IRunMessage>(
    `rk-${Math.random().toString(36).slice(2, 10)}`
  );
  private _queue: RunQueue;
  private _debouncer: Debouncer;
  private _deletionTimer: ReturnType<typeof setTimeout> | null = null;
  private _generation = 0;
  private _reconnect = false;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
