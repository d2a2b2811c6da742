import {
  COMM_TARGET,
  CONFIRM_GRACE_MS,
  divergesFromKernel,
  sourceHash,
  type IStateMessage,
  isManual,
  isMode,
  MANUAL_TAG,
  mergeState,
  NotebookMirror,
  openData,
  parseKernelMessage,
  withManualTag
} from '../protocol';

const cell = (id: string, source: string, manual = false) => ({ id, source, manual });

describe('comm basics', () => {
  it('opens the reactive_kernel target with protocol 1 and runs_cells', () => {
    expect(COMM_TARGET).toBe('reactive_kernel');
    expect(openData()).toEqual({ protocol: 1, runs_cells: true });
    expect(openData(false)).toEqual({ protocol: 1, runs_cells: false });
  });

  it('knows the modes', () => {
    expect(isMode('auto')).toBe(true);
    expect(isMode('lazy')).toBe(true);
    expect(isMode('off')).toBe(true);
    expect(isMode('eager')).toBe(false);
    expect(isMode(undefined)).toBe(false);
  });
});

describe('manual tag', () => {
  it('reads the tag', () => {
    expect(isManual([MANUAL_TAG])).toBe(true);
    expect(isManual(['x', 'reactive-manual'])).toBe(true);
    expect(isManual(['x'])).toBe(false);
    expect(isManual(undefined)).toBe(false);
    expect(isManual('reactive-manual')).toBe(false);
  });

  it('adds and removes the tag, keeping the others', () => {
    expect(withManualTag(undefined, true)).toEqual(['reactive-manual']);
    expect(withManualTag(['a', 'b'], true)).toEqual(['a', 'b', 'reactive-manual']);
    expect(withManualTag(['a', 'reactive-manual', 'b'], false)).toEqual(['a', 'b']);
    expect(withManualTag(['reactive-manual'], true)).toEqual(['reactive-manual']);
    expect(withManualTag(['a', 3], false)).toEqual(['a']);
  });
});

describe('parseKernelMessage', () => {
  it('parses state', () => {
    const msg = parseKernelMessage({
      type: 'state',
      mode: 'lazy',
      cells: { a: { state: 'stale', reason: 'why', upstream: ['b'] } }
    });
    expect(msg).toEqual({
      type: 'state',
      mode: 'lazy',
      full: true,
      cells: { a: { state: 'stale', reason: 'why', upstream: ['b'] } },
      removed: []
    });
    expect(
      parseKernelMessage({ type: 'state', mode: 'auto', full: false, cells: {}, removed: ['x', 2] })
    ).toMatchObject({ full: false, removed: ['x'] });
  });

  it('parses run, keeping the echoed request', () => {
    expect(parseKernelMessage({ type: 'run', cells: ['a', 1, 'b'], request: 'r-1' })).toEqual(
      { type: 'run', cells: ['a', 'b'], request: 'r-1', blocked: '' }
    );
    expect(parseKernelMessage({ type: 'run', cells: [], blocked: 'no' })).toMatchObject({
      blocked: 'no',
      request: undefined
    });
  });

  it('parses the kernel\'s error', () => {
    expect(parseKernelMessage({ type: 'error', message: 'ValueError: x' })).toEqual({
      type: 'error',
      message: 'ValueError: x'
    });
  });

  it('tolerates junk', () => {
    expect(parseKernelMessage(null)).toBeNull();
    expect(parseKernelMessage('state')).toBeNull();
    expect(parseKernelMessage({ type: 'nope' })).toBeNull();
    expect(parseKernelMessage({ type: 'state', mode: 'x', cells: [] })).toEqual({
      type: 'state',
      mode: 'auto',
      full: true,
      cells: {},
      removed: []
    });
  });
});

describe('mergeState', () => {
  const full = parseKernelMessage({
    type: 'state',
    mode: 'auto',
    full: true,
    cells: { a: { state: 'ok' }, b: { state: 'ok', upstream: ['a'] } }
  }) as IStateMessage;

  it('takes a full state as it is', () => {
    expect(mergeState(null, full)).toBe(full);
  });

  it('applies a partial update without touching the state it merges into', () => {
    const update = parseKernelMessage({
      type: 'state',
      mode: 'lazy',
      full: false,
      cells: { b: { state: 'stale', upstream: ['a'] }, c: { state: 'new' } },
      removed: ['a']
    }) as IStateMessage;
    expect(mergeState(full, update)).toEqual({
      type: 'state',
      mode: 'lazy',
      full: true,
      cells: { b: { state: 'stale', upstream: ['a'] }, c: { state: 'new' } },
      removed: []
    });
    expect(Object.keys(full.cells)).toEqual(['a', 'b']);
  });

  it('cannot apply a partial update to nothing', () => {
    const update = { ...full, full: false };
    expect(mergeState(null, update)).toBeNull();
  });
});

