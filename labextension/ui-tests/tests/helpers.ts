import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

/** Write a notebook (cells with fixed ids) to the server and open it. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  sources: string[],
  options: { kernel?: string; mode?: 'auto' | 'lazy' } = {}
): Promise<void> {
  const kernel = options.kernel ?? 'reactive';
  const metadata: Record<string, unknown> = {
    kernelspec: {
      name: kernel,
      display_name: kernel === 'reactive' ? 'Python 3 (reactive)' : 'Python 3',
      language: 'python'
    },
    language_info: { name: 'python' }
  };
  if (options.mode) {
    metadata.reactive = { mode: options.mode };
  }
  const stem = name.replace(/\.ipynb$/, '').replace(/[^a-z0-9]/gi, '');
  const nb = {
    cells: sources.map((source, i) => ({
      cell_type: 'code',
      id: `${stem}-c${i}`,
      execution_count: null,
      metadata: {},
      outputs: [],
      source
    })),
    metadata,
    nbformat: 4,
    nbformat_minor: 5
  };
  await page.contents.uploadContent(JSON.stringify(nb), 'text', `${tmpPath}/${name}`);
  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await page.notebook.activate(name);
  await page.locator('#jp-main-statusbar >> text=Idle').waitFor({ timeout: 60000 });
}

/** The active notebook's toolbar toggle (visible only for a reactive kernel). */
export function modeToggle(page: IJupyterLabPageFixture): Locator {
  return page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-reactive-modeToggle'
  );
}

/** Wait until the extension has the kernel's first state for the active notebook. */
export async function waitReactive(page: IJupyterLabPageFixture): Promise<void> {
  await expect(modeToggle(page)).toBeVisible({ timeout: 60000 });
}

export async function cell(page: IJupyterLabPageFixture, index: number): Promise<Locator> {
  const locator = await page.notebook.getCellLocator(index);
  if (!locator) {
    throw new Error(`no cell ${index}`);
  }
  return locator;
}

/** The text of a cell's outputs, joined. */
export async function outputText(
  page: IJupyterLabPageFixture,
  index: number
): Promise<string> {
  const c = await cell(page, index);
  const out = c.locator('.jp-OutputArea-output');
  const n = await out.count();
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    texts.push((await out.nth(i).innerText()).trim());
  }
  return texts.join('\n');
}

/** The execution count a cell shows (null for none). */
export async function executionCount(
  page: IJupyterLabPageFixture,
  index: number
): Promise<number | null> {
  const c = await cell(page, index);
  const text = await c.locator('.jp-InputArea-prompt').first().innerText();
  const m = /\[(\d+)\]/.exec(text);
  return m ? Number(m[1]) : null;
}

export async function expectState(
  page: IJupyterLabPageFixture,
  index: number,
  state: string | null
): Promise<void> {
  const c = await cell(page, index);
  if (state === null) {
    await expect(c).not.toHaveAttribute('data-reactive-state', /.*/);
  } else {
    await expect(c).toHaveAttribute('data-reactive-state', state);
  }
}

/** Replace a cell's source by typing it, as a user would. */
export async function typeSource(
  page: IJupyterLabPageFixture,
  index: number,
  source: string
): Promise<void> {
  await page.notebook.setCell(index, 'code', source);
  await page.notebook.leaveCellEditingMode(index);
}

/** Run one cell with Shift+Enter, waiting for its execution count. */
export async function run(page: IJupyterLabPageFixture, index: number): Promise<void> {
  await page.notebook.runCell(index);
}

export async function screenshot(
  page: IJupyterLabPageFixture,
  name: string
): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // Move the mouse away so no hover highlight is in the picture, unless asked.
  const panel = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden)');
  await panel.screenshot({ path: file });
  return file;
}

/** Wait until every cell has finished running and the kernel is idle. */
export async function settle(page: IJupyterLabPageFixture): Promise<void> {
  await page.waitForTimeout(300);
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt', {
      hasText: '[*]'
    })
  ).toHaveCount(0, { timeout: 60000 });
  await page.locator('#jp-main-statusbar >> text=Idle').waitFor();
}
