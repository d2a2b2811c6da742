/**
 * The notebook cell executor: JupyterLab routes every cell run (Shift+Enter, Ctrl+Enter,
 * the toolbar's run button, the Run menu, Run All...) through `INotebookCellExecutor`.
 * This one hands code cells of notebooks connected to a reactive kernel to their
 * `ReactiveNotebook` (which asks the kernel for a plan first) and everything else to
 * JupyterLab's own `runCell`.
 */
import {
  type INotebookCellExecutor,
  type INotebookModel,
  runCell as defaultRunCell
} from '@jupyterlab/notebook';

export interface IReactiveRunner {
  readonly active: boolean;
  runCell(options: INotebookCellExecutor.IRunCellOptions): Promise<boolean>;
}

export class ReactiveCellExecutor implements INotebookCellExecutor {
  /** Route runs of `model`'s cells to `runner` (until `unregister`). */
  register(model: INotebookModel, runner: IReactiveRunner): void {
    this._runners.set(model, runner);
  }

  unregister(model: INotebookModel, runner: IReactiveRunner): void {
    if (this._runners.get(model) === runner) {
      this._runners.delete(model);
    }
  }

  runCell(options: INotebookCellExecutor.IRunCellOptions): Promise<boolean> {
    const runner = this._runners.get(options.notebook);
    if (runner && runner.active && options.cell.model.type === 'code') {
      return runner.runCell(options);
    }
    return defaultRunCell(options);
  }

  private _runners = new WeakMap<INotebookModel, IReactiveRunner>();
}

/** The one executor of this page (its plugin provides it; the notebooks register in it). */
export const cellExecutor = new ReactiveCellExecutor();
