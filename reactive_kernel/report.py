"""Human-readable views of the graph: status lines, explanations and a Mermaid diagram."""

from __future__ import annotations

from typing import Any

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
        lines.append(f"  {graph.describe(cid)}: {state.state} — {state.reason}")
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
    lines = [f"{graph.describe(cell)}: {state.state}" + (f" — {state.reason}" if state.reason else "")]
    if cell.manual:
        lines.append("  runs only when you run it (opted out of automatic runs)")
    if cell.defines:
        names = sorted(n for n in cell.defines if not is_hidden(n))
        lines.append(f"  defines: {', '.join(names)}")
    lines.extend(f"  {effect}" for effect in observed_effects(cell))
    for source, target, name in edges(graph):
        if target == cell_id:
            lines.append(f"  reads {shown(name)} from {graph.describe(source)}")
        elif source == cell_id:
            lines.append(f"  {shown(name)} is read by {graph.describe(target)}")
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
    """``%reactive graph``: a Mermaid flowchart (JupyterLab renders ``text/vnd.mermaid``
    natively and lays it out), with text for frontends that do not.

    Only cells with an edge are drawn: a cell that neither gives nor takes a name (a
    ``%reactive`` magic, a print) is counted, not drawn. ``hide`` is the cell showing the
    graph."""

    def __init__(self, graph: Graph, hide: str | None = None) -> None:
        states = graph.status()
        found = [(a, b, n) for a, b, n in edges(graph) if hide not in (a, b)]
        by_pair: dict[tuple[str, str], list[str]] = {}
        for a, b, name in found:
            by_pair.setdefault((a, b), []).append(shown(name).strip("`"))
        linked = {cid for pair in by_pair for cid in pair}
        drawn = [cid for cid in graph.order if cid in linked]
        self.nodes = [(graph.describe(cid), states[cid].state) for cid in drawn]
        index = {cid: i for i, cid in enumerate(drawn)}
        self.edges = [(index[a], index[b], ", ".join(names)) for (a, b), names in by_pair.items()]
        self.hidden = sum(1 for cid in graph.order if cid not in linked and cid != hide)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/vnd.mermaid": self.mermaid(), "text/plain": repr(self)}

    def mermaid(self) -> str:
        lines = ["flowchart TD"]
        for i, (name, state) in enumerate(self.nodes):
            lines.append(f'  c{i}["{_mermaid_text(name)}<br/>{state}"]:::{_css(state)}')
        for a, b, names in self.edges:
            lines.append(f'  c{a} -->|"{_mermaid_text(names)}"| c{b}')
        for state, colour in _COLOURS.items():
            lines.append(f"  classDef {_css(state)} stroke:{colour},stroke-width:2px")
        if not self.nodes:
            lines.append('  empty["no cell reads a name another cell defines"]')
        return "\n".join(lines)

    def __repr__(self) -> str:
        lines = []
        for i, (name, state) in enumerate(self.nodes):
            lines.append(f"{name}  [{state}]")
            lines.extend(
                f"  -> {self.nodes[b][0]}: {names}" for a, b, names in self.edges if a == i
            )
        if self.hidden:
            cells = "cell" if self.hidden == 1 else "cells"
            lines.append(f"({self.hidden} {cells} without dependencies not shown)")
        return "\n".join(lines) or "(no cells)"


def _css(state: str) -> str:
    return state.replace("-", "_")


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what Mermaid would parse."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                       ("`", "#96;"), ("|", "#124;")):
        text = text.replace(char, code)
    return text
