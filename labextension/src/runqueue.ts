/**
 * The order in which this client executes cells.
 *
 * Every run this extension drives goes through one queue per notebook, so runs never
 * interleave: a user's run (with the stale inputs it pulls first), a "run stale cells", and
 * the dependents the kernel asks for after a user's run. Dependents are *deferred* until the
 * queue is idle, so that "Run All" (which schedules every cell at once) does not run a
 * dependent twice: a deferred cell that the user's batch runs anyway is dropped.
 */

/** Execute one cell; resolves to whether it ran without error. */
export type RunCell = (id: string) => Promise<boolean>;

export interface IRunQueueOptions {
  /** Execute one cell as driven by the frontend. */
  run: RunCell;
  /** The notebook's code cell ids, in order (deferred cells run in this order). */
  order: () => string[];
}

export class RunQueue {
  constructor(options: IRunQueueOptions) {
    this._run = options.run;
    this._order = options.order;
  }

  /** Whether a task runs or waits. */
  get busy(): boolean {
    return this._pending > 0;
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
    const epoch = this._epoch;
    this._pending++;
    const result = this._tail.then(async () => {
      if (epoch !== this._epoch || this._disposed) {
        return skipped;
      }
      return task();
    });
    this._tail = result.then(
      () => this._done(),
      () => this._done()
    );
    return result;
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

  /** Run `ids` (dependents) once the queue is idle, unless they run before that. */
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
  }

  dispose(): void {
    this._disposed = true;
    this.abort();
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
    void this.enqueue(async () => {
      const wanted = this._deferred;
      const ids = this._order().filter(id => wanted.has(id));
      this._deferred = new Set();
      if (!ids.length) {
        return true;
      }
      const ok = await this.runNow(ids);
      if (!ok) {
        // A dependent failed: what it feeds stays stale (the kernel marks it).
        this._deferred.clear();
      }
      return ok;
    }, false);
  }

  private _run: RunCell;
  private _order: () => string[];
  private _tail: Promise<void> = Promise.resolve();
  private _pending = 0;
  private _epoch = 0;
  private _deferred = new Set<string>();
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
