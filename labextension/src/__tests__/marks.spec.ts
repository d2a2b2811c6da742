import {
  ALL_CELL_CLASSES,
  classesFor,
  MANUAL_CLASS,
  nextMode,
  relatives,
  STATE_CLASSES,
  countLabel,
  countMarks,
  countsText,
  countsTitle,
  DIVERGED_CLASS,
  DIVERGED_REASON,
  markFor,
  NOT_RUN_CLASS,
  outOfDateCount,
  popupContent,
  REFUSED_CLASS,
  runStaleLabel,
  stateCounts,
  statusText,
  statusTitle,
  tooltipFor,
  upstreamLinks
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

  it('marks a cell the kernel has not run that shows an old output, not an empty one', () => {
    expect(classesFor({ state: 'new' }, { showsOutput: true, restarted: true })).toEqual([
      NOT_RUN_CLASS
    ]);
    expect(markFor({ state: 'new' }, { showsOutput: true })?.kind).toBe('not-run');
    expect(markFor({ state: 'new' }, { showsOutput: false, restarted: true })).toBeNull();
    expect(markFor({ state: 'ok' }, { showsOutput: true, restarted: true })).toBeNull();
  });

  it('marks a cell whose source differs from the kernel\'s as edited', () => {
    expect(classesFor({ state: 'ok' }, { diverged: true })).toEqual([
      'jp-reactive-edited',
      DIVERGED_CLASS
    ]);
    expect(classesFor({ state: 'stale' }, { diverged: true })).toEqual([
      'jp-reactive-edited',
      DIVERGED_CLASS
    ]);
    expect(markFor(undefined, { diverged: true })).toEqual({
      kind: 'diverged',
      label: 'Edited',
      reason: DIVERGED_REASON
    });
  });

  it('tells a refused cell (fresh error output) apart from an old output', () => {
    expect(classesFor({ state: 'blocked', refused: true })).toEqual([
      'jp-reactive-blocked',
      REFUSED_CLASS
    ]);
    expect(classesFor({ state: 'blocked' })).toEqual(['jp-reactive-blocked']);
    expect(markFor({ state: 'blocked', refused: true })?.kind).toBe('blocked');
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
    for (const cls of [REFUSED_CLASS, NOT_RUN_CLASS, DIVERGED_CLASS]) {
      expect(ALL_CELL_CLASSES).toContain(cls);
    }
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

  it('does not repeat a reason that says what the label says', () => {
    expect(tooltipFor({ state: 'new', reason: 'not run yet' })).toBe('Not run yet');
    expect(tooltipFor({ state: 'new', reason: 'Not run yet.' })).toBe('Not run yet');
    expect(tooltipFor({ state: 'new', reason: 'not run yet: run it first' })).toBe(
      'Not run yet: run it first'
    );
    expect(tooltipFor({ state: 'stale', reason: 'stale input' })).toBe('Stale: stale input');
  });

  it('explains a cell not run since the restart and one edited in another view', () => {
    expect(tooltipFor({ state: 'new' }, { showsOutput: true, restarted: true })).toBe(
      'Not run since the kernel restarted: the output shown is from before'
    );
    expect(tooltipFor({ state: 'new' }, { showsOutput: true })).toMatch(
      /^Not run by this kernel: the output shown is from an earlier session$/
    );
    expect(tooltipFor({ state: 'ok' }, { diverged: true })).toBe(`Edited: ${DIVERGED_REASON}`);
    expect(
      tooltipFor({ state: 'stale', reason: 'reads `a`' }, { diverged: true }).split('\n')
    ).toEqual([`Edited: ${DIVERGED_REASON}`, "The kernel's source: Stale: reads `a`"]);
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
  it('counts every kind of out-of-date cell, but not never-run ones', () => {
    const s = state({
      a: { state: 'ok' },
      b: { state: 'stale' },
      c: { state: 'edited' },
      d: { state: 'blocked' },
      e: { state: 'new' },
      f: { state: 'error' },
      g: { state: 'upstream-error' },
      h: { state: 'untracked' },
      i: { state: 'stale' }
    });
    const counts = stateCounts(s);
    expect(counts).toEqual({
      stale: 2,
      edited: 1,
      blocked: 1,
      error: 1,
      'upstream-error': 1,
      untracked: 1
    });
    expect(outOfDateCount(counts)).toBe(7);
    expect(statusText(s)).toBe('Reactive: auto · 7 out of date');
    expect(statusTitle(s)).toBe(
      'Reactive kernel, mode auto.\n2 stale, 1 edited, 1 blocked, 1 failed, ' +
        '1 upstream error, 1 untracked; click to run stale cells.'
    );
  });

  it('uses the view\'s counts: cells not run since restart, edited in another view', () => {
    const s = state({ a: { state: 'new' }, b: { state: 'ok' }, c: { state: 'blocked' } }, 'lazy');
    const counts = countMarks([
      markFor(s.cells.a, { showsOutput: true, restarted: true }),
      markFor(s.cells.b, { diverged: true }),
      markFor(s.cells.c, {})
    ]);
    expect(counts).toEqual({ 'not-run': 1, diverged: 1, blocked: 1 });
    expect(statusText(s, counts)).toBe('Reactive: lazy · 3 out of date');
    expect(statusTitle(s, counts)).toBe(
      'Reactive kernel, mode lazy.\n1 edited in another view, 1 not run since restart, ' +
        '1 blocked; click to run stale cells.'
    );
    expect(countLabel(counts)).toBe('3 out of date');
  });

  it('says "All cells up to date" only when nothing is out of date', () => {
    expect(statusText(state({ a: { state: 'ok' } }, 'lazy'))).toBe('Reactive: lazy');
    expect(statusTitle(state({ a: { state: 'ok' }, b: { state: 'new' } }, 'lazy'))).toBe(
      'Reactive kernel, mode lazy.\nAll cells up to date.'
    );
    expect(statusTitle(state({ a: { state: 'error' } }))).not.toMatch(/up to date/);
    expect(statusTitle(state({ a: { state: 'blocked' } }))).toMatch(/1 blocked/);
    expect(countsTitle({})).toBe('All cells up to date.');
    expect(countLabel({})).toBe('');
    expect(statusText(null)).toBe('Reactive');
  });

  it('pluralises upstream errors and keeps a fixed order of kinds', () => {
    expect(countsText({ 'upstream-error': 2, stale: 1 })).toBe('1 stale, 2 upstream errors');
    expect(countsText({})).toBe('');
  });

  it('labels Run Stale Cells with the cells it runs', () => {
    expect(runStaleLabel({})).toBe('Run Stale Cells');
    expect(runStaleLabel({ blocked: 2 })).toBe('Run Stale Cells');
    expect(runStaleLabel({ stale: 2, 'not-run': 1, diverged: 1, error: 3 })).toBe(
      'Run Stale Cells (4)'
    );
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

describe('popup and links to upstream cells', () => {
  const s = state({
    one: { state: 'ok', name: 'cell 1 · a = 1' },
    two: { state: 'ok', name: 'cell 2 · b = 2; c = 3' },
    three: {
      state: 'stale',
      name: 'cell 3 · print(a + b + c)',
      reason: 'reads `a` from cell 1 · a = 1, which changed since this cell ran',
      reads: { a: 'one', b: 'two', c: 'two' },
      upstream: ['one', 'two'],
      effects: ['changed `a` in place (through `b`)']
    },
    old: { state: 'stale', upstream: ['one', 'gone'] }
  });

  it('gives one link per upstream cell, with the names read from it', () => {
    expect(upstreamLinks(s, 'three')).toEqual([
      { id: 'one', names: ['a'], text: '`a` ← cell 1 · a = 1' },
      { id: 'two', names: ['b', 'c'], text: '`b`, `c` ← cell 2 · b = 2; c = 3' }
    ]);
  });

  it('falls back to upstream ids when the kernel sends no reads or names', () => {
    expect(upstreamLinks(s, 'old')).toEqual([
      { id: 'one', names: [], text: '← cell 1 · a = 1' },
      { id: 'gone', names: [], text: '← a cell above' }
    ]);
    expect(upstreamLinks(s, 'nope')).toEqual([]);
    expect(upstreamLinks(null, 'three')).toEqual([]);
  });

  it('shows the name, the full reason, the effects and the links', () => {
    const content = popupContent(s, 'three');
    expect(content.title).toBe('cell 3 · print(a + b + c)');
    expect(content.reasons).toEqual([
      'Stale: reads `a` from cell 1 · a = 1, which changed since this cell ran'
    ]);
    expect(content.effects).toEqual(['changed `a` in place (through `b`)']);
    expect(content.links.map(l => l.id)).toEqual(['one', 'two']);
    expect(popupContent(s, 'one', { diverged: true }).reasons).toEqual([
      `Edited: ${DIVERGED_REASON}`
    ]);
    expect(popupContent(null, 'x').title).toBe('This cell');
  });
});
