/**
 * Issue #14, "Widgets drive re-runs": moving an ipywidgets control in JupyterLab brings the
 * cells that read its value up to date (auto mode: they run, each in its own cell; lazy
 * mode: they are marked stale), while the cell that made the widget keeps it.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import {
  ARTIFACTS,
  cell,
  command,
  executionCount,
  expectState,
  openNotebook,
  openTheDemo,
  outputText,
  promptTitle,
  runAll,
  settle,
  waitReactive
} from './helpers';

test.use({ autoGoto: true });

const VISIBLE = '.jp-NotebookPanel:not(.lm-mod-hidden)';

const SLIDER_CELLS = [
  'import ipywidgets as widgets\n' +
    "slider = widgets.IntSlider(value=10, min=0, max=100, description='n')\nslider",
  "n = slider.value\nprint('n is', n)",
  "print('double', n * 2)",
  "print('unrelated')"
];

/** The rendered slider of a cell (its ipywidgets view). */
async function sliderOf(page: IJupyterLabPageFixture, index: number): Promise<Locator> {
  return (await cell(page, index)).locator('.widget-slider').first();
}

/** The value a cell's slider shows in its readout. */
async function readout(page: IJupyterLabPageFixture, index: number): Promise<number> {
  const text = await (await sliderOf(page, index)).locator('.widget-readout').innerText();
  return Number(text.trim());
}

/** Mark a DOM element, so that a later check can tell whether it is still the same one. */
async function tag(locator: Locator, value: string): Promise<void> {
  await locator.evaluate((el, v) => el.setAttribute('data-widgets-test', v), value);
}

/** The model id of the widget a cell displays, as the notebook's output recorded it. */
async function outputModelId(page: IJupyterLabPageFixture, index: number): Promise<string> {
  return page.evaluate(i => {
    const nb = (window as any).jupyterapp.shell.currentWidget.content;
    const outputs = nb.widgets[i].model.outputs;
    for (let k = 0; k < outputs.length; k++) {
      const view = outputs.get(k).data['application/vnd.jupyter.widget-view+json'];
      if (view) {
        return view.model_id as string;
      }
    }
    return '';
  }, index);
}

/**
 * Count from now on, in the page, the runs of each source (the kernel's `execute_input`
 * messages), so that a test knows exactly how often each cell ran in its own cell.
 */
async function countRuns(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.__widgetRuns = {} as Record<string, number>;
    const kernel = w.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    kernel.iopubMessage.connect((_: unknown, msg: any) => {
      if (msg.header.msg_type === 'execute_input') {
        const code = msg.content.code as string;
        w.__widgetRuns[code] = (w.__widgetRuns[code] ?? 0) + 1;
      }
    });
  });
}

/** How often the cell with this source ran since `countRuns`. */
async function runsOf(page: IJupyterLabPageFixture, source: string): Promise<number> {
  return page.evaluate(s => (window as any).__widgetRuns[s] ?? 0, source);
}

/** Execution counts of the given cells, in order. */
async function counts(page: IJupyterLabPageFixture, indexes: number[]): Promise<(number | null)[]> {
  const result: (number | null)[] = [];
  for (const i of indexes) {
    result.push(await executionCount(page, i));
  }
  return result;
}

/** Wait until the kernel has finished what a widget change started, and nothing more runs. */
async function settleWidgets(page: IJupyterLabPageFixture): Promise<void> {
  await settle(page);
  await page.waitForTimeout(700);
  await settle(page);
}

/** Open the four slider cells and run them all. */
async function openSliderNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  mode: 'auto' | 'lazy'
): Promise<void> {
  await openNotebook(page, tmpPath, name, SLIDER_CELLS, { mode });
  await waitReactive(page);
  await runAll(page);
  await expect(await sliderOf(page, 0)).toBeVisible();
  await expect.poll(() => outputText(page, 1)).toBe('n is 10');
  await expect.poll(() => outputText(page, 2)).toBe('double 20');
  expect(await outputText(page, 3)).toBe('unrelated');
}

