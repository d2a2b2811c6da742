import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

/** Options of a test notebook: its kernel and the reactive mode it remembers. */
export interface INotebookOptions {
  kernel?: string;
  mode?: 'auto' | 'lazy';
}

/**
 * A notebook's JSON: code cells with fixed ids (`<stem>-c<index>`), so that tests can name
 * cells; the kernelspec and, if given, the remembered reactive mode.
 */
export function notebookContent(
  name: string,
  sources: string[],
  options: INotebookOptions = {}
): Record<string, unknown> {
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
  return {
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
}

/** Write a notebook (cells with fixed ids) to the server and open it. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  sources: string[],
  options: INotebookOptions = {}
): Promise<void> {
  const nb = notebookContent(name, sources, options);
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

/** The reactive status-bar item (JupyterLab). */
export function statusItem(page: Page | IJupyterLabPageFixture): Locator {
  return page.locator('#jp-main-statusbar .jp-reactive-status');
}

/** A cell's prompt tooltip: the state and the kernel's reason ('' for none). */
export async function promptTitle(
  page: IJupyterLabPageFixture,
  index: number
): Promise<string> {
  const c = await cell(page, index);
  return (await c.locator('.jp-InputPrompt').first().getAttribute('title')) ?? '';
}

/** Run a JupyterLab command, as a menu item or a shortcut would. */
export async function command(
  page: Page | IJupyterLabPageFixture,
  id: string,
  args: Record<string, unknown> = {}
): Promise<void> {
  await page.evaluate(
    async ({ id, args }) => {
      // Not its result: a widget cannot cross to the test.
      await (window as any).jupyterapp.commands.execute(id, args);
    },
    { id, args }
  );
}

/** Run > Run All Cells, then wait until everything (also what the kernel listed) ran. */
export async function runAll(page: IJupyterLabPageFixture): Promise<void> {
  await page.menu.clickMenuItem('Run>Run All Cells');
  await settle(page);
  await page.waitForTimeout(1000);
  await settle(page);
}

/** Restart the kernel from the Kernel menu and wait until it is idle again. Needs
 * `test.use({ kernels: null })` (Galata's kernels mock answers a restart wrongly). */
export async function restartKernel(page: IJupyterLabPageFixture): Promise<void> {
  await page.menu.clickMenuItem('Kernel>Restart Kernel…');
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  await page.locator('#jp-main-statusbar >> text=Idle').waitFor({ timeout: 60000 });
}

/**
 * How opaque an element looks: the product of its own and its ancestors' computed opacity,
 * up to the cell (dimming may be put on any wrapper of the output).
 */
export async function effectiveOpacity(locator: Locator): Promise<number> {
  return locator.evaluate(node => {
    let opacity = 1;
    for (let el: Element | null = node; el; el = el.parentElement) {
      opacity *= Number(getComputedStyle(el).opacity);
      if (el.classList.contains('jp-Cell')) {
        break;
      }
    }
    return opacity;
  });
}

/** The cells of the visible notebook in a plain Playwright page (a second tab, Notebook 7),
 * where Galata's helpers do not exist. */
export function plainCell(page: Page, index: number): Locator {
  return page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').nth(index);
}

/** Replace a cell's source in a plain page by typing, then run it with Shift+Enter. */
export async function plainTypeAndRun(page: Page, index: number, source: string): Promise<void> {
  const editor = plainCell(page, index).locator('.cm-content');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(source);
  await page.keyboard.press('Shift+Enter');
}

/** The text of a cell's outputs in a plain page, joined. */
export async function plainOutputText(page: Page, index: number): Promise<string> {
  const out = plainCell(page, index).locator('.jp-OutputArea-output');
  const texts: string[] = [];
  for (let i = 0; i < (await out.count()); i++) {
    texts.push((await out.nth(i).innerText()).trim());
  }
  return texts.join('\n');
}

/** Shut down the kernels of the notebooks under `dir` (pages Galata does not track). */
export async function shutdownSessions(request: APIRequestContext, dir: string): Promise<void> {
  const response = await request.get('/api/sessions');
  if (!response.ok()) {
    return;
  }
  for (const session of (await response.json()) as { id: string; path: string }[]) {
    if (session.path.startsWith(dir)) {
      await request.delete(`/api/sessions/${session.id}`);
    }
  }
}

/** docs/demo.ipynb, as the repository has it. */
export const DEMO_PATH = path.resolve(__dirname, '..', '..', '..', 'docs', 'demo.ipynb');

/** Upload docs/demo.ipynb unmodified, open it and wait for the reactive kernel. */
export async function openTheDemo(page: IJupyterLabPageFixture, tmpPath: string): Promise<void> {
  await page.contents.uploadContent(
    fs.readFileSync(DEMO_PATH, 'utf-8'),
    'text',
    `${tmpPath}/demo.ipynb`
  );
  await page.notebook.openByPath(`${tmpPath}/demo.ipynb`);
  await page.notebook.activate('demo.ipynb');
  await page.locator('#jp-main-statusbar >> text=Idle').waitFor({ timeout: 60000 });
  await waitReactive(page);
}

/** Three cells in a chain (`a` → `b` → `c`), each printing what it binds. */
export const CHAIN = [
  'a = 1',
  "b = a * 10\nprint('b =', b)",
  "c = b + 1\nprint('c =', c)"
];
