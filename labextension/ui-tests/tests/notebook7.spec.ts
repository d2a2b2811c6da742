/**
 * Issue #10 in Notebook 7 (served by the same test server at /notebooks/<path>): the marks
 * and a count of the cells to run, in the notebook toolbar (Notebook 7 has no status bar).
 */
import { expect, test } from '@jupyterlab/galata';

import {
  notebookContent,
  plainCell,
  plainOutputText,
  plainTypeAndRun,
  shutdownSessions
} from './helpers';

// The Lab page is only used to upload the notebook; Notebook 7 runs in a page of its own.
test.use({ autoGoto: false });

test('9. Notebook 7: a stale cell is marked, and the toolbar count runs it', async ({
  page,
  tmpPath,
  request
}) => {
  const name = 'nb7.ipynb';
  const nb = notebookContent(name, ['a = 1', 'b = a + 1\nprint(b)'], { mode: 'lazy' });
  await page.contents.uploadContent(JSON.stringify(nb), 'text', `${tmpPath}/${name}`);

  const nb7 = await page.context().newPage();
  try {
    await nb7.goto(`/notebooks/${tmpPath}/${name}`);
    await expect(nb7.locator('.jp-reactive-modeToggle')).toBeVisible({ timeout: 60000 });
    await expect(nb7.locator('.jp-reactive-modeToggle')).toContainText('lazy');

    // Run both cells, top to bottom (Shift+Enter moves on to the next cell).
    await plainCell(nb7, 0).locator('.cm-content').click();
    await nb7.keyboard.press('Shift+Enter');
    await expect(plainCell(nb7, 0).locator('.jp-InputPrompt')).toHaveText(/\[1\]/, {
      timeout: 60000
    });
    await nb7.keyboard.press('Shift+Enter');
    await expect(plainCell(nb7, 1).locator('.jp-InputPrompt')).toHaveText(/\[2\]/, {
      timeout: 60000
    });
    await expect.poll(() => plainOutputText(nb7, 1)).toBe('2');
    await expect(nb7.locator('.jp-Cell[data-reactive-mark]')).toHaveCount(0);

    await plainTypeAndRun(nb7, 0, 'a = 2');
    await expect(plainCell(nb7, 0).locator('.jp-InputPrompt')).toHaveText(/\[3\]/, {
      timeout: 60000
    });
    await expect(plainCell(nb7, 1)).toHaveAttribute('data-reactive-state', 'stale');
    await expect(plainCell(nb7, 1)).toHaveClass(/jp-reactive-stale/);
    const count = nb7.locator('.jp-reactive-count');
    await expect(count).toBeVisible();
    await expect(count).toHaveText(/(^|\D)1(\D|$)/);

    await count.click();
    await expect.poll(() => plainOutputText(nb7, 1), { timeout: 60000 }).toBe('3');
    await expect(plainCell(nb7, 1).locator('.jp-InputPrompt')).toHaveText(/\[4\]/);
    await expect(nb7.locator('.jp-Cell[data-reactive-mark]')).toHaveCount(0);
    await expect(count).not.toHaveText(/[1-9]/);
  } finally {
    await nb7.close();
    await shutdownSessions(request, tmpPath);
  }
});
