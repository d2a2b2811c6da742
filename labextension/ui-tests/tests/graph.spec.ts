import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  ARTIFACTS,
  cell,
  notebookContent,
  openNotebook,
  settle,
  shutdownSessions,
  typeSource,
  waitReactive
} from './helpers';

test.use({ autoGoto: true });

const COMMAND = 'reactive-kernel:show-graph';

interface IRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const overlap = (a: IRect, b: IRect) =>
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** The pairs (i, j) of boxes that overlap. */
function overlapping(a: IRect[], b: IRect[] | null = null): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = b ? 0 : i + 1; j < (b ?? a).length; j++) {
      if (overlap(a[i], (b ?? a)[j])) {
        found.push([i, j]);
      }
    }
  }
  return found;
}

/** The on-screen boxes of the elements `locator` matches. */
async function boxes(locator: Locator): Promise<IRect[]> {
  return locator.evaluateAll(els =>
    els.map(el => {
      const r = el.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    })
  );
}

async function showGraph(page: IJupyterLabPageFixture): Promise<Locator> {
  await expect
    .poll(() =>
      page.evaluate(id => (window as any).jupyterapp.commands.isEnabled(id), COMMAND)
    )
    .toBe(true);
  await page.evaluate(id => (window as any).jupyterapp.commands.execute(id), COMMAND);
  const view = page.locator('.jp-reactive-graphView');
  await expect(view).toBeVisible();
  return view;
}

/** Run every cell once, top to bottom, one by one. */
async function runAll(page: IJupyterLabPageFixture, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await page.notebook.runCell(i);
    await settle(page);
  }
}

