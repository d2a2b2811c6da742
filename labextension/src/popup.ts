/**
 * The small popup a click on a marked cell's prompt opens: the cell's name, why it is
 * marked, what its last run did in place, and one link per cell it reads from.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';

import type { IPopupContent } from './marks';

/** Class of the popup node (one at a time, in document.body). */
export const POPUP_CLASS = 'jp-reactive-popup';

export class CellPopup {
  constructor(
    readonly panel: NotebookPanel,
    readonly cellId: string,
    private readonly _anchor: HTMLElement,
    private readonly _handlers: { onLink: (id: string) => void; onClose: () => void }
  ) {
    const node = (this.node = document.createElement('div'));
    node.className = POPUP_CLASS;
    node.setAttribute('role', 'dialog');
    node.dataset.cellId = cellId;
    node.tabIndex = -1;
    document.body.appendChild(node);
    this._place();
    // Close on a press outside (after this click has finished) and on Escape.
    setTimeout(() => {
      if (!this._disposed) {
        document.addEventListener('mousedown', this._onOutside, true);
      }
    }, 0);
    document.addEventListener('keydown', this._onKey, true);
  }

  readonly node: HTMLDivElement;

  /** Show `content` (again only if it changed: a link must survive an unrelated state). */
  render(content: IPopupContent): void {
    const key = JSON.stringify(content);
    if (key === this._shown) {
      return;
    }
    this._shown = key;
    const node = this.node;
    node.textContent = '';
    const title = document.createElement('div');
    title.className = `${POPUP_CLASS}-title`;
    title.textContent = content.title;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = `${POPUP_CLASS}-close`;
    close.title = 'Close';
    close.textContent = '×';
    close.addEventListener('click', () => this.dispose());
    title.appendChild(close);
    node.appendChild(title);
    for (const line of content.reasons) {
      const reason = document.createElement('div');
      reason.className = `${POPUP_CLASS}-reason`;
      reason.textContent = line;
      node.appendChild(reason);
    }
    if (content.effects.length) {
      const list = document.createElement('ul');
      list.className = `${POPUP_CLASS}-effects`;
      for (const effect of content.effects) {
        const item = document.createElement('li');
        item.textContent = `Last run ${effect}`;
        list.appendChild(item);
      }
      node.appendChild(list);
    }
    if (content.links.length) {
      const links = document.createElement('div');
      links.className = `${POPUP_CLASS}-links`;
      const head = document.createElement('div');
      head.className = `${POPUP_CLASS}-linksTitle`;
      head.textContent = 'Reads from:';
      links.appendChild(head);
      for (const link of content.links) {
        const a = document.createElement('a');
        a.className = `${POPUP_CLASS}-link`;
        a.href = '#';
        a.dataset.cellId = link.id;
        a.textContent = link.text;
        a.title = 'Go to this cell';
        a.addEventListener('click', event => {
          event.preventDefault();
          event.stopPropagation();
          this._handlers.onLink(link.id);
        });
        links.appendChild(a);
      }
      node.appendChild(links);
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    document.removeEventListener('mousedown', this._onOutside, true);
    document.removeEventListener('keydown', this._onKey, true);
    this.node.remove();
    this._handlers.onClose();
  }

  /** Below the prompt, kept inside the window. */
  private _place(): void {
    const rect = this._anchor.getBoundingClientRect();
    const width = 420;
    const left = Math.max(4, Math.min(rect.left, window.innerWidth - width - 8));
    this.node.style.left = `${left + window.scrollX}px`;
    this.node.style.top = `${rect.bottom + 4 + window.scrollY}px`;
    this.node.style.maxWidth = `${width}px`;
  }

  private _onOutside = (event: MouseEvent): void => {
    const target = event.target as Node | null;
    if (target && (this.node.contains(target) || this._anchor.contains(target))) {
      return;
    }
    this.dispose();
  };

  private _onKey = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      this.dispose();
    }
  };

  private _disposed = false;
  private _shown = '';
}