describe('NotebookMirror', () => {
  it('builds a full sync of code cells in order', () => {
    const m = new NotebookMirror();
    const msg = m.sync([cell('a', 'x = 1'), cell('b', 'y = x', true)]);
    expect(msg).toEqual({
      type: 'sync',
      cells: [
        { id: 'a', source: 'x = 1', manual: false },
        { id: 'b', source: 'y = x', manual: true }
      ]
    });
    expect(m.size).toBe(2);
  });

  it('lists every cell, Markdown too, as the order, so the kernel numbers cells as shown', () => {
    const m = new NotebookMirror();
    const code = [cell('a', 'x = 1'), cell('b', 'y = x')];
    const msg = m.sync(code, 0, ['title', 'a', 'notes', 'b']);
    expect(msg.order).toEqual(['title', 'a', 'notes', 'b']);
    // Unchanged layout: nothing to send.
    expect(m.update(code, new Set(), 0, ['title', 'a', 'notes', 'b'])).toBeNull();
    // A Markdown cell inserted: the code cells did not move, but their numbers did.
    expect(m.update(code, new Set(), 0, ['title', 'intro', 'a', 'notes', 'b'])).toEqual({
      type: 'update',
      order: ['title', 'intro', 'a', 'notes', 'b'],
      deleted: []
    });
    expect(m.update(code, new Set(), 0, ['title', 'intro', 'a', 'notes', 'b'])).toBeNull();
  });

  it('sends nothing when nothing changed', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1')]);
    expect(m.update([cell('a', 'x = 1')])).toBeNull();
    expect(m.deletions([cell('a', 'x = 1')])).toBeNull();
  });

  it('sends only changed sources, without order when nothing moved', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1'), cell('b', 'y = x')]);
    expect(m.update([cell('a', 'x = 2'), cell('b', 'y = x')])).toEqual({
      type: 'update',
      cells: [{ id: 'a', source: 'x = 2', manual: false }],
      deleted: []
    });
    // now known: a second identical update is empty
    expect(m.update([cell('a', 'x = 2'), cell('b', 'y = x')])).toBeNull();
  });

  it('sends the manual flag change', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1')]);
    expect(m.update([cell('a', 'x = 1', true)])).toEqual({
      type: 'update',
      cells: [{ id: 'a', source: 'x = 1', manual: true }],
      deleted: []
    });
  });

  it('sends the order and the new cell when a cell is added', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1'), cell('b', 'y = x')]);
    expect(m.update([cell('a', 'x = 1'), cell('c', ''), cell('b', 'y = x')])).toEqual({
      type: 'update',
      order: ['a', 'c', 'b'],
      cells: [{ id: 'c', source: '', manual: false }],
      deleted: []
    });
  });

  it('sends only the order when cells moved', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', '1'), cell('b', '2'), cell('c', '3')]);
    expect(m.update([cell('b', '2'), cell('a', '1'), cell('c', '3')])).toEqual({
      type: 'update',
      order: ['b', 'a', 'c'],
      deleted: []
    });
  });

  it('reports deletions once, apart from the debounced update', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', '1'), cell('b', '2'), cell('c', '3')]);
    const now = [cell('a', '1'), cell('c', '3')];
    expect(m.deletions(now)).toEqual({ type: 'delete', cells: ['b'] });
    expect(m.deletions(now)).toBeNull();
    expect(m.has('b')).toBe(false);
    // removing a cell keeps the relative order: no order, no deleted in the update
    expect(m.update(now)).toBeNull();
  });

  it('a move (remove + insert of the same id) is not a deletion', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', '1'), cell('b', '2')]);
    expect(m.deletions([cell('b', '2'), cell('a', '1')])).toBeNull();
  });

  it('puts deletions not sent yet into the update', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', '1'), cell('b', '2')]);
    expect(m.update([cell('b', '2')])).toEqual({ type: 'update', deleted: ['a'] });
  });

  it('forgets everything on clear', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', '1')]);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.update([cell('a', '1')])).toEqual({
      type: 'update',
      order: ['a'],
      cells: [{ id: 'a', source: '1', manual: false }],
      deleted: []
    });
  });

  it('does not share objects with the caller', () => {
    const m = new NotebookMirror();
    const cells = [cell('a', '1')];
    const msg = m.sync(cells);
    cells[0].source = '2';
    expect(msg.cells[0].source).toBe('1');
    expect(m.update(cells)).toEqual({
      type: 'update',
      cells: [{ id: 'a', source: '2', manual: false }],
      deleted: []
    });
  });
});

