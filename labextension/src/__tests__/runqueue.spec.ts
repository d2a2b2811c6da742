import {
  MAX_EXTRA_FAILED_LISTS,
  PendingRequests,
  RunQueue,
  splitPlan
} from '../runqueue';

/** A cell runner whose runs the test finishes by hand, recording the order. */
function runner(fail: string[] = []) {
  const log: string[] = [];
  const waiting: Array<() => void> = [];
  const run = (id: string) =>
    new Promise<boolean>(resolve => {
      log.push(id);
      waiting.push(() => resolve(!fail.includes(id)));
    });
  const finishAll = async () => {
    for (let i = 0; i < 100; i++) {
      await new Promise(r => setTimeout(r, 0));
      const next = waiting.shift();
      if (!next) {
        if (!waiting.length) {
          await new Promise(r => setTimeout(r, 0));
          if (!waiting.length) {
            return;
          }
        }
        continue;
      }
      next();
    }
  };
  return { log, run, finishAll };
}

const tick = () => new Promise(r => setTimeout(r, 0));

/**
 * A queue whose cells log their id, take a tick, then call `react` (which may defer or abort,
 * as the kernel and the user do meanwhile) for whether they succeeded.
 */
function reactingQueue(react: (id: string, q: RunQueue) => boolean, order: string[]) {
  const log: string[] = [];
  const q: RunQueue = new RunQueue({
    run: async id => {
      log.push(id);
      await tick();
      return react(id, q);
    },
    order: () => order
  });
  return { q, log };
}

/** Let queued runs play out. */
async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await tick();
  }
}