test.describe('issue #14: widgets drive re-runs', () => {
  test('1. auto: each slider step re-runs its readers once, not the slider cell', async ({
    page,
    tmpPath
  }) => {
    await openSliderNotebook(page, tmpPath, 'slider-keys.ipynb', 'auto');
    await countRuns(page);
    const slider = await sliderOf(page, 0);
    await tag(slider, 'original');
    const modelId = await outputModelId(page, 0);
    expect(modelId).not.toBe('');
    const [first, , , fourth] = await counts(page, [0, 1, 2, 3]);

    const handle = slider.locator('.noUi-handle').first();
    for (let step = 1; step <= 3; step++) {
      const latest = Math.max(...((await counts(page, [0, 1, 2, 3])) as number[]));
      await handle.focus();
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => readout(page, 0)).toBe(10 + step);
      await settleWidgets(page);
      const value = await readout(page, 0);
      expect(value).toBe(10 + step);
      await expect.poll(() => outputText(page, 1)).toBe(`n is ${value}`);
      await expect.poll(() => outputText(page, 2)).toBe(`double ${2 * value}`);
      // Each reader ran exactly once for this value, in its own cell: the next two counts.
      const [c1, c2, c3, c4] = await counts(page, [0, 1, 2, 3]);
      expect(c2).toBe(latest + 1);
      expect(c3).toBe(latest + 2);
      expect(await runsOf(page, SLIDER_CELLS[1])).toBe(step);
      expect(await runsOf(page, SLIDER_CELLS[2])).toBe(step);
      // The slider's cell and the unrelated one never ran again.
      expect(c1).toBe(first);
      expect(c4).toBe(fourth);
      expect(await runsOf(page, SLIDER_CELLS[0])).toBe(0);
      expect(await runsOf(page, SLIDER_CELLS[3])).toBe(0);
      for (const i of [0, 1, 2, 3]) {
        await expectState(page, i, null);
      }
    }

    // The view was never re-rendered: the same element, the same model.
    await expect(slider).toHaveAttribute('data-widgets-test', 'original');
    await expect(page.locator('.widget-slider')).toHaveCount(1);
    expect(await outputModelId(page, 0)).toBe(modelId);
    await page.notebook.addCell('code', 'print(slider.model_id)');
    await page.notebook.runCell(4);
    await settle(page);
    await expect.poll(() => outputText(page, 4)).toBe(modelId);
  });

  test('2. dragging: the latest value wins, runs do not pile up', async ({
    page,
    tmpPath
  }) => {
    await openSliderNotebook(page, tmpPath, 'slider-drag.ipynb', 'auto');
    await countRuns(page);
    const slider = await sliderOf(page, 0);
    await tag(slider, 'original');
    const initial = await counts(page, [0, 1, 2, 3]);
    const [first, , , fourth] = initial;

    // Every value the slider shows while dragging (its readout follows the handle).
    await slider.locator('.widget-readout').evaluate(el => {
      const w = window as any;
      w.__dragValues = new Set<string>();
      new MutationObserver(() => w.__dragValues.add(el.textContent!.trim())).observe(el, {
        childList: true,
        characterData: true,
        subtree: true
      });
    });

    const handle = slider.locator('.noUi-handle').first();
    const track = slider.locator('.noUi-target').first();
    const h = (await handle.boundingBox())!;
    const t = (await track.boundingBox())!;
    const y = h.y + h.height / 2;
    await page.mouse.move(h.x + h.width / 2, y);
    await page.mouse.down();
    // Most of the track, in small steps, in two sweeps (right, then back a little).
    await page.mouse.move(t.x + t.width * 0.9, y, { steps: 40 });
    await page.mouse.move(t.x + t.width * 0.7, y, { steps: 20 });
    await page.mouse.up();

    await settleWidgets(page);
    const value = await readout(page, 0);
    expect(value).not.toBe(10);
    // The latest value wins, each reader showing its own output in its own cell.
    await expect
      .poll(() => outputText(page, 1), { message: 'the reader shows the last value' })
      .toBe(`n is ${value}`);
    await expect
      .poll(() => outputText(page, 2), { message: 'its dependent shows only its own output' })
      .toBe(`double ${2 * value}`);
    for (const i of [0, 1, 2, 3]) {
      await expectState(page, i, null);
    }

    // Nothing runs any more once settled.
    const settled = await counts(page, [0, 1, 2, 3]);
    const settledRuns = await runsOf(page, SLIDER_CELLS[1]);
    await page.waitForTimeout(2000);
    expect(await counts(page, [0, 1, 2, 3])).toEqual(settled);
    expect(await runsOf(page, SLIDER_CELLS[1])).toBe(settledRuns);
    await expect(page.locator('.jp-InputPrompt', { hasText: '[*]' })).toHaveCount(0);

    // No backlog: at most one run of the reader per value the drag went through...
    const distinct = await page.evaluate(() => (window as any).__dragValues.size as number);
    const runs = await runsOf(page, SLIDER_CELLS[1]);
    console.log(`drag: ${distinct} distinct values, the reader ran ${runs} times`);
    expect(distinct).toBeGreaterThan(5);
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(distinct);
    // ... and by execution counts: the two readers' runs took every count since, once each.
    const [c1, c2, c3, c4] = settled;
    expect(c1).toBe(first);
    expect(c4).toBe(fourth);
    expect(Math.max(c2!, c3!) - Math.max(...(initial as number[]))).toBe(
      runs + (await runsOf(page, SLIDER_CELLS[2]))
    );
    expect(await runsOf(page, SLIDER_CELLS[0])).toBe(0);
    expect(await runsOf(page, SLIDER_CELLS[3])).toBe(0);
    await expect(slider).toHaveAttribute('data-widgets-test', 'original');
  });

  test('3. lazy: moving the slider marks its readers stale; Run Stale Cells runs them', async ({
    page,
    tmpPath
  }) => {
    await openSliderNotebook(page, tmpPath, 'slider-lazy.ipynb', 'lazy');
    await countRuns(page);
    const slider = await sliderOf(page, 0);
    await tag(slider, 'original');
    const before = await counts(page, [0, 1, 2, 3]);

    const handle = slider.locator('.noUi-handle').first();
    await handle.focus();
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('ArrowRight');
    }
    await expect.poll(() => readout(page, 0)).toBe(15);
    await expectState(page, 1, 'stale');
    await expectState(page, 2, 'stale');
    await expectState(page, 0, null);
    await expectState(page, 3, null);
    expect(await promptTitle(page, 1)).toContain(
      'the widget `slider` changed in the frontend'
    );
    // Nothing ran: old outputs, old counts.
    await settleWidgets(page);
    expect(await counts(page, [0, 1, 2, 3])).toEqual(before);
    expect(await outputText(page, 1)).toBe('n is 10');
    expect(await outputText(page, 2)).toBe('double 20');
    expect(await runsOf(page, SLIDER_CELLS[1])).toBe(0);

    await command(page, 'reactive-kernel:run-stale');
    await settleWidgets(page);
    await expect.poll(() => outputText(page, 1)).toBe('n is 15');
    await expect.poll(() => outputText(page, 2)).toBe('double 30');
    for (const i of [0, 1, 2, 3]) {
      await expectState(page, i, null);
    }
    const after = await counts(page, [0, 1, 2, 3]);
    expect(after[0]).toBe(before[0]);
    expect(after[3]).toBe(before[3]);
    expect(after[1]!).toBeGreaterThan(before[2]!);
    expect(await runsOf(page, SLIDER_CELLS[1])).toBe(1);
    expect(await runsOf(page, SLIDER_CELLS[2])).toBe(1);
    await expect(slider).toHaveAttribute('data-widgets-test', 'original');
  });

  test('4. auto: choosing in a Dropdown re-runs its reader', async ({ page, tmpPath }) => {
    const sources = [
      'import ipywidgets as widgets\n' +
        "dd = widgets.Dropdown(options=['red', 'green'], value='red')\ndd",
      "print('colour', dd.value)"
    ];
    await openNotebook(page, tmpPath, 'dropdown.ipynb', sources, { mode: 'auto' });
    await waitReactive(page);
    await runAll(page);
    await expect.poll(() => outputText(page, 1)).toBe('colour red');
    await countRuns(page);
    const first = await executionCount(page, 0);
    const select = (await cell(page, 0)).locator('.widget-dropdown select');
    await tag(select, 'original');

    await select.selectOption('green');
    await settleWidgets(page);
    await expect.poll(() => outputText(page, 1)).toBe('colour green');
    expect(await runsOf(page, sources[1])).toBe(1);
    expect(await runsOf(page, sources[0])).toBe(0);
    expect(await executionCount(page, 0)).toBe(first);
    await expectState(page, 1, null);
    await expect(select).toHaveAttribute('data-widgets-test', 'original');
    await expect(select).toHaveValue('green');
  });

  test('5. the demo: the points slider moves the statistics table and the plot', async ({
    page,
    tmpPath
  }) => {
    await page.setViewportSize({ width: 1280, height: 1400 });
    const demo = await openDemo(page, tmpPath);
    const before = await demo.snapshot();

    // 50 → 200 at once (End): one change of the widget.
    await demo.handle.focus();
    await page.keyboard.press('End');
    await expect(demo.readout).toHaveText('200');
    await settleWidgets(page);
    await demo.expectFollowed(before);

    // The picture: the slider, the table and the plot together.
    await demo.sliderCell.evaluate(el => el.scrollIntoView({ block: 'start' }));
    await page.mouse.move(0, 0);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'widgets.png');
    await page.locator(VISIBLE).screenshot({ path: file });
  });

  test('6. the demo: quick steps of the slider leave each output in its own cell', async ({
    page,
    tmpPath
  }) => {
    const demo = await openDemo(page, tmpPath);
    const before = await demo.snapshot();

    // 50 → 150 in ten steps of 10, as fast as the keyboard goes: new values reach the
    // kernel while the cells of the previous one are still running.
    await demo.handle.focus();
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('ArrowRight');
    }
    await expect(demo.readout).toHaveText('150');
    await settleWidgets(page);
    await demo.expectFollowed(before);
  });
});


