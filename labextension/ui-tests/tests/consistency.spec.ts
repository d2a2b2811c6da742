/**
 * Issue #10, "The notebook never looks up to date when it is not": each numbered problem of
 * the issue, as a user meets it in JupyterLab. Every test fails without its fix.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  ARTIFACTS,
  cell,
  command,
  effectiveOpacity,
  executionCount,
  expectState,
  openNotebook,
  outputText,
  plainCell,
  plainOutputText,
  plainTypeAndRun,
  promptTitle,
  restartKernel,
  run,
  CHAIN,
  openTheDemo,
  runAll,
  settle,
  statusItem,
  typeSource,
  waitReactive
} from './helpers';

test.use({ autoGoto: true });

/** A definer and four cells reading from it, each from the one above. */
const READERS = ['noise = 1', 'a = noise + 1', 'b = a * 2', 'c = b + 1', 'd = c + 1'];

const VISIBLE = '.jp-NotebookPanel:not(.lm-mod-hidden)';

/** The cells of the visible notebook that carry a mark. */
function markedCells(page: IJupyterLabPageFixture): Locator {
  return page.locator(
    `${VISIBLE} .jp-Cell[data-reactive-mark], ${VISIBLE} .jp-Cell[data-reactive-state]`
  );
}

/** Error outputs (tracebacks and stderr) of the visible notebook, or of one cell. */
function errorOutputs(scope: Locator): Locator {
  return scope.locator(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
  );
}

/** The status bar says how many cells are not up to date: `n` must appear in its text; its
 * tooltip gives `n` too, or counts per kind adding up to `n`, and never claims that every
 * cell is up to date. */
async function expectStatusCount(page: IJupyterLabPageFixture, n: number): Promise<void> {
  const item = statusItem(page);
  await expect(item).toBeVisible();
  await expect(item).toHaveText(new RegExp(`(^|\\D)${n}(\\D|$)`));
  await expect(item).not.toHaveAttribute('title', /all cells up to date/i);
  const title = (await item.getAttribute('title')) ?? '';
  const numbers = (title.match(/\d+/g) ?? []).map(Number);
  const sum = numbers.reduce((a, b) => a + b, 0);
  expect(numbers.includes(n) || sum === n, `status tooltip ${JSON.stringify(title)}`).toBe(
    true
  );
}

/** The status bar shows no count: nothing is out of date. */
async function expectStatusClean(page: IJupyterLabPageFixture): Promise<void> {
  await expect(statusItem(page)).toBeVisible();
  await expect(statusItem(page)).not.toHaveText(/\d/);
}

/** How opaque a cell's outputs look. */
async function outputOpacity(page: IJupyterLabPageFixture, index: number): Promise<number> {
  return effectiveOpacity((await cell(page, index)).locator('.jp-OutputArea').first());
}