describe('RunQueue', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];

  it('runs a list in order and stops at the first failure', async () => {
    const r = runner(['b']);
    const q = new RunQueue({ run: r.run, order: () => order });
    const done = q.runCells(['a', 'b', 'c']);
    await r.finishAll();
    expect(await done).toBe(false);
    expect(r.log).toEqual(['a', 'b']);
  });

  it('serialises tasks: the second starts after the first', async () => {
    const r = runner();
    const q = new RunQueue({ run: r.run, order: () => order });
    const first = q.runCells(['a', 'b']);
    const second = q.runCells(['c']);
    expect(q.busy).toBe(true);
    await r.finishAll();
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(r.log).toEqual(['a', 'b', 'c']);
    expect(q.busy).toBe(false);
  });

  it('runs deferred dependents once idle, in notebook order', async () => {
    const r = runner();
    const q = new RunQueue({ run: r.run, order: () => order });
    q.defer(['d', 'b']);
    await r.finishAll();
    expect(r.log).toEqual(['b', 'd']);
    expect(q.deferred).toEqual([]);
  });

  it('does not run a dependent twice when the batch runs it anyway (Run All)', async () => {
    const r = runner();
    const q = new RunQueue({ run: r.run, order: () => order });
    // Run All schedules every cell at once; after "a" the kernel says b and d depend on it.
    const runs = order.map(id =>
      q.enqueue(async () => {
        q.ran(id);
        const ok = await r.run(id);
        if (id === 'a') {
          q.defer(['b', 'd']);
        }
        return ok;
      }, false)
    );
    await r.finishAll();
    await Promise.all(runs);
    expect(r.log).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('drops deferred cells that were deleted', async () => {
    const r = runner();
    const cells = ['a', 'c'];
    const q = new RunQueue({ run: r.run, order: () => cells });
    q.defer(['b', 'c']);
    await r.finishAll();
    expect(r.log).toEqual(['c']);
  });

  it('stops deferred dependents at the first failure', async () => {
    const r = runner(['b']);
    const q = new RunQueue({ run: r.run, order: () => order });
    q.defer(['b', 'c', 'd']);
    await r.finishAll();
    expect(r.log).toEqual(['b']);
    expect(q.deferred).toEqual([]);
  });

  it('keeps the cells the kernel sends while a deferred list fails, and runs them', async () => {
    // The kernel sent [b, c, d]; b fails, and the kernel sends what is still to run
    // (c does not depend on b, d is refused) while b's run is still finishing.
    const { q, log } = reactingQueue((id, queue) => {
      if (id === 'b') {
        queue.defer(['c', 'd']);
        return false;
      }
      return id !== 'd';
    }, order);
    q.defer(['b', 'c', 'd']);
    await ticks(20);
    expect(log).toEqual(['b', 'c', 'd']);
    expect(q.deferred).toEqual([]);
    expect(q.busy).toBe(false);
  });

  it('a failure stops its own list; the list sent meanwhile runs instead', async () => {
    const { q, log } = reactingQueue((id, queue) => {
      if (id === 'a') {
        queue.defer(['e']); // e.g. cells of the list after the failure, in a new list
        return false;
      }
      return true;
    }, order);
    q.defer(['a', 'c']);
    await ticks(20);
    // c, after the failure in the first list, is not run: the kernel did not list it again.
    expect(log).toEqual(['a', 'e']);
  });

  it('runs cells deferred while a user run fails, after it', async () => {
    const r = runner(['a']);
    const q = new RunQueue({ run: r.run, order: () => order });
    const done = q.enqueue(async () => {
      q.ran('a');
      const ok = await r.run('a');
      q.defer(['c', 'b']); // the kernel sends every out-of-date cell, even after a failure
      return ok;
    }, false);
    await r.finishAll();
    expect(await done).toBe(false);
    expect(r.log).toEqual(['a', 'b', 'c']);
  });

  it('abort during a deferred list forgets what the kernel sent meanwhile', async () => {
    const { q, log } = reactingQueue((id, queue) => {
      if (id === 'b') {
        queue.defer(['c', 'd']); // sent after an interrupted run
        queue.abort(); // the user interrupted it
        return false;
      }
      return true;
    }, order);
    q.defer(['b', 'c']);
    await ticks(20);
    expect(log).toEqual(['b']);
    expect(q.deferred).toEqual([]);
  });

  it('stops when the kernel keeps asking for a cell that fails', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { q, log } = reactingQueue((id, queue) => {
      queue.defer([id]); // a kernel that never gives up on it
      return false;
    }, order);
    try {
      q.defer(['c']);
      await ticks(200);
      expect(log.length).toBe(order.length + MAX_EXTRA_FAILED_LISTS + 1);
      expect(q.busy).toBe(false);
      expect(q.deferred).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('abort skips waiting tasks and stops the running list', async () => {
    const r = runner();
    const q = new RunQueue({ run: r.run, order: () => order });
    const first = q.runCells(['a', 'b']);
    const second = q.enqueue(async () => 'ran', 'skipped');
    await tick();
    expect(r.log).toEqual(['a']);
    q.abort();
    await r.finishAll();
    expect(await first).toBe(false);
    expect(await second).toBe('skipped');
    expect(r.log).toEqual(['a']);
    // the queue still works afterwards
    const third = q.runCells(['e']);
    await r.finishAll();
    expect(await third).toBe(true);
    expect(r.log).toEqual(['a', 'e']);
  });

  it('treats a throwing run as a failure', async () => {
    const q = new RunQueue({
      run: async id => {
        if (id === 'b') {
          throw new Error('boom');
        }
        return true;
      },
      order: () => order
    });
    expect(await q.runCells(['a', 'b', 'c'])).toBe(false);
  });

  it('keeps going after a task that throws', async () => {
    const q = new RunQueue({ run: async () => true, order: () => order });
    const bad = q.enqueue(async () => {
      throw new Error('boom');
    }, 0);
    await expect(bad).rejects.toThrow('boom');
    expect(await q.enqueue(async () => 1, 0)).toBe(1);
    expect(q.busy).toBe(false);
  });

  it('does nothing after dispose', async () => {
    const r = runner();
    const q = new RunQueue({ run: r.run, order: () => order });
    q.dispose();
    expect(await q.runCells(['a'])).toBe(false);
    q.defer(['a']);
    await r.finishAll();
    expect(r.log).toEqual([]);
  });
});

describe('PendingRequests', () => {
  it('resolves by echoed id, once', async () => {
    const p = new PendingRequests<string>('t');
    const a = p.create();
    const b = p.create();
    expect(a.id).not.toBe(b.id);
    expect(p.resolve(b.id, 'B')).toBe(true);
    expect(p.resolve(b.id, 'again')).toBe(false);
    expect(await b.promise).toBe('B');
    expect(p.size).toBe(1);
  });

  it('ignores answers to unknown requests (other clients, old pages)', () => {
    const p = new PendingRequests<string>('t');
    expect(p.resolve('other-1', 'x')).toBe(false);
    expect(p.resolve(undefined, 'x')).toBe(false);
    expect(p.resolve(null, 'x')).toBe(false);
  });

  it('forgets and rejects', async () => {
    const p = new PendingRequests<string>('t');
    const a = p.create();
    const b = p.create();
    p.forget(a.id);
    expect(p.resolve(a.id, 'late')).toBe(false);
    p.rejectAll(new Error('restart'));
    await expect(b.promise).rejects.toThrow('restart');
    expect(p.size).toBe(0);
  });
});

describe('splitPlan', () => {
  it('splits around the requested cell', () => {
    expect(splitPlan(['a', 'b', 'c', 'd'], 'c')).toEqual({
      before: ['a', 'b'],
      includesTarget: true,
      after: ['d']
    });
    expect(splitPlan(['c'], 'c')).toEqual({ before: [], includesTarget: true, after: [] });
  });

  it('pulls everything when the cell is not listed', () => {
    expect(splitPlan(['a'], 'c')).toEqual({ before: ['a'], includesTarget: false, after: [] });
  });
});
