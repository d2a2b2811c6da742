"""Human-readable views of the graph: status lines, explanations and a picture (SVG)."""

from __future__ import annotations

from html import escape

from .cells import OK, Cell
from .graph import Graph
from .kept import KeptValues
from .random_state import is_hidden, shown

_COLOURS = {
    "ok": "#2e7d32",
    "stale": "#ef6c00",
    "edited": "#ef6c00",
    "new": "#757575",
    "blocked": "#c62828",
    "error": "#c62828",
    "upstream-error": "#c62828",
    "untracked": "#ef6c00",
}


def edges(graph: Graph) -> list[tuple[str, str, str]]:
    """(from cell, to cell, name) for every binding, in notebook order."""
    found = []
    for cid in graph.order:
        cell = graph.cells[cid]
        for name in sorted(graph.effective_reads(cell)):
            source = graph.definer(name, cell)
            if source is not None:
                found.append((source.id, cid, name))
    return found


def status_text(graph: Graph, mode: str, kept: KeptValues | None = None) -> str:
    states = graph.status()
    lines = [f"reactive mode: {mode}; {len(states)} cells"]
    cells = graph.cells
    # A cell touching no names (like the one running ``%reactive``) has nothing to be stale.
    waiting = [
        (cid, s)
        for cid, s in states.items()
        if s.state != OK and (cells[cid].defines or cells[cid].analysis.reads)
    ]
    if not waiting:
        lines.append("every cell is up to date")
    for cid, state in waiting:
        lines.append(f"  cell {graph.describe(cid)}: {state.state} — {state.reason}")
    if kept:  # earlier values of rebound names, bound again instead of re-running definers
        lines.append(
            f"kept values: {len(kept)} ({kept.size / 2**20:.1f} MiB of "
            f"{kept.max_bytes / 2**20:.0f} MiB)"
        )
    return "\n".join(lines)


def explain(graph: Graph, cell_id: str) -> str:
    """Why a cell is in its state: its state, what it reads from where, who reads from it."""
    cell = graph.cells[cell_id]
    state = graph.status()[cell_id]
    lines = [f"cell {graph.describe(cell)}: {state.state}" + (f" — {state.reason}" if state.reason else "")]
    if cell.manual:
        lines.append("  runs only when you run it (opted out of automatic runs)")
    if cell.defines:
        names = sorted(n for n in cell.defines if not is_hidden(n))
        lines.append(f"  defines: {', '.join(names)}")
    lines.extend(f"  {effect}" for effect in observed_effects(cell))
    for source, target, name in edges(graph):
        if target == cell_id:
            lines.append(f"  reads {shown(name)} from cell {graph.describe(source)}")
        elif source == cell_id:
            lines.append(f"  {shown(name)} is read by cell {graph.describe(target)}")
    return "\n".join(lines)


def observed_effects(cell: Cell) -> list[str]:
    """What the cell's last run was seen to do beyond binding names, in words."""
    found = [f"seeds {shown(n)}" for n in sorted(cell.learnt) if is_hidden(n)]
    for name, via in sorted(cell.changed.items()):
        if is_hidden(name):
            found.append(f"draws from {shown(name)} (its state is an input)")
        else:
            found.append(f"changed {shown(name)} in place" + (f" (through `{via}`)" if via else ""))
    return found


class GraphView:
    """``%reactive graph``: an SVG picture in rich frontends, text elsewhere."""

    def __init__(self, graph: Graph) -> None:
        states = graph.status()
        self.rows = [
            (graph.describe(cid), states[cid].state, sorted(graph.cells[cid].defines))
            for cid in graph.order
        ]
        index = {cid: i for i, cid in enumerate(graph.order)}
        self.edges = [(index[a], index[b], name) for a, b, name in edges(graph)]

    def __repr__(self) -> str:
        lines = []
        for i, (label, state, defines) in enumerate(self.rows):
            reads = [f"{n}←{self.rows[a][0]}" for a, b, n in self.edges if b == i]
            text = f"{label:>6} {state:<14} defines {', '.join(defines) or '-'}"
            lines.append(text + (f"; reads {', '.join(reads)}" if reads else ""))
        return "\n".join(lines) or "(no cells)"

    def _repr_svg_(self) -> str:
        row, left, width = 34, 40, 360
        height = row * max(len(self.rows), 1) + 20
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 260}" height="{height}" '
            'font-family="sans-serif" font-size="12">'
        ]
        for a, b, name in self.edges:
            y1, y2 = 20 + a * row + 12, 20 + b * row + 12
            bend = left + width + 20 + 14 * min(b - a, 12)
            parts.append(
                f'<path d="M{left + width},{y1} C{bend},{y1} {bend},{y2} {left + width},{y2}" '
                'fill="none" stroke="#888" marker-end="url(#arrow)"/>'
                f'<text x="{bend - 4}" y="{(y1 + y2) / 2}" fill="#555">{escape(name)}</text>'
            )
        parts.insert(
            1,
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
            'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#888"/></marker></defs>',
        )
        for i, (label, state, defines) in enumerate(self.rows):
            y = 20 + i * row
            colour = _COLOURS.get(state, "#555")
            text = f"{label} {state}: {', '.join(defines) or '—'}"
            parts.append(
                f'<rect x="{left}" y="{y}" width="{width}" height="24" rx="4" fill="white" '
                f'stroke="{colour}" stroke-width="2"/>'
                f'<text x="{left + 8}" y="{y + 16}" fill="{colour}">{escape(text[:60])}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)