test.describe('issue #10: the notebook looks as up to date as it is', () => {
  test('1. the demo opens unmodified and Run All runs it without an error', async ({
    page,
    tmpPath
  }) => {
    await openTheDemo(page, tmpPath);
    // The kernel's info (language_info) has reached the notebook's metadata by now.
    await page.waitForTimeout(1500);
    const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', {
      hasText: 'demo.ipynb'
    });
    await expect(tab).not.toHaveClass(/jp-mod-dirty/);
    expect(
      await page.evaluate(
        () => (window as any).jupyterapp.shell.currentWidget.context.model.dirty
      )
    ).toBe(false);

    await runAll(page);
    const codeCells = page.locator(`${VISIBLE} .jp-CodeCell`);
    const n = await codeCells.count();
    expect(n).toBeGreaterThan(5);
    for (let i = 0; i < n; i++) {
      await expect(codeCells.nth(i).locator('.jp-InputPrompt').first()).toHaveText(
        /\[\d+\]/
      );
    }
    await expect(errorOutputs(page.locator(VISIBLE))).toHaveCount(0);
    const plot = codeCells.filter({
      has: page.locator('.jp-InputArea-editor', { hasText: 'plot.scatter' })
    });
    await expect(plot).toHaveCount(1);
    await expect(plot.locator('.jp-OutputArea-output img').first()).toBeVisible();
    // Everything ran: nothing is marked, the status bar counts nothing.
    await expect(markedCells(page)).toHaveCount(0);
    await expectStatusClean(page);
  });

  test('2. lazy: deleting a definer counts its four readers in the status bar', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'honest-delete.ipynb', READERS, { mode: 'lazy' });
    await waitReactive(page);
    await runAll(page);
    await expect(markedCells(page)).toHaveCount(0);
    await expectStatusClean(page);

    await page.notebook.selectCells(0);
    await page.notebook.deleteCells();
    await expectState(page, 0, 'blocked');
    for (const i of [1, 2, 3]) {
      await expect(await cell(page, i)).toHaveAttribute(
        'data-reactive-state',
        /^(blocked|upstream-error)$/
      );
    }
    await expectStatusCount(page, 4);
  });

  test('2. auto: a syntax error upstream counts the cell and its readers', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'honest-typo.ipynb', READERS);
    await waitReactive(page);
    await runAll(page);
    await expectStatusClean(page);

    await typeSource(page, 1, 'a = noise +');
    await run(page, 1);
    await settle(page);
    await page.waitForTimeout(1000);
    await settle(page);
    await expect.poll(() => outputText(page, 1)).toContain('SyntaxError');
    await expect(await cell(page, 1)).toHaveAttribute('data-reactive-state', /.+/);
    for (const i of [2, 3, 4]) {
      await expect(await cell(page, i)).toHaveAttribute(
        'data-reactive-state',
        /^(blocked|upstream-error)$/
      );
    }
    await expectState(page, 0, null);
    await expectStatusCount(page, 4);
  });

  test('3. a refused run gets a mark and Run Stale Cells fixes it', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'refused.ipynb', CHAIN, { mode: 'lazy' });
    await waitReactive(page);
    await runAll(page);
    expect(await outputText(page, 1)).toBe('b = 10');

    // `a = 1` below its reader: the reader is blocked; running it is refused.
    await page.notebook.selectCells(0);
    await command(page, 'notebook:move-cell-down');
    await expect.poll(() => page.notebook.getCellTextInput(1)).toBe('a = 1');
    await expectState(page, 0, 'blocked');
    await run(page, 0);
    await settle(page);
    await expect.poll(() => outputText(page, 0)).toContain('BlockedCellError');
    await expectState(page, 0, 'blocked');
    // The refusal is today's news: not dimmed like an old output.
    await expect.poll(() => outputOpacity(page, 0)).toBe(1);

    // Back above it: the refused cell can run now, and says so.
    await page.notebook.selectCells(1);
    await command(page, 'notebook:move-cell-up');
    await expect.poll(() => page.notebook.getCellTextInput(0)).toBe('a = 1');
    await expectState(page, 1, 'stale');
    await expect.poll(() => promptTitle(page, 1)).toMatch(/refused/i);
    await expect(statusItem(page)).toHaveText(/[1-9]/);

    await command(page, 'reactive-kernel:run-stale');
    await settle(page);
    await expect.poll(() => outputText(page, 1)).toBe('b = 10');
    await expect.poll(() => outputText(page, 2)).toBe('c = 11');
    await settle(page);
    await expect(markedCells(page)).toHaveCount(0);
    await expectStatusClean(page);
  });

  test("4. another tab's edit marks this tab's cell; Run Stale runs this tab's source", async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'twotabs.ipynb', [
      'n = 100',
      'total = n * 2',
      'print(total)'
    ]);
    await waitReactive(page);
    await runAll(page);
    await expect.poll(() => outputText(page, 2)).toBe('200');
    const before = (await executionCount(page, 2))!;

    const other = await page.context().newPage();
    try {
      await other.goto(`/lab/tree/${tmpPath}/twotabs.ipynb`);
      await expect(other.locator(`${VISIBLE} .jp-reactive-modeToggle`)).toBeVisible({
        timeout: 60000
      });
      await expect(plainCell(other, 0)).toContainText('n = 100');
      await plainTypeAndRun(other, 0, 'n = 60');
      // The other tab runs the dependents (auto mode): its kernel values are now 60, 120.
      await expect
        .poll(() => plainOutputText(other, 2), { timeout: 60000 })
        .toBe('120');
      await expect(
        other.locator(`${VISIBLE} .jp-InputPrompt`, { hasText: '[*]' })
      ).toHaveCount(0, { timeout: 60000 });

      // This tab's `n = 100` is not what the kernel ran last: marked and counted.
      const first = await cell(page, 0);
      await expect(first).toHaveClass(/jp-reactive-edited/);
      await expect(first).toHaveAttribute('data-reactive-mark', /.+/);
      await expect.poll(() => promptTitle(page, 0)).toMatch(/(another|other) (tab|window)/i);
      await expect(statusItem(page)).toHaveText(/[1-9]/);
      expect(await outputText(page, 2)).toBe('200');

      // Run Stale Cells here runs this tab's source: total is 200 again, never 120.
      await command(page, 'reactive-kernel:run-stale');
      await settle(page);
      await page.waitForTimeout(1000);
      await settle(page);
      await expect.poll(() => executionCount(page, 2)).toBeGreaterThan(before);
      expect(await outputText(page, 2)).toBe('200');
      await expect(markedCells(page)).toHaveCount(0);
      await expectStatusClean(page);
    } finally {
      await other.close();
    }
  });

  test('6. tooltips and %reactive why name cells by position and snippet', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(
      page,
      tmpPath,
      'names.ipynb',
      [
        'a = 1',
        'b = a + 1',
        '%reactive why',
        '%reactive why 2',
        '%reactive why 99',
        "print('after')"
      ],
      { mode: 'lazy' }
    );
    await waitReactive(page);
    await run(page, 0);
    await settle(page);
    await run(page, 1);
    await settle(page);
    await typeSource(page, 0, 'a = 2');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    const title = await promptTitle(page, 1);
    expect(title).toMatch(/cell 1 · a = [12]/);
    expect(title).not.toMatch(/\[\d+\]/);

    // No argument: the cell above.
    await run(page, 2);
    await settle(page);
    const above = await outputText(page, 2);
    expect(above).toContain('cell 2 · b = a + 1');
    expect(above).toContain('cell 1 · a = 2');
    expect(above).not.toMatch(/\[\d+\]/);
    expect(above).not.toContain('%reactive why');

    await run(page, 3);
    await settle(page);
    const second = await outputText(page, 3);
    expect(second).toContain('cell 2 · b = a + 1');
    expect(second).toContain('cell 1 · a = 2');

    // A position that does not exist: a message, not an error; Run All goes on.
    await runAll(page);
    await expect.poll(() => outputText(page, 5)).toBe('after');
    expect(await outputText(page, 4)).toContain('99');
    await expect(errorOutputs(await cell(page, 4))).toHaveCount(0);
    await expect(errorOutputs(page.locator(VISIBLE))).toHaveCount(0);
  });

  test('7. %reactive graph renders a Mermaid diagram of the cells with edges', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'graph-output.ipynb', [
      'a = 1',
      'b = a + 1',
      "print('hello')",
      '%reactive graph'
    ]);
    await waitReactive(page);
    await runAll(page);
    // The renderer's own node is the output node.
    const diagram = (await cell(page, 3)).locator('.jp-OutputArea-output.jp-RenderedMermaid');
    await expect(diagram).toBeVisible();
    await expect(diagram).not.toHaveClass(/jp-mod-warning/);
    await expect(diagram.locator('img')).toBeVisible();
    const source = (await diagram.locator('code.mermaid').textContent()) ?? '';
    expect(source).toContain('a = 1');
    expect(source).toContain('b = a + 1');
    expect(source).not.toContain('hello');
    expect(source).not.toContain('reactive graph');
  });

  test('8. the upstream-error badge shows its whole text', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'badge.ipynb', ['x = 1', 'y = x + 1', 'z = y + 1'], {
      mode: 'lazy'
    });
    await waitReactive(page);
    await runAll(page);
    await page.notebook.selectCells(0);
    await page.notebook.deleteCells();
    await expectState(page, 0, 'blocked');
    await expectState(page, 1, 'upstream-error');
    const prompt = (await cell(page, 1)).locator('.jp-InputPrompt').first();
    const cut = await prompt.evaluate(node => {
      const problems: string[] = [];
      const style = getComputedStyle(node);
      const after = getComputedStyle(node, '::after');
      // The prompt clips at its padding box: a right-aligned badge may reach into the
      // right padding (negative right margin), and no further; it has the content box and
      // the left padding to grow into.
      const paddingRight = parseFloat(style.paddingRight);
      const reach = Math.max(0, -(parseFloat(after.marginRight) || 0));
      if (reach > paddingRight + 0.5) {
        problems.push(`badge reaches ${reach}px right of the prompt's ${paddingRight}px padding`);
      }
      const room = node.clientWidth - paddingRight + Math.min(reach, paddingRight);
      if (after.content && after.content !== 'none' && after.display !== 'none') {
        const width = parseFloat(after.width);
        if (width > room + 0.5) {
          problems.push(`badge ${after.content} is ${width}px wide, room ${room}px`);
        }
        // Wrapping is fine, but between words: "upstrea|m error" is cut too.
        const ctx = document.createElement('canvas').getContext('2d')!;
        ctx.font = `${after.fontStyle} ${after.fontWeight} ${after.fontSize} ${after.fontFamily}`;
        const frame = ['paddingLeft', 'paddingRight', 'borderLeftWidth', 'borderRightWidth']
          .map(k => parseFloat((after as any)[k]) || 0)
          .reduce((x, y) => x + y, 0);
        const text = after.content.replace(/^["']|["']$/g, '');
        for (const word of text.split(/\s+/).filter(Boolean)) {
          const needs = ctx.measureText(word).width + frame;
          if (needs > room + 0.5) {
            problems.push(`badge word "${word}" needs ${needs.toFixed(1)}px, room ${room}px`);
          }
        }
      }
      if (node.scrollHeight > node.clientHeight + 0.5) {
        problems.push(`prompt: ${node.scrollHeight}px high, shows ${node.clientHeight}px`);
      }
      for (const el of [node, ...Array.from(node.querySelectorAll('*'))]) {
        if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 0.5) {
          problems.push(`${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
        }
      }
      return problems;
    });
    expect(cut).toEqual([]);
  });

  test('8. a stale output is dimmed, a fresh refusal is not', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'dim.ipynb', [...CHAIN, 'print(z)', 'z = 3'], {
      mode: 'lazy'
    });
    await waitReactive(page);
    for (const i of [0, 1, 2, 3]) {
      await run(page, i);
      await settle(page);
    }
    await expect.poll(() => outputText(page, 3)).toContain('BlockedCellError');
    await expectState(page, 3, 'blocked');
    await expect.poll(() => outputOpacity(page, 3)).toBe(1);
    await expect.poll(() => outputOpacity(page, 1)).toBe(1);

    await typeSource(page, 0, 'a = 2');
    await run(page, 0);
    await settle(page);
    await expectState(page, 1, 'stale');
    await expect.poll(() => outputOpacity(page, 1)).toBeLessThan(1);
  });

  test('8. a never-run cell says so once', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'never.ipynb', ['a = 1', 'b = a + 1']);
    await waitReactive(page);
    await expectState(page, 0, 'new');
    await expect.poll(() => promptTitle(page, 0)).toMatch(/not run yet/i);
    for (const i of [0, 1]) {
      const title = await promptTitle(page, i);
      expect(title).not.toMatch(/not run yet\W+not run yet/i);
      expect(title.match(/not run yet/gi)?.length ?? 0).toBeLessThanOrEqual(1);
    }
  });

  test('8. Run Stale Cells is in the Run menu and the cell context menu', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'menus.ipynb', CHAIN);
    await waitReactive(page);
    await page.menu.open('Run');
    await expect(
      page.locator('.lm-Menu .lm-Menu-itemLabel', { hasText: /^Run Stale Cells/ })
    ).toBeVisible();
    await page.menu.closeAll();

    await (await cell(page, 1)).locator('.jp-InputArea-editor').click({ button: 'right' });
    await expect(
      page.locator('.lm-Menu .lm-Menu-itemLabel', { hasText: /^Run Stale Cells/ })
    ).toBeVisible();
    await page.keyboard.press('Escape');
  });

  test('8. the Reactive status item hides while the Launcher is current', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'launcher.ipynb', CHAIN);
    await waitReactive(page);
    await expect(statusItem(page)).toBeVisible();
    await command(page, 'launcher:create');
    await expect(page.locator('.jp-Launcher:visible').first()).toBeVisible();
    await expect(statusItem(page)).toBeHidden();
    await page.notebook.activate('launcher.ipynb');
    await expect(statusItem(page)).toBeVisible();
  });

  test('marks of every kind, and the status bar (README picture)', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(
      page,
      tmpPath,
      'marks.ipynb',
      [
        'a = 1',
        "b = a * 10\nprint('b =', b)",
        'print(z)',
        'z = 3',
        'ratio = 1 / 0',
        'print(ratio)',
        "note = 'draft'",
        'later = a + 1'
      ],
      { mode: 'lazy' }
    );
    await waitReactive(page);
    for (const i of [0, 1, 3, 4, 5, 6, 2]) {
      await run(page, i);
      await settle(page);
    }
    await typeSource(page, 0, 'a = 2');
    await run(page, 0);
    await settle(page);
    await typeSource(page, 6, "note = 'final'");
    await expectState(page, 1, 'stale');
    await expectState(page, 2, 'blocked');
    await expectState(page, 4, 'error');
    await expectState(page, 5, 'upstream-error');
    await expectState(page, 6, 'edited');
    await expectState(page, 7, 'new');
    await expect(statusItem(page)).toHaveText(/[1-9]/);
    await page.notebook.selectCells(0);
    await page.sidebar.close('left');
    await page.mouse.move(5, 5);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'marks.png') });
  });
});

test.describe('issue #10: kernel restart', () => {
  // Galata's mock of the kernels API answers a restart with 201, which JupyterLab rejects:
  // let the requests through to the server.
  test.use({ kernels: null });

  test('5. after a restart the old outputs are marked until they run again', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'restart-marks.ipynb', [
      'a = 1',
      'b = a + 1',
      'print(b)'
    ]);
    await waitReactive(page);
    await runAll(page);
    await expect.poll(() => outputText(page, 2)).toBe('2');
    await typeSource(page, 1, 'b = a + 2');
    await expectState(page, 1, 'edited');

    await restartKernel(page);
    await waitReactive(page);
    // Every cell showing an output or a count is not up to date: nothing ran yet. The
    // edited cell too keeps a visible mark.
    for (const i of [0, 1, 2]) {
      await expect(await cell(page, i)).toHaveAttribute('data-reactive-mark', /.+/);
      const badge = await (await cell(page, i))
        .locator('.jp-InputPrompt')
        .first()
        .evaluate(node => getComputedStyle(node, '::after').content);
      expect(badge).not.toMatch(/^(none|normal|)$/);
    }
    for (const i of [0, 2]) {
      await expect.poll(() => promptTitle(page, i)).toMatch(/restart/i);
    }
    await expect.poll(() => outputOpacity(page, 2)).toBeLessThan(1);
    await expect(statusItem(page)).toHaveText(/[1-9]/);

    await runAll(page);
    await expect.poll(() => outputText(page, 2)).toBe('3');
    await expect(markedCells(page)).toHaveCount(0);
    await expect.poll(() => outputOpacity(page, 2)).toBe(1);
    await expectStatusClean(page);
  });
});
