import { expect, test } from '@jupyterlab/galata';

import {
  cell,
  CHAIN,
  executionCount,
  expectState,
  modeToggle,
  openNotebook,
  outputText,
  run,
  screenshot,
  settle,
  typeSource,
  waitReactive
} from './helpers';

test.use({ autoGoto: true });

/** Run every cell once, top to bottom, one by one. */
async function runAllOnce(page: any, n: number) {
  for (let i = 0; i < n; i++) {
    await run(page, i);
    await settle(page);
  }
}

test.describe('reactive kernel frontend', () => {
  test('auto: running an edited cell re-runs each dependent in its own cell', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'auto.ipynb', CHAIN);
    await waitReactive(page);
    await expect(modeToggle(page)).toContainText('auto');
    await runAllOnce(page, 3);
    expect(await outputText(page, 1)).toBe('b = 10');
    expect(await outputText(page, 2)).toBe('c = 11');
    const before = await executionCount(page, 2);

    await typeSource(page, 0, 'a = 2');
    await expectState(page, 0, 'edited');
    await run(page, 0);
    await settle(page);

    await expect.poll(() => outputText(page, 1)).toBe('b = 20');
    await expect.poll(() => outputText(page, 2)).toBe('c = 21');
    // The triggering cell shows nothing of the cascade; dependents got their own counts.
    expect(await outputText(page, 0)).toBe('');
    const after = await executionCount(page, 2);
    expect(after).not.toBeNull();
    expect(after!).toBeGreaterThan(before!);
    expect(await executionCount(page, 1)).toBeLessThan(after!);
    for (const i of [0, 1, 2]) {
      await expectState(page, i, null);
    }
    // The status bar shows the mode.
    await expect(page.locator('.jp-reactive-status')).toHaveText('Reactive: auto');
  });

  test('a stale input is pulled first, in its own cell', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'pull.ipynb', CHAIN, { mode: 'lazy' });
    await waitReactive(page);
    await expect(modeToggle(page)).toContainText('lazy');
    await runAllOnce(page, 3);
    await typeSource(page, 0, 'a = 3');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    await expectState(page, 2, 'stale');
    // Run the last cell: the kernel plans cell 1 first; its output lands in cell 1.
    await run(page, 2);
    await settle(page);
    await expect.poll(() => outputText(page, 1)).toBe('b = 30');
    await expect.poll(() => outputText(page, 2)).toBe('c = 31');
    expect(await outputText(page, 2)).not.toContain('↻');
    for (const i of [0, 1, 2]) {
      await expectState(page, i, null);
    }
  });

  test('deleting a defining cell blocks its dependent; running it shows why', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'delete.ipynb', ['x = 5', 'y = x + 1\nprint(y)']);
    await waitReactive(page);
    await runAllOnce(page, 2);
    expect(await outputText(page, 1)).toBe('6');

    await page.notebook.selectCells(0);
    await page.notebook.deleteCells();
    await expectState(page, 0, 'blocked');
    const prompt = (await cell(page, 0)).locator('.jp-InputPrompt');
    await expect(prompt).toHaveAttribute('title', /Blocked: .*x/);
    await screenshot(page, 'blocked-deleted-definer');

    await run(page, 0);
    await settle(page);
    const text = await outputText(page, 0);
    expect(text).toContain('BlockedCellError');
    expect(text).toContain('x');
    expect(text).not.toContain('\n6');
  });

  test('lazy: dependents are marked stale and "Run stale cells" fixes them', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'lazy.ipynb', CHAIN);
    await waitReactive(page);
    // Switch to lazy with the toolbar toggle: remembered in the notebook metadata.
    await modeToggle(page).click();
    await expect(modeToggle(page)).toContainText('lazy');
    const mode = await page.evaluate(() => {
      const app = (window as any).jupyterapp;
      const nb = app.shell.currentWidget;
      return nb.context.model.getMetadata('reactive')?.mode;
    });
    expect(mode).toBe('lazy');

    await runAllOnce(page, 3);
    await typeSource(page, 0, 'a = 4');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    await expectState(page, 2, 'stale');
    expect(await outputText(page, 1)).toBe('b = 10');
    const prompt = (await cell(page, 1)).locator('.jp-InputPrompt');
    await expect(prompt).toHaveAttribute('title', /Stale: .*a/);
    // The count, whatever the words after it.
    await expect(page.locator('.jp-reactive-status')).toHaveText(/^Reactive: lazy · 2\D/);
    await page.mouse.move(5, 5);
    await screenshot(page, 'stale-lazy-mode');

    // Hovering the first cell highlights the cells downstream of it.
    await (await cell(page, 0)).locator('.jp-InputArea-editor').hover();
    await expect(await cell(page, 1)).toHaveClass(/jp-reactive-downstream/);
    await expect(await cell(page, 2)).toHaveClass(/jp-reactive-downstream/);
    await (await cell(page, 2)).locator('.jp-InputArea-editor').hover();
    await expect(await cell(page, 0)).toHaveClass(/jp-reactive-upstream/);
    await expect(await cell(page, 1)).toHaveClass(/jp-reactive-upstream/);
    await page.mouse.move(5, 5);

    // "Run stale cells" with its shortcut.
    await page.notebook.selectCells(0);
    await page.keyboard.press('Control+Shift+Enter');
    await expect.poll(() => outputText(page, 1)).toBe('b = 40');
    await expect.poll(() => outputText(page, 2)).toBe('c = 41');
    await settle(page);
    for (const i of [0, 1, 2]) {
      await expectState(page, i, null);
    }
    await expect(page.locator('.jp-reactive-status')).toHaveText('Reactive: lazy');
  });

  test('a cell reading a name defined below is blocked', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'below.ipynb', ['print(z)', 'z = 3']);
    await waitReactive(page);
    await expectState(page, 0, 'blocked');
    const prompt = (await cell(page, 0)).locator('.jp-InputPrompt');
    await expect(prompt).toHaveAttribute('title', /Blocked: .*z/);
    await page.mouse.move(5, 5);
    await screenshot(page, 'blocked-defined-below');
  });

  test('reload: the marks come back from the kernel', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'reload.ipynb', CHAIN, { mode: 'lazy' });
    await waitReactive(page);
    await runAllOnce(page, 3);
    await typeSource(page, 0, 'a = 5');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    await page.notebook.save();

    // The restored workspace shows the notebook, not the Launcher galata waits for.
    await page.reload({ waitForIsReady: false });
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    // A new page: it opens a new comm to the same, still running kernel.
    if (!(await page.notebook.isOpen('reload.ipynb'))) {
      await page.notebook.openByPath(`${tmpPath}/reload.ipynb`);
    }
    await page.notebook.activate('reload.ipynb');
    await waitReactive(page);
    await expectState(page, 1, 'stale');
    await expectState(page, 2, 'stale');
    await expectState(page, 0, null);
    await expect(modeToggle(page)).toContainText('lazy');
  });

  test('a plain Python kernel shows nothing', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'plain.ipynb', ['print(z)', 'z = 3'], {
      kernel: 'python3'
    });
    await run(page, 1);
    await settle(page);
    await page.waitForTimeout(1000);
    await expect(modeToggle(page)).toBeHidden();
    await expect(page.locator('.jp-reactive-status')).toBeHidden();
    await expect(page.locator('.jp-Cell[data-reactive-state]')).toHaveCount(0);
  });

  test('Run All runs each cell once (dependents are not run twice)', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'runall.ipynb', CHAIN);
    await waitReactive(page);
    await page.menu.clickMenuItem('Run>Run All Cells');
    await settle(page);
    await expect.poll(() => outputText(page, 2)).toBe('c = 11');
    await page.waitForTimeout(1000);
    await settle(page);
    expect(await executionCount(page, 0)).toBe(1);
    expect(await executionCount(page, 1)).toBe(2);
    expect(await executionCount(page, 2)).toBe(3);
  });

  test('auto: deleting a definer refuses its readers in their own cells, unasked', async ({
    page,
    tmpPath
  }) => {
    // The kernel keeps the notebook consistent without the user running anything: the
    // reader is refused (BlockedCellError) and the reader's reader too
    // (UpstreamFailedError), each in its own cell.
    await openNotebook(page, tmpPath, 'consistent-delete.ipynb', [
      'x = 1',
      'y = x + 1',
      'print(y)'
    ]);
    await waitReactive(page);
    await expect(modeToggle(page)).toContainText('auto');
    await page.menu.clickMenuItem('Run>Run All Cells');
    await settle(page);
    await expect.poll(() => outputText(page, 2)).toBe('2');
    await settle(page);
    const ranLast = (await executionCount(page, 2))!;

    await page.notebook.selectCells(0);
    await page.notebook.deleteCells();
    await expect.poll(() => outputText(page, 0)).toContain('BlockedCellError');
    await expect.poll(() => outputText(page, 1)).toContain('UpstreamFailedError');
    await settle(page);
    expect(await outputText(page, 0)).toContain('`x`');
    expect(await outputText(page, 1)).not.toMatch(/^2$/m);
    // Each was "run" (refused) once, by the extension, in its own cell.
    expect(await executionCount(page, 0)).toBe(ranLast + 1);
    expect(await executionCount(page, 1)).toBe(ranLast + 2);
    await expectState(page, 0, 'blocked');
    await expectState(page, 1, 'upstream-error');
    await page.mouse.move(5, 5);
    await screenshot(page, 'auto-delete-refused');
  });

  test('auto: running an edited cell updates only its reader, in its own cell', async ({
    page,
    tmpPath
  }) => {
    // The cells that do not depend on it are not run again.
    await openNotebook(page, tmpPath, 'consistent-edit.ipynb', [
      'a = 1',
      'b = a * 2',
      'c = 5',
      'd = c + 1; print(d)'
    ]);
    await waitReactive(page);
    await page.menu.clickMenuItem('Run>Run All Cells');
    await settle(page);
    await expect.poll(() => outputText(page, 3)).toBe('6');
    await settle(page);
    const counts = [];
    for (const i of [0, 1]) {
      counts.push(await executionCount(page, i));
    }

    await typeSource(page, 2, 'c = 7');
    await run(page, 2);
    await settle(page);
    await expect.poll(() => outputText(page, 3)).toBe('8');
    await settle(page);
    expect(await outputText(page, 2)).toBe('');
    expect(await executionCount(page, 3)).toBeGreaterThan((await executionCount(page, 2))!);
    expect([await executionCount(page, 0), await executionCount(page, 1)]).toEqual(counts);
    for (const i of [0, 1, 2, 3]) {
      await expectState(page, i, null);
    }
  });

  test('a failing input does not stop the requested cell', async ({ page, tmpPath }) => {
    await openNotebook(
      page,
      tmpPath,
      'failing-input.ipynb',
      ['a = 1', 'x = a\nassert a < 2', 'print(x)', 'assert a < 2\ny = a', 'print(y)'],
      { mode: 'lazy' }
    );
    await waitReactive(page);
    await runAllOnce(page, 5);
    await typeSource(page, 0, 'a = 2');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    await expectState(page, 3, 'stale');

    // The pulled input fails after binding `x`: the requested cell still runs, on it.
    await run(page, 2);
    await settle(page);
    await expect.poll(() => outputText(page, 1)).toContain('AssertionError');
    await expect.poll(() => outputText(page, 2)).toBe('2');
    await expectState(page, 1, 'error');

    // It fails before binding `y`: the requested cell is refused, naming the failed cell.
    await run(page, 4);
    await settle(page);
    await expect.poll(() => outputText(page, 3)).toContain('AssertionError');
    await expect.poll(() => outputText(page, 4)).toContain('UpstreamFailedError');
    // Named by position and first line, not by an execution count.
    expect(await outputText(page, 4)).toContain('cell 4 · assert a < 2 failed');
    expect(await outputText(page, 4)).not.toMatch(/\[\d+\]/);
    await expectState(page, 4, 'upstream-error');
  });

  test('a manual cell is not re-run automatically', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'manual.ipynb', CHAIN);
    await waitReactive(page);
    await runAllOnce(page, 3);
    // The cell toolbar's toggle sets the reactive-manual tag.
    await page.notebook.selectCells(1);
    const c1 = await cell(page, 1);
    await c1.hover();
    await c1
      .locator('.jp-cell-toolbar [data-command="reactive-kernel:toggle-manual"]')
      .click();
    await expect(c1).toHaveClass(/jp-reactive-manual/);
    const tags = await page.evaluate(() => {
      const nb = (window as any).jupyterapp.shell.currentWidget;
      return nb.content.widgets[1].model.getMetadata('tags');
    });
    expect(tags).toEqual(['reactive-manual']);

    await typeSource(page, 0, 'a = 7');
    await run(page, 0);
    await settle(page);
    await page.waitForTimeout(1000);
    expect(await outputText(page, 1)).toBe('b = 10');
    await expectState(page, 1, 'stale');
  });

  test('a second tab does not run the dependents again', async ({
    page,
    tmpPath,
    browser
  }) => {
    await openNotebook(page, tmpPath, 'tabs.ipynb', [...CHAIN, 'pass']);
    await waitReactive(page);
    await runAllOnce(page, 3);

    const other = await browser.newPage();
    try {
      await other.goto(`/lab/tree/${tmpPath}/tabs.ipynb`);
      await expect(
        other.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-reactive-modeToggle')
      ).toBeVisible({ timeout: 60000 });

      await typeSource(page, 0, 'a = 8');
      await run(page, 0);
      await settle(page);
      await expect.poll(() => outputText(page, 2)).toBe('c = 81');
      await page.waitForTimeout(2000);
      const last = await executionCount(page, 2);
      // Nothing else ran in the kernel: the next run gets the next count.
      await run(page, 3);
      await settle(page);
      expect(await executionCount(page, 3)).toBe(last! + 1);
      expect(await executionCount(page, 1)).toBe(last! - 1);
    } finally {
      await other.close();
    }
  });
});

