/**
 * A trailing-edge debouncer that can be flushed (before a run, the kernel must have the
 * latest sources) or cancelled. Timers are injectable for tests.
 */
export interface ITimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: ITimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: handle => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

export class Debouncer {
  constructor(
    private readonly fn: () => void,
    readonly delay: number,
    private readonly timers: ITimers = realTimers
  ) {}

  /** Whether a call is waiting. */
  get pending(): boolean {
    return this._handle !== null;
  }

  /** Call `fn` once `delay` ms have passed without another `schedule`. */
  schedule(): void {
    if (this._disposed) {
      return;
    }
    this.cancel();
    this._handle = this.timers.setTimeout(() => {
      this._handle = null;
      this.fn();
    }, this.delay);
  }

  /** Call `fn` now if a call is waiting. */
  flush(): void {
    if (this._handle !== null) {
      this.cancel();
      this.fn();
    }
  }

  cancel(): void {
    if (this._handle !== null) {
      this.timers.clearTimeout(this._handle);
      this._handle = null;
    }
  }

  dispose(): void {
    this.cancel();
    this._disposed = true;
  }

  private _handle: unknown = null;
  private _disposed = false;
}