describe('sourceHash (FNV-1a over UTF-16 code units, as the kernel computes it)', () => {
  it('matches the reference vectors', () => {
    expect(sourceHash('')).toBe('811c9dc5');
    expect(sourceHash('a')).toBe('e40c292c');
  });

  it('hashes code units, not code points or bytes (checked against Python)', () => {
    // python3: h=0x811c9dc5; for each UTF-16-LE unit u: h=((h^u)*0x01000193)&0xffffffff
    expect(sourceHash('n = 60 é😀')).toBe('66c559ee');
    expect(sourceHash('a = 1\nb = 2')).toBe('9cf7b871');
  });

  it('always gives 8 lowercase hex digits', () => {
    for (const s of ['x', 'print(1)', '\u0000', 'é'.repeat(50)]) {
      expect(sourceHash(s)).toMatch(/^[0-9a-f]{8}$/);
    }
  });
});

describe('NotebookMirror and the kernel\'s sources', () => {
  it('remembers what it sent', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1')]);
    expect(m.sentSource('a')).toBe('x = 1');
    m.update([cell('a', 'x = 2')]);
    expect(m.sentSource('a')).toBe('x = 2');
    expect(m.sentSource('zz')).toBeUndefined();
  });

  it('sends forced cells although this view did not change them', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1'), cell('b', 'y = 2')]);
    expect(m.update([cell('a', 'x = 1'), cell('b', 'y = 2')], new Set(['b']))).toEqual({
      type: 'update',
      cells: [{ id: 'b', source: 'y = 2', manual: false }],
      deleted: []
    });
    // forcing an id that is not a code cell sends nothing for it
    expect(m.update([cell('a', 'x = 1')], new Set(['zz']))).toEqual({
      type: 'update',
      deleted: ['b']
    });
  });

  it('waits for the kernel to confirm a sent source, at most CONFIRM_GRACE_MS', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1')], 1000);
    expect(m.awaiting('a', 1000)).toBe(true);
    // an entry with another hash (sent before ours arrived) does not confirm it
    m.confirm({ a: { state: 'new', source_hash: sourceHash('x = 0') } });
    expect(m.awaiting('a', 1001)).toBe(true);
    m.confirm({ a: { state: 'new', source_hash: sourceHash('x = 1') } });
    expect(m.awaiting('a', 1001)).toBe(false);
    m.update([cell('a', 'x = 2')], undefined, 5000);
    expect(m.awaiting('a', 5000 + CONFIRM_GRACE_MS - 1)).toBe(true);
    expect(m.awaiting('a', 5000 + CONFIRM_GRACE_MS)).toBe(false);
    expect(m.awaiting('never-sent', 0)).toBe(false);
  });

  it('says when a code cell was turned into Markdown rather than deleted', () => {
    const m = new NotebookMirror();
    m.sync([cell('a', 'x = 1'), cell('b', 'y = 2'), cell('c', 'z = 3')]);
    expect(m.deletions([cell('c', 'z = 3')], new Set(['a']))).toEqual({
      type: 'delete',
      cells: ['a', 'b'],
      converted: ['a']
    });
    m.sync([cell('a', 'x = 1')]);
    expect(m.deletions([], new Set())).toEqual({ type: 'delete', cells: ['a'] });
  });
});

describe('divergesFromKernel', () => {
  const h = sourceHash;
  it('is true only when this view sent all its edits and the kernel has another source', () => {
    expect(divergesFromKernel('x = 1', 'x = 1', h('x = 2'), false)).toBe(true);
    expect(divergesFromKernel('x = 1', 'x = 1', h('x = 1'), false)).toBe(false);
  });

  it('is false while this view has an edit not sent yet', () => {
    expect(divergesFromKernel('x = 3', 'x = 1', h('x = 2'), false)).toBe(false);
    expect(divergesFromKernel('x = 3', undefined, h('x = 2'), false)).toBe(false);
  });

  it('is false while a sent source may not have reached the kernel', () => {
    expect(divergesFromKernel('x = 1', 'x = 1', h('x = 0'), true)).toBe(false);
  });

  it('is false when the kernel sends no hash (older kernels)', () => {
    expect(divergesFromKernel('x = 1', 'x = 1', undefined, false)).toBe(false);
  });
});
