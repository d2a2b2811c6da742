/**
 * A live view of one notebook's cell dependency graph, drawn as SVG from graph.ts's layout.
 *
 * The view follows the notebook it was opened for: it redraws when the kernel sends a new
 * state and (debounced) when cells are added, moved or edited, a click on a cell's box
 * jumps to that cell, and the view closes with the notebook.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { LabIcon, ToolbarButton } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { Debouncer } from './debounce';
import {
  type IGraphCell,
  type IGraphLayout,
  type IPoint,
  layoutGraph,
  type TextKind
} from './graph';
import type { ReactiveNotebook } from './notebook';
import type { CellStateName } from './protocol';

/** The command that opens (or shows again) the graph of the current notebook. */
export const SHOW_GRAPH_COMMAND = 'reactive-kernel:show-graph';

/** How long edits must pause before the graph is laid out again. */
export const GRAPH_UPDATE_DELAY_MS = 300;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Font sizes of the drawing, in px; graph.css uses the same. */
const TITLE_FONT_PX = 12;
const SNIPPET_FONT_PX = 12;
const LABEL_FONT_PX = 11;

export const graphIcon = new LabIcon({
  name: 'reactive-kernel:graph',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M9 3h6v5h-2v2.1l5 2.9h1v0h2v6h-6v-6h1.3L13 ' +
    '11.8V14h-2v-2.2L7.7 13H9v6H3v-6h2l5-2.9V8H9V3zm2 2v1h2V5h-2zM5 15v2h2v-2H5zm12 0v2h2v-2h-2z"/>' +
    '</svg>'
});

/** Human text for "n cells". */
function cells(n: number): string {
  return `${n} cell${n === 1 ? '' : 's'}`;
}

/** A text-width function using the fonts graph.css gives the drawing (canvas metrics). */
function fontMeasure(host: HTMLElement): (text: string, kind: TextKind) => number {
  const style = getComputedStyle(host);
  const ui = style.getPropertyValue('--jp-ui-font-family').trim() || 'sans-serif';
  const code = style.getPropertyValue('--jp-code-font-family').trim() || 'monospace';
  const fonts: { [kind in TextKind]: string } = {
    title: `bold ${TITLE_FONT_PX}px ${ui}`,
    snippet: `${SNIPPET_FONT_PX}px ${code}`,
    label: `${LABEL_FONT_PX}px ${code}`
  };
  const context = document.createElement('canvas').getContext('2d');
  return (text, kind) => {
    if (!context) {
      return text.length * 0.65 * (kind === 'label' ? LABEL_FONT_PX : SNIPPET_FONT_PX);
    }
    context.font = fonts[kind];
    // A pixel of slack: SVG text and canvas round differently.
    return context.measureText(text).width + 1;
  };
}