test.describe('kernel restart', () => {
  // Galata's mock of the kernels API answers a restart with 201, which JupyterLab rejects:
  // let the requests through to the server.
  test.use({ kernels: null });

  test('kernel restart marks the old outputs as not run and re-syncs', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'restart.ipynb', CHAIN, { mode: 'lazy' });
    await waitReactive(page);
    await runAllOnce(page, 3);
    await typeSource(page, 0, 'a = 6');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');

    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await page.locator('#jp-main-statusbar >> text=Idle').waitFor();
    // The new kernel knows the notebook (sync) but nothing has run in it: every cell still
    // shows an output or count from before, so each is marked (issue #10), none as stale.
    for (const i of [0, 1, 2]) {
      await expectState(page, i, 'new');
      await expect(await cell(page, i)).toHaveAttribute('data-reactive-mark', /.+/);
      await expect
        .poll(async () =>
          (await cell(page, i)).locator('.jp-InputPrompt').first().getAttribute('title')
        )
        .toMatch(/restart/i);
    }
    await expect(page.locator('.jp-Cell.jp-reactive-stale')).toHaveCount(0);
    await expect(page.locator('.jp-reactive-status')).toHaveText(/^Reactive: lazy · 3\D/);
    await expect(modeToggle(page)).toContainText('lazy');

    // Running the last cell pulls the two above it, each in its own cell.
    await run(page, 2);
    await settle(page);
    await expect.poll(() => outputText(page, 1)).toBe('b = 60');
    await expect.poll(() => outputText(page, 2)).toBe('c = 61');
    expect(await executionCount(page, 0)).toBe(1);
    expect(await executionCount(page, 1)).toBe(2);
    expect(await executionCount(page, 2)).toBe(3);
    await expect(page.locator('.jp-Cell[data-reactive-mark]')).toHaveCount(0);
    await expect(page.locator('.jp-reactive-status')).toHaveText('Reactive: lazy');
  });
});
