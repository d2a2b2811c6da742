import {
  ALL_CELL_CLASSES,
  classesFor,
  MANUAL_CLASS,
  nextMode,
  relatives,
  STATE_CLASSES,
  staleCount,
  statusText,
  statusTitle,
  tooltipFor
} from '../marks';
import type { CellStateName, IStateMessage } from '../protocol';

const state = (cells: IStateMessage['cells'], mode: IStateMessage['mode'] = 'auto') =>
  ({ type: 'state', mode, full: true, cells, removed: [] }) as IStateMessage;

describe('state → CSS classes', () => {
  it('marks every non-ok state, and ok not at all', () => {
    expect(classesFor({ state: 'ok' })).toEqual([]);
    expect(classesFor({ state: 'stale' })).toEqual(['jp-reactive-stale']);
    expect(classesFor({ state: 'edited' })).toEqual(['jp-reactive-edited']);
    expect(classesFor({ state: 'blocked' })).toEqual(['jp-reactive-blocked']);
    expect(classesFor({ state: 'upstream-error' })).toEqual(['jp-reactive-upstreamError']);
    expect(classesFor({ state: 'error' })).toEqual(['jp-reactive-error']);
    expect(classesFor({ state: 'new' })).toEqual(['jp-reactive-new']);
    expect(classesFor(undefined)).toEqual([]);
  });

  it('adds the manual class', () => {
    expect(classesFor({ state: 'stale', manual: true })).toEqual([
      'jp-reactive-stale',
      MANUAL_CLASS
    ]);
    expect(classesFor({ state: 'ok', manual: true })).toEqual([MANUAL_CLASS]);
  });

  it('ignores states it does not know', () => {
    expect(classesFor({ state: 'weird' as CellStateName })).toEqual([]);
  });

  it('lists every class it can set, so they can all be cleared', () => {
    for (const cls of Object.values(STATE_CLASSES)) {
      if (cls) {
        expect(ALL_CELL_CLASSES).toContain(cls);
      }
    }
    expect(ALL_CELL_CLASSES).toContain(MANUAL_CLASS);
  });
});

describe('tooltips', () => {
  it('says the state and the kernel reason', () => {
    expect(
      tooltipFor({ state: 'stale', reason: 'reads `df` from cell [3], which changed' })
    ).toBe('Stale: reads `df` from cell [3], which changed');
    expect(tooltipFor({ state: 'blocked', reason: 'reads `y`, defined below' })).toBe(
      'Blocked: reads `y`, defined below'
    );
    expect(tooltipFor({ state: 'edited' })).toBe('Edited');
  });

  it('is empty for an ok cell and for no status', () => {
    expect(tooltipFor({ state: 'ok', reason: '' })).toBe('');
    expect(tooltipFor(undefined)).toBe('');
  });

  it('says when a re-run kept its dependents (early cutoff)', () => {
    expect(
      tooltipFor({ state: 'ok', reason: 're-ran, values unchanged: dependents kept' })
    ).toBe('Up to date: re-ran, values unchanged: dependents kept');
  });

  it('mentions manual cells', () => {
    expect(tooltipFor({ state: 'ok', manual: true })).toMatch(/Manual/);
  });

  it('names untracked cells and why', () => {
    expect(
      tooltipFor({ state: 'untracked', reason: 'the kernel cannot analyse this cell: x' })
    ).toBe('Untracked: the kernel cannot analyse this cell: x');
  });

  it('says what the last run changed in place', () => {
    expect(
      tooltipFor({ state: 'ok', effects: ['changed `a` in place (through `b`)'] })
    ).toBe('Last run changed `a` in place (through `b`)');
  });
});

describe('status bar', () => {
  it('counts stale and edited cells', () => {
    const s = state({
      a: { state: 'ok' },
      b: { state: 'stale' },
      c: { state: 'edited' },
      d: { state: 'blocked' },
      e: { state: 'new' }
    });
    expect(staleCount(s)).toBe(2);
    expect(staleCount(null)).toBe(0);
    expect(statusText(s)).toBe('Reactive: auto · 2 stale');
    expect(statusTitle(s)).toMatch(/2 cells out of date/);
  });

  it('shows the mode alone when all is fresh', () => {
    expect(statusText(state({ a: { state: 'ok' } }, 'lazy'))).toBe('Reactive: lazy');
    expect(statusTitle(state({}, 'lazy'))).toMatch(/up to date/);
    expect(statusText(null)).toBe('Reactive');
  });

  it('toggles between auto and lazy', () => {
    expect(nextMode('auto')).toBe('lazy');
    expect(nextMode('lazy')).toBe('auto');
    expect(nextMode('off')).toBe('auto');
    expect(nextMode(undefined)).toBe('auto');
  });
});

describe('hover relatives', () => {
  // a -> b -> c, a -> d; e alone; a cycle guard between f and g
  const s = state({
    a: { state: 'ok' },
    b: { state: 'ok', upstream: ['a'] },
    c: { state: 'stale', upstream: ['b'] },
    d: { state: 'ok', upstream: ['a'] },
    e: { state: 'ok' },
    f: { state: 'ok', upstream: ['g'] },
    g: { state: 'ok', upstream: ['f'] }
  });

  it('follows edges transitively', () => {
    expect(relatives(s, 'a')).toEqual({
      upstream: new Set(),
      downstream: new Set(['b', 'c', 'd'])
    });
    expect(relatives(s, 'c')).toEqual({
      upstream: new Set(['b', 'a']),
      downstream: new Set()
    });
    expect(relatives(s, 'b')).toEqual({
      upstream: new Set(['a']),
      downstream: new Set(['c'])
    });
  });

  it('handles unknown cells, no state and cycles', () => {
    expect(relatives(s, 'e').upstream.size).toBe(0);
    expect(relatives(s, 'zz').downstream.size).toBe(0);
    expect(relatives(null, 'a').downstream.size).toBe(0);
    expect(relatives(s, 'f').downstream).toEqual(new Set(['g']));
  });
});