/** An SVG path through `points`, with rounded bends. */
export function routePath(points: readonly IPoint[]): string {
  if (points.length < 2) {
    return '';
  }
  const f = (p: IPoint) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`;
  const mid = (a: IPoint, b: IPoint) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  if (points.length === 2) {
    return `M${f(points[0])}L${f(points[1])}`;
  }
  let d = `M${f(points[0])}L${f(mid(points[0], points[1]))}`;
  for (let i = 1; i < points.length - 1; i++) {
    d += `Q${f(points[i])} ${f(mid(points[i], points[i + 1]))}`;
  }
  return `${d}L${f(points[points.length - 1])}`;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: { [name: string]: string | number } = {},
  parent?: Element
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    el.setAttribute(name, String(value));
  }
  parent?.appendChild(el);
  return el;
}

/** The states, in the order the legend lists them. */
const STATE_ORDER: readonly CellStateName[] = [
  'ok',
  'edited',
  'stale',
  'new',
  'blocked',
  'error',
  'upstream-error',
  'untracked'
];

let nextId = 0;

export namespace GraphView {
  export interface IOptions {
    /** The notebook view this graph follows. */
    panel: NotebookPanel;
    /** The reactive glue of the notebook (looked up again on each redraw). */
    notebookFor: (panel: NotebookPanel) => ReactiveNotebook | null;
    /** Bring a widget of the shell to the front (the notebook, after a click on a cell). */
    activate: (id: string) => void;
  }
}

/** The dependency graph of one notebook, kept up to date. */
export class GraphView extends Widget {
  constructor(options: GraphView.IOptions) {
    super();
    this._panel = options.panel;
    this._notebookFor = options.notebookFor;
    this._activate = options.activate;
    this._markerId = `jp-reactive-graph-arrow-${++nextId}`;
    this.id = `jp-reactive-graph-${nextId}`;
    this.addClass('jp-reactive-graphView');
    this.title.icon = graphIcon;
    this.title.closable = true;

    const header = document.createElement('div');
    header.className = 'jp-reactive-graphHeader';
    this._name = document.createElement('span');
    this._name.className = 'jp-reactive-graphName';
    this._count = document.createElement('span');
    this._count.className = 'jp-reactive-graphHidden';
    const toggle = document.createElement('label');
    toggle.className = 'jp-reactive-graphShowAll';
    this._showAll = document.createElement('input');
    this._showAll.type = 'checkbox';
    this._showAll.addEventListener('change', () => this.update());
    toggle.append(this._showAll, ' show all cells');
    this._legend = document.createElement('div');
    this._legend.className = 'jp-reactive-graphLegend';
    header.append(this._name, this._count, toggle, this._legend);
    this._body = document.createElement('div');
    this._body.className = 'jp-reactive-graphBody';
    this.node.append(header, this._body);

    this._debouncer = new Debouncer(() => this.update(), GRAPH_UPDATE_DELAY_MS);
    const panel = this._panel;
    panel.disposed.connect(this._onPanelDisposed, this);
    panel.context.pathChanged.connect(this._onPath, this);
    panel.content.activeCellChanged.connect(this._markActive, this);
    void panel.context.ready.then(() => {
      if (!this.isDisposed) {
        const model = panel.context.model;
        model.cells.changed.connect(this._schedule, this);
        model.contentChanged.connect(this._schedule, this);
        this.update();
      }
    });
    this._onPath();
    this._follow();
  }

  /** The notebook view this graph follows. */
  get panel(): NotebookPanel {
    return this._panel;
  }

  /** The last graph drawn (null before the first one). */
  get graph(): IGraphLayout | null {
    return this._graph;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._debouncer.dispose();
    this._notebook = null;
    this._nodes.clear();
    // Every connection to the notebook's signals was made with this view as receiver: this
    // drops them all, without touching the panel (it may be half disposed already).
    Signal.clearData(this);
    super.dispose();
  }

  protected onUpdateRequest(msg: Message): void {
    if (!this.isVisible) {
      this._dirty = true;
      return;
    }
    this._dirty = false;
    this._render();
  }

  protected onAfterShow(msg: Message): void {
    if (this._dirty) {
      this.update();
    }
  }

  protected onAfterAttach(msg: Message): void {
    this.update();
  }

  /** Connect to the notebook's reactive glue (it may appear after the view). */
  private _follow(): ReactiveNotebook | null {
    const notebook = this._panel.isDisposed ? null : this._notebookFor(this._panel);
    if (notebook !== this._notebook) {
      this._notebook?.changed.disconnect(this._onState, this);
      this._notebook = notebook;
      notebook?.changed.connect(this._onState, this);
    }
    return notebook;
  }

  private _onState(): void {
    // A new state from the kernel: redraw at the next frame, no need to wait.
    this._debouncer.cancel();
    this.update();
  }

  private _schedule(): void {
    this._debouncer.schedule();
  }

  private _onPanelDisposed(): void {
    this.dispose();
  }

  private _onPath(): void {
    const name = this._panel.context.path.split('/').pop() ?? '';
    this._name.textContent = name;
    this.title.label = `Graph: ${name}`;
    this.title.caption = `Cell dependency graph of ${this._panel.context.path}`;
  }

  /** The notebook's code cells, in order, numbered as the kernel does (markdown counts). */
  private _cells(): IGraphCell[] {
    const out: IGraphCell[] = [];
    const model = this._panel.context.model;
    if (!model) {
      return out;
    }
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      if (cell.type === 'code') {
        out.push({ id: cell.id, source: cell.sharedModel.getSource(), position: i + 1 });
      }
    }
    return out;
  }

  private _render(): void {
    const notebook = this._follow();
    const state = notebook?.active ? notebook.state : null;
    const showAll = this._showAll.checked;
    this._body.textContent = '';
    this._legend.textContent = '';
    this._nodes.clear();
    if (!state) {
      this._graph = null;
      this._count.textContent = '';
      this._message('The notebook is not connected to the reactive kernel.');
      return;
    }
    const cellList = this._cells();
    const layout = layoutGraph(state, cellList, {
      showAll,
      measure: fontMeasure(this.node)
    });
    this._graph = layout;
    const connected = new Set(layout.edges.flatMap(e => [e.from, e.to]));
    const unconnected = showAll
      ? layout.nodes.filter(n => !connected.has(n.id)).length
      : layout.hidden;
    this._count.textContent = unconnected
      ? `${cells(unconnected)} without dependencies ${showAll ? 'shown' : 'hidden'}`
      : '';
    if (!layout.edges.length && !layout.nodes.length) {
      this._message(
        cellList.length
          ? 'No cell reads a name another cell defines yet.'
          : 'The notebook has no code cells.'
      );
      return;
    }
    this._draw(layout);
    this._drawLegend(layout);
    this._markActive();
  }

  /** A swatch and name for each state the drawing shows, in the order of STATE_ORDER. */
  private _drawLegend(layout: IGraphLayout): void {
    const present = new Set(layout.nodes.map(n => n.state));
    for (const state of STATE_ORDER) {
      if (!present.has(state)) {
        continue;
      }
      const item = document.createElement('span');
      item.className = 'jp-reactive-graphLegendItem';
      item.dataset.state = state;
      const swatch = svg('svg', {
        class: `jp-reactive-graphSwatch jp-reactive-graph-${state}`,
        width: 16,
        height: 12,
        'aria-hidden': 'true'
      });
      svg('rect', { x: 1, y: 1, width: 14, height: 10, rx: 3 }, swatch);
      item.append(swatch, state === 'upstream-error' ? 'upstream error' : state);
      this._legend.appendChild(item);
    }
  }

  private _message(text: string): void {
    const p = document.createElement('p');
    p.className = 'jp-reactive-graphEmpty';
    p.textContent = text;
    this._body.appendChild(p);
  }

  private _draw(layout: IGraphLayout): void {
    const root = svg('svg', {
      class: 'jp-reactive-graph',
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img',
      'aria-label': `Dependency graph of ${this._panel.context.path}`
    });
    const defs = svg('defs', {}, root);
    const marker = svg(
      'marker',
      {
        id: this._markerId,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse'
      },
      defs
    );
    svg('path', { d: 'M0,0L10,5L0,10z', class: 'jp-reactive-graphArrow' }, marker);

    const edges = svg('g', { class: 'jp-reactive-graphEdges' }, root);
    const labels = svg('g', { class: 'jp-reactive-graphEdgeLabels' }, root);
    for (const edge of layout.edges) {
      const path = svg(
        'path',
        {
          class: 'jp-reactive-graphEdge',
          d: routePath(edge.points),
          'marker-end': `url(#${this._markerId})`,
          'data-from': edge.from,
          'data-to': edge.to
        },
        edges
      );
      svg('title', {}, path).textContent = edge.label
        ? `reads ${edge.label}`
        : 'reads from this cell';
      if (!edge.label) {
        continue;
      }
      const g = svg(
        'g',
        { class: 'jp-reactive-graphEdgeLabel', 'data-from': edge.from, 'data-to': edge.to },
        labels
      );
      svg('title', {}, g).textContent = `reads ${edge.label}`;
      svg(
        'rect',
        {
          x: edge.labelX - edge.labelWidth / 2,
          y: edge.labelY - edge.labelHeight / 2,
          width: edge.labelWidth,
          height: edge.labelHeight,
          rx: 3
        },
        g
      );
      svg(
        'text',
        {
          x: edge.labelX,
          y: edge.labelY,
          'text-anchor': 'middle',
          'dominant-baseline': 'central'
        },
        g
      ).textContent = edge.label;
    }

    const nodes = svg('g', { class: 'jp-reactive-graphNodes' }, root);
    for (const node of layout.nodes) {
      const g = svg(
        'g',
        {
          class: `jp-reactive-graphNode jp-reactive-graph-${node.state}`,
          'data-cell-id': node.id,
          'data-state': node.state,
          tabindex: 0,
          role: 'button'
        },
        nodes
      );
      const tip = [`${node.title}: ${node.state}`];
      if (node.reason) {
        tip.push(node.reason);
      }
      svg('title', {}, g).textContent = tip.join('\n');
      svg(
        'rect',
        {
          x: node.x - node.width / 2,
          y: node.y - node.height / 2,
          width: node.width,
          height: node.height,
          rx: 6
        },
        g
      );
      svg(
        'text',
        { class: 'jp-reactive-graphNodeTitle', x: node.x, y: node.y - 8, 'text-anchor': 'middle' },
        g
      ).textContent = node.title;
      svg(
        'text',
        {
          class: 'jp-reactive-graphNodeSnippet',
          x: node.x,
          y: node.y + 12,
          'text-anchor': 'middle'
        },
        g
      ).textContent = node.snippet;
      g.addEventListener('click', () => this._jump(node.id));
      g.addEventListener('keydown', (event: KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          this._jump(node.id);
        }
      });
      this._nodes.set(node.id, g);
    }
    this._body.appendChild(root);
  }

  /** Outline the box of the notebook's active cell. */
  private _markActive(): void {
    const active = this._panel.content.activeCell?.model.id;
    for (const [id, g] of this._nodes) {
      g.classList.toggle('jp-mod-active', id === active);
    }
  }

  /** Make the cell the notebook's active cell, scrolled into view, and show the notebook. */
  private _jump(id: string): void {
    const notebook = this._panel.content;
    const index = notebook.widgets.findIndex(cell => cell.model.id === id);
    if (index < 0) {
      return;
    }
    notebook.activeCellIndex = index;
    notebook.deselectAll();
    this._activate(this._panel.id);
    void notebook.scrollToCell(notebook.widgets[index], 'center');
  }

  private readonly _panel: NotebookPanel;
  private readonly _notebookFor: (panel: NotebookPanel) => ReactiveNotebook | null;
  private readonly _activate: (id: string) => void;
  private readonly _markerId: string;
  private readonly _name: HTMLSpanElement;
  private readonly _count: HTMLSpanElement;
  private readonly _showAll: HTMLInputElement;
  private readonly _body: HTMLDivElement;
  private readonly _legend: HTMLDivElement;
  private readonly _debouncer: Debouncer;
  private readonly _nodes = new Map<string, SVGGElement>();
  private _notebook: ReactiveNotebook | null = null;
  private _graph: IGraphLayout | null = null;
  private _dirty = false;
}

