import {
  COMM_TARGET,
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
