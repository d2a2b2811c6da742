/**
 * The order in which this client executes cells.
 *
 * Every run this extension drives goes through one queue per notebook, so runs never
 * interleave: a user's run (with the stale inputs it pulls first), a "run stale cells", and
 * the cells the kernel asks for on its own (`run` with no request: after a user's run, after
 * a failed run, after a deletion...). Those are *deferred* until the queue is idle, so that
 * "Run All" (which schedules every cell at once) does not run a cell twice: a deferred cell
 * that the user's batch runs anyway is dropped.
 *
 * A list of deferred cells stops at its first failure (the kernel then sends what is still to
 * run), but cells deferred while it ran stay deferred: they are that new list.
 */

/** Execute one cell; resolves to whether it ran without error. */
export type RunCell = (id: string) => Promise<boolean>;

export interface IRunQueueOptions {
  /** Execute one cell as driven by the frontend. */
  run: RunCell;
  /** The notebook's code cell ids, in order (deferred cells run in this order). */
  order: () => string[];
}

/**
 * How many deferred lists in a row may fail, beyond one per code cell, before the queue
 * stops running what the kernel asks for (until the user runs something).
 */
export const MAX_EXTRA_FAILED_LISTS = 8;

export class RunQueue {
  constructor(options: IRunQueueOptions) {
    this._run = options.run;
    this._order = options.order;
  }

  /** Whether a task runs or waits. */
  get busy(): boolean {
    return this._pending > 0;
  }

  /** Changes on every `abort()`: a task that saw another value was aborted meanwhile. */
  get epoch(): number {
    return this._epoch;
  }

  /** Cells waiting to run once the queue is idle, in insertion order. */
  get deferred(): string[] {
    return [...this._deferred];
  }

  /**
   * Run `task` after every task queued before it. If `abort()` is called before it starts,
   * it never starts and resolves to `skipped`.
   */
  enqueue<T>(task: () => Promise<T>, skipped: T): Promise<T> {
    return this._enqueue(task, skipped, false);
  }

  /** Queue a run of `ids`, in order, stopping at the first that fails. */
  runCells(ids: string[]): Promise<boolean> {
    return this.enqueue(() => this.runNow(ids), false);
  }

  /**
   * Run `ids` now, in order, stopping at the first that fails or when the queue is aborted.
   * Only call from inside a queued task.
   */
  async runNow(ids: string[]): Promise<boolean> {
    const epoch = this._epoch;
    for (const id of ids) {
      if (epoch !== this._epoch || this._disposed) {
        return false;
      }
      this.ran(id);
      let ok = false;
      try {
        ok = await this._run(id);
      } catch {
        ok = false;
      }
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * Run `ids` (cells the kernel asked for on its own) once the queue is idle, in notebook
   * order, unless they run before that.
   */
  defer(ids: string[]): void {
    for (const id of ids) {
      this._deferred.add(id);
    }
    if (!this.busy) {
      this._flush();
    }
  }

  /** `id` is running now: it no longer needs a deferred run. */
  ran(id: string): void {
    this._deferred.delete(id);
  }

  /** Skip every task not started yet, stop the running list, forget deferred cells. */
  abort(): void {
    this._epoch++;
    this._deferred.clear();
    this._failedLists = 0;
  }

  dispose(): void {
    this._disposed = true;
    this.abort();
  }

  private _enqueue<T>(task: () => Promise<T>, skipped: T, deferred: boolean): Promise<T> {
    const epoch = this._epoch;
    this._pending++;
    const result = this._tail.then(async () => {
      if (epoch !== this._epoch || this._disposed) {
        return skipped;
      }
      if (!deferred) {
        this._failedLists = 0; // the user ran something: a fresh start
      }
      return task();
    });
    this._tail = result.then(
      () => this._done(),
      () => this._done()
    );
    return result;
  }

  private _done(): void {
    this._pending--;
    if (this._pending === 0) {
      this._flush();
    }
  }

  private _flush(): void {
    if (!this._deferred.size || this._disposed) {
      return;
    }
    void this._enqueue(
      async () => {
        const wanted = this._deferred;
        const order = this._order();
        const ids = order.filter(id => wanted.has(id));
        this._deferred = new Set();
        if (!ids.length) {
          return true;
        }
        const ok = await this.runNow(ids);
        if (ok) {
          this._failedLists = 0;
        } else if (++this._failedLists > order.length + MAX_EXTRA_FAILED_LISTS) {
          // Each failure should take a cell out of what the kernel still wants run; a kernel
          // that keeps asking for failing cells must not keep this client busy forever.
          console.warn(
            'reactive-kernel: the kernel keeps asking to run cells that fail; stopping'
          );
          this._deferred.clear();
          this._failedLists = 0;
        }
        // Otherwise a failure stops this list only: the cells the kernel sent while it ran
        // (it sends the rest after a failure) stay deferred and run next.
        return ok;
      },
      false,
      true
    );
  }

  private _run: RunCell;
  private _order: () => string[];
  private _tail: Promise<void> = Promise.resolve();
  private _pending = 0;
  private _epoch = 0;
  private _deferred = new Set<string>();
  private _failedLists = 0;
  private _disposed = false;
}

/**
 * Requests to the kernel that are answered by a message echoing their id (`plan`,
 * `run_stale` are answered by `run`).
 */
export class PendingRequests<T> {
  constructor(private readonly prefix: string) {}

  /** A new request id and the promise its answer resolves. */
  create(): { id: string; promise: Promise<T> } {
    const id = `${this.prefix}-${++this._counter}`;
    const promise = new Promise<T>((resolve, reject) => {
      this._waiting.set(id, { resolve, reject });
    });
    return { id, promise };
  }

  /** Resolve the request `id`; false if no such request waits (another client's, or old). */
  resolve(id: unknown, value: T): boolean {
    if (typeof id !== 'string') {
      return false;
    }
    const waiting = this._waiting.get(id);
    if (!waiting) {
      return false;
    }
    this._waiting.delete(id);
    waiting.resolve(value);
    return true;
  }

  /** Stop waiting for `id` (its answer, if it comes, is ignored). */
  forget(id: string): void {
    this._waiting.delete(id);
  }

  /** Fail every waiting request (the comm closed, the kernel restarted). */
  rejectAll(reason: Error): void {
    const waiting = [...this._waiting.values()];
    this._waiting.clear();
    for (const w of waiting) {
      w.reject(reason);
    }
  }

  get size(): number {
    return this._waiting.size;
  }

  private _counter = 0;
  private _waiting = new Map<
    string,
    { resolve: (value: T) => void; reject: (reason: Error) => void }
  >();
}

/** Split a `plan` answer around the requested cell: what to pull first, and the rest. */
export function splitPlan(
  cells: string[],
  target: string
): { before: string[]; includesTarget: boolean; after: string[] } {
  const i = cells.indexOf(target);
  if (i < 0) {
    return { before: [...cells], includesTarget: false, after: [] };
  }
  return {
    before: cells.slice(0, i),
    includesTarget: true,
    after: cells.slice(i + 1)
  };
}