/**
 * Register the "Show Dependency Graph" command (palette, notebook context menu and a
 * notebook toolbar button, for notebooks on the reactive kernel). It opens one graph view
 * per notebook view, to the right of it; asked again, it shows the open one.
 */
export function addGraphView(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  notebookFor: (panel: NotebookPanel) => ReactiveNotebook | null,
  palette: ICommandPalette | null
): void {
  const { commands, shell } = app;
  const views = new Map<NotebookPanel, GraphView>();
  const reactive = (panel: NotebookPanel | null): panel is NotebookPanel =>
    !!panel && !panel.isDisposed && !!notebookFor(panel)?.active;

  const open = (panel: NotebookPanel): GraphView => {
    let view = views.get(panel);
    if (!view || view.isDisposed) {
      const created = new GraphView({
        panel,
        notebookFor,
        activate: id => shell.activateById(id)
      });
      view = created;
      views.set(panel, created);
      created.disposed.connect(() => {
        if (views.get(panel) === created) {
          views.delete(panel);
        }
      });
      if (app.name === 'JupyterLab') {
        shell.add(created, 'main', { mode: 'split-right', ref: panel.id });
      } else {
        // Jupyter Notebook 7 has one document in its main area: use the right side panel.
        shell.add(created, 'right', { rank: 1000 });
      }
    }
    shell.activateById(view.id);
    return view;
  };

  commands.addCommand(SHOW_GRAPH_COMMAND, {
    label: 'Show Dependency Graph',
    caption: 'Open a live view of which cells read from which (reactive kernel)',
    icon: graphIcon,
    isEnabled: () => reactive(tracker.currentWidget),
    execute: () => {
      const panel = tracker.currentWidget;
      if (reactive(panel)) {
        open(panel);
      }
    }
  });
  const refresh = () => commands.notifyCommandChanged(SHOW_GRAPH_COMMAND);
  tracker.currentChanged.connect(refresh);

  app.contextMenu.addItem({
    command: SHOW_GRAPH_COMMAND,
    selector: '.jp-Notebook.jp-mod-reactive',
    rank: 22
  });
  palette?.addItem({ command: SHOW_GRAPH_COMMAND, category: 'Reactive Kernel' });

  app.docRegistry.addWidgetExtension('Notebook', {
    createNew: (
      panel: NotebookPanel,
      context: DocumentRegistry.IContext<INotebookModel>
    ) => {
      const button = new ToolbarButton({
        icon: graphIcon,
        className: 'jp-reactive-graphButton',
        tooltip: 'Show Dependency Graph',
        onClick: () => {
          if (reactive(panel)) {
            open(panel);
          }
        }
      });
      let followed: ReactiveNotebook | null = null;
      const sync = () => {
        const notebook = panel.isDisposed ? null : notebookFor(panel);
        if (notebook !== followed) {
          followed?.changed.disconnect(sync);
          followed = notebook;
          notebook?.changed.connect(sync);
        }
        button.setHidden(!notebook?.active);
        refresh();
      };
      sync();
      // The reactive glue is created by another extension of the same panel: look again
      // once the document is ready.
      void context.ready.then(() => {
        if (!button.isDisposed) {
          sync();
        }
      });
      button.disposed.connect(() => followed?.changed.disconnect(sync));
      if (!panel.toolbar.insertAfter('reactive-mode', 'reactive-graph', button)) {
        panel.toolbar.addItem('reactive-graph', button);
      }
      return button;
    }
  });
}