/** What a test compares in the demo before and after moving its slider. */
interface IDemoSnapshot {
  counts: string;
  src: string | null;
  sliderPrompt: string;
}

/** The demo, opened and run: its slider and the cells that follow it. */
interface IDemo {
  sliderCell: Locator;
  handle: Locator;
  readout: Locator;
  snapshot(): Promise<IDemoSnapshot>;
  /** Check that the table and the plot followed the slider, and nothing else changed. */
  expectFollowed(before: IDemoSnapshot): Promise<void>;
}

/** Upload docs/demo.ipynb unmodified, open it and run all its cells. */
async function openDemo(page: IJupyterLabPageFixture, tmpPath: string): Promise<IDemo> {
  await openTheDemo(page, tmpPath);
  await runAll(page);

  const codeCell = (text: string): Locator =>
    page.locator(`${VISIBLE} .jp-CodeCell`).filter({
      has: page.locator('.jp-InputArea-editor', { hasText: text })
    });
  const sliderCell = codeCell('widgets.IntSlider');
  const table = codeCell('df.describe()');
  const plot = codeCell('plot.scatter');
  await expect(sliderCell).toHaveCount(1);
  const slider = sliderCell.locator('.widget-slider');
  await expect(slider).toBeVisible();
  const readout = slider.locator('.widget-readout');
  await expect(readout).toHaveText('50');
  await tag(slider, 'original');
  // The describe() table's count row: how many rows `df` kept, per column.
  const countRow = table.locator('.jp-OutputArea-output table tr', { hasText: 'count' });
  await expect(countRow).toHaveCount(1);
  const img = plot.locator('.jp-OutputArea-output img').first();
  await expect(img).toBeVisible();
  const counts = async (): Promise<string> =>
    (await countRow.locator('td').allInnerTexts()).join(' ');
  const prompt = async (): Promise<string> =>
    (await sliderCell.locator('.jp-InputPrompt').first().innerText()).trim();
  const snapshot = async (): Promise<IDemoSnapshot> => ({
    counts: await counts(),
    src: await img.getAttribute('src'),
    sliderPrompt: await prompt()
  });
  const firstCount = (text: string): number => Number(text.split(' ')[0]);

  return {
    sliderCell,
    handle: slider.locator('.noUi-handle').first(),
    readout,
    snapshot,
    expectFollowed: async (before: IDemoSnapshot): Promise<void> => {
      await expect.poll(counts).not.toBe(before.counts);
      await expect.poll(() => img.getAttribute('src')).not.toBe(before.src);
      // df kept more of the new number of points than of 50.
      expect(firstCount(await counts())).toBeGreaterThan(firstCount(before.counts));
      // The slider's cell did not run again: same count, same view.
      expect(await prompt()).toBe(before.sliderPrompt);
      await expect(slider).toHaveAttribute('data-widgets-test', 'original');
      await expect(page.locator(`${VISIBLE} .widget-slider`)).toHaveCount(1);
      // Everything is up to date, and each output is its own cell's: no cell shows another
      // one re-run inside it (the kernel's `↻ re-running …` header).
      await expect(page.locator(`${VISIBLE} .jp-Cell[data-reactive-state]`)).toHaveCount(0);
      await expect(
        page.locator(`${VISIBLE} .jp-OutputArea-output`, { hasText: '↻' }),
        'no output re-runs another cell'
      ).toHaveCount(0);
      await expect(
        page.locator(`${VISIBLE} .jp-OutputArea-output[data-mime-type$="stderr"]`)
      ).toHaveCount(0);
    }
  };
}
