/**
 * JupyterLab / Notebook 7 plugins of the reactive kernel's frontend.
 */
import {
  ILabShell,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { IMainMenu } from '@jupyterlab/mainmenu';
import {
  INotebookCellExecutor,
  type INotebookModel,
  INotebookTracker,
  type NotebookPanel
} from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { cellExecutor } from './executor';
import { addGraphView } from './graphview';
import {
  countLabel,
  countsTitle,
  nextMode,
  outOfDateCount,
  runStaleLabel,
  statusText,
  statusTitle
} from './marks';
import { ReactiveNotebook } from './notebook';
import { isManual } from './protocol';

export { ReactiveNotebook } from './notebook';

export namespace CommandIDs {
  export const runStale = 'reactive-kernel:run-stale';
  export const toggleMode = 'reactive-kernel:toggle-mode';
  export const toggleManual = 'reactive-kernel:toggle-manual';
}

const manualIcon = new LabIcon({
  name: 'reactive-kernel:manual',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zM9 8v8h2V8H9zm4 0v8h2V8h-2z"/>' +
    '</svg>'
});

/**
 * A text button of the notebook toolbar, shown only while the notebook's kernel is reactive;
 * `render` sets its label and title whenever the notebook's state changes.
 */
abstract class ReactiveToolbarButton extends Widget {
  constructor(
    protected readonly notebook: ReactiveNotebook,
    className: string,
    onClick: () => void
  ) {
    super({ node: document.createElement('button') });
    const node = this.node as HTMLButtonElement;
    node.type = 'button';
    node.classList.add('jp-ToolbarButtonComponent', 'jp-Button', 'jp-mod-minimal', className);
    this.label = document.createElement('span');
    this.label.className = 'jp-ToolbarButtonComponent-label';
    node.appendChild(this.label);
    node.addEventListener('click', onClick);
    notebook.changed.connect(this._update, this);
    this._update();
  }

  protected abstract render(): void;

  private _update(): void {
    this.setHidden(!this.notebook.active);
    this.render();
  }

  protected readonly label: HTMLSpanElement;
}

/** The toolbar toggle between auto and lazy. */
class ModeToggle extends ReactiveToolbarButton {
  constructor(notebook: ReactiveNotebook, onToggle: () => void) {
    super(notebook, 'jp-reactive-modeToggle', () => {
      const mode = notebook.mode;
      if (mode) {
        notebook.setMode(nextMode(mode));
        onToggle();
      }
    });
  }

  protected render(): void {
    const mode = this.notebook.mode ?? 'auto';
    this.label.textContent = `⟳ ${mode}`;
    this.node.dataset.mode = mode;
    this.node.title =
      mode === 'auto'
        ? 'Reactive mode auto: dependent cells re-run after a cell runs. Click for lazy.'
        : mode === 'lazy'
          ? 'Reactive mode lazy: dependent cells are only marked stale. Click for auto.'
          : 'Reactive mode off. Click for auto.';
  }
}

/**
 * The toolbar's count of cells out of date ("3 out of date"; "up to date" at 0): Notebook 7
 * has no status bar. A click runs the stale cells.
 */
class CountButton extends ReactiveToolbarButton {
  constructor(notebook: ReactiveNotebook, onClick: () => void) {
    super(notebook, 'jp-reactive-count', onClick);
  }

  protected render(): void {
    const counts = this.notebook.counts;
    const n = outOfDateCount(counts);
    this.label.textContent = n ? countLabel(counts) : 'up to date';
    this.node.dataset.count = String(n);
    this.node.title = countsTitle(counts);
  }
}

/** The status-bar item: mode and count of stale cells; a click runs them. */
class ReactiveStatus extends Widget {
  constructor(onClick: () => void) {
    super({ node: document.createElement('div') });
    this.addClass('jp-reactive-status');
    this.addClass('jp-StatusBar-TextItem');
    this.node.addEventListener('click', onClick);
  }

  set notebook(notebook: ReactiveNotebook | null) {
    if (this._notebook === notebook) {
      return;
    }
    this._notebook?.changed.disconnect(this.update, this);
    this._notebook = notebook;
    notebook?.changed.connect(this.update, this);
    this.update();
  }

  update(): void {
    const state = this._notebook?.state ?? null;
    const counts = this._notebook?.counts ?? {};
    this.node.textContent = statusText(state, counts);
    this.node.title = statusTitle(state, counts);
  }

  private _notebook: ReactiveNotebook | null = null;
}

const executorPlugin: JupyterFrontEndPlugin<INotebookCellExecutor> = {
  id: '@reactive-kernel/labextension:cell-executor',
  description:
    'Runs notebook cells; for a reactive kernel, pulls stale inputs first, each in its own cell.',
  autoStart: true,
  provides: INotebookCellExecutor,
  activate: (): INotebookCellExecutor => cellExecutor
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@reactive-kernel/labextension:plugin',
  description: 'Shows the reactive kernel’s cell states and runs dependent cells.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar, ICommandPalette, ILabShell, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
    labShell: ILabShell | null,
    mainMenu: IMainMenu | null
  ) => {
    const { commands } = app;
    const notebooks = new Map<
      DocumentRegistry.IContext<INotebookModel>,
      ReactiveNotebook
    >();
    const activeChanged = new Signal<object, void>({});

    const refresh = () => {
      commands.notifyCommandChanged(CommandIDs.runStale);
      commands.notifyCommandChanged(CommandIDs.toggleMode);
      commands.notifyCommandChanged(CommandIDs.toggleManual);
      activeChanged.emit();
    };

    const current = (): ReactiveNotebook | null => {
      const panel = tracker.currentWidget;
      const notebook = panel ? notebooks.get(panel.context) ?? null : null;
      return notebook?.active ? notebook : null;
    };

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (
        panel: NotebookPanel,
        context: DocumentRegistry.IContext<INotebookModel>
      ) => {
        let notebook = notebooks.get(context);
        if (!notebook || notebook.isDisposed) {
          const created = new ReactiveNotebook(context);
          notebook = created;
          notebooks.set(context, created);
          void context.ready.then(() => {
            if (!created.isDisposed) {
              cellExecutor.register(context.model, created);
            }
          });
          created.changed.connect(refresh);
          context.disposed.connect(() => created.dispose());
          const forget = () => {
            if (notebooks.get(context) === created) {
              notebooks.delete(context);
            }
            if (!context.isDisposed && context.model) {
              cellExecutor.unregister(context.model, created);
            }
          };
          panel.disposed.connect(() => {
            if (created.isDisposed) {
              forget();
            }
          });
        }
        notebook.addPanel(panel);
        const toggle = new ModeToggle(notebook, refresh);
        if (!panel.toolbar.insertAfter('cellType', 'reactive-mode', toggle)) {
          panel.toolbar.addItem('reactive-mode', toggle);
        }
        const owner = notebook;
        const count = new CountButton(owner, () => {
          void owner.runStale();
        });
        if (!panel.toolbar.insertAfter('reactive-mode', 'reactive-count', count)) {
          panel.toolbar.addItem('reactive-count', count);
        }
        panel.disposed.connect(() => count.dispose());
        return toggle;
      }
    });

    commands.addCommand(CommandIDs.runStale, {
      label: () => runStaleLabel(current()?.counts ?? {}),
      caption: 'Run every stale cell of the notebook, in order (reactive kernel)',
      isEnabled: () => current() !== null,
      execute: async () => {
        const notebook = current();
        if (notebook) {
          await notebook.runStale();
        }
      }
    });

    commands.addCommand(CommandIDs.toggleMode, {
      label: 'Re-run Dependent Cells Automatically (Reactive Auto Mode)',
      caption: 'Switch the reactive kernel between auto and lazy mode for this notebook',
      isEnabled: () => current() !== null,
      isToggled: () => current()?.mode === 'auto',
      execute: () => {
        const notebook = current();
        if (notebook) {
          notebook.setMode(nextMode(notebook.mode));
          refresh();
        }
      }
    });

    commands.addCommand(CommandIDs.toggleManual, {
      label: args => (args.toolbar ? '' : 'Manual Cell (Never Re-run Automatically)'),
      caption:
        'Toggle the reactive-manual tag: the reactive kernel never re-runs this cell by itself',
      icon: args => (args.toolbar ? manualIcon : undefined),
      isVisible: () =>
        current() !== null && tracker.activeCell?.model.type === 'code',
      isToggled: () => isManual(tracker.activeCell?.model.getMetadata('tags')),
      execute: () => {
        const notebook = current();
        const cell = tracker.activeCell;
        if (notebook && cell && cell.model.type === 'code') {
          notebook.toggleManual(cell);
          refresh();
        }
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.toggleManual,
      selector: '.jp-Notebook.jp-mod-reactive .jp-CodeCell',
      rank: 20
    });
    // In a cell's context menu (one item only: Lumino would list it twice if a notebook
    // selector matched too, as the notebook is an ancestor of every cell).
    app.contextMenu.addItem({
      command: CommandIDs.runStale,
      selector: '.jp-Notebook.jp-mod-reactive .jp-Cell',
      rank: 21
    });

    if (mainMenu) {
      mainMenu.runMenu.addGroup([{ command: CommandIDs.runStale }], 12);
    }

    if (palette) {
      const category = 'Reactive Kernel';
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category });
      }
    }

    tracker.currentChanged.connect(refresh);
    tracker.activeCellChanged.connect(() =>
      commands.notifyCommandChanged(CommandIDs.toggleManual)
    );

    if (statusBar) {
      const item = new ReactiveStatus(() => {
        void commands.execute(CommandIDs.runStale);
      });
      const follow = () => {
        const panel = tracker.currentWidget;
        item.notebook = panel ? notebooks.get(panel.context) ?? null : null;
      };
      tracker.currentChanged.connect(follow);
      activeChanged.connect(follow);
      if (labShell) {
        // The Launcher (or any other main-area widget) leaves the tracker's current
        // notebook set: follow the shell's current widget instead.
        labShell.currentChanged.connect(() => activeChanged.emit());
      }
      statusBar.registerStatusItem('@reactive-kernel/labextension:status', {
        item,
        align: 'left',
        rank: 5,
        isActive: () =>
          current() !== null &&
          (!labShell || labShell.currentWidget === tracker.currentWidget),
        activeStateChanged: activeChanged
      });
    }

    addGraphView(app, tracker, panel => notebooks.get(panel.context) ?? null, palette);
  }
};

export default [executorPlugin, plugin];
