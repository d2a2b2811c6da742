import { Debouncer } from '../debounce';

describe('Debouncer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls once after the quiet period', () => {
    const fn = jest.fn();
    const d = new Debouncer(fn, 400);
    d.schedule();
    jest.advanceTimersByTime(300);
    d.schedule();
    jest.advanceTimersByTime(300);
    expect(fn).not.toHaveBeenCalled();
    expect(d.pending).toBe(true);
    jest.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(d.pending).toBe(false);
  });

  it('flushes a waiting call at once, and only a waiting one', () => {
    const fn = jest.fn();
    const d = new Debouncer(fn, 400);
    d.flush();
    expect(fn).not.toHaveBeenCalled();
    d.schedule();
    d.flush();
    expect(fn).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('cancels and stops after dispose', () => {
    const fn = jest.fn();
    const d = new Debouncer(fn, 400);
    d.schedule();
    d.cancel();
    jest.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    d.dispose();
    d.schedule();
    jest.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('uses injected timers', () => {
    const calls: Array<() => void> = [];
    const fn = jest.fn();
    const d = new Debouncer(fn, 10, {
      setTimeout: f => calls.push(f),
      clearTimeout: () => undefined
    });
    d.schedule();
    expect(calls).toHaveLength(1);
    calls[0]();
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