test.describe('dependency graph view', () => {
  test('shows the connected cells, follows the notebook live, jumps to cells', async ({
    page,
    tmpPath
  }) => {
    const sources = [
      'import math',
      'a = 1',
      'b = a * 10',
      'c = a + b',
      "print('hello')",
      '%reactive'
    ];
    await openNotebook(page, tmpPath, 'graph.ipynb', sources, { mode: 'lazy' });
    await waitReactive(page);
    // Run All (no empty cell appended, unlike Shift+Enter on the last cell).
    await page.notebook.run();
    await settle(page);
    await expect(page.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(sources.length);

    const view = await showGraph(page);
    const nodes = view.locator('.jp-reactive-graphNode');
    await expect(nodes).toHaveCount(3);
    expect(
      (await nodes.evaluateAll(els => els.map(e => e.getAttribute('data-cell-id')))).sort()
    ).toEqual(['graph-c1', 'graph-c2', 'graph-c3']);
    await expect(view.locator('.jp-reactive-graphNodeTitle')).toHaveText([
      'cell 2',
      'cell 3',
      'cell 4'
    ]);
    await expect(view.locator('.jp-reactive-graphNodeSnippet')).toHaveText([
      'a = 1',
      'b = a * 10',
      'c = a + b'
    ]);
    const labels = view.locator('.jp-reactive-graphEdgeLabel');
    await expect(labels).toHaveCount(3);
    const edges = await labels.evaluateAll(els =>
      els
        .map(e => `${e.getAttribute('data-from')}->${e.getAttribute('data-to')}:${e.querySelector('text')?.textContent}`)
        .sort()
    );
    expect(edges).toEqual([
      'graph-c1->graph-c2:a',
      'graph-c1->graph-c3:a',
      'graph-c2->graph-c3:b'
    ]);
    await expect(view.locator('.jp-reactive-graphHidden')).toHaveText(
      '3 cells without dependencies hidden'
    );
    await expect(view.locator('.jp-reactive-graphName')).toHaveText('graph.ipynb');
    // Tooltips carry the state and the kernel's reason.
    await expect(view.locator('[data-cell-id="graph-c2"] > title')).toHaveText(/cell 3: ok/);

    // What the browser drew: label texts apart from each other, inside their backgrounds,
    // and off the cells' boxes.
    const texts = await boxes(view.locator('.jp-reactive-graphEdgeLabel text'));
    const backs = await boxes(view.locator('.jp-reactive-graphEdgeLabel rect'));
    const cellBoxes = await boxes(view.locator('.jp-reactive-graphNode rect'));
    expect(texts).toHaveLength(3);
    expect(overlapping(texts)).toEqual([]);
    expect(overlapping(backs)).toEqual([]);
    expect(overlapping(backs, cellBoxes)).toEqual([]);
    texts.forEach((t, i) => {
      expect(t.left).toBeGreaterThanOrEqual(backs[i].left - 0.5);
      expect(t.right).toBeLessThanOrEqual(backs[i].right + 0.5);
    });
    // Node texts fit their boxes (the view measures its fonts).
    const snippetBoxes = await boxes(view.locator('.jp-reactive-graphNodeSnippet'));
    snippetBoxes.forEach((t, i) => {
      expect(t.left).toBeGreaterThanOrEqual(cellBoxes[i].left);
      expect(t.right).toBeLessThanOrEqual(cellBoxes[i].right);
    });

    // Show all cells, then hide them again.
    await view.locator('.jp-reactive-graphShowAll input').check();
    await expect(nodes).toHaveCount(6);
    await expect(view.locator('.jp-reactive-graphHidden')).toHaveText(
      '3 cells without dependencies shown'
    );
    await view.locator('.jp-reactive-graphShowAll input').uncheck();
    await expect(nodes).toHaveCount(3);

    // A click on `b`'s box makes that cell the notebook's active cell.
    // (The graph view is the shell's current widget: find the cell without Galata's helpers,
    // which look in the current widget.)
    const bCell = page.locator('.jp-NotebookPanel .jp-Cell').nth(2);
    await expect(bCell).toContainText('b = a * 10');
    await expect(bCell).not.toHaveClass(/jp-mod-active/);
    await view.locator('[data-cell-id="graph-c2"]').click();
    await expect(bCell).toHaveClass(/jp-mod-active/);
    await expect(page.locator('.jp-NotebookPanel .jp-Cell.jp-mod-active')).toHaveCount(1);
    // The notebook is the current widget again: Galata's helpers work on it.
    await expect(await cell(page, 2)).toHaveClass(/jp-mod-active/);
    await expect(view.locator('[data-cell-id="graph-c2"]')).toHaveClass(/jp-mod-active/);

    // Edit `a` and run it (lazy mode): its readers turn stale in the open view.
    const viewId = await view.getAttribute('id');
    await typeSource(page, 1, 'a = 2');
    await expect(view.locator('[data-cell-id="graph-c1"]')).toHaveClass(
      /jp-reactive-graph-edited/
    );
    await page.notebook.runCell(1);
    await settle(page);
    await expect(view.locator('[data-cell-id="graph-c2"]')).toHaveClass(
      /jp-reactive-graph-stale/
    );
    await expect(view.locator('[data-cell-id="graph-c3"]')).toHaveClass(
      /jp-reactive-graph-stale/
    );
    await expect(view.locator('[data-cell-id="graph-c1"]')).toHaveClass(/jp-reactive-graph-ok/);
    // The legend names the states drawn.
    await expect(view.locator('.jp-reactive-graphLegendItem')).toHaveText(['ok', 'stale']);
    await expect(view.locator('[data-cell-id="graph-c2"] > title')).toHaveText(
      /cell 3: stale\n.*`a`/
    );
    await expect(page.locator('.jp-reactive-graphView')).toHaveCount(1);
    expect(await view.getAttribute('id')).toBe(viewId);

    // A new reader appears without reopening the view (debounced edit, then the state).
    await page.notebook.setCell(4, 'code', 'print(c)');
    await expect(nodes).toHaveCount(4);
    await expect(view.locator('.jp-reactive-graphHidden')).toHaveText(
      '2 cells without dependencies hidden'
    );

    // Asked again, the command shows the same view; closing the notebook closes it.
    await page.notebook.activate('graph.ipynb');
    await page.evaluate(id => (window as any).jupyterapp.commands.execute(id), COMMAND);
    await expect(page.locator('.jp-reactive-graphView')).toHaveCount(1);
    await page.notebook.activate('graph.ipynb');
    await page.notebook.close(true);
    await expect(page.locator('.jp-reactive-graphView')).toHaveCount(0);
  });

  test('a data pipeline, side by side (screenshot for the docs)', async ({
    page,
    tmpPath
  }) => {
    const sources = [
      'n = 50',
      'xs = list(range(n))',
      'ys = [x * x for x in xs]',
      'total = sum(ys)',
      'mean = total / n',
      'print(mean)',
      'spread = max(ys) - min(ys)',
      "print(f'{mean:.1f} ± {spread:.1f}')"
    ];
    await page.setViewportSize({ width: 1440, height: 860 });
    await openNotebook(page, tmpPath, 'pipeline.ipynb', sources, { mode: 'lazy' });
    await waitReactive(page);
    await runAll(page, sources.length);
    await typeSource(page, 0, 'n = 80');
    await page.notebook.runCell(0);
    await settle(page);

    const view = await showGraph(page);
    await expect(view.locator('.jp-reactive-graphNode')).toHaveCount(sources.length);
    await expect(view.locator('.jp-reactive-graphNode.jp-reactive-graph-stale')).toHaveCount(
      sources.length - 1
    );
    await expect(view.locator('.jp-reactive-graphEdgeLabel')).not.toHaveCount(0);
    const texts = await boxes(view.locator('.jp-reactive-graphEdgeLabel text'));
    const backs = await boxes(view.locator('.jp-reactive-graphEdgeLabel rect'));
    const cellBoxes = await boxes(view.locator('.jp-reactive-graphNode rect'));
    expect(overlapping(texts)).toEqual([]);
    expect(overlapping(backs)).toEqual([]);
    expect(overlapping(backs, cellBoxes)).toEqual([]);
    expect(overlapping(cellBoxes)).toEqual([]);

    // No pop-up or hover highlight in the picture.
    await page.keyboard.press('Escape');
    await expect(page.locator('.jp-reactive-popup')).toHaveCount(0);
    await page.mouse.move(0, 0);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'graph-view.png');
    await page.locator('#jp-main-dock-panel').screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(10000);
  });

  test('Notebook 7: the toolbar button opens the graph in the side panel', async ({
    page,
    tmpPath,
    request
  }) => {
    const name = 'nb7graph.ipynb';
    const nb = notebookContent(name, ['a = 1', 'b = a + 1', "print('hi')"], { mode: 'lazy' });
    await page.contents.uploadContent(JSON.stringify(nb), 'text', `${tmpPath}/${name}`);
    const nb7 = await page.context().newPage();
    try {
      await nb7.goto(`/notebooks/${tmpPath}/${name}`);
      await expect(nb7.locator('.jp-reactive-modeToggle')).toBeVisible({ timeout: 60000 });
      await nb7.locator('.jp-reactive-graphButton').click();
      const view = nb7.locator('.jp-reactive-graphView');
      await expect(view).toBeVisible();
      // The kernel knows who reads what before anything ran.
      await expect(view.locator('.jp-reactive-graphNode')).toHaveCount(2);
      await expect(view.locator('.jp-reactive-graphEdgeLabel text')).toHaveText(['a']);
      await expect(view.locator('.jp-reactive-graphHidden')).toHaveText(
        '1 cell without dependencies hidden'
      );
      await view.locator('[data-cell-id="nb7graph-c1"]').click();
      await expect(nb7.locator('.jp-Cell').nth(1)).toHaveClass(/jp-mod-active/);
    } finally {
      await nb7.close();
      await shutdownSessions(request, tmpPath);
    }
  });
});
